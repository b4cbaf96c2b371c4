import csv
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from infrastructure.feeds import SAMPLE_QUOTES
from infrastructure.feeds.csv_replay import CsvFormatError, batches_of, read_quotes
from infrastructure.feeds.simulator import RandomWalk, sample_rows

AT = datetime(2026, 1, 5, 14, 30, tzinfo=UTC)


def test_the_random_walk_is_reproducible_from_its_seed_and_decimal():
    first = [q for _ in range(50) for q in RandomWalk(["A", "B"], seed=3).step(AT)]
    again = [q for _ in range(50) for q in RandomWalk(["A", "B"], seed=3).step(AT)]
    assert first == again
    other = [q for q in RandomWalk(["A", "B"], seed=4).step(AT)]
    assert other != first[:2]
    assert all(isinstance(q.last, Decimal) and q.bid < q.last < q.ask for q in first)


def test_the_bundled_sample_is_what_the_simulator_makes():
    with SAMPLE_QUOTES.open(newline="") as handle:
        assert list(csv.reader(handle)) == sample_rows()
    quotes = list(read_quotes(SAMPLE_QUOTES))
    assert 150 <= len(quotes) <= 250
    assert {q.instrument for q in quotes} == {"AAPL", "MSFT", "BTC-USD"}


def test_quotes_with_one_timestamp_form_one_batch(tmp_path):
    path = tmp_path / "q.csv"
    path.write_text(
        "instrument,last,bid,ask,volume,timestamp\n"
        "A,1.5,,,,2026-01-05T14:30:00Z\n"
        "B,2,1.9,2.1,10,2026-01-05T14:30:00Z\n"
        "A,1.6,,,,2026-01-05T14:30:01\n"
    )
    batches = list(batches_of(read_quotes(path)))
    assert [len(b) for b in batches] == [2, 1]
    first = batches[0][0]
    assert first.last == Decimal("1.5") and first.bid is None and first.timestamp == AT
    assert batches[1][0].timestamp.tzinfo is not None


def test_bars_replay_as_open_extremes_close(tmp_path):
    path = tmp_path / "bars.csv"
    path.write_text(
        "instrument,timestamp,open,high,low,close,volume\n"
        "A,2026-01-05T14:30:00Z,10,12,9,11,100\n"
        "A,2026-01-05T14:31:00Z,11,11.5,8,9,50\n"
    )
    prices = [q.last for q in read_quotes(path)]
    assert prices == [Decimal(x) for x in ["10", "9", "12", "11", "11", "11.5", "8", "9"]]


def test_a_malformed_file_names_the_line(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("instrument,last,timestamp\nA,abc,2026-01-05T14:30:00Z\n")
    with pytest.raises(CsvFormatError, match="bad.csv:2"):
        list(read_quotes(path))
