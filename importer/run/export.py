"""A whole CRM export at once: a folder (or ``.zip``) of files, in the order they depend.

An *export preset* lists the files of a CRM's full export, each with its mapping
and the files its links read::

    description: Salesforce Data Export (folder or .zip)
    export:
      - {file: Account.csv, mapping: salesforce-accounts}
      - {file: Contact.csv, mapping: salesforce-contacts}
      - file: Opportunity.csv
        mapping: salesforce-opportunities
        with: [Account.csv, Contact.csv, OpportunityContactRole.csv]

:func:`run_export` imports the parts in that order (accounts, then people, then
deals, then notes, so every link lands on a record that exists), one
:func:`~importer.run.pipeline.run_import` each, with one results file (and one
failures file) per input file in the output folder, and returns every part's
report. A file is found by name: ``Account.csv``, or any name that ends with
``-Account.csv`` / ``_Account.csv`` (``data-export-Account.csv``), without case.
A ``.zip`` is read in place: only the files the preset names are extracted, to a
temporary folder, and only while the import runs.
"""

from __future__ import annotations

import re
import tempfile
import zipfile
import zlib
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from importer.errors import MappingError, SourceError, UsageError
from importer.map.presets import load_yaml, resolve_mapping_path
from importer.report.progress import Progress, ProgressCallback
from importer.report.summary import ImportReport
from importer.run.job import ImportJob
from importer.run.pipeline import check_job, run_import

__all__ = ["ExportPart", "ExportReport", "ExportSpec", "is_export_spec", "run_export"]

#: What a zip may expand to before it is refused (a zip bomb is not an export).
MAX_EXTRACTED_BYTES = 50 * 1024**3


