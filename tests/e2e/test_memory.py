"""Holding subscriptions open over thousands of events keeps the server's memory flat.

graphql-core 3.3 (3.3.0 included, measured) keeps ~1.2 KB per event per open
subscription alive until the subscription ends: its per-event executors share one
memo keyed by per-event ids (SPEC section 10). `ExecutionContext`
(interfaces/api/execution.py) gives each event its own; this test fails without it
(measured 1 179 B retained per event per subscription, against 62 B with it).
The subscriptions differ (an alias each), so each runs its own execution.
"""

from __future__ import annotations

import asyncio
import json
import threading

import pytest
import websockets
from websockets.typing import Subprotocol

from tests.e2e.server import Server, running_server

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
]

SUBSCRIPTIONS = 20
ROUNDS = 3
EVENTS_PER_ROUND = 600
BATCH = "mutation($q: [QuoteInput!]!) { ingestQuotes(quotes: $q) { sequence } }"


def write(server: Server, count: int) -> None:
    # One event per request would take long; several writers, one quote per event.
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for i in range(n):
                server.data(BATCH, {"q": [{"instrument": "MEM", "last": str(i + 1)}]})
        except BaseException as error:  # a writer that stops writes fewer events: say why
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(count // 4,)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, f"writes failed: {errors[:3]}"


def test_open_subscriptions_keep_server_memory_flat(tmp_path) -> None:
    with running_server(tmp_path) as server:
        head = server.head()

        async def run() -> list[int]:
            async with websockets.connect(
                server.ws,
                subprotocols=[Subprotocol("graphql-transport-ws")],
                max_size=None,
            ) as socket:
                await socket.send(json.dumps({"type": "connection_init"}))
                await socket.recv()
                for k in range(SUBSCRIPTIONS):
                    await socket.send(
                        json.dumps(
                            {
                                "id": str(k),
                                "type": "subscribe",
                                "payload": {
                                    # Distinct documents (an alias each): one execution
                                    # per subscription, as with different filters. From
                                    # the head read before subscribing, so a
                                    # subscription the server starts after the first
                                    # write still gets every event.
                                    "query": f"subscription {{ events(after: {head}) "
                                    f"{{ s{k}: sequence type aggregateId timestamp data }} }}"
                                },
                            }
                        )
                    )
                received = 0
                last: list[str | bytes] = []

                async def drain() -> None:
                    nonlocal received
                    async for message in socket:
                        received += 1
                        if b'"next"' not in (
                            message if isinstance(message, bytes) else message.encode()
                        ):
                            last.append(message)  # errors, completes: shown on a failure

                reader = asyncio.create_task(drain())
                samples: list[int] = []
                for _ in range(ROUNDS):
                    await asyncio.to_thread(write, server, EVENTS_PER_ROUND)
                    expected = SUBSCRIPTIONS * EVENTS_PER_ROUND * (len(samples) + 1)
                    deadline = asyncio.get_running_loop().time() + 60
                    while received < expected:
                        assert asyncio.get_running_loop().time() < deadline, (
                            f"{received} of {expected} messages; last: {last[-3:]}"
                        )
                        await asyncio.sleep(0.1)
                    samples.append(server.rss_kib())
                reader.cancel()
                return samples

        samples = asyncio.run(asyncio.wait_for(run(), 240))
        growth_kib = samples[-1] - samples[0]
        retained_per_event = growth_kib * 1024 / (SUBSCRIPTIONS * EVENTS_PER_ROUND * (ROUNDS - 1))
        # The leak is ~1 200 bytes per event per subscription; allow noise well below it.
        print(f"RSS {samples} KiB; {retained_per_event:.0f} B retained per event per subscription")
        assert retained_per_event < 300, (samples, retained_per_event)
