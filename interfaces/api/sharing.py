"""Shared subscription executions: identical subscriptions run once, serialized once.

Naive GraphQL subscriptions execute and serialize every event once per
subscriber; at hundreds of subscribers that alone saturates a core (SPEC
section 10). Here a subscription is run by an `Execution`; subscriptions whose
results do not depend on when or by whom they were opened (`Plan.shared`) join
the one execution of the same normalized document, variables and operation
name. Each result is encoded to JSON once; each member receives the encoded
payload in a bounded queue, and its WebSocket handler adds only its protocol's
framing (`id`, `type`) around it.

A member that falls behind (its queue is full) is dropped alone: it gets an
UNAVAILABLE error and completes, as a slow naive subscriber would; the others
carry on. The execution stops when its last member leaves.

Shared: every subscription field except `events(after: ...)` and the read-model
updates given `after` (`positionUpdates(after: ...)`, ...), whose catch-up depends
on the caller's `after`.
Anything that cannot be planned (syntax errors, several or unknown operations,
fragments at the root) runs alone, so its errors read exactly as before.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import orjson
from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLError,
    OperationDefinitionNode,
    OperationType,
    parse,
    print_ast,
)
from strawberry.types.execution import PreExecutionError

from infrastructure.logging import get_logger
from infrastructure.metrics import (
    MESSAGES_DELIVERED,
    MESSAGES_DROPPED,
    SUBSCRIBERS_CLOSED_SLOW,
    SUBSCRIPTION_EXECUTIONS,
    SUBSCRIPTIONS,
)

log = get_logger("tradestate.api")

#: Subscription fields whose stream depends on these arguments is not shared.
PRIVATE_ARGUMENTS = {
    field: {"after"}
    for field in (
        "events",
        "positionUpdates",
        "signalUpdates",
        "orderUpdates",
        "monitorUpdates",
        "tradeUpdates",
        "accountUpdates",
    )
}

#: Tokens parsed to plan a subscription: a longer document is not planned (strawberry
#: refuses it by graphql_max_tokens), so no unbounded parse runs on the event loop.
PLAN_MAX_TOKENS = 20_000

NEXT = "next"
ERROR = "error"

Source = Callable[[], Awaitable[AsyncIterator[Any]]]


@dataclass(frozen=True)
class Plan:
    """How a subscription runs: its root field, and its sharing key (None: alone)."""

    field: str
    key: tuple[str, str, str | None] | None

    @property
    def shared(self) -> bool:
        return self.key is not None


@lru_cache(maxsize=1_024)
def _parsed(query: str) -> tuple[DocumentNode, str] | None:
    try:
        document = parse(query, max_tokens=PLAN_MAX_TOKENS)
    except GraphQLError:
        return None
    return document, print_ast(document)


def plan(query: Any, variables: Any, operation_name: Any) -> Plan | None:
    """The plan of a subscription operation; None when the operation is anything else
    or cannot be planned (strawberry then runs and answers it as usual)."""
    if not isinstance(query, str) or not isinstance(variables, dict | None):
        return None
    parsed = _parsed(query)
    if parsed is None:
        return None
    document, normalized = parsed
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is not None:
        operations = [o for o in operations if o.name and o.name.value == operation_name]
    if len(operations) != 1 or operations[0].operation is not OperationType.SUBSCRIPTION:
        return None
    selections = operations[0].selection_set.selections
    if len(selections) != 1 or not isinstance(selections[0], FieldNode):
        return None
    root = selections[0]
    field = root.name.value
    private = PRIVATE_ARGUMENTS.get(field, set())
    if any(argument.name.value in private for argument in root.arguments or ()):
        return Plan(field, None)
    try:
        encoded_variables = orjson.dumps(variables or {}, option=orjson.OPT_SORT_KEYS).decode()
    except TypeError:
        return Plan(field, None)
    return Plan(field, (normalized, encoded_variables, operation_name))


def encode(result: Any) -> str:
    """An execution result as the JSON text of a `next`/`data` payload."""
    payload: dict[str, Any] = {"data": result.data}
    if result.errors:
        payload["errors"] = [error.formatted for error in result.errors]
    if result.extensions:
        payload["extensions"] = result.extensions
    return orjson.dumps(payload).decode()


def _slow_error(size: int, max_bytes: int) -> str:
    error = {
        "message": f"more than {size} messages or {max_bytes} bytes were waiting for this "
        "subscriber; it was closed; "
        "resubscribe (with after: <the last sequence you received>, for events)",
        "extensions": {"code": "UNAVAILABLE"},
    }
    return orjson.dumps({"data": None, "errors": [error]}).decode()


class Member:
    """One client operation's place in an execution: a queue of encoded payloads
    bounded in messages and in bytes (one message is always taken), drained by the
    client's own task."""

    def __init__(self, field: str, size: int, max_bytes: int = 2 * 1024 * 1024) -> None:
        self.size = size
        self.max_bytes = max_bytes
        self.bytes = 0
        self.items: deque[tuple[str, Any]] = deque()
        self.ready = asyncio.Event()
        self.room = asyncio.Event()
        self.room.set()
        self.overflowed = False
        self.finished = False
        self.delivered = MESSAGES_DELIVERED.labels(field)
        self.dropped = MESSAGES_DROPPED.labels(field, "overflow")

    def offer(self, kind: str, payload: Any) -> bool:
        """Queue a message; False (and the member overflowed) when its queue is full."""
        size = len(payload) if isinstance(payload, str) else 0
        if len(self.items) >= self.size or (self.items and self.bytes + size > self.max_bytes):
            self.overflowed = True
            self.dropped.inc()
            self.ready.set()
            return False
        self.items.append((kind, payload))
        self.bytes += size
        if self.bytes >= self.max_bytes or len(self.items) >= self.size:
            self.room.clear()
        self.ready.set()
        return True

    def _taken(self, payload: Any) -> None:
        self.bytes -= len(payload) if isinstance(payload, str) else 0
        if self.bytes < self.max_bytes and len(self.items) < self.size:
            self.room.set()

    def finish(self) -> None:
        self.finished = True
        self.ready.set()

    async def messages(self) -> AsyncIterator[tuple[str, Any]]:
        """(NEXT, payload text) and (ERROR, [formatted errors]) until the execution ends."""
        while True:
            await self.ready.wait()
            self.ready.clear()
            while self.items:
                kind, payload = self.items.popleft()
                self._taken(payload)
                yield kind, payload
                if kind == NEXT:
                    self.delivered.inc()
            if self.overflowed:
                SUBSCRIBERS_CLOSED_SLOW.labels("shared").inc()
                yield NEXT, _slow_error(self.size, self.max_bytes)
                return
            if self.finished:
                return


