"""Checks a workbook before it is loaded: no file can make the reader exhaust memory.

The Excel reader (python-calamine) holds a sheet as a dense grid, one slot per cell
from the first used cell to the last: a 1.6 KB XLSX with one cell at ``XFD1048576``
asks for 17 billion slots and aborts the process. So before a sheet is loaded, its
parts are measured from the zip, streamed a MiB at a time and never held whole:

* every zip member's size and compression ratio (a zip bomb stops at the limit,
  whatever the member's header claims);
* the shared strings' size (every text cell of a workbook lives there);
* the sheet's extent (its last row times its last column, from the cell references)
  and its number of cells.

Limits, each overridable from :class:`WorkbookLimits` (and the CLI flags that set it):

* ``max_cells`` (``--max-cells``), default 20,000,000: the extent of the sheet, rows
  times columns; a million rows of 20 columns fit. calamine's grid costs about 36
  bytes a slot, so the default bounds it near 700 MiB.
* ``max_unzipped_mib`` (``--max-unzipped-mib``), default 2,048: any one part of
  the workbook, uncompressed.
* ``max_ratio``, default 200: a part's uncompressed size over its compressed size,
  checked on parts bigger than 10 MiB (sheet XML compresses 5-30x; 1,000x is a bomb).
* ``max_shared_strings_mib``, default 512: the workbook's text.

XLS files (the old binary format) are bounded by the format itself, 65,536 rows of 256
columns, which fits the grid's limit. ODS files are checked the same way as XLSX, their
repeated rows and columns counted as the cells they stand for.
"""

from __future__ import annotations

import functools
import posixpath
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast
from xml.etree import ElementTree

from importer.errors import SourceError
from importer.read._formulas import FormulaCells
from importer.read._hidden_rows import HiddenRows

__all__ = ["WorkbookLimits", "check_ods", "check_xlsx_parts", "check_xlsx_sheet"]

_CHUNK = 1 << 20
_RATIO_FROM = 10 << 20  # parts smaller than this are not judged by their ratio


@dataclass(frozen=True, slots=True)
class WorkbookLimits:
    """How big a workbook may be before it is loaded (see the module docstring)."""

    max_cells: int = 20_000_000
    max_unzipped_mib: int = 2048
    max_ratio: int = 200
    max_shared_strings_mib: int = 512


@dataclass(slots=True)
class _Extent:
    rows: int = 0
    columns: int = 0
    cells: int = 0


def check_xlsx_parts(path: Path, name: str, limits: WorkbookLimits) -> None:
    """Refuse an XLSX workbook whose parts pass a limit (before it is opened at all:
    opening reads the shared strings).

    Raises:
        SourceError: one line naming the limit passed and the option that raises it.
    """
    with _zip(path, name) as archive:
        _check_members(archive, name, limits)
        if "xl/sharedStrings.xml" in archive.NameToInfo:
            size = _streamed_size(archive, "xl/sharedStrings.xml", name, limits)
            if size > limits.max_shared_strings_mib << 20:
                raise SourceError(
                    f"{name}: the workbook's text (shared strings) is {size / 2**20:,.0f} MiB"
                    f" uncompressed; the limit is {limits.max_shared_strings_mib:,} MiB"
                    " (--max-shared-strings-mib N raises it): save the sheet as CSV and"
                    " import that"
                )


def check_xlsx_sheet(
    path: Path,
    name: str,
    sheet: str,
    limits: WorkbookLimits,
    formulas: FormulaCells | None = None,
    hidden: HiddenRows | None = None,
) -> None:
    """Refuse ``sheet`` of an XLSX workbook whose grid would pass ``max_cells``;
    ``formulas`` and ``hidden`` hear its XML as it goes by (formula cells with no
    computed value, hidden rows)."""
    with _zip(path, name) as archive:
        part = _sheet_part(archive, sheet)
        if part is not None:
            extent = _xlsx_extent(archive, part, name, limits, formulas, hidden)
            _check_extent(extent, name, sheet, limits)


def check_ods(path: Path, name: str, limits: WorkbookLimits) -> None:
    """Refuse an ODS workbook whose load would pass a limit (every sheet is counted)."""
    with _zip(path, name) as archive:
        _check_members(archive, name, limits)
        if "content.xml" in archive.NameToInfo:
            _check_extent(_ods_extent(archive, name, limits), name, None, limits)


# ---- zip members ------------------------------------------------------------------


