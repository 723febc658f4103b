"""The ``octolane-import`` command: a thin click shell over :func:`importer.run_import`.

``octolane-import FILE --mapping M`` imports (the default command);
``octolane-import map FILE`` proposes a mapping; ``octolane-import sandbox``
runs the local Octolane emulator. Each command parses flags, calls one
library function, renders the result and picks the exit code:
0 all rows fine, 1 some rows rejected or failed, 2 nothing processed (usage,
mapping or file error), 3 aborted (bad key, sick server, Ctrl-C).
"""

from __future__ import annotations

import atexit
import gc
import importlib
import logging
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import ExitStack, asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from importer.errors import AbortedError, ImporterError, UsageError  # light: no third-party imports

# Only click at start-up: `--version` and `--help` load neither the pipeline (httpx,
# pydantic) nor the sandbox (uvicorn, starlette). Each command imports what it runs.
if TYPE_CHECKING:
    from importer.map.stages import PipelineStage
    from importer.report.summary import ImportReport
    from importer.run import ReadOptions, Target
    from importer.run.export import ExportReport
    from importer.sandbox import RunningSandbox
    from importer.send.client import OctolaneClient
    from importer.settings import Settings

__all__ = ["cli", "main"]

_F = TypeVar("_F", bound=Callable[..., Any])

#: Commands loaded when called: (module, attribute, the one-line help shown in --help).
_LAZY_COMMANDS = {
    "sandbox": (
        "importer.sandbox.cli",
        "sandbox_command",
        "Serve a local emulator of the Octolane API (for demos and tests).",
    ),
}


def _read_options(command: _F) -> _F:
    """The options that say how to read the input, shared by ``import`` and ``map``."""
    for option in reversed(
        [
            click.option("--encoding", help="CSV encoding (default: detected)."),
            click.option("--delimiter", help="CSV delimiter (default: sniffed among , ; tab |)."),
            click.option(
                "--sheet",
                help="XLSX/XLS sheet: a name or a number from 1 (default: the first visible one).",
            ),
            click.option(
                "--header-row",
                type=click.IntRange(min=1),
                help="Row number of the header, CSV, XLSX or XLS (default: found).",
            ),
            click.option(
                "--max-cells",
                type=click.IntRange(min=1),
                help="Largest workbook sheet to load: its rows times its columns"
                " (default: 20,000,000).",
            ),
            click.option(
                "--max-unzipped-mib",
                type=click.IntRange(min=1),
                help="Largest part of a workbook, uncompressed, in MiB (default: 2,048).",
            ),
            click.option(
                "--max-shared-strings-mib",
                type=click.IntRange(min=1),
                help="Largest text table of an XLSX workbook, in MiB (default: 512).",
            ),
        ]
    ):
        command = option(command)
    return command


def _workbook_limits(
    max_cells: int | None, max_unzipped_mib: int | None, max_shared_strings_mib: int | None
) -> Any:
    """The workbook limits the flags raise (None: the defaults)."""
    given = {
        "max_cells": max_cells,
        "max_unzipped_mib": max_unzipped_mib,
        "max_shared_strings_mib": max_shared_strings_mib,
    }
    if all(v is None for v in given.values()):
        return None
    from importer.read.source import WorkbookLimits

    return WorkbookLimits(**{k: v for k, v in given.items() if v is not None})


def _key_options(command: _F) -> _F:
    """Where the API key comes from, shared by ``import`` and ``stages``."""
    for option in reversed(
        [
            click.option(
                "--api-key",
                envvar="OCTOLANE_API_KEY",
                help="Octolane API key [env OCTOLANE_API_KEY]. On the command line other users"
                " of this machine can see it: prefer the environment variable or --api-key-file.",
            ),
            click.option(
                "--api-key-file",
                # (not exists=True: click's message would print the value, which may be
                # the key itself, given here by mistake; _api_key checks the file)
                type=click.Path(path_type=Path),
                metavar="FILE",
                envvar="OCTOLANE_API_KEY_FILE",
                help="Read the API key from this file (its first line)"
                " [env OCTOLANE_API_KEY_FILE].",
            ),
        ]
    ):
        command = option(command)
    return command


