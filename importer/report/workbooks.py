"""Spreadsheets back as spreadsheets: the results and failures as XLSX workbooks.

When the input is a workbook (XLSX, XLS, ODS), or with ``--results-format xlsx``, the
run writes ``NAME.results.xlsx`` and ``NAME.failures.xlsx`` beside the CSV files (which
stay: scripts read them, and a continued run checks them). Each workbook, written
with openpyxl in write-only mode (streamed, flat memory):

* the input's columns first, then the results' (``status``, ids, ``message``...; a
  name the input uses too gets `` (result)``), or for the failures the input's
  columns then ``import_row`` and ``import_error`` (the failures CSV's columns);
* a bold, frozen header row with filters on every column;
* every cell written as text, exactly as the input had it (leading zeros, long ids;
  a value starting with ``=`` is text, never a formula; a control character XML
  forbids, such as a NUL or a carriage return, is written as the workbook's escape,
  ``_x0000_``, which Excel and this importer read back as the character);
* a cell longer than a workbook cell holds (32,767 characters) cut to fit, never
  silently: the cell is filled yellow with a comment, and the row's ``warnings`` (or
  for the failures, ``import_error``) names the cell and the file that holds it whole
  (the input, the results CSV, the failures CSV);
* the cells that made a row fail filled red, the error as the cell's comment: the
  input columns the failing fields are read from (``contact.email`` → ``Email``),
  or the ``status`` cell when no column is to blame (a server error).

The failures workbook imports again as it is: its input columns are the input's, and
``import_row`` / ``import_error`` are set aside as a failures CSV's are.
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from importer.report.results import (
    FAILURE_COLUMNS,
    RESULT_COLUMNS,
    read_results,
    restored,
)

__all__ = ["columns_of_fields", "write_failures_workbook", "write_results_workbook"]

_BAD = PatternFill("solid", fgColor="FFC7CE")
_CUT = PatternFill("solid", fgColor="FFEB9C")
#: The most characters (UTF-16 units, as Excel counts) a workbook cell holds.
MAX_CELL = 32_767
#: Characters XML cannot hold (a carriage return is read back as a line feed); each is
#: written as the workbook's escape, ``_x000D_``, which Excel and calamine read back.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x0d\x0e-\x1f]")
#: Text that reads as such an escape: its ``_`` is escaped in turn (``_x005F_``).
_LOOKS_ESCAPED = re.compile(r"_(x[0-9A-Fa-f]{4}_)")
_BOLD = Font(bold=True)
_AUTHOR = "octolane-import"
_FAILING = ("invalid", "failed", "partial", "unknown")


def columns_of_fields(fields: Iterable[tuple[str, Sequence[str]]]) -> dict[str, tuple[str, ...]]:
    """A mapping's fields (``contact.email`` → the columns it reads), for :func:`_blamed`."""
    return {key: tuple(columns) for key, columns in fields}


def write_results_workbook(
    path: Path,
    input_columns: Sequence[str],
    input_rows: Iterable[tuple[int, Sequence[str]]],
    results_csv: Path,
    field_columns: Mapping[str, tuple[str, ...]],
) -> int:
    """Write the results workbook from the results CSV and the input's rows (by row
    number, both in input order); return the rows written."""
    taken = set(input_columns)
    result_names = [f"{c} (result)" if c in taken else c for c in RESULT_COLUMNS]
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Results")
    header = [*input_columns, *result_names]
    _start(sheet, header)
    source = _by_row(input_rows)
    width, count = len(input_columns), 0
    status_at = width + RESULT_COLUMNS.index("status")
    warnings_at = width + RESULT_COLUMNS.index("warnings")
    for result in read_results(results_csv):
        cells = source.get(result.row)
        values = [*(cells or [""] * width), *result.values()]
        blamed: dict[int, str] = {}
        if result.status in _FAILING:
            message = result.message or result.status
            positions = _blamed(result.error_fields, field_columns, input_columns)
            for position in positions or [status_at]:
                blamed[position] = message
        count += 1

        def whole(position: int, row: int = result.row) -> str:
            return (
                f"the input holds it whole (row {row})"
                if position < width
                else f"the results CSV {results_csv.name!r} holds it whole"
            )

        cut = _cut(values, header, count + 1, warnings_at, whole)
        sheet.append(_row(sheet, values, blamed, cut))
    _finish(sheet, len(header), count)
    _save(workbook, path)
    return count


def write_failures_workbook(
    path: Path,
    failures_csv: Path,
    input_columns: Sequence[str],
    errors: Mapping[int, tuple[Sequence[str], str]],
    field_columns: Mapping[str, tuple[str, ...]],
) -> int:
    """Write the failures workbook from the failures CSV; ``errors`` gives each failed
    row's error fields and message (from the results); return the rows written."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Failures")
    count = 0
    with failures_csv.open(encoding="utf-8-sig", newline="") as handle:
        lines = csv.reader(handle)
        header = next(lines, None)
        if header is None:
            return 0
        header = [restored(c) for c in header]
        _start(sheet, header)
        columns = header[: len(header) - len(FAILURE_COLUMNS)]
        row_at = header.index(FAILURE_COLUMNS[0])
        whole = (
            f"the failures CSV {failures_csv.name!r} holds it whole: import that file, not"
            " this workbook, to send the whole value"
        )
        for line in lines:
            values = [restored(c) for c in line]
            row = int(values[row_at]) if values[row_at].isdigit() else 0
            fields, message = errors.get(row, ((), values[-1]))
            positions = _blamed(fields, field_columns, columns) or [len(header) - 1]
            blamed = dict.fromkeys(positions, message or values[-1])
            count += 1
            cut = _cut(values, header, count + 1, len(header) - 1, lambda _: whole)
            sheet.append(_row(sheet, values, blamed, cut))
    _finish(sheet, len(header), count)
    _save(workbook, path)
    return count


# ---- helpers ------------------------------------------------------------------------


def _save(workbook: Any, path: Path) -> None:
    """Save the workbook readable by the user only, as the CSV files are (customer data)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with open(fd, "wb") as handle:
        workbook.save(handle)


