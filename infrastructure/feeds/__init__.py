"""Market-data feeds: the seeded random walk (`sim`) and CSV replay (`csv:PATH`).

`sample_quotes.csv` (package data) was made by this project's own simulator:
`RandomWalk(["AAPL", "MSFT", "BTC-USD"], seed=7)`, 67 ticks one second apart
from 2026-01-05T14:30:00Z — 201 quotes. Replay it with `--feed csv:sample`.
"""

from __future__ import annotations

from pathlib import Path

from application.engine.config import EngineConfig
from application.engine.feed import QuoteFeed
from infrastructure.feeds.csv_replay import CsvReplayFeed
from infrastructure.feeds.simulator import RandomWalk, SimulatedFeed

SAMPLE_QUOTES = Path(__file__).with_name("sample_quotes.csv")


def open_feed(config: EngineConfig) -> QuoteFeed | None:
    """The feed named by `engine_feed`: `sim`, `csv:PATH` (`csv:sample` for the
    bundled sample), or `none`."""
    spec = config.feed.strip()
    if spec in ("", "none"):
        return None
    if spec == "sim":
        walk = RandomWalk(config.instruments, config.seed, config.sim_volatility, config.sim_spread)
        return SimulatedFeed(walk, config.tick_interval)
    if spec.startswith("csv:"):
        name = spec.removeprefix("csv:")
        path = SAMPLE_QUOTES if name == "sample" else Path(name).expanduser()
        return CsvReplayFeed(path, config.feed_speed)
    raise ValueError(f"unknown feed {spec!r}: use sim, csv:PATH or none")
