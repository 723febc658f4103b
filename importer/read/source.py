"""Read a CRM export (CSV, TSV, XLSX, XLS, ODS) as rows of text, in batches.

``open_source`` looks at the file's bytes, decides how to read it and checks
that it has a header and at least one data row; ``Source.batches()`` then
streams the rows. Every cell is text exactly as the file holds it: leading
zeros stay, nothing becomes a float, empty cells are ``""``.

Example::

    with open_source("leads.csv") as source:
        print(source.info.encoding, source.info.delimiter, source.info.columns)
        for batch in source.batches():
            for number, row in zip(batch.row_numbers, batch.rows):
                ...  # number is the row a spreadsheet shows; row[i] is columns[i]

How a file is read:

* **Format** from the content, not the name: a zip holding ``xl/workbook.xml``
  is XLSX, a zip whose ``mimetype`` says so is ODS, an OLE2 compound file is XLS, other recognisable binaries (or more
  than 1% control bytes) are refused, and the rest is delimited text. A
  ``.csv`` that is really a workbook is read as one, and the other way round.
* **Encoding** (CSV): a BOM decides (UTF-8, UTF-16, UTF-32); UTF-16 without a
  BOM is recognised by its NUL bytes; otherwise strict UTF-8 is tried on the
  first MiB and then on the rest of the file (streamed), and only if it fails
  is the encoding detected with charset-normalizer, preferring Windows-1252
  among equally plausible Western code pages (ISO-8859-1 files are reported as
  ``cp1252``, their superset). The whole file is checked at open, so a bad byte
  is reported before any row is processed; ``encoding=`` overrides detection.
* **Delimiter** (CSV): Excel's ``sep=;`` first line if present (it is row 1,
  the header row 2); else sniffed among ``, ; tab |`` by parsing the first
  records with each; ``delimiter=`` overrides (``"tab"`` and ``"\\t"`` work).
* **Header**: the first filled row, after any title rows (a report name or
  "Generated: <date>" line: one or two cells above a wider header), in CSV and
  Excel alike; ``header_row=N`` (the spreadsheet row number) overrides.
  Header cells are stripped; empty ones become ``Column N``; repeated ones
  ``Phone``, ``Phone (2)``.
* **Rows** are numbered as a spreadsheet shows them (CSV header = row 1; a
  quoted multi-line record is one row). Blank rows (every cell empty or
  whitespace) below the header are skipped and counted in
  ``Source.blank_rows``. Short rows are padded with ``""``; cells beyond the
  header are dropped, and reported in ``RowBatch.problems`` when not empty.
  A quoted cell that never closes is an error naming its row.
* **Excel**: ``sheet=`` is a sheet name or a 1-based number in workbook order
  (a string of digits names a sheet first, then a number); the default is the
  first visible worksheet. Values are read with python-calamine, which loads
  the whole sheet into memory as a dense grid; the sheet is measured first
  (:mod:`importer.read._workbook_limits`: extent, cells, unpacked sizes) and
  refused with one line when it passes a limit; dates
  become ``YYYY-MM-DD``, datetimes ``YYYY-MM-DD HH:MM:SS``, times ``HH:MM:SS``,
  durations ``H:MM:SS``, whole numbers ``12345`` (no ``.0``), other numbers
  their shortest decimal form (never scientific), booleans ``TRUE``/``FALSE``.
  Leading zeros shown only by a number format (``00501``) are not recovered.
  A merged cell's value fills down its column, each row that gets it saying so
  (:mod:`importer.read._merged`). An XLSX row hidden in the sheet (a filter's) is
  read like the others, and says so (:mod:`importer.read._hidden_rows`).
* **Memory**: CSV is streamed ``batch_rows`` records at a time (a batch holds
  fewer rows when some were blank); only the current batch is held, however
  long the file is. Reading a 12-column CSV runs at ~350k rows/s (see
  ``benchmarks/bench_read.py``).

Every problem with the file is a :class:`~importer.errors.SourceError` whose
one-line message names the file (and the row where there is one); a bad
option is a :class:`~importer.errors.UsageError`.
"""

from __future__ import annotations

import io
import os
import re
import stat
from collections.abc import Collection, Generator, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import compress, islice
from operator import itemgetter
from pathlib import Path
from typing import Literal

import python_calamine

