"""The currency a workbook's number cell shows through its format (``3.000,00 €``).

python-calamine gives a cell's number, not its format: an amount that Excel shows as
``3.000,00 €`` or ``£12.00`` would read as the bare ``3000`` or ``12``, and a deal's
value be sent as dollars. So the reader looks the formats up itself, from the zip:

* ``xl/styles.xml``: which cell styles (``cellXfs``) have a custom number format that
  writes a currency: a ``[$€-407]`` block, a quoted ``"€"`` or ``"EUR "``, an escaped
  ``\\€``, or a bare currency sign (``$#,##0.00``). Excel's built-in currency formats
  (ids 5-8, 42, 44) show the currency of the reading computer's locale, which the file
  does not say: they are left alone, as a plain number is.
* the sheet's XML, streamed, only when some style writes a currency: which number cells
  carry such a style. A sheet whose XML the byte patterns do not read (cells without
  a reference, a prefixed namespace as the .NET SDK writes, single-quoted attributes)
  is parsed as XML instead: slower, and no cell is missed.

An ODS sheet says it per cell: ``office:value-type="currency"`` with its
``office:currency`` code, read from ``content.xml``, streamed.

In the columns read as amounts (``open_source(money_columns=...)``: the mapping's
fields with the ``money`` transform), such a cell reads as its number, a no-break
space and the currency as its format writes it (``3000.5\\u00a0€``), which the money transform reads as an amount in that
currency (converted with the user's rates, or left out with a warning: never sent as
dollars). A cell's own text is what Excel shows; other number cells, and every cell
of another column, are unchanged.
"""

from __future__ import annotations

import re
import unicodedata
import zipfile
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast
from xml.etree import ElementTree

from importer.errors import SourceError
from importer.read._workbook_limits import (
    _NS_MAIN,
    _NS_OFFICE,
    _NS_TABLE,
    WorkbookLimits,
    _chunks,
    _sheet_part,
    _zip,
)

__all__ = [
    "NUMBER_TEXT",
    "SEPARATOR",
    "CellCurrencies",
    "cell_currencies",
    "format_currency",
    "ods_cell_currencies",
    "with_currency",
]

#: Between a number and the currency its format writes: a no-break space, which a typed
#: cell seldom holds there.
SEPARATOR = "\u00a0"

#: Currencies written in letters, quoted in a format (``"kr"``, ``"zł"``).
_WORDS = frozenset(
    {"kr", "kr.", "Kč", "zł", "Ft", "lei", "Fr", "Fr.", "R", "Rs", "Rs.", "S/", "S/."}
)
#: Currency codes a quoted format text may write ("EUR"): a known list, since a unit
#: ("PCS", "FTE", "KWH") is written the same way.
_CODES = frozenset(
    [
        "EUR",
        "USD",
        "GBP",
        "CHF",
        "JPY",
        "CAD",
        "AUD",
        "NZD",
        "SEK",
        "NOK",
        "DKK",
        "PLN",
        "CZK",
        "HUF",
        "RON",
        "BRL",
        "MXN",
        "ARS",
        "CLP",
        "COP",
        "PEN",
        "INR",
        "CNY",
        "HKD",
        "SGD",
        "ZAR",
        "TRY",
        "ILS",
        "AED",
        "SAR",
        "KRW",
    ]
)
#: A number cell's text (importer.read._excel.cell_text).
NUMBER_TEXT = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")


def format_currency(code: str) -> str | None:
    """The currency a number format writes (its first section's), or None.

    >>> format_currency('#,##0.00 [$€-407]'), format_currency('"£"#,##0.00')
    ('€', '£')
    >>> format_currency('#,##0.00\\\\ "EUR"'), format_currency('_-* #,##0.00\\\\ _€_-')
    ('EUR', None)
    >>> format_currency('[$-409]d/m/yyyy'), format_currency('0.00%')
    (None, None)
    """
    found: set[str] = set()
    i, n = 0, len(code)
    while i < n:
        ch = code[i]
        if ch == ";":
            break  # the first section (positive numbers) says it
        if ch == '"':
            end = code.find('"', i + 1)
            end = n if end < 0 else end
            _add(found, code[i + 1 : end].strip())
            i = end + 1
        elif ch == "\\":
            _add(found, code[i + 1 : i + 2])
            i += 2
        elif ch in "_*":
            i += 2  # "_€": a space as wide as €; "*-": a fill. Neither shows the sign.
        elif ch == "[":
            end = code.find("]", i)
            end = n if end < 0 else end
            block = code[i + 1 : end]
            if block.startswith("$"):
                symbol, _, locale = block[1:].partition("-")
                symbol = symbol.strip()
                if symbol:
                    found.add(_LOCALE_CURRENCIES.get((symbol, _lcid(locale)), symbol))
            i = end + 1
        else:
            if unicodedata.category(ch) == "Sc":  # "$#,##0" writes its $ bare
                found.add(ch)
            i += 1
    return found.pop() if len(found) == 1 else None