class _DefaultImportGroup(click.Group):
    """Route ``octolane-import FILE ...`` to ``import``; load the sandbox command only when used."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        known = {*self.commands, *_LAZY_COMMANDS}
        if args and args[0] not in known and args[0] not in ("--help", "-h", "--version"):
            args = ["import", *args]
        return super().parse_args(ctx, args)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *_LAZY_COMMANDS})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in _LAZY_COMMANDS and name not in self.commands:
            module, attribute, _ = _LAZY_COMMANDS[name]
            self.add_command(getattr(importlib.import_module(module), attribute), name)
        return super().get_command(ctx, name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(n, c.get_short_help_str(limit=80)) for n, c in sorted(self.commands.items())]
        rows += [(n, help) for n, (_, _, help) in _LAZY_COMMANDS.items() if n not in self.commands]
        with formatter.section("Commands"):
            formatter.write_dl(sorted(rows))


@click.group(cls=_DefaultImportGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="octolane-import")
def cli() -> None:
    """Import a CRM export (CSV, TSV, XLSX, XLS, or a Salesforce export folder or .zip) into Octolane.

    \b
    octolane-import leads.csv --mapping hubspot --dry-run
    octolane-import leads.csv --mapping hubspot --sandbox
    octolane-import map leads.csv -o my-mapping.yaml
    octolane-import sandbox
    """


_IMPORT_ENVIRONMENT = """\b
Environment variables (a flag on the command line wins):
  OCTOLANE_API_KEY, OCTOLANE_API_KEY_FILE, OCTOLANE_BASE_URL, OCTOLANE_PIPELINE_ID,
  OCTOLANE_MAPPING, OCTOLANE_RATES, OCTOLANE_CONCURRENCY, OCTOLANE_RATE,
  OCTOLANE_MIN_RATE, OCTOLANE_TIMEOUT, OCTOLANE_API, OCTOLANE_BATCH_SIZE,
  OCTOLANE_QUIET (1 or true).