from importer._gc import gc_paused
from importer.errors import SourceError, UsageError
from importer.read._cell_currency import (
    NUMBER_TEXT,
    CellCurrencies,
    cell_currencies,
    ods_cell_currencies,
    with_currency,
)
from importer.read._csv import CsvFile
from importer.read._excel import cell_text, load_sheet
from importer.read._formulas import FormulaCells
from importer.read._hidden_rows import HiddenRows
from importer.read._merged import MergedCells, letters
from importer.read._sniff import (
    SAMPLE_BYTES,
    check_markup,
    column_names,
    decode_errors,
    decode_sample,
    detect_format,
    find_header_index,
    is_filled,
    resolve_encoding,
    sniff_delimiter,
    split_sep_line,
    utf8_mojibake,
)
from importer.read._workbook_limits import (
    WorkbookLimits,
    check_ods,
    check_xlsx_parts,
    check_xlsx_sheet,
)

__all__ = [
    "BATCH_ROWS",
    "DELIMITER_NAMES",
    "RowBatch",
    "Source",
    "SourceInfo",
    "WorkbookLimits",
    "open_source",
]

_PREVIEW_ROWS = 30
#: The delimiters a person names in words, and the one character each stands for.
#: Rows read at a time: what a batch of cells (and, linked, their joined columns) holds.
BATCH_ROWS = 5_000

DELIMITER_NAMES = {"comma": ",", "semicolon": ";", "tab": "\t", "pipe": "|"}
_DELIMITER_ALIASES = {**DELIMITER_NAMES, "\\t": "\t"}
_DELIMITER_WORDS = {char: word for word, char in DELIMITER_NAMES.items()}


@dataclass(frozen=True)
class SourceInfo:
    """How the file is read. ``size_bytes`` is an addition to the design contract."""

    path: Path
    format: Literal["csv", "xlsx", "xls", "ods"]  # tsv/psv are csv with another delimiter
    encoding: str | None  # e.g. "utf-8", "utf-8-sig", "cp1252", "utf-16"; None for Excel
    delimiter: str | None  # None for Excel
    sheet: str | None  # Excel sheet name
    header_row: int  # spreadsheet row number of the header
    columns: tuple[str, ...]  # header cells, stripped; repeats made unique: "Phone (2)"
    size_bytes: int = 0


#: How the note of a row with more cells than the header starts (it leads the row's
#: notes): such a row's cells are not under their columns, so it is rejected whole.
SPLIT_ROW = "row has "


@dataclass(frozen=True)
class RowBatch:
    """Up to ``batch_rows`` consecutive non-blank rows.

    ``problems`` (row number -> message) holds rows that lost cells beyond the
    header; ``bytes_read`` is how far into the file the reading is, for a
    progress bar (proportional to rows for Excel). Both are additions to the
    design contract.
    """

    row_numbers: list[int]  # spreadsheet row numbers (header = row 1 in csv)
    rows: list[list[str]]  # cells as text, len == len(columns), "" for empty
    problems: dict[int, str] = field(default_factory=dict)
    bytes_read: int = 0


