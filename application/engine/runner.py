"""The live runner: feed → ingest (batched) → strategy → signal handler, with the
paper broker, the protection policy, the open-order book and the expiry sweeper
following the event log, and reconciliation on a timer. Monitors are evaluated
by the host's monitor policy (application/policies), as in every deployment.

The application is synchronous, so every command runs in a worker thread
(`asyncio.to_thread`); each log follower has a thread of its own, so the
default executor is never held by a long-running loop.

`Engine.run(stop)` is for an asyncio host (`serve`); `start()`/`stop()` run it
on a thread of its own (`worker`, tests). Stopping is clean: the followers stop
between notifications, so nothing is half-applied, and each resumes from the
log where it stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from application.commands import Commands
from application.engine.broker import BrokerFill
from application.engine.config import EngineConfig
from application.engine.expiry import ExpirySweeper
from application.engine.feed import QuoteFeed
from application.engine.handler import SignalHandler
from application.engine.log import LogConsumer
from application.engine.market import LastPrices
from application.engine.orders import OpenOrders
from application.engine.protection import ProtectionPolicy
from application.engine.strategy import Strategy
from application.follow import ConsumerFollower
from application.inputs import QuoteInput
from domain.errors import DomainError
from domain.quotes import Quote

log = logging.getLogger(__name__)

READY_TIMEOUT = 60.0

T = TypeVar("T")


class EngineBroker(LogConsumer, Protocol):
    """A broker the engine can run: a log consumer whose fills can be watched."""

    def fills(self) -> Any: ...

    def save_position(self, sequence: int | None = None) -> None: ...


@dataclass
class EngineCounters:
    quotes: int = 0
    proposals: int = 0
    accepted: int = 0
    rejected: int = 0
    fills: int = 0
    expired: int = 0
    reconciliations: int = 0


@dataclass
class Engine:
    commands: Commands
    config: EngineConfig
    feed: QuoteFeed | None
    strategy: Strategy | None
    handler: SignalHandler
    broker: EngineBroker
    orders: OpenOrders
    protection: ProtectionPolicy
    sweeper: ExpirySweeper
    prices: LastPrices
    closers: list[Callable[[], None]] = field(default_factory=list)
    counters: EngineCounters = field(default_factory=EngineCounters)

    def __post_init__(self) -> None:
        consumers: list[LogConsumer] = [self.orders, self.protection, self.sweeper, self.broker]
        self.followers = {
            c.name: ConsumerFollower(self.commands.store.recorder, c) for c in consumers
        }
        self.feed_finished = threading.Event()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._failure: BaseException | None = None
        self._inflight: set[asyncio.Future[Any]] = set()

    # -- asyncio ---------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Run until `stop` is set (or a part fails, which is logged and re-raised)."""
        followers = [self._in_thread(f.run, f"engine-{name}") for name, f in self.followers.items()]
        services: list[asyncio.Future[Any]] = []
        failure: BaseException | None = None
        try:
            if await self._ready(stop):
                services = [
                    asyncio.ensure_future(coroutine)
                    for coroutine in (
                        self._feed_loop(),
                        self._every(self.config.expiry_sweep_interval, self._sweep),
                        self._every(self.config.reconcile_interval, self._reconcile),
                        self._watch_fills(),
                    )
                ]
                failure = await self._until_stopped(stop, [*followers, *services])
        finally:
            for follower in self.followers.values():
                follower.stop()
            for service in services:
                service.cancel()
            await asyncio.gather(*followers, *services, return_exceptions=True)
            # A command already handed to a thread finishes before run() returns.
            await asyncio.gather(*self._inflight, return_exceptions=True)
            with contextlib.suppress(Exception):
                self.broker.save_position()
        if failure is not None:
            raise failure

    async def _until_stopped(
        self, stop: asyncio.Event, tasks: list[asyncio.Future[Any]]
    ) -> BaseException | None:
        stopper = asyncio.ensure_future(stop.wait())
        running: set[asyncio.Future[Any]] = {stopper, *tasks}
        try:
            while True:
                done, running = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
                if stopper in done:
                    return None
                for task in done:
                    if not task.cancelled() and task.exception() is not None:
                        log.error("engine part failed; stopping", exc_info=task.exception())
                        return task.exception()
        finally:
            stopper.cancel()

    async def _ready(self, stop: asyncio.Event) -> bool:
        """Wait for every follower to have rebuilt its state from the log."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + READY_TIMEOUT
        while not all(f.ready.is_set() for f in self.followers.values()):
            if stop.is_set():
                return False
            if loop.time() > deadline:
                raise TimeoutError("engine log followers did not recover in time")
            await asyncio.sleep(0.02)
        return True

    @staticmethod
    def _in_thread(target: Callable[[], None], name: str) -> asyncio.Future[None]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()

        def settle(error: BaseException | None) -> None:
            if future.done():
                return
            if error is None:
                future.set_result(None)
            else:
                future.set_exception(error)

        def main() -> None:
            error: BaseException | None = None
            try:
                target()
            except BaseException as raised:  # reported through the future
                error = raised
            with contextlib.suppress(RuntimeError):  # the loop is closed already
                loop.call_soon_threadsafe(settle, error)

        threading.Thread(target=main, name=name, daemon=True).start()
        return future

    async def _feed_loop(self) -> None:
        if self.feed is None:
            self.feed_finished.set()
            return
        async for batch in self.feed.batches():
            await self._ingest(batch)
        log.info("feed %s finished after %d quotes", self.feed.name, self.counters.quotes)
        self.feed_finished.set()

    async def _ingest(self, batch: list[QuoteInput]) -> None:
        try:
            await self._call(self.commands.quotes.ingest_quotes, batch)
        except DomainError as error:
            log.error("quote batch refused: %s", error)
            return
        now = self.commands.store.clock()
        quotes = [
            Quote(q.instrument, q.last, q.bid, q.ask, q.volume, q.timestamp or now) for q in batch
        ]
        self.counters.quotes += len(quotes)
        self.prices.update(quotes)
        if self.strategy is None:
            return
        for quote in quotes:
            try:
                proposals = self.strategy.on_quote(quote)
            except Exception:
                log.exception("strategy %s failed on %s", self.strategy.name, quote)
                continue
            for proposal in proposals:
                self.counters.proposals += 1
                decision = await self._call(self.handler.handle, proposal)
                if decision is not None:
                    if decision.accepted:
                        self.counters.accepted += 1
                    else:
                        self.counters.rejected += 1

    async def _call(self, function: Callable[..., T], *args: Any) -> T:
        """Run a blocking command in a worker thread; cancelling the caller does not
        abandon it: shutdown waits for it."""
        task = asyncio.ensure_future(asyncio.to_thread(function, *args))
        self._inflight.add(task)
        task.add_done_callback(self._inflight.discard)
        return await asyncio.shield(task)

    async def _every(self, interval: float, action: Callable[[], Any]) -> None:
        if interval <= 0:
            return
        while True:
            await asyncio.sleep(interval)
            try:
                await self._call(action)
            except DomainError as error:
                log.warning("%s: %s", getattr(action, "__name__", action), error)

    def _sweep(self) -> None:
        self.counters.expired += self.sweeper.sweep()

    def _reconcile(self) -> None:
        result = self.commands.reconciliation.reconcile(self.config.reconcile_policy)
        self.counters.reconciliations += 1
        found = result.reconciliation.mismatches
        if found:
            log.warning(
                "reconciliation (%s) found %d mismatches: %s",
                self.config.reconcile_policy,
                len(found),
                ", ".join(
                    f"{m.account}/{m.instrument} ours {m.local_quantity} broker {m.broker_quantity}"
                    for m in found
                ),
            )

    async def _watch_fills(self) -> None:
        fill: BrokerFill
        async for fill in self.broker.fills():
            self.counters.fills += 1
            log.info(
                "filled %s %s %s @ %s (%s)",
                fill.side,
                fill.quantity,
                fill.instrument,
                fill.price,
                fill.fill_id,
            )

    # -- from a thread ---------------------------------------------------------

    def start(self) -> None:
        """Run the engine on a thread of its own (with its own event loop)."""
        if self._thread is not None:
            raise RuntimeError("the engine is running already")
        started = threading.Event()

        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()
            started.set()
            await self.run(self._stop)

        def thread_main() -> None:
            try:
                asyncio.run(main())
            except BaseException as error:
                self._failure = error
                started.set()

        self._thread = threading.Thread(target=thread_main, name="engine", daemon=True)
        self._thread.start()
        started.wait()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop a `start()`ed engine and wait for it; re-raises what made it fail."""
        thread, loop, stop = self._thread, self._loop, self._stop
        if thread is None:
            return
        if loop is not None and stop is not None:
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(stop.set)
        thread.join(timeout)
        self._thread = None
        if thread.is_alive():
            raise TimeoutError("the engine did not stop in time")
        if self._failure is not None:
            raise self._failure

    def close(self) -> None:
        for closer in reversed(self.closers):
            closer()
        self.closers.clear()
