"""``run_import``: read → map → validate → plan → send → report, in one library call.

The CLI is a thin shell over this function; anything a flag does can be done
from Python. The library never prints: progress and notices go to a
:class:`~importer.report.progress.Progress`, and the result is an
:class:`~importer.report.summary.ImportReport`.

Example:
    >>> report = run_import("leads.csv", "hubspot", dry_run=True)   # doctest: +SKIP
    >>> report.counts["would_import"], report.planned                # doctest: +SKIP
    (287, {'contacts': 250, 'accounts': 12})
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, closing, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from importer._gc import gc_paused
from importer.api.models import UUID_PATTERN
from importer.errors import MappingError, SourceError, UsageError
from importer.map.spec import MappingFile
from importer.map.stages import PipelineStage, StageTable, build_stage_table
from importer.map.transforms.emails import filed_under
from importer.plan import Planner
from importer.read.frames import is_rows_in_memory, write_rows_in_memory
from importer.read.spool import RowSpool
from importer.read.streams import copy_stream, is_stream, same_file, shown_name
from importer.report.html import Timeline
from importer.report.outcomes import RowsAsTheyComplete, tally_rows
from importer.report.progress import Progress, ProgressCallback, as_progress
from importer.report.request_log import RequestLog
from importer.report.requests import write_requests
from importer.report.results import (
    LiveFailuresFile,
    LiveResultsFile,
    ResultsSink,
    RowResult,
    check_writable,
    read_results,
    results_with_ids,
    write_failures,
)
from importer.report.summary import ImportReport
from importer.run.background import Pending, in_background
from importer.run.job import ImportJob
from importer.run.journal import (
    Fingerprint,
    Journal,
    combined_digest,
    default_journal_path,
    mismatch_message,
    own_digest,
    target_identity,
)
from importer.run.lock import outputs_locked
from importer.run.target import Target, choose_target
from importer.send.stages import StagesUnavailable
from importer.validate.source import validated_source

if TYPE_CHECKING:
    from importer.send.runner import Attempt, RequestOutcome, SendReport

__all__ = ["check_job", "run_import"]


def run_import(
    job: ImportJob | str | Path | Any,
    mapping: str | Path | MappingFile | None = None,
    /,
    *,
    progress: Progress | ProgressCallback | None = None,
    **options: Any,
) -> ImportReport:
    """Run one import; with ``dry_run`` nothing is sent.

    Call it with an :class:`~importer.run.job.ImportJob`, or with the input, the
    mapping (a path, a preset name or a loaded mapping) and the job's options as
    keywords (:meth:`ImportJob.create`: ``dry_run``, ``results_path``, ``settings``, ...).
    The input is a file, or rows in memory: a pandas DataFrame or an iterable of
    mappings (:mod:`importer.read.frames`); ``report.to_pandas()`` gives the results.

    Returns:
        An :class:`ImportReport`. Bad rows never raise; a file, mapping or
        usage problem raises an :class:`~importer.errors.ImporterError`.
    """
    if isinstance(job, ImportJob) and is_stream(job.input):  # standard input, a pipe
        with tempfile.TemporaryDirectory(prefix="octolane-import-") as folder:
            copy = copy_stream(job.input, Path(folder))
            with _named_as(copy, job.input):
                return run_import(dataclasses.replace(job, input=copy), progress=progress)
    if isinstance(job, (str, os.PathLike)) and is_stream(job):
        with tempfile.TemporaryDirectory(prefix="octolane-import-") as folder:
            copy = copy_stream(job, Path(folder))
            with _named_as(copy, job):
                return run_import(copy, mapping, progress=progress, **options)
    if not isinstance(job, (ImportJob, str, os.PathLike)) and is_rows_in_memory(job):
        with tempfile.TemporaryDirectory(prefix="octolane-import-") as folder:
            path = write_rows_in_memory(job, Path(folder))
            report = run_import(path, mapping, progress=progress, **options)
        report.input_rows = job
        return report
    started = time.perf_counter()
    if not isinstance(job, ImportJob):
        job = ImportJob.create(job, _given(mapping), **options)
    shown = as_progress(progress)
    target = job.target or choose_target()
    if not job.dry_run:
        target.check()  # before the file is read, not after
    identity = _journal_identity(job, target)
    outputs = (
        job.outputs.results, job.outputs.failures, job.outputs.requests, job.request_log,
        job.report_path,
    )  # fmt: skip
    _keep_inputs(job, [*outputs, identity[0] if identity else None])
    with ExitStack() as run:
        run.enter_context(outputs_locked([*outputs, identity[0] if identity else None]))
        spool = None
        if job.outputs.failures is not None or job.report_path is not None:  # rows as read
            spool = RowSpool.temporary(run)
        report, sink = _run_locked(job, target, identity, shown, spool)
        _conclude(report, sink, job, spool)
        report.elapsed_s = time.perf_counter() - started
        if job.report_path is not None:
            _write_report(report, job, spool)
    return report


@contextmanager
def _named_as(copy: Path, given: str | os.PathLike[str]) -> Iterator[None]:
    """Errors name the stream as the user gave it (``standard input``), not its private
    copy, which is gone when they are read."""
    try:
        yield
    except (SourceError, MappingError, UsageError) as exc:
        text = str(exc).replace(str(copy), shown_name(os.fspath(given)))
        if text == str(exc):
            raise
        raise type(exc)(text) from None


def _keep_inputs(job: ImportJob, outputs: list[Path | None]) -> None:
    """Refuse a run that would write over its own input, a linked export, its mapping or
    its rates file (``--out leads.csv`` for ``leads.csv``; ``--out leads.csv`` for
    ``leads.xlsx``, whose results workbook is ``leads.xlsx``): the file would be lost."""
    written = [(p, "") for p in outputs if p is not None]
    if job.results_format != "csv":  # the results (and failures) as workbooks too
        written += [
            (p.with_suffix(".xlsx"), f", the workbook copy of {p.name}")
            for p in (job.outputs.results, job.outputs.failures)
            if p is not None
        ]
    inputs = [("the input", Path(job.input))] if isinstance(job.input, (str, os.PathLike)) else []
    inputs += [(f"the linked export {path.name}", path) for _, path in job.links]
    mapping = Path(job.mapping.source)
    if mapping.is_file():
        inputs.append((f"the mapping {mapping.name}", mapping))
    if job.rates_file is not None:
        inputs.append((f"the rates file {job.rates_file.name}", job.rates_file))
    for what, source in inputs:
        for path, copy in written:
            if same_file(path, source):
                fix = " (or pass --results-format csv)" if copy else ""
                raise UsageError(
                    f"{path}{copy}: is {what}, and the run would write over it: give the"
                    f" output another name{fix}"
                )


def _run_locked(
    job: ImportJob,
    target: Target,
    identity: tuple[Path, Fingerprint | None] | None,
    shown: Progress,
    spool: RowSpool | None,
) -> tuple[ImportReport, ResultsSink]:
    """The run, while no other run may write its files."""
    guard = _guard_results(job, identity)
    journal = None
    if identity is not None and identity[1] is not None:  # (a dry run's has none)
        journal = Journal.open(identity[0], identity[1], fresh=job.fresh)
    try:
        sink = _open_outputs(job, journal)
        try:
            # Planning builds millions of long-lived small containers without cycles:
            # the cyclic collector would rescan them again and again (2x the time).
            with gc_paused():
                # A dry run's rows are final once planned: their lines are written as the
                # file is read. A real run's wait for their requests' outcomes.
                pipeline_id = _pipeline_id(job, target)
                report = _plan(
                    job,
                    pipeline_id,
                    sink if job.dry_run else None,
                    shown,
                    target=target,
                    spool=spool,
                )
            if guard is not None:
                _refuse_ids(job, guard.result())  # before anything is written
            if job.outputs.requests is not None:
                write_requests(job.outputs.requests, report.plan, api=target.settings.api)
            if not job.dry_run:
                done = _earlier(job, journal, report)
                if report.rows_read:
                    report.send = _send_writing_rows(
                        job, report, target, shown, done, journal, spool
                    )
                    report.aborted = report.send.aborted
                tally_rows(sink, report.rows, report.send)
            sink.commit()
        finally:
            sink.close()
        if journal is not None:
            stopped = report.aborted or (report.send and report.send.counts.get("not_sent"))
            journal.finish("stopped" if stopped else "complete")
    finally:
        if guard is not None:
            guard.close()  # (a check no one waited for: stopped)
        if journal is not None:
            journal.close()
    return report, sink


def _send_writing_rows(
    job: ImportJob,
    report: ImportReport,
    target: Target,
    progress: Progress,
    done: dict[str, RequestOutcome],
    journal: Journal | None,
    spool: RowSpool | None,
) -> SendReport:
    """Send the plan; each row's line goes to the results file the moment it is done
    (flushed), so that a process that dies leaves every finished row on disk."""
    with ExitStack() as files:
        writers: list[Callable[[RowResult], None]] = []
        if job.outputs.results is not None:
            writers.append(files.enter_context(closing(LiveResultsFile(job.outputs.results))))
        if job.outputs.failures is not None and spool is not None:
            failures = LiveFailuresFile(
                job.outputs.failures, report.source.columns, spool.rows,
                journal=journal is not None,
            )  # fmt: skip
            writers.append(files.enter_context(closing(failures)))

        def write(result: RowResult) -> None:
            for writer in writers:
                writer(result)

        rows = RowsAsTheyComplete(report.rows, write) if writers else None
        if rows is not None:
            rows.start()
            for writer in writers:
                if isinstance(writer, LiveFailuresFile):
                    writer.flush()  # the rows rejected before sending, in one pass
        hearers = [h for h in (job.on_attempt, report.timeline) if h is not None]
        if job.request_log is not None:
            key = target.settings.api_key
            secrets = [key.get_secret_value()] if key is not None else []
            hearers.append(files.enter_context(closing(RequestLog(job.request_log, secrets))))

        def on_attempt(attempt: Attempt) -> None:
            for hear in hearers:
                hear(attempt)

        from importer.run._send import send_import  # asyncio and httpx: only when sending

        return send_import(
            report.plan, target, progress=progress, done=done, journal=journal, on_row=rows,
            on_attempt=on_attempt if hearers else None, retry_unknown=job.retry_unknown,
        )  # fmt: skip


def _journal_identity(job: ImportJob, target: Target) -> tuple[Path, Fingerprint | None] | None:
    """Where the run's journal is and the import it belongs to (:mod:`importer.run.journal`),
    or None when the job keeps none (``no_journal``, or no results file to sit beside).

    A dry run writes no journal: it needs only the journal's place (whether the results
    file it would replace came from the embedded sandbox), not the digest of its input.
    """
    path = job.journal
    if path is None and job.outputs.results is not None:
        path = default_journal_path(job.outputs.results)
    if job.no_journal or path is None:
        return None
    if job.dry_run:
        return path, None
    where, ephemeral = target_identity(target)
    try:
        own = own_digest(job.input)
        linked = [(p, own_digest(p)) for _, p in job.links]
    except OSError:
        return None  # the reader says what is wrong with the file, in its words
    # (the same digest as of the files' bytes in order: journals before keep matching)
    digest = combined_digest([own, *(d for _, d in linked)])
    mapping = job.mapping.model_dump_json(exclude={"source"}) + f"\0{job.pipeline_id}"
    fingerprint = Fingerprint(
        input=digest,
        input_name=job.input.name,
        mapping=hashlib.sha256(mapping.encode()).hexdigest(),
        mapping_name=Path(str(job.mapping.source)).name,
        target=where,
        ephemeral=ephemeral,
        input_own=own.hex(),
        links="\n".join(f"{p}={d.hex()}" for p, d in linked),
    )
    return path, fingerprint


def _guard_results(
    job: ImportJob, identity: tuple[Path, Fingerprint | None] | None
) -> Pending[tuple[int, str] | None] | None:
    """Refuse to replace a results file holding a real run's ids (unless ``force``).

    The run that continues the same import (its journal's fingerprint is this one's)
    may: it writes the same rows with their final state. So may any run where the
    file came from the embedded sandbox (its ids are of records gone with it).

    A dry run's reading of a big results file goes on beside the run (nothing it
    writes is visible before its end): the pending reading is returned, for
    :func:`_refuse_ids` once the rows are planned.
    """
    path = job.outputs.results
    if job.force or path is None or not path.exists():
        return None
    if identity is not None:
        recorded = Journal.recorded(identity[0])
        if recorded is not None and recorded.ephemeral:
            return None
        if recorded is not None and identity[1] is not None and not job.fresh:
            differences = identity[1].differences(recorded)
            if differences and Journal.reached(identity[0]):
                raise UsageError(mismatch_message(identity[0], differences))
            if not differences:
                return None  # the same import, continued
    if job.dry_run and _size(path) >= _READ_BESIDE_FROM:
        return in_background(results_with_ids, path)
    _refuse_ids(job, results_with_ids(path))
    return None


#: A results file this big (a dry run's of 100,000 rows) is read beside the dry run.
_READ_BESIDE_FROM = 16 * 2**20


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _refuse_ids(job: ImportJob, found: tuple[int, str] | None) -> None:
    """Refuse the run where the results file it would replace holds ids (``found``: the
    first row with one, and its id column)."""
    if found is None:
        return
    row, column = found
    what = "a dry run" if job.dry_run else "this run"
    raise UsageError(
        f"{job.outputs.results} holds the Octolane ids of a real import (row {row} has a"
        f" {column}), and {what} would replace it: give another results file with --out, or"
        " pass --force to replace it"
    )


def _earlier(
    job: ImportJob, journal: Journal | None, report: ImportReport
) -> dict[str, RequestOutcome]:
    """The outcomes earlier runs got that this run keeps, and what the report says of them."""
    if journal is None:
        return {}
    report.journal_path = journal.path
    report.run_number = journal.run
    if not journal.previous:
        if journal.set_aside is not None:
            report.journal_note = f"begun anew; the earlier journal is now {journal.set_aside}"
        return {}
    done = journal.earlier_outcomes(
        report.plan.requests, retry_failed=job.retry_failed, retry_unknown=job.retry_unknown
    )
    rows = [r for r in report.rows if r.requests]
    finished = sum(1 for r in rows if all(k in done and done[k].status == "ok" for k in r.requests))
    left = sum(1 for request in report.plan.requests if request.key not in done)
    lost = sum(1 for o in done.values() if o.status == "unknown")
    if lost:
        settled = (
            "looked up first where the API allows, and sent if not found"
            if job.retry_unknown
            else "looked up first where the API allows (found: done; not found: sent),"
            " else kept unknown: --retry-unknown sends those"
        )
        lost_said = f"; {lost:,} whose answer was lost: {settled}"
    else:
        lost_said = ""
    if left or lost:
        report.journal_note = (
            f"resuming: {finished:,} of {len(rows):,} rows already done by earlier runs;"
            f" {left:,} requests to send{lost_said}"
        )
    else:
        failed = sum(1 for o in done.values() if o.status == "failed")
        extra = f"; {failed:,} failed (--retry-failed sends them again)" if failed else ""
        report.journal_note = (
            f"nothing to send: every request has its outcome from an earlier run"
            f" ({finished:,} of {len(rows):,} rows imported){extra}"
        )
    return done


def _given(mapping: str | Path | MappingFile | None) -> str | Path | MappingFile:
    if mapping is None:
        raise UsageError("run_import needs a mapping: a file, a preset name or a MappingFile")
    return mapping


def _open_outputs(job: ImportJob, journal: Journal | None) -> ResultsSink:
    """The results sink, once both output files are known to be writable."""
    sink = ResultsSink(job.outputs.results, not_sent_to_fix=journal is None)
    for path in (job.outputs.failures, job.outputs.requests):
        if path is not None:
            check_writable(path)
    return sink


def _pipeline_id(job: ImportJob, target: Target) -> str | None:
    """The deals' pipeline: the job's, else the mapping's, else the environment's, else the target's."""
    return (
        job.pipeline_id
        or job.mapping.options.pipeline_id
        or target.settings.pipeline_id
        or target.default_pipeline_id
    )


