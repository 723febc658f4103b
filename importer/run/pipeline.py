"""``run_import``: read → map → validate → plan → send → write, in one library call.

The CLI is a thin shell over this function; anything a flag does can be done
from Python.

Example:
    >>> report = run_import("leads.csv", "hubspot", dry_run=True)   # doctest: +SKIP
    >>> report.counts["would_import"], report.planned                # doctest: +SKIP
    (287, {'contacts': 250, 'accounts': 12})
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr

from importer.api.models import UUID_PATTERN
from importer.errors import ImporterError, UsageError
from importer.map.presets import resolve_mapping_path
from importer.map.spec import MappingFile, load_mapping
from importer.plan import ImportPlan, Planner, RowPlan
from importer.read._csv import gc_paused
from importer.read.source import SourceInfo, open_source
from importer.report.outcomes import row_results, tally_rows
from importer.report.results import ResultsSink, RowResult, check_writable, write_failures
from importer.send.client import InboundClient, check_base_url
from importer.send.limiter import RateLimiter
from importer.send.runner import RequestOutcome, SendReport, send_plan
from importer.settings import Settings
from importer.validate.source import validated_source

__all__ = ["ImportReport", "ReadOptions", "run_import"]

Progress = Callable[[str, int, int], None]  # (phase "read"|"send", rows done, rows failed)


@dataclass(frozen=True, slots=True)
class ReadOptions:
    """How to read the input file; ``None`` means detect."""

    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | int | None = None
    header_row: int | None = None


@dataclass(slots=True)
class ImportReport:
    """What a run did: every count a summary needs, and where the files are."""

    source: SourceInfo
    mapping: str
    dry_run: bool
    rows_read: int = 0
    blank_rows: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    rejected_by_reason: dict[str, int] = field(default_factory=dict)
    rows_with_warnings: int = 0
    mapping_warnings: list[str] = field(default_factory=list)
    planned: dict[str, int] = field(default_factory=dict)
    distinct: dict[str, int] = field(default_factory=dict)
    plan: ImportPlan = field(default_factory=ImportPlan)
    rows: list[RowPlan] = field(default_factory=list)
    results_path: Path | None = None
    failures_path: Path | None = None
    failures_written: int = 0
    send: Any = None  # sending.SendReport on a real run
    landed: dict[str, int] | None = None  # --sandbox: records in the sandbox after the run
    aborted: str | None = None
    elapsed_s: float = 0.0

    @property
    def exit_code(self) -> int:
        """0 all rows fine, 1 some rows rejected or failed, 3 the run was aborted."""
        if self.aborted:
            return 3
        bad = sum(self.counts.get(s, 0) for s in ("invalid", "failed", "not_sent"))
        return 1 if bad else 0

    @property
    def results(self) -> Iterator[RowResult]:
        """Each row's line of the results file, computed on demand (a million rows fit)."""
        return row_results(self.rows, self.send)

    @property
    def rows_per_s(self) -> float:
        return self.rows_read / self.elapsed_s if self.elapsed_s else 0.0