def _add(found: set[str], text: str) -> None:
    if not text:
        return
    signed = any(unicodedata.category(c) == "Sc" for c in text)
    if signed:
        # '"M€"' after '#,##0.0,,' shows millions: the cell holds the whole number, so
        # the M is no part of the currency (read with it, the amount would be scaled again)
        text = _MAGNITUDE.sub("", text).strip() or text
    written = text in _CODES or text in _WORDS or signed
    if written and len(text) <= 4:
        found.add(text)


#: A magnitude a scaled format writes beside its currency sign (``"M€"``, ``"$K"``).
_MAGNITUDE = re.compile(
    r"^(?:[kKmM]|MM|Mio\.?|Mn|Bn|bn|Tsd\.?|Mrd\.?)(?=\W)|(?<=\W)(?:[kKmM]|MM|Mio\.?|Mn|Bn|bn|Tsd\.?|Mrd\.?)$"
)


def _lcid(text: str) -> int | None:
    """The language of a ``[$€-407]`` block (its low 16 bits: Windows locale id)."""
    try:
        return int(text.strip(), 16) & 0xFFFF
    except ValueError:
        return None


#: The currency a sign means in a format's locale (``[$$-C09]``: Australian dollars,
#: ``[$¥-804]``: yuan): where one sign writes several currencies, the locale tells.
_LOCALE_CURRENCIES: dict[tuple[str, int | None], str] = {
    **{("$", lcid): code for lcid, code in (
        (0x0409, "USD"), (0x0C09, "AUD"), (0x1009, "CAD"), (0x0C0C, "CAD"), (0x1409, "NZD"),
        (0x1004, "SGD"), (0x3C09, "HKD"), (0x080A, "MXN"), (0x2C0A, "ARS"), (0x340A, "CLP"),
        (0x240A, "COP"), (0x0404, "TWD"),
    )},
    **{("¥", lcid): code for lcid, code in ((0x0411, "JPY"), (0x0804, "CNY"))},
    **{("kr", lcid): code for lcid, code in (
        (0x041D, "SEK"), (0x0414, "NOK"), (0x0814, "NOK"), (0x0406, "DKK"), (0x040F, "ISK"),
    )},
    **{("kr.", lcid): code for lcid, code in ((0x0406, "DKK"), (0x040F, "ISK"))},
    **{("Fr.", lcid): "CHF" for lcid in (0x0807, 0x100C, 0x0810)},
}  # fmt: skip


def currency_styles(archive: zipfile.ZipFile) -> dict[int, str]:
    """The workbook's cell styles (their index in ``cellXfs``) whose number format writes a
    currency -> that currency as written."""
    try:
        root = ElementTree.fromstring(archive.read("xl/styles.xml"))
    except (KeyError, ElementTree.ParseError, zipfile.BadZipFile, OSError):
        return {}  # no styles: every cell is General
    formats: dict[str, str] = {}
    for element in root.iter(f"{_NS_MAIN}numFmt"):
        code = element.get("formatCode") or ""
        currency = format_currency(code)
        if currency is not None:
            formats[element.get("numFmtId") or ""] = currency
    if not formats:
        return {}
    styles: dict[int, str] = {}
    cell_xfs = root.find(f"{_NS_MAIN}cellXfs")
    for index, xf in enumerate(cell_xfs if cell_xfs is not None else ()):
        currency = formats.get(xf.get("numFmtId") or "")
        if currency is not None:
            styles[index] = currency
    return styles


@dataclass(slots=True)
class CellCurrencies:
    """Where a sheet's number cells write a currency: per column (from 0), runs of rows
    (from 0) that share one, in order."""

    _starts: dict[int, list[int]] = field(default_factory=dict)
    _runs: dict[int, list[tuple[int, int, str]]] = field(default_factory=dict)

    def add(self, row: int, column: int, currency: str, last: int | None = None) -> None:
        """The cell at ``row`` (to ``last``, for a repeated cell), ``column``."""
        last = row if last is None else last
        runs = self._runs.setdefault(column, [])
        if runs and runs[-1][2] == currency and runs[-1][1] == row - 1:
            start, _, _ = runs[-1]
            runs[-1] = (start, last, currency)
        else:
            runs.append((row, last, currency))
            self._starts.setdefault(column, []).append(row)

    @property
    def columns(self) -> list[int]:
        return sorted(self._runs)

    def only(self, positions: set[int], start: tuple[int, int] | None) -> CellCurrencies | None:
        """These currencies in the row positions (from 0, the sheet's first used column
        first: ``start``) given alone, or None where none is left."""
        offset = start[1] if start else 0
        kept = {c: r for c, r in self._runs.items() if c - offset in positions}
        if not kept:
            return None
        return CellCurrencies({c: self._starts[c] for c in kept}, kept)

    def at(self, row: int, column: int) -> str | None:
        """The currency of the cell at ``row``, ``column`` (from 0), if its format writes one."""
        starts = self._starts.get(column)
        if not starts:
            return None
        i = bisect_right(starts, row) - 1
        if i < 0:
            return None
        start, end, currency = self._runs[column][i]
        return currency if start <= row <= end else None