def _shown(text: str) -> str:
    """A comment's ``text`` as a workbook can hold it: a control character XML forbids
    becomes its visible picture (NUL → ␀); a comment is read, never imported."""
    return ILLEGAL_CHARACTERS_RE.sub(lambda m: chr(0x2400 + ord(m[0])), text)


def _escaped(text: str) -> str:
    """``text`` as a workbook cell holds it whole: a control character XML forbids (a
    NUL in a Salesforce cell, a carriage return) as its escape, ``_x0000_``, which Excel
    and the reader (calamine) read back as the character."""
    if "_x" in text:
        text = _LOOKS_ESCAPED.sub(r"_x005F_\1", text)
    return _CONTROL.sub(lambda m: f"_x{ord(m[0]):04X}_", text)


def _units(text: str) -> int:
    """The cell's length as Excel counts it (a character beyond U+FFFF counts twice)."""
    return len(text.encode("utf-16-le")) // 2


def _fitted(text: str) -> tuple[str, int | None]:
    """``text`` escaped for a cell, and how many of its characters are kept when it
    does not fit (None when it does)."""
    written = _escaped(text)
    if len(written) <= MAX_CELL // 2 or _units(written) <= MAX_CELL:
        return written, None
    low, high = 0, min(len(text), MAX_CELL)  # the longest start of text that fits
    while low < high:
        middle = (low + high + 1) // 2
        if _units(_escaped(text[:middle])) <= MAX_CELL:
            low = middle
        else:
            high = middle - 1
    return _escaped(text[:low]), low


def _cut(
    values: list[str],
    header: Sequence[str],
    number: int,
    note_at: int,
    whole: Callable[[int], str],
) -> dict[int, str]:
    """The cells of ``values`` (the workbook's row ``number``) too long for a cell,
    each with what its comment says; the row's ``note_at`` cell names them too."""
    said: dict[int, str] = {}
    for position, value in enumerate(values):
        if len(value) * 7 <= MAX_CELL:  # (fits, each character escaped or not)
            continue
        kept = _fitted(value)[1]
        if kept is None:
            continue
        name = header[position] if position < len(header) else ""
        said[position] = (
            f"{get_column_letter(position + 1)}{number} (column {name!r}) is cut to {kept:,}"
            f" of its {len(value):,} characters in this workbook (a cell holds at most"
            f" {MAX_CELL:,}): {whole(position)}"
        )
    if said and note_at < len(values):
        note = "; ".join(said.values())
        old = values[note_at]
        joined = f"{old} | {note}" if old else note
        if _fitted(joined)[1] is not None:  # (the note cell is the long one)
            joined = f"{note} | {old}"
        values[note_at] = joined
    return said


def _start(sheet: Any, header: Sequence[str]) -> None:
    sheet.freeze_panes = "A2"
    cells = []
    for name in header:
        cell = WriteOnlyCell(sheet, value=_escaped(name))
        cell.data_type = "s"
        cell.font = _BOLD
        cells.append(cell)
    sheet.append(cells)


def _finish(sheet: Any, width: int, rows: int) -> None:
    sheet.auto_filter.ref = f"A1:{get_column_letter(max(width, 1))}{rows + 1}"


def _row(
    sheet: Any, values: Sequence[str], blamed: Mapping[int, str], cut: Mapping[int, str]
) -> list[Any]:
    cells = []
    for position, value in enumerate(values):
        cell = WriteOnlyCell(sheet, value=_fitted(value)[0] if value != "" else None)
        if value != "":
            cell.data_type = "s"  # text, as the input had it: never a number or a formula
        said = [blamed[position]] if position in blamed else []
        if position in cut:
            said.append(cut[position])
            cell.fill = _CUT
        if position in blamed:
            cell.fill = _BAD
        if said:
            text = _shown("\n\n".join(said)[:2000])
            cell.comment = Comment(text, _AUTHOR, width=300, height=120)
        cells.append(cell)
    return cells


def _blamed(
    fields: Sequence[str], field_columns: Mapping[str, tuple[str, ...]], columns: Sequence[str]
) -> list[int]:
    """The positions of the input columns the failing fields are read from."""
    names: list[str] = []
    for field in fields:
        for key, read in field_columns.items():
            if field == key or field.startswith(key + ".") or key.startswith(field + "."):
                names.extend(read)
    index = {name: i for i, name in enumerate(columns)}
    return sorted({index[name] for name in names if name in index})


def _by_row(rows: Iterable[tuple[int, Sequence[str]]]) -> _Rows:
    return _Rows(iter(rows))


class _Rows:
    """The input's rows by number, read forward once (both files are in input order)."""

    def __init__(self, rows: Iterator[tuple[int, Sequence[str]]]) -> None:
        self._rows, self._next = rows, next(rows, None)

    def get(self, number: int) -> Sequence[str] | None:
        while self._next is not None and self._next[0] < number:
            self._next = next(self._rows, None)
        if self._next is not None and self._next[0] == number:
            return self._next[1]
        return None