class Execution:
    """One run of a subscription; each result encoded once and offered to every member."""

    def __init__(
        self, plan: Plan, source: Source, on_end: Callable[[Execution], None] | None
    ) -> None:
        self.plan = plan
        self.members: set[Member] = set()
        self._source = source
        self._on_end = on_end
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"subscription:{self.plan.field}")

    def add(self, member: Member) -> None:
        self.members.add(member)

    def remove(self, member: Member) -> None:
        self.members.discard(member)
        if not self.members:
            self.stop()

    def stop(self) -> None:
        self._ended()
        if self._task is not None and not self._task.done():
            self._task.cancel()

    def _ended(self) -> None:
        if self._on_end is not None:
            self._on_end(self)
            self._on_end = None

    async def _room(self) -> None:
        for member in list(self.members):
            await member.room.wait()

    def _offer(self, kind: str, payload: Any) -> None:
        for member in list(self.members):
            if not member.offer(kind, payload):
                self.members.discard(member)

    async def _run(self) -> None:
        running = SUBSCRIPTION_EXECUTIONS.labels(self.plan.field)
        running.inc()
        try:
            results = await self._source()
            first = True
            try:
                async for result in results:
                    if not self.plan.shared:
                        # Run alone (an `events` catch-up): read the log no faster than
                        # the client takes it, so it holds one page and one queue at most.
                        await self._room()
                    if first and isinstance(result, PreExecutionError):
                        self._ended()
                        self._offer(ERROR, [e.formatted for e in result.errors or ()])
                        return
                    first = False
                    self._offer(NEXT, encode(result))
            finally:
                with contextlib.suppress(Exception):
                    await results.aclose()  # type: ignore[attr-defined]
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("a subscription execution failed", field=self.plan.field)
            self._offer(
                ERROR,
                [
                    {
                        "message": "Internal server error; it was logged on the server.",
                        "extensions": {"code": "INTERNAL_SERVER_ERROR"},
                    }
                ],
            )
        finally:
            running.dec()
            self._ended()
            for member in self.members:
                member.finish()


class Executions:
    """The process's shared executions, by plan key."""

    def __init__(self, *, buffer_size: int, buffer_bytes: int = 2 * 1024 * 1024) -> None:
        self.buffer_size = buffer_size
        self.buffer_bytes = buffer_bytes
        self._shared: dict[Any, Execution] = {}

    @property
    def shared_count(self) -> int:
        return len(self._shared)

    async def run(self, plan: Plan, source: Source) -> AsyncIterator[tuple[str, Any]]:
        """The messages of `plan` for one client: joined to the shared execution of
        its key (started with `source` when there is none yet), or run alone."""
        member = Member(plan.field, self.buffer_size, self.buffer_bytes)
        execution = self._shared.get(plan.key) if plan.shared else None
        if execution is None:
            execution = Execution(plan, source, self._forget if plan.shared else None)
            if plan.shared:
                self._shared[plan.key] = execution
            execution.add(member)
            execution.start()
        else:
            execution.add(member)
        gauge = SUBSCRIPTIONS.labels(plan.field)
        gauge.inc()
        try:
            async for message in member.messages():
                yield message
        finally:
            gauge.dec()
            execution.remove(member)

    def _forget(self, execution: Execution) -> None:
        if self._shared.get(execution.plan.key) is execution:
            del self._shared[execution.plan.key]