Shell completion: eval "$(_OCTOLANE_IMPORT_COMPLETE=bash_source octolane-import)"
(zsh_source, fish_source for zsh and fish; see docs/cli.md)."""


@cli.command("import", epilog=_IMPORT_ENVIRONMENT)
@click.argument("file", type=click.Path(path_type=Path))
@click.option(
    "-m",
    "--mapping",
    required=True,
    envvar="OCTOLANE_MAPPING",
    help="Mapping YAML file, or a preset name (hubspot, salesforce-contacts, ...; see `map --list`)"
    " [env OCTOLANE_MAPPING].",
)
@click.option("--dry-run", is_flag=True, help="Validate and plan; send nothing.")
@click.option(
    "--sandbox", is_flag=True, help="Start the local Octolane sandbox and import into it."
)
@_key_options
@click.option(
    "--base-url", envvar="OCTOLANE_BASE_URL", help="API base URL [env OCTOLANE_BASE_URL]."
)
@click.option(
    "--pipeline-id",
    help="Pipeline for deals (else the mapping's options.pipeline_id, else env OCTOLANE_PIPELINE_ID).",
)
@click.option(
    "--with",
    "with_files",
    multiple=True,
    help="Another export of the same CRM that the mapping's links: read (companies, contacts,"
    " contact roles), repeatable; NAME=FILE says which link.",
)
@click.option(
    "--rates",
    type=click.Path(path_type=Path),
    envvar="OCTOLANE_RATES",
    help="Currency rates file, US dollars per unit (YAML/JSON 'EUR: 1.08' or CSV currency,rate);"
    " overrides the mapping's currency_rates [env OCTOLANE_RATES].",
)
@_read_options
@click.option("--limit", type=click.IntRange(min=1), help="Import only the first N rows.")
@click.option(
    "--concurrency",
    type=click.IntRange(1, 256),
    default=10,
    show_default=True,
    envvar="OCTOLANE_CONCURRENCY",
    help="Requests in flight [env OCTOLANE_CONCURRENCY].",
)
@click.option(
    "--rate",
    type=click.FloatRange(min=0.1),
    envvar="OCTOLANE_RATE",
    help="Fixed requests per minute (default: adaptive) [env OCTOLANE_RATE].",
)
@click.option(
    "--min-rate",
    type=click.FloatRange(min=0.1),
    default=30.0,
    show_default=True,
    envvar="OCTOLANE_MIN_RATE",
    help="The adaptive rate's floor, requests per minute: however many 429s come, it"
    " never sends slower; the summary says when it held at the floor"
    " [env OCTOLANE_MIN_RATE].",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1),
    default=30.0,
    show_default=True,
    envvar="OCTOLANE_TIMEOUT",
    help="Per-request timeout, seconds [env OCTOLANE_TIMEOUT].",
)
@click.option(
    "--api",
    type=click.Choice(["inbound", "public"]),
    default="inbound",
    show_default=True,
    envvar="OCTOLANE_API",
    help="Octolane's Inbound API (one record a request), or its public API (bulk requests"
    " of up to --batch-size records, with job titles, phones, LinkedIn URLs and custom"
    " attributes) [env OCTOLANE_API].",
)
@click.option(
    "--batch-size",
    type=click.IntRange(1, 100),
    default=100,
    show_default=True,
    envvar="OCTOLANE_BATCH_SIZE",
    help="Records per bulk request with --api public [env OCTOLANE_BATCH_SIZE].",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    help="Results CSV (default: FILE.results.csv in the current folder).",
)
@click.option(
    "--failures",
    type=click.Path(path_type=Path),
    help="Failures CSV (default: beside the results file: FILE.failures.csv).",
)
@click.option(
    "--requests",
    type=click.Path(path_type=Path),
    help="Write every planned request (rows, endpoint, path, JSON body as the chosen API gets it) here, one JSON line each, in send order (an export: one file per part, FILE.Contact.jsonl, ...).",
)
@click.option(
    "--report",
    "report_path",
    type=click.Path(path_type=Path),
    help="Write the run report here: one self-contained HTML page (outcomes, reasons with"
    " examples, the mapping's fill rates, the records planned, warnings, request rate).",
)
@click.option(
    "--results-format",
    type=click.Choice(["auto", "csv", "xlsx"]),
    default="auto",
    show_default=True,
    help="auto: the results and failures come back as XLSX workbooks too when the input is"
    " a workbook (XLSX, XLS, ODS); xlsx: always; csv: never.",
)
@click.option(
    "--log",
    "request_log",
    type=click.Path(path_type=Path),
    help="Append every HTTP attempt here as it is answered, one JSON line each: time, endpoint,"
    " rows, attempt, status, milliseconds, the request and the response (the key removed).",
)
@click.option(
    "-v",
    "--verbose",
    is_flag=True,
    help="Print a short line per HTTP attempt on stderr: path, rows, status, milliseconds.",
)
@click.option(
    "--journal",
    type=click.Path(path_type=Path),
    help="Run journal (SQLite): each request's outcome, recorded as it comes, so that the same"
    " command continues a stopped run (default: FILE.journal.sqlite beside the results file).",
)
@click.option(
    "--no-journal",
    is_flag=True,
    help="Keep no journal: a stopped run cannot be continued (not-sent rows go to the failures file).",
)
@click.option(
    "--fresh",
    is_flag=True,
    help="Begin a new journal (the old one is kept under another name) instead of continuing.",
)
@click.option(
    "--retry-failed",
    is_flag=True,
    help="Send again the requests an earlier run recorded as failed.",
)
@click.option(
    "--retry-unknown",
    is_flag=True,
    help="Send again the notes and keyless deals whose answers an earlier run lost and that"
    " no lookup could settle (those a lookup finds are never sent; without a lookup a repeat"
    " can create a second one).",
)
@click.option(
    "--force", is_flag=True, help="Replace a results file that holds the ids of another real run."
)
@click.option(
    "--json", "as_json", is_flag=True, help="Print the summary as JSON on stdout (no progress bar)."
)
@click.option(
    "-q",
    "--quiet",
    is_flag=True,
    envvar="OCTOLANE_QUIET",
    help="No progress bar (the summary is still printed) [env OCTOLANE_QUIET].",
)
def import_command(
    file: Path,
    mapping: str,
    dry_run: bool,
    sandbox: bool,
    as_json: bool,
    quiet: bool,
    **options: Any,
) -> None:
    """Import FILE (CSV, TSV, XLSX, XLS; or an export folder or .zip) into Octolane through a mapping."""
    from importer.report.render import progress_bar
    from importer.run import ImportJob, OctolaneTarget, ReadOptions, run_import
    from importer.settings import Settings

    try:
        settings = Settings.from_env(
            api_key=_api_key(options.pop("api_key"), options.pop("api_key_file")),
            base_url=options.pop("base_url"),
            concurrency=options.pop("concurrency"),
            rate_per_min=options.pop("rate"),
            min_rate_per_min=options.pop("min_rate"),
            timeout_s=options.pop("timeout"),
            api=options.pop("api"),
            batch_size=options.pop("batch_size"),
        )
        read = ReadOptions(
            encoding=options.pop("encoding"),
            delimiter=options.pop("delimiter"),
            sheet=options.pop("sheet"),
            header_row=options.pop("header_row"),
            limits=_workbook_limits(
                options.pop("max_cells"),
                options.pop("max_unzipped_mib"),
                options.pop("max_shared_strings_mib"),
            ),
        )
        if settings.api_key is None and not (dry_run or sandbox) and _interactive():
            # No key anywhere, and a person at the keyboard: ask, without echoing it.
            from pydantic import SecretStr

            typed = click.prompt("Octolane API key", hide_input=True, err=True).strip()
            settings = settings.model_copy(update={"api_key": SecretStr(typed) if typed else None})
        with ExitStack() as stack:
            box = _SandboxTarget(stack, settings) if sandbox else None
            target: Target = box or OctolaneTarget(settings)
            if _is_export(file, mapping):
                export = _import_export(
                    file, mapping, dry_run, read, target, quiet or as_json, options
                )
                if box is not None and box.running is not None and export.parts:
                    # what the sandbox holds once every file is in: said after the last
                    export.parts[-1][1].landed = box.running.record_counts()
                if box is None and any(r.journal_path for _, r in export.parts):
                    export.continue_with = _same_command()
                _render_export(export, as_json)
                sys.exit(export.exit_code)
            job = ImportJob.create(
                file,
                mapping,
                dry_run=dry_run,
                read=read,
                limit=options.pop("limit"),
                pipeline_id=options.pop("pipeline_id"),
                results_path=(results := options.pop("out") or _beside(file, "results")),
                failures_path=options.pop("failures") or _failures_beside(results, file),
                requests_path=options.pop("requests"),
                request_log=options.pop("request_log"),
                results_format=options.pop("results_format"),
                report_path=options.pop("report_path"),
                on_attempt=_print_attempt if options.pop("verbose") else None,
                rates=options.pop("rates"),
                links=options.pop("with_files"),
                target=target,
                **_journal_options(options),
            )
            with progress_bar(enabled=not (quiet or as_json)) as progress:
                report = run_import(job, progress=progress)
            if box is not None and box.running is not None:
                report.landed = box.running.record_counts()
            if report.journal_path is not None and box is None:
                report.continue_with = _same_command()
    except ImporterError as exc:
        _fail(exc)
    except KeyboardInterrupt:
        # A second Ctrl-C (or one while the file was read): the journal has every answer
        # that came; the results file is written only when a run ends.
        _fail(AbortedError(_interrupted(locals().get("job"))))
    _render(report, as_json)
    sys.exit(report.exit_code)


def _interactive() -> bool:
    """Whether a person can answer a prompt (standard input is a terminal)."""
    return sys.stdin.isatty()


def _api_key(given: str | None, key_file: Path | None) -> str | None:
    """The key from ``--api-key-file``, the environment or ``--api-key`` (which warns:
    other users of the machine can read a command line)."""
    from click.core import ParameterSource

    context = click.get_current_context()
    on_command_line = context.get_parameter_source("api_key") == ParameterSource.COMMANDLINE
    if key_file is not None:
        if on_command_line:
            raise UsageError("give the API key once: --api-key or --api-key-file, not both")
        return _key_from_file(key_file)
    if on_command_line:
        click.echo(
            "warning: --api-key on the command line can be seen by other users of this"
            " machine (ps); set OCTOLANE_API_KEY or use --api-key-file instead",
            err=True,
        )
    return given


_KEY_FILE_SUFFIXES = frozenset({".txt", ".key", ".env", ".secret", ".token", ".pem", ".cfg"})


def _key_from_file(key_file: Path) -> str:
    """The first line of ``--api-key-file``: UTF-8 (a byte-order mark, as Notepad saves
    it, left out) or UTF-16 with its mark. No message shows the file's content, nor the
    option's value where it is not a file (a key given there by mistake)."""
    if not key_file.is_file():
        # (named only where it reads as a path: a folder in it, or a file's extension)
        text = str(key_file)
        looks_like_key = "/" not in text and "\\" not in text
        looks_like_key = looks_like_key and key_file.suffix.lower() not in _KEY_FILE_SUFFIXES
        if looks_like_key and not key_file.is_dir():
            raise UsageError(
                "--api-key-file: no such file (its value is not shown, as it may be the key"
                " itself): give the key in OCTOLANE_API_KEY, or the path of a file that"
                " holds it"
            )
        what = "is a folder, not a file" if key_file.is_dir() else "no such file"
        raise UsageError(f"--api-key-file: {key_file}: {what}")
    try:
        data = key_file.read_bytes()
    except OSError as exc:
        raise UsageError(f"--api-key-file: cannot read the file ({exc.strerror})") from None
    encoding = "utf-16" if data[:2] in (b"\xff\xfe", b"\xfe\xff") else "utf-8-sig"
    try:
        lines = data.decode(encoding).splitlines()
    except UnicodeDecodeError:
        raise UsageError(
            "--api-key-file: the file is not UTF-8 text: save it as UTF-8 with the key"
            " on its first line"
        ) from None
    key = lines[0].strip() if lines else ""
    if not key:
        raise UsageError("--api-key-file: the file holds no API key on its first line")
    return key


