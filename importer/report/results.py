"""The results CSV (one line per input row) and the failures CSV.

The results file accounts for every input row, in input order: its status,
the normalised domain and email, the account the contact goes under, the ids a real run got back, and the exact
error. The failures file holds the rejected and failed rows in their original
columns plus an ``import_error`` column, so a user can fix them and run the
same mapping on it again.

Cells that a spreadsheet would run as a formula (starting with ``=``, ``+``,
``-``, ``@``, tab or carriage return) are neutralised with a leading ``'`` in
both files (OWASP's advice for CSV injection).
"""

from __future__ import annotations

import csv
import os
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path
from typing import Any

from importer.errors import UsageError, refused_for_its_data
from importer.map.transforms.cells import FORMULA_HIDERS, FORMULA_START, formula_like
from importer.map.transforms.emails import filed_under

__all__ = [
    "FAILURE_COLUMNS",
    "RESULT_COLUMNS",
    "LiveFailuresFile",
    "LiveResultsFile",
    "ResultsSink",
    "RowResult",
    "check_writable",
    "contact_account",
    "duplicate_message",
    "generic_reason",
    "needs_fixing",
    "neutralise",
    "plain_line",
    "read_results",
    "restored",
    "results_with_ids",
    "write_failures",
    "write_results",
]

RESULT_COLUMNS = (
    "row",
    "source_id",
    "status",
    "domain",
    "email",
    "contact_account",
    "company_id",
    "people_id",
    "opportunity_id",
    "note_id",
    "http_status",
    "error_fields",
    "message",
    "warnings",
    "duplicate_of",
    "records",
)
FAILURE_COLUMNS = ("import_row", "import_error")
_STATUS, _WARNINGS = RESULT_COLUMNS.index("status"), RESULT_COLUMNS.index("warnings")
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
    records: Sequence[str] = ()
    #: The row's id in the source CRM (the mapping's ``source_id`` column), or "".
    source_id: str = ""
    #: A failed row: whether Octolane refused it (or what it waits for) for its data,
    #: so that it needs fixing; None: judge by ``http_status`` and ``error_fields``.
    refused: bool | None = None
    #: Validation left some of the row's records out (a ``partial`` row), whatever
    #: became of the others (a stopped run's ``not_sent``): it needs fixing.
    left_out: bool = False

    def values(self) -> list[str]:
        """The line's cells as text, without the formula guard (``RESULT_COLUMNS`` order):
        for a workbook or a DataFrame, where a value is never run as a formula."""
        ids = self.ids or _NO_IDS
        return [
            str(self.row),
            self.source_id,
            self.status,
            self.domain or "",
            self.email or "",
            contact_account(self.email, self.records),
            ids.get("company_id", ""),
            ids.get("people_id", ""),
            ids.get("opportunity_id", ""),
            ids.get("note_id", ""),
            "" if self.http_status is None else str(self.http_status),
            ";".join(self.error_fields),
            self.message,
            " | ".join(self.warnings),
            "" if self.duplicate_of is None else str(self.duplicate_of),
            " ".join(self.records),
        ]

    def cells(self) -> list[str]:
        """The line's cells, neutralised: every text that came from the input or the API."""
        ids = self.ids or _NO_IDS
        return [
            str(self.row),
            neutralise(self.source_id),
            self.status,
            neutralise(self.domain) if self.domain else "",
            neutralise(self.email) if self.email else "",
            neutralise(contact_account(self.email, self.records)),
            neutralise(ids.get("company_id", "")) if ids else "",
            neutralise(ids.get("people_id", "")) if ids else "",
            neutralise(ids.get("opportunity_id", "")) if ids else "",
            neutralise(ids.get("note_id", "")) if ids else "",
            "" if self.http_status is None else str(self.http_status),
            neutralise(";".join(self.error_fields)),
            neutralise(self.message) if self.message else "",
            neutralise(" | ".join(self.warnings)) if self.warnings else "",
            "" if self.duplicate_of is None else str(self.duplicate_of),
            neutralise(" ".join(self.records)) if self.records else "",
        ]


