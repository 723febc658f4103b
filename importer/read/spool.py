"""The input's rows as they were read, kept on disk for the failures file.

The failures file repeats each failed row's original cells. Reading the input a
second time for them would pair errors with the wrong rows if the file changed
during the run (and cannot be done for a pipe); so the process that reads the
input writes every row it reads here as well: the cells as CSV, the row numbers
as 8-byte integers beside them. Memory stays flat; the disk holds about the
input's size until the run ends. On Linux the two files have no name (``O_TMPFILE``):
a process killed, even with ``kill -9``, leaves none of the input's cells behind.

Example::

    spool = RowSpool.temporary(stack)  # or RowSpool(folder)
    with spool.writer() as write:
        write(batch.row_numbers, batch.rows)
    for number, cells in spool.rows():
        ...
"""

from __future__ import annotations

import csv
import os
import tempfile
from array import array
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path

from importer.read._sniff import allow_long_cells

__all__ = ["RowSpool"]


class RowSpool:
    """Rows kept in ``folder`` (which the caller creates, and removes when done); call
    :meth:`close` at the end (it closes the unnamed files, and so frees them)."""

    def __init__(self, folder: Path, *, named: bool = True) -> None:
        self.cells = folder / "rows.csv"
        self.numbers = folder / "rows.numbers"
        self._unnamed = _unnamed_pair(folder)  # (cells, numbers) descriptors, or None
        #: Whether files named in ``folder`` may stand in (not in a shared folder).
        self._named = named
        self._closed = False

    @classmethod
    def temporary(cls, stack: ExitStack) -> RowSpool:
        """A spool in the system's temporary folder, closed with ``stack``: two files with
        no name where the system has them, else two in a private folder removed then."""
        # (never names in the shared folder: where unnamed files fail, a private folder)
        spool = cls(Path(tempfile.gettempdir()), named=False)
        if spool._unnamed is None:
            folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="octolane-import-"))
            spool = cls(Path(folder))
        stack.callback(spool.close)
        return spool

    def close(self) -> None:
        if self._unnamed is not None:
            for fd in self._unnamed:
                os.close(fd)
            self._unnamed = None
        self._closed = True

    def _check_open(self) -> None:
        if self._closed or (self._unnamed is None and not self._named):
            raise ValueError("the row spool is closed")

    @contextmanager
    def writer(self) -> Iterator[Callable[[Sequence[int], Sequence[Sequence[str]]], None]]:
        """A function that appends a batch: (row numbers, rows), open for the block."""
        self._check_open()
        if self._unnamed is not None:
            for fd in self._unnamed:  # (a forked worker writes through the same files)
                os.ftruncate(fd, 0)
                os.lseek(fd, 0, os.SEEK_SET)
            cells_fd, numbers_fd = (os.dup(fd) for fd in self._unnamed)
        else:
            # Customer data: readable by the user only.
            flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
            cells_fd = os.open(self.cells, flags, 0o600)
            numbers_fd = os.open(self.numbers, flags, 0o600)
        with (
            open(cells_fd, "w", encoding="utf-8", newline="") as cells,
            open(numbers_fd, "wb") as numbers,
        ):
            write_rows = csv.writer(cells).writerows

            def write(row_numbers: Sequence[int], rows: Sequence[Sequence[str]]) -> None:
                write_rows(rows)
                array("q", row_numbers).tofile(numbers)

            yield write

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """(row number, cells) of every row kept, in the order they were read."""
        self._check_open()
        if self._unnamed is not None:  # each read opens the files anew, at their start
            cells_path, numbers_path = (Path(f"/proc/self/fd/{fd}") for fd in self._unnamed)
        elif self.numbers.exists():
            cells_path, numbers_path = self.cells, self.numbers
        else:
            return
        allow_long_cells()
        numbers = array("q")
        with numbers_path.open("rb") as handle:
            numbers.frombytes(handle.read())
        with cells_path.open(encoding="utf-8", newline="") as handle:
            yield from zip(numbers, csv.reader(handle), strict=True)


def _unnamed_pair(folder: Path) -> tuple[int, int] | None:
    """Two files with no name in ``folder`` (Linux's O_TMPFILE, read again through
    /proc/self/fd), or None where the system has none."""
    flag = getattr(os, "O_TMPFILE", 0)
    if not flag or not Path("/proc/self/fd").is_dir():
        return None
    opened: list[int] = []
    try:
        for _ in range(2):
            opened.append(os.open(folder, flag | os.O_RDWR, 0o600))
    except OSError:
        for fd in opened:
            os.close(fd)
        return None  # a file system without unnamed files: named ones, in the folder
    return opened[0], opened[1]