def _print_attempt(attempt: Any) -> None:
    """``-v``: one line per HTTP attempt, above the progress bar."""
    from tqdm import tqdm

    from importer.report.request_log import describe_attempt

    tqdm.write(describe_attempt(attempt), file=sys.stderr)


def _beside(file: Path, what: str) -> Path:
    stem = "stdin" if str(file) == "-" else file.stem
    return Path.cwd() / f"{stem}.{what}.csv"


def _failures_beside(results: Path, file: Path) -> Path:
    """The failures file that goes with a results file: ``x.results.csv`` →
    ``x.failures.csv``, ``x.csv`` → ``x.failures.csv`` (so that --out alone keeps an
    earlier run's failures file)."""
    if results == _beside(file, "results"):
        return _beside(file, "failures")
    name = results.name.removesuffix(".csv").removesuffix(".results")
    return results.with_name(f"{name}.failures.csv")


_JOURNAL_FLAGS = ("journal", "no_journal", "fresh", "retry_failed", "retry_unknown", "force")


def _journal_options(options: dict[str, Any]) -> dict[str, Any]:
    return {name: options.pop(name) for name in _JOURNAL_FLAGS}


def _same_command() -> str:
    """The command line of this run, to print as the one that continues it (quoted for a
    shell; an --api-key given on it is left out: the key comes from the environment; and
    --fresh, which would set aside the journal that lets it continue)."""
    import shlex

    words, skip = [], False
    for word in sys.argv[1:]:
        if skip:
            skip = False
            continue
        if word == "--api-key":
            skip = True
            continue
        if word.startswith("--api-key=") or word == "--fresh":
            continue
        words.append(word)
    return shlex.join(["octolane-import", *words])


