"""Attacks on checkpoints whose parts are stored once by digest (ADR 027), as an
outsider would make them, on SQLite and PostgreSQL:

1. `tradestate replay --until-sequence` killed with SIGKILL while it saves checkpoints:
   none is left half-saved, no part is left that no checkpoint lists, and time travel
   and `audit verify` afterwards are as from a clean store;
2. two time travels at once to the same far point, saving the same checkpoints at the
   same time: both succeed with the same output, and verify passes after;
3. checkpoints edited by hand (a part listed by a digest that has no bytes, a part's
   bytes swapped for another checkpoint's valid part under the old key, the same part
   listed twice): time travel warns, falls back and gives the state a replay from
   sequence 0 gives; verify names the checkpoint; the checkpoints passed are stored
   again and hold.

1 and 2 drive the real console script on a store past two multiples of the real K
(`checkpoints.EVERY`); 3 runs in process with a small K and small parts, and once
through the script with the real K. A checkpoint whose parts hold the same orders rows
twice failed a whole restore with a traceback (UNIQUE constraint) before the restore
told it from a good one by its digest."""

from __future__ import annotations

import hashlib
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
import zlib
from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal as D
from pathlib import Path
from typing import Any
from uuid import uuid4

import orjson
import pytest
from eventsourcing.persistence import StoredEvent
from sqlalchemy import Engine, func, select, text, update

from application.inputs import OrderInput
from infrastructure import checkpoints
from infrastructure.database import DatabaseUrl, make_engine
from infrastructure.readmodels import checkpoints_table
from infrastructure.replay import (
    STATE_ORDER,
    _catch_up,
    _runners,
    scratch_engine,
    state_rows,
    travelled,
)
from infrastructure.settings import load_settings
from interfaces.cli.render import graphql_json
from interfaces.composition import System, build_system
from tests.integration import checkpoint_edits
from tests.integration.test_checkpoint_check import EVERY, ROWS, verify
from tests.integration.workload import run_workload

PARTS, BLOBS = checkpoint_edits.PARTS, checkpoint_edits.BLOBS
K = checkpoints.EVERY  # the console script's K: a module constant
EVENTS = 2 * K + 1_000  # two checkpoints, and a tail after the second
SEED = 20261130
SCRIPT = str(Path(sys.executable).parent / "tradestate")


# --- the store and the console script ---------------------------------------------------


def grown_store(url: str, events: int = EVENTS) -> int:
    """A workload's orders, fills, signals and monitors, then copies of an order's
    placement (each its own order, a millisecond apart) up to `events`; the head."""
    system = build_system(load_settings(database_url=url))
    try:
        run_workload(system.commands, rounds=20)
        system.commands.orders.place_order(
            OrderInput(client_order_id="bulk-0", instrument="BULK", side="BUY", quantity=D(5))
        )
        recorder = system.app.recorder
        head = recorder.max_notification_id() or 0
        [model] = recorder.select_notifications(head, 1)
        stamp = orjson.loads(model.state)["timestamp"]["_data_"]
        start = datetime.fromisoformat(stamp)
        while head < events:
            batch = []
            for n in range(head + 1, min(head + 5_000, events) + 1):
                when = (start + timedelta(milliseconds=n)).isoformat()
                state = model.state.replace(b'"bulk-0"', b'"bulk-%d"' % n)
                state = state.replace(stamp.encode(), when.encode())
                batch.append(StoredEvent(uuid4(), 1, model.topic, state))
            recorder.insert_events(batch)
            head += len(batch)
        return head
    finally:
        system.close()


def env(directory: Path) -> dict[str, str]:
    """The script's environment; its scratch databases (left behind by a killed
    replay) go to `directory`."""
    return {
        **os.environ,
        "TRADESTATE_LOG_FORMAT": "json",
        "COLUMNS": "200",
        "TMPDIR": str(directory),
    }