def _stage_table(
    job: ImportJob, pipeline_id: str | None, target: Target | None, warnings: list[str]
) -> StageTable | None:
    """The run's stage table, when the mapping reads stage labels: the one network read
    before the file is read (the pipeline's stages), in dry runs too."""
    mapping = job.mapping
    deal = mapping.opportunity
    if deal is None or (deal.stage is None and deal.stage_name is None) or pipeline_id is None:
        return None
    pipeline: Sequence[PipelineStage] | None = job.stages
    why = "no target to ask"
    if pipeline is None and target is not None:
        try:
            pipeline = target.stages(pipeline_id)
        except StagesUnavailable as exc:
            why = str(exc)
    if pipeline is None:
        warnings.append(
            f"the pipeline's stages could not be read ({why}): stage labels go only where the"
            " mapping's stages: table sends them by id"
        )
    return build_stage_table(
        mapping.stages,
        mapping.options.unmapped_stages,
        pipeline,
        source=mapping.source,
        unavailable=why,
    )


def _plan(
    job: ImportJob,
    pipeline_id: str | None,
    sink: ResultsSink | None,
    progress: Progress,
    *,
    target: Target | None = None,
    spool: RowSpool | None = None,
) -> ImportReport:
    """Read, map, validate and plan: the core; the only read is the pipeline's stages."""
    _check_pipeline(job.mapping, pipeline_id)
    stage_warnings: list[str] = []
    stages = _stage_table(job, pipeline_id, target, stage_warnings)
    source = validated_source(
        job.input,
        job.mapping,
        pipeline_id=pipeline_id,
        read=job.read.given(),
        limit=job.limit,
        batch_rows=job.batch_rows,
        parallel=job.parallel,
        stages=stages,
        links=job.links,
        spool=spool,
        # a dry run's failures are the rows validation rejects (a real run's may be any
        # row), and unless a report or a workbook shows every row, only they are kept
        spool_rejected_only=lambda info: (
            job.dry_run and job.report_path is None and not _as_workbooks(job, info.format)
        ),
    )
    report = ImportReport(source.info, job.mapping.source, job.dry_run)
    if job.report_path is not None and not job.dry_run:
        report.timeline = Timeline()  # hears every attempt: the report's requests per second
    named = {c for _, spec in job.mapping.fields() for c in spec.read_columns()}
    named.update(job.mapping.source_id_columns())
    report.mapped_columns = tuple(c for c in source.info.columns if c in named)
    report.mapping_warnings = stage_warnings + source.mapping_warnings
    public_only = job.mapping.public_only()
    if public_only and (target is None or target.settings.api != "public"):
        report.mapping_warnings.append(
            f"{', '.join(public_only)}: mapped, but not sent: the Inbound API has no such"
            " field; import with --api public (Octolane's public API) to send them"
        )
    report.validated_in_worker = source.parallel
    # A real run, a requests file (its requests name their rows) or a report with no
    # results file needs every row's plan at the end; a dry run's results file holds them.
    resolve = not job.dry_run or job.outputs.requests is not None
    keep_rows = resolve or sink is None or sink.path is None or job.keep_rows
    planner = Planner(
        pipeline_id=pipeline_id,
        keep_rows=keep_rows,
        account_names=target is not None and target.settings.api == "public",
        subject=_subject(job.mapping),
    )
    try:
        for verdicts in source.batches:
            plans = planner.add(verdicts)
            if sink is not None:
                tally_rows(sink, plans, None)
            report.rows_read += len(verdicts)
            progress("read", report.rows_read, 0)
    finally:
        source.close()
    report.blank_rows = source.blank_rows
    report.stages = dict(source.stages.most_common())
    amounts = source.amounts
    report.amounts_converted, report.amounts_withheld = amounts["converted"], amounts["withheld"]
    # A dry run's results need no request per row; a requests file or a real run does.
    report.plan = planner.finish(resolve_rows=resolve)
    if sink is not None:
        sink.amend(planner.amendments)  # its lines were written before a later row spoke
    report.rows = planner.rows
    report.planned = report.plan.by_endpoint()
    report.distinct = planner.distinct()
    # Every person a request makes (a contact's, or a deal's other people) is filed under
    # the account of its e-mail's domain, which Octolane makes where none is sent.
    people = planner.deal_people()
    hosts = planner.contact_hosts() | {email.rpartition("@")[2] for email in people}
    filed = {filed_under(host) for host in hosts}
    report.contact_accounts = len(filed - planner.account_domains() - {""})
    report.deal_contacts = len(people)
    return report