def read_results(path: str | Path) -> Iterator[RowResult]:
    """The lines of a results file, as :class:`RowResult` (what :meth:`RowResult.cells` wrote).

    Its lists are split where they were joined: ``warnings`` at ``" | "``,
    ``error_fields`` at ``;`` and ``records`` at spaces.
    """
    index = {name: i for i, name in enumerate(RESULT_COLUMNS)}
    ids = ("company_id", "people_id", "opportunity_id", "note_id")
    with Path(path).open(encoding="utf-8-sig", newline="") as handle:
        lines = csv.reader(handle)
        next(lines, None)
        for line in lines:
            cells = [_restored(c) for c in line]
            get = dict(zip(RESULT_COLUMNS, cells, strict=False)).get
            found = {name: cells[index[name]] for name in ids if get(name)}
            yield RowResult(
                int(cells[0]),
                get("status") or "",
                get("domain") or None,
                get("email") or None,
                found or None,
                int(get("http_status") or 0) or None,
                tuple(filter(None, (get("error_fields") or "").split(";"))),
                get("message") or "",
                tuple(filter(None, (get("warnings") or "").split(" | "))),
                int(get("duplicate_of") or 0) or None,
                tuple((get("records") or "").split()),
                get("source_id") or "",
                left_out=get("status") == "partial",  # (a stopped run's unsent ones: not said)
            )


def needs_fixing(result: RowResult, *, journal: bool) -> bool:
    """Whether the row goes in the failures file: ``invalid``, ``partial`` (whatever
    became of its other records), ``failed`` because Octolane refused its data. With no ``journal`` to continue from, also every
    ``failed`` and ``not_sent`` row (sending the failures file is how the rest gets in)."""
    status = result.status
    if status in ("invalid", "partial") or result.left_out:
        return True
    if status == "failed":
        return not journal or _refused(result)
    return status == "not_sent" and not journal


def _refused(result: RowResult) -> bool:
    if result.refused is not None:
        return result.refused or bool(result.error_fields)
    return refused_for_its_data(result.http_status, result.error_fields)


def results_with_ids(path: str | Path) -> tuple[int, str] | None:
    """(row, id column) of the first line of the results file at ``path`` that holds an
    Octolane id: a real run's. None when it holds none, or is not a results file."""
    if _without_ids(Path(path)):
        return None
    try:
        return _first_id(Path(path), fast=True)
    except IndexError:  # a line shorter than the header: read again, a line at a time
        return _first_id(Path(path), fast=False)


#: The start of a results line whose id cells are empty, none of its first ten cells
#: quoted: a row number, five cells, and the four empty ids (RESULT_COLUMNS' order).
_NO_IDS_LINE = re.compile(rb"[0-9]+,(?:[^\",\r\n]*,){5},,,,")
_HEADER_LINE = ",".join(RESULT_COLUMNS).encode()


def _without_ids(path: Path) -> bool:
    """True when every line of the results file starts as :data:`_NO_IDS_LINE` (a dry run's):
    each record starts a line, so none holds an id. Decided at C speed (a million lines in
    about a second); False sends the file to the exact reading."""
    if not path.is_file():  # a named pipe, say: it is read once, by the exact reading
        return False
    try:
        with path.open("rb") as handle:
            header = handle.readline().removeprefix(b"\xef\xbb\xbf").rstrip(b"\r\n")
            if header != _HEADER_LINE or not all(map(_NO_IDS_LINE.match, handle)):
                return False
            # A record also starts after a lone carriage return (the csv reader's line end,
            # which splitting at line feeds does not see): such a file is read exactly.
            handle.seek(0)
            tail = b""
            while chunk := handle.read(1 << 24):
                chunk = tail + chunk
                chunk, tail = (chunk[:-1], b"\r") if chunk.endswith(b"\r") else (chunk, b"")
                if _LONE_CR.search(chunk):  # (a chunk's last CR waits for the next byte)
                    return False
            return not tail
    except OSError:
        return False


_LONE_CR = re.compile(rb"\r(?!\n)")


def _first_id(path: Path, *, fast: bool) -> tuple[int, str] | None:
    ids = ("company_id", "people_id", "opportunity_id", "note_id")
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            lines = csv.reader(handle)
            header = next(lines, [])
            where = [(header.index(name), name) for name in ids if name in header]
            if not where:
                return None
            if fast:
                # At C speed: a million-line dry run's results are read in about a second.
                cells = itemgetter(0, *(position for position, _ in where))
                found = next(filter(_holds_id, map(cells, lines)), None)
                if found is None:
                    return None
                name = next(name for (_, name), cell in zip(where, found[1:], strict=True) if cell)
                return (int(found[0]) if found[0].isdigit() else 0), name
            for line in lines:
                for position, name in where:
                    if position < len(line) and line[position]:
                        return (int(line[0]) if line[0].isdigit() else 0), name
    except (OSError, UnicodeDecodeError, csv.Error):
        return None
    return None