class _CellTags:
    """Finds the number cells with one of ``styles``: their column letters, row number and
    style. A text, boolean or error cell is typed (``t="s"``, ``"str"``, ``"inlineStr"``,
    ``"b"``, ``"e"``); a number is not, or ``t="n"``.

    Writers put ``r``, then ``s``, then ``t``: that order is matched at C speed, and a
    chunk where it does not find every cell with such a style is searched in any order.
    """

    __slots__ = ("_any_order", "_marks", "_ordered")

    def __init__(self, styles: Iterable[int]) -> None:
        ids = sorted(styles)
        alternatives = "|".join(map(str, ids)).encode()
        self._ordered = re.compile(
            rb'<c r="([A-Z]{1,3})([0-9]{1,7})" s="('
            + alternatives
            + rb')"(?: t="n")?(?![^>]*?\st=")[\s/>]'
        )
        self._any_order = re.compile(
            rb'<c(?=[^>]*?\sr="([A-Z]{1,3})([0-9]{1,7})")(?=[^>]*?\ss="('
            + alternatives
            + rb')")(?![^>]*?\st="(?!n")[^"]*")[\s/>]'
        )
        self._marks = tuple(b' s="%d"' % i for i in ids)

    def find(self, text: bytes) -> list[tuple[bytes, bytes, bytes]]:
        found: list[tuple[bytes, bytes, bytes]] = self._ordered.findall(text)
        if len(found) < sum(map(text.count, self._marks)):  # (a row's style counts too)
            found = self._any_order.findall(text)
        return found


def cell_currencies(
    path: Path, name: str, sheet: str, limits: WorkbookLimits
) -> CellCurrencies | None:
    """The number cells of ``sheet`` whose format writes a currency, or None when no style
    of the workbook writes one (the sheet is then not read here)."""
    with _zip(path, name) as archive:
        styles = currency_styles(archive)
        part = _sheet_part(archive, sheet) if styles else None
        if part is None:
            return None
        found = CellCurrencies()
        tags = _CellTags(styles)
        try:
            if 0 in styles:  # the default style writes one: so does a cell with no style
                raise _Unusual
            for row, column, style in _styled_cells(archive, part, name, limits, tags):
                currency = styles.get(style)
                if currency is not None:
                    found.add(row, column, currency)
        except _Unusual:  # XML the byte patterns do not read: parsed as XML instead
            found = CellCurrencies()
            for row, column, style in _parsed_cells(archive, part, name, limits, styles):
                found.add(row, column, styles[style])
    return found if found.columns else None


class _Unusual(Exception):
    """A sheet's XML in a form the byte patterns do not read: cells without a reference,
    a namespace prefix (``<x:c``), single-quoted attributes, spaces around ``=``; or a
    workbook whose default style writes a currency (its cells may have no ``s``)."""


#: What the byte patterns read: every cell tag unprefixed, with a double-quoted
#: reference (``<c r="B2"``). The rest is parsed.
_PREFIXED = re.compile(rb"<[A-Za-z_][\w.-]*:c[\s/>]")
_CELL_WITH_REF = re.compile(rb'<c\s[^>]*?(?<=\s)r="')
#: An attribute in a tag written other than name="value": single quotes, or spaces
#: around its '=' (valid XML that the byte patterns would not see).
_ODD_ATTRIBUTE = re.compile(rb"<[^<>]*?(?:=\s*'|\s=|=\s)[^<>]*>")


def _usual(text: bytes) -> bool:
    # Counted at C speed first: every cell tag starts '<c r="' (the writers' order).
    tags = sum(map(text.count, (b"<c ", b"<c>", b"<c/>", b"<c\n", b"<c\t", b"<c\r")))
    if tags != text.count(b'<c r="') and tags != len(_CELL_WITH_REF.findall(text)):
        return False
    if (b"'" in text or b" =" in text or b"= " in text or b"\n=" in text or b"=\n" in text) and (
        _ODD_ATTRIBUTE.search(text)
    ):
        return False
    return not ((b":c " in text or b":c>" in text) and _PREFIXED.search(text))


