"""Dates: real export formats, day/month order, time zones, Excel serials, errors."""

from __future__ import annotations

import calendar
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from importer.map.transforms import build_transform, infer_date_order
from importer.map.transforms.cells import TransformError


def ms(y, m, d, hh=0, mm=0, ss=0, millis=0):
    """Unix milliseconds of a UTC wall-clock time (an oracle independent of the parser)."""
    return calendar.timegm((y, m, d, hh, mm, ss)) * 1000 + millis


def date(value, **params):
    return build_transform("date", params)(value)


@pytest.mark.parametrize(
    ("value", "order", "expected"),
    [
        ("2026-01-28 12:48", "auto", ms(2026, 1, 28, 12, 48)),  # HubSpot native export
        ("2025-05-01 10:25", "auto", ms(2025, 5, 1, 10, 25)),
        ("5/7/24 10:26", "mdy", ms(2024, 5, 7, 10, 26)),  # HubSpot re-saved in Excel
        ("11/18/24 17:56", "auto", ms(2024, 11, 18, 17, 56)),  # day 18: month-first
        ("7/5/24 9:51", "mdy", ms(2024, 7, 5, 9, 51)),
        ("2/5/24 1:51", "mdy", ms(2024, 2, 5, 1, 51)),
        ("2023-02-07 20:44:05", "auto", ms(2023, 2, 7, 20, 44, 5)),  # Salesforce, GMT
        ("2023-09-15 00:00:00", "auto", ms(2023, 9, 15)),
        ("2025-10-08T23:29:42+00:00", "auto", ms(2025, 10, 8, 23, 29, 42)),  # Apollo
        ("2013-08-01T00:00:00+00:00", "auto", ms(2013, 8, 1)),
        ("1997-06-01", "auto", ms(1997, 6, 1)),  # Apollo "Last Raised At"
        ("2026-01-15", "auto", ms(2026, 1, 15)),  # Pipedrive next activity date
        ("2025-11-24 10:00:36", "auto", ms(2025, 11, 24, 10, 0, 36)),  # Zoho
        ("2025-11-24 10:00:36", "dmy", ms(2025, 11, 24, 10, 0, 36)),  # year-first wins
        ("2025-11-24 10:00:36", "ymd", ms(2025, 11, 24, 10, 0, 36)),
    ],
)
def test_real_export_dates(value, order, expected):
    assert date(value, order=order) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-05-07T10:00:00Z", ms(2024, 5, 7, 10)),
        ("2024-05-07T10:00:00.123Z", ms(2024, 5, 7, 10, millis=123)),
        ("2024-05-07T10:00:00.123456789-05:00", ms(2024, 5, 7, 15, millis=123)),
        ("2024-05-07T10:00+0530", ms(2024, 5, 7, 4, 30)),
        ("2024-05-07 10:00 UTC", ms(2024, 5, 7, 10)),
        ("2024/05/07", ms(2024, 5, 7)),
        ("2024.05.07", ms(2024, 5, 7)),
        ("20240507", ms(2024, 5, 7)),
        ("07.05.2024", ms(2024, 5, 7)),  # dotted: day-first by convention
        ("13/04/2024", ms(2024, 4, 13)),
        ("04/13/2024", ms(2024, 4, 13)),
        ("05/05/2024", ms(2024, 5, 5)),  # same either way
        ("13-04-2024 9:30 PM", ms(2024, 4, 13, 21, 30)),
        ("04/13/2024 12:15 a.m.", ms(2024, 4, 13, 0, 15)),
        ("7 May 2024", ms(2024, 5, 7)),
        ("May 7, 2024", ms(2024, 5, 7)),
        ("Tuesday, 7th May 2024 10:00 PM", ms(2024, 5, 7, 22)),
        ("07-May-24", ms(2024, 5, 7)),  # Excel d-mmm-yy
        ("2024 May 7", ms(2024, 5, 7)),
        ("Sept. 3, 2024", ms(2024, 9, 3)),
        ("7 de mayo de 2024", ms(2024, 5, 7)),
        ("1 janv. 2024", ms(2024, 1, 1)),
        ("3. März 2024", ms(2024, 3, 3)),
        ("Mon, 06 May 2024 10:00:00 +0200", ms(2024, 5, 6, 8)),
        ("1714000000", 1714000000000),  # Unix seconds
        ("1714000000123", 1714000000123),  # Unix milliseconds
    ],
)
def test_automatic_formats(value, expected):
    assert date(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("12/31/99", ms(1999, 12, 31)),
        ("1/1/29", ms(2029, 1, 1)),
        ("1/1/30", ms(1930, 1, 1)),
        ("31/12/00", ms(2000, 12, 31)),
    ],
)
def test_two_digit_years_pivot_like_excel(value, expected):
    assert date(value) == expected