def run_import(
    path: str | Path,
    mapping: str | Path | MappingFile,
    *,
    dry_run: bool = False,
    pipeline_id: str | None = None,
    read: ReadOptions = ReadOptions(),
    limit: int | None = None,
    results_path: str | Path | None = None,
    failures_path: str | Path | None = None,
    progress: Progress | None = None,
    settings: Settings | None = None,
    sandbox: bool = False,
    client: Any = None,
    batch_rows: int = 50_000,
    parallel: bool | None = None,
) -> ImportReport:
    """Import ``path`` through ``mapping``; with ``dry_run`` nothing is sent.

    Args:
        path: the CSV/TSV/XLSX export.
        mapping: a mapping file path, a preset name (``hubspot``) or a loaded mapping.
        dry_run: validate and plan only.
        pipeline_id: the deals' pipeline; overrides the mapping's ``options.pipeline_id``.
        read: encoding/delimiter/sheet/header-row overrides.
        limit: import only the first N data rows.
        results_path: where to write the results CSV (``None``: not written).
        failures_path: where to write the rejected/failed rows (``None``: not written).
        progress: called as ``progress(phase, rows_done, rows_failed)`` with phase
            ``"read"`` then ``"send"``, for a progress bar.
        settings: key, base URL, concurrency, rate, timeout (default: from the
            ``OCTOLANE_*`` environment variables).
        sandbox: start the local Octolane sandbox and import into it.
        client: an :class:`~importer.send.client.OctolaneClient` to send with instead
            of one built from ``settings`` (another target, or a test double).
        batch_rows: rows read and validated at a time.
        parallel: read and validate in a second process (``None``: for big files).

    Returns:
        An :class:`ImportReport`. Bad rows never raise; a file, mapping or
        usage problem raises an :class:`~importer.errors.ImporterError`.
    """
    started = time.perf_counter()
    settings = settings or Settings.from_env()
    mapping_file = _load(mapping)
    if not dry_run and not sandbox and client is None:
        if settings.api_key is None:
            raise UsageError(
                "no API key: pass --api-key or set OCTOLANE_API_KEY; or try --sandbox or --dry-run"
            )
        check_base_url(settings.base_url)  # before the file is read, not after
    with contextlib.ExitStack() as stack:
        box = stack.enter_context(_start_sandbox()) if sandbox else None
        if box is not None:
            settings = settings.model_copy(
                update={"api_key": SecretStr(box.api_key), "base_url": box.base_url}
            )
        pipeline_id = (
            pipeline_id
            or mapping_file.options.pipeline_id
            or settings.pipeline_id
            or (box.pipeline_id if box else None)
        )
        sink = ResultsSink(results_path)
        if failures_path is not None:
            check_writable(Path(failures_path))
        try:
            # Planning builds millions of long-lived small containers without cycles:
            # the cyclic collector would rescan them again and again (2x the time).
            with gc_paused():
                # A dry run's rows are final once planned: their lines are written as
                # the file is read. A real run's wait for their requests' outcomes.
                report = _plan(
                    path,
                    mapping_file,
                    pipeline_id,
                    read,
                    limit,
                    progress,
                    batch_rows,
                    parallel,
                    sink if dry_run else None,
                    resolve_rows=not dry_run,
                )
            report.dry_run = dry_run
            if not dry_run:
                if report.rows_read:
                    report.send = send_import(
                        report.plan, settings, client=client, progress=progress
                    )
                    report.aborted = report.send.aborted
                tally_rows(sink, report.rows, report.send)
                if box is not None:
                    report.landed = _landed(box)
            sink.commit()
        finally:
            sink.close()
    _conclude(report, sink, path, read, failures_path)
    report.elapsed_s = time.perf_counter() - started
    return report


def _plan(
    path,
    mapping_file: MappingFile,
    pipeline_id,
    read,
    limit,
    progress,
    batch_rows,
    parallel,
    sink,
    *,
    resolve_rows: bool,
):
    """Read, map, validate and plan: the core, no network."""
    if mapping_file.opportunity is not None and not pipeline_id:
        raise UsageError(
            f"{mapping_file.source} maps deals, which need a pipeline: pass --pipeline-id, set "
            "OCTOLANE_PIPELINE_ID, or set options.pipeline_id in the mapping"
        )
    if pipeline_id and not re.fullmatch(UUID_PATTERN, pipeline_id):
        raise UsageError(f"pipeline id {pipeline_id!r} is not a UUID (Octolane's pipeline ids are)")
    source = validated_source(
        path,
        mapping_file,
        pipeline_id=pipeline_id,
        read=_read_kwargs(read),
        limit=limit,
        batch_rows=batch_rows,
        parallel=parallel,
    )
    report = ImportReport(source.info, mapping_file.source, True)
    report.mapping_warnings = source.mapping_warnings
    planner = Planner(pipeline_id=pipeline_id)
    try:
        for verdicts in source.batches:
            first = len(planner.rows)
            planner.add(verdicts)
            if sink is not None:
                tally_rows(sink, planner.rows[first:], None)
            report.rows_read += len(verdicts)
            if progress:
                progress("read", report.rows_read, 0)
    finally:
        source.close()
    report.blank_rows = source.blank_rows
    report.plan = planner.finish(resolve_rows=resolve_rows)
    report.rows = planner.rows
    report.planned = report.plan.by_endpoint()
    report.distinct = _distinct(planner)
    return report


@contextlib.contextmanager
def _start_sandbox() -> Iterator[Any]:
    # Imported here: the sandbox's server stack is only loaded when asked for.
    from importer.sandbox import running_sandbox

    with running_sandbox() as box:
        yield box


