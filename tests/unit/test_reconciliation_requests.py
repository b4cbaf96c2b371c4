"""Reconciliation requested through the store (application/reconciliation_requests.py)
on the in-memory store: the asker's refusals, and the broker process's runner."""

from datetime import timedelta
from decimal import Decimal

import pytest

from application.engine.log import read_log
from application.policies.reconciliation import ReconciliationRequests
from application.ports import BrokerPresence
from domain.errors import Unavailable
from domain.ids import requested_reconciliation_id
from domain.reconciliation import Reconciliation, ReconciliationRequest


class Presence(BrokerPresence):
    def __init__(self, available: bool) -> None:
        self.answer = available

    def available(self) -> bool:
        return self.answer


def test_no_broker_anywhere_is_unavailable_at_once_and_appends_nothing(app):
    app.reconciliation.broker = None
    for presence in (None, Presence(False)):
        app.reconciliation_requests.broker_presence = presence
        with pytest.raises(Unavailable, match="no broker is configured anywhere"):
            app.reconciliation_requests.reconcile_anywhere("ALERT", timeout=30)
        assert app.store.head_sequence() == 0


def test_a_request_nobody_answers_in_time_is_unavailable(app):
    app.reconciliation.broker, app.reconciliation_requests.broker_presence = None, Presence(True)
    with pytest.raises(Unavailable, match="recorded no reconciliation within 0.2 s"):
        app.reconciliation_requests.reconcile_anywhere("ALERT", timeout=0.2)
    [request] = [app.store.mapper.to_domain_event(n) for n in read_log(app.store.recorder, ())]
    assert isinstance(request, ReconciliationRequest.Requested)


def test_with_the_broker_here_it_runs_here(app, broker):
    broker.book = {("default", "ACME"): Decimal(3)}
    result = app.reconciliation_requests.reconcile_anywhere("ALERT", timeout=0.2)
    assert [m.broker_quantity for m in result.reconciliation.mismatches] == [Decimal(3)]


def test_the_runner_answers_a_request_once_and_skips_an_expired_one(app, broker, clock):
    broker.book = {("default", "ACME"): Decimal(3)}
    runner = ReconciliationRequests(app)
    live = ReconciliationRequest(policy="AUTO_CORRECT", deadline=clock() + timedelta(seconds=5))
    late = ReconciliationRequest(policy="ALERT", deadline=clock() + timedelta(seconds=1))
    app.store.commit(live, late)
    clock.advance(2)
    start = runner.recover()
    for _ in range(2):  # followed twice (a restart): still one run
        for notification in read_log(app.store.recorder, runner.topics, start):
            runner.handle(notification)
    run = app.store.repository.get(requested_reconciliation_id(live.id))
    assert isinstance(run, Reconciliation) and run.completed and run.corrected
    assert app.orders.position("default", "ACME").quantity == Decimal(3)
    assert app.store.find(Reconciliation, requested_reconciliation_id(late.id)) is None
    runs = [
        n for n in read_log(app.store.recorder, ()) if n.topic.endswith("Reconciliation.Started")
    ]
    assert len(runs) == 1
