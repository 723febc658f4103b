"""``octolane-import map FILE``: propose a mapping YAML for an export.

The proposal reads the file's header and a sample of rows. When a bundled
preset fits the header (its mapped columns are there, and the columns only its
system writes), the proposal is that preset, with a comment saying why.
Otherwise each column is matched to an Octolane field by its header (a table of
names CRMs use, then fuzzy matching with rapidfuzz) and by what its values look
like (e-mail addresses, web sites, amounts, dates and their order), and the
transforms follow from the values (the decimal mark of the amounts, the day or
month order of the dates). Every proposed line carries its confidence and
reason; columns that found no field are listed as comments at the end.

The proposal is checked before it is returned: it must load and bind to the
file's columns, so ``--dry-run`` accepts it as written.

Example:
    >>> proposal = propose_mapping("leads.csv")           # doctest: +SKIP
    >>> print(proposal.yaml_text)                          # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from importer.errors import MappingError
from importer.map.presets import PresetInfo, list_presets
from importer.map.spec import (
    MappingFile,
    bind_mapping,
    load_mapping,
    needs_column,
    parse_mapping,
)
from importer.map.stages import PipelineStage, propose_stages
from importer.propose._columns import (
    SECOND_SITE,
    ColumnGuess,
    guess_columns,
    header_currency,
    normalise,
)
from importer.read.source import SourceInfo, WorkbookLimits, open_source

__all__ = ["FieldProposal", "PresetMatch", "Proposal", "propose_mapping"]

PRESET_THRESHOLD = 0.85


@dataclass(frozen=True, slots=True)
class FieldProposal:
    """One proposed mapping line: ``key`` (``contact.email``), its YAML spec, why."""

    key: str
    spec: dict[str, Any]
    confidence: float
    reason: str


@dataclass(frozen=True, slots=True)
class PresetMatch:
    """How well a preset fits a file's header (0..1), and which columns it misses."""

    name: str
    score: float
    mapped_present: int
    mapped_total: int
    signature_present: int
    signature_total: int
    missing: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Proposal:
    """A proposed mapping.

    Attributes:
        yaml_text: the mapping YAML, with comments, ready to save.
        preset: the preset's name when the file matched one, else None.
        fields: the proposed fields (empty when a preset matched).
        unplaced: columns given no field, with a note on each.
        needs_pipeline: the mapping has deals, so a run needs ``--pipeline-id``.
        source: what the reader found (encoding, delimiter, columns).
        matches: every preset's score, best first.
    """

    yaml_text: str
    preset: str | None
    fields: tuple[FieldProposal, ...]
    unplaced: tuple[tuple[str, str], ...]
    needs_pipeline: bool
    source: SourceInfo
    matches: tuple[PresetMatch, ...] = field(default=())


def propose_mapping(
    path: str | Path,
    *,
    sample_rows: int = 500,
    encoding: str | None = None,
    delimiter: str | None = None,
    sheet: str | int | None = None,
    header_row: int | None = None,
    limits: WorkbookLimits | None = None,
    presets: Sequence[PresetInfo] | None = None,
    use_presets: bool = True,
    stages: Sequence[PipelineStage] | None = None,
    stages_note: str = "",
    given_as: str | None = None,
) -> Proposal:
    """Propose a mapping for the export at ``path``.

    Args:
        path: the CSV/TSV/XLSX file.
        sample_rows: how many data rows to look at.
        encoding, delimiter, sheet, header_row: as for reading a file to import.
        presets: the presets to consider (default: the bundled ones).
        use_presets: False always builds a mapping from the columns.
        stages: the pipeline's stages, to propose a ``stages:`` table matching the
            file's stage labels to them (``stages_note``: why they are missing).
        given_as: how the user named the input, where ``path`` is a private copy of it
            (``-``, standard input): the command in the proposal's header says it.

    Raises:
        SourceError: the file cannot be read.
        MappingError: no column could be placed at all.
    """
    path = Path(path)
    with open_source(
        path,
        batch_rows=sample_rows,
        encoding=encoding,
        delimiter=delimiter,
        sheet=sheet,
        header_row=header_row,
        limits=limits,
    ) as source:
        info = source.info
        batch = next(iter(source.batches()), None)
    rows = batch.rows[:sample_rows] if batch else []
    matches = tuple(score_presets(info.columns, presets if presets is not None else list_presets()))
    problem = None
    if use_presets and matches and matches[0].score >= PRESET_THRESHOLD:
        best = matches[0]
        preset_info = _find(presets, best.name)
        problem = _bind_problem(preset_info.path, info, rows)
        if problem is None:
            proposal = _from_preset(preset_info, best, info, matches)
            return _named(_with_stages(proposal, rows, stages, stages_note), path, given_as)
        problem = f"the preset {best.name} fits the header but cannot be used as is: {problem}"
    proposal = _from_columns(path, info, rows, matches, problem, presets)
    return _named(_with_stages(proposal, rows, stages, stages_note), path, given_as)


