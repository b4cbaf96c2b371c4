"""The start-up compatibility check reads only the events past its watermark (SPEC 4)."""

from __future__ import annotations

import json
from uuid import uuid4

import pytest
from eventsourcing.persistence import StoredEvent
from sqlalchemy import delete, insert, select

from infrastructure.compatibility import IncompatibleStore, StoredKind, _advance, stored_kinds
from infrastructure.readmodels import compat_kinds_table, compat_watermark_table
from infrastructure.settings import load_settings
from interfaces.composition import System, build_system

LISTED = "domain.futures:Future.Listed"
DELISTED = "domain.futures:Future.Delisted"


def append(system: System, topic: str, state: dict | None = None) -> None:
    body = json.dumps(state or {"timestamp": None}).encode()
    system.app.recorder.insert_events([StoredEvent(uuid4(), 1, topic, body)])


def open_system(url: str) -> System:
    return build_system(load_settings(database_url=url))


def watermark(system: System) -> int | None:
    with system.engine.connect() as connection:
        return connection.scalar(select(compat_watermark_table.c.sequence))


def test_the_check_reads_no_event_before_the_watermark(database_url):
    system = open_system(database_url)
    append(system, LISTED)
    head = system.app.recorder.max_notification_id()
    # Mark the unreadable event as already checked, without recording its kind:
    # a check that read it again would refuse to start.
    with system.engine.begin() as connection:
        connection.execute(delete(compat_watermark_table))
        connection.execute(insert(compat_watermark_table).values(id=1, sequence=head))
    system.close()
    open_system(database_url).close()

    system = open_system(database_url)
    append(system, DELISTED)
    system.close()
    with pytest.raises(IncompatibleStore) as refused:
        open_system(database_url)
    assert "Future.Delisted" in str(refused.value)
    assert "Future.Listed" not in str(refused.value)


def test_kinds_seen_before_the_watermark_stop_every_later_start(database_url):
    system = open_system(database_url)
    append(system, "domain.signals:Signal.Generated", {"class_version": 9})
    head = system.app.recorder.max_notification_id()
    system.close()
    for _ in range(2):  # the second start reads no event, and still refuses
        with pytest.raises(IncompatibleStore, match=r"Signal.Generated version 9 \(1 events\)"):
            open_system(database_url)
    system = build_system(load_settings(database_url=database_url), check=False)
    assert watermark(system) == head
    system.close()


def test_counts_past_the_watermark_add_up_to_the_whole_log(database_url):
    system = open_system(database_url)
    for round_ in range(3):
        for _ in range(round_ + 1):
            append(system, "domain.quotes:Quote.Recorded", {"timestamp": None})
        kinds = {(k.topic, k.version): k.count for k in stored_kinds(system.engine, system.url)}
        assert kinds[("domain.quotes:Quote.Recorded", 1)] == sum(range(1, round_ + 2))
        assert watermark(system) == system.app.recorder.max_notification_id()
    system.close()


def test_a_process_that_lost_the_race_records_nothing_twice(database_url):
    system = open_system(database_url)
    append(system, "domain.quotes:Quote.Recorded")
    stored_kinds(system.engine, system.url)  # watermark 1, one event counted
    append(system, "domain.quotes:Quote.Recorded")
    stored_kinds(system.engine, system.url)  # another process: watermark 2, two counted
    late = [StoredKind("domain.quotes:Quote.Recorded", 1, 1)]
    _advance(system.engine, 1, 2, late)  # this one read watermark 1 before that
    with system.engine.connect() as connection:
        assert connection.scalar(select(compat_kinds_table.c.events)) == 2
    assert watermark(system) == 2
    system.close()