def start_replay(url: str, until: int, directory: Path, out: Path) -> subprocess.Popen[bytes]:
    command = [SCRIPT, "replay", "--until-sequence", str(until), "--format", "json", "--db", url]
    with out.open("wb") as stdout, out.with_suffix(".err").open("wb") as stderr:
        return subprocess.Popen(command, stdout=stdout, stderr=stderr, env=env(directory))


def replay_json(url: str, until: int, directory: Path) -> bytes:
    """`tradestate replay --until-sequence UNTIL --format json`'s output (it must succeed
    without ignoring any checkpoint)."""
    out = directory / f"replay-{uuid4().hex[:8]}.json"
    process = start_replay(url, until, directory, out)
    assert process.wait(timeout=60) == 0, out.with_suffix(".err").read_text()
    stderr = out.with_suffix(".err").read_text()
    assert "ignored" not in stderr and "Traceback" not in stderr, stderr
    return out.read_bytes()


def audit_verify(url: str, directory: Path) -> str:
    command = [SCRIPT, "audit", "verify", "--db", url]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60, env=env(directory))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "[ok  ] checkpoints:" in result.stdout, result.stdout
    return result.stdout


class SaveWatch:
    """Whether some other process is inside a write transaction on the store: on
    PostgreSQL, holds a row lock on a checkpoint table; on SQLite, holds the write lock
    (time travel writes nothing else to the store)."""

    def __init__(self, url: str, engine: Engine) -> None:
        self.url, self.engine = DatabaseUrl(url), engine

    def __call__(self) -> bool:
        if self.url.is_sqlite:
            probe = sqlite3.connect(self.url.sqlite_path, timeout=0, isolation_level=None)
            try:
                probe.execute("BEGIN IMMEDIATE")
                probe.execute("ROLLBACK")
                return False
            except sqlite3.OperationalError as error:
                assert "locked" in str(error) or "busy" in str(error), error
                return True
            finally:
                probe.close()
        query = text(
            "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
            "WHERE l.pid <> pg_backend_pid() AND l.mode = 'RowExclusiveLock' AND c.relname IN "
            "('rm_checkpoints', 'rm_checkpoint_parts', 'rm_checkpoint_blobs') AND l.database = "
            "(SELECT oid FROM pg_database WHERE datname = current_database())"
        )
        with self.engine.connect() as connection:
            return bool(connection.scalar(query))

    def held(self) -> bool:
        """Seen twice 20 ms apart: a save, not the blip of a write at start-up."""
        if not self():
            return False
        time.sleep(0.02)
        return self()


def kill_while_saving(
    url: str, head: int, directory: Path, watch: SaveWatch, rng: random.Random, skip: int = 0
) -> bool:
    """Start a time travel to `head`, wait for it to save a checkpoint (after `skip`
    saves), let it go on for a random while, then SIGKILL it; whether it was still
    saving when killed."""
    out = directory / f"killed-{uuid4().hex[:8]}.json"
    process = start_replay(url, head, directory, out)
    try:
        deadline = time.monotonic() + 25
        for wanted in [True, False] * skip + [True]:
            while process.poll() is None and watch.held() != wanted:
                assert time.monotonic() < deadline, "no checkpoint save seen"
                time.sleep(0.005)
        if process.poll() is not None:
            assert process.returncode == 0, out.with_suffix(".err").read_text()
            return False
        time.sleep(rng.uniform(0, 0.05))
        saving = watch()
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
        return saving and process.returncode == -signal.SIGKILL
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


# --- what must hold of the stored checkpoints ----------------------------------------------


def orphans(engine: Engine) -> list[str]:
    """The stored parts no checkpoint lists."""
    listed = select(PARTS.c.digest)
    with engine.connect() as connection:
        return list(connection.scalars(select(BLOBS.c.digest).where(BLOBS.c.digest.not_in(listed))))