def _named(proposal: Proposal, path: Path, given_as: str | None) -> Proposal:
    """The proposal whose header names the command as the user gave it."""
    if given_as is None:
        return proposal
    text = proposal.yaml_text.replace(
        f"`octolane-import map {path.name}`", f"`octolane-import map {given_as}`", 1
    )
    return dataclasses.replace(proposal, yaml_text=text)


def _with_stages(
    proposal: Proposal,
    rows: Sequence[Sequence[str]],
    stages: Sequence[PipelineStage] | None,
    note: str,
) -> Proposal:
    """The proposal plus a ``stages:`` table for the stage labels its sample holds."""
    mapping = parse_mapping(proposal.yaml_text)
    spec = mapping.opportunity.stage if mapping.opportunity else None
    columns = proposal.source.columns
    if spec is None or spec.column not in columns or mapping.stages:
        return proposal
    at = columns.index(spec.column)
    over = spec.override
    by = columns.index(over.column) if over is not None and over.column in columns else None
    wanted = {v.casefold() for v in over.values} if over is not None else set()

    def label_of(row: Sequence[str]) -> str:
        # (a won or lost deal's label is its status, as the import reads it)
        if by is not None and row[by].strip().casefold() in wanted:
            return row[by].strip()
        return row[at].strip()

    labels = list(dict.fromkeys(c for c in map(label_of, rows) if c))
    if not labels:
        return proposal
    table = propose_stages(labels, stages)
    matched = {label: stage for label, stage in table.items() if stage is not None}
    lines = [
        "",
        f"# Stages: the labels of {spec.column!r} in the sample, each with the pipeline's stage",
        "# of the same name. A label with none is commented out: give it a stage (a name, or",
        "# an id from `octolane-import stages`) or set options.unmapped_stages; until then",
        "# its deals are left out (their rows partial, or invalid where the deal is all).",
    ]
    if stages is None:
        lines += [
            f"# The pipeline's stages were not read ({note or 'no pipeline given'}): to match",
            "# them, run `octolane-import map FILE --pipeline-id <uuid>` with OCTOLANE_API_KEY.",
        ]
    lines.append("stages:" if matched else "stages: {}")
    for label, stage in table.items():
        line = yaml.safe_dump({label: stage or "?"}, allow_unicode=True, width=1000).strip()
        lines.append(f"  {line}" if stage else f"  # {line}")
    text = proposal.yaml_text.rstrip("\n") + "\n" + "\n".join(lines) + "\n"
    return dataclasses.replace(proposal, yaml_text=text)


# ---- presets --------------------------------------------------------------


def score_presets(columns: Sequence[str], presets: Sequence[PresetInfo]) -> list[PresetMatch]:
    """Score each preset against a header (0..1).

    60 % is the share of the preset's mapped fields whose column (or one of its
    alternative columns) is in the file, 40 % the share of the columns only
    that system writes (:data:`~importer.propose._aliases.PRESET_SIGNATURES`). A
    preset whose required field has no column scores 0: it would not bind.
    """
    from importer.propose._aliases import PRESET_SIGNATURES

    have = {normalise(c) for c in columns}

    def found(group: Sequence[str]) -> bool:
        return any(normalise(c) in have for c in group)

    scored = []
    for preset in presets:
        try:
            mapping = load_mapping(preset.path)
        except MappingError:
            continue
        groups, required = _referenced(mapping)
        if not groups:
            continue
        present = [g for g in groups if found(g)]
        missing = tuple(" / ".join(g) for g in groups if not found(g))
        signature = [s.split("|") for s in PRESET_SIGNATURES.get(preset.name, ())]
        sig_present = sum(found(s) for s in signature)
        sig_share = sig_present / len(signature) if signature else 0.5
        score = 0.6 * len(present) / len(groups) + 0.4 * sig_share
        if not all(found(g) for g in required):
            score = 0.0  # a required field would have no column: the preset cannot bind
        scored.append(
            PresetMatch(
                preset.name,
                round(score, 3),
                len(present),
                len(groups),
                sig_present,
                len(signature),
                missing,
            )
        )
    scored.sort(key=lambda m: (-m.score, -m.mapped_present, m.name))
    return scored


