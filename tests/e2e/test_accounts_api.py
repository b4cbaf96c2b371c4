"""Accounts over GraphQL against a real server with instrument specs: `account`,
`accounts`, `pnlHistory`, `accountUpdates` (catch-up by `after`, then live, resumed
without loss), and an off-increment fill refused with nothing appended."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from gql import Client, gql
from gql.transport.websockets import WebsocketsTransport

from tests.e2e.server import Server, running_server

pytestmark = pytest.mark.e2e

SPECS = {"ACC*": {"currency": "USD", "price_increment": "0.01"}}
TOTALS = """id asOf totals { currency realizedPnl unrealizedPnl totalPnl commissionPaid todayPnl
    grossExposure netExposure openPositions asOf }"""
ORDER = """mutation($c: String!, $s: Side!, $q: Decimal!) { placeOrder(input: {clientOrderId: $c,
    account: "e2e", instrument: "ACC1", side: $s, quantity: $q}) { order { id } } }"""
FILL = """mutation($o: ID!, $f: String!, $q: Decimal!, $p: Decimal!, $c: Decimal) {
    recordFill(input: {orderId: $o, fillId: $f, quantity: $q, price: $p, commission: $c})
    { sequence } }"""
QUOTE = "mutation($q: [QuoteInput!]!) { ingestQuotes(quotes: $q) { sequence } }"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_server(
        tmp_path_factory.mktemp("accounts"), instruments=json.dumps(SPECS)
    ) as started:
        yield started


def trade(server: Server, tag: str, side: str, quantity: str, price: str, commission: str) -> int:
    order = server.data(ORDER, {"c": tag, "s": side, "q": quantity})["placeOrder"]["order"]["id"]
    variables = {"o": order, "f": tag, "q": quantity, "p": price, "c": commission}
    return int(server.data(FILL, variables)["recordFill"]["sequence"])


def quote(server: Server, last: str) -> int:
    return int(
        server.data(QUOTE, {"q": [{"instrument": "ACC1", "last": last}]})["ingestQuotes"][
            "sequence"
        ]
    )


async def updates(
    server: Server, after: int, until: int, seen: list[dict[str, Any]] | None = None
) -> list[dict[str, Any]]:
    """accountUpdates of "e2e" from `after` until one reflects sequence `until`."""
    transport = WebsocketsTransport(url=server.ws, subprotocols=["graphql-transport-ws"])
    seen = [] if seen is None else seen
    async with Client(transport=transport) as session:
        request = gql(
            f'subscription($a: Int) {{ accountUpdates(account: "e2e", after: $a) {{ {TOTALS} }} }}'
        )
        request.variable_values = {"a": after}
        async for result in session.subscribe(request):
            seen.append(result["accountUpdates"])
            if seen[-1]["asOf"] >= until:
                break
    return seen


def account(server: Server, sequence: int) -> dict[str, Any]:
    query = f'query($m: Int) {{ account(id: "e2e", minSequence: $m) {{ {TOTALS} }} }}'
    return server.data(query, {"m": sequence})["account"]


def test_account_query_subscription_and_resume_agree(server: Server) -> None:
    first = trade(server, "a1", "BUY", "3", "10.01", "0.333")
    shown = account(server, first)
    usd = shown["totals"][0]
    assert (usd["currency"], usd["realizedPnl"], usd["commissionPaid"]) == ("USD", "-0.33", "0.33")
    assert usd["openPositions"] == 1 and usd["grossExposure"] == "30.03"

    pushed: list[dict[str, Any]] = []

    async def live() -> dict[str, Any]:
        listening = asyncio.ensure_future(updates(server, shown["asOf"], 10**9, pushed))
        await asyncio.sleep(0.5)
        marked = await asyncio.to_thread(quote, server, "10.50")
        # A row subscription sends the row as it is when it is read (SPEC 6), so a
        # state the next change overwrites may be skipped: trade only once the
        # mark has been pushed, or a late-connecting subscriber would never see it.
        while not pushed or pushed[-1]["asOf"] < marked:
            await asyncio.sleep(0.05)
        last = await asyncio.to_thread(trade, server, "a2", "SELL", "3", "10.99", "0.125")
        final = await asyncio.to_thread(account, server, last)
        while not pushed or pushed[-1]["asOf"] < final["asOf"]:
            await asyncio.sleep(0.05)
        listening.cancel()
        return final

    final = asyncio.run(asyncio.wait_for(live(), 30))
    assert pushed[-1] == final
    assert [p["asOf"] for p in pushed] == sorted({p["asOf"] for p in pushed})  # none twice
    assert any(p["totals"][0]["unrealizedPnl"] == "1.47" for p in pushed)  # marked at 10.50
    assert final["totals"][0]["realizedPnl"] == "2.49"  # 0.98 x 3 - 0.33 - 0.12 (0.125 to even)
    assert final["totals"][0]["openPositions"] == 0 and final["totals"][0]["unrealizedPnl"] == "0"

    # Resuming from the first query's asOf brings the account as it is now, once.
    resumed = asyncio.run(asyncio.wait_for(updates(server, shown["asOf"], final["asOf"]), 30))
    assert resumed == [final]

    # Resuming from the latest asOf sends nothing old, then the next change live.
    async def after_latest() -> list[dict[str, Any]]:
        listening = asyncio.ensure_future(updates(server, final["asOf"], final["asOf"] + 1))
        await asyncio.sleep(0.5)
        await asyncio.to_thread(trade, server, "a3", "BUY", "1", "11", "0")
        return await listening

    pushed = asyncio.run(asyncio.wait_for(after_latest(), 30))
    assert len(pushed) == 1 and pushed[0]["totals"][0]["openPositions"] == 1
    assert pushed[0] == account(server, pushed[0]["asOf"])


def test_pnl_history_bars_end_at_the_accounts_total(server: Server) -> None:
    sequence = trade(server, "h1", "BUY", "2", "20.00", "1")
    quote(server, "20.37")
    total = account(server, sequence + 1)["totals"][0]["totalPnl"]
    now = datetime.now(UTC)
    query = """query($f: DateTime!, $t: DateTime!, $i: PnlInterval!) { pnlHistory(account: "e2e",
        from: $f, to: $t, interval: $i) { currency start open high low close asOf } }"""
    window = {
        "f": (now - timedelta(hours=2)).isoformat(),
        "t": (now + timedelta(hours=1)).isoformat(),
    }
    minutes = server.data(query, {**window, "i": "ONE_MINUTE"})["pnlHistory"]
    hours = server.data(query, {**window, "i": "ONE_HOUR"})["pnlHistory"]
    assert minutes and minutes[-1]["close"] == total and minutes[-1]["currency"] == "USD"
    assert hours[-1]["close"] == total and len(hours) <= 3
    assert all(b["start"].endswith(("00:00+00:00", "00:00Z")) for b in hours)


def test_an_off_increment_fill_is_refused_and_appends_nothing(server: Server) -> None:
    order = server.data(ORDER, {"c": "bad", "s": "BUY", "q": "1"})["placeOrder"]["order"]["id"]
    head = server.head()
    body = server.post(FILL, {"o": order, "f": "bad", "q": "1", "p": "10.005", "c": "0"})
    error = body["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "0.01" in error["message"] and "price" in error["message"]
    assert server.head() == head
