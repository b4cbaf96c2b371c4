"""The order + fill path trusts the aggregate cache without a query (issue #7): two
applications on one real store (two processes' caches) must still end exact, and a
refused command must leave nothing behind in the cache."""

from decimal import Decimal as D

import pytest

from application.inputs import FillInput, OrderInput, SignalInput
from domain.errors import BadInput, Conflict
from domain.values import OrderStatus, SignalStatus
from infrastructure.settings import load_settings
from interfaces.composition import build_system


@pytest.fixture
def systems(database_url):
    """Two systems on one database: each has its own aggregate cache, as two processes."""
    first = build_system(load_settings(database_url=database_url))
    second = build_system(load_settings(database_url=database_url), migrate=False)
    yield first.commands, second.commands
    second.close()
    first.close()


def place(app, cid, qty="10", instrument="ACME"):
    return app.orders.place_order(
        OrderInput(client_order_id=cid, instrument=instrument, side="BUY", quantity=D(qty))
    ).order


def fill(app, order_id, fid, qty, price="100"):
    return app.orders.record_fill(
        FillInput(order_id=order_id, fill_id=fid, quantity=D(qty), price=D(price))
    )


def test_a_fill_on_a_position_another_process_moved_nets_exactly(systems):
    a, b = systems
    fill(a, place(a, "a1").id, "fa1", "1")  # a now caches the position at quantity 1
    fill(b, place(b, "b1").id, "fb1", "2")
    result = fill(a, place(a, "a2").id, "fa2", "3")
    assert result.position.quantity == D(6)
    assert b.orders.position("default", "ACME").quantity == D(6)


def test_a_fill_on_an_order_another_process_filled_sees_its_fills(systems):
    a, b = systems
    order = place(a, "o1")  # a caches the order with 10 remaining
    fill(b, order.id, "fb", "4")
    head = a.store.head_sequence()
    with pytest.raises(BadInput):
        fill(a, order.id, "fa-over", "10")  # fine on a's stale copy, not on the store
    assert a.store.head_sequence() == head
    result = fill(a, order.id, "fa", "6")
    assert result.order.status is OrderStatus.FILLED
    assert result.position.quantity == D(10)


def test_a_fill_completing_a_signal_order_executes_the_signal_another_process_accepted(
    systems,
):
    a, b = systems
    signal = a.signals.generate_signal(
        SignalInput(strategy="s", instrument="ACME", side="BUY", strength=D("0.5"))
    ).signal  # a caches the signal as PENDING
    order = b.signals.accept_signal(signal.id, D(3)).order
    fill(a, order.id, "f1", "3")
    assert b.store.load(type(signal), signal.id).status is SignalStatus.EXECUTED


def test_a_refused_fill_leaves_the_cached_order_and_position_as_stored(systems):
    a, _ = systems
    fill(a, place(a, "o1").id, "f1", "4")
    other = place(a, "o2")
    # Changes o2 and the position in memory, then fails to save (f1 is taken).
    with pytest.raises(Conflict):
        fill(a, other.id, "f1", "5")
    result = fill(a, other.id, "f2", "3")
    assert result.position.quantity == D(7)
    assert result.order.filled_quantity == D(3)


def test_changing_a_returned_aggregate_does_not_reach_the_next_command(systems):
    a, _ = systems
    first = fill(a, place(a, "o1").id, "f1", "4")
    first.position.quantity = D(1000)
    first.order.filled_quantity = D(0)
    second = fill(a, first.order.id, "f2", "6")
    assert second.position.quantity == D(10)
    assert second.order.status is OrderStatus.FILLED


def test_recording_the_fill_that_completed_its_order_again_returns_the_first_result(
    systems,
):
    a, b = systems
    order = place(a, "o1", qty="4")
    first = fill(a, order.id, "f1", "4")
    head = a.store.head_sequence()
    for app in (a, b):
        again = fill(app, order.id, "f1", "4")
        assert not again.appended and again.fill.id == first.fill.id
        assert again.position.quantity == D(4)
    assert a.store.head_sequence() == head
