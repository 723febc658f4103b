"""The :class:`ImportJob`: everything one run needs to know, frozen, in one object."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from importer.map.presets import resolve_mapping_path
from importer.map.spec import MappingFile, load_mapping, load_rates, parse_rates
from importer.map.stages import PipelineStage
from importer.read.source import BATCH_ROWS, WorkbookLimits
from importer.run.target import Target, choose_target
from importer.settings import Settings

if TYPE_CHECKING:  # httpx and asyncio: loaded when a run connects
    from importer.send.client import OctolaneClient
    from importer.send.runner import Attempt

__all__ = ["ImportJob", "Outputs", "ReadOptions"]


@dataclass(frozen=True, slots=True)
class ReadOptions:
    """How to read the input file; ``None`` means detect."""

    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | int | None = None
    header_row: int | None = None
    #: How big a workbook may be before it is loaded (None: the defaults).
    limits: WorkbookLimits | None = None

    def given(self) -> dict[str, Any]:
        """The options set, as keyword arguments of :func:`importer.read.open_source`."""
        return {
            f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not None
        }


@dataclass(frozen=True, slots=True)
class Outputs:
    """Where a run writes; ``None``: not written."""

    results: Path | None = None
    failures: Path | None = None
    #: Every planned request (rows, endpoint, path, body as sent), one JSON line each, in send order.
    requests: Path | None = None


@dataclass(frozen=True, slots=True)
class ImportJob:
    """One import: the input, its mapping, how to read it, where to send and what to write.

    Args:
        input: the CSV/TSV/XLSX export.
        mapping: the loaded mapping (:meth:`create` loads a path or preset name).
        dry_run: validate and plan only; nothing is sent.
        pipeline_id: the deals' pipeline; overrides the mapping's ``options.pipeline_id``,
            then ``OCTOLANE_PIPELINE_ID``, then the target's own default.
        read: encoding, delimiter, sheet and header-row overrides.
        limit: import only the first N data rows.
        outputs: the results, failures and requests files.
        target: where a real run sends (:mod:`importer.run.target`); ``None``:
            Octolane, with settings from the environment.
        batch_rows: rows read at a time.
        parallel: read and validate in a forked worker (``None``: for big files).
        stages: the pipeline's stages, when the caller knows them (an offline dry run);
            ``None``: read from the target when the mapping reads stage labels.
        keep_rows: keep every row's plan in the report (``ImportReport.rows``) in a dry
            run that writes a results file too; by default such a run keeps none (the
            file holds them, and ``ImportReport.results`` reads it back), so memory does
            not grow with the file.
        links: the other exports the mapping's ``links:`` read (``--with``): paths, or
            (link name, path) pairs.
        journal: where a real run records each request's outcome
            (:mod:`importer.run.journal`); ``None``: beside the results file.
        no_journal: record nothing: a run that stops cannot be continued.
        fresh: begin a new journal (the old one is set aside) instead of continuing it.
        retry_failed: send again the requests an earlier run recorded as failed.
        retry_unknown: send again the notes and keyless deals whose answers an earlier
            run lost and that no lookup could settle (those a lookup finds are never
            sent; without a lookup a repeat can create a second one).
        force: replace a results file that holds the ids of another real run.
    """

    input: Path
    mapping: MappingFile
    dry_run: bool = False
    pipeline_id: str | None = None
    read: ReadOptions = ReadOptions()
    limit: int | None = None
    outputs: Outputs = field(default_factory=Outputs)
    target: Target | None = None
    batch_rows: int = BATCH_ROWS
    parallel: bool | None = None
    stages: tuple[PipelineStage, ...] | None = None
    links: tuple[tuple[str | None, Path], ...] = ()
    keep_rows: bool = False
    journal: Path | None = None
    no_journal: bool = False
    fresh: bool = False
    retry_failed: bool = False
    retry_unknown: bool = False
    force: bool = False
    #: ``--results-format``: "auto" (XLSX too when the input is a workbook), "csv", "xlsx".
    results_format: Literal["auto", "csv", "xlsx"] = "auto"
    #: ``--report``: the run report, one self-contained HTML page (importer.report.html).
    report_path: Path | None = None
    #: ``--log``: every HTTP attempt as a JSON line (:mod:`importer.report.request_log`).
    request_log: Path | None = None
    #: Hears every HTTP attempt as it is answered (the CLI's ``-v``).
    on_attempt: Callable[[Attempt], None] | None = None
    #: ``--rates``: the file the currency rates came from (no output may write over it).
    rates_file: Path | None = None

    @classmethod
    def create(
        cls,
        input: str | Path,
        mapping: str | Path | MappingFile,
        *,
        results_path: str | Path | None = None,
        failures_path: str | Path | None = None,
        requests_path: str | Path | None = None,
        settings: Settings | None = None,
        client: OctolaneClient | None = None,
        rates: str | Path | Mapping[str, float] | None = None,
        **options: Any,
    ) -> ImportJob:
        """A job from plain values: a mapping path or preset name is loaded here.

        ``rates``: currency rates (a file, or code → US dollars per unit) that
        override the mapping's ``currency_rates``.

        ``settings`` (key, URL, concurrency, rate, timeout) and ``client`` (a client to
        send with instead of one built from the settings) choose the target.

        Example:
            >>> job = ImportJob.create("leads.csv", "hubspot", dry_run=True)  # doctest: +SKIP
        """
        outputs = Outputs(_path(results_path), _path(failures_path), _path(requests_path))
        if settings is not None or client is not None:
            options["target"] = choose_target(settings, client)
        if options.get("stages") is not None:
            options["stages"] = tuple(options["stages"])
        if options.get("links"):
            options["links"] = tuple(_link(item) for item in options["links"])
        if options.get("journal") is not None:
            options["journal"] = Path(options["journal"])
        if options.get("report_path") is not None:
            options["report_path"] = Path(options["report_path"])
        if options.get("request_log") is not None:
            options["request_log"] = Path(options["request_log"])
        loaded = _load(mapping)
        if rates is not None:
            given = parse_rates(rates) if isinstance(rates, Mapping) else load_rates(rates)
            loaded = loaded.model_copy(
                update={"currency_rates": {**loaded.currency_rates, **given}}
            )
        if rates is not None and not isinstance(rates, Mapping):
            options["rates_file"] = Path(rates)
        return cls(Path(input), loaded, outputs=outputs, **options)


def _link(item: Any) -> tuple[str | None, Path]:
    """A ``--with`` value: a path, ``NAME=PATH``, or a (name, path) pair."""
    if isinstance(item, tuple):
        name, path = item
        return name, Path(path)
    text = str(item)
    name, eq, rest = text.partition("=")
    if eq and name and not any(c in name for c in "/\\.") and not Path(text).exists():
        return name, Path(rest)
    return None, Path(text)


def _path(value: str | Path | None) -> Path | None:
    return None if value is None else Path(value)


def _load(mapping: str | Path | MappingFile) -> MappingFile:
    if isinstance(mapping, MappingFile):
        return mapping
    return load_mapping(resolve_mapping_path(str(mapping)))