def _landed(box: Any) -> dict[str, int]:
    """How many records of each object the sandbox holds now, from its inspection API."""
    response = httpx.get(f"{box.url}/_sandbox/stats", headers={"X-API-Key": box.api_key})
    return dict(response.json()["data"]["records"])


def send_import(
    plan: ImportPlan,
    settings: Settings,
    *,
    client: Any = None,
    progress: Progress | None = None,
) -> SendReport:
    """Send a plan for real: one client, one shared limiter, Ctrl-C stops cleanly.

    The first Ctrl-C (SIGINT, or SIGTERM) stops sending; requests on the wire
    finish and the rest become ``not_sent``. A second Ctrl-C quits at once.
    """
    return asyncio.run(_send(plan, settings, client, progress))


async def _send(plan: ImportPlan, settings: Settings, client: Any, progress) -> SendReport:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    installed = _on_interrupt(loop, stop)
    limiter = RateLimiter(concurrency=settings.concurrency, rate_per_min=settings.rate_per_min)
    tracker = _SendProgress(plan, progress)
    own = client is None
    if own:
        if settings.api_key is None:
            raise UsageError("no API key: pass --api-key or set OCTOLANE_API_KEY")
        client = InboundClient(
            settings.api_key,
            base_url=settings.base_url,
            timeout_s=settings.timeout_s,
            max_connections=settings.concurrency,
        )
    try:
        return await send_plan(plan, client, limiter=limiter, on_outcome=tracker, stop=stop)
    finally:
        if own:
            await client.aclose()
        for sig in installed:
            loop.remove_signal_handler(sig)


def _on_interrupt(loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> list[int]:
    """First SIGINT/SIGTERM: stop sending. Second: the default (quit at once)."""
    if threading.current_thread() is not threading.main_thread():
        return []
    installed = []

    def first(sig: int) -> None:
        stop.set()
        loop.remove_signal_handler(sig)
        installed.remove(sig)
        print(
            "\nstopping: no new requests; waiting for those in flight (Ctrl-C again to quit now)",
            file=sys.stderr,
            flush=True,
        )

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, first, sig)
        installed.append(sig)
    return installed


class _SendProgress:
    """Turns request outcomes into rows done, for the progress bar."""

    def __init__(self, plan: ImportPlan, progress: Progress | None) -> None:
        self.progress = progress
        self.pending: dict[int, int] = Counter(r for request in plan.requests for r in request.rows)
        self.total = len(self.pending)
        self.done = 0
        self.failed_rows: set[int] = set()
        if progress is not None and hasattr(progress, "set_total"):
            progress.set_total("send", self.total)

    def __call__(self, outcome: RequestOutcome) -> None:
        for row in outcome.rows:
            if outcome.status == "failed":
                self.failed_rows.add(row)
            self.pending[row] -= 1
            if not self.pending[row]:
                self.done += 1
        if self.progress is not None:
            self.progress("send", self.done, len(self.failed_rows))


def _load(mapping: str | Path | MappingFile) -> MappingFile:
    if isinstance(mapping, MappingFile):
        return mapping
    return load_mapping(resolve_mapping_path(str(mapping)))


def _read_kwargs(read: ReadOptions) -> dict[str, Any]:
    return {k: getattr(read, k) for k in ReadOptions.__slots__ if getattr(read, k) is not None}


def _distinct(planner: Planner) -> dict[str, int]:
    counts = Counter(e.endpoint for e in planner.entities.values())
    return {
        name: counts.get(name, 0) for name in ("accounts", "contacts", "opportunities", "notes")
    }


# ---- the end of a run --------------------------------------------------------------


def _conclude(report: ImportReport, sink: ResultsSink, path, read, failures_path) -> None:
    report.counts = dict(sink.counts)
    report.rejected_by_reason = dict(sink.reasons.most_common())
    report.rows_with_warnings = sink.warned
    report.results_path = sink.path if sink.written else None
    if failures_path is not None:
        report.failures_path = Path(failures_path)
        report.failures_written = write_failures(
            report.failures_path, report.source.columns, _reread(path, read), sink.failures
        )


def _reread(path, read: ReadOptions) -> Iterator[tuple[int, list[str]]]:
    """A second streaming pass over the input, for the failures file's original cells."""
    try:
        with open_source(path, **_read_kwargs(read)) as source:
            for batch in source.batches():
                yield from zip(batch.row_numbers, batch.rows, strict=True)
    except ImporterError:  # the file changed under us: the results file still holds every row
        return