def _holds_id(cells: tuple[str, ...]) -> bool:
    """Whether a results line's id cells (after its row number) hold an id."""
    return any(cells[1:])


def restored(cell: str) -> str:
    """A cell as it was before :func:`neutralise` (the formula guard taken off)."""
    return _restored(cell)


def _restored(cell: str) -> str:
    """A cell as it was before :func:`neutralise`."""
    return cell[1:] if cell[:1] == "'" and formula_like(cell[1:]) else cell


def neutralise(cell: str) -> str:
    """Defuse a cell a spreadsheet would run as a formula: ``=SUM(A1)`` → ``'=SUM(A1)``,
    also behind invisible characters (``\u00a0=SUM(A1)``, a BOM, a zero-width space)."""
    if not cell:
        return cell
    first = cell[0]
    if first in FORMULA_START or (first in FORMULA_HIDERS and formula_like(cell)):
        return "'" + cell
    return cell


def write_results(path: str | Path, results: Iterable[RowResult]) -> int:
    """Write the results CSV (UTF-8 with BOM so Excel reads it right); returns the row count."""
    sink = ResultsSink(path)
    try:
        for result in results:
            sink.add(result)
        sink.commit()
    finally:
        sink.close()
    return sink.written


class LiveResultsFile:
    """The results file as rows complete during a real run (in the order they do),
    each line flushed: a process that dies leaves a valid file of every row done.
    The run's end replaces it with the whole file in input order (:class:`ResultsSink`).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._handle = _open_for_writing(path)
        self._writer = csv.writer(self._handle)
        self._writer.writerow(RESULT_COLUMNS)
        self._handle.flush()

    def __call__(self, result: RowResult) -> None:
        self._writer.writerow(result.cells())
        self._handle.flush()

    def close(self) -> None:
        self._handle.close()


class LiveFailuresFile:
    """The failures file as rows complete during a real run: the rows that need fixing
    (:func:`needs_fixing`), in their original cells, appended (flushed) in batches.

    A batch's cells come from one pass over the rows kept as they were read (``reread``: a
    :class:`~importer.read.spool.RowSpool`, never the input again), taken as
    a row completes while rows are waiting and the last pass is long enough ago (ten
    times as long as it took, and at least ``every_s``: re-reading costs at most a tenth
    of the run), and at :meth:`close`. The run's end rewrites the
    file whole, in input order (:func:`write_failures`).
    """

    def __init__(
        self,
        path: Path,
        columns: Sequence[str],
        reread: Callable[[], Iterable[tuple[int, Sequence[str]]]],
        *,
        journal: bool,
        every_s: float = 0.05,
    ) -> None:
        self._reread, self._journal, self._every_s = reread, journal, every_s
        self._keep = [i for i, name in enumerate(columns) if name not in FAILURE_COLUMNS]
        self._pending: dict[int, str] = {}
        self._handle = _open_for_writing(path)
        self._writer = csv.writer(self._handle)
        header = [columns[i] for i in self._keep]
        self._writer.writerow([neutralise(c) for c in (*header, *FAILURE_COLUMNS)])
        self._handle.flush()
        self._due = 0.0

    def __call__(self, result: RowResult) -> None:
        if needs_fixing(result, journal=self._journal):
            self._pending[result.row] = result.message or result.status
        if self._pending and time.monotonic() >= self._due:
            self.flush()

    def flush(self) -> None:
        """Append the waiting rows (one pass over the input)."""
        if not self._pending:
            return
        started = time.monotonic()
        keep = self._keep
        for row, cells in _selected(self._reread(), self._pending):
            kept = [cells[i] if i < len(cells) else "" for i in keep]
            self._writer.writerow([neutralise(c) for c in (*kept, str(row), self._pending[row])])
        self._pending.clear()
        self._handle.flush()
        took = time.monotonic() - started
        self._due = time.monotonic() + max(self._every_s, 10 * took)

    def close(self) -> None:
        try:
            self.flush()
        finally:
            self._handle.close()


class ResultsSink:
    """Takes the rows' results as the run goes, in input order.

    It writes each line of the results file (when given a path; the file is
    created at the first line, so a run that fails before any row leaves
    none), counts the rows by status and by reason, and notes the rows for the
    failures file: the rows that need fixing (``invalid``, ``partial``, ``failed``),
    and with ``not_sent_to_fix`` the rows not sent too (a run with no journal to
    continue from: sending the failures file is how the rest gets in).
    """

    def __init__(self, path: str | Path | None, *, not_sent_to_fix: bool = False) -> None:
        self.path = Path(path) if path is not None else None
        self._journal = not not_sent_to_fix
        #: Rows that failed for no fault of their own (a 5xx, no connection): the same
        #: command sends them again, so they are not in the failures file.
        self.to_resend = 0
        if self.path is not None:
            check_writable(self.path)
        self.counts: Counter[str] = Counter()
        self.reasons: Counter[str] = Counter()
        #: Up to five rows of each reason (the report's examples, grouped as the summary).
        self.reason_rows: dict[str, list[int]] = {}
        self.skipped: Counter[str] = Counter()  # why rows were skipped
        self.failures: dict[int, str] = {}
        #: Rows validation left records out of (``partial`` in a dry run; in a real run
        #: whatever became of the rest), for the summary's "rows:" line.
        self.partial = 0
        self.warned = 0
        self.written = 0
        self._handle: Any = None
        self._writer: Any = None
        self._amendments: dict[int, str] = {}

    def add(self, result: RowResult, reasons: Iterable[str] = ()) -> None:
        """One row's result; ``reasons`` group a rejected row in the summary."""
        status = result.status
        self.counts[status] += 1
        self.partial += result.left_out
        if result.warnings:
            self.warned += 1
        fix = needs_fixing(result, journal=self._journal)
        if status == "failed" and not fix:
            self.to_resend += 1
            self._reason(_generic(result.message or status), result.row)
        elif fix:
            self.failures[result.row] = result.message or status
            for reason in reasons or (_generic(result.message or status),):
                self._reason(reason, result.row)
        elif status == "skipped":
            self.skipped[_generic(result.message or status)] += 1
        self._write(result.cells())

    def _reason(self, reason: str, row: int) -> None:
        self.reasons[reason] += 1
        rows = self.reason_rows.setdefault(reason, [])
        if len(rows) < 5:
            rows.append(row)

    def add_plain_text(self, text: str, statuses: Sequence[str], warned: int) -> None:
        """Rows with no ids or error (not failures) as :func:`plain_line` writes them, the
        dry run's common case: their text at once, their statuses and how many warn."""
        self.counts.update(statuses)
        self.warned += warned
        if self.path is not None:
            self._writer_for()
            self._handle.write(text)
            self.written += len(statuses)

    def _writer_for(self) -> Any:
        if self._writer is None:
            assert self.path is not None  # a writer is made only for a path
            # A file with no name until it is whole (Linux): a process killed, even with
            # kill -9, leaves nothing behind. Elsewhere, NAME.partial, which the next run
            # on the same files removes (importer.run.lock).
            self._handle = _open_unnamed(self.path.parent) or _open_for_writing(self._partial)
            self._writer = csv.writer(self._handle)
            self._writer.writerow(RESULT_COLUMNS)
        return self._writer

    def _write(self, cells: list[str]) -> None:
        if self.path is None:
            return
        self._writer_for().writerow(cells)
        self.written += 1

    @property
    def _partial(self) -> Path:
        assert self.path is not None
        return self.path.with_name(self.path.name + ".partial")

    def amend(self, warnings: Mapping[int, str]) -> None:
        """Add a warning to lines already written (row → warning), when the file is committed.

        A later row can show something about an earlier one (two deals without a
        company under one name); the earlier line says so too.
        """
        self._amendments.update(warnings)

    def commit(self) -> None:
        """The run accounted for every row: the file takes its name (a partial one never does)."""
        if self._handle is not None:
            if getattr(self._handle, "unnamed", False):
                self._handle.flush()
                self._partial.unlink(missing_ok=True)
                _name_it(self._handle.fileno(), self._partial)
            self._handle.close()
            self._handle = None
            if self._amendments:
                self._apply_amendments()
            assert self.path is not None  # a handle is opened only for a path
            os.replace(self._partial, self.path)

    def _apply_amendments(self) -> None:
        """Rewrite the partial file once, adding each amended row's warning to its line."""
        column = RESULT_COLUMNS.index("warnings")
        amended = self._partial.with_name(self._partial.name + ".amended")
        with (
            self._partial.open(encoding="utf-8-sig", newline="") as source,
            _open_for_writing(amended) as target,
        ):
            writer = csv.writer(target)
            for cells in csv.reader(source):
                extra = self._amendments.get(int(cells[0])) if cells[0].isdigit() else None
                if extra is not None:
                    if not cells[column]:
                        self.warned += 1
                    cells[column] = " | ".join(filter(None, (cells[column], neutralise(extra))))
                writer.writerow(cells)
        os.replace(amended, self._partial)

    def close(self) -> None:
        """Without :meth:`commit`: drop what was written, so no incomplete results file is left."""
        if self._handle is not None:
            self._handle.close()
            self._handle = None
            self._partial.unlink(missing_ok=True)


