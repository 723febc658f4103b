"""Read and validate in a second process while the first one plans: two cores for big files.

The core's stages are pure Python, so one process tops out near one core. On
a large file the reader and the validator (mapping, transforms, pydantic) run
in a forked worker that sends compact batches of verdicts through a pipe; the
parent plans and writes the results. The pipe's buffer bounds what is in
flight, so memory stays bounded.

The sequential path does the same work in one process and is what small
files, Windows and processes with threads (fork is unsafe there) use. Both
give identical reports: the tests run the same file both ways.

A file's account domains are cut by its zones (the sites it lists two or more of under
one domain: :class:`~importer.map.transforms.domains.FileZones`), which need every row:
the process that validates reads the file's account domains once more (``_scan_domains``)
when it first meets a site below its domain, and a file with none is read once.
"""

from __future__ import annotations

import ctypes
import dataclasses
import functools
import marshal
import multiprocessing
import operator
import os
import re
import signal
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import astuple, dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, cast

from importer.errors import ImporterError, MappingError
from importer.map.spec import BoundMapping, FieldReader, MappingFile, bind_mapping
from importer.map.stages import StageTable
from importer.map.transforms.domains import FileZones
from importer.read.source import SPLIT_ROW, RowBatch, SourceInfo, open_source
from importer.read.spool import RowSpool
from importer.validate._totals import Slice, TotalsRows
from importer.validate.compact import COMPACT_FIELDS, WHOLE_FIELDS, compact_batch
from importer.validate.links import Linker, LinkFile, build_linker
from importer.validate.rows import FieldError, RowVerdict, validate_batch

__all__ = ["PARALLEL_MIN_BYTES", "ValidatedSource", "validated_source"]

#: Below this size a second process costs more than it saves.
PARALLEL_MIN_BYTES = 8 * 2**20
#: Rows validated (and sent to the planner) at a time, however many a read batch holds.
VALIDATE_ROWS = 5_000
#: A slice of read rows: spreadsheet row numbers, cells, and the reader's notes by row.
_Rows = tuple[list[int], list[list[str]], dict[int, str]]


@dataclass(slots=True)
class ValidatedSource:
    """The input's description, then its rows as verdict batches; ``blank_rows`` once drained."""

    info: SourceInfo
    mapping_warnings: list[str]
    #: Verdicts; from a worker, a regular row's may be compact (:mod:`importer.validate.compact`).
    batches: Iterator[list[Any]]
    blank_rows: int = 0
    parallel: bool = False
    _closer: Any = field(default=None, repr=False)
    #: The rows' stage labels, (label, the stage it goes to), as batches are drained.
    stages: Counter[tuple[str, str]] = field(default_factory=Counter)
    #: The rows' foreign amounts: "converted" and "withheld", as batches are drained.
    amounts: Counter[str] = field(default_factory=Counter)

    def count(self, counts: tuple[Counter[tuple[str, str]], Counter[str]]) -> None:
        self.stages.update(counts[0])
        self.amounts.update(counts[1])

    def close(self) -> None:
        if self._closer is not None:
            self._closer()


def validated_source(
    path: str | Path,
    mapping: MappingFile,
    *,
    pipeline_id: str | None,
    read: dict[str, Any],
    limit: int | None,
    batch_rows: int,
    parallel: bool | None = None,
    stages: StageTable | None = None,
    links: Sequence[LinkFile] = (),
    spool: RowSpool | None = None,
    spool_rejected_only: Callable[[SourceInfo], bool] | None = None,
) -> ValidatedSource:
    """Open ``path`` and validate its rows through ``mapping``, in a worker when it pays.

    ``parallel``: ``None`` decides by file size and platform; ``True``/``False`` force it.
    ``spool``: every row read is kept there too (complete once the batches are drained);
    where ``spool_rejected_only(info)`` says so, only the rows validation rejects in whole
    or in part (a dry run's failures are those rows: no server can refuse another).

    Raises:
        ImporterError: the file or the mapping cannot be used (before any batch).
    """
    if parallel is None:
        parallel = _worth_a_worker(Path(path))
    work = _Work(
        path, mapping, pipeline_id, read, limit, batch_rows, stages, tuple(links), spool,
        spool_rejected_only,
    )  # fmt: skip
    return _parallel(work) if parallel and _can_fork() else _sequential(work)


