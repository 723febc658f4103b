"""The :class:`ImportReport`: what a run did, every count a summary needs, where the files are."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from importer.plan import ImportPlan, RowPlan
from importer.read.source import SourceInfo
from importer.report.outcomes import row_results
from importer.report.results import RowResult, read_results
from importer.send.runner import SendReport

__all__ = ["ImportReport"]


@dataclass(slots=True)
class ImportReport:
    """What a run did: every count a summary needs, and where the files are.

    Example:
        >>> report = run_import("leads.csv", "hubspot", dry_run=True)  # doctest: +SKIP
        >>> report.counts, report.exit_code                             # doctest: +SKIP
        ({'would_import': 287, 'invalid': 13}, 1)
    """

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
    #: (source stage label, the Octolane stage it goes to) → rows, for deals with a stage.
    stages: dict[tuple[str, str], int] = field(default_factory=dict)
    #: Deal amounts converted to US dollars, and withheld (no rate, unknown currency).
    amounts_converted: int = 0
    amounts_withheld: int = 0
    plan: ImportPlan = field(default_factory=ImportPlan)
    #: Each row's plan, in input order: kept in a real run, and in a dry run that
    #: writes no results file or is asked to (``keep_rows``).
    rows: list[RowPlan] = field(default_factory=list)
    results_path: Path | None = None
    failures_path: Path | None = None
    failures_written: int = 0
    #: Whether the file was read and validated in a forked worker process.
    validated_in_worker: bool = False
    send: SendReport | None = None  # a real run's requests and their outcomes
    #: Records of each kind the target holds after the run, where the caller can tell
    #: (the CLI fills it in for ``--sandbox`` from the sandbox's own handle).
    landed: dict[str, int] | None = None
    aborted: str | None = None
    #: Why no row gave anything to import, and what would work (then the exit code is 1).
    nothing_imported: str | None = None
    elapsed_s: float = 0.0
    #: A real run's journal (:mod:`importer.run.journal`), this run's number in it, and
    #: what it says of earlier runs ("resuming: 31,204 of 50,000 rows already done").
    journal_path: Path | None = None
    run_number: int | None = None
    journal_note: str | None = None
    #: Rows that failed for no fault of their own (a 5xx, no connection, a refused key):
    #: with a journal they are not in the failures file, the same command sends them again.
    rows_to_resend: int = 0
    #: How to carry on after a stop: the command that continues the run (the CLI's).
    continue_with: str | None = None

    @property
    def exit_code(self) -> int:
        """0 all rows fine, 1 some rows (or records of rows) rejected or failed, or none to
        import, 3 aborted."""
        if self.aborted:
            return 3
        bad = sum(
            self.counts.get(s, 0) for s in ("invalid", "partial", "failed", "unknown", "not_sent")
        )
        return 1 if bad or self.nothing_imported else 0

    @property
    def results(self) -> Iterator[RowResult]:
        """Each row's line of the results file, in input order.

        Computed from :attr:`rows` when the run kept them; a dry run that wrote a
        results file keeps none by default (``keep_rows``), and its lines are read
        back from that file.
        """
        if not self.rows and self.rows_read and self.results_path is not None:
            return read_results(self.results_path)
        return row_results(self.rows, self.send)

    @property
    def rows_per_s(self) -> float:
        return self.rows_read / self.elapsed_s if self.elapsed_s else 0.0
