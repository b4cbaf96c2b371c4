"""P&L bars and sessions (SPEC section 13): a bar opens at the total it starts from;
longer intervals combine 1-minute bars; a session starts at the configured UTC time."""

from datetime import UTC, datetime, time
from decimal import Decimal as D

from application.projections.valuation import minute_of, moved_bar
from domain.valuation import session_start, value
from infrastructure.readmodels.account_queries import combined

T0 = datetime(2026, 11, 27, 9, 58, 41, 123, tzinfo=UTC)


def test_a_bar_opens_at_the_previous_total_and_tracks_high_low_close():
    key = ("a", "USD", minute_of(T0))
    bar = moved_bar(None, key, D("1.5"), D("2"), 7)
    bar = moved_bar(bar, key, D("2"), D("-0.25"), 8)
    bar = moved_bar(bar, key, D("-0.25"), D("1"), 9)
    assert bar["start"] == datetime(2026, 11, 27, 9, 58, tzinfo=UTC)
    assert (bar["open"], bar["high"], bar["low"], bar["close"], bar["as_of"]) == (
        D("1.5"),
        D(2),
        D("-0.25"),
        D(1),
        9,
    )


def minute(m: int, open_: str, high: str, low: str, close: str) -> dict:
    start = datetime(2026, 11, 27, 9, m, tzinfo=UTC)
    return {"account": "a", "currency": "USD", "start": start, "open": D(open_),
            "high": D(high), "low": D(low), "close": D(close), "as_of": m}  # fmt: skip


def test_longer_intervals_take_first_open_highest_high_lowest_low_last_close():
    bars = [
        minute(58, "0", "1", "-1", "0.5"),
        minute(59, "0.5", "3", "0.5", "2"),
        minute(0, "2", "2", "-4", "-3"),  # 10:00 starts the next 5-minute bar
    ]
    bars[2]["start"] = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
    five = combined(bars, 300)
    assert [(b["start"].minute, b["open"], b["high"], b["low"], b["close"]) for b in five] == [
        (55, D(0), D(3), D(-1), D(2)),
        (0, D(2), D(2), D(-4), D(-3)),
    ]
    hour = combined(bars, 3600)
    assert [(b["open"], b["close"], b["as_of"]) for b in hour] == [
        (D(0), D(2), 59),
        (D(2), D(-3), 0),
    ]


def test_the_session_starts_at_the_configured_utc_time_before_now():
    assert session_start(T0, time(0)) == datetime(2026, 11, 27, tzinfo=UTC)
    assert session_start(T0, time(13, 30)) == datetime(2026, 11, 26, 13, 30, tzinfo=UTC)
    assert session_start(T0, time(9, 58)) == datetime(2026, 11, 27, 9, 58, tzinfo=UTC)


def test_a_position_is_valued_at_its_mark_or_its_average_before_a_quote():
    assert value(D(-3), D("10.5"), D("10.25"), D(50), 2) == (D("37.5"), D("1537.5"), D("-1537.5"))
    assert value(D(2), D("10.5"), None, D(1), 2) == (D(0), D(21), D(21))
    assert value(D(0), None, D(9), D(1), 2) == (D(0), D(0), D(0))
