"""audit verify's check 4 grows each checkpoint's expected parts from the last good one
(ADR 025): it passes on checkpoints that time travel made, keeps the parts no row
changed in, and still names a checkpoint whose kept part was corrupted, or forged
with its digest recomputed."""

from __future__ import annotations

import zlib
from collections.abc import Iterator

import orjson
import pytest
from sqlalchemy import select, update

from infrastructure import checkpoint_check, checkpoints, replay
from infrastructure.audit import Finding, verify_checkpoints
from infrastructure.readmodels import checkpoints_table
from infrastructure.replay import (
    _catch_up,
    _runners,
    rebuild_remaking_checkpoints,
    remake_checkpoints,
    scratch_engine,
)
from interfaces.cli.render import graphql_json
from interfaces.composition import System
from tests.integration import checkpoint_edits

EVERY = 40
ROWS = 3  # rows per part: a checkpoint has many parts, and keeps most of the last one's


@pytest.fixture
def system(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[System]:
    with checkpoint_edits.checkpointed_system(database_url, monkeypatch, EVERY, ROWS) as made:
        yield made


def verify(system: System) -> Finding:
    recorder, mapper = system.app.recorder, system.app.mapper
    return verify_checkpoints(system.engine, recorder, mapper, graphql_json)


def stored(system: System, sequence: int) -> list[bytes]:
    return checkpoint_edits.stored(system.engine, sequence)


def sequences(system: System) -> list[int]:
    statement = select(checkpoints_table.c.sequence).order_by(checkpoints_table.c.sequence)
    with system.engine.connect() as connection:
        return list(connection.scalars(statement))


def kept_part(system: System, starts: bytes) -> tuple[int, int]:
    """The last checkpoint and the number of one of its parts (starting with `starts`)
    that is the same bytes as a part of the checkpoint before: one the check keeps."""
    *_, before, last = sequences(system)
    earlier = set(stored(system, before))
    for number, data in enumerate(stored(system, last), start=1):
        if data in earlier and zlib.decompress(data).startswith(starts):
            return last, number
    raise AssertionError(f"no part starting {starts!r} kept from checkpoint {before}")


def forged(text: bytes) -> bytes:
    """The part with its first order's account changed, still well formed."""
    if text.startswith(b'{"lines"'):
        head, _, body = text.partition(b"\n")
        first, *rest = body.split(b"\n")
        line = orjson.loads(first)
        line["account"] = "forged"
        return head + b"\n" + b"\n".join([orjson.dumps(line), *rest])
    part = orjson.loads(text)
    part["rows"][0][part["columns"].index("account")] = "forged"
    return orjson.dumps(part)


def rewrite(system: System, sequence: int, number: int, data: bytes, *, digest: bool) -> None:
    """Store `data` as that part (of that checkpoint alone); with `digest`, the
    checkpoint's digest is recomputed as a careful forger would."""
    with system.engine.begin() as connection:
        checkpoint_edits.repoint(connection, sequence, number, data)
    if digest:
        checkpoint_edits.redigest(system.engine, sequence)


def test_checkpoints_made_by_time_travel_pass_and_keep_most_parts_of_the_one_before(system):
    *_, before, last = sequences(system)
    kept = set(stored(system, before)) & set(stored(system, last))
    assert len(kept) >= 3
    finding = verify(system)
    assert finding.ok, finding


@pytest.mark.parametrize("starts", [b'{"table":"rm_orders"', b'{"lines":"orders"'])
def test_a_kept_part_forged_with_its_digest_recomputed_disagrees_with_the_replay(system, starts):
    sequence, number = kept_part(system, starts)
    data = stored(system, sequence)[number - 1]
    rewrite(system, sequence, number, zlib.compress(forged(zlib.decompress(data)), 1), digest=True)
    finding = verify(system)
    assert not finding.ok
    assert finding.sequence == sequence
    assert finding.details == [f"checkpoint {sequence}: disagrees with a replay of its range"]


@pytest.mark.parametrize("starts", [b'{"table":"rm_orders"', b'{"lines":"orders"'])
def test_a_corrupted_kept_part_does_not_match_its_digest(system, starts):
    sequence, number = kept_part(system, starts)
    rewrite(system, sequence, number, b"not a part", digest=False)
    finding = verify(system)
    assert not finding.ok
    assert finding.sequence == sequence
    assert finding.details == [
        f"checkpoint {sequence}: does not match its digest; disagrees with a replay of its range"
    ]


def test_a_forged_first_checkpoint_fails_and_the_next_is_checked_from_the_replay(system):
    first = sequences(system)[0]
    number, text = next(
        (number, text)
        for number, text in enumerate(map(zlib.decompress, stored(system, first)), start=1)
        if text.startswith(b'{"table":"rm_orders"')
    )
    rewrite(system, first, number, zlib.compress(forged(text), 1), digest=True)
    finding = verify(system)
    assert finding.sequence == first
    assert finding.details == [f"checkpoint {first}: disagrees with a replay of its range"]


@pytest.mark.parametrize("change", ["moved", "deleted"])
def test_a_listed_row_that_moved_or_was_deleted_makes_the_parts_computed_from_all_rows(
    system, change
):
    """No projection moves or deletes a listed row today; if one did, the rows would
    not add up, and the parts would be those of a capture from nothing."""
    recorder, mapper = system.app.recorder, system.app.mapper
    first, second, *_ = sequences(system)
    with scratch_engine() as scratch:
        runners = _runners(scratch, recorder, mapper, None, fresh=True)
        _catch_up(scratch, recorder, runners, first)
        grown = checkpoint_check.expected(system.engine, scratch, graphql_json, first, None)
        assert grown.digests == [checkpoints.part_digest(data) for data in stored(system, first)]
        _catch_up(scratch, recorder, runners, second)
        with scratch.begin() as connection:
            table = checkpoints._state_tables(connection)["rm_orders"].name
            oldest = f"(SELECT id FROM {table} ORDER BY created_at, client_order_id, id LIMIT 1)"
            if change == "moved":
                connection.exec_driver_sql(
                    f"UPDATE {table} SET as_of = {second}, created_at = "
                    f"(SELECT max(created_at) FROM {table}) WHERE id = {oldest}"
                )
            else:
                connection.exec_driver_sql(f"DELETE FROM {table} WHERE id = {oldest}")
        whole = checkpoint_check.expected(system.engine, scratch, graphql_json, second, None)
        again = checkpoint_check.expected(system.engine, scratch, graphql_json, second, grown.good)
        assert again.digests == whole.digests
        assert again.digests != [checkpoints.part_digest(data) for data in stored(system, second)]


@pytest.mark.parametrize("earlier", [1, 2])
def test_a_checkpoint_of_an_earlier_format_is_remade_not_reported_as_altered(system, earlier):
    """After an upgrade the stored checkpoints are of the format before: verify says
    so and passes (time travel ignores and remakes them); one altered besides fails."""
    import hashlib
    import warnings

    from infrastructure.replay import travelled

    first, second, *_ = sequences(system)
    seed = b"tradestate-checkpoint:%d:" if earlier == 1 else b"tradestate-checkpoint-v2:%d:"
    for sequence in (first, second):
        digest = hashlib.sha256(seed % sequence)
        for data in stored(system, sequence):
            digest.update(data)
        with system.engine.begin() as connection:
            connection.execute(
                update(checkpoints_table)
                .where(checkpoints_table.c.sequence == sequence)
                .values(digest=digest.hexdigest())
            )
    finding = verify(system)
    assert finding.ok, finding
    assert finding.details == [
        f"2 made by an earlier version ({first}, {second}): time travel ignores and "
        "remakes them, `replay --rebuild` remakes them all"
    ]
    recorder, mapper = system.app.recorder, system.app.mapper
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with travelled(
            recorder, mapper, second + 1, source=system.engine, every=EVERY, encode=graphql_json
        ):
            pass
    said = [
        str(w.message)
        for w in caught
        if issubclass(w.category, checkpoints.CorruptCheckpointWarning)
    ]
    assert said and f"checkpoint {second} is of an earlier format ({earlier})" in said[0]
    rewrite(system, first, 1, b"not a part", digest=False)
    altered = verify(system)
    assert not altered.ok and altered.sequence == first
    assert altered.details[0].startswith(f"checkpoint {first}: does not match its digest")


def test_a_rebuilds_checkpoints_grow_from_the_last_and_equal_a_full_capture(system, monkeypatch):
    """`replay --rebuild` makes each checkpoint from the one it made before (only the
    parts changed rows fall in are made again), and the parts are the same bytes a
    capture of the whole state makes."""
    recorder, mapper = system.app.recorder, system.app.mapper

    def whole_capture_not_used(*_args, **_kwargs):
        raise AssertionError("a rebuild's checkpoint was captured whole")

    with monkeypatch.context() as patched:
        patched.setattr(checkpoints, "capture", whole_capture_not_used)
        made = remake_checkpoints(system.engine, recorder, mapper, graphql_json, every=EVERY)
    assert made == len(sequences(system)) >= 4
    *_, before, last = sequences(system)
    assert len(set(stored(system, before)) & set(stored(system, last))) >= 3
    with scratch_engine() as scratch:
        runners = _runners(scratch, recorder, mapper, None, fresh=True)
        for sequence in sequences(system):
            _catch_up(scratch, recorder, runners, sequence)
            assert list(checkpoints.capture(scratch, graphql_json)) == stored(system, sequence)


@pytest.mark.parametrize("names", [[], ["positions"]], ids=["all", "some"])
def test_a_rebuild_makes_the_checkpoints_in_its_own_pass(system, monkeypatch, names):
    """`replay --rebuild` of every projection on SQLite takes each checkpoint from the
    rebuild's own pass, at each multiple of K (no second replay into a scratch
    database); otherwise a scratch replay makes them. Either way they are the bytes a
    capture of a replay to their sequence makes, and audit verify finds them good."""
    recorder, mapper = system.app.recorder, system.app.mapper
    checkpoints.drop_all(system.engine)
    head = recorder.max_notification_id()
    in_pass = system.engine.dialect.name == "sqlite" and not names

    def no_scratch_replay(*_args, **_kwargs):
        raise AssertionError("the checkpoints were made by a second replay")

    with monkeypatch.context() as patched:
        if in_pass:
            patched.setattr(replay, "scratch_engine", no_scratch_replay)
        reached, made = rebuild_remaking_checkpoints(
            system.engine, recorder, mapper, names, graphql_json, every=EVERY
        )
    assert set(reached.values()) == {head}
    assert made == head // EVERY == len(sequences(system))
    assert sequences(system) == [EVERY * n for n in range(1, made + 1)]
    with scratch_engine() as scratch:
        runners = _runners(scratch, recorder, mapper, None, fresh=True)
        for sequence in sequences(system):
            _catch_up(scratch, recorder, runners, sequence)
            assert list(checkpoints.capture(scratch, graphql_json)) == stored(system, sequence)
    assert verify(system).ok


def test_a_rebuilds_checkpoints_hold_while_commands_write(system):
    """Commands go on while `replay --rebuild` takes its checkpoints in its pass: each
    is still the state at its own sequence (the bytes a replay to it captures), and
    audit verify finds them good."""
    from tests.integration.crash_support import writing_in_background

    recorder, mapper = system.app.recorder, system.app.mapper
    with writing_in_background(system.commands, seed=7, rounds=20, tag="during-rebuild"):
        rebuild_remaking_checkpoints(system.engine, recorder, mapper, [], graphql_json, every=EVERY)
    made = sequences(system)
    assert made and made == [EVERY * n for n in range(1, len(made) + 1)]
    with scratch_engine() as scratch:
        runners = _runners(scratch, recorder, mapper, None, fresh=True)
        for sequence in made:
            _catch_up(scratch, recorder, runners, sequence)
            assert list(checkpoints.capture(scratch, graphql_json)) == stored(system, sequence)
    assert verify(system).ok


def travel(system: System, until: int) -> None:
    """Time travel to `until`, which stores the checkpoints it passes."""
    recorder, mapper = system.app.recorder, system.app.mapper
    with replay.travelled(
        recorder, mapper, until, source=system.engine, every=EVERY, encode=graphql_json
    ):
        pass


def unheld_parts(system: System) -> set[str]:
    """The stored parts no checkpoint holds."""
    with system.engine.connect() as connection:
        held = {key for s in sequences(system) for key in checkpoint_edits.keys(connection, s)}
        return set(connection.scalars(select(checkpoint_edits.BLOBS.c.digest))) - held


def test_a_shared_part_overwritten_fails_each_checkpoint_holding_it_until_remade(system):
    """A part is stored once and shared (ADR 027): bytes overwritten in place fail every
    checkpoint that holds them; time travel past them stores them again, which writes
    the part's bytes again."""
    *_, before, last = sequences(system)
    with system.engine.begin() as connection:
        holding = {s: checkpoint_edits.keys(connection, s) for s in sequences(system)}
        (key, *_) = sorted(set(holding[before]) & set(holding[last]))
        checkpoint_edits.overwrite(connection, key, b"not a part")
    sharing = [sequence for sequence, keys in holding.items() if key in keys]
    finding = verify(system)
    assert not finding.ok and finding.sequence == sharing[0]
    for sequence in sharing:
        assert f"checkpoint {sequence}: does not match its digest" in "\n".join(finding.details)
    with pytest.warns(checkpoints.CorruptCheckpointWarning, match=f"checkpoint {last}"):
        travel(system, last)
    assert verify(system).ok
    assert unheld_parts(system) == set()


def test_a_checkpoint_stored_again_drops_the_parts_only_it_held(system):
    *_, last = sequences(system)
    with system.engine.begin() as connection:
        checkpoint_edits.repoint(connection, last, 1, zlib.compress(b"a part of its own"))
    with pytest.warns(checkpoints.CorruptCheckpointWarning, match=f"checkpoint {last}"):
        travel(system, last)
    assert verify(system).ok
    assert unheld_parts(system) == set()


def test_a_part_deleted_by_hand_is_reported_and_time_travel_falls_back(system):
    """A part's bytes deleted past the foreign key (PostgreSQL: with its triggers off)
    leave its checkpoints with a part missing: verify names them, and time travel
    ignores them, falls back, and stores them again."""
    *earlier, last = sequences(system)
    with system.engine.begin() as connection:
        others = {key for s in earlier for key in checkpoint_edits.keys(connection, s)}
        (key, *_) = [key for key in checkpoint_edits.keys(connection, last) if key not in others]
        if system.engine.dialect.name == "postgresql":
            connection.exec_driver_sql("SET LOCAL session_replication_role = replica")
        connection.execute(
            checkpoint_edits.BLOBS.delete().where(checkpoint_edits.BLOBS.c.digest == key)
        )
    finding = verify(system)
    assert not finding.ok and finding.sequence == last
    assert finding.details[0].startswith(f"checkpoint {last}: does not match its digest")
    with pytest.warns(checkpoints.CorruptCheckpointWarning, match=f"checkpoint {last}"):
        travel(system, last)
    assert verify(system).ok
    assert unheld_parts(system) == set()