def _parsed_cells(
    archive: zipfile.ZipFile,
    part: str,
    name: str,
    limits: WorkbookLimits,
    styles: dict[int, str],
) -> Iterator[tuple[int, int, int]]:
    """(row, column, style) of each number cell with a style of ``styles``, both from 0,
    from the sheet parsed as XML (any prefix, quoting, or none of the optional
    references: a row or a cell without one follows the one before)."""
    parser: ElementTree.XMLPullParser = ElementTree.XMLPullParser(events=("start", "end"))
    row, column = -1, -1
    try:
        for chunk in _chunks(archive, part, name, limits):
            parser.feed(chunk)
            for event, item in cast(Iterator[tuple[str, Any]], parser.read_events()):
                element = cast(ElementTree.Element, item)
                tag = element.tag.rpartition("}")[2]
                if tag == "row" and event == "start":
                    number = element.get("r")
                    row = int(number) - 1 if number and number.isdigit() else row + 1
                    column = -1
                elif tag == "c" and event == "start":
                    ref = _REFERENCE.fullmatch(element.get("r") or "")
                    column = _column_index(ref.group(1).encode()) if ref else column + 1
                    style = element.get("s") or "0"  # (none: the default style, 0)
                    kind = element.get("t")
                    if style and style.isdigit() and int(style) in styles and kind in (None, "n"):
                        yield row, column, int(style)
                elif event == "end" and tag in ("c", "row"):
                    element.clear()
    except ElementTree.ParseError as exc:
        raise SourceError(f"{name}: is not a valid workbook ({part}: {exc})") from exc


_REFERENCE = re.compile(r"([A-Z]{1,3})[0-9]{1,7}")


def _styled_cells(
    archive: zipfile.ZipFile,
    part: str,
    name: str,
    limits: WorkbookLimits,
    tags: _CellTags,
) -> Iterator[tuple[int, int, int]]:
    """(row, column, style) of each number cell whose tag ``tags`` finds, both from 0,
    streamed. Each chunk is cut before its last cell tag, which the next chunk reads whole.
    """
    tail, first = b"", True
    for chunk in _chunks(archive, part, name, limits):
        text = tail + chunk
        cut = text.rfind(b"<c")
        cut = cut if cut > 0 else len(text)
        text, tail = text[:cut], text[cut:]
        if first and not _usual(text + tail):  # (one writer wrote the sheet: its first MiB tells)
            raise _Unusual
        first = False
        for letters, row, style in tags.find(text):
            yield int(row) - 1, _column_index(letters), int(style)
    for letters, row, style in tags.find(tail):
        yield int(row) - 1, _column_index(letters), int(style)


def ods_cell_currencies(
    path: Path, name: str, sheet: str, limits: WorkbookLimits
) -> CellCurrencies | None:
    """The currency cells of the ODS sheet ``sheet`` (their codes), or None if it has none."""
    found = CellCurrencies()
    table, row, column = f"{_NS_TABLE}table", 0, 0
    cells = (f"{_NS_TABLE}table-cell", f"{_NS_TABLE}covered-table-cell")
    value_type, currency = f"{_NS_OFFICE}value-type", f"{_NS_OFFICE}currency"
    rows_repeated = f"{_NS_TABLE}number-rows-repeated"
    columns_repeated = f"{_NS_TABLE}number-columns-repeated"
    inside, repeat = False, 1
    parser: ElementTree.XMLPullParser = ElementTree.XMLPullParser(events=("start", "end"))
    with _zip(path, name) as archive:
        if "content.xml" not in archive.NameToInfo:
            return None
        for chunk in _chunks(archive, "content.xml", name, limits):
            parser.feed(chunk)
            for event, item in cast(Iterator[tuple[str, Any]], parser.read_events()):
                element = cast(ElementTree.Element, item)
                tag = element.tag
                if tag == table:
                    inside = event == "start" and element.get(f"{_NS_TABLE}name") == sheet
                    row = 0
                elif not inside:
                    if event == "end":
                        element.clear()
                elif tag == f"{_NS_TABLE}table-row":
                    if event == "start":
                        repeat, column = int(element.get(rows_repeated, "1")), 0
                    else:
                        row += repeat
                        element.clear()
                elif tag in cells and event == "start":
                    width = int(element.get(columns_repeated, "1"))
                    code = element.get(currency) if element.get(value_type) == "currency" else None
                    if code:  # (a repeated cell is one run a column: no loop over its rows)
                        last = row + min(repeat, limits.max_cells) - 1
                        for c in range(column, column + min(width, limits.max_cells)):
                            found.add(row, c, code, last)
                    column += width
                elif event == "end" and tag in cells:
                    element.clear()
    return found if found.columns else None


def _column_index(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + letter - 64
    return number - 1


def with_currency(text: str, currency: str) -> str:
    """A number cell's text with the currency its format writes."""
    return f"{text}{SEPARATOR}{currency}"
