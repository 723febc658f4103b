"""Rows of text → the Inbound API payloads of each row, or a rejection.

A row with any invalid required field is rejected whole, with every bad field
named; nothing of it is sent. An invalid optional value (an amount that is not
a number, an owner email that is not an address) drops that field and becomes
a warning on the row. Every payload is checked against the pydantic models of
:mod:`importer.models`, a batch at a time, so what would earn a 400 is caught
here.

This module does no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import TypeAdapter, ValidationError

from importer.mapping import BoundMapping
from importer.models import AccountPayload, ContactPayload, NotePayload, OpportunityPayload
from importer.transforms import email_domain, is_personal_domain

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

    ``errors`` non-empty means the row is rejected. Otherwise the payload
    fragments say what the row feeds: ``account`` / ``contact`` / ``note`` are
    full request bodies; ``opportunity`` is the full body too.
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

    @property
    def valid(self) -> bool:
        return not self.errors


_ADAPTERS = {
    "account": TypeAdapter(list[AccountPayload]),
    "contact": TypeAdapter(list[ContactPayload]),
    "opportunity": TypeAdapter(list[OpportunityPayload]),
    "note": TypeAdapter(list[NotePayload]),
}
# Fields whose bad value sinks the row; any other bad value is dropped with a warning.
_REQUIRED_LOCS = {
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
    "note": {("note",), ("note", "title")},
}
_FRIENDLY = {
    "string_pattern_mismatch": "is not valid here",
    "string_too_long": "is too long",
    "string_too_short": "is empty",
}


def validate_batch(
    bound: BoundMapping,
    row_numbers: Sequence[int],
    rows: Sequence[Sequence[str]],
    *,
    pipeline_id: str | None = None,
) -> list[RowVerdict]:
    """Validate a batch of rows against a bound mapping.

    Args:
        bound: the mapping, bound to the input's columns.
        row_numbers: the spreadsheet row number of each row.
        rows: the cells of each row, as text.
        pipeline_id: the target pipeline, required when the mapping has an
            ``opportunity`` section (checked by the caller up front).
    """
    values: dict[str, list[Any]] = {}
    failures: dict[str, dict[int, str]] = {}
    for key, reader in bound.readers.items():
        values[key], failures[key] = reader.read(rows)
    options = bound.mapping.options
    objects = bound.objects
    verdicts = []
    for i, row in enumerate(row_numbers):
        verdict = RowVerdict(row)
        got = _RowValues(bound, values, failures, i, verdict)
        _assemble(verdict, got, objects, options, pipeline_id)
        verdicts.append(verdict)
    _check_models(verdicts, bound)
    return verdicts


class _RowValues:
    """One row's mapped values; a transform failure becomes an error or a warning."""

    __slots__ = ("bound", "failures", "i", "values", "verdict")

    def __init__(self, bound, values, failures, i, verdict) -> None:
        self.bound, self.values, self.failures, self.i, self.verdict = (
            bound,
            values,
            failures,
            i,
            verdict,
        )

    def get(self, key: str) -> Any:
        column = self.values.get(key)
        if column is None:
            return None
        problem = self.failures[key].get(self.i)
        if problem is None:
            return column[self.i]
        reader = self.bound.readers[key]
        if reader.required:
            self.verdict.errors.append(FieldError(key, reader.label, problem))
        else:
            self.verdict.warnings.append(
                f"{key} ({reader.label}): {problem}; the field was left out"
            )
        return None

    def require(self, key: str, why: str) -> Any:
        value = self.get(key)
        reader = self.bound.readers.get(key)
        failed = self.i in self.failures.get(key, ())
        if value is None and reader is not None and reader.required and not failed:
            self.verdict.errors.append(FieldError(key, reader.label, f"is empty: {why}"))
        return value