@pytest.mark.parametrize(
    ("value", "order", "expected"),
    [
        ("03/04/2024", "dmy", ms(2024, 4, 3)),
        ("03/04/2024", "mdy", ms(2024, 3, 4)),
        ("07.05.2024", "mdy", ms(2024, 7, 5)),  # an explicit order beats the dot convention
        ("13/04/2024", "ymd", ms(2024, 4, 13)),  # ymd reads non-year-first values as auto
    ],
)
def test_explicit_order_resolves_ambiguous_values(value, order, expected):
    assert date(value, order=order) == expected


def test_ambiguous_value_in_auto_mode_says_what_to_set():
    with pytest.raises(TransformError) as info:
        date("03/04/2024")
    assert str(info.value) == (
        "'03/04/2024' is ambiguous: 2024-04-03 read day-first, 2024-03-04 read month-first;"
        " set order: dmy or order: mdy on the date transform (or options.date_order in the mapping)"
    )


@pytest.mark.parametrize(
    ("value", "params", "message"),
    [
        ("5/13/24", {"order": "dmy"}, "'5/13/24' is not a valid date (read as day/month/year)"),
        ("13/04/2024", {"order": "mdy"}, "'13/04/2024' is not a valid date (read as month/day/"),
        ("2024-02-30", {}, "'2024-02-30' is not a valid date"),
        ("2023-02-29", {}, "'2023-02-29' is not a valid date"),
        ("2024-13-01", {}, "'2024-13-01' is not a valid date"),
        ("0000-00-00", {}, "'0000-00-00' is not a valid date"),
        ("13:00 PM 5/7/24", {}, "is not a date"),
        ("5/7/24 13:00 PM", {"order": "mdy"}, "(hour 13 with AM/PM)"),
        ("May 2024", {}, "'May 2024' is not a date"),
        ("n/a", {}, "'n/a' is not a date"),
        ("null", {}, "'null' is not a date"),
        ("TBD", {}, "'TBD' is not a date"),
        ("10:26", {}, "'10:26' is not a date"),
        ("2024", {}, "'2024' is not a date"),
        ("3.5", {}, "'3.5' is not a date"),
        ("45321", {"excel_serial": False}, "'45321' is not a date"),
        ("2958465.9999999", {"excel_serial": True}, "is not a date (beyond 9999-12-31)"),
        ("2024-05-07T10:00+9999", {}, "'2024-05-07T10:00+9999' is not a valid date (UTC offset"),
        ("07/05/2024", {"format": "%Y-%m-%d"}, "does not match the date format '%Y-%m-%d'"),
        (
            "x",
            {"format": ["%d/%m/%Y", "%Y"]},
            "does not match any of the date formats '%d/%m/%Y', '%Y'",
        ),
    ],
)
def test_errors_quote_the_value(value, params, message):
    with pytest.raises(TransformError) as info:
        date(value, **params)
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("value", "params", "expected"),
    [
        ("45321", {}, ms(2024, 1, 30)),  # auto: plausible serial range 1970-2099
        ("45321.5", {}, ms(2024, 1, 30, 12)),
        ("45321.4347222222", {}, ms(2024, 1, 30, 10, 26)),  # rounded to the second
        ("25569", {}, ms(1970, 1, 1)),
        ("100", {"excel_serial": True}, ms(1900, 4, 9)),
        ("1", {"excel_serial": True}, ms(1900, 1, 1)),
        ("61", {"excel_serial": True}, ms(1900, 3, 1)),  # after Excel's phantom 29 Feb 1900
        ("45321", {"timezone": "Europe/Berlin"}, ms(2024, 1, 29, 23)),
    ],
)
def test_excel_serials(value, params, expected):
    assert date(value, **params) == expected


@pytest.mark.parametrize("value", ["100", "25568", "73051", "2024"])
def test_numbers_outside_the_serial_range_are_refused_in_auto_mode(value):
    with pytest.raises(TransformError, match="is not a date"):
        date(value)


@pytest.mark.parametrize(
    ("value", "zone", "expected"),
    [
        ("2026-01-28 12:48", "Australia/Sydney", ms(2026, 1, 28, 1, 48)),  # AEDT +11
        ("2024-07-01 12:00", "Europe/Berlin", ms(2024, 7, 1, 10)),  # CEST +2
        ("2024-01-01 12:00", "Europe/Berlin", ms(2024, 1, 1, 11)),  # CET +1
        ("2024-03-10", "America/New_York", ms(2024, 3, 10, 5)),
        ("2024-07-01T12:00:00Z", "Europe/Berlin", ms(2024, 7, 1, 12)),  # the value's zone wins
        ("2024-07-01 12:00", "UTC", ms(2024, 7, 1, 12)),
    ],
)
def test_naive_values_are_read_in_the_timezone(value, zone, expected):
    assert date(value, timezone=zone) == expected