def _csv_text(lines: Sequence[list[str]]) -> str:
    """The CSV text of ``lines``, exactly as ``csv.writer`` writes it, several times faster."""
    return "".join([_csv_line(cells) for cells in lines])


def _csv_line(cells: list[str]) -> str:
    """One line's CSV text with its line end, exactly as ``csv.writer`` writes it.

    A line none of whose cells holds a quote, a line break or a comma is its
    cells joined by commas (what the writer does, character by character, in
    C); that is checked on the joined line at C speed. In any other line, a cell
    with one of them is quoted, its quotes doubled (the writer's minimal quoting:
    a tenth of a deal file's lines have a comma in a name, and a writer round trip
    through a buffer costs ten times more).
    """
    line = ",".join(cells)
    if (
        line  # csv.writer writes a lone empty cell as ""
        and line.count(",") == len(cells) - 1
        and '"' not in line
        and "\n" not in line
        and "\r" not in line
    ):
        return line + "\r\n"
    if not line and len(cells) == 1:
        return '""\r\n'
    return ",".join([_quoted(c) if _SPECIAL.search(c) else c for c in cells]) + "\r\n"


#: What makes csv.writer quote a cell (the delimiter, the quote, a line end's characters).
_SPECIAL = re.compile('[,"\r\n]')


