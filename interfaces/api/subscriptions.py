"""Subscription root: the log (`events`) and read-model changes, through the hubs.

`events` is fed by the process's one log follower (infrastructure/fanout.py),
after a catch-up from the stored log; the others by projection listeners,
which fire after the read model committed, so a query made on receipt agrees.
Buffers are bounded: a subscriber that falls too far behind is closed with an
UNAVAILABLE error (for `events`, resume with `after`); updates conflate per
row (the latest state wins).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
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

TypeNames = Annotated[
    list[str] | None,
    strawberry.argument(name="types", description='API type names, e.g. "OrderFilled".'),
]
ThrottleMs = Annotated[
    int, strawberry.argument(description="Conflation window per instrument, 0..60000 ms.")
]


def api_of(info: Info) -> Api:
    return info.context["api"]  # type: ignore[no-any-return]


def subscription_field(**kwargs: Any) -> Any:
    return strawberry.subscription(permission_classes=[CanRead], **kwargs)


def _matches(row: dict[str, Any], **criteria: Any) -> bool:
    return all(value is None or row.get(key) == value for key, value in criteria.items())


def _row_id(change: Any) -> Any:
    return change.row.get("id")


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

    @subscription_field(description="A position's new state, after the read model changed.")
    async def position_updates(
        self, info: Info, account: str | None = None, instrument: str | None = None
    ) -> AsyncGenerator[types.Position, None]:
        api = api_of(info)
        async for change in guarded(
            api.changes.changes(
                "positions",
                key=_row_id,
                accept=lambda c: _matches(c.row, account=account, instrument=instrument),
            )
        ):
            held = change.row["instrument"]
            places = api.app.spec_for(held).places
            yield convert.position(change.row, api.prices.get(held), places)

    @subscription_field(description="A signal's new state, after the read model changed.")
    async def signal_updates(
        self,
        info: Info,
        status: types.SignalStatus | None = None,  # type: ignore[valid-type]
        instrument: str | None = None,
    ) -> AsyncGenerator[types.Signal, None]:
        api = api_of(info)
        wanted = status and status.value
        async for change in guarded(
            api.changes.changes(
                "signals",
                key=_row_id,
                accept=lambda c: _matches(c.row, status=wanted, instrument=instrument),
            )
        ):
            yield convert.from_row(types.Signal, change.row)

    @subscription_field(description="An order's new state, after the read model changed.")
    async def order_updates(
        self, info: Info, instrument: str | None = None
    ) -> AsyncGenerator[types.Order, None]:
        api = api_of(info)
        async for change in guarded(
            api.changes.changes(
                "orders", key=_row_id, accept=lambda c: _matches(c.row, instrument=instrument)
            )
        ):
            yield convert.from_row(types.Order, change.row)

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