def _subject(mapping: MappingFile) -> str:
    """The file's own kind of record, as a key prefix: its most specific object (a deals
    file's deal, a contacts file's person)."""
    kinds = ("note", "opportunity", "contact", "account")
    return next((f"{k}:" for k in kinds if getattr(mapping, k) is not None), "")


def check_job(job: ImportJob) -> None:
    """What a run checks before it reads its input: a deals mapping's pipeline.

    An export folder checks every part's before its first part is sent.
    """
    _check_pipeline(job.mapping, _pipeline_id(job, job.target or choose_target()))


def _check_pipeline(mapping: MappingFile, pipeline_id: str | None) -> None:
    if mapping.opportunity is not None and not pipeline_id:
        raise UsageError(
            f"{mapping.source} maps deals, which need a pipeline: pass --pipeline-id, set "
            "OCTOLANE_PIPELINE_ID, or set options.pipeline_id in the mapping"
        )
    if pipeline_id and not re.fullmatch(UUID_PATTERN, pipeline_id):
        raise UsageError(f"pipeline id {pipeline_id!r} is not a UUID (Octolane's pipeline ids are)")


# ---- the end of a run --------------------------------------------------------------


def _conclude(
    report: ImportReport, sink: ResultsSink, job: ImportJob, spool: RowSpool | None
) -> None:
    report.counts = dict(sink.counts)
    report.rejected_by_reason = dict(sink.reasons.most_common())
    report.rejected_examples = sink.reason_rows
    report.rows_with_warnings = sink.warned
    report.partial_rows = sink.partial
    report.rows_to_resend = sink.to_resend
    report.nothing_imported = _nothing_imported(report, sink, job.mapping)
    report.results_path = sink.path if sink.written else None
    if job.outputs.failures is not None and spool is not None:
        report.failures_path = job.outputs.failures
        report.failures_written = write_failures(
            report.failures_path, report.source.columns, spool.rows(), sink.failures
        )
    if report.results_path is not None and _as_workbooks(job, report.source.format):
        _write_workbooks(report, job, spool, set(sink.failures))


