"""Dates and datetimes from exports, to Unix milliseconds UTC (what the Octolane API takes).

Accepted without a format (``order`` decides only what the value cannot):

* ISO 8601 and year-first forms: ``2024-05-07``, ``2026-01-28 12:48`` (HubSpot),
  ``2023-02-07 20:44:05`` (Salesforce), ``2025-10-08T23:29:42+00:00`` (Apollo),
  ``2024/05/07``, ``2024.05.07``, compact ``20240507``;
* day/month/year and month/day/year with ``/``, ``-`` or ``.`` and a 2- or
  4-digit year, with an optional time (``5/7/24 10:26``, ``07.05.2024 9:30 PM``);
  a 2-digit year pivots like Excel: 00-29 → 2000s, 30-99 → 1900s;
* month names (English, Spanish, Portuguese, French, German, Italian, Dutch):
  ``7 May 2024``, ``May 7, 2024``, ``07-May-24``, ``Tuesday, 7th May 2024 10:00``,
  ``7 de mayo de 2024``;
* plain numbers: 10 digits are Unix seconds and 13 digits Unix milliseconds
  (2001-2099); other numbers are Excel serial days (1900 date system, fraction
  = time of day) when ``excel_serial`` is true, or, by default, when they fall
  in 25569-73050 (1970-2099); ``excel_serial: false`` refuses numbers.

Order: a value whose first two numbers are both 12 or less (``03/04/2024``)
reads differently day-first and month-first. With ``order: auto`` it is an
error unless both numbers are equal, or the separator is a dot (``07.05.2024``
is day-first wherever it is written). ``dmy`` / ``mdy`` settle it. A year-first
value is always read year-month-day, so ``ymd`` (what a column of ISO dates
infers) reads other values as ``auto`` does; a two-digit year first
(``24/05/07``) needs an explicit ``format``.

Time zone: a value without an offset is read in ``timezone`` (IANA name,
default UTC); a ``Z``/``UTC``/``GMT``/``+02:00`` in the value wins. A date
without a time is midnight.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from importer.map.transforms.cells import TransformError, clean_text, quote

__all__ = ["DateOrder", "date_parser", "infer_date_order", "time_zone"]

DateOrder = Literal["auto", "dmy", "mdy", "ymd"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)
_TIME = (
    r"(?:(?:[Tt]|\s+|\s*,\s*)(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:[.,](?P<F>\d{1,9}))?)?"
    r"\s*(?P<ampm>[AaPp]\.?[Mm]\.?)?)?"
)
_ZONE = r"\s*(?P<tz>[Zz]|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?"
_YMD = re.compile(
    rf"(?P<y>\d{{4}})(?P<sep>[-/.])(?P<m>\d{{1,2}})(?P=sep)(?P<d>\d{{1,2}}){_TIME}{_ZONE}"
)
_NUMERIC = re.compile(
    rf"(?P<a>\d{{1,2}})(?P<sep>[-/.])(?P<b>\d{{1,2}})(?P=sep)(?P<y>\d{{4}}|\d{{2}}){_TIME}{_ZONE}"
)
# The commonest shape (HubSpot, Salesforce, Zoho, Pipedrive): read without the general regex.
_FAST = re.compile(r"(\d{4})-(\d\d)-(\d\d)(?:[ T](\d\d):(\d\d)(?::(\d\d))?)?")
_COMPACT = re.compile(r"(?P<y>(?:19|20)\d\d)(?P<m>\d\d)(?P<d>\d\d)")
_NUMBER = re.compile(r"\d{1,13}(?:\.\d+)?")
_TEXT_TIME = re.compile(
    r"(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:[.,](?P<F>\d{1,9}))?)?\s*(?P<ampm>[ap]\.?m\.?)?",
    re.IGNORECASE,
)
_TEXT_OFFSET = re.compile(r"\s*(?:UTC|GMT)?\s*(?P<tz>[+-]\d{2}:?\d{2})\s*$", re.IGNORECASE)
_WORDS = re.compile(r"\d+|[^\W\d_]+")
_MONTH_NAMES = (
    "january jan enero ene janeiro janvier janv januar jänner jän gennaio gen januari",
    "february feb febrero febr fevereiro fev février févr fevr februar febbraio februari",
    "march mar marzo março marco mars märz maerz maart mrt",
    "april apr abril abr avril avr aprile",
    "may mayo maio mai maggio mag mei",
    "june jun junio junho juin juni giugno giu",
    "july jul julio julho juillet juil juli luglio lug",
    "august aug agosto ago août aout augustus",
    "september sep sept septiembre setiembre setembro set septembre settembre sett",
    "october oct octubre outubro out octobre oktober ottobre ott okt",
    "november nov noviembre novembro novembre",
    "december dec diciembre dic dezembro dez décembre decembre dezember dicembre",
)
_MONTHS = {name: n for n, names in enumerate(_MONTH_NAMES, 1) for name in names.split()}
_IGNORED_WORDS = frozenset(
    str.split(
        """monday mon tuesday tue tues wednesday wed thursday thu thur thurs friday fri
        saturday sat sunday sun lunes martes miércoles miercoles jueves viernes sábado sabado
        domingo segunda terça terca quarta quinta sexta feira lundi mardi mercredi jeudi
        vendredi samedi dimanche montag dienstag mittwoch donnerstag freitag samstag sonntag
        de del of the at um à a le el st nd rd th er o º ª utc gmt z"""
    )
)
_SERIAL_AUTO = (25569, 73051)  # 1970-01-01 .. 2099-12-31
_SERIAL_MAX = 2958466  # 9999-12-31
_UNIX_S = (1_000_000_000, 4_102_444_800)  # 2001-09-09 .. 2100-01-01


def time_zone(name: str) -> tzinfo:
    """The tzinfo for an IANA name; ValueError with a readable message if unknown."""
    if name.upper() in ("UTC", "Z", "GMT"):
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {name!r} (use an IANA name such as 'UTC', "
            "'Europe/Berlin' or 'America/New_York')"
        ) from None


def _year(digits: str) -> int:
    year = int(digits)
    if len(digits) == 2:
        return 2000 + year if year < 30 else 1900 + year
    return year


def _zone(match: re.Match[str], default: tzinfo, text: str) -> tzinfo:
    tz = match["tz"]
    if not tz:
        return default
    if tz[0] not in "+-":
        return UTC
    digits = tz[1:].replace(":", "")
    minutes = int(digits[:2]) * 60 + (int(digits[2:]) if len(digits) > 2 else 0)
    if minutes >= 24 * 60:
        raise TransformError(f"{quote(text)} is not a valid date (UTC offset {tz})")
    return timezone(timedelta(minutes=-minutes if tz[0] == "-" else minutes))


def _millis(text: str, y: int, m: int, d: int, match: re.Match[str] | None, zone: tzinfo) -> int:
    hour = minute = second = micro = 0
    if match is not None and match["H"]:
        hh, mm, ss, fraction, ampm = match.group("H", "M", "S", "F", "ampm")
        hour, minute, second = int(hh), int(mm), int(ss or 0)
        micro = int(fraction[:6].ljust(6, "0")) if fraction else 0
        if ampm:
            if not 1 <= hour <= 12:
                raise TransformError(f"{quote(text)} is not a valid date (hour {hour} with AM/PM)")
            hour = hour % 12 + (12 if ampm[0] in "pP" else 0)
    try:
        moment = datetime(y, m, d, hour, minute, second, micro, tzinfo=zone)
    except ValueError:
        raise TransformError(f"{quote(text)} is not a valid date") from None
    return (moment - _EPOCH) // _MS


def _day_month(text: str, a: int, b: int, year: int, sep: str, order: DateOrder) -> tuple[int, int]:
    if order == "dmy":
        return a, b
    if order == "mdy":
        return b, a
    if a > 12 or sep == "." or a == b:
        return a, b
    if b > 12:
        return b, a
    raise TransformError(
        f"{quote(text)} is ambiguous: {year}-{b:02}-{a:02} read day-first, {year}-{a:02}-{b:02}"
        " read month-first; set order: dmy or order: mdy on the date transform"
        " (or options.date_order in the mapping)"
    )


def _parse_numeric(text: str, match: re.Match[str], order: DateOrder, zone: tzinfo) -> int:
    if order == "ymd" and len(match["y"]) == 2:
        # "24/05/07" where dates are written year first: 2024-05-07, or day-first
        # 2007-05-24? Neither is read without a word.
        raise TransformError(
            f"{quote(text)} is ambiguous where dates are written year first (date_order:"
            f" ymd): 20{match['a']:0>2}-{match['b']:0>2}-{match['y']} read year first, or"
            f" a day and month before the year 20{match['y']}; give the date transform a"
            " format (format: '%y/%m/%d' or '%d/%m/%y')"
        )
    year = _year(match["y"])
    day, month = _day_month(text, int(match["a"]), int(match["b"]), year, match["sep"], order)
    if month > 12:
        expected = {"dmy": "day/month/year", "mdy": "month/day/year"}.get(order, "a date")
        raise TransformError(f"{quote(text)} is not a valid date (read as {expected})")
    return _millis(text, year, month, day, match, _zone(match, zone, text))


def _parse_number(text: str, zone: tzinfo, excel_serial: bool | None) -> int:
    compact = _COMPACT.fullmatch(text)
    if compact and excel_serial is not True:
        return _millis(text, int(compact["y"]), int(compact["m"]), int(compact["d"]), None, zone)
    if text.isdigit() and len(text) in (10, 13) and excel_serial is not True:
        seconds = int(text) / (1000 if len(text) == 13 else 1)
        if _UNIX_S[0] <= seconds < _UNIX_S[1]:
            return int(text) * (1 if len(text) == 13 else 1000)
    serial = float(text)
    low, high = (1, _SERIAL_MAX) if excel_serial else _SERIAL_AUTO
    if excel_serial is False or not low <= serial < high:
        raise TransformError(f"{quote(text)} is not a date")
    # Excel's 1900 system counts a 29 Feb 1900 that never was: day 60. Serials from 61
    # on are days since 1899-12-30; earlier ones since 1899-12-31.
    base = datetime(1899, 12, 30 if serial >= 61 else 31, tzinfo=zone)
    try:
        moment = base + timedelta(seconds=round(serial * 86400))
    except OverflowError:
        raise TransformError(f"{quote(text)} is not a date (beyond 9999-12-31)") from None
    return (moment - _EPOCH) // _MS


def _parse_text(text: str, zone: tzinfo) -> int:
    rest, offset = text, _TEXT_OFFSET.search(text)
    if offset:
        zone, rest = _zone(offset, zone, text), rest[: offset.start()]
    clock = _TEXT_TIME.search(rest)
    if clock:
        rest = rest[: clock.start()] + " " + rest[clock.end() :]
    months, numbers = [], []
    for word in _WORDS.findall(rest.lower()):
        if word.isdigit():
            numbers.append(word)
        elif word in _MONTHS:
            months.append(_MONTHS[word])
        elif word in ("utc", "gmt", "z"):
            zone = UTC
        elif word not in _IGNORED_WORDS:
            raise TransformError(f"{quote(text)} is not a date")
    if len(months) != 1 or len(numbers) != 2:
        raise TransformError(f"{quote(text)} is not a date")
    day, year = (numbers[1], numbers[0]) if len(numbers[0]) == 4 else numbers
    if len(year) not in (2, 4) or len(day) > 2:
        raise TransformError(f"{quote(text)} is not a date")
    return _millis(text, _year(year), months[0], int(day), clock, zone)


def _parse_auto(text: str, order: DateOrder, zone: tzinfo, excel_serial: bool | None) -> int:
    match = _YMD.fullmatch(text)
    if match:
        y, m, d = int(match["y"]), int(match["m"]), int(match["d"])
        return _millis(text, y, m, d, match, _zone(match, zone, text))
    match = _NUMERIC.fullmatch(text)
    if match:
        return _parse_numeric(text, match, order, zone)
    if _NUMBER.fullmatch(text):
        return _parse_number(text, zone, excel_serial)
    return _parse_text(text, zone)


def _parse_formats(text: str, formats: tuple[str, ...], zone: tzinfo) -> int:
    for fmt in formats:
        try:
            moment = datetime.strptime(text, fmt)
        except ValueError:
            continue
        if "%y" in fmt and moment.year >= 2030:  # Python pivots at 69, Excel at 30
            moment = moment.replace(year=moment.year - 100)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=zone)
        return (moment - _EPOCH) // _MS
    if len(formats) == 1:
        raise TransformError(f"{quote(text)} does not match the date format {formats[0]!r}")
    listed = ", ".join(repr(f) for f in formats)
    raise TransformError(f"{quote(text)} does not match any of the date formats {listed}")


def date_parser(
    *,
    formats: Iterable[str] = (),
    order: DateOrder = "auto",
    zone: tzinfo = UTC,
    excel_serial: bool | None = None,
) -> Callable[[str], int]:
    """A function from a date cell to Unix milliseconds UTC (not memoised; the caller does).

    With ``formats``, only those ``strptime`` formats are tried, in order.

    >>> date_parser()("2026-01-28 12:48")
    1769604480000
    >>> date_parser(order="mdy")("5/7/24 10:26")
    1715077560000
    """
    formats = tuple(formats)

    def parse(text: str) -> int:
        text = clean_text(text)
        if formats:
            return _parse_formats(text, formats, zone)
        fast = _FAST.fullmatch(text)
        if fast:
            y, m, d, hour, minute, second = fast.groups()
            try:
                moment = datetime(
                    int(y), int(m), int(d), int(hour or 0), int(minute or 0), int(second or 0),
                    tzinfo=zone,
                )  # fmt: skip
            except ValueError:
                raise TransformError(f"{quote(text)} is not a valid date") from None
            return (moment - _EPOCH) // _MS
        return _parse_auto(text, order, zone, excel_serial)

    return parse


def infer_date_order(values: Iterable[str]) -> Literal["dmy", "mdy", "ymd"] | None:
    """The date order a column's values imply, from values such as a first batch.

    Returns ``dmy``/``mdy`` when some value is only valid one way (``13/04/2024``)
    or is dotted (``07.05.2024``), ``ymd`` when all numeric dates are year-first,
    None when no value needs an order (empty, month names, numbers).

    Raises:
        TransformError: some values are day-first and others month-first, or every
            numeric value fits both (``03/04/2024``): the message says to set the order.

    >>> infer_date_order(["5/7/24 10:26", "11/18/24 17:56"])
    'mdy'
    """
    day_first = month_first = either = year_first = None
    for value in values:
        text = clean_text(value) if isinstance(value, str) else ""
        match = _NUMERIC.fullmatch(text)
        if match is None:
            if _YMD.fullmatch(text) or _COMPACT.fullmatch(text):
                year_first = year_first or text
            continue
        a, b = int(match["a"]), int(match["b"])
        if a > 12 >= b or (match["sep"] == "." and max(a, b) <= 12):
            day_first = day_first or text
        elif b > 12 >= a:
            month_first = month_first or text
        elif a <= 12 and b <= 12:
            either = either or text
    if day_first and month_first:
        raise TransformError(
            f"the dates mix day-first ({day_first!r}) and month-first ({month_first!r}) values;"
            " fix the file, or give the date transform a format for this column"
        )
    if day_first or month_first:
        return "dmy" if day_first else "mdy"
    if either:
        raise TransformError(
            f"every date fits both day-first and month-first (e.g. {either!r}); set order: dmy"
            " or order: mdy on the date transform (or options.date_order in the mapping)"
        )
    return "ymd" if year_first else None
