"""Batched quote ingest: quotes/s through `ingest_quotes` (one event per batch),
against a raw executemany of the same rows, one transaction per batch."""

from __future__ import annotations

import sqlite3
import time
from datetime import UTC, datetime
from decimal import Decimal

import psycopg

from application.inputs import QuoteInput
from bench.context import Run
from bench.databases import scratch
from bench.report import Figure, on_sqlite, slower
from infrastructure.database import DatabaseUrl
from infrastructure.settings import load_settings
from interfaces.composition import build_system

BATCH = 1000
TARGET = 50_000.0
CREATE = (
    "CREATE TABLE quotes_raw (instrument TEXT, last TEXT, bid TEXT, ask TEXT, volume TEXT, "
    "timestamp TEXT)"
)


def batches(count: int) -> list[list[QuoteInput]]:
    now = datetime.now(UTC)
    return [
        [
            QuoteInput(
                instrument=f"Q{i % 200:03d}",
                last=Decimal("100.25") + Decimal(i % 97) / 100,
                bid=Decimal("100.20"),
                ask=Decimal("100.30"),
                volume=Decimal(i % 1000 + 1),
                timestamp=now,
            )
            for i in range(b * BATCH, (b + 1) * BATCH)
        ]
        for b in range(count)
    ]


def measure_ingest(url: str, data: list[list[QuoteInput]]) -> float:
    system = build_system(load_settings(database_url=url))
    started = time.perf_counter()
    for batch in data:
        system.commands.quotes.ingest_quotes(batch)
    elapsed = time.perf_counter() - started
    system.close()
    return len(data) * BATCH / elapsed


def _rows(batch: list[QuoteInput]) -> list[tuple[str, ...]]:
    return [
        (q.instrument, str(q.last), str(q.bid), str(q.ask), str(q.volume), str(q.timestamp))
        for q in batch
    ]


def measure_executemany(url: str, data: list[list[QuoteInput]]) -> float:
    """Rows/s of a raw executemany, one commit per batch; the rows are built in the
    timed loop, as the command builds its event in its loop."""
    database = DatabaseUrl(url)
    if database.is_sqlite:
        lite = sqlite3.connect(database.sqlite_path)
        lite.execute(CREATE)
        started = time.perf_counter()
        for batch in data:
            with lite:
                lite.executemany("INSERT INTO quotes_raw VALUES (?, ?, ?, ?, ?, ?)", _rows(batch))
        elapsed = time.perf_counter() - started
        lite.close()
    else:
        params = database.postgres_params()
        params.pop("schema")
        with psycopg.connect(**{k: v for k, v in params.items() if v}) as pg:
            pg.execute(CREATE)
            pg.commit()
            started = time.perf_counter()
            for batch in data:
                with pg.transaction(), pg.cursor() as cursor:
                    cursor.executemany(
                        "INSERT INTO quotes_raw VALUES (%s, %s, %s, %s, %s, %s)", _rows(batch)
                    )
            elapsed = time.perf_counter() - started
    return len(data) * BATCH / elapsed


def run(context: Run) -> list[Figure]:
    data = batches(context.size(100, 5))
    figures = []
    for engine in context.engines:
        with scratch(engine, context.postgres_url) as url:
            ours = measure_ingest(url, data)
        with scratch(engine, context.postgres_url) as url:
            baseline = measure_executemany(url, data)
        figures.append(
            Figure(
                scenario="quote_ingest",
                engine=engine,
                figure=f"batches of {BATCH}",
                value=ours,
                unit="quotes/s",
                **on_sqlite(engine, f"≥ {TARGET:,.0f}/s", ours >= TARGET),
                baseline=baseline,
                baseline_label="executemany rows/s",
                ratio=slower(ours, baseline),
                note=f"{len(data)} batches",
            )
        )
    return figures
