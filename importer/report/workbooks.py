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
  forbids, such as a NUL, shows as its picture, ␀);
* the cells that made a row fail filled red, the error as the cell's comment: the
  input columns the failing fields are read from (``contact.email`` → ``Email``),
  or the ``status`` cell when no column is to blame (a server error).

The failures workbook imports again as it is: its input columns are the input's, and
``import_row`` / ``import_error`` are set aside as a failures CSV's are.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
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
    for result in read_results(results_csv):
        cells = source.get(result.row)
        values = [*(cells or [""] * width), *result.values()]
        blamed: dict[int, str] = {}
        if result.status in _FAILING:
            message = result.message or result.status
            positions = _blamed(result.error_fields, field_columns, input_columns)
            for position in positions or [status_at]:
                blamed[position] = message
        sheet.append(_row(sheet, values, blamed))
        count += 1
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
        for line in lines:
            values = [restored(c) for c in line]
            row = int(values[row_at]) if values[row_at].isdigit() else 0
            fields, message = errors.get(row, ((), values[-1]))
            positions = _blamed(fields, field_columns, columns) or [len(header) - 1]
            sheet.append(_row(sheet, values, dict.fromkeys(positions, message or values[-1])))
            count += 1
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
    """``text`` as a workbook can hold it: a control character XML forbids (a NUL in a
    Salesforce cell) becomes its visible picture (NUL → ␀); the CSV keeps it as it is."""
    return ILLEGAL_CHARACTERS_RE.sub(lambda m: chr(0x2400 + ord(m[0])), text)


def _start(sheet: Any, header: Sequence[str]) -> None:
    sheet.freeze_panes = "A2"
    cells = []
    for name in header:
        cell = WriteOnlyCell(sheet, value=_shown(name))
        cell.data_type = "s"
        cell.font = _BOLD
        cells.append(cell)
    sheet.append(cells)


def _finish(sheet: Any, width: int, rows: int) -> None:
    sheet.auto_filter.ref = f"A1:{get_column_letter(max(width, 1))}{rows + 1}"


def _row(sheet: Any, values: Sequence[str], blamed: Mapping[int, str]) -> list[Any]:
    cells = []
    for position, value in enumerate(values):
        cell = WriteOnlyCell(sheet, value=_shown(value) if value != "" else None)
        if value != "":
            cell.data_type = "s"  # text, as the input had it: never a number or a formula
        if position in blamed:
            cell.fill = _BAD
            cell.comment = Comment(_shown(blamed[position][:2000]), _AUTHOR, width=300, height=120)
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
