"""Subscription root: the log (`events`) and read-model changes, through the hubs.

`events` is fed by the process's one log follower (infrastructure/fanout.py),
after a catch-up from the stored log; the others by projection listeners,
which fire after the read model committed, so a query made on receipt agrees.
Buffers are bounded: a subscriber that falls too far behind is closed with an
UNAVAILABLE error (for `events`, resume with `after`); updates conflate per
row (the latest state wins). The read-model updates take `after` to resume
(interfaces/api/resumable.py).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable
from typing import Annotated, Any
from uuid import UUID

import strawberry
from strawberry.types import Info

from interfaces.api import convert, types
from interfaces.api.accounts import AccountSubscription
from interfaces.api.auth import CanRead
from interfaces.api.context import Api
from interfaces.api.errors import guarded
from interfaces.api.events import topics_for
from interfaces.api.inputs import parse_id
from interfaces.api.limits import MAX_THROTTLE_MS, check_after, check_list, check_range
from interfaces.api.resumable import follow

TypeNames = Annotated[
    list[str] | None,
    strawberry.argument(name="types", description='API type names, e.g. "OrderFilled".'),
]
After = Annotated[
    int | None,
    strawberry.argument(
        description="Resume: first every row whose asOf is past this, then live changes."
    ),
]
RESUME = (
    "With `after`: first every row whose asOf is past it, then live changes, each state once "
    "(query, then subscribe with the query's sequence, or reconnect with the last asOf seen)."
)
ThrottleMs = Annotated[
    int, strawberry.argument(description="Conflation window per instrument, 0..60000 ms.")
]


def api_of(info: Info) -> Api:
    return info.context["api"]


def subscription_field(**kwargs: Any) -> Any:
    return strawberry.subscription(permission_classes=[CanRead], **kwargs)


def _criteria(**criteria: Any) -> Callable[[dict[str, Any]], bool]:
    """Whether a row has every value given (None: any)."""
    wanted = {key: value for key, value in criteria.items() if value is not None}
    return lambda row: all(row.get(key) == value for key, value in wanted.items())


def _id(row: dict[str, Any]) -> Any:
    return row["id"]


@strawberry.type
class Subscription(AccountSubscription):
    @subscription_field(
        description="Every event with sequence > after, in order: the stored ones first, then "
        "live ones, with no gap and no duplicate. Without `after`, only new events. A client "
        "that falls too far behind gets an UNAVAILABLE error and resumes with its last sequence."
    )
    async def events(
        self,
        info: Info,
        after: int | None = None,
        types_: TypeNames = None,
        aggregate_id: strawberry.ID | None = None,
    ) -> AsyncGenerator[types.Event, None]:
        api = api_of(info)
        check_after(after)
        check_list(types_, "types")
        topics = topics_for(types_)
        aggregate = None if aggregate_id is None else parse_id(aggregate_id, "aggregateId")
        start = after if after is not None else await api.run(api.head_sequence)
        wanted = set(topics)

        def accept(notification: Any) -> bool:
            return (not wanted or notification.topic in wanted) and (
                aggregate is None or _same_id(notification.originator_id, aggregate)
            )

        async for entry in guarded(api.events.follow(start, topics=topics, accept=accept)):
            yield entry.value

    @subscription_field(
        description="A position's new state, after the read model changed. " + RESUME
    )
    async def position_updates(
        self,
        info: Info,
        account: str | None = None,
        instrument: str | None = None,
        after: After = None,
    ) -> AsyncGenerator[types.Position, None]:
        api = api_of(info)
        match = _criteria(account=account, instrument=instrument)
        async for row in guarded(
            follow(api, "positions", "positions", key=_id, match=match, after=after)
        ):
            held = row["instrument"]
            places = api.app.spec_for(held).places
            yield convert.position(row, api.prices.get(held), places)

    @subscription_field(description="A signal's new state, after the read model changed. " + RESUME)
    async def signal_updates(
        self,
        info: Info,
        status: types.SignalStatus | None = None,
        instrument: str | None = None,
        after: After = None,
    ) -> AsyncGenerator[types.Signal, None]:
        api = api_of(info)
        match = _criteria(status=status and status.value, instrument=instrument)
        async for row in guarded(
            follow(api, "signals", "signals", key=_id, match=match, after=after)
        ):
            yield convert.from_row(types.Signal, row)

    @subscription_field(description="An order's new state, after the read model changed. " + RESUME)
    async def order_updates(
        self, info: Info, instrument: str | None = None, after: After = None
    ) -> AsyncGenerator[types.Order, None]:
        api = api_of(info)
        match = _criteria(instrument=instrument)
        async for row in guarded(
            follow(api, "orders", "orders", key=_id, match=match, after=after)
        ):
            yield convert.from_row(types.Order, row)

    @subscription_field(
        description="A monitor's new state, after the read model changed. " + RESUME
    )
    async def monitor_updates(
        self,
        info: Info,
        account: str | None = None,
        instrument: str | None = None,
        status: types.MonitorStatus | None = None,
        after: After = None,
    ) -> AsyncGenerator[types.Monitor, None]:
        api = api_of(info)
        match = _criteria(account=account, instrument=instrument, status=status and status.value)
        async for row in guarded(
            follow(api, "monitors", "monitors", key=_id, match=match, after=after)
        ):
            yield convert.from_row(types.Monitor, row)

    @subscription_field(
        description="Each new trade (fill) of the trade log, after the read model "
        "changed. " + RESUME
    )
    async def trade_updates(
        self,
        info: Info,
        account: str | None = None,
        instrument: str | None = None,
        after: After = None,
    ) -> AsyncGenerator[types.Trade, None]:
        api = api_of(info)
        match = _criteria(account=account, instrument=instrument)
        key = lambda row: row["fill_id"]  # noqa: E731
        async for row in guarded(
            follow(api, "trades", "trades", key=key, match=match, after=after)
        ):
            yield convert.from_row(types.Trade, row)

    @subscription_field(
        description="Latest quotes. With throttleMs > 0, at most one message per instrument "
        "per window (the latest value wins)."
    )
    async def quotes(
        self,
        info: Info,
        instruments: list[str] | None = None,
        throttle_ms: ThrottleMs = 0,
    ) -> AsyncGenerator[types.Quote, None]:
        api = api_of(info)
        check_list(instruments, "instruments")
        check_range(throttle_ms, "throttleMs", 0, MAX_THROTTLE_MS)
        names = set(instruments or ())
        async for change in guarded(
            api.changes.changes(
                "quotes",
                key=lambda c: c.row["instrument"],
                accept=lambda c: not names or c.row["instrument"] in names,
                throttle_seconds=throttle_ms / 1000,
            )
        ):
            yield convert.from_row(types.Quote, change.row)

    @subscription_field(description="Each reconciliation run, with its mismatches.")
    async def reconciliations(self, info: Info) -> AsyncGenerator[types.Reconciliation, None]:
        api = api_of(info)
        async for change in guarded(
            api.changes.changes(
                "reconciliations",
                key=lambda c: c.row.get("reconciliation_id") or c.row.get("id"),
                accept=lambda c: True,
            )
        ):
            run_id = change.row.get("reconciliation_id") or change.row.get("id")
            row = await api.run(api.read.reconciliation, run_id, lane="reconciliations")
            if row is not None:
                yield convert.reconciliation(row)


def _same_id(value: Any, wanted: UUID) -> bool:
    return value == wanted or str(value) == str(wanted)
