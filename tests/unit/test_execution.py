"""The plain-selection fast path (interfaces/api/execution.py) answers exactly as
graphql-core does: same data, same errors, on a schema built to exercise it."""

from __future__ import annotations

import asyncio
import enum
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import strawberry

from interfaces.api.execution import ExecutionContext, remember_completions
from interfaces.api.scalars import SCALAR_OVERRIDES


@strawberry.enum
class Status(enum.Enum):
    OPEN = "OPEN"
    CLOSED = "CLOSED"


@strawberry.type
class Leg:
    venue: str
    price: Decimal | None


@strawberry.type
class Row:
    id: strawberry.ID
    name: str
    quantity: Decimal
    price: Decimal | None
    status: Status
    at: datetime
    count: int
    legs: list[Leg]
    must: str  # set to None on purpose in one row: a non-null violation

    @strawberry.field
    def doubled(self) -> Decimal:
        return self.quantity * 2

    @strawberry.field
    def scaled(self, by: int = 1) -> Decimal:
        return self.quantity * by


def rows(broken: bool = False) -> list[Row]:
    out = [
        Row(
            id=strawberry.ID(f"r{i}"),
            name=f"n{i}",
            quantity=Decimal(i) / 4,
            price=None if i % 3 == 0 else Decimal("10.50") + i,
            status=Status.OPEN if i % 2 else Status.CLOSED,
            at=datetime(2026, 1, 1, 12, i, tzinfo=UTC),
            count=i,
            legs=[Leg(venue=f"v{i}", price=None), Leg(venue="x", price=Decimal(i))],
            must="ok",
        )
        for i in range(7)
    ]
    if broken:
        out[4].must = None  # type: ignore[assignment]
    return out


#: The same row objects on every query, keeping their completed selections.
KEPT = {broken: [remember_completions(row) for row in rows(broken)] for broken in (False, True)}


@strawberry.type
class Query:
    @strawberry.field
    def rows(self, broken: bool = False) -> list[Row]:
        return rows(broken)

    @strawberry.field
    def kept(self, broken: bool = False) -> list[Row]:
        return KEPT[broken]

    @strawberry.field
    def maybe_rows(self) -> list[Row | None]:
        return [rows()[0], None, rows()[1]]

    @strawberry.field
    def one(self) -> Row:
        return rows()[2]


def schemas() -> tuple[strawberry.Schema, strawberry.Schema]:
    kwargs = {"query": Query, "scalar_overrides": SCALAR_OVERRIDES}
    return (
        strawberry.Schema(**kwargs),  # type: ignore[arg-type]
        strawberry.Schema(**kwargs, execution_context_class=ExecutionContext),  # type: ignore[arg-type]
    )


QUERIES = [
    "{ rows { id name quantity price status at count } }",
    "{ rows { __typename a: id b: id name } }",
    "{ rows { id legs { venue price } } }",
    "{ rows { id doubled scaled(by: 3) } }",
    "{ rows { ... on Row { id name } } }",
    "{ rows { id ...F } } fragment F on Row { quantity status }",
    "{ maybeRows { id price } }",
    "{ one { id name at } }",
    "{ rows(broken: true) { id must } }",
    "{ rows(broken: true) { id } }",
    "query($skip: Boolean!) { rows { id name @skip(if: $skip) } }",
]


@pytest.mark.parametrize("query", QUERIES)
def test_the_fast_path_answers_as_graphql_core_does(query: str) -> None:
    plain, fast = schemas()
    variables = {"skip": True}
    expected = asyncio.run(plain.execute(query, variable_values=variables))
    got = asyncio.run(fast.execute(query, variable_values=variables))
    assert got.data == expected.data
    assert [e.formatted for e in got.errors or ()] == [e.formatted for e in expected.errors or ()]


def test_the_fast_path_is_taken_for_a_plain_list() -> None:
    """Would fail if the fast path silently stopped applying (it sees no per-field work)."""
    calls = 0
    original = ExecutionContext.execute_field

    def counting(self, *args, **kwargs):
        nonlocal calls
        calls += 1
        return original(self, *args, **kwargs)

    ExecutionContext.execute_field = counting  # type: ignore[method-assign]
    try:
        _, fast = schemas()
        result = asyncio.run(fast.execute("{ rows { id name quantity status at } }"))
    finally:
        ExecutionContext.execute_field = original  # type: ignore[method-assign]
    assert result.errors is None and len(result.data["rows"]) == 7  # type: ignore[index]
    assert calls == 1  # the root field only; the 35 row fields took the fast path


@pytest.mark.parametrize("query", [q for q in QUERIES if "rows" in q])
def test_remembered_completions_answer_as_graphql_core_does(query: str) -> None:
    """Objects that keep their completed selections answer each query (each shape,
    alias, skipped field, error) as fresh objects do, also when asked again."""
    plain, fast = schemas()
    variables = {"skip": True}
    expected = asyncio.run(plain.execute(query, variable_values=variables))
    for _ in range(2):
        got = asyncio.run(fast.execute(query.replace("rows", "kept"), variable_values=variables))
        assert (got.data or {}).get("kept") == (expected.data or {}).get("rows")
        assert [e.message for e in got.errors or ()] == [e.message for e in expected.errors or ()]


def test_a_remembered_completion_is_reused_per_selection_shape() -> None:
    _, fast = schemas()

    def first_row(query: str) -> dict:
        return asyncio.run(fast.execute(query)).data["kept"][0]  # type: ignore[index]

    once = first_row("{ kept { id name } }")
    assert first_row("{ kept { id name } }") is once
    assert first_row("{ kept { name id } }") is not once  # another shape: its own
    assert first_row("{ kept { id n: name } }") == {"id": "r0", "n": "n0"}
