"""Resumable read-model subscriptions (`after: Int`): catch up from the rows, then go live.

One mechanism for every `...Updates` field (SPEC section 4):
1. Register for live changes first (`registered`), so nothing committed from then
   on is missed.
2. With `after`: have the change watcher publish every row past the tracking
   position read now (rows another process's runner commits; see
   infrastructure/projections/watch.py), then send every row whose `asOf` is past
   `after`, page by page in (`asOf`, key) order.
3. Then the live changes. `Sent` drops what is not new: a change at or before
   `after`, or at or before what was already sent for its key. A row seen by both
   the catch-up and the live buffer therefore goes out once, and a reconnect with
   the last `asOf` seen gets exactly what came after it.

Without `after`, only live changes, as before (and shareable, interfaces/api/sharing.py).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Hashable
from typing import Any

from interfaces.api.context import Api
from interfaces.api.errors import guarded
from interfaces.api.limits import check_after

Row = dict[str, Any]
#: Rows read per catch-up page.
PAGE = 500


class Sent:
    """The newest `asOf` sent per key, and the client's `after`: what is not news.

    Bounded: past `limit` keys (the trade log never repeats one), the older half is
    forgotten and anything at or before it counts as sent. Repeats come from near the
    head (the seam, a range published twice), never that far behind it."""

    def __init__(self, after: int | None, limit: int = 10_000) -> None:
        self.below = -1 if after is None else after
        self.limit = limit
        self.sent: dict[Hashable, int] = {}

    def fresh(self, key: Hashable, as_of: int) -> bool:
        """Whether a state at `as_of` of `key` is new to the client (then it counts as sent)."""
        if as_of <= self.below or as_of <= self.sent.get(key, -1):
            return False
        self.mark(key, as_of)
        return True

    def mark(self, key: Hashable, as_of: int) -> None:
        self.sent[key] = max(self.sent.get(key, -1), as_of)
        if len(self.sent) > self.limit:
            self.below = sorted(self.sent.values())[len(self.sent) // 2]
            self.sent = {k: v for k, v in self.sent.items() if v > self.below}


@contextlib.asynccontextmanager
async def registered(
    api: Api, projection: str, key: Callable[[Any], Hashable], accept: Callable[[Any], bool]
) -> AsyncIterator[AsyncIterator[Any]]:
    """The live changes of `projection`, with the buffer registered on entry."""
    live = api.live_changes(projection, key=key, accept=accept).__aiter__()
    first = asyncio.ensure_future(live.__anext__())
    await asyncio.sleep(0)  # the buffer is registered before anything is read
    try:
        yield guarded(_chain(first, live))
    finally:
        first.cancel()
        with contextlib.suppress(BaseException):
            await live.aclose()  # type: ignore[attr-defined]


async def watch_from_here(api: Api, projection: str) -> None:
    """Have the change watcher publish every row past where `projection` stands now."""
    if api.projections is None:
        return
    for name, slot, generation, position in await api.run(api.read.version, [projection]):
        api.projections.watch_from(name, (slot, generation), position or 0)


async def follow(
    api: Api,
    projection: str,
    table: str,
    *,
    key: Callable[[Row], Hashable],
    match: Callable[[Row], bool],
    after: int | None,
) -> AsyncGenerator[Row, None]:
    """Rows of `table` that `match`: with `after`, every one whose `as_of` is past it,
    then live changes; each state once."""
    check_after(after)
    sent = Sent(after)
    async with registered(
        api, projection, lambda c: key(c.row), lambda c: c.table == table and match(c.row)
    ) as live:
        if after is not None:
            await watch_from_here(api, projection)
            cursor: tuple[Any, ...] = (after,)
            while True:
                page = await api.run(api.read.rows_after, projection, table, cursor, PAGE)
                for row in page:
                    if match(row) and sent.fresh(key(row), row["as_of"]):
                        yield row
                if len(page) < PAGE:
                    break
                cursor = api.read.page_cursor(table, page[-1])
        async for change in live:
            if sent.fresh(key(change.row), change.row["as_of"]):
                yield change.row


async def _chain(first: Any, rest: Any) -> AsyncGenerator[Any, None]:
    yield await first
    async for item in rest:
        yield item