def _referenced(mapping: MappingFile) -> tuple[list[tuple[str, ...]], list[tuple[str, ...]]]:
    """(the column group of every distinct mapped source, those of required fields)."""
    groups: list[tuple[str, ...]] = []
    required: list[tuple[str, ...]] = []
    virtual = {f"{name}.{c}" for name, link in mapping.links.items() for c in link.columns}
    for key, spec in mapping.fields():
        # A linked file's columns (company.Website) are not this file's: they do not count.
        group = tuple(c for c in spec.referenced_columns() if c not in virtual)
        if not group:
            continue
        if group not in groups:
            groups.append(group)
        if needs_column(key, spec):
            required.append(group)
    for link in mapping.links.values():
        if "." not in link.by and (link.by,) not in groups:
            groups.append((link.by,))
    return groups, required


def _find(presets: Sequence[PresetInfo] | None, name: str) -> PresetInfo:
    return next(p for p in (presets if presets is not None else list_presets()) if p.name == name)


def _bind_problem(path: Path, info: SourceInfo, rows: Sequence[Sequence[str]]) -> str | None:
    try:
        bind_mapping(
            load_mapping(path), info.columns, rows, input_name=info.path.name,
            spreadsheet=_spreadsheet(info),
        )  # fmt: skip
    except MappingError as exc:
        return str(exc)
    return None


def _spreadsheet(info: SourceInfo) -> bool:
    """A workbook, whose number cells read as ``12.125`` (as an import binds it)."""
    return info.format in ("xlsx", "xls", "ods")


def _from_preset(
    preset: PresetInfo, match: PresetMatch, info: SourceInfo, matches: tuple[PresetMatch, ...]
) -> Proposal:
    text = preset.path.read_text(encoding="utf-8")
    why = f"{match.mapped_present} of the {match.mapped_total} columns it maps are in the file" + (
        f", and {match.signature_present} of {match.signature_total} columns only this export has"
        if match.signature_total
        else ""
    )
    missing = f" Missing (optional): {', '.join(match.missing)}." if match.missing else ""
    runner = [m for m in matches[1:3] if m.score > 0]
    others = "; ".join(f"{m.name} {m.score:.2f}" for m in runner)
    header = (
        f"# Proposed by `octolane-import map {info.path.name}`: this file matches the preset\n"
        f"# '{preset.name}' (score {match.score:.2f}: {why}).{missing}\n"
        + (f"# Next best: {others}.\n" if others else "")
        + f"# The preset is used unchanged; you can also run with --mapping {preset.name}.\n\n"
    )
    mapping = load_mapping(preset.path)
    return Proposal(
        header + text, preset.name, (), (), mapping.opportunity is not None, info, matches
    )


# ---- building from the columns --------------------------------------------


