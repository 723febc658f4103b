"""Merged cells of a workbook sheet: a merged range's value fills down its column.

A merged range holds its value in its top-left cell alone; the cells it covers are
empty in the file, though the sheet shows the value across them. A company name
merged down over the three rows of its contacts would leave two of them without a
company, silently. So, as the rows stream by:

* a covered cell in the range's first column, below its top-left cell, reads the
  range's value (fill-down: what the sheet shows), and its row says so;
* a covered cell right of the first column stays empty (the value belongs to the
  first column's field, not to the next ones), and its row says so;
* a range that starts on or above the header row has no data value to fill: the
  covered data cells stay empty, and their rows say so.

A covered cell that holds a value of its own (a script wrote one) keeps it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["MergedCells", "cell_name", "letters"]

#: Covered cells named on one row's note, at most.
_SHOWN = 3


@dataclass(frozen=True, slots=True)
class _Range:
    top: int  # rows and columns from 0, the sheet's own
    left: int
    bottom: int
    right: int

    @property
    def name(self) -> str:
        return f"{cell_name(self.top, self.left)}:{cell_name(self.bottom, self.right)}"


class MergedCells:
    """The sheet's merged ranges that cover data rows, applied to the rows in order.

    ``ranges`` are calamine's ``((top, left), (bottom, right))`` from 0; ``header``
    is the header's row (from 0); ``offset`` the column (from 0) of a row's first cell.
    """

    def __init__(
        self,
        ranges: Sequence[tuple[tuple[int, int], tuple[int, int]]],
        header: int,
        offset: int,
        columns: Sequence[str],
    ) -> None:
        found = [_Range(t, left, b, r) for (t, left), (b, r) in ranges]
        self.ranges = sorted(
            (m for m in found if m.bottom > header and (m.bottom > m.top or m.right > m.left)),
            key=lambda m: m.top,
        )
        self._header, self._offset, self._columns = header, offset, columns
        self._next = 0  # the next range (by top row) not yet under way
        self._open: list[_Range] = []  # ranges that cover the current row
        self._values: dict[_Range, str] = {}  # a data range's value, from its top row

    def fresh(self) -> MergedCells:
        """The same ranges, to apply from the first data row again."""
        again = MergedCells((), self._header, self._offset, self._columns)
        again.ranges = self.ranges
        return again

    def summary(self, sheet: str) -> str | None:
        """The file's line about its merged cells, or None when none covers a data row."""
        if not self.ranges:
            return None
        names = ", ".join(m.name for m in self.ranges[:_SHOWN])
        more = f" and {len(self.ranges) - _SHOWN:,} more" if len(self.ranges) > _SHOWN else ""
        count = len(self.ranges)
        return (
            f"sheet {sheet!r} has {count:,} merged cell{'s' if count > 1 else ''} over its"
            f" data rows ({names}{more}): a merged value is filled down its column, as the"
            " sheet shows it; each row that gets it, or whose covered cells stay empty, says so"
        )

    def apply(self, numbers: Sequence[int], rows: list[list[str]]) -> dict[int, str]:
        """Fill the covered cells of ``rows`` (spreadsheet ``numbers``, in order); return
        each changed or emptied row's note."""
        notes: dict[int, str] = {}
        for number, row in zip(numbers, rows, strict=True):
            at = number - 1
            self._advance(at)
            if not self._open:
                continue
            said = [text for m in self._open if (text := self._cover(m, at, number, row))]
            if said:
                shown = "; ".join(said[:_SHOWN]) + (" ..." if len(said) > _SHOWN else "")
                notes[number] = shown
        return notes

    def _advance(self, at: int) -> None:
        ranges = self.ranges
        while self._next < len(ranges) and ranges[self._next].top <= at:
            self._open.append(ranges[self._next])
            self._next += 1
        if any(m.bottom < at for m in self._open):
            self._open = [m for m in self._open if m.bottom >= at]

    def _cover(self, m: _Range, at: int, number: int, row: list[str]) -> str | None:
        width, offset = len(row), self._offset
        if at == m.top and m.top > self._header:
            first = m.left - offset
            self._values[m] = row[first] if 0 <= first < width else ""
        value = self._values.get(m, "")
        notes, empty = [], []
        for column in range(max(m.left, offset), min(m.right, offset + width - 1) + 1):
            if (at, column) == (m.top, m.left):
                continue
            index = column - offset
            if row[index] != "":
                continue  # the file holds a value of its own there
            if m.top <= self._header:
                empty.append(index)
            elif not value.strip():
                continue  # an empty merged cell: the sheet shows nothing there either
            elif column == m.left:
                row[index] = value
                notes.append(
                    f"value of merged cell {m.name} filled in:"
                    f" {self._where(at, [index])} reads {_quoted(value)}"
                )
            else:
                empty.append(index)
        if empty:
            where, plural = self._where(at, empty), len(empty) > 1
            covered = f"{where} {'are' if plural else 'is'} covered by merged cell {m.name}"
            reads = "they read empty" if plural else "it reads empty"
            first = m.left - offset
            if m.top <= self._header:
                notes.append(f"{covered}, which starts at row {m.top + 1}, above the data: {reads}")
            elif 0 <= first < width:
                notes.append(
                    f"{covered}: {reads} (its value {_quoted(value)} is read under column"
                    f" {self._columns[first]!r} alone)"
                )
            else:
                notes.append(f"{covered}: {reads}")
        return "; ".join(notes) or None

    def _where(self, at: int, indexes: Sequence[int]) -> str:
        """``B5, C5 (columns 'First Name', 'Last Name')``."""
        cells = ", ".join(cell_name(at, i + self._offset) for i in indexes)
        names = ", ".join(repr(self._columns[i]) for i in indexes)
        return f"{cells} (column{'s' if len(indexes) > 1 else ''} {names})"


def cell_name(row: int, column: int) -> str:
    """``B7`` for row 6, column 1 (both from 0)."""
    return f"{letters(column)}{row + 1}"


def letters(column: int) -> str:
    """A column's letters (``AA`` for 26, from 0)."""
    text = ""
    column += 1
    while column:
        column, rest = divmod(column - 1, 26)
        text = chr(65 + rest) + text
    return text


def _quoted(cell: str) -> str:
    return repr(cell) if len(cell) <= 40 else repr(cell[:37] + "...")