class Source:
    """An opened input file; returned by :func:`open_source`, also a context manager.

    ``batches()`` may be called again: each call reads from the first data row,
    and ``blank_rows`` counts the blank rows skipped by the latest call.
    """

    info: SourceInfo
    blank_rows: int
    #: What the file as a whole should say (a workbook's merged or hidden rows), for the
    #: run's summary; each row concerned says so too, in its batch's ``problems``.
    notes: list[str]

    def __init__(self, info: SourceInfo, batch_rows: int) -> None:
        self.info = info
        self.blank_rows = 0
        self.notes = []
        self._batch_rows = batch_rows
        self._running: list[Generator[RowBatch, None, None]] = []

    def batches(self) -> Iterator[RowBatch]:
        """Yield the data rows in batches of at most ``batch_rows`` rows."""
        iterator = self._iter_batches()
        self._running.append(iterator)
        return iterator

    def close(self) -> None:
        """Stop any unfinished ``batches()`` iteration and release the file."""
        for iterator in self._running:
            iterator.close()
        self._running.clear()

    def __enter__(self) -> Source:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _iter_batches(self) -> Generator[RowBatch, None, None]:  # pragma: no cover
        raise NotImplementedError

    def _assemble(self, chunk: list[list[str]], first_row: int, bytes_read: int) -> RowBatch:
        """Number the records, skip (and count) blank ones, fit the rest to the header."""
        width = len(self.info.columns)
        if set(map(len, chunk)) != {width}:
            return self._assemble_ragged(chunk, first_row, bytes_read)
        # Only a row whose first cell is blank can be blank: a cheap test first.
        firsts = enumerate(map(itemgetter(0), chunk))
        blank = {i for i, first in firsts if not first.strip() and not "".join(chunk[i]).strip()}
        numbers = range(first_row, first_row + len(chunk))
        if not blank:
            return RowBatch(list(numbers), chunk, {}, bytes_read)
        self.blank_rows += len(blank)
        keep = [i not in blank for i in range(len(chunk))]
        return RowBatch(list(compress(numbers, keep)), list(compress(chunk, keep)), {}, bytes_read)

    def _assemble_ragged(self, chunk: list[list[str]], first_row: int, bytes_read: int) -> RowBatch:
        width = len(self.info.columns)
        numbers, rows, problems = [], [], {}
        for number, row in enumerate(chunk, first_row):
            if not "".join(row).strip():
                self.blank_rows += 1
                continue
            if len(row) < width:
                row.extend([""] * (width - len(row)))
            elif len(row) > width:
                if "".join(row[width:]).strip():
                    extra = [c for c in row[width:] if c.strip()]
                    shown = ", ".join(_quoted(c) for c in extra[:3])
                    more = f" and {len(extra) - 3} more" if len(extra) > 3 else ""
                    problems[number] = (
                        f"{SPLIT_ROW}{len(row)} cells but the header has {width}: a value"
                        " holding the delimiter without quotes has split it, so its cells"
                        f" are not under their columns (beyond the header: {shown}{more});"
                        " quote that value in the file"
                    )
                del row[width:]
            numbers.append(number)
            rows.append(row)
        return RowBatch(numbers, rows, problems, bytes_read)


def open_source(
    path: str | os.PathLike[str],
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
    sheet: str | int | None = None,
    header_row: int | None = None,
    batch_rows: int = BATCH_ROWS,
    limits: WorkbookLimits | None = None,
    money_columns: Collection[str] = (),
) -> Source:
    """Open a CSV/TSV/XLSX/XLS/ODS export for reading; see the module docstring for the rules.

    Args:
        path: the file.
        encoding: CSV text encoding (a Python codec name); detected if ``None``.
        delimiter: CSV delimiter (one character, or ``"tab"``); sniffed if ``None``.
        sheet: Excel sheet name, or 1-based number in workbook order.
        header_row: spreadsheet row number of the header; found if ``None``.
        batch_rows: records read per batch (the memory bound for CSV).
        limits: how big a workbook may be before it is loaded (defaults: ``WorkbookLimits()``).
        money_columns: the columns read as amounts: in a workbook, their number cells
            whose format shows a currency read as ``3000.5\u00a0€`` (every other cell
            reads as its number alone).

    Raises:
        SourceError: the file is missing, empty, binary, undecodable, has no data
            rows, or names an unknown sheet.
        UsageError: an option is invalid or does not apply to this file's format.

    Example::

        >>> source = open_source("leads.csv")                        # doctest: +SKIP
        >>> source.info.columns, source.info.encoding                 # doctest: +SKIP
        (('Email', 'First Name', 'Phone Number'), 'utf-8')
    """
    name = os.fspath(path)
    file = Path(path)
    limits = limits or WorkbookLimits()
    delimiter = _check_options(delimiter, header_row, batch_rows, sheet)
    head = _read_head(file, name)
    file_format = detect_format(file, head, name)
    if file_format == "csv":
        if sheet is not None:
            raise UsageError(f"{name}: --sheet applies to Excel workbooks; this is a CSV text file")
        return _open_csv(file, name, head, encoding, delimiter, header_row, batch_rows)
    if encoding is not None or delimiter is not None:
        raise UsageError(
            f"{name}: --encoding and --delimiter apply to CSV files; this is an Excel workbook"
        )
    return _open_excel(
        file, name, file_format, sheet, header_row, batch_rows, limits, money_columns
    )


