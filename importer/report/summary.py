"""The :class:`ImportReport`: what a run did, every count a summary needs, where the files are."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from importer.plan import ImportPlan, RowPlan
from importer.read.source import SourceInfo
from importer.report.outcomes import row_results
from importer.report.results import RESULT_COLUMNS, RowResult, read_results

if TYPE_CHECKING:
    import pandas as pd

    from importer.send.runner import SendReport

__all__ = ["ImportReport"]


def _result_record(result: RowResult) -> list[Any]:
    """A results line as a DataFrame row: the file's columns, empty cells None."""
    values: list[Any] = [None if v == "" else v for v in result.values()]
    values[0] = result.row
    values[RESULT_COLUMNS.index("http_status")] = result.http_status
    values[RESULT_COLUMNS.index("duplicate_of")] = result.duplicate_of
    return values


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
    #: Up to five rows of each of ``rejected_by_reason``'s reasons (the report's examples).
    rejected_examples: dict[str, list[int]] = field(default_factory=dict)
    rows_with_warnings: int = 0
    #: Rows validation left records out of, whatever became of their others (a stopped
    #: run's ``not_sent``); None: ``counts["partial"]``.
    partial_rows: int | None = None
    mapping_warnings: list[str] = field(default_factory=list)
    planned: dict[str, int] = field(default_factory=dict)
    distinct: dict[str, int] = field(default_factory=dict)
    #: The accounts the contacts' e-mail domains add to ``distinct``'s: a contact create
    #: makes the account of its e-mail's domain (the results' ``contact_account``).
    contact_accounts: int = 0
    #: People Octolane makes for the deals' contacts (primary or additional) that are
    #: no contact record of the file.
    deal_contacts: int = 0
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
    #: The run report (``--report``), and the attempts it charts (a real run's).
    report_path: Path | None = None
    timeline: Any = None
    #: The results and failures as workbooks (:mod:`importer.report.workbooks`), if written.
    results_workbook: Path | None = None
    failures_workbook: Path | None = None
    #: The input columns the mapping reads, in the input's order (for :meth:`to_pandas`).
    mapped_columns: tuple[str, ...] = ()
    #: The rows given in memory (a DataFrame or mappings), when the input was not a file.
    input_rows: Any = None

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

    def to_pandas(self) -> pd.DataFrame:
        """The results as a pandas DataFrame: one row per input row, in input order.

        The input's columns that the mapping reads come first (from the DataFrame or
        mappings given, or read again from the file), then the results file's columns
        (``status``, ids, ``message``, ``warnings``...; a name the input uses too gets
        `` (result)`` after it). Empty cells are ``None``; ``row`` is the input's row
        number (the header is row 1), ``http_status`` and ``duplicate_of`` are integers.
        Needs pandas (``pip install 'octolane-import[pandas]'``).
        """
        try:
            import pandas as pd
        except ImportError as exc:  # pragma: no cover - the dev install has pandas
            raise ImportError(
                "ImportReport.to_pandas() needs pandas: pip install 'octolane-import[pandas]'"
            ) from exc
        lines = [_result_record(r) for r in self.results]
        results = pd.DataFrame.from_records(lines, columns=list(RESULT_COLUMNS))
        results["row"] = results["row"].astype("int64")
        for name in ("http_status", "duplicate_of"):
            results[name] = results[name].astype("Int64")
        source = self._mapped_input(pd, {int(r) for r in results["row"]})
        if source is None:
            return results
        results = results.rename(
            columns={c: f"{c} (result)" for c in RESULT_COLUMNS if c in source.columns}
        )
        joined = source.join(results.set_index("row"), how="right")
        return joined.reset_index(names="row")

    def _mapped_input(self, pd: Any, wanted: set[int]) -> Any:
        """The mapped input columns of the rows ``wanted``, indexed by row number."""
        columns = list(self.mapped_columns)
        if not columns:
            return None
        cells: dict[int, list[Any]] = {}
        if self.input_rows is not None and hasattr(self.input_rows, "columns"):
            frame = self.input_rows
            names = [str(c) for c in frame.columns]
            positions = [names.index(c) for c in columns if c in names]
            columns = [names[p] for p in positions]
            for number in wanted:  # the header is row 1: the first data row is row 2
                if 0 <= number - 2 < len(frame):
                    row = frame.iloc[number - 2]
                    cells[number] = [row.iloc[p] for p in positions]
        elif isinstance(self.input_rows, Sequence):  # mappings, kept in a list
            for number in wanted:
                if 0 <= number - 2 < len(self.input_rows):
                    given = {str(k): v for k, v in self.input_rows[number - 2].items()}
                    cells[number] = [given.get(c) for c in columns]
        elif self.input_rows is None and self.source.path.exists():
            cells = self._read_back(columns, wanted)
        else:
            return None  # mappings given once (an iterator): nothing to read again
        frame = pd.DataFrame.from_dict(cells, orient="index", columns=columns)
        frame.index.name = "row"
        return frame

    def _read_back(self, columns: list[str], wanted: set[int]) -> dict[int, list[str]]:
        from importer.read.source import open_source  # the report reads only when asked

        info = self.source
        options: dict[str, Any] = {"header_row": info.header_row}
        if info.format == "csv":
            options.update(encoding=info.encoding, delimiter=info.delimiter)
        else:
            options["sheet"] = info.sheet
        cells: dict[int, list[str]] = {}
        with open_source(info.path, **options) as source:
            positions = [source.info.columns.index(c) for c in columns]
            for batch in source.batches():
                for number, row in zip(batch.row_numbers, batch.rows, strict=True):
                    if number in wanted:
                        cells[number] = [row[p] for p in positions]
        return cells

    @property
    def rows_per_s(self) -> float:
        return self.rows_read / self.elapsed_s if self.elapsed_s else 0.0