def _interrupted(job: Any) -> str:
    """What a second Ctrl-C (or one while the file is read) leaves behind, truthfully."""
    if job is None or job.dry_run:
        return "interrupted: nothing was sent, and the results file was not written"
    if job.no_journal:
        return (
            "interrupted: requests on the wire may have reached Octolane, and with --no-journal"
            " nothing recorded what was sent: running again sends every row again (Octolane"
            " finds accounts, contacts and deals again, and notes are looked up before they"
            " are sent where the public API can be read; where it cannot, twice)"
        )
    return (
        "interrupted: the results file holds the rows finished so far, and every answer"
        " that came is in the run journal; requests on the wire may have reached Octolane."
        " Run the same command again to continue: it sends only what has no answer yet"
    )


def _is_export(file: Path, mapping: str) -> bool:
    """Whether this run is a whole export folder or zip (with an export preset)."""
    from importer.map.presets import resolve_mapping_path
    from importer.run.export import is_export_spec

    folder = file.is_dir() or file.suffix.lower() == ".zip"
    try:
        spec = is_export_spec(resolve_mapping_path(mapping))
    except ImporterError:
        spec = False
    if folder and not spec:
        raise UsageError(
            f"{file} is a folder or a zip: give an export preset such as salesforce-data-export"
            " (`octolane-import map --list` marks them), or import its files one by one"
        )
    if spec and not folder:
        raise UsageError(f"{mapping} imports a whole export: give its folder or .zip, not {file}")
    return folder


def _import_export(
    file: Path,
    mapping: str,
    dry_run: bool,
    read: ReadOptions,
    target: Target,
    quiet: bool,
    options: dict[str, Any],
) -> ExportReport:
    from importer.report.render import progress_bar
    from importer.run.export import run_export

    for flag, key in (("--failures", "failures"), ("--journal", "journal")):
        if options.get(key):
            raise UsageError(f"{flag} is for one file; an export writes each file's own in --out")
    if options.get("with_files"):
        raise UsageError("--with is for one file; an export's preset links its files itself")
    if options.get("report_path"):
        raise UsageError("--report is for one file; run each file of the export with its preset")
    if options.get("results_format") == "xlsx":
        raise UsageError("--results-format xlsx is for one file; an export writes CSV results")
    if any(read.given().values()):
        raise UsageError("--encoding, --delimiter, --sheet and --header-row are for one file")
    out = options.pop("out") or Path.cwd() / f"{file.stem}-results"
    with progress_bar(enabled=not quiet) as progress:
        return run_export(
            file,
            mapping,
            out_dir=out,
            progress=progress,
            dry_run=dry_run,
            limit=options.pop("limit"),
            pipeline_id=options.pop("pipeline_id"),
            rates=options.pop("rates"),
            target=target,
            requests_path=options.pop("requests"),
            **{k: v for k, v in _journal_options(options).items() if k != "journal"},
        )


