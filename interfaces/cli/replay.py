"""`tradestate replay`: rebuild read models blue/green, or show the state at a past sequence."""

from __future__ import annotations

import sys
from datetime import datetime
from enum import StrEnum
from functools import partial
from typing import TYPE_CHECKING, Annotated, Any

import typer

from interfaces.cli.options import ConfigOption, DbOption, fail, settings_from

if TYPE_CHECKING:
    from interfaces.store_access import StoreAccess


class Format(StrEnum):
    table = "table"
    json = "json"


# Columns the table format shows of each kind (the JSON format has every field).
COLUMNS = {
    "positions": ("account", "instrument", "quantity", "averagePrice", "realizedPnl", "status",
                  "openedAt", "asOf"),
    "orders": ("clientOrderId", "instrument", "side", "type", "quantity", "filledQuantity",
               "averageFillPrice", "status", "asOf"),
    "signals": ("id", "strategy", "instrument", "side", "strength", "status", "createdAt", "asOf"),
    "monitors": ("id", "instrument", "stopLoss", "takeProfit", "trailingDistance", "status",
                 "asOf"),
}  # fmt: skip


def parse_time(text: str) -> datetime:
    """An ISO 8601 date-time with a zone (`Z` allowed)."""
    value = text.strip()
    try:
        parsed = datetime.fromisoformat(value[:-1] + "+00:00" if value.endswith("Z") else value)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not an ISO 8601 date-time") from None
    if parsed.utcoffset() is None:
        raise typer.BadParameter(f"{text!r} has no time zone; add one, e.g. Z or +02:00")
    return parsed


def replay(
    names: Annotated[
        list[str] | None,
        typer.Argument(
            help="With --rebuild: the projections to rebuild (default: all).", show_default=False
        ),
    ] = None,
    rebuild_: Annotated[
        bool, typer.Option("--rebuild", help="Rebuild read models beside the live ones, then swap.")
    ] = False,
    until_sequence: Annotated[
        int | None, typer.Option("--until-sequence", min=0, help="Show the state as of sequence N.")
    ] = None,
    until_time: Annotated[
        str | None,
        typer.Option("--until-time", help="Show the state as of an ISO 8601 time (with zone)."),
    ] = None,
    output: Annotated[Format, typer.Option("--format", help="Output format.")] = Format.table,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Rebuild read models, or show the state at a past sequence or time.

    --rebuild [NAME...] builds fresh tables beside the live ones and swaps when
    caught up (blue/green). --until-sequence / --until-time show positions,
    orders, signals, monitors and account totals as they were then, built in a scratch database:
    the live read models are not touched."""
    modes = [rebuild_, until_sequence is not None, until_time is not None]
    if sum(modes) != 1:
        fail("give exactly one of --rebuild, --until-sequence N, --until-time T")
    if names and not rebuild_:
        fail("projection names go with --rebuild only")
    when = parse_time(until_time) if until_time is not None else None
    from infrastructure.logging import configure_logging
    from interfaces.store_access import open_store  # the store only: not `build_system`

    settings = settings_from(db, config)
    configure_logging(settings)
    system = open_store(settings)
    try:
        if rebuild_:
            _rebuild(system, names or [])
        else:
            _time_travel(system, until_sequence, when, output)
    finally:
        system.close()


def _rebuild(system: StoreAccess, names: list[str]) -> None:
    from infrastructure.replay import rebuild_remaking_checkpoints
    from infrastructure.transparency.verify import check_log_against_tree
    from interfaces.cli.render import graphql_json, progress_bars

    with progress_bars() as progress:
        integrity = check_log_against_tree(system.engine, system.url, progress)
    if integrity.failure is not None:
        failure = integrity.failure
        where = f"sequence {failure.sequence}: " if failure.sequence is not None else ""
        fail(
            f"refusing to rebuild: the log and the transparency log disagree: {where}"
            f"{failure.why}. Run `tradestate audit verify`."
        )
    try:
        with progress_bars() as progress:
            reached, made = rebuild_remaking_checkpoints(
                system.engine, system.app.recorder, system.app.mapper, names, graphql_json,
                progress=progress,
            )  # fmt: skip
    except (ValueError, RuntimeError) as error:
        fail(str(error))
        return
    for name, position in reached.items():
        typer.echo(f"{name}: rebuilt to sequence {position} and swapped in")
    typer.echo(f"checkpoints: {made} remade")


def _time_travel(
    system: StoreAccess, sequence: int | None, when: datetime | None, output: Format
) -> None:
    import orjson

    from infrastructure.replay import account_rows, sequence_at, state_rows, travelled
    from interfaces.cli.render import account_objects, graphql_json, graphql_object, progress_bars

    recorder, mapper = system.app.recorder, system.app.mapper
    head = recorder.max_notification_id() or 0
    if when is not None:
        sequence = sequence_at(recorder, mapper, when, source=system.engine)
    assert sequence is not None
    if sequence > head:
        fail(f"sequence {sequence} is beyond the head of the log ({head})")
    json = output is Format.json
    with (
        progress_bars() as progress,
        travelled(
            recorder, mapper, sequence, source=system.engine, progress=progress,
            encode=graphql_json, lean=json,
        ) as found,
    ):  # fmt: skip
        accounts = account_objects(account_rows(found.scratch, system.settings.session_start_utc))
        if json:  # unchanged rows go out as the checkpoint wrote them
            state: dict[str, Any] = {kind: found.listed(kind, graphql_json) for kind in COLUMNS}
            state["accounts"] = map(orjson.dumps, accounts)
            _write_json(sequence, state)
        else:
            tables = {
                k: map(partial(graphql_object, k), state_rows(found.scratch, k)) for k in COLUMNS
            }
            _print_tables(sequence, {kind: list(rows) for kind, rows in tables.items()})


def _write_json(sequence: int, state: dict[str, Any]) -> None:
    """One JSON document, written as the rows stream (never held whole); each item is
    a row or a comma-joined run of rows."""
    sys.stdout.flush()
    out = sys.stdout.buffer
    out.write(b'{"sequence": %d' % sequence)
    for kind, objects in state.items():
        out.write(b', "%s": [' % kind.encode())
        for i, item in enumerate(objects):
            if i:
                out.write(b",")
            out.write(item)
        out.write(b"]")
    out.write(b"}\n")
    out.flush()


def _print_tables(sequence: int, state: dict[str, list[Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    console.print(f"State as of sequence {sequence}", style="bold")
    for kind, columns in COLUMNS.items():
        table = Table(title=f"{kind} ({len(state[kind])})", title_justify="left")
        for column in columns:
            table.add_column(column)
        for item in state[kind]:
            table.add_row(*("" if item[c] is None else str(item[c]) for c in columns))
        console.print(table)
