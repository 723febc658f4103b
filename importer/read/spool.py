"""The input's rows as they were read, kept on disk for the failures file.

The failures file repeats each failed row's original cells. Reading the input a
second time for them would pair errors with the wrong rows if the file changed
during the run (and cannot be done for a pipe); so the process that reads the
input writes every row it reads here as well: the cells as CSV, the row numbers
as 8-byte integers beside them. Memory stays flat; the disk holds about the
input's size until the run ends.

Example::

    spool = RowSpool(folder)
    with spool.writer() as write:
        write(batch.row_numbers, batch.rows)
    for number, cells in spool.rows():
        ...
"""

from __future__ import annotations

import csv
import os
from array import array
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from importer.read._sniff import allow_long_cells

__all__ = ["RowSpool"]


class RowSpool:
    """Rows kept in ``folder`` (which the caller creates, and removes when done)."""

    def __init__(self, folder: Path) -> None:
        self.cells = folder / "rows.csv"
        self.numbers = folder / "rows.numbers"

    @contextmanager
    def writer(self) -> Iterator[Callable[[Sequence[int], Sequence[Sequence[str]]], None]]:
        """A function that appends a batch: (row numbers, rows), open for the block."""
        # Customer data: readable by the user only.
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
        with (
            open(os.open(self.cells, flags, 0o600), "w", encoding="utf-8", newline="") as cells,
            open(os.open(self.numbers, flags, 0o600), "wb") as numbers,
        ):
            write_rows = csv.writer(cells).writerows

            def write(row_numbers: Sequence[int], rows: Sequence[Sequence[str]]) -> None:
                write_rows(rows)
                array("q", row_numbers).tofile(numbers)

            yield write

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """(row number, cells) of every row kept, in the order they were read."""
        if not self.numbers.exists():
            return
        allow_long_cells()
        numbers = array("q")
        with self.numbers.open("rb") as handle:
            numbers.frombytes(handle.read())
        with self.cells.open(encoding="utf-8", newline="") as handle:
            yield from zip(numbers, csv.reader(handle), strict=True)