def _render_export(export: ExportReport, as_json: bool) -> None:
    from importer.report.render import render_summary, report_as_dict

    if as_json:
        import json

        requests = {name: str(path) for name, path in export.requests}
        data = {
            "export": str(export.source),
            "preset": export.preset,
            "parts": [
                {"file": name, **report_as_dict(r), "requests": requests.get(name)}
                for name, r in export.parts
            ],
            "absent": export.absent,
            "failed": [{"file": name, "error": error} for name, error in export.failed],
            "not_started": export.not_started,
            "continue_with": export.continue_with if _stopped(export) else None,
            "counts": export.counts,
            "exit_code": export.exit_code,
        }
        click.echo(json.dumps(data, indent=2))
        return
    for name, report in export.parts:
        click.echo(f"== {name}")
        click.echo(render_summary(report))
        written = dict(export.requests).get(name)
        if written is not None:
            click.echo(f"requests: {written}")
        click.echo("")
    counts = ", ".join(f"{status} {n:,}" for status, n in export.counts.items())
    click.echo(f"export {export.source.name}: {len(export.parts)} files; rows: {counts or 'none'}")
    if export.absent:
        click.echo(f"  not in the export (skipped): {', '.join(export.absent)}")
    for name, error in export.failed:
        click.echo(f"  NOT IMPORTED {name}: {error}")
    if export.not_started:
        stopped = next(name for name, report in export.parts if report.aborted)
        click.echo(
            f"  NOT STARTED (the import of {stopped} stopped first):"
            f" {', '.join(export.not_started)}"
        )
    if export.continue_with and _stopped(export):
        click.echo(f"to continue the export, run the same command again:\n  {export.continue_with}")


def _stopped(export: ExportReport) -> bool:
    """Whether a part of the export stopped before its end (the same command continues)."""
    return any(report.aborted for _, report in export.parts)


class _SandboxTarget:
    """The in-process sandbox as a target: started when sending begins (after a forked
    reader is done, so big files still get their second process), stopped with the CLI."""

    def __init__(self, stack: ExitStack, settings: Settings) -> None:
        from importer.sandbox import demo_access

        self._stack = stack
        self.settings = settings
        self.default_pipeline_id = demo_access().pipeline_id
        self.running: RunningSandbox | None = None

    #: Gone when the run ends: a journal of it is not continued (:mod:`importer.run.journal`).
    ephemeral = True

    def check(self) -> None:
        pass  # the sandbox brings its own key

    def stages(self, pipeline_id: str) -> list[PipelineStage]:
        """The demo pipeline's stages, known without starting the sandbox."""
        from importer.map.stages import PipelineStage
        from importer.sandbox import demo_access
        from importer.send.stages import StagesUnavailable

        access = demo_access()
        if pipeline_id != access.pipeline_id:
            raise StagesUnavailable(f"the sandbox has no pipeline {pipeline_id}")
        return [
            PipelineStage(stage_id, name, order)
            for order, (stage_id, name) in enumerate(
                zip(access.stage_ids, access.stage_names, strict=True), 1
            )
        ]

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[OctolaneClient]:
        from pydantic import SecretStr

        from importer.run import OctolaneTarget
        from importer.sandbox import running_sandbox

        if self.running is None:  # an export's parts share one sandbox
            self.running = self._stack.enter_context(running_sandbox())
        access = {"api_key": SecretStr(self.running.api_key), "base_url": self.running.base_url}
        async with OctolaneTarget(self.settings.model_copy(update=access)).connect() as client:
            yield client


def _render(report: ImportReport, as_json: bool) -> None:
    from importer.report.render import render_summary, report_as_dict

    if as_json:
        import json

        click.echo(json.dumps(report_as_dict(report), indent=2))
    else:
        click.echo(render_summary(report))


def _fail(exc: ImporterError) -> NoReturn:
    click.echo(f"error: {exc}", err=True)
    sys.exit(exc.exit_code)


@cli.command("stages")
@click.option(
    "--pipeline-id",
    envvar="OCTOLANE_PIPELINE_ID",
    help="The pipeline [env OCTOLANE_PIPELINE_ID] (with --sandbox: the demo pipeline).",
)
@click.option("--sandbox", is_flag=True, help="List the local sandbox's demo pipeline.")
@_key_options
@click.option(
    "--api-url",
    envvar="OCTOLANE_API_URL",
    help="Public API URL [env OCTOLANE_API_URL] (default: Octolane's).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the stages as JSON.")
