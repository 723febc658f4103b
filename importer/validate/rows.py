"""Rows of text → the Inbound API payloads of each row, or a rejection.

Each record of a row stands on its own. A record (the row's account, contact,
deal or note) with an invalid required field is rejected, with every bad field
named, and the row's other records still go: the row is *partial*. A row none
of whose records is valid is rejected whole. Two records wait for the rest of
their row: a deal whose company was rejected (Octolane knows a deal by its
company's domain, so sending it without would make a second deal when the fixed
row is run again), and a note on any row with a rejected record (Octolane keeps
every copy of a note). An invalid optional value (an amount that is not a
number, an owner email that is not an address) drops that field and becomes a
warning on the row. Every payload is checked against the pydantic models of
:mod:`importer.api.models`, a batch at a time, so what would earn a 400 is caught
here.

This module does no I/O.
"""

from __future__ import annotations

import datetime
import functools
import re
from bisect import bisect_left
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import accumulate, compress, repeat
from operator import attrgetter, is_not, itemgetter
from typing import Any

from pydantic import TypeAdapter, ValidationError
from pydantic_core import ErrorDetails

from importer.api.models import (
    MAX_SAFE_INTEGER,
    AccountPayload,
    ContactPayload,
    NotePayload,
    OpportunityBody,
    RelatedObjects,
)
from importer.map.spec import (
    CELL_CURRENCY,
    COMPANY_CELL_CURRENCY,
    EMAIL_NAME,
    REASON_CELL,
    BoundMapping,
    FieldReader,
    FieldSpec,
    plain_number,
)
from importer.map.stages import stage_key
from importer.map.transforms import TransformError, is_personal_domain
from importer.map.transforms.currency import TARGET_CURRENCY, settle_currency
from importer.map.transforms.domains import known_ending, web_host
from importer.map.transforms.emails import (
    all_emails,
    email_account,
    is_placeholder_domain,
    unicode_form,
)
from importer.map.transforms.emails import filed_under as filed_host
from importer.map.transforms.money import to_dollars
from importer.map.transforms.names import dropped_titles, salutation_only

__all__ = ["FieldError", "RowVerdict", "validate_batch"]


@dataclass(frozen=True, slots=True)
class FieldError:
    """One bad field of a row: ``contact.email``, where it came from, and why."""

    field: str
    source: str
    message: str

    def __str__(self) -> str:
        return f"{self.field} ({self.source}): {self.message}"