def _quoted(cell: str) -> str:
    return '"' + cell.replace('"', '""') + '"'


def check_writable(path: Path) -> None:
    """Fail before the run, not after it, when an output file cannot be written."""
    if path.is_dir():
        raise UsageError(f"{path}: is a folder; give a file name for the output")
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not os.access(parent, os.W_OK):
        raise UsageError(f"{path}: cannot write there (no permission on {parent})")


# The rows of the failures file: each has something to fix and run again.
#: Rows that need fixing: the failures file's. A row not sent, or whose answer was lost,
#: needs none: the same command continues it (the journal knows what was done).
_BAD = frozenset({"invalid", "partial", "failed"})


def duplicate_message(row: int, records: Sequence[str]) -> str:
    """Why a row is a duplicate: the earlier row, and the records both rows name."""
    return (
        f"duplicate of row {row}: the same {' and '.join(records)}"
        if records
        else (f"duplicate of row {row}")
    )


def generic_reason(message: str) -> str:
    """A message with the row's own values taken out, to group rows by reason."""
    return _generic(message)


def _generic(message: str) -> str:
    # (a value with an apostrophe is quoted with ": "UWS | Columbus's" is one value too)
    message = re.sub(r"'[^']*'|\"[^\"]*\"", "'…'", message)
    # "not sent: contacts request contact:jo@acme.com failed": one reason, not one per key
    return re.sub(r"\b(account|contact|opportunity|note):\S+", r"\1:…", message)


