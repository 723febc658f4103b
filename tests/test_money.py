"""Amounts: real export values, separators per decimal mark, currencies, errors."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from importer.map.transforms import build_transform
from importer.map.transforms.cells import TransformError
from importer.map.transforms.money import parse_amount, parse_dollars, to_dollars


def money(value, **params):
    return build_transform("money", params)(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("45362.12", 45362.12),  # hubspot/deals-export-all-deals-solar.csv Amount
        ("1178.18", 1178.18),
        ("0.0", 0.0),
        ("468.0", 468.0),  # hubspot/deals-export-all-properties-with-associations.csv
        ("25000.0", 25000.0),
        ("9225.225", 9225.23),  # salesforce/data-export-Opportunity.csv Amount: half-up
        ("27675.675", 27675.68),
        ("11500000", 11500000.0),
        ("100", 100.0),
        ("3.5E8", 350000000.0),  # salesforce/dataloader-extract-Account.csv ANNUALREVENUE
        ("1.39E8", 139000000.0),
        ("5.6E9", 5600000000.0),
        ("1000000.0", 1000000.0),
        ("300.0", 300.0),
        ("24300000000", 24300000000.0),  # apollo/accounts-export-benelux-tech.csv
        ("170359000000", 170359000000.0),  # apollo/contacts-export-2025-format-philanthropy.csv
    ],
)
def test_real_export_amounts(value, expected):
    assert money(value) == expected


@pytest.mark.parametrize(
    ("value", "mark", "expected"),
    [
        ("$12,500.00", ".", 12500.0),
        ("$12,500.00", ",", 12500.0),  # both marks present: the last one is decimal
        ("12.500,00 €", ".", 12500.0),
        ("12.500,00 €", ",", 12500.0),
        ("12.500,00 €", "auto", 12500.0),
        ("€1.234", ",", 1234.0),
        ("€1.234", ".", 1.23),  # "." declared decimal: one and a quarter-ish, as told
        ("USD 1,200", ".", 1200.0),
        ("USD 1,200", ",", 1.2),
        ("1 200,50 EUR", ".", 1200.5),
        ("1\u00a0200,50\u00a0€", ",", 1200.5),  # NBSP thousands (French Excel)
        ("1\u202f234\u202f567,8", ",", 1234567.8),  # narrow NBSP
        ("CHF 1'234.50", ".", 1234.5),  # Swiss apostrophe
        ("Rs. 1,20,000", ".", 120000.0),  # Indian lakh grouping
        ("₹12,34,567.50", ".", 1234567.5),
        ("R$ 1.234,56", ",", 1234.56),
        ("S/ 1,500.00", ".", 1500.0),  # Peruvian sol (the Salesforce export is PEN/MXN/COP)
        ("MXN 250,000", ".", 250000.0),
        ("COP 1.500.000", ",", 1500000.0),
        ("1.234.567", ".", 1234567.0),  # repeated mark: thousands whatever the setting
        ("1,234,567", ",", 1234567.0),
        ("12,5", ",", 12.5),
        ("12,5", "auto", 12.5),
        ("1.50", "auto", 1.5),
        ("1,234", ".", 1234.0),
        ("1.234", ",", 1234.0),
        (".5", ".", 0.5),
        ("10 000", ".", 10000.0),
        ("usd 99", ".", 99.0),
        ("99 eur", ".", 99.0),
    ],
)
def test_separators_and_currencies(value, mark, expected):
    assert money(value, decimal_mark=mark) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("(1,200.00)", -1200.0),  # accounting negative
        ("$(1,200)", -1200.0),
        ("($1,200)", -1200.0),
        ("-1,200", -1200.0),
        ("-$1,200", -1200.0),
        ("$-1,200", -1200.0),
        ("1200-", -1200.0),  # SAP-style trailing minus
        ("−1200", -1200.0),  # U+2212 minus sign
        ("+1200", 1200.0),
        ("-0", 0.0),
        ("(0.00)", 0.0),
    ],
)
def test_negative_forms(value, expected):
    result = money(value)
    assert result == expected and str(result) == str(expected)  # never -0.0


@pytest.mark.parametrize(
    ("value", "mark", "expected"),
    [
        ("£3.5k", ".", 3500.0),
        ("3,5k", ",", 3500.0),
        ("10K", ".", 10000.0),
        ("$1.2M", ".", 1200000.0),  # M is a million, not the Roman thousand
        ("2.5 mm", ".", 2500000.0),
        ("2.5mn", ".", 2500000.0),
        ("1,5 Mio EUR", ",", 1500000.0),
        ("2bn", ".", 2000000000.0),
        ("1.1B USD", ".", 1100000000.0),
    ],
)
def test_multiplier_suffixes(value, mark, expected):
    assert money(value, decimal_mark=mark) == expected


@pytest.mark.parametrize("value", ["", "-", "—", "–", "$ -", " - ", "$", "\u00a0"])
def test_blank_and_dash_are_no_amount(value):
    assert money(value) is None


def test_none_passes_through():
    assert money(None) is None


@pytest.mark.parametrize(
    ("value", "mark", "message"),
    [
        ("12,5,0", ".", "'12,5,0' is not an amount (misplaced separators)"),
        ("1,2,3", ",", "'1,2,3' is not an amount (misplaced separators)"),
        ("0,123", ".", "'0,123' is not an amount (misplaced separators)"),
        ("12,5", ".", "'12,5' is not an amount with decimal mark '.' (if ',' is the decimal"),
        ("468.0", ",", "'468.0' is not an amount with decimal mark ','"),
        ("1,234", "auto", "'1,234' is ambiguous: ',' could be the decimal mark or a thousands"),
        ("€1.234", "auto", "'€1.234' is ambiguous"),
        ("abc", ".", "'abc' is not an amount"),
        ("12 apples", ".", "'12 apples' is not an amount"),
        ("XYZ 12", ".", "'XYZ 12' is not an amount ('XYZ' is not a currency)"),
        ("12%", ".", "'12%' is not an amount"),
        ("$12,500.00 - $15,000.00", ".", "is not an amount"),
        ("(1,200", ".", "'(1,200' is not an amount"),
        ("--5", ".", "'--5' is not an amount"),
        ("1E400", ".", "'1E400' is too large to be an amount"),
        ("null", ".", "'null' is not an amount"),
        ("[not provided]", ".", "'[not provided]' is not an amount"),
    ],
)
def test_errors_quote_the_value(value, mark, message):
    with pytest.raises(TransformError) as info:
        money(value, decimal_mark=mark)
    assert message in str(info.value)


def test_cents():
    assert money("123456", cents=True) == 1234.56
    assert money("$99", cents=True) == 0.99
    assert money(12345, cents=True) == 123.45


def test_numbers_from_earlier_transforms_are_kept():
    assert money(12.345, decimal_mark=",") == 12.35
    assert money(1200, decimal_mark=",") == 1200.0


def test_parse_amount_is_exact():
    assert parse_amount("0.1") + parse_amount("0.2") == Decimal("0.3")
    assert to_dollars(Decimal("2.675")) == 2.68  # float round() would give 2.67


@given(st.decimals(min_value=-(10**12), max_value=10**12, places=2))
def test_formatted_amounts_round_trip(amount):
    us = f"${amount:,.2f}".replace("$-", "-$")
    european = f"{amount:,.2f}".replace(",", " ").replace(".", ",") + " €"
    assert money(us) == float(amount)
    assert money(european, decimal_mark=",") == float(amount)


@given(st.text(max_size=30))
def test_any_text_gives_a_number_none_or_a_transform_error(text):
    try:
        result = money(text, decimal_mark="auto")
    except TransformError:
        return
    assert result is None or isinstance(result, float)


@given(
    st.one_of(
        st.from_regex(r"-?[$€£]?\d{1,7}(,\d{3}){0,2}(\.\d{1,4})?", fullmatch=True),
        st.from_regex(r"-?[$€£]?\d{1,7}([. ]\d{3}){0,2}(,\d{1,4})?( ?€)?", fullmatch=True),
    ),
    st.sampled_from([".", ",", "auto"]),
)
@example("1250.50", "auto")
@example("$1,250.50", ".")
@example("1.250.000,50 €", ",")
@example("1 250 000,5", ",")
def test_fast_path_agrees_with_the_general_grammar(text, mark):
    def outcome(parse):
        try:
            return parse()
        except TransformError as exc:
            return str(exc)

    general = outcome(lambda: to_dollars(parse_amount(text, mark)))
    assert outcome(lambda: parse_dollars(text, mark)) == general
    assert outcome(lambda: money(text, decimal_mark=mark)) == general