def _zip(path: Path, name: str) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise SourceError(f"{name}: is not a valid workbook (damaged zip: {exc})") from exc


def _check_members(archive: zipfile.ZipFile, name: str, limits: WorkbookLimits) -> None:
    """The sizes the zip declares (a lying header is caught while streaming)."""
    for info in archive.infolist():
        if info.file_size > limits.max_unzipped_mib << 20:
            raise _too_big(name, info.filename, info.file_size, limits)
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > _RATIO_FROM and ratio > limits.max_ratio:
            raise SourceError(
                f"{name}: the part {info.filename} unpacks {ratio:,.0f} times its size"
                f" ({info.file_size / 2**20:,.0f} MiB); no spreadsheet program writes that"
                f" (the limit is {limits.max_ratio}x): the file is not a genuine export"
            )


def _too_big(name: str, member: str, size: int, limits: WorkbookLimits) -> SourceError:
    return SourceError(
        f"{name}: the part {member} is {size / 2**20:,.0f} MiB uncompressed; the limit is"
        f" {limits.max_unzipped_mib:,} MiB (--max-unzipped-mib): save the sheet as CSV"
        " and import that"
    )


def _chunks(
    archive: zipfile.ZipFile, member: str, name: str, limits: WorkbookLimits
) -> Iterator[bytes]:
    """The member's bytes a MiB at a time, stopped at the size limit."""
    total = 0
    try:
        with archive.open(member) as stream:
            while chunk := stream.read(_CHUNK):
                total += len(chunk)
                if total > limits.max_unzipped_mib << 20:
                    raise _too_big(name, member, total, limits)
                yield chunk
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise SourceError(f"{name}: is not a valid workbook ({member}: {exc})") from exc


def _streamed_size(archive: zipfile.ZipFile, member: str, name: str, limits: WorkbookLimits) -> int:
    return sum(map(len, _chunks(archive, member, name, limits)))


# ---- XLSX -------------------------------------------------------------------------

_NS_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_NS_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_NS_PKG = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_REF_ROW = re.compile(rb'\sr="[A-Z]{0,3}([0-9]{1,7})"')  # a row's or a cell's reference


def _sheet_part(archive: zipfile.ZipFile, sheet: str) -> str | None:
    """The zip member holding the worksheet named ``sheet`` (workbook.xml and its rels)."""
    try:
        workbook = ElementTree.fromstring(archive.read("xl/workbook.xml"))
        rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    except (KeyError, ElementTree.ParseError):
        return None  # calamine says what is wrong with the workbook
    targets = {r.get("Id"): r.get("Target", "") for r in rels.iter(f"{_NS_PKG}Relationship")}
    for element in workbook.iter(f"{_NS_MAIN}sheet"):
        if element.get("name") == sheet:
            target = targets.get(element.get(f"{_NS_REL}id"), "")
            part = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
            part = posixpath.normpath(part)
            return part if part in archive.NameToInfo else None
    return None


def _xlsx_extent(
    archive: zipfile.ZipFile,
    part: str,
    name: str,
    limits: WorkbookLimits,
    formulas: FormulaCells | None = None,
    hidden: HiddenRows | None = None,
) -> _Extent:
    """The sheet's last row, last column and cell count, from its XML, streamed.

    Rows come in order, so the last row is the last cell's. The last column is found
    with one search per MiB for a reference beyond the widest seen so far.
    """
    extent = _Extent()
    widest = ""  # letters of the widest column seen
    tail = b""
    for chunk in _chunks(archive, part, name, limits):
        if formulas is not None:
            formulas.feed(chunk)
        if hidden is not None:
            hidden.feed(chunk)
        text = tail + chunk
        extent.cells += _cells_in(text) - _cells_in(tail)
        # References written ` r="A1"` (every writer's way) are found by a literal search;
        # a chunk with another spelling (a tab, a line break before r=) takes the slow one.
        loose = text.count(b'r="') != text.count(b' r="')
        beyond = _column_beyond(widest, loose)
        while (found := beyond.search(text)) is not None:
            widest = found.group(1).decode()
            beyond = _column_beyond(widest, loose)
        extent.rows = max(extent.rows, _last_row(text, loose))
        extent.columns = _column_number(widest) if widest else 0
        if extent.cells > limits.max_cells:
            break  # already too many: no need to read on
        tail = text[-256:]  # a reference cut by the chunk's end is whole in the next text
    if not extent.columns and extent.cells:  # cells without references: calamine counts
        extent.columns = 1
    if formulas is not None:
        formulas.close()
    if hidden is not None:
        hidden.close()
    return extent