def plain_line(
    row: int,
    status: str,
    domain: str | None,
    email: str | None,
    records: Sequence[str],
    dup: int | None,
    warnings: Sequence[object] | None,
    source_id: str,
    filed: str | None = None,
) -> tuple[str, bool]:
    """The results line (CSV text, with its line end) of a row with no ids or error, the
    dry run's common case, and whether its warnings cell holds anything.

    The cells are :meth:`RowResult.cells`' for such a row. Each text is neutralised
    (:func:`neutralise`) where its first character could start a formula, tested inline
    (a call costs more than the test), and the line is written as ``csv.writer`` writes
    it (:func:`_csv_line`).
    """
    risky = _RISKY_START
    if filed is None:
        filed = contact_account(email, records) if email else ""
    account = filed
    warned = " | ".join(map(str, warnings)) if warnings else ""
    shown = " ".join(records) if records else ""
    if source_id and source_id[0] in risky:
        source_id = neutralise(source_id)
    domain = "" if not domain else neutralise(domain) if domain[0] in risky else domain
    email = "" if not email else neutralise(email) if email[0] in risky else email
    if account and account[0] in risky:
        account = neutralise(account)
    if warned and warned[0] in risky:
        warned = neutralise(warned)
    if shown and shown[0] in risky:
        shown = neutralise(shown)
    if dup:
        message, dup_cell = duplicate_message(dup, records), str(dup)
    else:
        message = dup_cell = ""
    # The line as csv.writer writes a line no cell of which needs quoting, checked on
    # the whole line at C speed (16 cells: 15 commas); any other goes cell by cell.
    line = (
        f"{row},{source_id},{status},{domain},{email},{account},,,,,,,"
        f"{message},{warned},{dup_cell},{shown}"
    )
    if line.count(",") == 15 and '"' not in line and "\n" not in line and "\r" not in line:
        return line + "\r\n", bool(warned)
    cells = [str(row), source_id, status, domain, email, account, "", "", "", "", "", ""]
    return _csv_line([*cells, message, warned, dup_cell, shown]), bool(warned)


#: The first characters with which :func:`neutralise` may change a text.
_RISKY_START = frozenset(FORMULA_START) | frozenset(FORMULA_HIDERS)


def contact_account(email: str | None, records: Sequence[str]) -> str:
    """The account Octolane files the row's contact under (its e-mail's host), if it has one."""
    if not email or "contact:" + email not in records:
        return ""
    return filed_under(email.rpartition("@")[2])


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
    # A failures file run again has these columns already: they are replaced, not repeated.
    keep = [i for i, name in enumerate(columns) if name not in FAILURE_COLUMNS]
    every = len(keep) == len(columns)
    with _open_for_writing(path) as handle:
        writer = csv.writer(handle)
        header = [columns[i] for i in keep]
        writer.writerow([neutralise(c) for c in (*header, *FAILURE_COLUMNS)])
        for row, cells in _selected(rows, errors):
            kept = cells if every else [cells[i] if i < len(cells) else "" for i in keep]
            writer.writerow([neutralise(c) for c in (*kept, str(row), errors[row])])
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


def _open_unnamed(folder: Path) -> Any:
    """A results file with no name yet in ``folder`` (Linux's O_TMPFILE), or None."""
    flag = getattr(os, "O_TMPFILE", 0)
    if not flag or not Path("/proc/self/fd").is_dir():
        return None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(folder, flag | os.O_RDWR, 0o600)
    except OSError:
        return None  # a file system without unnamed files: NAME.partial
    handle = open(fd, "w", encoding="utf-8", newline="")  # noqa: SIM115 (returned)
    handle.write("\ufeff")
    handle.unnamed = True  # type: ignore[attr-defined]
    return handle


def _name_it(fd: int, path: Path) -> None:
    """Give the unnamed file ``fd`` the name ``path`` (linkat, following /proc's link)."""
    folder = os.open(path.parent, os.O_RDONLY)
    try:  # (a dir fd makes os.link call linkat, which follows /proc/self/fd/N to the file)
        os.link(f"/proc/self/fd/{fd}", path.name, dst_dir_fd=folder, follow_symlinks=True)
    finally:
        os.close(folder)


def _open_for_writing(path: str | Path) -> Any:
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # The BOM by hand, then plain UTF-8: the "utf-8-sig" codec would encode every
        # write through Python code, the plain one in C (a third of a big run's writing).
        # Customer data: readable by the user only (a new file; an existing one keeps
        # its mode, it is the user's).
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        handle = open(fd, "w", encoding="utf-8", newline="")  # noqa: SIM115 (returned)
        handle.write("\ufeff")
        return handle
    except OSError as exc:
        raise UsageError(f"{path}: cannot write the file: {exc.strerror or exc}") from exc
