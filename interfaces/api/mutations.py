"""Mutation root: each field is one application command, run in a worker thread.

Answers are built from the aggregates the command returns, so they need no read
model; each object's `asOf` is the last sequence its read-model row reflects (as a
query or subscription serves it), `sequence` the command's last. Pass `sequence` as
`minSequence` to a query to read the write back.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import strawberry
from strawberry.types import Info

from application.results import as_of
from interfaces.api import convert, types
from interfaces.api.auth import CanTrade
from interfaces.api.context import Api
from interfaces.api.inputs import (
    FillInput,
    MonitorInput,
    OrderInput,
    QuoteInput,
    SignalInput,
    parse_id,
)
from interfaces.api.limits import check_quotes


def api_of(info: Info) -> Api:
    return info.context["api"]


def write_field(**kwargs: Any) -> Any:
    return strawberry.mutation(permission_classes=[CanTrade], **kwargs)


@strawberry.type
class Mutation:
    @write_field(
        description="Append a batch of at most 10 000 quotes (one event). Send them as a "
        "variable: the document itself is limited in size."
    )
    async def ingest_quotes(self, info: Info, quotes: list[QuoteInput]) -> types.IngestPayload:
        api = api_of(info)
        check_quotes(len(quotes))
        batch = [quote.to_command() for quote in quotes]
        result = await api.command("ingest_quotes", api.app.ingest_quotes, batch)
        return types.IngestPayload(accepted=result.accepted, sequence=result.sequence)

    @write_field(description="Record a strategy's signal (PENDING).")
    async def generate_signal(self, info: Info, input: SignalInput) -> types.SignalPayload:
        api = api_of(info)
        result = await api.command("generate_signal", api.app.generate_signal, input.to_command())
        return types.SignalPayload(
            signal=convert.signal_from(result.signal, as_of(result, result.signal)),
            sequence=result.sequence,
        )

    @write_field(
        description="Accept a PENDING signal: places a MARKET order (clientOrderId "
        "signal-<id>) of `quantity`, else the signal's, else the default size."
    )
    async def accept_signal(
        self, info: Info, id: strawberry.ID, quantity: Decimal | None = None
    ) -> types.SignalPayload:
        api = api_of(info)
        signal_id = parse_id(id, "id")
        result = await api.command("accept_signal", api.app.accept_signal, signal_id, quantity)
        return types.SignalPayload(
            signal=convert.signal_from(result.signal, as_of(result, result.signal)),
            sequence=result.sequence,
        )

    @write_field(description="Reject a PENDING signal, giving a reason.")
    async def reject_signal(
        self, info: Info, id: strawberry.ID, reason: str
    ) -> types.SignalPayload:
        api = api_of(info)
        signal_id = parse_id(id, "id")
        result = await api.command("reject_signal", api.app.reject_signal, signal_id, reason)
        return types.SignalPayload(
            signal=convert.signal_from(result.signal, as_of(result, result.signal)),
            sequence=result.sequence,
        )

    @write_field(
        description="Place an order. The same clientOrderId with the same terms returns the "
        "existing order and appends nothing; with other terms it is a CONFLICT."
    )
    async def place_order(self, info: Info, input: OrderInput) -> types.OrderPayload:
        api = api_of(info)
        result = await api.command("place_order", api.app.place_order, input.to_command())
        return types.OrderPayload(
            order=convert.order_from(result.order, as_of(result, result.order)),
            sequence=result.sequence,
        )

    @write_field(description="Cancel an open (SUBMITTED or PARTIALLY_FILLED) order.")
    async def cancel_order(self, info: Info, id: strawberry.ID) -> types.OrderPayload:
        api = api_of(info)
        order_id = parse_id(id, "id")
        result = await api.command("cancel_order", api.app.cancel_order, order_id)
        return types.OrderPayload(
            order=convert.order_from(result.order, as_of(result, result.order)),
            sequence=result.sequence,
        )

    @write_field(
        description="Record an execution: the fill, its order and its position change commit "
        "together. The same fillId again returns the first result and appends nothing."
    )
    async def record_fill(self, info: Info, input: FillInput) -> types.FillPayload:
        api = api_of(info)
        result = await api.command("record_fill", api.app.record_fill, input.to_command())
        position = result.position
        market = api.prices.get(position.instrument)
        return types.FillPayload(
            order=convert.order_from(result.order, as_of(result, result.order)),
            trade=convert.trade_from(result.fill, result.fill_sequence),
            position=convert.position_from(
                position,
                as_of(result, position),
                market,
                api.app.spec_for(position.instrument).places,
            ),
            sequence=result.sequence,
        )

    @write_field(description="Arm a stop-loss / take-profit / trailing stop on an OPEN position.")
    async def arm_monitor(self, info: Info, input: MonitorInput) -> types.MonitorPayload:
        api = api_of(info)
        result = await api.command("arm_monitor", api.app.arm_monitor, input.to_command())
        return types.MonitorPayload(
            monitor=convert.monitor_from(result.monitor, as_of(result, result.monitor)),
            sequence=result.sequence,
        )

    @write_field(description="Disarm an ACTIVE monitor.")
    async def disarm_monitor(self, info: Info, id: strawberry.ID) -> types.MonitorPayload:
        api = api_of(info)
        monitor_id = parse_id(id, "id")
        result = await api.command("disarm_monitor", api.app.disarm_monitor, monitor_id)
        return types.MonitorPayload(
            monitor=convert.monitor_from(result.monitor, as_of(result, result.monitor)),
            sequence=result.sequence,
        )

    @write_field(
        description="Compare the broker's positions with ours now; AUTO_CORRECT also adjusts "
        "ours to the broker's. Runs in whichever process holds the broker (e.g. a "
        "`worker --engine`); UNAVAILABLE when none does or it records no run in time."
    )
    async def reconcile(
        self,
        info: Info,
        policy: types.ReconciliationPolicy = types.ReconciliationPolicy.ALERT,
    ) -> types.ReconciliationPayload:
        api = api_of(info)
        result = await api.command(
            "reconcile",
            api.app.reconcile_anywhere,
            policy.value,
            api.settings.reconcile_request_timeout_seconds,
        )
        return types.ReconciliationPayload(
            reconciliation=convert.reconciliation_from(
                result.reconciliation, as_of(result, result.reconciliation)
            ),
            sequence=result.sequence,
        )