def problems(engine: Engine) -> list[str]:
    """What is wrong with the stored checkpoints as they are: parts listed without a
    checkpoint, a checkpoint whose parts are missing, too few or too many or do not
    match its digest (half-saved), a part listed whose bytes are missing, a part no
    checkpoint lists."""
    found = []
    with engine.connect() as connection:
        stored = {row.sequence: row for row in connection.execute(select(checkpoints_table))}
        grouped = select(PARTS.c.sequence, func.count()).group_by(PARTS.c.sequence)
        counts: dict[int, int] = {
            sequence: count for sequence, count in connection.execute(grouped)
        }
        missing = connection.execute(
            select(PARTS.c.sequence, PARTS.c.part).where(
                PARTS.c.digest.not_in(select(BLOBS.c.digest))
            )
        ).all()
    found += [f"parts of {s} listed without its checkpoint" for s in set(counts) - set(stored)]
    found += [f"checkpoint {s} part {p}: no bytes" for s, p in missing]
    hashed: dict[str, bytes] = {}
    for sequence, row in sorted(stored.items()):
        if counts.get(sequence, 0) != row.parts:
            found.append(f"checkpoint {sequence}: {counts.get(sequence, 0)} of {row.parts} parts")
            continue
        digests = checkpoints.part_digests(engine, sequence, hashed)
        if checkpoints.combined(sequence, digests) != row.digest:
            found.append(f"checkpoint {sequence}: does not match its digest")
    found += [f"part {key[:12]} listed by no checkpoint" for key in orphans(engine)]
    return found


def sequences(engine: Engine) -> list[int]:
    with engine.connect() as connection:
        statement = select(checkpoints_table.c.sequence).order_by(checkpoints_table.c.sequence)
        return list(connection.scalars(statement))


@pytest.fixture
def store(database_url: str) -> Iterator[tuple[str, Engine]]:
    engine = make_engine(DatabaseUrl(database_url))
    yield database_url, engine
    engine.dispose()


# --- 1. kill -9 while saving ----------------------------------------------------------------


def test_a_time_travel_killed_while_saving_checkpoints_leaves_none_half_saved(store, tmp_path):
    url, engine = store
    head = grown_store(url)
    lean_point = K + K // 2
    reference = {until: replay_json(url, until, tmp_path) for until in (head, lean_point)}
    assert sequences(engine) == [K, 2 * K]
    checkpoints.drop_all(engine)  # the attacks start from a store without checkpoints
    watch, rng = SaveWatch(url, engine), random.Random(SEED)
    seen = []  # each attack: the checkpoints before, killed while saving, and after
    for attack in range(4):
        # The first two start from no checkpoint: one kills the first save (grown from
        # nothing), one lets it commit and kills the second (grown from the first,
        # sharing its parts). The others go on from what the kills left.
        if attack < 2 or sequences(engine) == [K, 2 * K]:
            checkpoints.drop_all(engine)
        before = sequences(engine)
        skip = attack if attack < 2 else 0
        saving = kill_while_saving(url, head, tmp_path, watch, rng, skip)
        seen.append((before, saving, sequences(engine)))
        assert problems(engine) == [], seen
    assert sum(saving for _, saving, _ in seen) >= 1, seen  # a kill did land in a save
    for until, expected in reference.items():
        assert replay_json(url, until, tmp_path) == expected, until
    assert sequences(engine) == [K, 2 * K]
    assert problems(engine) == []
    audit_verify(url, tmp_path)


# --- 2. two time travels at once --------------------------------------------------------


def test_two_time_travels_at_once_save_the_same_checkpoints_and_agree(store, tmp_path):
    url, engine = store
    head = grown_store(url)
    outputs = {}
    for until in (head, 2 * K + 3):
        checkpoints.drop_all(engine)
        runs = [tmp_path / f"at-{until}-{n}.json" for n in range(2)]
        processes = [start_replay(url, until, tmp_path, out) for out in runs]
        for process, out in zip(processes, runs, strict=True):
            assert process.wait(timeout=60) == 0, out.with_suffix(".err").read_text()
            stderr = out.with_suffix(".err").read_text()
            assert "ignored" not in stderr and "Traceback" not in stderr, stderr
        first, second = (out.read_bytes() for out in runs)
        assert first == second
        assert orjson.loads(first)["sequence"] == until
        outputs[until] = first
        assert sequences(engine) == [K, 2 * K]
        assert problems(engine) == []
    audit_verify(url, tmp_path)
    assert replay_json(url, head, tmp_path) == outputs[head]  # from the checkpoints made


