"""Output of the CLI: rows and events as the API's JSON, and progress bars.

Rows come from the read models in snake_case; the objects here carry the
field names of the contract's types (camelCase), decimals as strings,
date-times ISO 8601 and ids as strings — what the API would answer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any, cast

import orjson
from eventsourcing.domain import DomainEvent
from eventsourcing.persistence import Mapper, Notification
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from application.event_names import event_type
from domain.money import round_money
from interfaces.event_json import camel, event_data, jsonable

Row = dict[str, Any]

# The contract's fields of each type that a read-model row answers, in the
# contract's order (snake_case as in the rows).
FIELDS: dict[str, tuple[str, ...]] = {
    "positions": (
        "id", "account", "instrument", "quantity", "average_price", "realized_pnl",
        "market_price", "unrealized_pnl", "status", "opened_at", "updated_at", "as_of",
    ),
    "orders": (
        "id", "client_order_id", "account", "instrument", "side", "type", "quantity",
        "limit_price", "status", "filled_quantity", "average_fill_price", "signal_id",
        "reject_reason", "created_at", "updated_at", "as_of",
    ),
    "signals": (
        "id", "strategy", "instrument", "side", "strength", "quantity", "status", "reason",
        "order_id", "created_at", "updated_at", "expires_at", "as_of",
    ),
    "monitors": (
        "id", "account", "instrument", "stop_loss", "take_profit", "trailing_distance",
        "status", "trigger_reason", "trigger_price", "exit_order_id", "created_at",
        "updated_at", "as_of",
    ),
    "trades": (
        "fill_id", "order_id", "account", "instrument", "side", "quantity", "price",
        "commission", "realized_pnl", "timestamp", "sequence",
    ),
    "quotes": ("instrument", "last", "bid", "ask", "volume", "timestamp", "as_of"),
    "account_totals": (
        "currency", "realized_pnl", "unrealized_pnl", "total_pnl", "commission_paid",
        "today_pnl", "gross_exposure", "net_exposure", "open_positions", "as_of",
    ),
}  # fmt: skip


def _unrealized(row: Row) -> Decimal | None:
    quantity, average = row.get("quantity"), row.get("average_price")
    market = row.get("market_price")
    if market is None or average is None or not quantity:
        return None
    # No specs here: money to 8 places, as for an instrument without one.
    return round_money((Decimal(market) - Decimal(average)) * Decimal(quantity))


def account_objects(rows: list[Row]) -> list[Row]:
    """Account totals rows (with totals, in account order) as `Account` objects' JSON."""
    found: dict[str, Row] = {}
    for row in rows:
        account = found.setdefault(row["account"], {"id": row["account"], "asOf": 0, "totals": []})
        account["totals"].append(graphql_object("account_totals", row))
        account["asOf"] = max(account["asOf"], row["as_of"])
    return list(found.values())


def graphql_object(kind: str, row: Row) -> Row:
    """A read-model row of `kind` ("positions", ...) as its GraphQL type's JSON."""
    values = dict(row)
    if kind == "positions":
        values["unrealized_pnl"] = _unrealized(row)
    return {camel(name): jsonable(values.get(name)) for name in FIELDS[kind]}


def _decimal_text(value: Any) -> str:
    if isinstance(value, Decimal):
        return format(value, "f")
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def graphql_json(kind: str, row: Row) -> bytes:
    """`graphql_object(kind, row)` serialised, without walking every value in Python:
    orjson writes ids, date-times and enums as `jsonable` does, decimals by default."""
    values = dict(row)
    if kind == "positions":
        values["unrealized_pnl"] = _unrealized(row)
    return orjson.dumps(
        {camel(name): values.get(name) for name in FIELDS[kind]}, default=_decimal_text
    )


def event_record(notification: Notification, mapper: Mapper[Any]) -> Row:
    """A stored event, upcast and decoded, as the API's `Event` (data in camelCase)."""
    event = cast(DomainEvent, mapper.to_domain_event(notification))  # all stored events are
    data = event_data(event)
    return {
        "sequence": notification.id,
        "type": event_type(notification.topic),
        "aggregateId": str(notification.originator_id),
        "aggregateVersion": notification.originator_version,
        "timestamp": jsonable(event.timestamp),
        "data": data,
    }


@contextmanager
def progress_bars(label: str = "{task.description}") -> Iterator[Callable[[str, int, int], None]]:
    """Rich progress bars on stderr, one per name: yields `update(name, position, head)`."""
    console = Console(stderr=True)
    columns = (
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=False) as progress:
        tasks: dict[str, TaskID] = {}

        def update(name: str, position: int, head: int) -> None:
            if name not in tasks:
                tasks[name] = progress.add_task(name, total=head)
            progress.update(tasks[name], completed=position, total=head)

        yield update