def _check_options(
    delimiter: str | None, header_row: int | None, batch_rows: int, sheet: object
) -> str | None:
    if delimiter is not None:
        delimiter = _DELIMITER_ALIASES.get(delimiter.lower(), delimiter)
        if len(delimiter) != 1 or delimiter in '"\r\n':
            raise UsageError(
                f"--delimiter must be one character such as , ; | or tab, not {delimiter!r}"
            )
    for label, value in (("--header-row", header_row), ("batch_rows", batch_rows)):
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or value < 1
        ):
            raise UsageError(f"{label} must be a whole number from 1, not {value!r}")
    if sheet is not None and (isinstance(sheet, bool) or not isinstance(sheet, int | str)):
        raise UsageError(f"--sheet must be a sheet name or number, not {sheet!r}")
    return delimiter


def _read_head(file: Path, name: str) -> bytes:
    try:
        mode = file.stat().st_mode
        if stat.S_ISDIR(mode):
            raise SourceError(f"{name}: is a directory, not a file")
        with file.open("rb") as f:
            head = f.read(SAMPLE_BYTES)
    except FileNotFoundError as exc:
        raise SourceError(f"{name}: no such file") from exc
    except PermissionError as exc:
        raise SourceError(f"{name}: cannot be read (permission denied)") from exc
    except OSError as exc:
        raise SourceError(f"{name}: cannot be read ({exc.strerror or exc})") from exc
    if not head:
        raise SourceError(f"{name}: the file is empty")
    return head


# ---- CSV ------------------------------------------------------------------------


class _CsvSource(Source):
    def __init__(
        self,
        info: SourceInfo,
        batch_rows: int,
        file: CsvFile,
        mojibake: re.Pattern[str] | None = None,
    ) -> None:
        super().__init__(info, batch_rows)
        self._file = file
        self._mojibake = mojibake  # UTF-8 letters in a Western code page's text: read back

    def _iter_batches(self) -> Generator[RowBatch, None, None]:
        self.blank_rows = 0
        file = self._file
        with file.records() as (records, raw):
            file.take(records, raw, self.info.header_row)  # up to and including the header
            next_row = self.info.header_row + 1
            while True:
                chunk = file.take(records, raw, self._batch_rows)
                ended = file.drop_eof(chunk, next_row)
                if chunk:
                    batch = self._assemble(chunk, next_row, raw.tell())
                    next_row += len(chunk)
                    if batch.rows:
                        if self._mojibake is not None:
                            _read_back_utf8(batch, self._mojibake, self.info.encoding or "")
                        yield batch
                if ended:
                    return


def _open_csv(
    path: Path,
    name: str,
    head: bytes,
    encoding: str | None,
    delimiter: str | None,
    header_row: int | None,
    batch_rows: int,
) -> Source:
    forced, encoding = encoding, resolve_encoding(path, head, name, encoding)
    whole = len(head) < SAMPLE_BYTES
    text = decode_sample(head, encoding, final=whole)
    check_markup(text, name)
    sep, body = split_sep_line(text)
    if delimiter is None:
        tsv = path.suffix.lower() in (".tsv", ".tab")
        delimiter = sep or sniff_delimiter(body, truncated=not whole, prefer_tab=tsv)
    file = CsvFile(path, name, encoding, delimiter, _text_end(path, encoding))
    first = 1 if sep else 0  # records before the header's earliest place
    with file.records() as (records, raw):
        preview = file.take(records, raw, max(header_row or 0, first + _PREVIEW_ROWS))
        ended = file.drop_eof(preview, 1)
        index = _header_index(preview, first, header_row, name, sheet=None)
        if not _has_data(preview, index, records, raw, file, ended):
            raise SourceError(
                f"{name}: the file has a header row but no data rows (read as"
                f" {_DELIMITER_WORDS.get(delimiter, repr(delimiter))}-delimited, the header on"
                f" row {index + 1}): if that is not how the file is laid out, pass"
                " --delimiter or --header-row"
            )
    columns = column_names(preview[index])
    info = SourceInfo(
        path, "csv", encoding, delimiter, None, index + 1, columns, path.stat().st_size
    )
    mojibake = utf8_mojibake(path, encoding) if forced is None else None
    return _CsvSource(info, batch_rows, file, mojibake)