def _from_columns(
    path: Path,
    info: SourceInfo,
    rows: Sequence[Sequence[str]],
    matches: tuple[PresetMatch, ...],
    problem: str | None = None,
    presets: Sequence[PresetInfo] | None = None,
) -> Proposal:
    guesses, unplaced = guess_columns(info.columns, rows)
    fields, left = _fields(guesses)
    status = _status_column(info.columns, rows)
    stage = next((f for f in fields if f.key == "opportunity.stage"), None)
    if status is not None and stage is not None:
        # A won or lost deal keeps its last stage (Pipedrive): its status is its stage.
        stage.spec["override"] = {"column": status, "values": ["won", "lost"]}
        unplaced = [(c, note) for c, note in unplaced if c != status]
    id_column = source_id_column(info.columns)  # not unplaced: the mapping's source_id
    unplaced = [(c, note) for c, note in (*unplaced, *left) if c != id_column]
    # Check the whole mapping binds; a field that does not (say, dates in an
    # order no sample settles) is dropped to the comments rather than failing.
    while fields:
        text = _render(path, info, fields, unplaced, matches, problem)
        try:
            mapping = parse_mapping(text, source=f"proposal for {path.name}")
            bind_mapping(
                mapping, info.columns, rows, input_name=path.name, spreadsheet=_spreadsheet(info)
            )
        except MappingError as exc:
            culprit = next((f for f in fields if f.key in str(exc)), fields[-1])
            fields = [f for f in fields if f is not culprit]
            unplaced = [*unplaced, (_column_of(culprit), f"not mapped: {exc}")]
            continue
        return Proposal(
            text,
            None,
            tuple(fields),
            tuple(unplaced),
            mapping.opportunity is not None,
            info,
            matches,
        )
    known = _known_export(matches, presets) or _linked_export(path, info.columns, presets)
    if known is not None:
        raise MappingError(f"{path.name}: {known}")
    raise MappingError(
        f"{path.name}: could not match any column to an Octolane field "
        f"(columns: {', '.join(info.columns)}); write the mapping by hand (docs/mapping.md describes the format)"
    )


def _known_export(
    matches: Sequence[PresetMatch], presets: Sequence[PresetInfo] | None
) -> str | None:
    """What to do with an export a preset knows by all its own columns, which lacks the
    columns that give Octolane a record (Pipedrive's organisations without "Website"):
    the preset's ``when_nothing_imports``, not "write the mapping by hand"."""
    best = next((m for m in matches if m.signature_total and
                 m.signature_present == m.signature_total), None)  # fmt: skip
    if best is None:
        return None
    mapping = load_mapping(_find(presets, best.name).path)
    if not mapping.when_nothing_imports:
        return None
    return (
        f"this is the export the preset {best.name} reads, but it lacks"
        f" {', '.join(best.missing)}, so no row would give Octolane a record to create."
        f" {mapping.when_nothing_imports}"
    )


def _linked_export(
    path: Path, columns: Sequence[str], presets: Sequence[PresetInfo] | None
) -> str | None:
    """What to do with a file that only links records of another export (Salesforce's
    OpportunityContactRole): the preset whose ``links:`` read it, named by its file
    name, its key and its columns, and how to give it."""
    have = set(columns)
    for preset in presets if presets is not None else list_presets():
        if preset.kind != "mapping":
            continue
        try:
            mapping = load_mapping(preset.path)
        except MappingError:
            continue
        for name, link in (mapping.links or {}).items():
            if not link.file or link.file.casefold() not in path.name.casefold():
                continue
            if link.key in have and set(link.columns) <= have:
                return (
                    f"this file only links records of another export: the preset"
                    f" {preset.name} joins it in as its {name!r} file (its {link.key} matched"
                    f" to the main file's {link.by}, bringing {', '.join(link.columns)}), and"
                    f" it holds no record of its own. Import the main export with it: octolane-import"
                    f" MAIN.csv --mapping {preset.name} --with {path.name} (the preset's"
                    " header says which other files it joins)"
                )
    return None


def _column_of(proposal: FieldProposal) -> str:
    spec = proposal.spec
    return spec.get("column") or ", ".join(spec.get("columns", ())) or proposal.key


