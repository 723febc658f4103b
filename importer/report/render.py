"""What a person sees: the summary, the JSON summary, and the progress bar.

Kept apart from cli.py so the library's report can be rendered the same way
from Python. The run itself never prints: it hands progress and notices to a
:class:`~importer.report.progress.Progress`, and :func:`progress_bar` is the
CLI's, drawn on standard error.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from importer.api.endpoints import ENDPOINTS
from importer.read.source import DELIMITER_NAMES
from importer.report.progress import Phase
from importer.report.summary import ImportReport

if TYPE_CHECKING:
    from importer.send.runner import SendReport

__all__ = ["progress_bar", "render_summary", "report_as_dict"]

_DELIMITER_WORDS = {character: name for name, character in DELIMITER_NAMES.items()}
_STATUS_ORDER = (
    "would_import",
    "imported",
    "already_imported",
    "duplicate",
    "merged",
    "skipped",
    "partial",
    "invalid",
    "failed",
    "unknown",
    "not_sent",
)


def render_summary(report: ImportReport) -> str:
    """The human summary printed after a run."""
    info = report.source
    how = f"{info.format}"
    if info.encoding:
        how += f", {info.encoding}"
    if info.delimiter:
        how += f", {_delimiter_name(info.delimiter)}-delimited"
    if info.sheet:
        how += f", sheet {info.sheet!r}, header on row {info.header_row}"
    lines = [
        f"{info.path.name}: {report.rows_read} rows read ({how})"
        + (f", {report.blank_rows} blank rows skipped" if report.blank_rows else ""),
        f"mapping: {report.mapping}" + ("  [dry run: nothing sent]" if report.dry_run else ""),
    ]
    lines += [f"  warning: {w}" for w in report.mapping_warnings]
    if report.journal_path is not None:
        lines.append(
            f"journal: {report.journal_path} (run {report.run_number})"
            + (f": {report.journal_note}" if report.journal_note else "")
        )
    invalid = report.counts.get("invalid", 0)
    partial = (
        report.counts.get("partial", 0) if report.partial_rows is None else report.partial_rows
    )
    lines.append(
        f"rows: {report.rows_read - invalid - partial:,} valid, "
        + (f"{partial:,} partial (some records left out), " if partial else "")
        + f"{invalid:,} invalid"
    )
    for status in _STATUS_ORDER:
        if report.counts.get(status):
            lines.append(f"  {status:<17}{report.counts[status]:>9,}")
    if report.rejected_by_reason:
        lines.append("rejected or failed rows by reason:")
        for reason, count in list(report.rejected_by_reason.items())[:12]:
            lines.append(f"  {count:>7,}  {reason}")
        if len(report.rejected_by_reason) > 12:
            lines.append(
                f"  ... {len(report.rejected_by_reason) - 12} more reasons in the results file"
            )
    if report.rows_with_warnings:
        lines.append(f"rows with warnings: {report.rows_with_warnings:,} (see the results file)")
    if report.stages:
        lines.append("stages (source label → Octolane stage: rows):")
        shown = sorted(report.stages.items(), key=lambda item: -item[1])
        for (label, stage), count in shown[:30]:
            lines.append(f"  {label!r} → {stage}: {count:,}")
        if len(shown) > 30:
            lines.append(f"  ... {len(shown) - 30} more labels (see --json)")
    if report.amounts_converted or report.amounts_withheld:
        lines.append(
            f"amounts on rows: {report.amounts_converted:,} converted to US dollars,"
            f" {report.amounts_withheld:,} left out (no rate or unknown currency)"
        )
    distinct = ", ".join(f"{n:,} {k}" for k, n in report.distinct.items() if n)
    lines.append(f"distinct: {distinct or 'nothing'}")
    if report.contact_accounts:
        lines.append(
            f"  and {report.contact_accounts:,} more accounts Octolane makes for the e-mail"
            " domains of the people it makes (a contact's: the results' contact_account)"
        )
    if report.deal_contacts:
        lines.append(
            f"  and {report.deal_contacts:,} more contacts Octolane makes for the deals' people"
            " (their e-mails, in no contact record of the file)"
        )
    verb = "planned requests" if report.dry_run else "requests"
    planned = ", ".join(f"{e} {report.planned.get(e, 0):,}" for e in ENDPOINTS)
    lines.append(f"{verb}: {planned} ({sum(report.planned.values()):,} in all)")
    if report.send is not None:
        lines.append(_send_line(report, report.send))
    if report.landed is not None:
        landed = ", ".join(f"{n:,} {k}" for k, n in report.landed.items())
        lines.append(f"in the sandbox now: {landed}")
    if report.aborted:
        lines.append(f"ABORTED: {report.aborted}")
    if report.results_path:
        lines.append(f"results:  {report.results_path}")
        if report.results_workbook is not None:
            lines.append(f"          {report.results_workbook} (the same, as a workbook)")
    if report.failures_path and report.failures_written:
        lines.append(
            f"failures: {report.failures_path} ({report.failures_written:,} rows to fix and run again)"
        )
        if report.failures_workbook is not None:
            lines.append(
                f"          {report.failures_workbook} (the failed cells marked; it imports again"
                " as it is)"
            )
    if report.report_path is not None:
        lines.append(f"report:   {report.report_path} (open it in a browser)")
    waiting = report.counts.get("not_sent", 0) + report.counts.get("unknown", 0)
    if report.continue_with and (waiting or report.rows_to_resend or report.aborted):
        lines.append(_continue_line(report))
    if report.nothing_imported:  # last, where it is read: the exit code is 1
        lines.append(f"NOTHING IMPORTED: {report.nothing_imported}")
    return "\n".join(lines)


def _continue_line(report: ImportReport) -> str:
    not_sent, unknown = report.counts.get("not_sent", 0), report.counts.get("unknown", 0)
    said = []
    if not_sent:
        said.append(f"{not_sent:,} rows not sent")
    if report.rows_to_resend:
        said.append(f"{report.rows_to_resend:,} rows that failed for no fault of theirs")
    if unknown:
        said.append(
            f"{unknown:,} rows whose answer was lost (what Octolane finds again by its key is"
            " sent again; the rest is looked up first and sent only if it is not there, or,"
            " where no lookup can be made, with --retry-unknown)"
        )
    what = f" ({'; '.join(said)})" if said else ""
    return f"to continue{what}, run the same command again:\n  {report.continue_with}"


def _send_line(report: ImportReport, send: SendReport) -> str:
    by_endpoint = "; ".join(
        f"{endpoint} " + ", ".join(f"{n:,} {status}" for status, n in counts.items() if n)
        for endpoint, counts in send.by_endpoint.items()
        if any(counts.values())
    )
    return (
        f"outcomes by endpoint: {by_endpoint or 'none'}\n"
        f"sent: {send.requests_sent:,} HTTP requests"
        + (
            " (bulk requests"
            + (
                f"; {send.split_requests:,} of them to isolate records a batch was refused for"
                if send.split_requests
                else ""
            )
            + ")"
            if send.bulk_requests
            else ""
        )
        + f", {send.retries:,} retries, {send.rate_limited:,} answered 429"
        + (
            f", {send.lookups:,} lookups (reads of the public API: after lost answers, for"
            " batches that gave no ids, and checks for deals and notes already there)"
            if send.lookups
            else ""
        )
        + f"; {report.elapsed_s:.1f} s, "
        f"{report.rows_per_s:,.0f} rows/s"
        + (
            f"\nrate: held at its floor of {send.floor_rate_per_min:,.0f}/min for"
            f" {send.at_floor_s:,.0f} s while Octolane answered 429 (--min-rate sets the floor)"
            if send.at_floor_s >= 1
            else ""
        )
    )


def _delimiter_name(delimiter: str) -> str:
    return _DELIMITER_WORDS.get(delimiter, repr(delimiter))


def report_as_dict(report: ImportReport) -> dict[str, Any]:
    """The summary as plain data, for ``--json``."""
    info = report.source
    data: dict[str, Any] = {
        "file": str(info.path),
        "format": info.format,
        "encoding": info.encoding,
        "delimiter": info.delimiter,
        "sheet": info.sheet,
        "mapping": report.mapping,
        "dry_run": report.dry_run,
        "rows_read": report.rows_read,
        "blank_rows": report.blank_rows,
        "counts": report.counts,
        "rejected_by_reason": report.rejected_by_reason,
        "rows_with_warnings": report.rows_with_warnings,
        "mapping_warnings": report.mapping_warnings,
        "distinct": report.distinct,
        "contact_accounts": report.contact_accounts,
        "deal_contacts": report.deal_contacts,
        "stages": [
            {"label": label, "stage": stage, "rows": rows}
            for (label, stage), rows in report.stages.items()
        ],
        "amounts_converted": report.amounts_converted,
        "amounts_withheld": report.amounts_withheld,
        "planned_requests": report.planned,
        "elapsed_s": round(report.elapsed_s, 3),
        "rows_per_s": round(report.rows_per_s, 1),
        "results_path": str(report.results_path) if report.results_path else None,
        "failures_path": str(report.failures_path) if report.failures_path else None,
        "aborted": report.aborted,
        "nothing_imported": report.nothing_imported,
        "sandbox_records": report.landed,
        "exit_code": report.exit_code,
        "journal_path": str(report.journal_path) if report.journal_path else None,
        "run_number": report.run_number,
        "journal_note": report.journal_note,
        "rows_to_resend": report.rows_to_resend,
        "continue_with": report.continue_with,
    }
    if report.send is not None:
        send = report.send
        data["sending"] = {
            "elapsed_s": round(send.elapsed_s, 3),
            "peak_in_flight": send.peak_in_flight,
            "requests_sent": send.requests_sent,
            "retries": send.retries,
            "rate_limited": send.rate_limited,
            "lookups": send.lookups,
            "bulk_requests": send.bulk_requests,
            "split_requests": send.split_requests,
            "rate_floor_per_min": send.floor_rate_per_min,
            "lowest_rate_per_min": send.lowest_rate_per_min,
            "seconds_at_rate_floor": round(send.at_floor_s, 1),
            "by_endpoint": send.by_endpoint,
            "by_status": send.counts,
        }
    return data


class _Progress:
    """A :class:`~importer.report.progress.Progress`: a tqdm bar on a terminal, plain lines otherwise."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.bars: dict[str, Any] = {}
        self.tty = sys.stderr.isatty()
        self.last_line = 0.0
        self.totals: dict[str, int] = {}
        self.failed = 0

    def set_total(self, phase: Phase, total: int) -> None:
        self.totals[phase] = total

    def __call__(self, phase: Phase, done: int, failed: int) -> None:
        if not self.enabled:
            return
        self.failed = failed
        if self.tty:
            self._bar(phase, done)
        else:
            self._line(phase, done)

    def _bar(self, phase: str, done: int) -> None:
        bar = self.bars.get(phase)
        if bar is None:
            for done_bar in self.bars.values():  # one bar at a time, on one line
                done_bar.close()
            unit = "rows"
            desc = {"read": "reading", "send": "importing"}.get(phase, phase)
            from tqdm import tqdm  # here: a run with no bar (-q, a pipe) never loads it

            # delay: a bar only on work long enough to wait for.
            bar = tqdm(
                total=self.totals.get(phase),
                desc=desc,
                unit=unit,
                file=sys.stderr,
                delay=0.5,
                dynamic_ncols=True,
            )
            self.bars[phase] = bar
        bar.update(done - bar.n)
        if phase == "send":
            bar.set_postfix(failed=self.failed, refresh=False)

    def _line(self, phase: str, done: int) -> None:
        now = time.monotonic()
        total = self.totals.get(phase)
        final = total is not None and done >= total
        if now - self.last_line < 5 and not final:
            return
        self.last_line = now
        of = f"/{total:,}" if total else ""
        failed = f", {self.failed:,} failed" if phase == "send" else ""
        print(f"{phase}: {done:,}{of} rows{failed}", file=sys.stderr, flush=True)

    def notice(self, message: str) -> None:
        # Shown even with the bar off (--quiet, --json): it says why the run is ending.
        print(f"\n{message}", file=sys.stderr, flush=True)

    def close(self) -> None:
        for bar in self.bars.values():
            bar.close()


@contextmanager
def progress_bar(*, enabled: bool = True) -> Iterator[_Progress]:
    """Yield a :class:`~importer.report.progress.Progress` for the terminal; closes its bars."""
    progress = _Progress(enabled)
    try:
        yield progress
    finally:
        progress.close()