def _write_report(report: ImportReport, job: ImportJob, spool: RowSpool | None) -> None:
    """The run report (``--report``): one HTML page, from the results and the rows read."""
    from importer.report.html import write_html_report

    fields = {
        key: (spec.read_columns(), tuple(_transform_name(t) for t in spec.transforms))
        for key, spec in job.mapping.fields()
    }
    rows = spool.rows() if spool is not None else iter(())
    assert job.report_path is not None
    write_html_report(job.report_path, report, rows=rows, fields=fields, timeline=report.timeline)
    report.report_path = job.report_path


def _transform_name(transform: str | dict[str, Any]) -> str:
    return transform if isinstance(transform, str) else ", ".join(map(str, transform))


def _as_workbooks(job: ImportJob, input_format: str) -> bool:
    """Whether the results go back as workbooks too (a workbook came in, or asked for)."""
    if job.results_format == "csv" or job.outputs.results is None:
        return False
    return job.results_format == "xlsx" or input_format in ("xlsx", "xls", "ods")


def _write_workbooks(
    report: ImportReport, job: ImportJob, spool: RowSpool | None, failed: set[int]
) -> None:
    """``NAME.results.xlsx`` (and ``NAME.failures.xlsx``) beside the CSV files."""
    from importer.report.workbooks import write_failures_workbook, write_results_workbook

    assert report.results_path is not None
    fields = {k: s.read_columns() for k, s in job.mapping.fields()}
    columns = report.source.columns if spool is not None else ()
    target = report.results_path.with_suffix(".xlsx")
    rows = spool.rows() if spool is not None else iter(())
    write_results_workbook(target, columns, rows, report.results_path, fields)
    report.results_workbook = target
    if report.failures_path is not None and report.failures_path.exists():
        errors = {
            r.row: (tuple(r.error_fields), r.message)
            for r in read_results(report.results_path)
            if r.row in failed
        }
        failures = report.failures_path.with_suffix(".xlsx")
        write_failures_workbook(failures, report.failures_path, columns, errors, fields)
        report.failures_workbook = failures


_GOING = ("would_import", "imported", "already_imported", "duplicate", "merged", "partial")


def _nothing_imported(report: ImportReport, sink: ResultsSink, mapping: MappingFile) -> str | None:
    """Why no row of the file gives anything to import, and what would, or None."""
    if not report.rows_read or report.aborted or any(report.counts.get(s) for s in _GOING):
        return None
    if report.counts.get("not_sent") or report.counts.get("unknown"):
        return None  # rows that go, or went, with the next run: something imports
    reasons = sink.skipped + sink.reasons
    reason, rows = reasons.most_common(1)[0] if reasons else ("", 0)
    said = (
        f"none of the {report.rows_read:,} rows gives Octolane a record to"
        f" create (most often: {reason}, {rows:,} rows)."
    )
    advice = mapping.when_nothing_imports or (
        "Check that this is the export the mapping is for; `octolane-import map FILE`"
        " proposes a mapping from the file's own columns."
    )
    return f"{said} {advice}"