def _last_row(text: bytes, loose: bool) -> int:
    """The highest row a row or cell reference in ``text`` names (rows come in order: in
    the usual spelling the last reference is the highest)."""
    if loose:
        return max((int(row) for row in _REF_ROW.findall(text)), default=0)
    last = text.rfind(b' r="')
    match = _REF_ROW.match(text, last) if last >= 0 else None
    return int(match.group(1)) if match is not None else 0


def _cells_in(text: bytes) -> int:
    return text.count(b"<c ") + text.count(b"<c>")


@functools.lru_cache(maxsize=256)
def _column_beyond(letters: str, loose: bool) -> re.Pattern[bytes]:
    """A pattern for a cell reference whose column comes after ``letters``."""
    options = [f"[A-Z]{{{len(letters) + 1},3}}"] if len(letters) < 3 else []
    for i, letter in enumerate(letters):
        if letter < "Z":
            after = chr(ord(letter) + 1)
            rest = len(letters) - i - 1
            options.append(letters[:i] + f"[{after}-Z]" + (f"[A-Z]{{{rest}}}" if rest else ""))
    if not options:
        return re.compile(rb"(?!x)x")  # XFD and beyond: nothing is wider
    start = rb'<c\b[^>]*?\sr="(' if loose else rb' r="('
    return re.compile(start + "|".join(options).encode() + rb")[0-9]")


def _column_number(letters: str) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter) - 64
    return number


# ---- ODS --------------------------------------------------------------------------

_NS_TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
_NS_OFFICE = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"


def _ods_extent(archive: zipfile.ZipFile, name: str, limits: WorkbookLimits) -> _Extent:
    """Rows and columns up to the last cell with a value, repeats counted; streamed."""
    extent = _Extent()
    parser: ElementTree.XMLPullParser = ElementTree.XMLPullParser(events=("start", "end"))
    row_repeat, row_width, row_filled, rows_seen = 1, 0, False, 0
    for chunk in _chunks(archive, "content.xml", name, limits):
        parser.feed(chunk)
        for event, item in cast(Iterator[tuple[str, Any]], parser.read_events()):
            element = cast(ElementTree.Element, item)
            tag = element.tag
            if event == "start" and tag == f"{_NS_TABLE}table":
                rows_seen = 0
            elif event == "start" and tag == f"{_NS_TABLE}table-row":
                row_repeat = int(element.get(f"{_NS_TABLE}number-rows-repeated", "1"))
                row_width, row_filled = 0, False
            elif event == "end" and tag in (
                f"{_NS_TABLE}table-cell",
                f"{_NS_TABLE}covered-table-cell",
            ):
                repeat = int(element.get(f"{_NS_TABLE}number-columns-repeated", "1"))
                row_width += repeat
                if element.get(f"{_NS_OFFICE}value-type") or len(element):
                    row_filled = True
                    extent.columns = max(extent.columns, row_width)
                    extent.cells += repeat * row_repeat
                element.clear()
            elif event == "end" and tag == f"{_NS_TABLE}table-row":
                rows_seen += row_repeat
                if row_filled:
                    extent.rows = max(extent.rows, rows_seen)
                element.clear()
        if extent.cells > limits.max_cells or extent.rows * extent.columns > limits.max_cells:
            break
    return extent


# ---- the verdict ------------------------------------------------------------------


def _check_extent(extent: _Extent, name: str, sheet: str | None, limits: WorkbookLimits) -> None:
    where = f"the sheet {sheet!r}" if sheet is not None else "the workbook"
    if extent.cells > limits.max_cells:
        raise SourceError(
            f"{name}: {where} holds more than {limits.max_cells:,} cells, the limit"
            " (--max-cells N raises it): save the sheet as CSV and import that"
        )
    span = extent.rows * extent.columns
    if span > limits.max_cells:
        raise SourceError(
            f"{name}: {where} spans {extent.rows:,} rows × {extent.columns:,} columns"
            f" ({span:,} cells: the last row or column holds a stray cell?); the limit is"
            f" {limits.max_cells:,} cells: delete the cells beyond the data in the"
            " spreadsheet program, save the sheet as CSV, or pass --max-cells N"
        )