def _assemble(verdict: RowVerdict, got: _RowValues, objects, options, pipeline_id) -> None:
    email = None
    if "contact" in objects:
        email = got.require("contact.email", "Octolane identifies people by email address")
        if isinstance(email, list):
            email = email[0] if email else None
    domain = None
    if "account" in objects:
        domain = got.require("account.domain", "Octolane identifies companies by domain")
    if domain is None and email and options.account_domain_from_email:
        domain = email_domain(email)
    personal = (
        domain is not None and options.personal_domains == "skip" and is_personal_domain(domain)
    )
    verdict.email, verdict.domain = email, (None if personal else domain)
    if verdict.errors:
        return
    if personal and "account" in objects:
        verdict.warnings.append(
            f"{domain} is a personal email domain: no account is created for it"
        )
    if "account" in objects and verdict.domain:
        verdict.account = {"domain": verdict.domain}
    if "contact" in objects and email:
        contact = {"email": email}
        for name in ("first_name", "last_name"):
            value = got.get(f"contact.{name}")
            if value is not None:
                contact[name] = str(value)
        verdict.contact = contact
    if "opportunity" in objects:
        verdict.opportunity = _opportunity(verdict, got, pipeline_id)
    if "note" in objects:
        verdict.note = _note(verdict, got)
    if not verdict.errors and not any(
        (verdict.account, verdict.contact, verdict.opportunity, verdict.note)
    ):
        verdict.skipped = (
            f"{domain} is a personal email domain and the row has nothing else to import"
            if personal
            else "the row has no email address or company domain to import"
        )


def _opportunity(verdict: RowVerdict, got: _RowValues, pipeline_id: str | None) -> dict | None:
    body: dict[str, Any] = {}
    for name in ("name", "stage_id", "next_step"):
        value = got.get(f"opportunity.{name}")
        if value is not None:
            body[name] = str(value)
    deal_size = got.get("opportunity.deal_size")
    if deal_size is not None:
        body["deal_size"] = float(deal_size)
    for name in ("close_date", "next_action_date"):
        value = got.get(f"opportunity.{name}")
        if value is not None:
            body[name] = int(value)
    related: dict[str, Any] = {}
    if verdict.domain:
        related["account_domain"] = verdict.domain
    if verdict.email:
        related["primary_contact_email"] = verdict.email
    extra = got.get("opportunity.additional_contact_emails")
    if extra:
        emails = [extra] if isinstance(extra, str) else list(extra)
        emails = list(dict.fromkeys(e for e in emails if e and e != verdict.email))
        if emails:
            related["additional_contact_emails"] = emails
    owner = got.get("opportunity.owner_email")
    if owner:
        related["owner_email"] = owner[0] if isinstance(owner, list) else owner
    if (
        not verdict.domain
        and not related.get("primary_contact_email")
        and not related.get("additional_contact_emails")
    ):
        verdict.errors.append(
            FieldError(
                "opportunity",
                "row",
                "has no company domain or contact email to attach the deal to",
            )
        )
        return None
    return {"pipeline_id": pipeline_id, "opportunity": body, "related_objects": related}


def _note(verdict: RowVerdict, got: _RowValues) -> dict | None:
    title = got.require("note.title", "a note needs a title")
    if title is None:
        return None
    body: dict[str, Any] = {"title": str(title)}
    content = got.get("note.content")
    if content is not None:
        body["content"] = str(content)
    note: dict[str, Any] = {"note": body}
    if verdict.domain:
        note["account_domains"] = [verdict.domain]
    if verdict.email:
        note["contact_emails"] = [verdict.email]
    if len(note) == 1:
        verdict.errors.append(
            FieldError("note", "row", "has no company domain or contact email to attach it to")
        )
        return None
    return note


def _check_models(verdicts: list[RowVerdict], bound: BoundMapping) -> None:
    """Validate every payload with the API models; errors land on their rows."""
    for obj, adapter in _ADAPTERS.items():
        owners = [v for v in verdicts if v.valid and getattr(v, obj) is not None]
        if not owners:
            continue
        try:
            adapter.validate_python([getattr(v, obj) for v in owners])
        except ValidationError as exc:
            touched = []
            for error in exc.errors(include_url=False):
                index, *loc = error["loc"]
                verdict = owners[int(index)]
                _apply_model_error(verdict, obj, tuple(str(p) for p in loc), error, bound)
                touched.append(verdict)
            for verdict in touched:
                _compact(getattr(verdict, obj))


def _apply_model_error(verdict: RowVerdict, obj: str, loc: tuple, error: dict, bound) -> None:
    path = [p for p in loc if not p.isdigit()]
    field = _field_key(obj, path)
    reader = bound.readers.get(field)
    source = reader.label if reader else "row"
    shown = error.get("input")
    message = _FRIENDLY.get(error["type"], error["msg"].lower())
    text = f"{shown!r} {message}" if isinstance(shown, str | int | float) else message
    required = tuple(path) in _REQUIRED_LOCS[obj]
    if required:
        verdict.errors.append(FieldError(field, source, text))
        return
    _drop(getattr(verdict, obj), loc)
    verdict.warnings.append(f"{field} ({source}): {text}; the field was left out")


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