def stages_command(
    pipeline_id: str | None,
    sandbox: bool,
    api_key: str | None,
    api_key_file: Path | None,
    api_url: str | None,
    as_json: bool,
) -> None:
    """List a pipeline's stages: the names and ids a mapping's stages: table can use.

    \b
    octolane-import stages --pipeline-id <uuid>
    octolane-import stages --sandbox
    """
    from importer.send.stages import StagesUnavailable
    from importer.settings import Settings

    try:
        settings = Settings.from_env(api_key=_api_key(api_key, api_key_file), api_url=api_url)
        target, pipeline_id = _stages_target(settings, pipeline_id, sandbox)
        if not pipeline_id:
            raise UsageError("which pipeline? pass --pipeline-id or set OCTOLANE_PIPELINE_ID")
        try:
            stages = target.stages(pipeline_id)
        except StagesUnavailable as exc:
            raise UsageError(f"the pipeline's stages could not be read: {exc}") from None
    except ImporterError as exc:
        _fail(exc)
    if as_json:
        import json

        rows = [{"order": s.order, "label": s.label, "stage_id": s.id} for s in stages]
        click.echo(json.dumps({"pipeline_id": pipeline_id, "stages": rows}, indent=2))
        return
    click.echo(f"pipeline {pipeline_id}: {len(stages)} stages (the first is the default)")
    width = max((len(s.label) for s in stages), default=0)
    for stage in stages:
        click.echo(f"  {stage.order:>2}  {stage.label:<{width}}  {stage.id}")


@cli.command("map")
@click.argument("file", type=click.Path(path_type=Path), required=False)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    help="Write the mapping here (default: stdout).",
)
@click.option("--list", "list_presets_", is_flag=True, help="List the bundled presets and exit.")
@click.option(
    "--no-presets", is_flag=True, help="Propose from headers and values even if a preset fits."
)
@click.option(
    "--pipeline-id",
    envvar="OCTOLANE_PIPELINE_ID",
    help="Read this pipeline's stages [env OCTOLANE_PIPELINE_ID] to propose the stages: table"
    " (needs OCTOLANE_API_KEY).",
)
@click.option(
    "--sandbox", is_flag=True, help="Propose the stages: table for the sandbox's demo pipeline."
)
@_read_options
def map_command(
    file: Path | None,
    output: Path | None,
    list_presets_: bool,
    no_presets: bool,
    pipeline_id: str | None,
    sandbox: bool,
    encoding: str | None,
    delimiter: str | None,
    sheet: str | None,
    header_row: int | None,
    max_cells: int | None,
    max_unzipped_mib: int | None,
    max_shared_strings_mib: int | None,
) -> None:
    """Propose a mapping for FILE (or list the presets with --list).

    \b
    octolane-import map --list
    octolane-import map leads.csv -o leads-mapping.yaml
    octolane-import leads.csv --mapping leads-mapping.yaml --dry-run
    """
    import tempfile

    from importer.map.presets import list_presets
    from importer.propose.proposal import propose_mapping
    from importer.read.streams import copy_stream, is_stream, same_file

    if list_presets_:
        presets = list_presets(exports=True)
        width = max((len(p.name) for p in presets), default=0)
        for preset in presets:
            mark = "  [a whole export: give its folder or .zip]" if preset.kind == "export" else ""
            click.echo(f"{preset.name:<{width}}  {preset.description}{mark}")
        return
    if file is None:
        raise click.UsageError("give the export to map, or --list")
    if output is not None and same_file(output, file):
        _fail(UsageError(f"{output}: is the export to map: give the mapping another name"))
    try:
        stages, note = _pipeline_stages(pipeline_id, sandbox)
        with ExitStack() as temporary:
            read, given_as = file, None
            if is_stream(file):  # standard input or a pipe: read once, into a private copy
                folder = temporary.enter_context(tempfile.TemporaryDirectory())
                read = copy_stream(file, Path(folder))
                given_as = "-" if str(file) == "-" else None  # (a named pipe: its name)
            proposal = propose_mapping(
                read,
                given_as=given_as,
                encoding=encoding,
                delimiter=delimiter,
                sheet=sheet,
                header_row=header_row,
                limits=_workbook_limits(max_cells, max_unzipped_mib, max_shared_strings_mib),
                use_presets=not no_presets,
                stages=stages,
                stages_note=note,
            )
        text = (
            proposal.yaml_text if proposal.yaml_text.endswith("\n") else proposal.yaml_text + "\n"
        )
        if output is None:
            click.echo(text, nl=False)
            return
        output.write_text(text, encoding="utf-8")
    except ImporterError as exc:
        _fail(exc)
    except OSError as exc:
        _fail(UsageError(f"{output}: cannot write the mapping: {exc.strerror or exc}"))
    what = f"the {proposal.preset} preset" if proposal.preset else "a mapping"
    click.echo(
        f"wrote {what} to {output}; check it, then: octolane-import {file} --mapping {output} --dry-run",
        err=True,
    )


