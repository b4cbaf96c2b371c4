"""A PostgreSQL restart under load (a private cluster, never the shared server): a server
and a worker keep going; during the outage requests fail with UNAVAILABLE, never a 500
or an internal error; the `events` subscriber, resuming with `after` when the server
ends its subscription, sees a gap-free, duplicate-free sequence; and every mutation
that was acknowledged is in the log."""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from uuid import uuid4

import httpx
import pytest

from tests.e2e.event_stream import EventStream, lost_and_duplicated, stored_sequences
from tests.e2e.private_postgres import PrivateCluster, private_postgres  # noqa: F401 - fixture
from tests.e2e.server import Server, running_server
from tests.e2e.test_multiserver_postgres import start_worker

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

QUOTE = "mutation($q: [QuoteInput!]!) { ingestQuotes(quotes: $q) { sequence } }"
READ = '{ quotes(instruments: ["RST"]) { last } }'


@dataclass
class Load:
    """Mutations sent one after another until stopped, and what came back."""

    server: Server
    acknowledged: list[int] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)
    answered_reads: int = 0
    stop: threading.Event = field(default_factory=threading.Event)

    def write(self) -> None:
        with httpx.Client(base_url=self.server.http, timeout=60) as client:
            i = 0
            while not self.stop.is_set():
                i += 1
                variables = {"q": [{"instrument": "RST", "last": str(i)}]}
                wrote = self._send(client, "ingestQuotes", QUOTE, variables)
                if wrote is not None:
                    self.acknowledged.append(wrote["ingestQuotes"]["sequence"])
                time.sleep(0.01)

    def read(self) -> None:
        with httpx.Client(base_url=self.server.http, timeout=60) as client:
            while not self.stop.is_set():
                if self._send(client, "quotes", READ, {}) is not None:
                    self.answered_reads += 1
                time.sleep(0.05)

    def _send(
        self, client: httpx.Client, name: str, query: str, variables: dict[str, Any]
    ) -> dict[str, Any] | None:
        """The data, or None with the refusal recorded as `name: CODE` (or HTTP status)."""
        try:
            response = client.post("/graphql", json={"query": query, "variables": variables})
        except httpx.HTTPError as error:
            self.refusals.append(f"{name}: transport {type(error).__name__}")
            return None
        if response.status_code != 200:
            self.refusals.append(f"{name}: HTTP {response.status_code}")
            return None
        body = response.json()
        if "errors" in body:
            self.refusals += [f"{name}: {e['extensions']['code']}" for e in body["errors"]]
            return None
        return body["data"]

    def wait_for_acks(self, count: int, timeout: float = 30) -> None:
        target = len(self.acknowledged) + count
        deadline = time.monotonic() + timeout
        while len(self.acknowledged) < target:
            assert time.monotonic() < deadline, f"no progress: {self.refusals[-5:]}"
            time.sleep(0.05)


@dataclass
class Outcome:
    load: Load
    stream: EventStream
    stored: list[int]
    head: int
    reached: int


@pytest.fixture(scope="module")
def restarted(private_postgres: PrivateCluster, tmp_path_factory) -> Outcome:  # noqa: F811
    """One run: a server and a worker under load while the cluster restarts."""
    url = private_postgres.url
    with running_server(tmp_path_factory.mktemp("restart"), db=url) as server:
        worker = start_worker(url)
        try:
            start = server.head()
            stream = EventStream(server.ws, start)
            load = Load(server)
            scenario = restart_under_load(private_postgres, stream, load)
            reached = asyncio.run(asyncio.wait_for(scenario, 120))
        finally:
            worker.kill()
            worker.wait(timeout=10)
        head = server.head()
    outcome = Outcome(load, stream, stored_sequences(url, start), head, reached)
    lost, duplicates = lost_and_duplicated(stream.sequences, outcome.stored)
    print(f"CRASH-COUNTS postgres-restart: faults=1 lost={lost} duplicates={duplicates} "
          f"lost-acknowledged={len(set(load.acknowledged) - set(outcome.stored))} "
          f"acknowledged={len(load.acknowledged)} reads={load.answered_reads} "
          f"refused={len(load.refusals)} resumes={stream.resumes} "
          f"events={len(outcome.stored)}")  # fmt: skip
    return outcome


def test_a_restart_under_load_loses_no_acknowledged_write_and_no_event(restarted: Outcome):
    load, stream = restarted.load, restarted.stream
    assert not [r for r in load.refusals if "HTTP" in r or "transport" in r], load.refusals
    assert set(load.acknowledged) <= set(restarted.stored)
    assert restarted.reached == restarted.head
    assert lost_and_duplicated(stream.sequences, restarted.stored) == (0, 0)
    assert stream.sequences == restarted.stored


def test_requests_refused_during_the_outage_say_unavailable(restarted: Outcome):
    refusals = restarted.load.refusals
    assert refusals, "the outage refused nothing: it did not test the error path"
    assert {r.split(": ")[1] for r in refusals} == {"UNAVAILABLE"}, refusals


async def restart_under_load(cluster: PrivateCluster, stream: EventStream, load: Load) -> int:
    """Load, restart the cluster, load again; the head the subscriber reached."""
    subscriber = asyncio.ensure_future(stream.run())
    threads = [threading.Thread(target=load.write), threading.Thread(target=load.read)]
    for thread in threads:
        thread.start()
    try:
        await asyncio.to_thread(load.wait_for_acks, 20)
        await asyncio.to_thread(cluster.stop, "fast")
        await asyncio.sleep(4)
        await asyncio.to_thread(cluster.start)
        await asyncio.to_thread(load.wait_for_acks, 20)
    finally:
        load.stop.set()
        for thread in threads:
            await asyncio.to_thread(thread.join)
    head = await asyncio.to_thread(load.server.head)
    reached = await stream.reach(head, 30)
    subscriber.cancel()
    assert reached, (stream.last, head, stream.errors)
    return head


@pytest.mark.postgres
def test_an_insert_retried_after_its_commit_answers_with_the_stored_sequences(postgres_url):
    """What the library's retry meets when a restart broke the connection after the
    commit: the same events again get their sequences; other events a conflict."""
    from dataclasses import replace

    from eventsourcing.persistence import IntegrityError, StoredEvent

    from infrastructure.settings import load_settings
    from interfaces.composition import build_system
    from tests.integration.conftest import fresh_postgres_database

    with fresh_postgres_database(postgres_url) as url:
        system = build_system(load_settings(database_url=url))
        try:
            recorder = system.app.recorder
            events = [StoredEvent(uuid4(), 1, "t", b"one"), StoredEvent(uuid4(), 1, "t", b"two")]
            first = recorder.insert_events(events)
            assert recorder.insert_events(events) == first
            with pytest.raises(IntegrityError):
                recorder.insert_events([replace(events[0], state=b"other")])
            assert recorder.max_notification_id() == max(first)
        finally:
            system.close()
