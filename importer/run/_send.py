"""Send a plan for real: one client, one shared limiter, Ctrl-C (or SIGTERM) stops cleanly."""

from __future__ import annotations

import asyncio
import signal
import threading
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

from importer.plan import ImportPlan
from importer.report.progress import NO_PROGRESS, Progress
from importer.run.journal import Journal
from importer.run.target import Target
from importer.send.dispatch import send_plan
from importer.send.limiter import RateLimiter
from importer.send.runner import Attempt, RequestOutcome, SendReport

__all__ = ["send_import"]

STOPPING = "stopping: no new requests; waiting for those in flight (Ctrl-C again to quit now)"


def send_import(
    plan: ImportPlan,
    target: Target,
    *,
    progress: Progress = NO_PROGRESS,
    done: Mapping[str, RequestOutcome] | None = None,
    journal: Journal | None = None,
    on_row: Callable[[RequestOutcome], None] | None = None,
    on_attempt: Callable[[Attempt], None] | None = None,
    retry_unknown: bool = False,
) -> SendReport:
    """Send every request of ``plan`` to ``target``, except those ``done`` by earlier runs.

    Each outcome is recorded in ``journal`` the moment it is known. The first Ctrl-C
    (SIGINT, or SIGTERM, or SIGHUP: the terminal closed) stops sending; requests on
    the wire finish and the rest become ``not_sent``. A second Ctrl-C quits at once.
    ``on_row`` hears each outcome after the journal (it writes the rows that are done).
    A lost answer in ``done`` is looked up first where the target can; one no lookup
    settles is sent again only with ``retry_unknown``.
    """
    return asyncio.run(
        _send(plan, target, progress, done or {}, journal, on_row, on_attempt, retry_unknown)
    )


async def _send(
    plan: ImportPlan,
    target: Target,
    progress: Progress,
    done: Mapping[str, RequestOutcome],
    journal: Journal | None,
    on_row: Callable[[RequestOutcome], None] | None = None,
    on_attempt: Callable[[Attempt], None] | None = None,
    retry_unknown: bool = False,
) -> SendReport:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    previous: dict[int, Any] = {sig: signal.getsignal(sig) for sig in _STOPPING_SIGNALS}
    installed = _on_interrupt(loop, stop, progress)
    settings = target.settings
    limiter = RateLimiter(
        concurrency=settings.concurrency,
        rate_per_min=settings.rate_per_min,
        min_rate_per_min=settings.min_rate_per_min,
    )
    tracker = _SendProgress(plan, progress)
    hearers = [h for h in (journal.record if journal else None, on_row, tracker) if h]

    def on_outcome(outcome: RequestOutcome) -> None:
        for hear in hearers:  # the journal first: on disk before anything else hears of it
            hear(outcome)

    try:
        async with target.connect() as client:
            report = await send_plan(
                plan, client, limiter=limiter, on_outcome=on_outcome, stop=stop, done=done,
                on_send=journal.sending if journal is not None else None,
                on_attempt=on_attempt, retry_unknown=retry_unknown,
                held_notes=journal.held_notes if journal is not None else None,
                on_held_notes=journal.note_held_notes if journal is not None else None,
                read_limiter=RateLimiter(
                    concurrency=settings.concurrency, rate_per_min=settings.read_rate_per_min
                ),
            )  # fmt: skip
        if report.aborted:  # (deals held back for a check that failed for now are no stop)
            tracker.finish()
        return report
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)
            # (asyncio leaves the default behind)
            signal.signal(sig, previous[sig] if previous[sig] is not None else signal.SIG_DFL)


_STOPPING_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def _on_interrupt(
    loop: asyncio.AbstractEventLoop, stop: asyncio.Event, progress: Progress
) -> list[int]:
    """First SIGINT/SIGTERM: stop sending. Second: the default (quit at once)."""
    if threading.current_thread() is not threading.main_thread():
        return []
    installed: list[int] = []

    def first(sig: int) -> None:
        stop.set()
        loop.remove_signal_handler(sig)
        installed.remove(sig)
        progress.notice(STOPPING)

    for sig in _STOPPING_SIGNALS:
        loop.add_signal_handler(sig, first, sig)
        installed.append(sig)
    return installed


class _SendProgress:
    """Turns request outcomes into rows done, for the progress bar."""

    def __init__(self, plan: ImportPlan, progress: Progress) -> None:
        self.progress = progress
        self.pending: Counter[int] = Counter(r for request in plan.requests for r in request.rows)
        self.done = 0
        self.failed_rows: set[int] = set()
        self.not_sent_rows: set[int] = set()
        progress.set_total("send", len(self.pending))

    def __call__(self, outcome: RequestOutcome) -> None:
        for row in outcome.rows:
            if outcome.status == "failed":
                self.failed_rows.add(row)
            elif outcome.status == "not_sent":
                self.not_sent_rows.add(row)  # not done: the bar does not count it
            self.pending[row] -= 1
            if not self.pending[row] and row not in self.not_sent_rows:
                self.done += 1
        self.progress("send", self.done, len(self.failed_rows))

    def finish(self) -> None:
        """After a stop: what was sent and what was not, in rows."""
        if self.not_sent_rows:
            self.progress.notice(
                f"stopped: {self.done:,} rows sent ({len(self.failed_rows):,} of them failed),"
                f" {len(self.not_sent_rows - self.failed_rows):,} not sent"
            )