def _stages_target(
    settings: Settings, pipeline_id: str | None, sandbox: bool
) -> tuple[Target, str | None]:
    """Where a pipeline's stages are read (the sandbox's are known without starting it)."""
    from importer.run import OctolaneTarget

    if sandbox:
        box = _SandboxTarget(ExitStack(), settings)
        return box, pipeline_id or box.default_pipeline_id
    return OctolaneTarget(settings), pipeline_id


def _pipeline_stages(
    pipeline_id: str | None, sandbox: bool
) -> tuple[list[PipelineStage] | None, str]:
    """The stages ``map`` matches labels to, or None and why not."""
    from importer.send.stages import StagesUnavailable
    from importer.settings import Settings

    target, pipeline_id = _stages_target(Settings.from_env(), pipeline_id, sandbox)
    if not pipeline_id:
        return None, "no pipeline given"
    try:
        return target.stages(pipeline_id), ""
    except StagesUnavailable as exc:
        return None, str(exc)


def main() -> None:
    """Console-script entry point.

    Exit codes mean one thing each: 0 every row fine, 1 some rows rejected or failed,
    2 a usage or input error before anything was sent, 3 aborted (a refused key, a sick
    server, Ctrl-C), 4 an internal error: a bug, told in one line, its traceback written
    to a file the message names.
    """
    # stamina reports each retry through logging; the progress bar and summary say it better.
    logging.getLogger("stamina").setLevel(logging.ERROR)
    _terminate_like_ctrl_c()
    # A big run's plan is millions of objects without cycles: the interpreter's last
    # collection, at exit, would walk them all only to find nothing (0.8 s a million-row
    # dry run). Frozen, they are freed by reference counting alone.
    atexit.register(gc.freeze)
    try:
        code = cli.main(standalone_mode=False)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except (click.Abort, KeyboardInterrupt):
        click.echo("error: interrupted", err=True)
        sys.exit(AbortedError.exit_code)
    except Exception as exc:  # the one place a bug becomes exit 4
        where = _write_traceback(exc)
        what = _scrubbed(f"{type(exc).__name__}: {exc}")[:300]
        click.echo(
            f"error: internal error ({what}). This is a bug in octolane-import, not a problem"
            f" with your data; the traceback is in {where}: please report it with that file",
            err=True,
        )
        sys.exit(INTERNAL_ERROR)
    sys.exit(code if isinstance(code, int) else 0)


def _terminate_like_ctrl_c() -> None:
    """SIGTERM and SIGHUP (the terminal closed) stop the process as Ctrl-C does.

    Their default ends the process on the spot, leaving a ``.partial`` file and a
    reading worker behind; as a KeyboardInterrupt they unwind through the code that
    removes the one and stops the other. While requests are sent, the sending loop
    handles all three itself (stop sending, let those in flight finish).
    """
    import signal

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    for sig in (signal.SIGTERM, getattr(signal, "SIGHUP", None)):
        if sig is not None and signal.getsignal(sig) is signal.SIG_DFL:
            signal.signal(sig, interrupt)


#: The exit code of a bug (an exception that is not an :class:`ImporterError`).
INTERNAL_ERROR = 4


def _write_traceback(exc: BaseException) -> str:
    """Write the traceback, with the key scrubbed, to a file only the user can read."""
    import os
    import tempfile
    import time
    import traceback

    text = _scrubbed("".join(traceback.format_exception(exc)))
    stamp = time.strftime("%Y%m%dT%H%M%S")
    try:
        handle, path = tempfile.mkstemp(
            prefix=f"octolane-import-crash-{stamp}-", suffix=".txt", text=True
        )  # created 0600
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
    except OSError:
        return "(it could not be written; run again with python -X dev to see it)"
    return path


def _scrubbed(text: str) -> str:
    """``text`` without the API key (any letter case), from the environment or argv."""
    import os
    import re

    keys = [os.environ.get("OCTOLANE_API_KEY", "")]
    argv = sys.argv[1:]
    for i, word in enumerate(argv):
        if word == "--api-key" and i + 1 < len(argv):
            keys.append(argv[i + 1])
        elif word.startswith("--api-key="):
            keys.append(word.partition("=")[2])
    for key in filter(None, (k.strip() for k in keys)):
        text = re.sub(re.escape(key), "[API key]", text, flags=re.IGNORECASE)
    return text