class ExportPart(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    file: str
    mapping: str
    with_files: tuple[str, ...] = Field(default=(), alias="with")


class ExportSpec(BaseModel):
    """An export preset: the files of a CRM export, in import order."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    version: int = 1
    description: str | None = None
    export: tuple[ExportPart, ...] = Field(min_length=1)
    source: str = Field(default="<export preset>", exclude=True)


def is_export_spec(path: Path) -> bool:
    """Whether the YAML at ``path`` is an export preset (it has ``export:``)."""
    try:
        data = load_yaml(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return False
    return isinstance(data, dict) and "export" in data


def load_export_spec(name_or_path: str | Path) -> ExportSpec:
    path = resolve_mapping_path(name_or_path)
    try:
        data = load_yaml(path.read_text(encoding="utf-8-sig"))
        spec = ExportSpec.model_validate(data)
    except (OSError, yaml.YAMLError) as exc:
        raise MappingError(f"{path}: cannot read the export preset: {exc}") from exc
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise MappingError(f"{path}: {problems}") from exc
    return spec.model_copy(update={"source": str(path)})


@dataclass(slots=True)
class ExportReport:
    """Every part's report, in import order, and the files the preset names that were absent."""

    source: Path
    preset: str
    parts: list[tuple[str, ImportReport]] = field(default_factory=list)
    absent: list[str] = field(default_factory=list)
    #: Files that could not be imported at all (file, the error): the others still were.
    failed: list[tuple[str, str]] = field(default_factory=list)
    #: Files not started because an earlier file's import stopped (Ctrl-C, a refused
    #: key, a sick server): the same command continues with them.
    not_started: list[str] = field(default_factory=list)
    #: The command that continues the export (set by the command line).
    continue_with: str | None = None
    #: Each part's requests file (file, its path), when ``requests_path`` was given.
    requests: list[tuple[str, Path]] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        total: Counter[str] = Counter()
        for _, report in self.parts:
            total.update(report.counts)
        return dict(total)

    @property
    def exit_code(self) -> int:
        worst = max((report.exit_code for _, report in self.parts), default=0)
        return max(worst, 2) if self.failed and worst != 3 else worst


def _matches(name: str, wanted: str) -> bool:
    stem, want = Path(name).stem.casefold(), Path(wanted).stem.casefold()
    if Path(name).suffix.casefold() != Path(wanted).suffix.casefold():
        return False
    return stem == want or bool(re.search(rf"[-_ .]{re.escape(want)}$", stem))


def _find(names: list[str], wanted: str) -> str | None:
    """The one file that is ``wanted``; two candidates are refused, never guessed between."""
    usable = [
        n for n in names if not Path(n).name.startswith("._") and "__MACOSX" not in Path(n).parts
    ]
    found = [n for n in usable if _matches(Path(n).name, wanted)]
    exact = [n for n in found if Path(n).name.casefold() == wanted.casefold()]
    chosen = exact or found
    if len(chosen) > 1:
        raise UsageError(
            f"{len(chosen)} files could be the export's {wanted}: {', '.join(chosen)};"
            " give a folder that holds one export"
        )
    return chosen[0] if chosen else None


@contextmanager
def _opened(source: Path, wanted: list[str]) -> Iterator[dict[str, Path]]:
    """name in the preset → the file's path (a zip's members extracted for the while)."""
    if source.is_dir():
        names = sorted(str(p) for p in source.rglob("*") if p.is_file())
        yield {w: Path(found) for w in wanted if (found := _find(names, w))}
        return
    if not zipfile.is_zipfile(source):
        raise UsageError(f"{source}: not a folder or a .zip of an export")
    with zipfile.ZipFile(source) as archive, tempfile.TemporaryDirectory() as folder:
        members = [i for i in archive.infolist() if not i.is_dir()]
        names = [i.filename for i in members]
        chosen = {w: found for w in wanted if (found := _find(names, w))}
        size = sum(i.file_size for i in members if i.filename in chosen.values())
        if size > MAX_EXTRACTED_BYTES:
            raise UsageError(f"{source}: the files to import would expand to {size:,} bytes")
        paths = {}
        for want, member in chosen.items():
            target = Path(folder) / Path(member).name  # never a path the zip chose
            _extract(source, archive, archive.getinfo(member), target)
            paths[want] = target
        yield paths


def _named(text: str, source: Path, files: dict[str, Path]) -> str:
    """``text`` with a zip's extracted copies named by the zip and their member."""
    if source.is_dir():
        return text
    for want, path in files.items():
        text = text.replace(str(path), f"{source}: {want}")
    return text


#: Past this size a member is judged by its ratio (the workbook rule: a CSV export
#: compresses 5-30x, 200x is a bomb).
_RATIO_FROM = 10 << 20
_MAX_RATIO = 200


def _extract(source: Path, archive: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path) -> None:
    """Copy one member out, counting what it really unpacks to; a damaged, encrypted or
    unsupported member, a bomb, or a full disk is a one-line error naming it."""
    where = f"{source}: {info.filename}"
    written, limit = 0, max(_RATIO_FROM, info.compress_size * _MAX_RATIO)
    try:
        with archive.open(info) as src, target.open("wb") as out:
            while chunk := src.read(1 << 20):
                written += len(chunk)
                if written > limit:
                    raise UsageError(
                        f"{where}: unpacks more than {_MAX_RATIO} times its packed size"
                        f" ({info.compress_size:,} bytes): not a genuine export"
                    )
                out.write(chunk)
    except NotImplementedError as exc:  # (a RuntimeError: before it)
        raise UsageError(
            f"{where}: its compression method is not supported ({exc}): unzip it yourself"
            " and give the folder"
        ) from exc
    except RuntimeError as exc:  # "File ... is encrypted, password required"
        raise UsageError(
            f"{where}: is password-protected: unzip it yourself and give the folder"
        ) from exc
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        said = str(exc) or "it ends before the member does"
        raise UsageError(
            f"{where}: cannot be extracted, the zip is damaged ({said}): download the export"
            " again, or unzip what you can and give the folder"
        ) from exc
    except OSError as exc:
        raise UsageError(
            f"{where}: cannot be unpacked into the temporary folder ({exc.strerror}; it"
            f" unpacks to {info.file_size:,} bytes): free space there, set TMPDIR to a"
            " folder with room, or unzip it yourself and give the folder"
        ) from exc


def run_export(
    source: str | Path,
    preset: str | Path | ExportSpec,
    *,
    out_dir: str | Path,
    progress: Progress | ProgressCallback | None = None,
    requests_path: str | Path | None = None,
    **options: Any,
) -> ExportReport:
    """Import every file of an export folder or zip, in the preset's order.

    ``options`` are :meth:`ImportJob.create`'s (``dry_run``, ``pipeline_id``,
    ``target``, ``stages``, ...); each part gets ``<out_dir>/<file stem>.results.csv``
    and ``.failures.csv``, and with ``requests_path`` (``requests.jsonl``) its own
    requests file beside it, named after the part (``requests.Contact.jsonl``). A part
    whose file is absent is skipped and listed in ``absent``; an export with none of the
    files is a :class:`UsageError`.
    """
    source = Path(source)
    spec = preset if isinstance(preset, ExportSpec) else load_export_spec(preset)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    wanted = list(dict.fromkeys(n for p in spec.export for n in (p.file, *p.with_files)))
    report = ExportReport(source, spec.source)
    with _opened(source, wanted) as files:
        if not any(part.file in files for part in spec.export):
            raise UsageError(
                f"{source}: none of the files {spec.source} imports is here"
                f" ({', '.join(p.file for p in spec.export)})"
            )
        jobs: list[tuple[Path, ImportJob]] = []
        for part in spec.export:
            path = files.get(part.file)
            if path is None:
                report.absent.append(part.file)
                continue
            stem = Path(part.file).stem
            requests = _part_path(requests_path, stem)
            job = ImportJob.create(
                path,
                part.mapping,
                results_path=out / f"{stem}.results.csv",
                failures_path=out / f"{stem}.failures.csv",
                requests_path=requests,
                links=[files[w] for w in part.with_files if w in files],
                **options,
            )
            jobs.append((path, job))
        # Every part's mapping is loaded and its deals' pipeline known before the first
        # part is sent: an export is not stopped half-imported by a later part's options.
        for path, job in jobs:
            try:
                check_job(job)
            except UsageError as exc:
                raise UsageError(f"{path.name}: {exc}") from None
        for n, (path, job) in enumerate(jobs):
            try:
                report.parts.append((path.name, run_import(job, progress=progress)))
                if job.outputs.requests is not None:
                    report.requests.append((path.name, job.outputs.requests))
            except (SourceError, MappingError) as exc:
                # One unreadable file does not undo or hide the others: it is reported,
                # named as the zip holds it, not as its private copy (gone by now).
                report.failed.append((path.name, _named(str(exc), source, files)))
                continue
            if report.parts[-1][1].aborted:
                # An aborted part stops the export (later parts link to it); the files
                # not started are said, not hidden.
                report.not_started = [later.name for later, _ in jobs[n + 1 :]]
                break
    return report


def _part_path(requests_path: str | Path | None, stem: str) -> Path | None:
    """One part's requests file: ``requests.jsonl`` -> ``requests.Contact.jsonl`` (one
    file for every part would hold only the last part's requests)."""
    if requests_path is None:
        return None
    path = Path(requests_path)
    return path.with_name(f"{path.stem}.{stem}{path.suffix}")
