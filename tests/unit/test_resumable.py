"""`Sent` (interfaces/api/resumable.py): what a resumed subscription does not send again."""

from __future__ import annotations

from interfaces.api.resumable import Sent


def test_a_state_goes_out_once_and_nothing_at_or_before_after() -> None:
    sent = Sent(after=10)
    assert not sent.fresh("a", 10) and not sent.fresh("a", 3)
    assert sent.fresh("a", 11)
    assert not sent.fresh("a", 11)  # the same state again (catch-up and live both saw it)
    assert not sent.fresh("a", 11 - 1)  # an older state after a newer one
    assert sent.fresh("b", 11) and sent.fresh("a", 12)


def test_without_after_every_new_state_goes_out() -> None:
    sent = Sent(after=None)
    assert sent.fresh("a", 0) and sent.fresh("b", 0) and not sent.fresh("a", 0)


def test_memory_is_bounded_and_repeats_near_the_head_still_go_out_once() -> None:
    sent = Sent(after=0, limit=100)
    for sequence in range(1, 1_001):
        assert sent.fresh(f"trade-{sequence}", sequence)
    assert len(sent.sent) <= 100
    assert not any(sent.fresh(f"trade-{sequence}", sequence) for sequence in range(1, 1_001))
    assert sent.fresh("trade-1001", 1_001)
