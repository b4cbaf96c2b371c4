"""Input rules (SPEC section 3): a breach is BAD_USER_INPUT naming the field."""

from datetime import datetime
from decimal import Decimal as D

import pytest

from application.inputs import FillInput, MonitorInput, OrderInput, QuoteInput, SignalInput
from domain.errors import BadInput


def field_of(make):
    with pytest.raises(BadInput) as caught:
        make()
    assert caught.value.code == "BAD_USER_INPUT"
    return caught.value.field


def order(**changes):
    base = dict(client_order_id="c1", instrument="ACME", side="BUY", quantity=D(1))
    return OrderInput(**{**base, **changes}).validated()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"instrument": ""}, "instrument"),
        ({"instrument": "A" * 33}, "instrument"),
        ({"instrument": "AC ME"}, "instrument"),
        ({"account": "bad account"}, "account"),
        ({"client_order_id": ""}, "clientOrderId"),
        ({"client_order_id": "x" * 65}, "clientOrderId"),
        ({"client_order_id": "tab\there"}, "clientOrderId"),
        ({"quantity": D(0)}, "quantity"),
        ({"quantity": D(-1)}, "quantity"),
        ({"quantity": D("NaN")}, "quantity"),
        ({"quantity": D("Infinity")}, "quantity"),
        ({"quantity": D("1" * 19)}, "quantity"),
        ({"quantity": D("0." + "1" * 19)}, "quantity"),
        ({"quantity": 1.5}, "quantity"),
        ({"type": "LIMIT"}, "limitPrice"),
        ({"limit_price": D(1)}, "limitPrice"),
        ({"side": "HOLD"}, "side"),
    ],
)
def test_order_input_breaches_name_the_field(changes, field):
    assert field_of(lambda: order(**changes)) == field


def test_eighteen_digits_each_side_are_accepted():
    assert order(quantity=D("1" * 18 + "." + "1" * 18)).quantity == D("1" * 18 + "." + "1" * 18)


def test_signal_strength_must_be_within_zero_and_one():
    make = lambda s: SignalInput("s", "ACME", "BUY", D(s)).validated()  # noqa: E731
    assert make("1").strength == D(1)
    assert field_of(lambda: make("1.01")) == "strength"
    assert field_of(lambda: make("-0.1")) == "strength"


def test_timestamps_must_carry_a_time_zone():
    naive = datetime(2026, 1, 1, 12, 0)
    assert field_of(lambda: QuoteInput("ACME", D(1), timestamp=naive).validated(0)) == (
        "quotes[0].timestamp"
    )
    assert (
        field_of(lambda: SignalInput("s", "ACME", "BUY", D(1), expires_at=naive).validated())
        == "expiresAt"
    )


def test_commission_may_be_zero_but_not_negative():
    fill = lambda c: FillInput(order_id=None, fill_id="f", quantity=D(1), price=D(1), commission=c)  # noqa: E731
    assert fill(D(0)).validated().commission == 0
    assert field_of(lambda: fill(D(-1)).validated()) == "commission"


def test_a_monitor_needs_at_least_one_level():
    assert field_of(lambda: MonitorInput(instrument="ACME").validated()) == "stopLoss"


def test_timestamps_that_overflow_in_utc_are_refused():
    from datetime import timedelta, timezone

    early = datetime(1, 1, 1, 0, 0, tzinfo=timezone(timedelta(hours=14)))
    assert field_of(lambda: QuoteInput("ACME", D(1), timestamp=early).validated(0)) == (
        "quotes[0].timestamp"
    )


@pytest.mark.parametrize("text", ["a\x00b", "lone \ud800 surrogate"])
def test_free_text_refuses_nul_and_lone_surrogates(text):
    from domain.values import check_text

    assert field_of(lambda: check_text(text, "reason")) == "reason"
    assert field_of(lambda: SignalInput("s", "ACME", "BUY", D(1), reason=text).validated()) == (
        "reason"
    )
    assert check_text("ordinary – ünïcode ✓", "reason") == "ordinary – ünïcode ✓"


@pytest.mark.parametrize("value", ["AAPL\n", "AAPL\r", "\nAAPL", "ＡＡＰＬ"])
def test_a_symbol_is_the_whole_value_without_a_trailing_newline(value):
    assert field_of(lambda: order(instrument=value)) == "instrument"
    assert field_of(lambda: order(account=value)) == "account"


@pytest.mark.parametrize("text", ["５", "٥", "1_000", " 5 ", "5\n", "1e3", "Infinity", "0x1", ""])
def test_decimal_text_must_be_plain_ascii(text):
    assert field_of(lambda: order(quantity=text)) == "quantity"


def test_plain_decimal_text_is_accepted():
    assert order(quantity="12.50").quantity == D("12.50")


@pytest.mark.parametrize(
    "text",
    [
        "12345678-1234-5678-1234-567812345678\n",
        "{12345678-1234-5678-1234-567812345678}",
        "12345678123456781234567812345678",
        "12345678-1234-5678-1234-56781234567_",
        "١2345678-1234-5678-1234-567812345678",
    ],
)
def test_ids_are_uuids_in_canonical_form_only(text):
    from domain.values import check_uuid

    with pytest.raises(BadInput):
        check_uuid(text, "id")
    assert str(check_uuid("12345678-1234-5678-1234-567812345678", "id")).startswith("1234")