def _read_back_utf8(batch: RowBatch, mojibake: re.Pattern[str], encoding: str) -> None:
    """Cells of a Western code page's file that hold UTF-8 letters (a row pasted in from
    a UTF-8 file: 'Ã©' for 'é') read as UTF-8 where the whole cell is UTF-8; each such
    row says so, and a cell that cannot be read back is said to read garbled."""
    errors = decode_errors(encoding)
    for number, row in zip(batch.row_numbers, batch.rows, strict=True):
        if mojibake.search("\x1f".join(row)) is None:
            continue
        read, garbled = [], []
        for i, cell in enumerate(row):
            if mojibake.search(cell) is None:
                continue
            try:
                better = cell.encode(encoding, errors).decode("utf-8")
            except UnicodeError:
                garbled.append(_quoted(cell))
                continue
            row[i] = better
            read.append(f"{_quoted(cell)} as {_quoted(better)}")
        notes = []
        if read:
            notes.append(
                f"read as UTF-8 (the file is {encoding}, these cells were written in UTF-8):"
                f" {', '.join(read[:3])}{' ...' if len(read) > 3 else ''}"
            )
        if garbled:
            notes.append(
                f"{', '.join(garbled[:3])} mixes {encoding} and UTF-8 bytes, so it reads"
                " garbled: correct it in the file"
            )
        note = "; ".join(notes)
        batch.problems[number] = (
            f"{batch.problems[number]}; {note}" if number in batch.problems else note
        )


def _quoted(cell: str) -> str:
    return repr(cell) if len(cell) <= 40 else repr(cell[:37] + "...")


def _text_end(path: Path, encoding: str) -> int | None:
    """Where the text ends when DOS's end-of-file mark (^Z, 0x1A) closes the file."""
    if encoding.startswith(("utf-16", "utf-32")):
        return None
    size = path.stat().st_size
    with path.open("rb") as f:
        f.seek(max(0, size - 64))
        tail = f.read()
    marks = len(tail) - len(tail.rstrip(b"\x1a"))
    return size - marks if marks else None


def _has_data(
    preview: list[list[str]],
    header_index: int,
    records: Iterator[list[str]],
    raw: io.BufferedReader,
    file: CsvFile,
    ended: bool,
) -> bool:
    """Whether a filled record follows the header (read on past blank ones if need be)."""
    if any(map(_is_filled_row, preview[header_index + 1 :])):
        return True
    next_row = len(preview) + 1
    while not ended:
        chunk = file.take(records, raw, 1000)
        ended = file.drop_eof(chunk, next_row)
        if any(map(_is_filled_row, chunk)):
            return True
        next_row += len(chunk)
    return False


def _header_index(
    preview: Sequence[Sequence[object]],
    first: int,
    header_row: int | None,
    name: str,
    sheet: str | None,
) -> int:
    """0-based index of the header row in ``preview``; errors name the file (and sheet)."""
    where = f"{name}: sheet {sheet!r}" if sheet is not None else name
    if header_row is None:
        found = find_header_index(preview[first:])
        if found is None:
            raise SourceError(
                f"{where} is empty" if sheet is not None else f"{name}: the file is empty"
            )
        return first + found
    if header_row <= first:
        raise SourceError(
            f"{name}: row 1 is Excel's 'sep=' line, not the header; the header is row 2"
        )
    if header_row > len(preview):
        raise SourceError(f"{where} has no row {header_row} (the last row is {len(preview)})")
    if not _is_filled_row(preview[header_row - 1]):
        raise SourceError(f"{where}: row {header_row} is blank, so it cannot be the header")
    return header_row - 1


# ---- Excel ----------------------------------------------------------------------