@pytest.mark.parametrize(
    ("value", "formats", "expected"),
    [
        ("07/05/2024", "%d/%m/%Y", ms(2024, 5, 7)),
        ("07/05/45", "%d/%m/%y", ms(1945, 5, 7)),  # Excel pivot, not Python's (69)
        ("07/05/29", "%d/%m/%y", ms(2029, 5, 7)),
        ("2024-05-07T10:00:00+0200", "%Y-%m-%dT%H:%M:%S%z", ms(2024, 5, 7, 8)),
        ("May 2024", ["%d/%m/%Y", "%B %Y"], ms(2024, 5, 1)),
        (" 07/05/2024 ", "%d/%m/%Y", ms(2024, 5, 7)),
    ],
)
def test_explicit_formats(value, formats, expected):
    assert date(value, format=formats) == expected


def test_none_and_empty_are_no_value():
    assert date(None) is None
    assert date("") is None


# ---- infer_date_order ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["5/7/24 10:26", "11/18/24 17:56", "3/17/24 22:13"], "mdy"),  # companies-appraisal.csv
        (["2/5/24 1:51", "2/26/24 9:07"], "mdy"),
        (["13/04/2024", "03/04/2024"], "dmy"),
        (["07.05.2024"], "dmy"),
        (["2026-01-28 12:48", "2025-10-08 12:05"], "ymd"),  # HubSpot native
        (["2023-02-07 20:44:05", "", "13/04/2024"], "dmy"),
        (["7 May 2024", "45321"], None),  # nothing needs an order
        ([], None),
        (["", "  "], None),
    ],
)
def test_infer_date_order(values, expected):
    assert infer_date_order(values) == expected


def test_infer_refuses_a_column_that_fits_both_orders():
    with pytest.raises(TransformError) as info:
        infer_date_order(["03/04/2024", "05/06/2024", "2024-01-01"])
    assert str(info.value) == (
        "every date fits both day-first and month-first (e.g. '03/04/2024'); set order: dmy"
        " or order: mdy on the date transform (or options.date_order in the mapping)"
    )


def test_infer_refuses_mixed_orders():
    with pytest.raises(TransformError) as info:
        infer_date_order(["13/04/2024", "04/13/2024"])
    assert "'13/04/2024'" in str(info.value) and "'04/13/2024'" in str(info.value)


def test_inferred_order_resolves_the_rest_of_the_column():
    column = ["5/7/24 10:26", "11/18/24 17:56", "1/2/25 13:19"]
    parse = build_transform("date", {"order": infer_date_order(column)})
    assert [parse(v) for v in column] == [
        ms(2024, 5, 7, 10, 26),
        ms(2024, 11, 18, 17, 56),
        ms(2025, 1, 2, 13, 19),
    ]


# ---- properties ----------------------------------------------------------------------

moments = st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2099, 12, 31))


@given(moments)
def test_formatted_datetimes_round_trip(moment):
    moment = moment.replace(microsecond=0)
    expected = (moment.replace(tzinfo=UTC) - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(
        milliseconds=1
    )
    assert date(moment.isoformat()) == expected
    assert date(moment.strftime("%d/%m/%Y %H:%M:%S"), order="dmy") == expected
    assert date(moment.strftime("%m/%d/%Y %I:%M:%S %p"), order="mdy") == expected
    assert date(moment.strftime("%d %B %Y %H:%M:%S")) == expected


date_like = st.one_of(
    st.text(max_size=40),
    st.from_regex(
        r"\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}([ T]\d{1,2}:\d{2}(:\d{2}(\.\d{1,9})?)?( ?[AaPp]M)?)?"
        r"( ?(Z|UTC|[+-]\d{2}:?\d{2}))?",
        fullmatch=True,
    ),
    st.from_regex(r"\d{1,14}(\.\d{1,9})?", fullmatch=True),
    st.from_regex(
        r"(\d{1,4} )?[A-Za-z]{3,9}\.? \d{1,4},? ?\d{0,4}( \d{1,2}:\d{2})?", fullmatch=True
    ),
)


@given(
    date_like,
    st.sampled_from(
        [{}, {"order": "dmy"}, {"order": "mdy"}, {"order": "ymd"}, {"excel_serial": True}]
    ),
    st.sampled_from(["UTC", "America/New_York", "Asia/Tokyo"]),
)
def test_any_text_gives_milliseconds_or_a_transform_error(text, params, zone):
    try:
        result = date(text, timezone=zone, **params)
    except TransformError:
        return
    assert result is None or isinstance(result, int)


def test_a_two_digit_year_last_where_dates_are_written_year_first_is_refused():
    """``date_order: ymd`` (the deal presets) read "24/05/07" day-first, as 2007-05-24,
    with no word; it may as well be 2024-05-07. It is refused, with both readings."""
    from importer.map.transforms import TransformError

    date = build_transform("date", {"order": "ymd"})
    with pytest.raises(TransformError, match="2024-05-07 read year first"):
        date("24/05/07")
    assert date("13/4/2024") == date("2024-04-13")  # a four-digit year: read as ever
