"""EventHub takes the projections' reads of the log instead of reading it again."""

from __future__ import annotations

import asyncio
import threading
from types import SimpleNamespace
from typing import Any

from infrastructure.fanout import EventHub


class Recorder:
    def __init__(self, head: int) -> None:
        self.head = head
        self.subscribed = False

    def max_notification_id(self) -> int:
        return self.head

    def select_notifications(self, *args: Any, **kwargs: Any) -> list[Any]:
        return []

    def subscribe(self, *args: Any, **kwargs: Any) -> Any:
        self.subscribed = True
        raise AssertionError("with a follower, the hub must not read the log itself")


def test_with_the_projections_follower_the_hub_reads_nothing_itself() -> None:
    async def run() -> list[int]:
        recorder = Recorder(head=5)
        follower = SimpleNamespace(listeners=[])
        hub = EventHub(recorder, decode=lambda n: n.id)
        hub.start(follower)
        assert follower.listeners and not recorder.subscribed
        seen: list[int] = []

        async def take() -> None:
            async for entry in hub.follow(5):
                seen.append(entry.value)
                if entry.sequence == 7:
                    return

        task = asyncio.create_task(take())
        await asyncio.sleep(0.05)
        window = SimpleNamespace(notifications=[SimpleNamespace(id=i) for i in (4, 5, 6, 7)])
        for listener in follower.listeners:
            listener(window)  # 4 and 5 are at or below the head the hub started from
        await asyncio.wait_for(task, 5)
        hub.stop()
        assert follower.listeners == []
        return seen

    assert asyncio.run(run()) == [6, 7]


def test_live_events_are_decoded_on_the_followers_thread_not_the_loop() -> None:
    """The loop serves every request: a large event's decoding must not run on it."""
    decoded_on: list[str] = []

    def decode(notification: Any) -> int:
        decoded_on.append(threading.current_thread().name)
        return int(notification.id)

    async def run() -> list[int]:
        follower = SimpleNamespace(listeners=[])
        hub = EventHub(Recorder(head=0), decode=decode)
        hub.start(follower)
        seen: list[int] = []

        async def take() -> None:
            async for entry in hub.follow(0):
                seen.append(entry.value)
                if entry.sequence == 2:
                    return

        task = asyncio.create_task(take())
        await asyncio.sleep(0.05)
        window = SimpleNamespace(notifications=[SimpleNamespace(id=i) for i in (1, 2)])

        def follow() -> None:
            for listener in follower.listeners:
                listener(window)

        thread = threading.Thread(target=follow, name="projections-follow")
        thread.start()
        await asyncio.wait_for(task, 5)
        thread.join()
        hub.stop()
        return seen

    assert asyncio.run(run()) == [1, 2]
    assert decoded_on == ["projections-follow", "projections-follow"]


class GrowingLog:
    """A log that grows while the hub follows it (nothing wakes a reader: it polls)."""

    def __init__(self, head: int) -> None:
        self.items = [SimpleNamespace(id=i) for i in range(1, head + 1)]

    def max_notification_id(self) -> int:
        return self.items[-1].id if self.items else 0

    def select_notifications(
        self,
        start: int | None,
        limit: int,
        stop: int | None = None,
        topics: Any = (),
        *,
        inclusive_of_start: bool = True,
    ) -> list[Any]:
        first = start or 1
        low = first if inclusive_of_start else first + 1
        found = [n for n in self.items if n.id >= low and (stop is None or n.id <= stop)]
        return found[:limit]


def test_without_the_projections_the_hub_runs_a_log_tail_of_its_own() -> None:
    async def run() -> list[int]:
        log = GrowingLog(head=2)
        hub = EventHub(log, decode=lambda n: n.id)
        hub.start()
        seen: list[int] = []

        async def take() -> None:
            async for entry in hub.follow(2):
                seen.append(entry.value)
                if entry.sequence == 4:
                    return

        task = asyncio.create_task(take())
        await asyncio.sleep(0.05)
        log.items += [SimpleNamespace(id=3), SimpleNamespace(id=4)]
        await asyncio.wait_for(task, 5)
        await asyncio.to_thread(hub.stop)
        return seen

    assert asyncio.run(run()) == [3, 4]
