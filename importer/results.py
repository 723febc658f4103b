"""The results CSV (one line per input row) and the failures CSV.

The results file accounts for every input row, in input order: its status,
the normalised domain and email, the ids a real run got back, and the exact
error. The failures file holds the rejected and failed rows in their original
columns plus an ``import_error`` column, so a user can fix them and run the
same mapping on it again.

Cells that a spreadsheet would run as a formula (starting with ``=``, ``+``,
``-``, ``@``, tab or carriage return) are neutralised with a leading ``'`` in
both files (OWASP's advice for CSV injection).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from importer.errors import UsageError

__all__ = [
    "FAILURE_COLUMNS",
    "RESULT_COLUMNS",
    "RowResult",
    "neutralise",
    "plain_cells",
    "write_failures",
    "write_result_lines",
    "write_results",
]

RESULT_COLUMNS = (
    "row",
    "status",
    "domain",
    "email",
    "company_id",
    "people_id",
    "opportunity_id",
    "note_id",
    "http_status",
    "error_fields",
    "message",
    "warnings",
    "duplicate_of",
    "requests",
)
FAILURE_COLUMNS = ("import_row", "import_error")
_FORMULA_START = frozenset("=+-@\t\r")
_NO_IDS: dict[str, str] = {}


@dataclass(slots=True)
class RowResult:
    """One line of the results file."""

    row: int
    status: str
    domain: str | None = None
    email: str | None = None
    ids: dict[str, str] | None = None
    http_status: int | None = None
    error_fields: Sequence[str] = ()
    message: str = ""
    warnings: Sequence[str] = ()
    duplicate_of: int | None = None
    requests: Sequence[str] = ()

    def cells(self) -> list[str]:
        """The line's cells, neutralised: every text that came from the input or the API."""
        ids = self.ids or _NO_IDS
        return [
            str(self.row),
            self.status,
            neutralise(self.domain) if self.domain else "",
            neutralise(self.email) if self.email else "",
            neutralise(ids.get("company_id", "")) if ids else "",
            neutralise(ids.get("people_id", "")) if ids else "",
            neutralise(ids.get("opportunity_id", "")) if ids else "",
            neutralise(ids.get("note_id", "")) if ids else "",
            "" if self.http_status is None else str(self.http_status),
            ";".join(self.error_fields),
            neutralise(self.message) if self.message else "",
            neutralise(" | ".join(self.warnings)) if self.warnings else "",
            "" if self.duplicate_of is None else str(self.duplicate_of),
            neutralise(" ".join(self.requests)) if self.requests else "",
        ]


def neutralise(cell: str) -> str:
    """Defuse a cell a spreadsheet would run as a formula: ``=SUM(A1)`` → ``'=SUM(A1)``."""
    return "'" + cell if cell and cell[0] in _FORMULA_START else cell


def write_results(path: str | Path, results: Iterable[RowResult]) -> int:
    """Write the results CSV (UTF-8 with BOM so Excel reads it right); returns the row count."""
    return write_result_lines(path, (result.cells() for result in results))


def write_result_lines(path: str | Path, lines: Iterable[list[str]]) -> int:
    """Write already-neutralised result lines (see :meth:`RowResult.cells`) under the header."""
    written = 0

    def counted() -> Iterator[list[str]]:
        nonlocal written
        for line in lines:
            written += 1
            yield line

    with _open_for_writing(path) as handle:
        writer = csv.writer(handle)
        writer.writerow(RESULT_COLUMNS)
        writer.writerows(counted())
    return written


def plain_cells(
    row: int, status: str, domain: str | None, email: str | None, requests, dup
) -> list[str]:
    """:meth:`RowResult.cells` for a row with no ids, error or warning: the common case, fast."""
    return [
        str(row),
        status,
        neutralise(domain) if domain else "",
        neutralise(email) if email else "",
        "",
        "",
        "",
        "",
        "",
        "",
        f"duplicate of row {dup}" if dup else "",
        "",
        str(dup) if dup else "",
        neutralise(" ".join(requests)) if requests else "",
    ]


def write_failures(
    path: str | Path,
    columns: Sequence[str],
    rows: Iterable[tuple[int, Sequence[str]]],
    errors: Mapping[int, str],
) -> int:
    """Write the rows named in ``errors`` with their original cells and the error.

    ``rows`` yields (row number, cells) for the input, in order — typically a
    second streaming pass over the source, so no cells are held in memory.
    Returns the number of rows written.
    """
    count = 0
    with _open_for_writing(path) as handle:
        writer = csv.writer(handle)
        writer.writerow([neutralise(c) for c in (*columns, *FAILURE_COLUMNS)])
        for row, cells in _selected(rows, errors):
            writer.writerow([neutralise(c) for c in (*cells, str(row), errors[row])])
            count += 1
    return count


def _selected(
    rows: Iterable[tuple[int, Sequence[str]]], errors: Mapping[int, str]
) -> Iterator[tuple[int, Sequence[str]]]:
    remaining = len(errors)
    if not remaining:
        return
    for row, cells in rows:
        if row in errors:
            yield row, cells
            remaining -= 1
            if not remaining:
                return


def _open_for_writing(path: str | Path) -> Any:
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return path.open("w", encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise UsageError(f"{path}: cannot write the file: {exc.strerror or exc}") from exc
