"""`tradestate events` and `projections status` via the real script."""

from __future__ import annotations

import json

from infrastructure.settings import load_settings
from interfaces.composition import build_system
from tests.integration.test_cli_replay import populated_store, tradestate


def the_log(url: str) -> list[tuple[int, str, int]]:
    system = build_system(load_settings(database_url=url))
    try:
        return [
            (n.id, str(n.originator_id), n.originator_version)
            for n in system.app.recorder.select_notifications(0, 10_000)
        ]
    finally:
        system.close()


def test_export_round_trips_every_event_in_order(database_url, tmp_path):
    store = populated_store(database_url)
    target = tmp_path / "log.jsonl"
    result = tradestate("events", "export", "-o", str(target), "--db", store.url)
    assert result.returncode == 0, result.stderr
    exported = [json.loads(line) for line in target.read_text().splitlines()]
    assert [(e["sequence"], e["aggregateId"], e["aggregateVersion"]) for e in exported] == (
        the_log(store.url)
    )
    placed = exported[0]
    assert placed["type"] == "OrderPlaced" and placed["data"]["quantity"] == "10"
    assert "originatorId" not in placed["data"] and "timestamp" not in placed["data"]
    assert placed["timestamp"].endswith("+00:00")
    to_stdout = tradestate("events", "export", "--db", store.url)
    assert to_stdout.stdout == target.read_text()


def test_export_filters_by_after_type_and_aggregate(database_url):
    store = populated_store(database_url)

    def export(*args: str) -> list[dict]:
        result = tradestate("events", "export", *args, "--db", store.url)
        assert result.returncode == 0, result.stderr
        return [json.loads(line) for line in result.stdout.splitlines()]

    fills = export("--types", "OrderFilled", "--types", "FillRecorded")
    assert [e["type"] for e in fills] == ["OrderFilled", "FillRecorded"] * 2
    assert [e["sequence"] for e in export("--after", str(store.head - 2))] == [
        store.head - 1,
        store.head,
    ]
    order = export("--aggregate", store.order_id)
    assert [e["aggregateVersion"] for e in order] == [1, 2, 3]
    unknown = tradestate("events", "export", "--types", "OrderTeleported", "--db", store.url)
    assert unknown.returncode == 1 and "unknown event types OrderTeleported" in unknown.stderr


def test_history_lists_one_aggregate_upcast_in_order(database_url):
    store = populated_store(database_url)
    result = tradestate("events", "history", store.position_id, "--format", "json",
                        "--db", store.url)  # fmt: skip
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert [e["type"] for e in events] == [
        "PositionOpened", "PositionFillApplied", "PositionMonitorAttached", "PositionFillApplied",
    ]  # fmt: skip
    assert [e["aggregateVersion"] for e in events] == [1, 2, 3, 4]
    table = tradestate("events", "history", store.position_id, "--db", store.url)
    assert table.returncode == 0 and "PositionMonitorAttached" in table.stdout
    missing = tradestate("events", "history", "not-a-uuid", "--db", store.url)
    assert missing.returncode == 1 and "not an aggregate id" in missing.stderr


def test_list_prints_a_table_of_at_most_limit_events(database_url):
    store = populated_store(database_url)
    result = tradestate("events", "list", "--limit", "2", "--db", store.url)
    assert result.returncode == 0, result.stderr
    assert "OrderPlaced" in result.stdout and "2 shown" in result.stdout


def test_projections_status_reports_each_projection(database_url):
    store = populated_store(database_url)
    result = tradestate("projections", "status", "--format", "json", "--db", store.url)
    assert result.returncode == 0, result.stderr
    status = json.loads(result.stdout)
    assert status["headSequence"] == store.head
    assert {p["name"] for p in status["projections"]} >= {"positions", "orders", "quotes"}
    assert all(p["sequence"] == store.head and p["lag"] == 0 for p in status["projections"])
    assert all(p["error"] is None and p["stale"] is False for p in status["projections"])
    table = tradestate("projections", "status", "--db", store.url)
    assert table.returncode == 0 and "reconciliations" in table.stdout
