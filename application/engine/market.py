"""What the engine gives the commands where it runs: latest prices and the known
positions (chosen by the composition root before the commands are built)."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from decimal import Decimal

from application.engine import topics
from application.engine.log import read_log
from application.ports import PositionKey
from application.store import Store
from domain.quotes import Quote


class LastPrices:
    """`MarketPrices` from the quotes the engine has ingested."""

    def __init__(self) -> None:
        self._prices: dict[str, Decimal] = {}
        self._lock = threading.Lock()

    def update(self, quotes: Iterable[Quote]) -> None:
        with self._lock:
            for quote in quotes:
                self._prices[quote.instrument] = quote.last

    def last_price(self, instrument: str) -> Decimal | None:
        with self._lock:
            return self._prices.get(instrument)


class LogPositionDirectory:
    """`PositionDirectory` from the log's PositionOpened events, read incrementally, so
    reconciliation also sees positions the broker no longer holds."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._keys: set[PositionKey] = set()
        self._position = 0
        self._lock = threading.Lock()

    def keys(self) -> list[PositionKey]:
        with self._lock:
            for notification in read_log(
                self.store.recorder, (topics.POSITION_OPENED,), self._position
            ):
                event = topics.decode(self.store, notification)
                self._keys.add((event.account, event.instrument))
                self._position = notification.id
            return sorted(self._keys)
