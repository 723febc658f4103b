"""Request-body checks for the public API's creates, written from its OpenAPI spec
(API.md §2.2-2.3), like :mod:`importer.sandbox.validation` is for the inbound API.

The public schemas are open (unknown keys are accepted and ignored) except where the
spec closes them: ``related_objects`` and ``note``. Deal dates are Unix **seconds**
here; they are returned in milliseconds, as the store keeps every date. Each
``check_*`` raises :class:`InvalidBody` naming every bad field at once; ``"body"``
names the item itself (an item that is not an object).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from importer.sandbox.config import Behaviour
from importer.sandbox.store import ContactProfile
from importer.sandbox.validation import InvalidBody, NoteInput, _Fields, _label

__all__ = [
    "MAX_SECONDS",
    "PublicAccount",
    "PublicContact",
    "PublicDeal",
    "check_fast_bulk_opportunity",
    "check_public_account",
    "check_public_contact",
    "check_public_note",
    "check_public_opportunity",
]

#: The largest date the sandbox takes in Unix seconds: 2100-01-01T00:00:00Z.
MAX_SECONDS = 4_102_444_800
_PROFILE_KEYS = ("first_name", "last_name", "job_title", "phone", "linkedin")
_RELATED_KEYS = frozenset(
    {
        "account_domain",
        "primary_contact_email",
        "additional_contact_emails",
        "owner_email",
        "owner_id",
    }
)
_FAST_RELATED_KEYS = frozenset(
    {"account", "primary_contact", "additional_contacts", "owner_email", "owner_id"}
)
_NOTE_KEYS = frozenset({"title", "content"})
T = TypeVar("T")
_NO_PROFILE = ContactProfile()


@dataclass(frozen=True, slots=True)
class PublicAccount:
    domain: str
    name: str | None = None


@dataclass(frozen=True, slots=True)
class PublicContact:
    email: str
    profile: ContactProfile = _NO_PROFILE


@dataclass(frozen=True, slots=True)
class PublicDeal:
    """An ``OpportunityInput`` or a ``FastBulkOpportunityInput``; dates in milliseconds."""

    pipeline_id: str | None
    pipeline_name: str | None
    name: str | None
    stage_id: str | None
    stage_name: str | None
    deal_size: int | float | None
    close_date: int | None
    next_action_date: int | None
    next_step: str | None
    custom_attributes: dict[str, Any] | None
    account: PublicAccount | None
    primary: PublicContact | None
    additional: tuple[PublicContact, ...]
    owner_email: str | None
    owner_id: str | None


def _start(body: Any, rules: Behaviour) -> tuple[_Fields, dict[str, Any]]:
    if not isinstance(body, dict):
        raise InvalidBody({"body": "Each item must be a JSON object"})
    return _Fields({}, rules), body


def _done(f: _Fields) -> None:
    if f.errors:
        raise InvalidBody(f.errors)


def _object(
    f: _Fields, body: dict, key: str, path: str, *, closed: frozenset[str] | None = None
) -> dict[str, Any] | None:
    """``body[key]``, required to be an object; ``closed``: the only keys it may have."""
    value = body.get(key)
    if not isinstance(value, dict):
        f.fail(path, f"{_label(path)} {'is required' if value is None else 'must be an object'}")
        return None
    for unknown in sorted(value.keys() - closed if closed is not None else ()):
        f.fail(f"{path}.{unknown}", f"Unknown field {unknown!r} (not allowed here)")
    return value


def _nested(f: _Fields, value: Any, path: str, check: Callable[[Any, Behaviour], T]) -> T | None:
    """Check a nested input, its errors under ``path``."""
    try:
        return check(value, f.rules)
    except InvalidBody as exc:
        for key, message in exc.errors.items():
            f.fail(path if key == "body" else f"{path}.{key}", message)
        return None


def _seconds(f: _Fields, body: dict, key: str, path: str) -> int | None:
    """A Unix timestamp in seconds, as milliseconds."""
    value = body.get(key)
    if value is None:
        return None
    label = _label(path)
    if isinstance(value, bool) or not isinstance(value, int | float):
        f.fail(path, f"{label} must be a Unix timestamp in seconds (an integer)")
        return None
    if not float(value).is_integer() or value < 0:
        f.fail(path, f"{label} must be a whole, non-negative number of Unix seconds")
        return None
    if value > MAX_SECONDS:
        f.fail(
            path,
            f"{label} must be in Unix seconds on this API; {int(value)} is after 2100"
            " (milliseconds?)",
        )
        return None
    return int(value) * 1000


def _attributes(f: _Fields, value: Any, path: str) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        f.fail(path, "Custom attributes must be an object")
        return None
    for key, item in value.items():
        if item is not None and not isinstance(item, str | int | float):
            f.fail(f"{path}.{key}", "A custom attribute must be a string, number, boolean or null")
    return dict(value)


def check_public_account(body: Any, rules: Behaviour) -> PublicAccount:
    """``AccountInput``: ``domain`` required, ``name`` kept, other keys ignored."""
    f, body = _start(body, rules)
    domain = f.domain(body.get("domain"), "domain", required=True)
    name = f.text(body, "name", "name")
    _done(f)
    return PublicAccount(domain or "", name)


def check_public_contact(body: Any, rules: Behaviour) -> PublicContact:
    """``ContactInput``: ``email`` required; names, job title, phone, LinkedIn kept."""
    f, body = _start(body, rules)
    email = f.email(body.get("email"), "email", required=True)
    profile = ContactProfile(*(f.text(body, key, key) for key in _PROFILE_KEYS))
    _done(f)
    return PublicContact(email or "", profile)


def _deal_fields(f: _Fields, deal: dict[str, Any]) -> dict[str, Any]:
    """``OpportunityFields`` (open: other keys are ignored)."""
    return {
        "name": f.text(deal, "name", "opportunity.name"),
        "stage_id": f.uuid(deal, "stage_id", "opportunity.stage_id"),
        "stage_name": f.text(deal, "stage_name", "opportunity.stage_name"),
        "deal_size": f.number(deal, "deal_size", "opportunity.deal_size"),
        "close_date": _seconds(f, deal, "close_date", "opportunity.close_date"),
        "next_action_date": _seconds(f, deal, "next_action_date", "opportunity.next_action_date"),
        "next_step": f.text(deal, "next_steps", "opportunity.next_steps", long=True),
        "custom_attributes": _attributes(
            f, deal.get("custom_attributes"), "opportunity.custom_attributes"
        ),
    }


def _others(primary: PublicContact | None, contacts: Any) -> tuple[PublicContact, ...]:
    """Additional contacts without the primary one and without repeats."""
    seen = {primary.email} if primary else set()
    kept = []
    for contact in contacts:
        if contact is not None and contact.email not in seen:
            seen.add(contact.email)
            kept.append(contact)
    return tuple(kept)


def _needs_name(f: _Fields, fields: dict[str, Any], has_account: bool, account: str) -> None:
    """A deal needs a name, or an account to derive one from (as on the inbound API)."""
    blocking = {"opportunity", "related_objects", "opportunity.name", f"related_objects.{account}"}
    if fields["name"] is None and not has_account and not any(k in blocking for k in f.errors):
        f.fail("opportunity.name", f"Name is required when related_objects.{account} is not given")


def check_public_opportunity(body: Any, rules: Behaviour) -> PublicDeal:
    """``OpportunityInput``: ``pipeline_id``, ``opportunity`` and ``related_objects``
    (closed) required; a deal with neither a name nor an account domain is a 400."""
    f, body = _start(body, rules)
    pipeline_id = f.uuid(body, "pipeline_id", "pipeline_id", required=True)
    deal = _object(f, body, "opportunity", "opportunity") or {}
    related = _object(f, body, "related_objects", "related_objects", closed=_RELATED_KEYS) or {}
    fields = _deal_fields(f, deal)
    where = "related_objects."
    domain = f.domain(related.get("account_domain"), where + "account_domain")
    email = f.email(related.get("primary_contact_email"), where + "primary_contact_email")
    emails = f.many(
        related, "additional_contact_emails", where + "additional_contact_emails", f.email
    )
    owner_email = f.email(related.get("owner_email"), where + "owner_email")
    owner_id = f.uuid(related, "owner_id", where + "owner_id")
    _needs_name(f, fields, domain is not None, "account_domain")
    _done(f)
    primary = PublicContact(email) if email else None
    return PublicDeal(
        pipeline_id=pipeline_id,
        pipeline_name=None,
        **fields,
        account=PublicAccount(domain) if domain else None,
        primary=primary,
        additional=_others(primary, (PublicContact(e) for e in emails)),
        owner_email=owner_email,
        owner_id=owner_id,
    )


def check_fast_bulk_opportunity(body: Any, rules: Behaviour) -> PublicDeal:
    """``FastBulkOpportunityInput``: ``opportunity`` and ``related_objects`` (closed, with
    nested ``account``, ``primary_contact``, ``additional_contacts``) required;
    ``pipeline_id`` or ``pipeline_name`` optional (default: the org's first pipeline)."""
    f, body = _start(body, rules)
    pipeline_id = f.uuid(body, "pipeline_id", "pipeline_id")
    pipeline_name = f.text(body, "pipeline_name", "pipeline_name")
    deal = _object(f, body, "opportunity", "opportunity") or {}
    closed = _FAST_RELATED_KEYS
    related = _object(f, body, "related_objects", "related_objects", closed=closed) or {}
    fields = _deal_fields(f, deal)
    where = "related_objects."
    account = None
    if related.get("account") is not None:
        account = _nested(f, related["account"], where + "account", check_public_account)
    primary = None
    if related.get("primary_contact") is not None:
        path = where + "primary_contact"
        primary = _nested(f, related["primary_contact"], path, check_public_contact)
    others = related.get("additional_contacts")
    if others is not None and not isinstance(others, list):
        f.fail(where + "additional_contacts", "Additional contacts must be an array of contacts")
        others = None
    path = where + "additional_contacts"
    additional = [
        _nested(f, contact, f"{path}[{n}]", check_public_contact)
        for n, contact in enumerate(others or ())
    ]
    owner_email = f.email(related.get("owner_email"), where + "owner_email")
    owner_id = f.uuid(related, "owner_id", where + "owner_id")
    _needs_name(f, fields, related.get("account") is not None, "account")
    _done(f)
    return PublicDeal(
        pipeline_id=pipeline_id,
        pipeline_name=pipeline_name,
        **fields,
        account=account,
        primary=primary,
        additional=_others(primary, additional),
        owner_email=owner_email,
        owner_id=owner_id,
    )


def check_public_note(body: Any, rules: Behaviour) -> NoteInput:
    """``NoteInput``: ``note`` (closed) with ``title`` required; links optional."""
    f, body = _start(body, rules)
    note = _object(f, body, "note", "note", closed=_NOTE_KEYS)
    title = f.text(note, "title", "note.title", required=True) if note is not None else None
    content = f.text(note or {}, "content", "note.content", strip=False, long=True)
    domains = f.many(body, "account_domains", "account_domains", f.domain)
    emails = f.many(body, "contact_emails", "contact_emails", f.email)
    _done(f)
    return NoteInput(
        title=title or "", content=content, account_domains=domains, contact_emails=emails
    )
