"""autoinvest/domain/money.py at its edges: what parse_decimal accepts and refuses, and which way quantize_down
rounds (down for a spend, toward zero for a negative value), within and beyond Decimal's context precision."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation, getcontext
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from autoinvest.domain.money import EUR_CENT, parse_decimal, quantize_down

D = Decimal


# ---------------------------------------------------------------- parse_decimal: what it accepts

def test_a_decimal_passes_through_as_it_is() -> None:
    value = D("1.50")
    assert parse_decimal(value) is value


@pytest.mark.parametrize(("text", "expected"), [
    ("1.50", "1.50"),  # trailing zeros kept: the precision the exchange sent
    ("0", "0"),
    ("-0", "-0"),
    ("-3.25", "-3.25"),
    ("+3", "3"),
    (" 12.5\n", "12.5"),  # surrounding whitespace is stripped
    ("007.10", "7.10"),
    ("1e3", "1E+3"),  # exponent notation is a number
    ("0.000000000000000000000000000001", "1E-30"),  # far below the context's 28 digits: still exact
    ("1234567890123456789012345678901234567890.5", "1234567890123456789012345678901234567890.5"),
])
def test_a_string_is_parsed_exactly_with_its_precision(text: str, expected: str) -> None:
    parsed = parse_decimal(text)
    assert parsed == D(expected)
    assert parsed.as_tuple() == D(expected).as_tuple()  # same digits, exponent and sign: nothing rounded


@pytest.mark.parametrize("number", [0, 1, -5, 10**30, -(10**40) + 1])
def test_an_int_is_parsed_exactly(number: int) -> None:
    assert parse_decimal(number) == D(number)
    assert parse_decimal(number).as_tuple().exponent == 0


@pytest.mark.parametrize(("text", "expected"), [("1_000", "1000"), ("1__000", "1000"), ("_1", "1"),
                                              ("\u0661\u0662\u0663", "123"), ("\uff11\uff12", "12")])
def test_decimal_s_own_grammar_decides_digit_separators_and_non_ascii_digits(text: str, expected: str) -> None:
    # Decimal (libmpdec) ignores underscores and accepts any Unicode decimal digit; money from the exchange is
    # ASCII, and operator input is checked against its own pattern first (accounts/inputs.py).
    assert parse_decimal(text) == D(expected)


def test_zero_and_negative_amounts_are_numbers_here() -> None:
    # Positivity is the caller's rule (accounts/inputs, the policy), not the parser's.
    assert parse_decimal("-0.01") == D("-0.01")
    assert parse_decimal("-0").is_signed() and parse_decimal("-0") == 0


# ---------------------------------------------------------------- parse_decimal: what it refuses

@pytest.mark.parametrize("value", [1.5, 0.1, 0.0, -2.0, float("nan"), float("inf"), True, False])
def test_floats_and_bools_are_refused(value: object) -> None:
    with pytest.raises(ValueError, match=r"^amount: floats are not accepted for money, pass a string$"):
        parse_decimal(value)


@pytest.mark.parametrize("text", ["abc", "", "   ", "1,5", "1.2.3", "€5", "5 EUR", "0x10"])
def test_text_that_is_not_a_number_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"is not a number$"):
        parse_decimal(text)


@pytest.mark.parametrize("value", ["NaN", "nan", "sNaN", "Infinity", "-Infinity", "inf", D("NaN"), D("-Infinity")])
def test_a_value_that_is_not_finite_is_refused(value: object) -> None:
    with pytest.raises(ValueError, match=r"is not finite$"):
        parse_decimal(value)


@pytest.mark.parametrize(("value", "kind"), [(None, "NoneType"), (b"1", "bytes"), (Fraction(1, 3), "Fraction"),
                                             ([1], "list"), (1 + 0j, "complex")])
def test_other_types_are_refused_by_name(value: object, kind: str) -> None:
    with pytest.raises(ValueError, match=rf"^amount: {kind} is not a number$"):
        parse_decimal(value)


def test_the_message_names_the_field() -> None:
    with pytest.raises(ValueError, match=r"^price: 'x' is not a number$"):
        parse_decimal("x", field="price")
    with pytest.raises(ValueError, match=r"^fee: floats"):
        parse_decimal(0.5, field="fee")


# ---------------------------------------------------------------- parse_decimal: properties

@given(st.decimals(allow_nan=False, allow_infinity=False))
def test_any_finite_decimal_round_trips_through_its_text_exactly(value: Decimal) -> None:
    parsed = parse_decimal(str(value))
    assert parsed == value and parsed.as_tuple() == value.as_tuple()


@given(st.integers())
def test_any_int_is_parsed_exactly(number: int) -> None:
    assert parse_decimal(number) == number


@given(st.floats())
def test_every_float_is_refused(value: float) -> None:
    with pytest.raises(ValueError, match="floats are not accepted"):
        parse_decimal(value)


# ---------------------------------------------------------------- quantize_down

@pytest.mark.parametrize(("value", "step", "expected"), [
    ("1.239", "0.01", "1.23"),
    ("1.2399999999", "0.01", "1.23"),  # never rounds a spend up, however close
    ("1.23", "0.01", "1.23"),  # an exact multiple stays
    ("0.009", "0.01", "0"),  # below one step: nothing
    ("1.3", "0.5", "1.0"),  # steps need not be powers of ten
    ("1.5", "0.5", "1.5"),
    ("0.999", "1", "0"),
    ("123", "10", "120"),
    ("0.123456789", "0.00000001", "0.12345678"),  # a satoshi
    ("5", "0.01", "5"),
    ("0", "0.01", "0"),
])
def test_quantize_down_rounds_down_to_a_multiple_of_the_step(value: str, step: str, expected: str) -> None:
    assert quantize_down(D(value), D(step)) == D(expected)


def test_quantize_down_of_a_negative_value_rounds_toward_zero() -> None:
    # ROUND_DOWN truncates: for a negative value "down" is toward zero, i.e. the result is the larger number.
    assert quantize_down(D("-1.239"), D("0.01")) == D("-1.23")
    assert quantize_down(D("-0.009"), D("0.01")) == 0


@pytest.mark.parametrize("step", ["0", "-0", "-0.01", "-1"])
def test_quantize_down_refuses_a_step_that_is_not_positive(step: str) -> None:
    with pytest.raises(ValueError, match=r"^step must be positive$"):
        quantize_down(D("1"), D(step))


def test_quantize_down_refuses_a_nan_step() -> None:
    with pytest.raises(InvalidOperation):  # Decimal's own refusal to order NaN
        quantize_down(D("1"), D("NaN"))


def test_quantize_down_is_exact_up_to_the_context_precision() -> None:
    assert getcontext().prec == 28
    value = D("0." + "9" * 27)  # 27 significant digits: value / step fits in the context
    assert quantize_down(value, D(1)) == 0
    assert quantize_down(value, D("0.01")) == D("0.99")


def test_quantize_down_never_rounds_up_beyond_the_context_precision() -> None:
    # value / step rounded to 28 digits first would land on 1.
    value = D("0." + "9" * 29)
    assert quantize_down(value, D(1)) <= value


def test_the_eur_cent_is_one_hundredth() -> None:
    assert D("0.01") == EUR_CENT and EUR_CENT.as_tuple().exponent == -2
    assert quantize_down(D("19.999"), EUR_CENT) == D("19.99")


# ---------------------------------------------------------------- quantize_down: properties

# Bounded so that value / step needs fewer than the context's 28 digits (beyond them it is refused).
values = st.decimals(min_value=-(10**6), max_value=10**6, places=8, allow_nan=False, allow_infinity=False)
steps = st.one_of(st.sampled_from([D("0.01"), D("0.5"), D("1"), D("0.00000001"), D("10"), D("0.25")]),
                  st.decimals(min_value=D("0.00000001"), max_value=1000, places=8))


@given(values, steps)
def test_the_result_is_a_multiple_of_the_step_within_one_step_toward_zero(value: Decimal, step: Decimal) -> None:
    result = quantize_down(value, step)
    assert (result / step) == (result / step).to_integral_value()
    assert abs(result) <= abs(value) < abs(result) + step
    assert result == 0 or result.is_signed() == value.is_signed()


@given(values, steps)
def test_quantize_down_is_idempotent(value: Decimal, step: Decimal) -> None:
    once = quantize_down(value, step)
    assert quantize_down(once, step) == once


@given(values, values, steps)
def test_quantize_down_keeps_the_order(a: Decimal, b: Decimal, step: Decimal) -> None:
    low, high = sorted((a, b))
    assert quantize_down(low, step) <= quantize_down(high, step)


@given(st.decimals(min_value=0, max_value=10**6, places=8), steps)
def test_a_spend_is_never_rounded_up(value: Decimal, step: Decimal) -> None:
    assert quantize_down(value, step) <= value