def _fields(guesses: dict[str, ColumnGuess]) -> tuple[list[FieldProposal], list[tuple[str, str]]]:
    """Turn the best column per field into mapping lines; also what was left out, and why."""
    out: list[FieldProposal] = []
    left: list[tuple[str, str]] = []

    def add(key: str, guess: ColumnGuess, transforms: list[Any], **extra: Any) -> None:
        spec: dict[str, Any] = {"column": guess.column, "transforms": transforms, **extra}
        out.append(FieldProposal(key, spec, guess.confidence, guess.reason))

    email, website = guesses.get("contact.email"), guesses.get("account.domain")
    if email:
        add("contact.email", email, ["email"])
        first, last, full = (
            guesses.get(f"contact.{k}") for k in ("first_name", "last_name", "full_name")
        )
        if first or last:
            for key, guess in (("contact.first_name", first), ("contact.last_name", last)):
                if guess:
                    add(key, guess, ["trim"])
        elif full:
            add("contact.first_name", full, ["first_name"])
            add("contact.last_name", full, ["last_name"])
    if website or email:
        second = guesses.get(SECOND_SITE) if website else None
        columns = [g.column for g in (website, second, email) if g]
        best = website or email
        assert best is not None
        spec: dict[str, Any] = {
            "columns" if len(columns) > 1 else "column": columns
            if len(columns) > 1
            else columns[0],
            "transforms": ["domain"],
        }
        if email or website is None:
            spec["required"] = False
        reason = best.reason + (f" (then {second.column!r}'s)" if second else "")
        reason += " (then the e-mail's domain)" if website and email else ""
        out.append(FieldProposal("account.domain", spec, best.confidence, reason))
    deal_keys = (
        "name",
        "stage",
        "deal_size",
        "currency",
        "close_date",
        "next_action_date",
        "next_step",
        "owner_email",
    )
    deal = {k: guesses.get(f"opportunity.{k}") for k in deal_keys}
    if not (email or website):
        left.append(
            (
                "(no identity column)",
                "no column holds e-mail addresses or web sites, so Octolane cannot tell who"
                " or which company a row is; deals with a name still import, without an account",
            )
        )
    if deal["name"]:
        for key, guess in deal.items():
            if guess is None:
                continue
            if key == "deal_size":
                money = {"money": {"decimal_mark": guess.decimal_mark}}
                add("opportunity.deal_size", _in_currency(guess), [money])
            elif key in ("close_date", "next_action_date"):
                add(f"opportunity.{key}", guess, [{"date": {"order": guess.date_order}}])
            elif key == "owner_email":
                add("opportunity.owner_email", guess, ["email"], required=False)
            elif key == "currency":
                add("opportunity.currency", guess, ["currency"])
            else:
                add(f"opportunity.{key}", guess, ["trim"])
    else:
        # Without a deal name every row of a company would be one deal: leave it to the user.
        for key, guess in deal.items():
            if guess is not None:
                guess = _in_currency(guess) if key == "deal_size" else guess
                left.append(
                    (
                        guess.column,
                        f"fits opportunity.{key} ({guess.reason}), but the file"
                        " has no deal-name column; map the deal yourself if it is one",
                    )
                )
    note = guesses.get("note.content")
    if note and (email or website):
        # The text is the note's content alone (a long one would not fit a title, and one
        # column would fill two fields); Octolane needs a title, so each cell's note is
        # titled with the header, and rows without a note send none.
        label = note.column
        titled = {"lookup": {"table": {label: label}, "default": label}}
        out.append(
            FieldProposal(
                "note.title",
                {"column": note.column, "transforms": [titled], "required": False},
                note.confidence,
                f"the header {label!r} as each note's title, where the row has one",
            )
        )
        add("note.content", note, ["trim"])
    return out, left


def _in_currency(guess: ColumnGuess) -> ColumnGuess:
    """The amount column's guess, whose reason says the currency its header names."""
    named = header_currency(guess.column)
    if named is None:
        return guess
    code, written = named
    said = (
        f"; the header says the amounts are in {code} ({written}): options.currency"
        if code
        else f"; the header's {written!r} is several currencies': set options.currency"
    )
    return dataclasses.replace(guess, reason=guess.reason + said)


def _options_currency(fields: Sequence[FieldProposal]) -> list[str]:
    """The ``options.currency`` line for amounts whose header names their currency
    (``Deal Value (€)``): without it they would be read as US dollars."""
    deal = next((f for f in fields if f.key == "opportunity.deal_size"), None)
    named = header_currency(deal.spec["column"]) if deal is not None else None
    if deal is None or named is None:
        return []
    code, written = named
    column = deal.spec["column"]
    also = (
        "; a row's opportunity.currency cell, or a cell's own currency, comes first"
        if any(f.key == "opportunity.currency" for f in fields)
        else "; a cell's own currency comes first"
    )
    if code is None:
        return [
            f"  # currency: ?  # {column!r} says {written!r}, which several currencies write:"
            " set its ISO code (SEK, NOK, DKK, ...), or its amounts are read as USD"
        ]
    return [f"  currency: {code}  # {column!r} says its amounts are in {code} ({written}){also}"]