@dataclass(frozen=True, slots=True)
class _Work:
    """What reading and validating one file needs, in either process."""

    path: str | Path
    mapping: MappingFile
    pipeline_id: str | None
    read: dict[str, Any]
    limit: int | None
    batch_rows: int
    stages: StageTable | None = None
    links: tuple[LinkFile, ...] = ()
    spool: RowSpool | None = None
    spool_rejected_only: Callable[[SourceInfo], bool] | None = None


def _worth_a_worker(path: Path) -> bool:
    try:
        return path.stat().st_size >= PARALLEL_MIN_BYTES and (os.cpu_count() or 1) > 1
    except OSError:
        return False  # open_source will say what is wrong with it


def _can_fork() -> bool:
    return (
        "fork" in multiprocessing.get_all_start_methods()
        and threading.active_count() == 1  # forking a process with threads can deadlock
    )


# ---- one process -------------------------------------------------------------------


def _sequential(work: _Work, *, count: bool = True) -> ValidatedSource:
    """Read and validate in this process; ``count``: the stage and amount counts too
    (a worker counts each batch as it packs it)."""
    linker = build_linker(work.mapping, work.links)
    source = open_source(
        work.path,
        batch_rows=work.batch_rows,
        money_columns=work.mapping.money_columns(),
        **work.read,
    )
    closing = ExitStack()
    closing.callback(source.close)
    try:
        columns = list(source.info.columns)
        width = len(columns)  # (linked columns come after the input's own)
        batches = _limited(source.batches(), work.limit)
        keep = None
        if work.spool is not None:
            keep = closing.enter_context(work.spool.writer())
            only = work.spool_rejected_only
            if only is None or not only(source.info):
                batches, keep = _kept(batches, keep), None
        if linker is not None:
            columns = linker.bind(columns)
            batches = _linked(batches, linker)
        first = next(batches, None)
        if first is None:
            raise ImporterError(f"{source.info.path}: no data rows")  # open_source checks this
        try:
            bound = bind_mapping(
                work.mapping,
                columns,
                first[1],
                input_name=source.info.path.name,
                stages=work.stages,
                spreadsheet=source.info.format in ("xlsx", "xls", "ods"),
                zones=FileZones(),
            )
        except MappingError as exc:
            if " is not in " not in str(exc) or work.read.get("header_row") is not None:
                raise
            # (the header found may be a title row above the real one)
            raise MappingError(
                f"{exc}; the header was read from row {source.info.header_row}: if it is"
                " another row, pass --header-row N"
            ) from None
        if bound.zones is not None:
            bound.zones.scan = functools.partial(
                _scan_domains, work, linker, bound.readers["account.domain"]
            )
    except BaseException:
        closing.close()
        raise
    warnings = (linker.warnings if linker else []) + source.notes + list(bound.warnings)
    result = ValidatedSource(source.info, warnings, iter(()), _closer=closing.close)

    footers = _TrailingFooter()
    totals = TotalsRows.of(bound, _FOOTER_LINE)

    def totalled(parts: Iterator[Slice]) -> Iterator[Slice]:
        if totals is None:
            yield from parts
        else:  # (held back until the rows after it are known)
            for part in parts:
                yield from totals.feed(part)

    def slices() -> Iterator[Slice]:
        for numbers, rows, problems in _chain(first, batches):
            # Validated a slice at a time: what a batch's validation holds at once
            # (columns, payloads, verdicts, and the pickled batch on its way to the
            # parent) shrinks with the slice, and the verdicts are the same.
            for start in range(0, len(rows), VALIDATE_ROWS):
                end = start + VALIDATE_ROWS
                part = numbers[start:end], rows[start:end]
                verdicts = _validated(bound, *part, problems, work.pipeline_id)
                # (a valid footer line is told from a record once the rows after it are)
                yield from totalled(footers.feed((*part, verdicts)))
        yield from totalled(footers.finish())
        if totals is not None:
            yield from totals.finish()

    def verdicts() -> Iterator[list[RowVerdict]]:
        try:
            for _, rows, verdicts in slices():
                if keep is not None:
                    _keep_rejected(keep, verdicts, rows, width)
                if count:
                    result.count(_counts(verdicts))
                yield verdicts
            result.blank_rows = source.blank_rows
        finally:
            closing.close()

    result.batches = verdicts()
    return result


