"""Pages of the event log bounded in bytes as well as in rows.

`limit` bounds how many events a page holds, not how big it is: a thousand
quote batches of about 1 MB each are a gigabyte. A page is read in chunks sized
by what its byte budget still allows (the average stored size so far tells how
many more rows fit), so what is read past the budget is about one row. Sizes are
the stored states' bytes, known before anything is decoded (or, for headers,
before any state is read: `infrastructure.log_headers`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

#: Rows read first, before their size is known: one, so ten concurrent readers of
#: 1 MB rows read ten rows, not forty, before the budget refuses them.
FIRST_CHUNK = 1


def stored_bytes(notification: Any) -> int:
    """The stored state's size; 0 for a notification that carries none."""
    return len(getattr(notification, "state", b""))


class ByteBudget:
    """Bytes still allowed; shared by the threads that read for one response."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0
        self._lock = threading.Lock()

    @property
    def remaining(self) -> int:
        return max(self.limit - self.used, 0)

    def take(self, size: int) -> bool:
        """Spend `size` bytes; False (nothing spent) when they do not fit."""
        with self._lock:
            if self.used + size > self.limit:
                return False
            self.used += size
            return True


class OverBudget(Exception):
    """The next row did not fit: `page` is what did, `refused` the row that did not
    (None when the budget was spent before it was read)."""

    def __init__(self, page: list[Any], refused: Any) -> None:
        super().__init__(f"{len(page)} rows fit in the byte budget")
        self.page = page
        self.refused = refused


def read_page(
    read: Callable[[int, int], Sequence[Any]],
    after: int,
    limit: int,
    budget: ByteBudget,
    size: Callable[[Any], int] = stored_bytes,
) -> list[Any]:
    """Up to `limit` rows after `after` (`read(after, n)` gives the next n), each
    paid for from `budget` by its `size`; raises OverBudget when the next row does
    not fit."""
    page: list[Any] = []
    spent = 0
    chunk = FIRST_CHUNK
    while len(page) < limit:
        if budget.remaining == 0:
            raise OverBudget(page, None)
        wanted = min(chunk, limit - len(page))
        rows = read(after, wanted)
        for row in rows:
            cost = size(row)
            if not budget.take(cost):
                raise OverBudget(page, row)
            page.append(row)
            spent += cost
        if len(rows) < wanted:
            break
        after = rows[-1].id
        average = max(spent // len(page), 1)
        chunk = max(1, min(chunk * 4, budget.remaining // average + 1))
    return page