def _status_column(columns: Sequence[str], rows: Sequence[Sequence[str]]) -> str | None:
    """A deal status column (``Deal - Status``: open, won, lost, deleted) whose sample
    says won or lost somewhere, if the file has one."""
    for i, column in enumerate(columns):
        if " ".join(column.replace("-", " ").split()).casefold() not in _STATUS_HEADERS:
            continue
        values = {row[i].strip().casefold() for row in rows if i < len(row) and row[i].strip()}
        if values and values <= _STATUSES and values & {"won", "lost"}:
            return column
    return None


_STATUS_HEADERS = frozenset({"status", "deal status", "opportunity status", "status_type"})
_STATUSES = frozenset({"open", "won", "lost", "deleted", "active"})


#: Headers that name a record's own id in a CRM export (normalised: lower-case words).
_ID_HEADERS = (
    "record id",
    "id",
    "record id deal",
    "record id contact",
    "record id company",
    "opportunity id",
    "deal id",
    "lead id",
    "contact id",
    "person id",
    "apollo contact id",
    "apollo account id",
    "account id",
    "organization id",
    "organisation id",
    "sales navigator url",  # a Sales Navigator lead's own page: its id there
)


def source_id_column(columns: Sequence[str]) -> str | None:
    """The column that holds each row's id in the source CRM, by its header, if any:
    ``Record ID`` (HubSpot), ``Id`` (Salesforce), ``Deal - ID`` (Pipedrive), ... The
    first of :data:`_ID_HEADERS` in that order that the file has (a deal's own id before
    the ids of its contact and account)."""
    from importer.propose._aliases import normalise_header

    by_name = {normalise_header(c): c for c in reversed(columns)}
    return next((by_name[name] for name in _ID_HEADERS if name in by_name), None)


def _render(
    path: Path,
    info: SourceInfo,
    fields: list[FieldProposal],
    unplaced: list[tuple[str, str]],
    matches: tuple[PresetMatch, ...],
    problem: str | None = None,
) -> str:
    import yaml

    def flow(value: Any) -> str:
        text = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=10**6)
        return text.strip().removesuffix("...").strip()  # a bare scalar ends its "document"

    where = (
        f"encoding {info.encoding}, delimiter {info.delimiter!r}"
        if info.format == "csv"
        else (f"sheet {info.sheet!r}, header row {info.header_row}")
    )
    closest = (
        f" (closest: {matches[0].name}, score {matches[0].score:.2f})"
        if matches and matches[0].score > 0
        else ""
    )
    verdict = (
        f"# Not the preset: {problem}." if problem else f"# No preset matched this header{closest}."
    )
    lines = [
        f"# Proposed by `octolane-import map {path.name}` ({info.format}, {where}).",
        verdict,
        "# Each line says how sure the match is and why; check them, then run with --dry-run.",
    ]
    if any(f.key.startswith("opportunity.") for f in fields):
        lines.append("# Deals need a pipeline: --pipeline-id <uuid> or OCTOLANE_PIPELINE_ID.")
    lines += [
        "version: 1",
        f"description: {flow(f'Proposed mapping for {path.name}')}",
    ]
    id_column = source_id_column(info.columns)
    if id_column is not None:
        lines.append(
            f"source_id: {flow(id_column)}  # each row's id in the source CRM (results: source_id)"
        )
    lines += [
        "options:",
        "  personal_domains: skip",
        "  account_domain_from_email: true",
        *_options_currency(fields),
    ]
    for obj in ("contact", "account", "opportunity", "note"):
        chosen = [f for f in fields if f.key.startswith(obj + ".")]
        if chosen:
            lines.append(f"{obj}:")
            for f in chosen:
                lines.append(
                    f"  {f.key.split('.', 1)[1]}: {flow(f.spec)}  # {f.confidence:.2f} {f.reason}"
                )
    if unplaced:
        lines.append("")
        lines.append("# Columns not mapped:")
        lines += [f"#   {flow(column)}: {note}" for column, note in unplaced]
    return "\n".join(lines) + "\n"