def _scan_domains(work: _Work, linker: Linker | None, reader: FieldReader) -> None:
    """The pre-pass of the file's zones: every row's account domain, read once more.

    The reader's ``domain`` transform collects the hosts below their keys as it goes
    (:class:`~importer.map.transforms.domains.FileZones`). The whole file counts, however
    many rows ``--limit`` validates: a trial run names the accounts the full run does.
    """
    scanner = dataclasses.replace(reader, _cache={}, _bad=set())
    with open_source(work.path, batch_rows=work.batch_rows, **work.read) as source:
        for batch in source.batches():
            rows = batch.rows
            if linker is not None:
                rows = linker.extend(batch.row_numbers, rows)[0]
            scanner.read(rows)


def _kept(
    batches: Iterator[_Rows], write: Callable[[Sequence[int], Sequence[Sequence[str]]], None]
) -> Iterator[_Rows]:
    """The batches, each written to the row spool as it passes."""
    for numbers, rows, problems in batches:
        write(numbers, rows)
        yield numbers, rows, problems


def _keep_rejected(
    write: Callable[[Sequence[int], Sequence[Sequence[str]]], None],
    verdicts: list[RowVerdict],
    rows: list[list[str]],
    width: int,
) -> None:
    """Spool the rows with errors (invalid or partial), cut to the input's own columns."""
    rejected = [i for i, verdict in enumerate(verdicts) if verdict.errors]
    if rejected:
        write([verdicts[i].row for i in rejected], [rows[i][:width] for i in rejected])


def _linked(batches: Iterator[_Rows], linker: Linker) -> Iterator[_Rows]:
    """Each batch with its rows' linked columns, and what their links could not find."""
    for numbers, rows, problems in batches:
        extended, missing = linker.extend(numbers, rows)
        if missing:
            problems = dict(problems)
            for number, text in missing.items():
                problems[number] = f"{problems[number]}; {text}" if number in problems else text
        yield numbers, extended, problems


def _chain(first: _Rows, rest: Iterator[_Rows]) -> Iterator[_Rows]:
    yield first
    yield from rest


def _validated(
    bound: BoundMapping,
    numbers: list[int],
    rows: list[list[str]],
    problems: dict[int, str],
    pipeline_id: str | None,
) -> list[RowVerdict]:
    verdicts = validate_batch(bound, numbers, rows, pipeline_id=pipeline_id)
    if problems:  # the reader's own notes (e.g. extra cells beyond the header)
        for verdict in verdicts:
            note = problems.get(verdict.row)
            if note is None:
                continue
            if note.startswith(SPLIT_ROW):  # its cells are not under their columns
                said = "it has " + note.removeprefix(SPLIT_ROW)
                verdict.errors, verdict.warnings = [FieldError("row", "its cells", said)], []
                verdict.account = verdict.contact = verdict.opportunity = verdict.note = None
                verdict.domain = verdict.email = verdict.skipped = None
                verdict.stage = verdict.amount = None
            else:
                verdict.warnings.insert(0, note)
    kept = bound.zones.kept if bound.zones is not None else None
    if kept:  # the accounts this file's zones keep whole, that would have been cut
        for verdict in verdicts:
            # (an e-mail's own host is its contact's account, whatever the zones)
            domain, email = verdict.domain, verdict.email
            if domain in kept and not (email and email.endswith("@" + domain)):
                verdict.warnings.append(kept[domain])
    for verdict, cells in zip(verdicts, rows, strict=True):
        if (verdict.errors or verdict.skipped) and _is_report_footer(cells):
            _as_footer(verdict)
    return verdicts


_FOOTER_LINE = "a report's footer line, not a record"
# The lines Salesforce puts under a report's data, exactly, in English and in German
# (a user whose language is German gets them so): a row that merely starts with "Total"
# or "Copyright" is a record like any other.
_FOOTER = re.compile(
    r"(confidential information - do not distribute"
    r"|copyright \(c\) \d{4}-\d{4} salesforce\.com, inc\. all rights reserved\."
    r"|generated by: .*"
    r"|vertrauliche informationen - nicht weitergeben"
    r"|copyright \(c\) \d{4}-\d{4} salesforce\.com, inc\. alle rechte vorbehalten\."
    r"|erstellt von: .*)\Z",
    re.IGNORECASE,
)


