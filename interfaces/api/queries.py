"""Query root: every field reads the read models (never replays) and honours
`minSequence` (read-your-writes), except `events`, which reads the log."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import strawberry
from strawberry.types import Info

from domain.errors import BadInput
from infrastructure.log_headers import Header, log_headers, log_states
from infrastructure.pages import ByteBudget, OverBudget, read_page
from interfaces.api import audit, convert, types
from interfaces.api.accounts import AccountQuery
from interfaces.api.auth import CanRead
from interfaces.api.context import Api
from interfaces.api.events import STATE_FIELDS, header_event, selects, to_event, topics_for
from interfaces.api.inputs import parse_id
from interfaces.api.limits import (
    check_after,
    check_limit,
    check_list,
    check_min_sequence,
    response_budget,
)
from interfaces.api.status_feed import system_status

MIN_SEQUENCE = "Wait (bounded) until the read model has applied this sequence."
MinSequence = Annotated[int | None, strawberry.argument(description=MIN_SEQUENCE)]
Limit = Annotated[int, strawberry.argument(description="At most 1000.")]
TypeNames = Annotated[
    list[str] | None,
    strawberry.argument(name="types", description='API type names, e.g. "OrderFilled".'),
]


def api_of(info: Info) -> Api:
    return info.context["api"]


def read_field(**kwargs: Any) -> Any:
    return strawberry.field(permission_classes=[CanRead], **kwargs)


@strawberry.type
class Query(AccountQuery):
    @read_field(description="Positions, by account and instrument; filter by status or account.")
    async def positions(
        self,
        info: Info,
        status: types.PositionStatus | None = None,
        account: str | None = None,
        min_sequence: MinSequence = None,
    ) -> list[types.Position]:
        api = api_of(info)
        return await api.query(
            ["positions", "quotes"],
            check_min_sequence(min_sequence),
            api.positions.positions,
            status and status.value,
            account,
        )

    @read_field(description="The position of one (account, instrument), if it ever had a fill.")
    async def position(
        self,
        info: Info,
        instrument: str,
        account: str = "default",
        min_sequence: MinSequence = None,
    ) -> types.Position | None:
        api = api_of(info)

        def read() -> types.Position | None:
            row = api.read.position(account, instrument)
            if row is None:
                return None
            price = _prices(api, {instrument}).get(instrument)
            places = api.commands.instruments.spec_for(instrument).places
            return convert.position(row, price, places)

        return await api.query(["positions", "quotes"], check_min_sequence(min_sequence), read)

    @read_field(description="Signals, newest first.")
    async def signals(
        self,
        info: Info,
        status: types.SignalStatus | None = None,
        instrument: str | None = None,
        limit: Limit = 100,
        min_sequence: MinSequence = None,
    ) -> list[types.Signal]:
        api = api_of(info)
        check_limit(limit)
        rows = await api.query(
            ["signals"],
            check_min_sequence(min_sequence),
            lambda: api.read.signals(
                status=status and status.value, instrument=instrument, limit=limit
            ),
        )
        return [convert.from_row(types.Signal, row) for row in rows]

    @read_field(description="One signal by id.")
    async def signal(
        self,
        info: Info,
        id: strawberry.ID,
        min_sequence: MinSequence = None,
    ) -> types.Signal | None:
        api = api_of(info)
        signal_id = parse_id(id, "id")
        row = await api.query(
            ["signals"], check_min_sequence(min_sequence), api.read.signal, signal_id
        )
        return None if row is None else convert.from_row(types.Signal, row)

    @read_field(description="Orders, newest first.")
    async def orders(
        self,
        info: Info,
        status: types.OrderStatus | None = None,
        instrument: str | None = None,
        limit: Limit = 100,
        min_sequence: MinSequence = None,
    ) -> list[types.Order]:
        api = api_of(info)
        check_limit(limit)
        rows = await api.query(
            ["orders"],
            check_min_sequence(min_sequence),
            lambda: api.read.orders(
                status=status and status.value, instrument=instrument, limit=limit
            ),
        )
        return [convert.from_row(types.Order, row) for row in rows]

    @read_field(description="One order by id.")
    async def order(
        self,
        info: Info,
        id: strawberry.ID,
        min_sequence: MinSequence = None,
    ) -> types.Order | None:
        api = api_of(info)
        order_id = parse_id(id, "id")
        row = await api.query(
            ["orders"], check_min_sequence(min_sequence), api.read.order, order_id
        )
        return None if row is None else convert.from_row(types.Order, row)

    @read_field(description="The trade log (fills), newest first.")
    async def trades(
        self,
        info: Info,
        instrument: str | None = None,
        limit: Limit = 100,
        min_sequence: MinSequence = None,
    ) -> list[types.Trade]:
        api = api_of(info)
        check_limit(limit)
        rows = await api.query(
            ["trades"],
            check_min_sequence(min_sequence),
            lambda: api.read.trades(instrument=instrument, limit=limit),
        )
        return [convert.from_row(types.Trade, row) for row in rows]

    @read_field(description="Stop-loss / take-profit / trailing-stop monitors.")
    async def monitors(
        self,
        info: Info,
        status: types.MonitorStatus | None = None,
        min_sequence: MinSequence = None,
    ) -> list[types.Monitor]:
        api = api_of(info)
        rows = await api.query(
            ["monitors"],
            check_min_sequence(min_sequence),
            lambda: api.read.monitors(status=status and status.value),
        )
        return [convert.from_row(types.Monitor, row) for row in rows]

    @read_field(description="The latest quote per instrument (all, or the ones named).")
    async def quotes(
        self,
        info: Info,
        instruments: list[str] | None = None,
        min_sequence: MinSequence = None,
    ) -> list[types.Quote]:
        api = api_of(info)
        check_list(instruments, "instruments")
        rows = await api.query(
            ["quotes"], check_min_sequence(min_sequence), api.read.quotes, instruments
        )
        return [convert.from_row(types.Quote, row) for row in rows]

    @read_field(description="Reconciliation runs, newest first, with their mismatches.")
    async def reconciliations(
        self,
        info: Info,
        limit: Limit = 20,
        min_sequence: MinSequence = None,
    ) -> list[types.Reconciliation]:
        api = api_of(info)
        check_limit(limit)
        rows = await api.query(
            ["reconciliations"], check_min_sequence(min_sequence), api.read.reconciliations, limit
        )
        return [convert.reconciliation(row) for row in rows]

    @read_field(
        description="The event log itself, upcast and decoded: events with sequence > after, "
        "in order; filter by API type names (e.g. OrderFilled) and aggregate."
    )
    async def events(
        self,
        info: Info,
        after: int = 0,
        limit: Limit = 100,
        types_: TypeNames = None,
        aggregate_id: strawberry.ID | None = None,
    ) -> types.EventPage:
        api = api_of(info)
        check_after(after)
        check_limit(limit)
        check_list(types_, "types")
        topics = topics_for(types_)
        aggregate = None if aggregate_id is None else parse_id(aggregate_id, "aggregateId")
        budget = response_budget(api.settings.max_response_bytes)
        decoded = selects(info.selected_fields, STATE_FIELDS)
        return await api.run(_event_page, api, after, limit, topics, aggregate, budget, decoded)

    audit_head: audit.AuditHead = read_field(
        resolver=audit.audit_head,
        description="The transparency log's latest tree head: keep it to verify against later.",
    )
    inclusion_proof: audit.InclusionProof = read_field(
        resolver=audit.inclusion_proof_of,
        description="Proof that the event at `sequence` is in the transparency log under a "
        "tree head (NOT_FOUND until a head covers it).",
    )

    @read_field(description="Version, store, log head and each projection's progress.")
    async def system_status(self, info: Info) -> types.SystemStatus:
        return await system_status(api_of(info))


def _prices(api: Api, instruments: set[str]) -> dict[str, Any]:
    if not instruments:
        return {}
    return {row["instrument"]: row["last"] for row in api.read.quotes(sorted(instruments))}


def _event_page(
    api: Api,
    after: int,
    limit: int,
    topics: tuple[str, ...],
    aggregate: UUID | None,
    budget: ByteBudget,
    decoded: bool = True,
) -> types.EventPage:
    """A page of the log; without `decoded` (no field from the stored state is
    selected), the notifications are read without their state and cost no bytes."""
    recorder = api.app.recorder
    head = api.head_sequence()

    def paid(header: Header) -> int:
        return header.size if decoded else 0

    def read(start: int, count: int) -> list[Header]:
        return log_headers(
            recorder, after=start, limit=count, stop=head, topics=topics, aggregate=aggregate
        )

    # Headers first: their sizes are paid from the budget before any state is read,
    # so a page that does not fit is refused having read none.
    try:
        found: list[Any] = read_page(read, after, limit, budget, size=paid)
    except OverBudget as over:
        if over.page or budget.used or over.refused is None:
            raise BadInput(
                f"the events asked for exceed this response's budget of {budget.limit} bytes "
                f"({len(over.page)} more fit); ask for fewer (limit) or fewer aliases, "
                "and page on with after",
                field="limit",
            ) from None
        found = [over.refused]  # one event larger than the whole budget: alone, it is served
        budget.used = budget.limit
    if decoded:
        found = log_states(recorder, found)
    convert_one = to_event if decoded else header_event
    return types.EventPage(
        events=[convert_one(api.app.mapper, n) for n in found], head_sequence=head
    )
