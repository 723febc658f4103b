"""The ``octolane-import`` command: a thin click shell over :func:`importer.run_import`.

``octolane-import FILE --mapping M`` imports (the default command);
``octolane-import map FILE`` proposes a mapping; ``octolane-import sandbox``
runs the local Octolane emulator. Each command parses flags, calls one
library function, renders the result and picks the exit code:
0 all rows fine, 1 some rows rejected or failed, 2 nothing processed (usage,
mapping or file error), 3 aborted (bad key, sick server, Ctrl-C).
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any

import click

from importer.errors import AbortedError, ImporterError, UsageError
from importer.report.render import progress_bar, render_summary, report_as_dict
from importer.run.pipeline import ImportReport, ReadOptions, run_import
from importer.sandbox.cli import sandbox_command
from importer.settings import Settings

__all__ = ["cli", "main"]


class _DefaultImportGroup(click.Group):
    """Route ``octolane-import FILE ...`` to the ``import`` command."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h", "--version"):
            args = ["import", *args]
        return super().parse_args(ctx, args)


@click.group(cls=_DefaultImportGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="octolane-import")
def cli() -> None:
    """Import a CRM export (CSV, TSV, XLSX) into Octolane.

    \b
    octolane-import leads.csv --mapping hubspot --dry-run
    octolane-import leads.csv --mapping hubspot --sandbox
    octolane-import map leads.csv -o my-mapping.yaml
    octolane-import sandbox
    """


@cli.command("import")
@click.argument("file", type=click.Path(path_type=Path))
@click.option(
    "-m",
    "--mapping",
    required=True,
    help="Mapping YAML file, or a preset name (hubspot, salesforce-contacts, ...; see `map --list`).",
)
@click.option("--dry-run", is_flag=True, help="Validate and plan; send nothing.")
@click.option(
    "--sandbox", is_flag=True, help="Start the local Octolane sandbox and import into it."
)
@click.option(
    "--api-key", envvar="OCTOLANE_API_KEY", help="Octolane API key [env OCTOLANE_API_KEY]."
)
@click.option(
    "--base-url", envvar="OCTOLANE_BASE_URL", help="API base URL [env OCTOLANE_BASE_URL]."
)
@click.option(
    "--pipeline-id",
    help="Pipeline for deals (else the mapping's options.pipeline_id, else env OCTOLANE_PIPELINE_ID).",
)
@click.option("--encoding", help="Input encoding (default: detected).")
@click.option("--delimiter", help="CSV delimiter (default: sniffed among , ; tab |).")
@click.option("--sheet", help="XLSX sheet name or index (default: the first).")
@click.option(
    "--header-row",
    type=click.IntRange(min=1),
    help="Row number of the header, CSV or XLSX (default: found).",
)
@click.option("--limit", type=click.IntRange(min=1), help="Import only the first N rows.")
@click.option(
    "--concurrency",
    type=click.IntRange(1, 256),
    default=10,
    show_default=True,
    help="Requests in flight.",
)
@click.option(
    "--rate", type=click.FloatRange(min=0.1), help="Fixed requests per minute (default: adaptive)."
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1),
    default=30.0,
    show_default=True,
    help="Per-request timeout, seconds.",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    help="Results CSV (default: FILE.results.csv in the current folder).",
)
@click.option(
    "--failures", type=click.Path(path_type=Path), help="Failures CSV (default: FILE.failures.csv)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON on stdout.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
def import_command(
    file: Path,
    mapping: str,
    dry_run: bool,
    sandbox: bool,
    as_json: bool,
    quiet: bool,
    **options: Any,
) -> None:
    """Import FILE into Octolane through a mapping."""
    out = options.pop("out") or Path.cwd() / f"{file.stem}.results.csv"
    failures = options.pop("failures") or Path.cwd() / f"{file.stem}.failures.csv"
    read = ReadOptions(
        encoding=options.pop("encoding"),
        delimiter=options.pop("delimiter"),
        sheet=options.pop("sheet"),
        header_row=options.pop("header_row"),
    )
    try:
        with progress_bar(enabled=not (quiet or as_json)) as progress:
            report = run_import(
                file,
                mapping,
                dry_run=dry_run,
                sandbox=sandbox,
                read=read,
                limit=options.pop("limit"),
                pipeline_id=options.pop("pipeline_id"),
                results_path=out,
                failures_path=failures,
                progress=progress,
                settings=Settings.from_env(
                    api_key=options.pop("api_key"),
                    base_url=options.pop("base_url"),
                    concurrency=options.pop("concurrency"),
                    rate_per_min=options.pop("rate"),
                    timeout_s=options.pop("timeout"),
                ),
            )
    except ImporterError as exc:
        _fail(exc)
    except KeyboardInterrupt:
        # Ctrl-C before sending began (while reading): nothing was sent, nothing half-written.
        _fail(AbortedError("interrupted before any request was sent; no results file was written"))
    _render(report, as_json)
    sys.exit(report.exit_code)


def _render(report: ImportReport, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(report_as_dict(report), indent=2))
    else:
        click.echo(render_summary(report))


def _fail(exc: ImporterError) -> None:
    click.echo(f"error: {exc}", err=True)
    sys.exit(exc.exit_code)


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
@click.option("--encoding", help="Input encoding (default: detected).")
@click.option("--delimiter", help="CSV delimiter (default: sniffed among , ; tab |).")
@click.option("--sheet", help="XLSX sheet name or index (default: the first).")
@click.option(
    "--header-row",
    type=click.IntRange(min=1),
    help="Row number of the header, CSV or XLSX (default: found).",
)
def map_command(
    file: Path | None,
    output: Path | None,
    list_presets_: bool,
    no_presets: bool,
    encoding: str | None,
    delimiter: str | None,
    sheet: str | None,
    header_row: int | None,
) -> None:
    """Propose a mapping for FILE (or list the presets with --list).

    \b
    octolane-import map --list
    octolane-import map leads.csv -o leads-mapping.yaml
    octolane-import leads.csv --mapping leads-mapping.yaml --dry-run
    """
    from importer.map.presets import list_presets
    from importer.propose.proposal import propose_mapping

    if list_presets_:
        presets = list_presets()
        width = max((len(p.name) for p in presets), default=0)
        for preset in presets:
            click.echo(f"{preset.name:<{width}}  {preset.description}")
        return
    if file is None:
        raise click.UsageError("give the export to map, or --list")
    try:
        proposal = propose_mapping(
            file,
            encoding=encoding,
            delimiter=delimiter,
            sheet=sheet,
            header_row=header_row,
            use_presets=not no_presets,
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


cli.add_command(sandbox_command, "sandbox")


def main() -> None:
    """Console-script entry point."""
    # stamina reports each retry through logging; the progress bar and summary say it better.
    logging.getLogger("stamina").setLevel(logging.ERROR)
    cli()