def _is_report_footer(cells: list[str]) -> bool:
    """One text cell, first in the row, that reads like a report's footer."""
    filled = [c for c in cells if c.strip()]
    return (
        len(filled) == 1
        and cells[0].strip() == filled[0]
        and bool(_FOOTER.match(filled[0].strip()))
    )


def _as_footer(verdict: RowVerdict) -> None:
    """The row is a report's footer line: skipped, with nothing of it planned or said."""
    verdict.errors, verdict.warnings, verdict.skipped = [], [], _FOOTER_LINE
    verdict.account = verdict.contact = verdict.opportunity = verdict.note = None
    verdict.domain = verdict.email = None
    verdict.stage = verdict.amount = None  # (no deal: not in the stages' tally)


@dataclass(slots=True)
class _TrailingFooter:
    """The footer lines a mapping takes for valid records: skipped where the file ends.

    A footer line is mostly invalid (no e-mail, no domain) and skipped where it is met
    (:func:`_validated`). Where the mapping's fields are optional (a deal name with
    ``required: false``, in the first column) the line is a valid record: a deal named
    "Confidential Information - Do Not Distribute". Such a line is the report's footer
    only below the file's last record (only other footer lines after it), as a report
    puts it, and a record of that text above another record is imported as one. So a
    slice that ends in such lines is held back until the next slice has a record (they
    were records) or the file ends (they were its footer). Only a slice's last rows are
    looked at, from its end: nearly every slice ends in a record, one look.
    """

    #: The held slices, each with the indexes of its valid footer lines after its last
    #: record: the first may have records, the others are footer lines only.
    _held: list[tuple[Slice, list[int]]] = field(default_factory=list)

    def feed(self, part: Slice) -> Iterator[Slice]:
        """``part`` validated: the slices known to be followed by a record."""
        _, rows, verdicts = part
        trailing: list[int] = []
        i = len(verdicts) - 1
        while i >= 0:
            verdict = verdicts[i]
            if verdict.skipped != _FOOTER_LINE:
                if verdict.errors or verdict.skipped or not _is_report_footer(rows[i]):
                    break  # a record (or a row of its own reason): the footer is below it
                trailing.append(i)
            i -= 1
        if i >= 0:  # a record in this slice: the lines held were records too
            yield from (held for held, _ in self._held)
            self._held = []
            if not trailing:
                yield part
                return
        self._held.append((part, trailing))

    def finish(self) -> Iterator[Slice]:
        """The file has ended: the valid lines held are its footer lines."""
        for part, trailing in self._held:
            for i in trailing:
                _as_footer(part[2][i])
            yield part
        self._held = []


def _limited(batches: Iterator[RowBatch], limit: int | None) -> Iterator[_Rows]:
    remaining = limit
    for batch in batches:
        numbers, rows = batch.row_numbers, batch.rows
        if remaining is not None:
            numbers, rows = numbers[:remaining], rows[:remaining]
            remaining -= len(rows)
        if rows:
            yield numbers, rows, batch.problems
        if remaining is not None and remaining <= 0:
            return


# ---- two processes ---------------------------------------------------------------


def _pack(verdicts: list[RowVerdict], pipeline_id: str | None) -> tuple[Any, ...]:
    """A batch for the pipe: each regular row's verdict in its compact form
    (:mod:`importer.validate.compact`: a flat tuple, which the planner reads as it is),
    each other one as its fields in a plain tuple (they pickle several times faster than
    dataclass instances), marshalled (a million rows' batches dump in about half of
    pickle's time and load in four fifths; both ends are one interpreter). A rejected
    field (a FieldError) goes as its three texts, with the rows that have them; a value
    marshal does not take leaves the batch to pickle. The batch's stage and amount
    counts go with it (counted here, at C speed)."""
    counts = _counts(verdicts)
    packed = compact_batch(list(map(WHOLE_FIELDS, verdicts)), pipeline_id)
    rejected = [i for i, errors in enumerate(map(_ERRORS, verdicts)) if errors]
    for i in rejected:
        values = packed[i]
        packed[i] = (values[0], [astuple(e) for e in values[1]], *values[2:])
    try:
        return "batch-m", marshal.dumps(packed), rejected, counts
    except ValueError:  # "unmarshallable object"
        return "batch", [WHOLE_FIELDS(v) for v in verdicts], counts


