"""With PostgreSQL, events written by another process reach a subscriber."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import pytest
from gql import Client, gql
from gql.transport.websockets import WebsocketsTransport

from tests.e2e.server import ROOT, environment, running_server

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

WRITER = """
from application.inputs import QuoteInput
from decimal import Decimal
from infrastructure.settings import load_settings
from interfaces.composition import build_system
system = build_system(load_settings())
for i in range(5):
    system.commands.quotes.ingest_quotes([QuoteInput(instrument="XPROC", last=Decimal(i + 1))])
system.close()
"""


def test_events_written_by_another_process_reach_a_subscriber(postgres_url: str, tmp_path) -> None:
    with running_server(tmp_path, db=postgres_url) as server:
        start = server.head()

        async def run() -> list[int]:
            transport = WebsocketsTransport(url=server.ws, subprotocols=["graphql-transport-ws"])
            seen: list[int] = []
            async with Client(transport=transport) as session:
                request = gql(
                    'subscription($a: Int) { events(after: $a, types: ["QuotesIngested"]) '
                    "{ sequence } }"
                )
                request.variable_values = {"a": start}
                stream = session.subscribe(request)
                first = asyncio.ensure_future(stream.__anext__())
                await asyncio.sleep(0.5)
                await asyncio.to_thread(
                    subprocess.run,
                    [sys.executable, "-c", WRITER],
                    cwd=ROOT,
                    env=environment(database_url=postgres_url),
                    check=True,
                    timeout=60,
                )
                seen.append((await first)["events"]["sequence"])
                while len(seen) < 5:
                    seen.append((await stream.__anext__())["events"]["sequence"])
                await stream.aclose()
            return seen

        seen = asyncio.run(asyncio.wait_for(run(), 90))
        assert len(seen) == 5 and seen == sorted(seen) and seen[0] > start
