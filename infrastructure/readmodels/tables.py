"""The read-model tables: every projection's tables, twice (slots `a` and `b`).

Blue/green rebuild fills the inactive slot from the event log while queries
read the active one, then flips `rm_slots.active_slot` (see `control.py`).
Columns follow the GraphQL contract in snake_case; `as_of` on a row is the
sequence of the last event it reflects.

Which tables a read model has is declared once, by its projection
(`application.projections`, `Projection.tables`); the SQL of each table by its
`@slotted` builder (`trading.py`, `records.py`, `accounts.py`). Everything here
derives from those two: the projection names, each slot's tables, which read
models the change watcher can follow.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import Table

# The builders register themselves (`@slotted`) when their modules load.
from application.projections import ALL_PROJECTIONS
from infrastructure.readmodels import accounts as _accounts
from infrastructure.readmodels import records as _records
from infrastructure.readmodels import trading as _trading
from infrastructure.readmodels.metadata import TABLE_BUILDERS, metadata

__all__ = [
    "FOLLOWABLE",
    "PROJECTION_NAMES",
    "READ_MODELS",
    "SLOTS",
    "ProjectionTables",
    "metadata",
    "projection_tables",
]

_BUILDER_MODULES = (_trading, _records, _accounts)

SLOTS = ("a", "b")
#: Each read model's tables, parents first, as its projection declares them.
READ_MODELS: Mapping[str, tuple[str, ...]] = {p.name: p.tables for p in ALL_PROJECTIONS}
PROJECTION_NAMES: tuple[str, ...] = tuple(READ_MODELS)


def _check_declarations() -> None:
    declared = [table for tables in READ_MODELS.values() for table in tables]
    twice = {table for table in declared if declared.count(table) > 1}
    missing = set(declared) - set(TABLE_BUILDERS)
    unused = set(TABLE_BUILDERS) - set(declared)
    if twice or missing or unused:
        raise RuntimeError(
            "read-model tables and their builders disagree: "
            f"declared by two projections {sorted(twice)}, without a builder "
            f"{sorted(missing)}, built for no projection {sorted(unused)}"
        )


_check_declarations()


class ProjectionTables:
    """The tables of one slot, by table name: `tables.orders` or `tables.table("orders")`."""

    def __init__(self, slot: str) -> None:
        self.slot = slot
        self._tables: dict[str, Table] = {}
        for tables in READ_MODELS.values():
            for name in tables:
                table = TABLE_BUILDERS[name](slot)
                if table.name != f"rm_{name}_{slot}":
                    raise RuntimeError(f"table {name!r} is built as {table.name!r}")
                self._tables[name] = table

    def __getattr__(self, name: str) -> Table:
        tables: dict[str, Table] = self.__dict__.get(
            "_tables", {}
        )  # not self._tables: no recursion
        try:
            return tables[name]
        except KeyError:
            raise AttributeError(f"no read-model table {name!r}") from None

    def table(self, name: str) -> Table:
        return self._tables[name]

    def all(self) -> tuple[Table, ...]:
        """Every table of this slot, parents before children."""
        return tuple(self._tables.values())

    def of(self, projection: str) -> tuple[Table, ...]:
        """The tables one projection writes (`PROJECTION_NAMES`), parents first."""
        if projection not in READ_MODELS:
            raise ValueError(f"unknown projection {projection!r}; known: {PROJECTION_NAMES}")
        return tuple(self._tables[name] for name in READ_MODELS[projection])


# Tables are declared once, when the schema module loads; `projection_tables`
# hands out the same objects every time.
_BY_SLOT = {slot: ProjectionTables(slot) for slot in SLOTS}


def projection_tables(slot: str) -> ProjectionTables:
    """The tables of slot `a` or `b`."""
    try:
        return _BY_SLOT[slot]
    except KeyError:
        raise ValueError(f"unknown slot {slot!r}; slots are {SLOTS}") from None


def followable(projection: str) -> bool:
    """Whether the change watcher can follow `projection`'s rows across processes:
    each of its tables has `as_of` (infrastructure/projections/watch.py)."""
    return all("as_of" in table.c for table in projection_tables("a").of(projection))


#: The read models the change watcher follows; the API refuses to subscribe to others.
FOLLOWABLE: frozenset[str] = frozenset(name for name in READ_MODELS if followable(name))