def _counts(verdicts: list[RowVerdict]) -> tuple[Counter[tuple[str, str]], Counter[str]]:
    """The batch's stage labels (label, target) and foreign amounts (converted, withheld)."""
    return Counter(filter(None, map(_STAGE, verdicts))), Counter(
        filter(None, map(_AMOUNT, verdicts))
    )


_STAGE, _AMOUNT = operator.attrgetter("stage"), operator.attrgetter("amount")
#: How long a compact verdict is: a whole one is longer (it has every field).
_COMPACT = len(COMPACT_FIELDS)


def _unpack(packed: list[tuple[Any, ...]]) -> list[Any]:
    """Whole verdicts again; compact ones stay compact (the planner reads them)."""
    return [values if len(values) == _COMPACT else RowVerdict(*values) for values in packed]


def _unmarshal(data: bytes, rejected: list[int]) -> list[Any]:
    verdicts = _unpack(marshal.loads(data))
    for i in rejected:
        texts = cast(list[tuple[str, str, str]], verdicts[i].errors)  # (sent as texts)
        verdicts[i].errors = [FieldError(*e) for e in texts]
    return verdicts


_ERRORS = operator.attrgetter("errors")


def _work_in_worker(
    connection: Connection, parent_end: Connection, parent: int, work: _Work
) -> None:
    """The worker: everything _sequential does, sent down the pipe.

    It dies with its parent: the parent's end of the pipe is closed here (held open
    by the fork, it would keep a dead parent's pipe alive and the worker blocked on
    it), Linux kills it when the parent dies, and elsewhere its next batch finds the
    pipe broken. Ctrl-C is the parent's to handle: it stops the worker.
    """
    parent_end.close()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for sig in (signal.SIGTERM, signal.SIGHUP):  # the parent's way to stop it: at once
        signal.signal(sig, signal.SIG_DFL)
    _die_with(parent)
    try:
        try:
            source = _sequential(work, count=False)
            connection.send(("info", source.info, source.mapping_warnings))
            for verdicts in source.batches:
                connection.send(_pack(verdicts, work.pipeline_id))
            connection.send(("end", source.blank_rows))
        except ImporterError as exc:
            connection.send(("error", exc))
        except (BrokenPipeError, ConnectionResetError):
            raise
        except BaseException as exc:
            connection.send(("crash", f"{type(exc).__name__}: {exc}"))
        finally:
            connection.close()
    except (BrokenPipeError, ConnectionResetError):
        os._exit(0)  # the parent is gone or has stopped listening: nobody to tell


def _die_with(parent: int) -> None:
    """Ask Linux to kill this process when its parent dies (PR_SET_PDEATHSIG)."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGKILL)  # 1: PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass  # the broken pipe still ends the worker at its next batch
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(0)


def _parallel(work: _Work) -> ValidatedSource:
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    worker = context.Process(
        target=_work_in_worker,
        args=(sender, receiver, os.getpid(), work),
        name="octolane-import-validate",
        daemon=True,
    )
    worker.start()
    sender.close()

    def stop() -> None:
        receiver.close()
        if worker.is_alive():
            worker.terminate()
        worker.join()

    try:
        kind, *payload = _receive(receiver)
        if kind != "info":
            raise ImporterError(f"the validation worker sent {kind!r} first")
    except BaseException:
        stop()
        raise
    result = ValidatedSource(payload[0], payload[1], iter(()), parallel=True, _closer=stop)

    def verdicts() -> Iterator[list[RowVerdict]]:
        try:
            while True:
                kind, *payload = _receive(receiver)
                if kind == "batch-m":
                    result.count(payload[2])
                    yield _unmarshal(payload[0], payload[1])
                elif kind == "batch":
                    result.count(payload[1])
                    yield [RowVerdict(*values) for values in payload[0]]
                elif kind == "end":
                    result.blank_rows = payload[0]
                    return
        finally:
            stop()

    result.batches = verdicts()
    return result


def _receive(receiver: Connection) -> tuple[Any, ...]:
    try:
        message = receiver.recv()
    except EOFError as exc:
        raise ImporterError("the validation worker stopped without a word") from exc
    if message[0] == "error":
        raise message[1]
    if message[0] == "crash":
        raise RuntimeError(f"the validation worker failed: {message[1]}")
    return message
