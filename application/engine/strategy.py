"""The strategy port: quotes in, signal proposals out; and how strategies are found.

A strategy is named by `engine_strategy`:
- `ma_crossover` (built in), or any name registered in the `tradestate.strategies`
  entry-point group;
- `package.module:Class` — a dotted path;
- `none` — no strategy (the engine still runs broker, monitors, sweeper).

Whatever the name resolves to is called with one `StrategyConfig` and must
return an object with `name` and `on_quote(quote) -> list[SignalProposal]`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from importlib import import_module
from importlib.metadata import entry_points
from typing import Protocol, runtime_checkable

from domain.quotes import Quote
from domain.values import Side

ENTRY_POINT_GROUP = "tradestate.strategies"
NO_STRATEGY = "none"


@dataclass(frozen=True)
class SignalProposal:
    """What a strategy proposes; the signal handler decides whether it trades."""

    strategy: str
    instrument: str
    side: Side
    strength: Decimal
    at: datetime
    reason: str | None = None
    quantity: Decimal | None = None


@dataclass(frozen=True)
class StrategyConfig:
    instruments: tuple[str, ...] = ()
    fast_window: int = 3
    slow_window: int = 8
    options: Mapping[str, str] = field(default_factory=dict)


@runtime_checkable
class Strategy(Protocol):
    name: str

    def on_quote(self, quote: Quote) -> list[SignalProposal]:
        """Called for every ingested quote, in order; pure and quick (runs on the loop)."""
        ...


class StrategyNotFound(LookupError):
    pass


def _builtin() -> dict[str, Callable[[StrategyConfig], Strategy]]:
    from application.engine.crossover import MovingAverageCrossover

    return {"ma_crossover": MovingAverageCrossover}


def resolve_factory(spec: str) -> Callable[[StrategyConfig], Strategy]:
    """The callable named by `spec` (dotted path, entry point or built-in name)."""
    if ":" in spec:
        module_name, _, attribute = spec.partition(":")
        try:
            target: object = import_module(module_name)
            for part in attribute.split("."):
                target = getattr(target, part)
        except (ImportError, AttributeError) as error:
            raise StrategyNotFound(f"cannot load strategy {spec!r}: {error}") from error
        return target  # type: ignore[return-value]
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        if entry.name == spec:
            return entry.load()
    builtin = _builtin()
    if spec in builtin:
        return builtin[spec]
    known = sorted({*builtin, *(e.name for e in entry_points(group=ENTRY_POINT_GROUP))})
    raise StrategyNotFound(
        f"unknown strategy {spec!r}; use module:Class or one of {', '.join(known)}"
    )


def load_strategy(spec: str, config: StrategyConfig) -> Strategy | None:
    """Build the strategy named by `spec`; None for `none`."""
    if spec.strip().lower() in (NO_STRATEGY, ""):
        return None
    strategy = resolve_factory(spec.strip())(config)
    if not isinstance(strategy, Strategy):
        raise StrategyNotFound(f"{spec!r} did not build a Strategy (needs name and on_quote)")
    return strategy
