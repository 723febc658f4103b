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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from importer.errors import UsageError

__all__ = [
    "FAILURE_COLUMNS",
    "RESULT_COLUMNS",
    "RowResult",
    "neutralise",
    "write_failures",
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
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(slots=True)
class RowResult:
    """One line of the results file."""

    row: int
    status: str
    domain: str | None = None
    email: str | None = None
    ids: dict[str, str] = field(default_factory=dict)
    http_status: int | None = None
    error_fields: Sequence[str] = ()
    message: str = ""
    warnings: Sequence[str] = ()
    duplicate_of: int | None = None
    requests: Sequence[str] = ()

    def cells(self) -> list[str]:
        return [
            str(self.row),
            self.status,
            self.domain or "",
            self.email or "",
            self.ids.get("company_id", ""),
            self.ids.get("people_id", ""),
            self.ids.get("opportunity_id", ""),
            self.ids.get("note_id", ""),
            "" if self.http_status is None else str(self.http_status),
            ";".join(self.error_fields),
            self.message,
            " | ".join(self.warnings),
            "" if self.duplicate_of is None else str(self.duplicate_of),
            " ".join(self.requests),
        ]


def neutralise(cell: str) -> str:
    """Defuse a cell a spreadsheet would run as a formula: ``=SUM(A1)`` → ``'=SUM(A1)``."""
    return "'" + cell if cell.startswith(_FORMULA_START) else cell


def write_results(path: str | Path, results: Iterable[RowResult]) -> int:
    """Write the results CSV (UTF-8 with BOM so Excel reads it right); returns the row count."""
    count = 0
    with _open_for_writing(path) as handle:
        writer = csv.writer(handle)
        writer.writerow(RESULT_COLUMNS)
        for result in results:
            writer.writerow([neutralise(c) for c in result.cells()])
            count += 1
    return count


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
