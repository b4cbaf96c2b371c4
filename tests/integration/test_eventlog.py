"""One aggregate's notifications by the store's index equal a filtered scan of the log."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from application.event_names import topics_for
from application.inputs import FillInput, OrderInput
from infrastructure.eventlog import aggregate_notifications
from infrastructure.log_headers import log_headers, log_states
from infrastructure.settings import load_settings
from interfaces.composition import build_system


@pytest.fixture
def system(database_url):
    built = build_system(load_settings(database_url=database_url))
    yield built
    built.close()


def scan(recorder, originator_id, after=0, topics=()):
    return [
        (n.id, n.originator_version, n.topic, bytes(n.state))
        for n in recorder.select_notifications(after + 1, 10_000, topics=topics)
        if n.originator_id == originator_id
    ]


def test_an_aggregates_notifications_equal_a_scan_with_after_limit_and_types(system):
    app = system.commands
    orders = []
    for i in range(12):  # interleaved aggregates: orders, fills, one position
        order = app.orders.place_order(
            OrderInput(client_order_id=f"o{i}", instrument="IDX", side="BUY", quantity=D(2))
        ).order
        orders.append(order.id)
        app.orders.record_fill(
            FillInput(order_id=order.id, fill_id=f"f{i}", quantity=D(1), price=D("10.5"))
        )
    position = app.orders.position("default", "IDX").id
    recorder = app.store.recorder

    def indexed(originator_id, **kw):
        found = aggregate_notifications(recorder, originator_id, **kw)
        return [(n.id, n.originator_version, n.topic, bytes(n.state)) for n in found]

    whole = scan(recorder, position)
    assert len(whole) == 13 and indexed(position) == whole
    assert indexed(position, after=whole[4][0]) == whole[5:]
    assert indexed(position, after=whole[4][0], limit=3) == whole[5:8]
    topics = topics_for(["OrderFilled"])
    assert indexed(orders[3], topics=topics) == scan(recorder, orders[3], topics=topics) != []
    assert all(n.originator_id == orders[0] for n in aggregate_notifications(recorder, orders[0]))


def test_headers_carry_each_states_size_and_states_are_read_for_them_alone(system):
    """`events` pays for a page by its headers' sizes before reading any state: the
    sizes must be the stored states' lengths, and the states read afterwards exactly
    the notifications the headers name (with types and aggregate filters)."""
    app = system.commands
    for i in range(6):
        order = app.orders.place_order(
            OrderInput(client_order_id=f"h{i}", instrument="IDX", side="BUY", quantity=D(3))
        ).order
        app.orders.record_fill(
            FillInput(order_id=order.id, fill_id=f"g{i}", quantity=D(1), price=D("9.25"))
        )
    recorder = app.store.recorder
    head = recorder.max_notification_id()
    whole = list(recorder.select_notifications(1, 10_000))
    topics = topics_for(["OrderFilled"])
    position = app.orders.position("default", "IDX").id
    for after, limit, kw in [
        (0, 100, {}),
        (3, 4, {}),
        (0, 100, {"topics": topics}),
        (2, 3, {"aggregate": position}),
    ]:
        headers = log_headers(recorder, after=after, limit=limit, stop=head, **kw)
        expected = [
            n
            for n in whole
            if n.id > after
            and (not kw.get("topics") or n.topic in kw["topics"])
            and (kw.get("aggregate") is None or n.originator_id == kw["aggregate"])
        ][:limit]
        assert [(h.id, h.size) for h in headers] == [(n.id, len(n.state)) for n in expected]
        assert all(h.state == b"" for h in headers)
        states = log_states(recorder, headers)
        assert [(n.id, n.topic, bytes(n.state)) for n in states] == [
            (n.id, n.topic, bytes(n.state)) for n in expected
        ]