@dataclass(slots=True)
class RowVerdict:
    """What validation made of one input row.

    The payload fragments say what the row feeds: ``account`` / ``contact`` /
    ``note`` are full request bodies; ``opportunity`` is the full body too.
    ``errors`` name the records rejected (a field's first part says which:
    ``contact.email`` is the contact's); with no payload left the row is
    rejected, with some it is partial.
    ``skipped`` gives the reason a valid row feeds nothing (e.g. a company row
    whose only domain is gmail.com).
    """

    row: int
    errors: list[FieldError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    domain: str | None = None
    email: str | None = None
    account: dict[str, Any] | None = None
    contact: dict[str, Any] | None = None
    opportunity: dict[str, Any] | None = None
    note: dict[str, Any] | None = None
    skipped: str | None = None
    stage: tuple[str, str] | None = None  # (the source's stage label, the stage it goes to)
    amount: str | None = None  # "converted" or "withheld": what became of a foreign amount
    #: The row's id in the source CRM (the mapping's ``source_id`` cell, trimmed).
    source_id: str = ""

    @property
    def valid(self) -> bool:
        return not self.errors

    @property
    def partial(self) -> bool:
        """Some of the row's records are rejected and some go."""
        return bool(self.errors) and _has_payload(self)


def related_objects(domain: str | None, email: str | None) -> dict[str, Any]:
    """A deal's links to its row's company and person, in the order they are sent (a
    compact verdict's deal is rebuilt from them: :mod:`importer.validate.compact`)."""
    related: dict[str, Any] = {}
    if domain:
        related["account_domain"] = domain
    if email:
        related["primary_contact_email"] = email
    return related


def _has_payload(verdict: RowVerdict) -> bool:
    return bool(verdict.account or verdict.contact or verdict.opportunity or verdict.note)


def _rejected(verdict: RowVerdict) -> set[str]:
    """The records of the row that are rejected: ``account``, ``contact``, ..."""
    return {e.field.partition(".")[0] for e in verdict.errors}


_HELD_DEAL = (
    "held back until the row's company is fixed: Octolane knows a deal by its company's"
    " domain, so the deal sent now would be a second deal when the fixed row is run again"
)
_HELD_DEAL_CONTACT = (
    "held back until the row's contact is fixed: the deal has no company, and its contact"
    " was rejected"
)
_HELD_NOTE = (
    "held back until the row is fixed: Octolane keeps every copy of a note, so the note"
    " goes once, with its whole row"
)


def _hold_back(verdict: RowVerdict) -> None:
    """Withhold the deal and note of a row with a rejected record (see the module's doc)."""
    rejected = _rejected(verdict)
    deal = verdict.opportunity
    if deal is not None and "opportunity" not in rejected:
        related = deal["related_objects"]
        if "contact" in rejected and related.get("primary_contact_email") == verdict.email:
            related.pop("primary_contact_email", None)  # the rejected contact is not linked
        if "account" in rejected or ("contact" in rejected and not related.get("account_domain")):
            verdict.errors.append(_held_deal(rejected))
            verdict.opportunity = None
    if verdict.note is not None:
        verdict.errors.append(FieldError("note", "row", _HELD_NOTE))
        verdict.note = None


def _held_deal(rejected: set[str] | frozenset[str]) -> FieldError:
    return FieldError(
        "opportunity", "row", _HELD_DEAL if "account" in rejected else _HELD_DEAL_CONTACT
    )


_HELD = frozenset({_HELD_DEAL, _HELD_DEAL_CONTACT, _HELD_NOTE})


def _settle(verdict: RowVerdict) -> None:
    """A row none of whose records goes is rejected for its own errors: what it holds
    back for the others is not said."""
    if not _has_payload(verdict):
        verdict.errors = [e for e in verdict.errors if e.message not in _HELD]


# Fields whose bad value sinks the row; any other bad value is dropped with a warning.
_REQUIRED_LOCS: dict[str, set[tuple[str, ...]]] = {
    "account": {("domain",)},
    "contact": {("email",)},
    "opportunity": {
        ("pipeline_id",),
        ("opportunity",),
        ("related_objects",),
        # the deal's anchor: without it the row has nothing to attach the deal to
        ("related_objects", "account_domain"),
        ("related_objects", "primary_contact_email"),
    },
    # a note's content is what the note is: sent without it, the note would be a title
    # alone, so an unusable content leaves the note out (the row says so) instead
    "note": {("note",), ("note", "title"), ("note", "content")},
}
_PATTERN_MESSAGES = {
    "email": "is not an email address Octolane accepts (ASCII domain, one @)",
    "primary_contact_email": "is not an email address Octolane accepts (ASCII domain, one @)",
    "additional_contact_emails": "is not an email address Octolane accepts (ASCII domain, one @)",
    "contact_emails": "is not an email address Octolane accepts (ASCII domain, one @)",
    "owner_email": "is not an email address Octolane accepts (ASCII domain, one @)",
    "domain": "is not a domain name such as acme.com",
    "account_domain": "is not a domain name such as acme.com",
    "account_domains": "is not a domain name such as acme.com",
    "stage_id": "is not a stage id (a UUID); map stage labels with a lookup table",
}
_FRIENDLY = {
    "string_pattern_mismatch": "is not valid here",
    "string_too_long": "is too long",
    "string_too_short": "is empty",
}
# The order in which a row's problems are listed: identity first, then as in the API docs.
_FIELD_ORDER = (
    "contact.email",
    "account.domain",
    "contact.first_name",
    "contact.last_name",
    "contact.job_title",
    "contact.phone",
    "contact.linkedin",
    "account.name",
    EMAIL_NAME,
    "opportunity.name",
    "opportunity.stage",
    "opportunity.stage_id",
    "opportunity.stage_name",
    "opportunity.next_step",
    "opportunity.deal_size",
    "opportunity.company_amount",
    CELL_CURRENCY,
    COMPANY_CELL_CURRENCY,
    "opportunity.currency",
    "opportunity.exchange_rate",
    "opportunity.close_date",
    "opportunity.next_action_date",
    "opportunity.additional_contact_emails",
    "opportunity.owner_email",
    "note.title",
    "note.content",
    "note.contact_emails",
)
_WHY_REQUIRED = {
    "contact.email": "Octolane identifies people by email address",
    "account.domain": "Octolane identifies companies by domain",
    "note.title": "a note needs a title",
}
# Validators per payload part. A deal is checked in parts: its body is new on
# most rows, but its related objects and pipeline repeat, and are checked once.
_CHECKS: dict[str, TypeAdapter] = {
    "account": TypeAdapter(list[AccountPayload]),
    "contact": TypeAdapter(list[ContactPayload]),
    "opportunity.opportunity": TypeAdapter(list[OpportunityBody]),
    "opportunity.related_objects": TypeAdapter(list[RelatedObjects]),
    "note": TypeAdapter(list[NotePayload]),
}


def validate_batch(
    bound: BoundMapping,
    row_numbers: Sequence[int],
    rows: Sequence[Sequence[str]],
    *,
    pipeline_id: str | None = None,
) -> list[RowVerdict]:
    """Validate a batch of rows against a bound mapping.

    The work is column-wise: each field's transforms run over the whole
    column (memoised per distinct value), payloads are assembled in one pass,
    and each distinct payload part is checked by pydantic once per run.

    Args:
        bound: the mapping, bound to the input's columns.
        row_numbers: the spreadsheet row number of each row.
        rows: the cells of each row, as text.
        pipeline_id: the target pipeline, required when the mapping has an
            ``opportunity`` section (checked by the caller up front).
    """
    if bound.skips:
        skipped = _skipped(bound, rows)
        if skipped:
            return _with_skipped(bound, row_numbers, rows, skipped, pipeline_id)
    verdicts = [RowVerdict(row) for row in row_numbers]
    if bound.source_id is not None:
        for verdict, cell in zip(verdicts, map(itemgetter(bound.source_id), rows), strict=True):
            verdict.source_id = cell.strip()
    values = _read_fields(bound, rows, verdicts)
    _assemble(bound, values, verdicts, pipeline_id)
    _check_models(verdicts, bound)
    return verdicts


def _skipped(bound: BoundMapping, rows: Sequence[Sequence[str]]) -> dict[int, str]:
    """The rows the mapping's ``skip_rows`` leave out (index → reason)."""
    out: dict[int, str] = {}
    for position, values, other_than, reason, named in bound.skips:
        for i, row in enumerate(rows):
            if i in out or position >= len(row):
                continue
            cell = row[position].strip().casefold()
            if position in bound.amounts:
                cell = plain_number(cell)  # (an amount's number, not the currency it is in)
            if (cell not in values and cell != "") if other_than else (cell in values):
                cells = {name: row[at].strip() for name, at in named.items()}
                out[i] = REASON_CELL.sub(functools.partial(_cell_of, cells), reason)
    return out


def _cell_of(cells: dict[str, str], match: re.Match[str]) -> str:
    """A reason's ``{Column}``: the row's cell, or as written for no such column."""
    return cells.get(match[1], match[0])


def _with_skipped(
    bound: BoundMapping,
    row_numbers: Sequence[int],
    rows: Sequence[Sequence[str]],
    skipped: dict[int, str],
    pipeline_id: str | None,
) -> list[RowVerdict]:
    """The batch's verdicts: the skipped rows' with their reasons, the others validated."""
    kept = [i for i in range(len(rows)) if i not in skipped]
    validated = iter(
        validate_batch(bound, [row_numbers[i] for i in kept], [rows[i] for i in kept],
                       pipeline_id=pipeline_id)
        if kept else ()
    )  # fmt: skip
    verdicts = []
    for i, row in enumerate(row_numbers):
        if i in skipped:
            verdict = RowVerdict(row)
            verdict.skipped = skipped[i]
            if bound.source_id is not None and bound.source_id < len(rows[i]):
                verdict.source_id = rows[i][bound.source_id].strip()
            verdicts.append(verdict)
        else:
            verdicts.append(next(validated))
    return verdicts


def _read_fields(
    bound: BoundMapping, rows: Sequence[Sequence[str]], verdicts: list[RowVerdict]
) -> dict[str, list[Any]]:
    """Every mapped field's values; failures and empty required fields land on their rows."""
    values: dict[str, list[Any]] = {}
    told: set[str] = set()  # the name fields whose dropped titles the rows were told of
    custom = [k for k in bound.readers if k.startswith(CUSTOM_ATTRIBUTE)]
    for key in (*_FIELD_ORDER, *custom):
        reader = bound.readers.get(key)
        if reader is None:
            continue
        column, failures, removed = reader.read(rows)
        values[key] = column
        for i, text in removed.items():
            verdicts[i].warnings.append(f"{key} ({reader.label}): {text}")
        if _has_default(reader.spec):
            _defaulted(reader, rows, column, verdicts)
        if key == "contact.first_name" or (key == "contact.last_name" and key not in told):
            told.update(_dropped_titles(bound, key, rows, failures, verdicts))
        if key == "contact.email" and "opportunity.additional_contact_emails" not in bound.readers:
            noted = bound.readers.get("note.contact_emails")
            _other_addresses(reader, rows, column, verdicts, noted)  # (a deal would list them)
        if key == "account.domain":
            _other_sites(reader, rows, column, verdicts)
            _cut_sites(reader, rows, column, verdicts)
        if key == "opportunity.currency":
            for i in failures:
                column[i] = _UNREADABLE  # the amount's currency is unknown: withhold it
        for i, problem in failures.items():
            if reader.required:
                verdicts[i].errors.append(FieldError(key, reader.label, problem))
            else:
                verdicts[i].warnings.append(
                    f"{key} ({reader.label}): {problem}; the field was left out"
                )
        if reader.required:
            why = f"is empty: {_WHY_REQUIRED.get(key, 'it is required')}"
            for i, value in enumerate(column):
                if value is None and i not in failures:
                    verdicts[i].errors.append(FieldError(key, reader.label, why))
    return values


def _has_default(spec: FieldSpec) -> bool:
    return any(
        (t if isinstance(t, str) else next(iter(t), "")) == "default" for t in spec.transforms
    )


def _defaulted(
    reader: FieldReader,
    rows: Sequence[Sequence[str]],
    column: list[Any],
    verdicts: list[RowVerdict],
) -> None:
    """A value the mapping's ``default`` transform gave an empty source is not the file's
    (a HubSpot note with no date, titled "HubSpot note (no date)"): the row says so. Every
    other transform passes "no value" through, so an empty source with a value is one."""
    names = reader.spec.referenced_columns()
    one = len(names) == 1
    empty = f"column{'' if one else 's'} {_names(names)} {'is' if one else 'are'} empty"
    clean = reader.clean
    for i, row in enumerate(rows):
        value = column[i]
        if value is None:
            continue
        if reader.position is not None and clean is not None:
            source = clean(row[reader.position])
        else:
            source = reader.getter(row)
        if source is None or source == "":
            verdicts[i].warnings.append(
                f"{reader.key} ({reader.label}): {empty}; the mapping's default"
                f" {_clipped(value)} is sent"
            )


_NAME_PARTS = {"contact.first_name": "first_name", "contact.last_name": "last_name"}


def _dropped_titles(
    bound: BoundMapping,
    key: str,
    rows: Sequence[Sequence[str]],
    failures: dict[int, str],
    verdicts: list[RowVerdict],
) -> list[str]:
    """A full name split into first and last name loses its title and suffix ("Dr.",
    "Jr.", "PhD"): an Octolane contact has no field for them, so the row names them, once
    for the two fields that split one column. Returns the fields told of."""
    reader = bound.readers[key]
    if not _splits_name(reader, key):
        return []
    keys = [
        k for k in _NAME_PARTS
        if (r := bound.readers.get(k)) is not None and r.label == reader.label
        and _splits_name(r, k)
    ]  # fmt: skip
    for i, cell in enumerate(_raw_cells(reader, rows)):
        dropped = dropped_titles(cell) if cell and i not in failures else None
        if dropped is not None:
            verdicts[i].warnings.append(_title_dropped(keys, reader.label, dropped, cell.strip()))
    return keys


#: The fields an e-mail cell's name fills (where the row's name columns are empty).
_EMAIL_NAME_KEYS = list(_NAME_PARTS)


def _title_dropped(
    keys: Sequence[str], label: str, dropped: str, name: str, where: str = ""
) -> str:
    """The row's warning of a title or suffix (:func:`dropped_titles`) the split of
    ``name`` left out; a name of titles alone ('Sir/Madam', Pipedrive's for a person it
    has no name of) is said to be no name, not a name that lost its title."""
    if salutation_only(name):
        return (
            f"{', '.join(keys)} ({label}): {_clipped(name)}{where} is a salutation"
            " placeholder, not a name: no name is sent from it"
        )
    return (
        f"{', '.join(keys)} ({label}): {dropped} dropped from the name {_clipped(name)}{where}"
        " (an Octolane contact has no field for it)"
    )


def _splits_name(reader: FieldReader, key: str) -> bool:
    part = _NAME_PARTS[key]
    return any(
        (t if isinstance(t, str) else next(iter(t), "")) == part for t in reader.spec.transforms
    )


def _names(names: Sequence[str]) -> str:
    return ", ".join(repr(n) for n in names)


def _cells_matching(
    cells: list[str], pattern: re.Pattern[str], needs: tuple[str, ...] = ()
) -> list[int]:
    """The positions of the cells in which ``pattern`` (which never spans a NUL) is found:
    one scan of the batch joined by NUL, at C speed, and a bisection per match. With
    ``needs``, a batch that holds none of those texts is known to have none first (a
    pattern that opens with a character class scans slower than a few plain searches)."""
    text = "\x00".join(cells)
    if needs and not any(map(text.__contains__, needs)):
        return []
    found = [m.start() for m in pattern.finditer(text)]
    if not found:
        return []
    ends = list(accumulate(map(len, cells), lambda total, n: total + n + 1, initial=-1))
    return list(dict.fromkeys(bisect_left(ends, start, 1) - 1 for start in found))


#: Two addresses in one cell.
_TWO_ADDRESSES = re.compile(r"@[^\x00]*@")


def _other_addresses(
    reader: FieldReader,
    rows: Sequence[Sequence[str]],
    column: list[Any],
    verdicts: list[RowVerdict],
    noted: FieldReader | None = None,
) -> None:
    """A cell with several addresses gives the contact its first: the row names the others,
    which are not imported (an Octolane contact has one e-mail address), or, those the
    row's note lists (``noted``: a HubSpot note's every associated contact), which go with
    the note by e-mail alone."""
    raw = _raw_cells(reader, rows)
    found = _cells_matching(raw, _TWO_ADDRESSES)
    linked = _note_addresses(noted, [rows[i] for i in found])
    for i, links in zip(found, linked, strict=True):
        first = column[i]
        if first is None:
            continue
        try:
            addresses = all_emails(raw[i])
        except TransformError:
            continue  # the first address was read; the cell's other parts are not addresses
        first = first[0] if type(first) is list else first
        others = [a for a in addresses if a != first]
        with_note = [a for a in others if a in links]
        dropped = [a for a in others if a not in links]
        said = []
        if with_note:
            said.append(
                f"{', '.join(with_note)} {'goes' if len(with_note) == 1 else 'go'} only with the"
                f" note, linked by e-mail: no contact is sent for {'it' if len(with_note) == 1 else 'them'}"
            )
        if dropped:
            said.append(_not_imported(dropped))
        if said:
            verdicts[i].warnings.append(
                f"contact.email ({reader.label}): the cell holds {len(others) + 1} addresses;"
                f" the first, {first}, is the contact's, and {'; '.join(said)}"
                " (an Octolane contact has one e-mail address)"
            )


def _note_addresses(noted: FieldReader | None, rows: Sequence[Sequence[str]]) -> list[set[str]]:
    """Each row's addresses the row's note is linked to (``note.contact_emails``)."""
    if noted is None or not rows:
        return [set() for _ in rows]
    values, _, _ = noted.read(rows)
    return [set([v] if isinstance(v, str) else v or ()) for v in values]


def _not_imported(others: list[str], shown: int | None = None) -> str:
    """``b.it is not imported`` / ``b.it, c.it are not imported`` (the first ``shown``)."""
    named = ", ".join(others[:shown])
    if shown is not None and len(others) > shown:
        named += f" and {len(others) - shown} more"
    return f"{named} {'is' if len(others) == 1 else 'are'} not imported"


def _raw_cells(reader: FieldReader, rows: Sequence[Sequence[str]]) -> list[str]:
    if reader.position is not None:
        return list(map(itemgetter(reader.position), rows))
    return [reader.getter(row) or "" for row in rows]


#: What parts a cell into several web addresses: "a.it; b.it", "a.it - b.it", "a.it b.it".
_SITE_SEPARATORS = re.compile(r"[;,|\s]+(?:-\s+)?")
#: A separator between two parts of one cell, in a batch's cells joined by NUL.
_INNER_SEPARATOR = re.compile(r"[^;,|\s\x00][;,|\s]+(?:-\s+)?[^;,|\s\x00]")
_SEPARATOR_CHARS = (
    ";",
    ",",
    "|",
    " ",
    "\t",
    "\n",
    "\r",
    "\x0b",
    "\x0c",
    "\xa0",
    "\u2003",
    "\u3000",
)
#: A URL's query or fragment: its commas separate values, not sites (?lang=en,fr.de).
_QUERY = re.compile(r"[?#][^\s;|]*")


def _other_sites(
    reader: FieldReader,
    rows: Sequence[Sequence[str]],
    column: list[Any],
    verdicts: list[RowVerdict],
) -> None:
    """A cell with several web addresses gives the account its first: the row names the
    others' hosts, which are not imported. E-mail cells (an account domain read from an
    e-mail column) are the contact's to tell about, and a first domain that makes no
    account (gmail.com, a.com) is told about as such."""
    raw = _raw_cells(reader, rows)
    for i in _cells_matching(raw, _INNER_SEPARATOR, _SEPARATOR_CHARS):
        first, cell = column[i], raw[i]
        if type(first) is not str or "@" in cell:
            continue
        if is_personal_domain(first) or is_placeholder_domain(first):
            continue
        parts = _SITE_SEPARATORS.split(_QUERY.sub("", cell.strip()))
        # the parts' hosts; the first part is the one the account's domain came from
        hosts = [h for p in parts if "." in p and (h := web_host(p))]
        others = [h for h in dict.fromkeys(hosts[1:]) if h != hosts[0]]
        if others:
            verdicts[i].warnings.append(
                f"account.domain ({reader.label}): the cell names {len(others) + 1} web sites;"
                f" the first, {first}, is the account's, and {_not_imported(others, 4)}"
            )


def _cut_sites(
    reader: FieldReader,
    rows: Sequence[Sequence[str]],
    column: list[Any],
    verdicts: list[RowVerdict],
) -> None:
    """A site below its company's domain (``doe.sd.gov``, ``shop.acme.com``) is cut to that
    domain (``sd.gov``): the row says so, since every site under it is then one account.
    (``www.`` is no site of its own; e-mail cells are the contact's to tell about.) Each
    distinct cell of the batch is looked at once."""
    raw = _raw_cells(reader, rows)
    last = dict(zip(raw, range(len(raw)), strict=True))  # each distinct cell, at C speed
    cut: dict[str, str] = {}
    for cell, i in last.items():
        value = column[i]
        if type(value) is list and len(value) == 1:  # a split cell of one site
            value = value[0]
        if type(value) is str and cell != value and "@" not in cell:  # (a bare domain: no cut)
            text = _cut_text(cell, value)
            if text:
                cut[cell] = text
    if cut:
        for i, cell in enumerate(raw):
            said = cut.get(cell)
            if said is not None and column[i] is not None:
                verdicts[i].warnings.append(said)


@functools.lru_cache(maxsize=8192)
def _cut_text(cell: str, domain: str) -> str:
    host = web_host(cell)
    if not host or host == domain or not host.endswith("." + domain):
        return ""
    return (
        f"account.domain: {host} is cut to {domain}, its company's domain: Octolane identifies"
        f" a company by its domain, so every site under {domain} is this one account"
    )


def _assemble(
    bound: BoundMapping,
    values: dict[str, list[Any]],
    verdicts: list[RowVerdict],
    pipeline_id: str | None,
) -> None:
    options = bound.mapping.options
    objects = bound.objects
    n = len(verdicts)
    nothing = [None] * n
    emails = [e[0] if type(e) is list else e for e in values.get("contact.email", nothing)]
    domains = values.get("account.domain", nothing)
    fallback = options.account_domain_from_email
    skip_personal = options.personal_domains == "skip"
    has_account, has_contact = "account" in objects, "contact" in objects
    first_names = _firsts(values.get("contact.first_name", nothing))
    last_names = _firsts(values.get("contact.last_name", nothing))
    email_names = values.get(EMAIL_NAME, nothing)
    profile = [
        (name, column) for name in _PROFILE if (column := values.get(f"contact.{name}")) is not None
    ]
    account_names = values.get("account.name")
    deal = _DealColumns(values, pipeline_id, bound) if "opportunity" in objects else None
    note = _NoteColumns(values, nothing) if "note" in objects else None
    accounts: dict[Any, dict[str, Any] | None] = {}
    domain_reader = bound.readers.get("account.domain")
    # A batch's e-mail hosts -> the account Octolane files their contacts under.
    filed_under: dict[str, str] = {}
    for i, verdict in enumerate(verdicts):
        email, domain = emails[i], domains[i]
        rejected = _rejected(verdict) if verdict.errors else _NONE
        if "account" in rejected:
            domain = None  # nor the e-mail's: the row's company was given, and is wrong
        if type(domain) is list:
            if len(domain) > 1:
                verdict.warnings.append(
                    f"account.domain: the row names {len(domain)} companies"
                    f" ({', '.join(map(str, domain[:4]))}); the first is its account"
                )
            domain = domain[0] if domain else None
        from_email = False
        host = email.rpartition("@")[2] if email else ""  # (once: three tests read it)
        if domain is None and email and fallback and "account" not in rejected:
            domain = email_account(email)  # the contact's own: mail.acme.com, not acme.com
            from_email = domain is not None
        personal: str | bool = domain is not None and skip_personal and is_personal_domain(domain)
        if (
            not personal
            and domain is not None
            and email
            and skip_personal
            and host != domain
            and host.endswith("." + domain)  # rare: a subdomain's
        ):
            personal = _cut_from_personal(email, domain)
        verdict.email, verdict.domain = email, (None if personal else domain)
        if email and not known_ending(host):  # (cached per host)
            verdict.warnings.append(
                f"contact.email: {email} ends in .{email.rpartition('.')[2]}, which is no"
                " top-level domain: a typo? The address cannot receive mail; correct the cell"
            )
        if personal and has_account:
            shown = domain if personal is True else personal
            verdict.warnings.append(
                f"{shown} is a personal email domain: no account is sent for it"
            )
        if email and "xn--" in email:  # the results file shows both forms
            written = unicode_form(email)
            if written is not None:
                verdict.warnings.append(
                    f"contact.email: {written} is sent as {email}, its domain's IDNA form"
                )
        if has_account and has_contact and email and verdict.domain and not rejected:
            filed = filed_under.get(host)
            if filed is None:
                filed = filed_under[host] = filed_host(host)
            if filed != verdict.domain:
                verdict.warnings.append(_elsewhere(email, filed, verdict.domain))
        if has_account and verdict.domain:
            # One body per company in a batch: rows share it (and the pipe sends it once).
            # (keyed by the name too: a later row's other name is the planner's to merge
            # and tell, not dropped here because an earlier row of the batch had none)
            company = _first(account_names[i]) if account_names is not None else None
            key = verdict.domain if company is None else (verdict.domain, str(company))
            account = accounts.get(key, _UNSEEN)
            if account is _UNSEEN:
                account = accounts[key] = (
                    None if is_placeholder_domain(verdict.domain) else {"domain": verdict.domain}
                )
                if account is not None and company is not None:
                    account["name"] = str(company)
            if account is None:  # a.com, xx.com: no company's (nor, with it, its e-mail)
                rejected = _placeholder_account(verdict, rejected, domain_reader)
            else:
                verdict.account = account
        if has_contact and email and "contact" not in rejected:
            contact = {"email": email}
            # A linked file may give several people's names: the first is the first contact's.
            first, last = first_names[i], last_names[i]
            if first is None and last is None and email_names[i] is not None:
                first, last, written = email_names[i]  # "Jo Smith <jo@x.com>": the cell names them
                dropped = dropped_titles(written)
                if dropped is not None:  # "Dr. Jo Smith <jo@x.com>": as a name column's title
                    verdict.warnings.append(
                        _title_dropped(
                            _EMAIL_NAME_KEYS,
                            bound.readers[EMAIL_NAME].label,
                            dropped,
                            written,
                            " written beside the address",
                        )
                    )
            if first is not None:
                contact["first_name"] = str(first)
            if last is not None:
                contact["last_name"] = str(last)
            for name, column in profile:
                value = _first(column[i])
                if value is not None:
                    contact[name] = str(value)
            verdict.contact = contact
        if deal is not None and "opportunity" not in rejected:
            if "account" in rejected or ("contact" in rejected and not verdict.domain):
                verdict.errors.append(_held_deal(rejected))
            else:
                verdict.opportunity = deal.payload(i, verdict)
                if from_email and domain_reader and verdict.opportunity and verdict.domain:
                    # a deal's company is a link the user should see was inferred
                    verdict.warnings.append(
                        f"opportunity: linked to {verdict.domain}, the domain of its contact's"
                        f" e-mail ({email}): the row gives no company domain ({_empty(domain_reader)})"
                    )
        if note is not None and "note" not in rejected:
            if not rejected:
                verdict.note = note.payload(i, verdict)
                if from_email and domain_reader and verdict.note and verdict.domain:
                    # as a deal's: the company the note is filed under was inferred
                    verdict.warnings.append(
                        f"note: linked to {verdict.domain}, the domain of its contact's"
                        f" e-mail ({email}): the row gives no company domain ({_empty(domain_reader)})"
                    )
            elif note.titles[i] is not None:
                verdict.errors.append(FieldError("note", "row", _HELD_NOTE))
        if not (
            verdict.errors
            or verdict.account
            or verdict.contact
            or verdict.opportunity
            or verdict.note
        ):
            verdict.skipped = (
                f"{domain} is a personal email domain and the row has nothing else to import"
                if personal
                else "the row has no email address or company domain to import"
            )


#: Contact fields only the public API takes, read like the names.
_PROFILE = ("job_title", "phone", "linkedin")
#: ``opportunity.custom_attributes.<name>``: each custom attribute's field key.
CUSTOM_ATTRIBUTE = "opportunity.custom_attributes."
_NONE: frozenset[str] = frozenset()
_UNSEEN: Any = object()


def _placeholder_account(
    verdict: RowVerdict, rejected: frozenset[str] | set[str], reader: Any
) -> set[str] | frozenset[str]:
    """A row whose company domain is a placeholder (``a.com`` of ``i@a.com``): no account.
    Refused where the mapping requires the domain, else left out with a warning."""
    domain, verdict.domain = verdict.domain, None
    why = f"{domain!r} is a placeholder domain, not a company's"
    if reader is not None and reader.required:
        verdict.errors.append(FieldError("account.domain", reader.label, why))
        return {*rejected, "account"}
    source = reader.label if reader is not None else "the e-mail's domain"
    verdict.warnings.append(f"account.domain ({source}): {why}; no account is created for it")
    return rejected


def _cut_from_personal(email: str, domain: str) -> str | bool:
    """The e-mail's host, where ``domain`` was cut from a personal one (``on.net`` of
    ``jo@internode.on.net``: the host is the free-mail provider, not its registry)."""
    host = email.rpartition("@")[2]
    if host != domain and host.endswith("." + domain) and is_personal_domain(host):
        return host
    return False


def _elsewhere(email: str, filed: str, domain: str) -> str:
    where = (
        f"the account of its e-mail's domain, {filed}"
        if filed
        else f"no account ({email.rpartition('@')[2]} is a personal e-mail domain)"
    )
    return (
        f"contact: Octolane files {email} under {where}, not under the row's company"
        f" {domain}; {domain} is created as an account of its own"
    )


def _empty(reader: Any) -> str:
    """``column 'Website' is empty`` / ``columns 'account.Website', 'lead.Website' are
    empty``: where a row's company domain would have come from (a linked company may have
    no website)."""
    return f"{reader.label} {'are' if reader.label.startswith('columns ') else 'is'} empty"


def _first(value: Any) -> Any:
    return (value[0] if value else None) if type(value) is list else value


def _firsts(column: list[Any]) -> list[Any]:
    """The column with each list (a linked file's several values) cut to its first value."""
    if list not in set(map(type, column)):
        return column  # the usual column: nothing to cut
    return list(map(_first, column))


_NAME_OR_DOMAIN = (
    "is empty and the deal has no company domain: Octolane needs a name when "
    "related_objects.account_domain is not given"
)
_UNLINKED_REJECTED = (
    "has no company domain or contact email to attach the deal to (options.unlinked_deals: reject)"
)
_UNLINKED = (
    "opportunity: no company domain or contact email to link the deal to: it is imported "
    "as a deal without an account (options.unlinked_deals: reject refuses such rows)"
)
_CONTACTS_ONLY = (
    "opportunity: no company domain to link the deal to: it is imported as a deal without"
    " an account, linked to its contacts only"
)


_UNREADABLE = "?"  # a currency column cell that names no currency


def _money(amount: float) -> str:
    """``1,234.50``, or with every decimal the amount has (``1,234.567``): a warning quotes
    an amount as its cell gave it, never rounded to cents."""
    places = Decimal(repr(amount)).as_tuple().exponent
    return f"{amount:,.{max(2, -places)}f}" if isinstance(places, int) else f"{amount:,.2f}"


def _cents(amount: float) -> float:
    """A dollar amount as it is sent: rounded half-up to cents. An amount is read with every
    decimal its cell writes (one in another currency is converted from them all), so a
    dollar amount is rounded here, as the ``money`` transform rounds any other field's; one
    with two decimals or fewer (nearly every cell) is kept as it is."""
    return amount if round(amount, 2) == amount else to_dollars(Decimal(repr(amount)))


class _DealColumns:
    """The opportunity fields of a batch, column by column."""

    def __init__(
        self, values: dict[str, list[Any]], pipeline_id: str | None, bound: BoundMapping
    ) -> None:
        mapping = bound.mapping
        get = values.get
        self.stage = get("opportunity.stage")
        self.stages = bound.stages
        reader = bound.readers.get("opportunity.stage")
        self.stage_source = reader.label if reader else "row"
        reader = bound.readers.get("opportunity.stage_name")
        self.stage_name_source = reader.label if reader else "row"
        self.text = [
            (name, column)
            for name in ("name", "stage_id", "stage_name", "next_step")
            if (column := get(f"opportunity.{name}")) is not None
        ]
        self.deal_size = get("opportunity.deal_size")
        self.company_amount = get("opportunity.company_amount")
        reader = bound.readers.get("opportunity.company_amount")
        self.company_source = reader.label if reader else "row"
        self.dates = [
            (name, column)
            for name in ("close_date", "next_action_date")
            if (column := get(f"opportunity.{name}")) is not None
        ]
        self.extra = get("opportunity.additional_contact_emails")
        self.custom = [
            (key.removeprefix(CUSTOM_ATTRIBUTE), column)
            for key, column in values.items()
            if key.startswith(CUSTOM_ATTRIBUTE)
        ]
        self.owner = get("opportunity.owner_email")
        self.pipeline_id = pipeline_id
        self.reject_unlinked = mapping.options.unlinked_deals == "reject"
        self.written_currency = get(CELL_CURRENCY)
        self.company_written = get(COMPANY_CELL_CURRENCY)
        self.currency = get("opportunity.currency")
        self.default_currency = mapping.options.currency
        self.rates = mapping.currency_rates
        self.row_rates = get("opportunity.exchange_rate")
        self.home_currency = mapping.options.home_currency
        #: No currency column, and dollars by default: a cell with no currency is dollars.
        self.plain_dollars = self.currency is None and self.default_currency == TARGET_CURRENCY

    def _company_amount(
        self, i: int, amount: Any, body: dict[str, Any], verdict: RowVerdict
    ) -> None:
        """An amount the export already gives in the company's currency (options.currency),
        unless its cell writes another (``£1,100``): then in that one."""
        _number(body, "deal_size", amount, float, verdict)
        value = body.get("deal_size")
        if value is not None and not 0 <= value <= MAX_SAFE_INTEGER:
            # (checked here, where its column is known: the body's check would name
            # deal_size's column)
            del body["deal_size"]
            why = value > 0 and _out_of_bounds("opportunity.deal_size", "less_than_equal", value)
            verdict.warnings.append(
                f"opportunity.company_amount ({self.company_source}): "
                + (why or f"{value!r} is negative, and Octolane takes no negative deal value")
                + "; the field was left out"
            )
            return
        written = self.company_written[i] if self.company_written is not None else None
        code, why = settle_currency(written, None, self.default_currency)
        self._in_dollars(body, verdict, code, why)

    def _deal_size(self, i: int, body: dict[str, Any], verdict: RowVerdict) -> None:
        """The row's amount in the currency its cell, its currency column or the options say."""
        assert self.deal_size is not None
        amount = self.deal_size[i]
        if type(amount) is float:  # what the money transform gives: kept as it is
            body["deal_size"] = amount
        else:
            _number(body, "deal_size", amount, float, verdict)
        written = self.written_currency[i] if self.written_currency is not None else None
        stated = self.currency[i] if self.currency is not None else None
        if written is None and stated is None and self.default_currency == TARGET_CURRENCY:
            self._in_dollars(body, verdict, TARGET_CURRENCY, None)
            return  # the common cell: dollars already (rounded to cents)
        code: str | None
        why: str | None
        if stated == _UNREADABLE:
            code, why = None, "its currency column is not a currency code"
        else:
            code, why = settle_currency(written, stated, self.default_currency)
        row_rate = self.row_rates[i] if self.row_rates is not None else None
        self._in_dollars(body, verdict, code, why, row_rate)

    def _in_dollars(
        self,
        body: dict[str, Any],
        verdict: RowVerdict,
        code: str | None,
        why: str | None,
        row_rate: Any = None,
    ) -> None:
        """``body``'s deal_size in US dollars: converted at the user's rate (or the row's
        own against a home currency in dollars or with a rate), or withheld with a
        warning that names the amount and its currency (or why it has none). The amount
        has every decimal its cell wrote: only the dollars it ends in are rounded to cents."""
        amount = body.get("deal_size")
        if amount is None:
            return
        if code == TARGET_CURRENCY:
            body["deal_size"] = _cents(amount)
            return
        del body["deal_size"]
        verdict.amount = "withheld"
        if code is None:
            verdict.warnings.append(
                f"opportunity.deal_size: {_money(amount)} was left out: {why}; Octolane takes"
                " US dollars"
            )
            return
        rate = self.rates.get(code)
        if rate is None and row_rate and self.home_currency is not None:
            home = self.home_currency
            per_home = 1.0 if home == TARGET_CURRENCY else self.rates.get(home)
            if per_home is not None and isinstance(row_rate, float) and row_rate > 0:
                dollars = to_dollars(
                    Decimal(repr(amount)) / Decimal(repr(row_rate)) * Decimal(repr(per_home))
                )
                body["deal_size"] = dollars
                verdict.amount = "converted"
                via = "" if home == TARGET_CURRENCY else f", and {home} at {per_home:.15g}"
                verdict.warnings.append(
                    f"opportunity.deal_size: {_money(amount)} {code} is {_money(dollars)} USD"
                    f" (the row's exchange rate {row_rate:.15g} {code} per {home}{via})"
                )
                return
        if rate is None:
            hint = (
                f"; the row's exchange rate ({row_rate:.15g} {code} per unit of your home"
                " currency) is used where options.home_currency names that currency"
                if isinstance(row_rate, float) and row_rate > 0 and self.home_currency is None
                else f"; the row's exchange rate, {row_rate:.15g}, is no rate (it must be above 0)"
                if isinstance(row_rate, float) and not row_rate > 0
                else ""
            )
            verdict.warnings.append(
                f"opportunity.deal_size: {_money(amount)} {code} was left out: Octolane takes"
                f" US dollars and no rate for {code} was given (currency_rates: {{{code}: <US"
                f" dollars per {code}>}} in the mapping, or --rates FILE){hint}"
            )
            return
        dollars = to_dollars(Decimal(repr(amount)) * Decimal(repr(rate)))
        body["deal_size"] = dollars
        verdict.amount = "converted"
        verdict.warnings.append(
            f"opportunity.deal_size: {_money(amount)} {code} is {_money(dollars)} USD"
            f" (rate {rate:.15g} from currency_rates)"
        )

    def _has_value(self, i: int, verdict: RowVerdict) -> bool:
        """Whether any of the deal's own cells of row ``i`` holds something: a value, or
        one left out with a warning (the row has a deal, told what it lost)."""
        columns: list[list[Any] | None] = [c for _, c in (*self.text, *self.dates, *self.custom)]
        columns += [self.stage, self.deal_size, self.company_amount, self.owner, self.extra]
        return any(c is not None and c[i] is not None for c in columns) or any(
            w.startswith("opportunity.") for w in verdict.warnings
        )

    def payload(self, i: int, verdict: RowVerdict) -> dict[str, Any] | None:
        body: dict[str, Any] = {}
        for name, column in self.text:
            text = column[i]
            if text is not None:
                body[name] = text if type(text) is str else str(text)
        label = body.get("stage_name")
        stages = self.stages
        if label is not None and stages is not None and stages.names_known:
            stage = stages.by_key.get(stage_key(label))
            if stage is None:  # the server refuses it too
                known = ", ".join(repr(s.label) for s in stages.by_key.values())
                verdict.errors.append(
                    FieldError("opportunity.stage_name", self.stage_name_source,
                               f"{label!r} is not a stage of the pipeline (its stages: {known})")
                )  # fmt: skip
                return None
            if stage.label != label:
                # The pipeline's own spelling: Octolane's matching of a name is undocumented
                # (the sandbox ignores case alone), so what was matched here is what is sent.
                body["stage_name"] = stage.label
                verdict.warnings.append(
                    f"opportunity.stage_name: {label!r} is sent as {stage.label!r}, the"
                    " pipeline's stage of that name"
                )
        if self.stage is not None and self.stages is not None:
            label = "" if self.stage[i] is None else str(self.stage[i])  # (empty: said too)
            outcome = self.stages.resolve(label)
            verdict.stage = (label, outcome.shown)
            if outcome.error is not None:
                verdict.errors.append(
                    FieldError("opportunity.stage", self.stage_source, outcome.error)
                )
                return None
            if outcome.stage_id is not None:
                body["stage_id"] = outcome.stage_id
            if outcome.warning is not None:
                verdict.warnings.append(outcome.warning)
        company = self.company_amount[i] if self.company_amount is not None else None
        if company is not None:
            self._company_amount(i, company, body, verdict)
        elif self.deal_size is not None:
            amount = self.deal_size[i]
            if amount is None:
                pass
            elif (
                self.plain_dollars
                and type(amount) is float
                and (self.written_currency is None or self.written_currency[i] is None)
            ):
                # the common cell: dollars, rounded to cents (the transform keeps every decimal)
                body["deal_size"] = _cents(amount)
            else:
                self._deal_size(i, body, verdict)
        if self.custom:
            attributes = {
                name: value if type(value) in (str, int, float, bool) else str(value)
                for name, column in self.custom
                if (value := column[i]) is not None
            }
            if attributes:
                body["custom_attributes"] = attributes
        for name, column in self.dates:
            day = column[i]
            if type(day) is int:  # what the date transform gives
                body[name] = day
            elif day is not None:
                _number(body, name, day, int, verdict)
        if not body and verdict.stage is None and not self._has_value(i, verdict):
            return None  # no deal cell of the row holds anything: the row has no deal
        related: dict[str, Any] = related_objects(verdict.domain, verdict.email)
        extra = self.extra[i] if self.extra is not None else None
        if extra:
            emails = [extra] if isinstance(extra, str) else extra
            emails = list(dict.fromkeys(e for e in emails if e and e != verdict.email))
            if emails:
                related["additional_contact_emails"] = emails
        owner = self.owner[i] if self.owner is not None else None
        if owner:
            related["owner_email"] = owner[0] if type(owner) is list else owner
        if not related.get("account_domain") and not body.get("name"):
            # Octolane derives a deal's name from its account's domain; with neither it
            # answers 400 (API.md §1.3): refused here first, in the same words.
            verdict.errors.append(FieldError("opportunity.name", "row", _NAME_OR_DOMAIN))
            return None
        if not (
            related.get("account_domain")
            or related.get("primary_contact_email")
            or related.get("additional_contact_emails")
        ):
            if self.reject_unlinked:
                verdict.errors.append(FieldError("opportunity", "row", _UNLINKED_REJECTED))
                return None
            verdict.warnings.append(_UNLINKED)
        elif not related.get("account_domain"):
            verdict.warnings.append(_CONTACTS_ONLY)
        return {"pipeline_id": self.pipeline_id, "opportunity": body, "related_objects": related}


def _number(body: dict, name: str, value: Any, kind: type, verdict: RowVerdict) -> None:
    # A transform such as `lookup` may hand over text: a number or a warning, never a crash.
    try:
        body[name] = kind(value)
    except (TypeError, ValueError):
        verdict.warnings.append(
            f"opportunity.{name}: {value!r} is not a number; the field was left out"
        )


class _NoteColumns:
    def __init__(self, values: dict[str, list[Any]], nothing: list) -> None:
        self.titles = values.get("note.title", nothing)
        self.contents = values.get("note.content", nothing)
        self.people = values.get("note.contact_emails")

    def payload(self, i: int, verdict: RowVerdict) -> dict[str, Any] | None:
        title = self.titles[i]
        if title is None:
            return None
        body: dict[str, Any] = {"title": str(title)}
        if self.contents[i] is not None:
            body["content"] = str(self.contents[i])
        note: dict[str, Any] = {"note": body}
        if verdict.domain:
            note["account_domains"] = [verdict.domain]
        emails = [verdict.email] if verdict.email else []
        people = self.people[i] if self.people is not None else None
        if people:
            emails += [people] if isinstance(people, str) else [e for e in people if e]
        if emails:
            note["contact_emails"] = list(dict.fromkeys(emails))
        if len(note) == 1:
            verdict.errors.append(
                FieldError("note", "row", "has no company domain or contact email to attach it to")
            )
            return None
        return note


def _check_models(verdicts: list[RowVerdict], bound: BoundMapping) -> None:
    """Check every payload part with the API models, each distinct part once per run.

    A part that passed is remembered in ``bound.checked``, so a contact or a
    deal's related objects met again on a later row cost a set lookup. A part
    that failed is checked again when met again: failures are rare, and their
    errors must land on every row that has them. Deal bodies and notes are
    nearly always new, so they are checked without remembering. (The deal's
    pipeline id is one value for the whole run, checked up front.)

    Companies and people are checked first: a deal or note of a row whose
    company or person was rejected is held back (:func:`_hold_back`) before
    the deals and notes are checked.
    """
    for part, adapter in _CHECKS.items():
        if part == "opportunity.opportunity":
            for verdict in compress(verdicts, map(_ERRORS, verdicts)):
                _hold_back(verdict)
        obj, _, sub = part.partition(".")
        # The rows with this part, and their parts, picked at C speed.
        payloads = list(map(_PARTS[obj], verdicts))
        if payloads.count(None) == len(payloads):
            continue
        present = list(map(is_not, payloads, repeat(None)))
        rows = list(compress(verdicts, present))
        items = list(compress(payloads, present))
        if sub:
            items = list(map(itemgetter(sub), items))
        if part == "opportunity.related_objects":
            rows, items = _not_covered(rows, items)
            if not rows:
                continue
        key_of = _KEYS.get(part)
        if key_of is None:  # nearly always new: checked all at once, grouped only on failure
            try:
                adapter.validate_python(items)
            except ValidationError as exc:
                _apply_errors(exc, [[i] for i in range(len(items))], rows, obj, sub, bound)
            continue
        checked = bound.checked.setdefault(part, set())
        groups, keys = _distinct_unchecked(checked, key_of(items))
        if not groups:
            continue
        try:
            adapter.validate_python([items[g[0]] for g in groups])
        except ValidationError as exc:
            failed = _apply_errors(exc, groups, rows, obj, sub, bound)
        else:
            failed = set()
        if len(checked) > _CHECKED_MAX:  # a file of mostly new contacts: bound the memory
            checked.clear()
        checked.update(k for n, k in enumerate(keys) if n not in failed)
    for verdict in compress(verdicts, map(_ERRORS, verdicts)):
        if verdict.note is not None:  # a deal the models rejected holds the note back
            _hold_back(verdict)
        _settle(verdict)


_CHECKED_MAX = 50_000
_ERRORS = attrgetter("errors")
_PARTS = {name: attrgetter(name) for name in ("account", "contact", "opportunity", "note")}


def _not_covered(
    rows: list[RowVerdict], items: list[dict[str, Any]]
) -> tuple[list[RowVerdict], list[dict[str, Any]]]:
    """The deals' related objects that the row's account and contact checks do not cover.

    A deal's ``account_domain`` is its row's account domain and its
    ``primary_contact_email`` its row's contact email, checked by the same rules a
    moment before: where the row came through those checks with no error and names
    nothing else, its related objects are valid already.
    """
    kept_rows, kept = [], []
    for verdict, related in zip(rows, items, strict=True):
        if len(related) == 2 and not verdict.errors:
            # the usual deal: its row's company and person, nothing else
            account, contact = verdict.account, verdict.contact
            if (
                account is not None
                and contact is not None
                and related.get("account_domain") == account["domain"]
                and related.get("primary_contact_email") == contact["email"]
            ):
                continue
        if not verdict.errors and len(related) <= 2:
            account, contact = verdict.account, verdict.contact
            domain = related.get("account_domain")
            email = related.get("primary_contact_email")
            if (
                len(related) == (domain is not None) + (email is not None)
                and (domain is None or (account is not None and account["domain"] == domain))
                and (email is None or (contact is not None and contact["email"] == email))
            ):
                continue
        kept_rows.append(verdict)
        kept.append(related)
    return kept_rows, kept


def _related_key(related: dict[str, Any]) -> Any:
    extra = related.get("additional_contact_emails")
    if extra is None:
        return tuple(related.items())  # names and values: a domain is not an email
    return tuple((k, tuple(v) if type(v) is list else v) for k, v in related.items())


# How a payload part is remembered as checked (keys of a batch's items, in one
# comprehension each); parts not listed are always checked.
_KEYS: dict[str, Callable[[list[Any]], list[Any]]] = {
    "account": lambda items: [(p["domain"], p.get("name")) for p in items],
    "contact": lambda items: [
        (p["email"], p.get("first_name"), p.get("last_name"))
        if len(p) < 4
        else tuple(sorted(p.items()))
        for p in items
    ],
    "opportunity.related_objects": lambda items: [
        tuple(r.items()) if "additional_contact_emails" not in r else _related_key(r) for r in items
    ],
}


def _distinct_unchecked(checked: set, keys: list[Any]) -> tuple[list[list[int]], list[Any]]:
    """Positions of the items not yet known valid, grouped by identical item."""
    if checked.issuperset(keys):  # a batch of known companies, people, links: the usual case
        return [], []
    groups: dict[Any, list[int]] = {}
    for i, key in enumerate(keys):
        if key not in checked:
            group = groups.get(key)
            if group is None:
                groups[key] = [i]
            else:
                group.append(i)
    return list(groups.values()), list(groups)


def _apply_errors(
    exc: ValidationError,
    groups: list[list[int]],
    owners: list[RowVerdict],
    obj: str,
    sub: str | None,
    bound: BoundMapping,
) -> set[int]:
    """Put each validation error on every row of its group; return the failed groups."""
    failed: set[int] = set()
    touched = []
    for error in exc.errors(include_url=False):
        index, *rest = error["loc"]
        failed.add(int(index))
        loc = tuple(str(p) for p in ([sub] if sub else []) + rest)
        for position in groups[int(index)]:
            verdict = owners[position]
            _apply_model_error(verdict, obj, loc, error, bound)
            touched.append(verdict)
    for verdict in touched:
        _compact(getattr(verdict, obj))
    return failed


def _apply_model_error(
    verdict: RowVerdict, obj: str, loc: tuple[str, ...], error: ErrorDetails, bound: BoundMapping
) -> None:
    path = [p for p in loc if not p.isdigit()]
    field = _field_key(obj, path)
    reader = bound.readers.get(field)
    source = reader.label if reader else "row"
    shown = error.get("input")
    message = _FRIENDLY.get(error["type"], error["msg"].lower())
    if error["type"] == "string_pattern_mismatch":
        message = _PATTERN_MESSAGES.get(path[-1] if path else "", message)
    if error["type"] == "string_too_long" and isinstance(shown, str):
        limit = (error.get("ctx") or {}).get("max_length")
        message = f"is {len(shown):,} characters long; Octolane takes at most {limit:,}"
    text = f"{_clipped(shown)} {message}" if isinstance(shown, str | int | float) else message
    if error["type"] in _BOUNDS and isinstance(shown, int | float):
        text = _out_of_bounds(field, error["type"], shown) or text
    required = tuple(path) in _REQUIRED_LOCS[obj]
    payload = getattr(verdict, obj)
    if not required and obj == "opportunity" and path == ["opportunity", "name"] and payload:
        # Octolane names a deal after its company; with no company domain the name is
        # all the deal has, and a deal left without it is refused (as the server does)
        required = not (payload.get("related_objects") or {}).get("account_domain")
        text += " (a deal with no company domain needs its name)" if required else ""
    if required:
        verdict.errors.append(FieldError(field, source, text))
        setattr(verdict, obj, None)  # the record is rejected; the row's others stand
        return
    if payload is None:  # rejected by an earlier error of the same record
        return
    _drop(payload, loc)
    verdict.warnings.append(f"{field} ({source}): {text}; the field was left out")


_BOUNDS = frozenset({"greater_than_equal", "less_than_equal"})


def _out_of_bounds(field: str, kind: str, value: int | float) -> str | None:
    """Why a date or an amount beyond what Octolane takes is left out, in the user's terms."""
    if field in ("opportunity.close_date", "opportunity.next_action_date"):
        try:
            day = datetime.datetime.fromtimestamp(value / 1000, datetime.UTC).date().isoformat()
        except (OverflowError, OSError, ValueError):
            day = str(value)
        if kind == "greater_than_equal":
            return (
                f"{day!r} is before 1973-03-03 09:46:40 UTC (10^11 milliseconds): Octolane's"
                " Inbound API reads a time that early as seconds, not milliseconds, and"
                " refuses it"
            )
        return f"{day!r} is after 2099: Octolane does not take dates that far ahead"
    if field == "opportunity.deal_size" and kind == "less_than_equal":
        return (
            f"{value:,.0f} is more than Octolane takes (at most {MAX_SAFE_INTEGER:,}: a larger"
            " number loses digits on the way)"
        )
    return None


def _clipped(value: str | int | float, keep: int = 60) -> str:
    """``value`` quoted, its middle cut when it is long: a message names a value, it
    does not carry a 70 KB note."""
    if not isinstance(value, str) or len(value) <= keep + 20:
        return repr(value)
    return repr(f"{value[: keep // 2]}…{value[-(keep // 2) :]}")


def _field_key(obj: str, path: list[str]) -> str:
    if obj == "opportunity" and len(path) >= 2:
        return f"opportunity.{path[1]}"
    if obj == "note" and len(path) >= 2:
        return f"note.{path[1]}"
    return f"{obj}.{path[0]}" if path else obj


def _drop(payload: dict, loc: tuple) -> None:
    *parents, last = loc
    target: Any = payload
    for part in parents:
        target = target[int(part)] if part.isdigit() else target.get(part, {})
    if isinstance(target, list):
        # Blank it now, remove it in _compact: other errors of the row index the same list.
        if int(last) < len(target):
            target[int(last)] = None
    elif isinstance(target, dict):
        target.pop(last, None)


def _compact(payload: dict | None) -> None:
    """Remove list items blanked by _drop, and lists left empty."""
    if not payload:
        return
    for part in list(payload.values()):
        if isinstance(part, dict):
            _compact(part)
    for key, value in list(payload.items()):
        if isinstance(value, list):
            kept = [v for v in value if v is not None]
            if kept:
                payload[key] = kept
            else:
                del payload[key]
