"""Shared subscription executions (interfaces/api/sharing.py) with a fake source."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from graphql import GraphQLError
from strawberry.types.execution import ExecutionResult, PreExecutionError

from interfaces.api.sharing import ERROR, NEXT, Executions, plan


def test_plans_share_by_normalized_document_variables_and_name() -> None:
    a = plan("subscription { quotes { last } }", None, None)
    b = plan("subscription {\n quotes {\n  last\n }\n}", {}, None)
    assert a is not None and a.shared and a.key == b.key  # type: ignore[union-attr]
    c = plan("subscription($i: [String!]) { quotes(instruments: $i) { last } }", {"i": ["X"]}, None)
    d = plan("subscription($i: [String!]) { quotes(instruments: $i) { last } }", {"i": ["Y"]}, None)
    assert c.key != d.key  # type: ignore[union-attr]
    assert plan("subscription { events { sequence } }", None, None).shared  # type: ignore[union-attr]
    assert not plan("subscription { events(after: 3) { sequence } }", None, None).shared  # type: ignore[union-attr]
    assert not plan(
        "subscription($a: Int) { events(after: $a) { sequence } }", {"a": None}, None
    ).shared  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "field",
    ["positionUpdates", "signalUpdates", "orderUpdates", "monitorUpdates", "tradeUpdates",
     "accountUpdates"],
)  # fmt: skip
def test_read_model_updates_share_without_after_and_run_alone_with_it(field: str) -> None:
    """Their catch-up depends on the caller's `after`; live-only they are all alike."""
    assert plan(f"subscription {{ {field} {{ asOf }} }}", None, None).shared  # type: ignore[union-attr]
    resumed = plan(f"subscription($a: Int) {{ {field}(after: $a) {{ asOf }} }}", {"a": 7}, None)
    assert resumed is not None and not resumed.shared


@pytest.mark.parametrize(
    "query, name",
    [
        ("subscription { quotes { last", None),  # syntax error: strawberry answers it
        ("{ positions { instrument } }", None),  # not a subscription
        ("subscription A { quotes { last } } subscription B { quotes { last } }", None),
        ("subscription A { quotes { last } }", "Z"),  # unknown operation name
        ("subscription { ...F } fragment F on Subscription { quotes { last } }", None),
    ],
)
def test_what_cannot_be_planned_is_left_to_strawberry(query: str, name: str | None) -> None:
    assert plan(query, None, name) is None


class FakeSource:
    """A subscription source that yields what the test pushes, counting its runs."""

    def __init__(self) -> None:
        self.runs = 0
        self.closed = 0
        self.queue: asyncio.Queue[Any] = asyncio.Queue()

    async def __call__(self) -> AsyncIterator[Any]:
        self.runs += 1
        return self._results()

    async def _results(self) -> AsyncIterator[Any]:
        try:
            while True:
                item = await self.queue.get()
                if item is None:
                    return
                yield item
        finally:
            self.closed += 1


async def collect(stream: AsyncIterator[tuple[str, Any]], into: list[Any]) -> None:
    async for message in stream:
        into.append(message)


def test_identical_plans_run_once_and_every_member_gets_every_payload() -> None:
    async def run() -> None:
        executions = Executions(buffer_size=100)
        source = FakeSource()
        how = plan("subscription { quotes { last } }", None, None)
        assert how is not None
        received: list[list[Any]] = [[], [], []]
        tasks = [asyncio.create_task(collect(executions.run(how, source), r)) for r in received]
        await asyncio.sleep(0)
        assert executions.shared_count == 1
        for i in range(3):
            await source.queue.put(ExecutionResult(data={"quotes": {"last": str(i)}}, errors=None))
        await source.queue.put(None)
        await asyncio.gather(*tasks)
        assert source.runs == 1
        expected = [
            (NEXT, json.dumps({"data": {"quotes": {"last": str(i)}}}, separators=(",", ":")))
            for i in range(3)
        ]
        assert received == [expected] * 3
        assert executions.shared_count == 0

    asyncio.run(run())


def test_a_slow_member_is_dropped_alone_and_the_last_to_leave_stops_the_run() -> None:
    async def run() -> None:
        executions = Executions(buffer_size=2)
        source = FakeSource()
        how = plan("subscription { quotes { last } }", None, None)
        assert how is not None
        slow = executions.run(how, source)
        fast: list[Any] = []
        fast_task = asyncio.create_task(collect(executions.run(how, source), fast))
        first = await asyncio.wait_for(anext_after_start(slow, source), 5)
        assert first[0] == NEXT
        for i in range(5):  # the slow member holds 2; the third overflows it
            await source.queue.put(ExecutionResult(data={"n": i}, errors=None))
            await asyncio.sleep(0)
        rest = [message async for message in slow]
        last = json.loads(rest[-1][1])
        assert last["errors"][0]["extensions"]["code"] == "UNAVAILABLE"
        assert len(rest) == 3  # two queued, then the error
        await asyncio.sleep(0.01)
        assert [json.loads(p)["data"] for _, p in fast] == [{"n": -1}] + [
            {"n": i} for i in range(5)
        ]
        fast_task.cancel()
        await asyncio.gather(fast_task, return_exceptions=True)
        await asyncio.sleep(0.01)
        assert source.closed == 1 and executions.shared_count == 0

    async def anext_after_start(stream: AsyncIterator[Any], source: FakeSource) -> Any:
        await source.queue.put(ExecutionResult(data={"n": -1}, errors=None))
        return await anext(stream)

    asyncio.run(run())


def test_errors_before_execution_reach_every_member_and_are_not_shared_later() -> None:
    async def run() -> None:
        executions = Executions(buffer_size=10)
        source = FakeSource()
        how = plan("subscription { quotes { nope } }", None, None)
        assert how is not None
        received: list[list[Any]] = [[], []]
        tasks = [asyncio.create_task(collect(executions.run(how, source), r)) for r in received]
        await asyncio.sleep(0)
        await source.queue.put(PreExecutionError(data=None, errors=[GraphQLError("no field nope")]))
        await asyncio.gather(*tasks)
        for messages in received:
            assert messages == [(ERROR, [{"message": "no field nope"}])]
        assert executions.shared_count == 0

    asyncio.run(run())