class _ExcelSource(Source):
    def __init__(
        self,
        info: SourceInfo,
        batch_rows: int,
        sheet: python_calamine.CalamineSheet,
        currencies: CellCurrencies | None = None,
        formulas: dict[int, list[tuple[int, str]]] | None = None,
        hidden: HiddenRows | None = None,
    ):
        super().__init__(info, batch_rows)
        self._sheet = sheet  # calamine holds the whole sheet; freed with the Source
        self._currencies = currencies  # the number cells whose format writes a currency
        self._formulas = formulas  # formula cells with no computed value, by row
        self._merged = self._merged_cells()
        if self._merged is not None and (said := self._merged.summary(info.sheet or "")):
            self.notes.append(said)
        self._hidden: set[int] = set()  # the hidden data rows, and what each says
        self._hidden_note = ""
        if hidden is not None:
            self._hidden = {n for n in hidden.found if n > info.header_row}
            if self._hidden:
                self._hidden_note, said = _hidden_notes(self._hidden, hidden, info.sheet or "")
                self.notes.append(said)

    def _merged_cells(self) -> MergedCells | None:
        """The sheet's merged ranges over data rows (calamine reads them from XLSX and
        XLS; an older calamine, or a format without them, has none)."""
        ranges = getattr(self._sheet, "merged_cell_ranges", None)
        if not ranges:
            return None
        start = self._sheet.start
        offset = start[1] if start else 0
        merged = MergedCells(ranges, self.info.header_row - 1, offset, self.info.columns)
        return merged if merged.ranges else None

    def _iter_batches(self) -> Generator[RowBatch, None, None]:
        self.blank_rows = 0
        rows = self._sheet.iter_rows()  # row i (from 0) is spreadsheet row i + 1
        end = self._sheet.end  # (row, column) of the last cell, from 0
        total_rows = end[0] + 1 if end else 1
        for _ in islice(rows, self.info.header_row):
            pass
        next_row = self.info.header_row + 1
        merged = self._merged.fresh() if self._merged is not None else None
        while chunk := _excel_chunk(rows, self._batch_rows):
            if self._currencies is not None:
                _write_currencies(chunk, next_row - 1, self._sheet.start, self._currencies)
            done = min(next_row + len(chunk) - 1, total_rows)
            batch = self._assemble(chunk, next_row, self.info.size_bytes * done // total_rows)
            next_row += len(chunk)
            if batch.rows:
                if merged is not None:
                    _add_problems(batch, merged.apply(batch.row_numbers, batch.rows))
                if self._hidden:
                    hidden = self._hidden.intersection(batch.row_numbers)
                    _add_problems(batch, dict.fromkeys(sorted(hidden), self._hidden_note))
                if self._formulas:
                    _say_formulas(batch, self._formulas, self._sheet.start, self.info.columns)
                yield batch


def _open_excel(
    path: Path,
    name: str,
    file_format: Literal["xlsx", "xls", "ods"],
    sheet: str | int | None,
    header_row: int | None,
    batch_rows: int,
    limits: WorkbookLimits,
    money_columns: Collection[str] = (),
) -> Source:
    formulas = hidden = None
    if file_format == "xlsx":
        check_xlsx_parts(path, name, limits)  # before calamine reads the shared strings
        formulas = FormulaCells()  # (found by the sheet's measuring, which streams it)
        hidden = HiddenRows()
    elif file_format == "ods":
        check_ods(path, name, limits)
    data, sheet_name = load_sheet(
        path,
        name,
        sheet,
        check=(lambda chosen: check_xlsx_sheet(path, name, chosen, limits, formulas, hidden))
        if file_format == "xlsx"
        else None,
    )
    currencies = None  # (an XLS cell's format is not read: its number stays plain)
    if not money_columns:
        pass  # no column is read as an amount: every number stays plain
    elif file_format == "xlsx":
        currencies = cell_currencies(path, name, sheet_name, limits)
    elif file_format == "ods":
        currencies = ods_cell_currencies(path, name, sheet_name, limits)
    rows = data.iter_rows()
    preview = list(islice(rows, (header_row or 0) + _PREVIEW_ROWS))
    try:
        index = _header_index(preview, 0, header_row, name, sheet=sheet_name)
    except SourceError as exc:
        if sheet is not None or not str(exc).endswith(" is empty"):
            raise
        others = [n for n in _sheet_names(path) if n != sheet_name]
        if not others:
            raise
        raise SourceError(
            f"{name}: sheet {sheet_name!r}, the first visible one, is empty; the workbook's"
            f" other sheets are: {', '.join(map(repr, others))}: pass --sheet with the one"
            f" that holds the export (--sheet {others[0]!r})"
        ) from None
    if not any(map(_is_filled_row, preview[index + 1 :])) and not any(map(_is_filled_row, rows)):
        raise SourceError(f"{name}: sheet {sheet_name!r} has a header row but no data rows")
    columns = column_names([cell_text(c) for c in preview[index]])
    size = path.stat().st_size
    info = SourceInfo(path, file_format, None, None, sheet_name, index + 1, columns, size)
    if currencies is not None:
        currencies = currencies.only(_positions(columns, money_columns), data.start)
    found = formulas.found if formulas is not None else None
    return _ExcelSource(info, batch_rows, data, currencies, found, hidden)


def _hidden_notes(rows: set[int], hidden: HiddenRows, sheet: str) -> tuple[str, str]:
    """What a hidden row says, and the summary's line: they are imported all the same
    (nothing is lost), and the user who filtered the sheet sees which they are."""
    how = "by its filter or by hand" if hidden.filtered else "by hand or in a collapsed group"
    row = (
        f"the row is hidden in sheet {sheet!r} ({how}) and is imported like the visible"
        " rows: to leave it out, delete it from the sheet"
    )
    shown = sorted(rows)
    numbers = ", ".join(map(str, shown[:5])) + (
        f" and {len(shown) - 5:,} more" if len(shown) > 5 else ""
    )
    count = len(shown)
    summary = (
        f"sheet {sheet!r} has {count:,} hidden row{'s' if count > 1 else ''} ({how}):"
        f" {numbers}; {'they are' if count > 1 else 'it is'} imported like the visible rows,"
        f" each saying so in its warnings: to import only the rows the sheet shows, delete"
        " the hidden ones (or copy the visible rows to a new sheet) and import again"
    )
    return row, summary


def _say_formulas(
    batch: RowBatch,
    formulas: dict[int, list[tuple[int, str]]],
    start: tuple[int, int] | None,
    columns: Sequence[str],
) -> None:
    """Each row with a formula cell that holds no computed value says so: the cell reads
    empty, and saving the workbook in a spreadsheet computes it."""
    offset = start[1] if start else 0
    for number in batch.row_numbers:
        cells = formulas.get(number - 1)
        if not cells:
            continue
        named = []
        for column, formula in cells[:3]:
            at = column - offset
            label = repr(columns[at]) if 0 <= at < len(columns) else "beyond the header"
            named.append(
                f"{letters(column)}{number} (column {label}{', ' + formula if formula else ''})"
            )
        note = (
            f"formula cell{'s' if len(cells) > 1 else ''} {', '.join(named)}"
            f"{' ...' if len(cells) > 3 else ''}"
            + (
                " hold no computed value, so they read empty"
                if len(cells) > 1
                else " holds no computed value, so it reads empty"
            )
            + ": open the workbook in Excel or LibreOffice and save it, which computes it"
        )
        old = batch.problems.get(number)
        batch.problems[number] = f"{old}; {note}" if old else note


def _add_problems(batch: RowBatch, notes: dict[int, str]) -> None:
    for number, note in notes.items():
        old = batch.problems.get(number)
        batch.problems[number] = f"{old}; {note}" if old else note


def _positions(columns: Sequence[str], names: Collection[str]) -> set[int]:
    """Where ``names`` are among ``columns`` (from 0): exactly, else ignoring case and
    runs of spaces, as a mapping binds them."""
    exact = {c: i for i, c in enumerate(columns)}
    loose = {" ".join(c.split()).casefold(): i for i, c in reversed(list(enumerate(columns)))}
    found = (exact.get(n, loose.get(" ".join(n.split()).casefold())) for n in names)
    return {i for i in found if i is not None}


def _sheet_names(path: Path) -> list[str]:
    try:
        with python_calamine.CalamineWorkbook.from_path(path) as workbook:
            return list(workbook.sheet_names)
    except python_calamine.CalamineError:
        return []


def _excel_chunk(rows: Iterator[Sequence[object]], n: int) -> list[list[str]]:
    with gc_paused():
        return [
            [v if type(v) is str else cell_text(v) for v in values] for values in islice(rows, n)
        ]


def _write_currencies(
    chunk: list[list[str]],
    first_row: int,
    start: tuple[int, int] | None,
    currencies: CellCurrencies,
) -> None:
    """Each number cell of ``chunk`` whose format writes a currency gets it in its text
    (``3000.5\u00a0€``: see :mod:`importer.read._xlsx_currency`). ``first_row``: the
    sheet row (from 0) of the chunk's first; ``start``: the sheet's first cell (its rows
    are the sheet's from 0, its columns from the first used one)."""
    offset = start[1] if start else 0
    for column in currencies.columns:
        index = column - offset
        if index < 0:
            continue
        for i, cells in enumerate(chunk):
            if index < len(cells) and NUMBER_TEXT.fullmatch(cells[index]):
                currency = currencies.at(first_row + i, column)
                if currency is not None:
                    cells[index] = with_currency(cells[index], currency)


def _is_filled_row(values: Sequence[object]) -> bool:
    return any(map(is_filled, values))
