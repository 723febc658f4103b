"""Request-body checks for the four inbound endpoints, written from API.md §1.

Deliberately independent of ``importer.api.models``: the sandbox is the referee of
the client's reading of the API, so it must not share that reading.

Each ``check_*`` function takes the decoded JSON body and returns a small
frozen record of normalised values, or raises :class:`InvalidBody` naming every
bad field at once (``{"opportunity.deal_size": "Deal size must be a number"}``).
Messages follow the one documented example: ``"Pipeline id must be a valid uuid"``.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

from importer.sandbox.config import Behaviour

__all__ = [
    "AccountInput",
    "ContactInput",
    "InvalidBody",
    "NoteInput",
    "OpportunityInput",
    "check_account",
    "check_contact",
    "check_note",
    "check_opportunity",
    "name_from_domain",
    "name_key",
    "normalise_domain",
    "normalise_email",
]

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_TLD = re.compile(r"[a-z]{2,63}|xn--[a-z0-9-]{1,59}")
_EMAIL_LOCAL = re.compile(r"[^\s@\"(),:;<>\[\]\\]{1,64}")
# Below 1e11 ms (1973-03-03) a timestamp is almost surely in seconds; at or
# above 1e14 ms (year 5138) almost surely in microseconds.
SECONDS_BELOW_MS = 100_000_000_000
MICROSECONDS_FROM_MS = 100_000_000_000_000
# The largest integer every JSON reader keeps exactly (and well inside SQLite's 64 bits).
MAX_SAFE_INTEGER = 2**53 - 1
# Second-level labels under which the company name is the third label (acme.co.uk).
_SECOND_LEVEL = frozenset({"co", "com", "org", "net", "ac", "gov", "edu", "ltd", "plc", "or", "ne"})

ACCOUNT_KEYS = frozenset({"domain"})
CONTACT_KEYS = frozenset({"email", "first_name", "last_name"})
OPPORTUNITY_KEYS = frozenset({"pipeline_id", "opportunity", "related_objects"})
DEAL_KEYS = frozenset(
    {"name", "stage_id", "deal_size", "close_date", "next_action_date", "next_step"}
)
RELATED_KEYS = frozenset(
    {"account_domain", "primary_contact_email", "additional_contact_emails", "owner_email"}
)
NOTE_KEYS = frozenset({"note", "account_domains", "contact_emails"})
NOTE_BODY_KEYS = frozenset({"title", "content"})


class InvalidBody(Exception):
    """The body breaks the documented rules; ``errors`` maps field path → message.

    ``message`` replaces the endpoint's usual 400 message; ``reason`` is what the
    tally counts the rejection as.
    """

    def __init__(
        self, errors: dict[str, str], message: str | None = None, reason: str = "invalid"
    ) -> None:
        super().__init__(errors)
        self.errors, self.message, self.reason = errors, message, reason


@dataclass(frozen=True, slots=True)
class AccountInput:
    domain: str


@dataclass(frozen=True, slots=True)
class ContactInput:
    email: str
    first_name: str | None
    last_name: str | None


@dataclass(frozen=True, slots=True)
class OpportunityInput:
    pipeline_id: str
    name: str | None
    stage_id: str | None
    deal_size: int | float | None
    close_date: int | None
    next_action_date: int | None
    next_step: str | None
    account_domain: str | None
    primary_contact_email: str | None
    additional_contact_emails: tuple[str, ...]
    owner_email: str | None


@dataclass(frozen=True, slots=True)
class NoteInput:
    title: str
    content: str | None
    account_domains: tuple[str, ...]
    contact_emails: tuple[str, ...]


# ---- normalisation ------------------------------------------------------------


@functools.lru_cache(maxsize=8192)  # a file names a few companies many times
def _valid_host(host: str) -> str | None:
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            return None
    labels = host.split(".")
    if len(labels) < 2 or len(host) > 253 or not _TLD.fullmatch(labels[-1]):
        return None
    return host if all(_LABEL.fullmatch(label) for label in labels) else None


def normalise_domain(raw: str) -> str | None:
    """``"HTTPS://www.Acme.com:443/about"`` → ``"acme.com"``; None if not a domain.

    Lower-cases and strips a scheme, path, query, port, a trailing dot and a
    leading ``www.`` (API.md §1.7 leaves normalisation open; this is our guess).
    """
    text = raw.strip().lower()
    if "://" in text:
        text = text.split("://", 1)[1]
    text = text.removeprefix("//")  # protocol-relative URL
    for stop in "/?#":
        text = text.split(stop, 1)[0]
    if "@" in text or text.startswith("["):
        return None  # an email or an IPv6 literal is not a company domain
    host, _, port = text.partition(":")
    if port and not port.isdigit():
        return None
    host = host.rstrip(".")
    if host.startswith("www."):
        host = host[4:]
    return _valid_host(host)


def normalise_email(raw: str) -> str | None:
    """Trimmed and lower-cased address, or None if it does not look like one."""
    text = raw.strip().lower()
    local, at, host = text.rpartition("@")
    if not at or len(text) > 254 or not _EMAIL_LOCAL.fullmatch(local):
        return None
    if local.startswith(".") or local.endswith(".") or ".." in local:
        return None
    return text if _valid_host(host) else None


def name_from_domain(domain: str) -> str:
    """The name the sandbox "enriches" from a domain: ``acme-corp.co.uk`` → ``Acme Corp``."""
    labels = domain.split(".")
    core = labels[-2]
    if len(labels) >= 3 and len(labels[-1]) == 2 and core in _SECOND_LEVEL:
        core = labels[-3]
    words = [w.capitalize() for w in core.split("-") if w]
    return " ".join(words) if words and not core.startswith("xn--") else domain


def name_key(name: str) -> str:
    """Deal names match case-insensitively with runs of spaces collapsed."""
    return " ".join(name.split()).casefold()


# ---- field checks -------------------------------------------------------------


def _label(path: str) -> str:
    """``"related_objects.owner_email"`` → ``"Owner email"``, as in the documented message."""
    last = path.rsplit(".", 1)[-1]
    return last.replace("_", " ").capitalize()


class _Fields:
    """Reads typed fields out of one JSON object, collecting every error."""

    def __init__(self, errors: dict[str, str], rules: Behaviour) -> None:
        self.errors = errors
        self.rules = rules

    def fail(self, path: str, message: str) -> None:
        self.errors.setdefault(path, message)

    def obj(self, body: dict[str, Any], key: str, path: str, allowed: frozenset[str]) -> dict:
        value = body.get(key)
        if value is None:
            self.fail(path, f"{_label(path)} is required")
            return {}
        if not isinstance(value, dict):
            self.fail(path, f"{_label(path)} must be an object")
            return {}
        self.unknown(value, allowed, f"{path}.")
        return value

    def unknown(self, body: dict[str, Any], allowed: frozenset[str], prefix: str = "") -> None:
        if self.rules.unknown_keys == "reject":
            for key in body.keys() - allowed:
                self.fail(f"{prefix}{key}", f"Unknown field {key!r}")

    def text(
        self,
        body: dict,
        key: str,
        path: str,
        *,
        required: bool = False,
        strip: bool = True,
        long: bool = False,
    ) -> str | None:
        value = body.get(key)
        if value is None:
            if required:
                self.fail(path, f"{_label(path)} is required")
            return None
        if not isinstance(value, str):
            self.fail(path, f"{_label(path)} must be a string")
            return None
        if not value.strip():
            if required:
                self.fail(path, f"{_label(path)} must not be blank")
            return None
        value = value.strip() if strip else value
        limit = self.rules.max_long_text if long else self.rules.max_short_text
        if len(value) > limit:
            self.fail(path, f"{_label(path)} must be at most {limit} characters")
        return value

    def email(self, value: Any, path: str, *, required: bool = False) -> str | None:
        return self._normalised(value, path, required, normalise_email, "a valid email")

    def domain(self, value: Any, path: str, *, required: bool = False) -> str | None:
        return self._normalised(
            value, path, required, normalise_domain, "a valid domain such as acme.com"
        )

    def _normalised(
        self, value: Any, path: str, required: bool, normalise: Any, what: str
    ) -> str | None:
        if value is None:
            if required:
                self.fail(path, f"{_label(path)} is required")
            return None
        if not isinstance(value, str):
            self.fail(path, f"{_label(path)} must be a string")
            return None
        normalised = normalise(value)
        if normalised is None:
            self.fail(path, f"{_label(path)} must be {what}")
        return normalised

    def many(self, body: dict, key: str, path: str, check: Any) -> tuple[str, ...]:
        values = body.get(key)
        if values is None:
            return ()
        if not isinstance(values, list):
            self.fail(path, f"{_label(path)} must be an array of strings")
            return ()
        checked = (check(v, f"{path}[{i}]", required=True) for i, v in enumerate(values))
        return tuple(dict.fromkeys(v for v in checked if v is not None))

    def uuid(self, body: dict, key: str, path: str, *, required: bool = False) -> str | None:
        value = body.get(key)
        if value is None:
            if required:
                self.fail(path, f"{_label(path)} is required")
            return None
        if not isinstance(value, str) or not _UUID.fullmatch(value.strip()):
            self.fail(path, f"{_label(path)} must be a valid uuid")
            return None
        return value.strip().lower()

    def number(self, body: dict, key: str, path: str) -> int | float | None:
        value = body.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(path, f"{_label(path)} must be a number")
            return None
        if value < 0:
            self.fail(path, f"{_label(path)} must not be negative")
            return None
        if value > MAX_SAFE_INTEGER:  # SQLite stores 64-bit integers; JSON readers 2^53
            self.fail(path, f"{_label(path)} must be at most {MAX_SAFE_INTEGER}")
            return None
        return int(value) if isinstance(value, float) and value.is_integer() else value

    def unix_ms(self, body: dict, key: str, path: str) -> int | None:
        value = body.get(key)
        if value is None:
            return None
        label = _label(path)
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(path, f"{label} must be a Unix timestamp in milliseconds (a number)")
            return None
        if not float(value).is_integer() or value < 0:
            self.fail(path, f"{label} must be a whole, non-negative number of milliseconds")
            return None
        if value > MAX_SAFE_INTEGER:
            self.fail(path, f"{label} must be at most {MAX_SAFE_INTEGER}")
            return None
        value = int(value)
        if self.rules.seconds_dates == "reject":
            if value < SECONDS_BELOW_MS:
                self.fail(path, f"{label} must be in milliseconds; {value} looks like seconds")
                return None
            if value >= MICROSECONDS_FROM_MS:
                self.fail(path, f"{label} must be in milliseconds; {value} looks like microseconds")
                return None
        return value


def _fields(body: Any, rules: Behaviour, allowed: frozenset[str]) -> tuple[_Fields, dict]:
    if not isinstance(body, dict):
        raise InvalidBody({"body": "Request body must be a JSON object"})
    fields = _Fields({}, rules)
    fields.unknown(body, allowed)
    return fields, body


def _done(fields: _Fields) -> None:
    if fields.errors:
        raise InvalidBody(fields.errors)


# ---- the four bodies ----------------------------------------------------------


def check_account(body: Any, rules: Behaviour) -> AccountInput:
    """``{"domain": "acme.com"}``; ``domain`` is required."""
    f, body = _fields(body, rules, ACCOUNT_KEYS)
    domain = f.domain(body.get("domain"), "domain", required=True)
    _done(f)
    return AccountInput(domain=domain or "")


def check_contact(body: Any, rules: Behaviour) -> ContactInput:
    """``{"email": ..., "first_name": ..., "last_name": ...}``; ``email`` is required."""
    f, body = _fields(body, rules, CONTACT_KEYS)
    email = f.email(body.get("email"), "email", required=True)
    first = f.text(body, "first_name", "first_name")
    last = f.text(body, "last_name", "last_name")
    _done(f)
    return ContactInput(email=email or "", first_name=first, last_name=last)


def check_opportunity(body: Any, rules: Behaviour) -> OpportunityInput:
    """The deal body of §1.3; ``pipeline_id``, ``opportunity`` and ``related_objects`` required.

    A blank name with no ``account_domain`` is a 400: there is nothing to derive it from.
    """
    f, body = _fields(body, rules, OPPORTUNITY_KEYS)
    pipeline_id = f.uuid(body, "pipeline_id", "pipeline_id", required=True)
    deal = f.obj(body, "opportunity", "opportunity", DEAL_KEYS)
    related = f.obj(body, "related_objects", "related_objects", RELATED_KEYS)
    name = f.text(deal, "name", "opportunity.name")
    stage_id = f.uuid(deal, "stage_id", "opportunity.stage_id")
    deal_size = f.number(deal, "deal_size", "opportunity.deal_size")
    close_date = f.unix_ms(deal, "close_date", "opportunity.close_date")
    next_action = f.unix_ms(deal, "next_action_date", "opportunity.next_action_date")
    next_step = f.text(deal, "next_step", "opportunity.next_step", long=True)
    domain = f.domain(related.get("account_domain"), "related_objects.account_domain")
    primary = f.email(related.get("primary_contact_email"), "related_objects.primary_contact_email")
    others = f.many(
        related, "additional_contact_emails", "related_objects.additional_contact_emails", f.email
    )
    owner = f.email(related.get("owner_email"), "related_objects.owner_email")
    blocking = {
        "opportunity",
        "related_objects",
        "opportunity.name",
        "related_objects.account_domain",
    }
    if name is None and domain is None and not blocking & f.errors.keys():
        f.fail(
            "opportunity.name",
            "Name is required when related_objects.account_domain is not given",
        )
    _done(f)
    return OpportunityInput(
        pipeline_id=pipeline_id or "",
        name=name,
        stage_id=stage_id,
        deal_size=deal_size,
        close_date=close_date,
        next_action_date=next_action,
        next_step=next_step,
        account_domain=domain,
        primary_contact_email=primary,
        additional_contact_emails=tuple(e for e in others if e != primary),
        owner_email=owner,
    )


def check_note(body: Any, rules: Behaviour) -> NoteInput:
    """The note body of §1.6; ``note.title`` is required, links are optional by default."""
    f, body = _fields(body, rules, NOTE_KEYS)
    note = f.obj(body, "note", "note", NOTE_BODY_KEYS)
    title = f.text(note, "title", "note.title", required=True) if note else None
    content = f.text(note, "content", "note.content", strip=False, long=True)
    domains = f.many(body, "account_domains", "account_domains", f.domain)
    emails = f.many(body, "contact_emails", "contact_emails", f.email)
    if rules.notes_require_link and not domains and not emails and not f.errors:
        f.fail("account_domains", "Include at least one of account_domains or contact_emails")
    _done(f)
    return NoteInput(
        title=title or "", content=content, account_domains=domains, contact_emails=emails
    )
