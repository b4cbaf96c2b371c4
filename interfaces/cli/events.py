"""`tradestate events`: browse and export the event log, upcast to today's versions."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Sequence
from contextlib import nullcontext
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TextIO
from uuid import UUID

import orjson
import typer
from eventsourcing.persistence import Notification
from rich.console import Console
from rich.table import Table

from application.event_names import topics_for
from domain.errors import BadInput, echoed
from domain.values import check_uuid
from infrastructure.eventlog import aggregate_notifications
from infrastructure.logging import configure_logging
from interfaces.cli.options import ConfigOption, DbOption, fail, settings_from
from interfaces.cli.render import event_record, progress_bars
from interfaces.store_access import StoreAccess, open_store

app = typer.Typer(help="Browse and export the event log.", no_args_is_help=True)

PAGE = 5000

AfterOption = Annotated[
    int, typer.Option("--after", min=0, help="Only events with a sequence greater than N.")
]
TypesOption = Annotated[
    list[str] | None,
    typer.Option("--types", help="Only these event types, e.g. OrderFilled (repeatable)."),
]
AggregateOption = Annotated[
    str | None, typer.Option("--aggregate", help="Only the events of this aggregate id.")
]


class Format(StrEnum):
    table = "table"
    json = "json"


def _topics(types: Sequence[str] | None) -> tuple[str, ...]:
    if not types:
        return ()
    names = [name for given in types for name in given.split(",") if name]
    try:
        return topics_for(names)
    except BadInput as error:
        fail(error.message)
        raise


def _aggregate_id(text: str | None) -> UUID | None:
    if text is None:
        return None
    try:
        return check_uuid(text, "aggregate")
    except BadInput:
        fail(f"{echoed(text)} is not an aggregate id (a UUID)")
        raise


def _open(db: str | None, config: Path | None) -> StoreAccess:
    settings = settings_from(db, config)
    configure_logging(settings)
    return open_store(settings, migrate=False)


def notifications(
    system: StoreAccess, after: int, topics: tuple[str, ...], aggregate: UUID | None, head: int
) -> Iterator[Notification]:
    """Matching notifications with after < sequence ≤ head, in order, a page at a time."""
    recorder = system.app.recorder
    if aggregate is not None:  # by the store's index, not a scan of the log
        while True:
            found = aggregate_notifications(recorder, aggregate, after=after, topics=topics)
            found = [n for n in found if n.id <= head]
            yield from found
            if len(found) < 1_000:
                return
            after = found[-1].id
    start = after
    while start < head:
        page = recorder.select_notifications(
            start, PAGE, stop=head, topics=topics, inclusive_of_start=False
        )
        if not page:
            return
        yield from page
        start = page[-1].id


def _records(system: StoreAccess, found: Iterator[Notification]) -> Iterator[dict[str, Any]]:
    mapper = system.app.mapper
    for notification in found:
        yield event_record(notification, mapper)


def _print_table(records: Sequence[dict[str, Any]], title: str) -> None:
    table = Table(title=title, title_justify="left")
    for column in ("sequence", "type", "aggregateId", "version", "timestamp", "data"):
        table.add_column(column, overflow="fold")
    for r in records:
        data = json.dumps(r["data"], separators=(",", ":"))
        table.add_row(
            str(r["sequence"]),
            r["type"],
            r["aggregateId"],
            str(r["aggregateVersion"]),
            r["timestamp"],
            data if len(data) <= 200 else data[:197] + "...",
        )
    Console().print(table)


@app.command("list")
def list_events(
    after: AfterOption = 0,
    types: TypesOption = None,
    aggregate: AggregateOption = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most N events.")] = 50,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """A readable table of the log's events (the first `--limit` after `--after`)."""
    topics, aggregate_id = _topics(types), _aggregate_id(aggregate)
    system = _open(db, config)
    try:
        head = system.app.recorder.max_notification_id() or 0
        records = []
        for record in _records(system, notifications(system, after, topics, aggregate_id, head)):
            records.append(record)
            if len(records) >= limit:
                break
    finally:
        system.close()
    _print_table(records, f"events after {after} (head {head}): {len(records)} shown")


@app.command()
def export(
    after: AfterOption = 0,
    types: TypesOption = None,
    aggregate: AggregateOption = None,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Write to FILE.jsonl (default stdout).")
    ] = None,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Stream matching events as JSON lines, in log order.

    Each line: sequence, type, aggregateId, aggregateVersion, timestamp, data
    (upcast); up to the head of the log when the export started."""
    topics, aggregate_id = _topics(types), _aggregate_id(aggregate)
    system = _open(db, config)
    try:
        head = system.app.recorder.max_notification_id() or 0
        target = open(output, "w", encoding="utf-8") if output else nullcontext(sys.stdout)  # noqa: SIM115
        with target as stream, progress_bars() as progress:
            count = _write(
                system,
                notifications(system, after, topics, aggregate_id, head),
                stream,
                lambda at: progress("export", at, head),
            )
    except OSError as error:
        fail(f"cannot write {output}: {error}")
    finally:
        system.close()
    if output:
        typer.echo(f"exported {count} events to {output}", err=True)


def _write(
    system: StoreAccess, found: Iterator[Notification], stream: TextIO, progress: Any
) -> int:
    count = 0
    for count, record in enumerate(_records(system, found), start=1):
        stream.write(orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE).decode())
        if count % PAGE == 0:
            progress(record["sequence"])
    return count


@app.command()
def history(
    aggregate_id: Annotated[str, typer.Argument(help="The aggregate's id (a UUID).")],
    output: Annotated[Format, typer.Option("--format", help="Output format.")] = Format.table,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """One aggregate's events, upcast to today's versions, in order."""
    wanted = _aggregate_id(aggregate_id)
    assert wanted is not None
    system = _open(db, config)
    try:
        head = system.app.recorder.max_notification_id() or 0
        records = _records(system, notifications(system, 0, (), wanted, head))
        if output is Format.json:  # streamed: one line per event as it is read
            count = 0
            for index, record in enumerate(records, start=1):
                typer.echo(json.dumps(record, separators=(",", ":")))
                count = index
        else:
            shown = list(records)
            count = len(shown)
    finally:
        system.close()
    if not count:
        fail(f"aggregate {aggregate_id} has no events")
    if output is Format.table:
        _print_table(shown, f"aggregate {aggregate_id}: {count} events")