# --- 3. hand edits ----------------------------------------------------------------------------

SMALL_K = EVERY  # the `system` fixture's K; parts of ROWS rows


@pytest.fixture
def system(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[System]:
    with checkpoint_edits.checkpointed_system(database_url, monkeypatch, EVERY, ROWS) as made:
        yield made


State = dict[str, list[dict]]


def from_zero(system: System, until: int) -> State:
    with scratch_engine() as scratch:
        runners = _runners(scratch, system.app.recorder, system.app.mapper, None, fresh=True)
        _catch_up(scratch, system.app.recorder, runners, until)
        return {kind: list(state_rows(scratch, kind)) for kind in STATE_ORDER}


def travel(system: System, until: int, *, lean: bool) -> State | dict[str, bytes]:
    """Time travel to `until` as `replay --format table` (whole restore) or `--format
    json` (lean: the listed rows as JSON, the unchanged ones from the checkpoint)."""
    recorder, mapper = system.app.recorder, system.app.mapper
    with travelled(
        recorder, mapper, until, source=system.engine, every=SMALL_K, encode=graphql_json, lean=lean
    ) as found:
        if lean:
            return {
                kind: b",".join(found.listed(kind, graphql_json)) for kind in checkpoints.LISTED
            }
        return {kind: list(state_rows(found.scratch, kind)) for kind in STATE_ORDER}


def as_json(state: State) -> dict[str, bytes]:
    listed = checkpoints.LISTED
    return {kind: b",".join(graphql_json(kind, row) for row in state[kind]) for kind in listed}


def holders(engine: Engine, key: str) -> list[int]:
    statement = select(PARTS.c.sequence).where(PARTS.c.digest == key).distinct()
    with engine.connect() as connection:
        return sorted(connection.scalars(statement))


def numbered(engine: Engine, sequence: int, starts: bytes) -> list[tuple[int, str, bytes]]:
    """The parts of the checkpoint at `sequence` that start with `starts`: number, key,
    bytes."""
    with engine.connect() as connection:
        keys = checkpoint_edits.keys(connection, sequence)
    datas = checkpoint_edits.stored(engine, sequence)
    return [
        (number, key, data)
        for number, (key, data) in enumerate(zip(keys, datas, strict=True), start=1)
        if zlib.decompress(data).startswith(starts)
    ]


ROWS_PART, LINES_PART = b'{"table":"rm_orders"', b'{"lines":"orders"'
NO_SUCH_PART = hashlib.sha256(b"a part nobody stored").hexdigest()


def dangling(engine: Engine, target: int, starts: bytes) -> None:
    """A part of `target` listed by a digest whose bytes are not stored (PostgreSQL: past
    the foreign key, its triggers off)."""
    number, _, _ = numbered(engine, target, starts)[-1]
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.exec_driver_sql("SET LOCAL session_replication_role = replica")
        connection.execute(
            update(PARTS)
            .where(PARTS.c.sequence == target, PARTS.c.part == number)
            .values(digest=NO_SUCH_PART)
        )


def foreign_bytes(engine: Engine, target: int, starts: bytes) -> None:
    """A part only `target` holds keeps its key but holds the bytes of a valid part of
    the same kind of the checkpoint before (which `target` does not hold)."""
    (key, *_) = [
        key for _, key, _ in numbered(engine, target, starts) if holders(engine, key) == [target]
    ]
    held = {key for _, key, _ in numbered(engine, target, b"")}
    before = numbered(engine, checkpoints.previous(engine, target), starts)
    (data, *_) = [data for _, other, data in before if other not in held]
    with engine.begin() as connection:
        checkpoint_edits.overwrite(connection, key, data)


def twice(engine: Engine, target: int, starts: bytes) -> None:
    """`target` lists one of its parts twice: the next part's row points at it too."""
    (first, key, _), (second, _, _), *_ = numbered(engine, target, starts)
    with engine.begin() as connection:
        connection.execute(
            update(PARTS)
            .where(PARTS.c.sequence == target, PARTS.c.part == second)
            .values(digest=key)
        )
    assert first != second


EDITS = {"dangling": dangling, "foreign-bytes": foreign_bytes, "twice": twice}


def edited(edit: str, kind: str, lean: bool) -> Any:
    """A case: a whole restore (`--format table`) or a lean one (`--format json`, only
    the rows of the aggregates touched after the checkpoint)."""
    starts = ROWS_PART if kind == "rows" else LINES_PART
    case = f"{edit}-{kind}-{'json' if lean else 'table'}"
    return pytest.param(edit, starts, lean, id=case)


EDITED = [  # a part missing loads no row twice: lean or not, the same case
    edited(edit, kind, lean)
    for edit in EDITS
    for kind in ("rows", "lines")
    for lean in ((False,) if edit == "dangling" else (False, True))
]


@pytest.mark.parametrize(("edit", "starts", "lean"), EDITED)
def test_a_checkpoint_edited_by_hand_is_named_and_time_travel_falls_back(
    system, edit, starts, lean
):
    head = system.app.recorder.max_notification_id()
    made = sequences(system.engine)
    target = made[len(made) // 2]
    until = target + 1
    assert until < head
    assert problems(system.engine) == []
    EDITS[edit](system.engine, target, starts)

    finding = verify(system)
    assert not finding.ok and finding.sequence == target, finding
    assert finding.details[0].startswith(f"checkpoint {target}: does not match its digest")

    expected = from_zero(system, until)
    with pytest.warns(checkpoints.CorruptCheckpointWarning, match=f"checkpoint {target} "):
        found = travel(system, until, lean=lean)
    assert found == (as_json(expected) if lean else expected)
    # It fell back to the checkpoint before, passed `target` and stored it again.
    assert problems(system.engine) == []
    assert verify(system).ok
    assert travel(system, head, lean=False) == from_zero(system, head)


def replay_run(url: str, until: int, directory: Path) -> tuple[int, bytes, str]:
    """`tradestate replay --until-sequence UNTIL --format json`: exit code, stdout, stderr."""
    out = directory / f"replay-{uuid4().hex[:8]}.json"
    process = start_replay(url, until, directory, out)
    code = process.wait(timeout=60)
    return code, out.read_bytes(), out.with_suffix(".err").read_text()


@pytest.mark.parametrize("kind", ["rows", "lines"], ids=["rows-twice", "lines-twice"])
def test_the_script_warns_and_falls_back_past_checkpoints_edited_by_hand(store, tmp_path, kind):
    """The real script and K: the second checkpoint lists a part by a digest that has no
    bytes, the first lists one of its orders parts twice. `replay --format json` to the
    head restores the first whole (the second is unusable): it must warn for both, fall
    back to sequence 0 and print what a clean store prints; verify names both."""
    url, engine = store
    head = grown_store(url)
    expected = replay_json(url, head, tmp_path)
    dangling(engine, 2 * K, LINES_PART)
    twice(engine, K, ROWS_PART if kind == "rows" else LINES_PART)

    command = [SCRIPT, "audit", "verify", "--db", url]
    audit = subprocess.run(command, capture_output=True, text=True, timeout=60, env=env(tmp_path))
    assert audit.returncode == 1, audit.stdout + audit.stderr
    assert f"checkpoint {K}: does not match its digest" in audit.stdout
    assert f"checkpoint {2 * K}: does not match its digest" in audit.stdout
    assert f"first failing sequence {K}" in audit.stderr

    code, found, stderr = replay_run(url, head, tmp_path)
    assert code == 0, stderr[-3000:]
    assert f"checkpoint {2 * K} does not match its digest; ignored" in stderr
    assert f"checkpoint {K} does not match its digest; ignored" in stderr
    assert found == expected
    assert problems(engine) == []  # both stored again, whole
