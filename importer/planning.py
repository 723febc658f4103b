"""Turn validated rows into the minimal, ordered set of API requests.

Within a file, accounts are deduplicated by normalised domain, contacts by
lower-cased email, deals by (pipeline, domain, name) and notes by content;
every distinct entity is sent once and every row that shares it gets its
outcome. No request is planned whose effect another already has: a contact
create ensures the account of its email's domain, and a deal create ensures
its account and contacts (API.md §1.3-1.5), so a separate create is planned
only where nothing else covers it. A contact with a first or last name always
gets its own create, because the deal endpoint takes only emails.

Requests are ordered accounts → contacts → opportunities → notes, and each
names the requests it depends on. This module does no I/O.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from importer.models import ENDPOINTS, Endpoint

__all__ = ["ImportPlan", "PlannedRequest", "Planner", "RowPlan"]


@dataclass(frozen=True, slots=True)
class PlannedRequest:
    """One API call the import will make.

    Attributes:
        key: stable identity, the same for the same file and mapping on every run
            (``account:acme.com``, ``contact:jo@acme.com``,
            ``opportunity:<pipeline_id>:acme.com:<name>``, ``note:<sha1 of body>``).
            The journal and the results refer to requests by this key.
        endpoint: ``accounts`` | ``contacts`` | ``opportunities`` | ``notes``.
        payload: the exact JSON body to send (already validated).
        rows: spreadsheet row numbers whose outcome depends on this request.
        depends_on: keys of requests that must succeed before this one is sent.
    """

    key: str
    endpoint: Endpoint
    payload: Mapping[str, Any]
    rows: tuple[int, ...] = ()
    depends_on: tuple[str, ...] = ()


@dataclass(slots=True)
class ImportPlan:
    """All requests of an import, in dependency order (accounts → contacts → opportunities → notes)."""

    requests: list[PlannedRequest] = field(default_factory=list)

    def by_endpoint(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for request in self.requests:
            counts[request.endpoint] = counts.get(request.endpoint, 0) + 1
        return counts


# ---- the planner --------------------------------------------------------------


@dataclass(slots=True)
class RowPlan:
    """The plan's view of one input row: its status and the entities it feeds.

    ``entities`` are identity keys (``account:acme.com``, ``contact:jo@acme.com``,
    ...); :meth:`Planner.finish` resolves each to the request that ensures it
    (``requests``), which may be another entity's request: a contact create
    also ensures the account of its email's domain.
    """

    row: int
    status: str  # would_import | invalid | duplicate | skipped
    domain: str | None = None
    email: str | None = None
    entities: tuple[str, ...] = ()
    requests: tuple[str, ...] = ()
    duplicate_of: int | None = None
    message: str = ""
    warnings: list[str] | None = None
    errors: list[Any] | None = None  # validation.FieldError


@dataclass(slots=True)
class _Entity:
    key: str
    endpoint: Endpoint
    payload: dict[str, Any]
    first_row: int
    request: str | None = None  # key of the request that ensures it, set by finish()


class Planner:
    """Collects validated rows, dedupes them, and plans the minimal requests.

    Feed it :class:`~importer.validation.RowVerdict` batches in input order with
    :meth:`add`, then call :meth:`finish`. Rows and entities are kept compactly:
    a million-row file costs a few hundred bytes per distinct entity.
    """

    def __init__(self, *, pipeline_id: str | None = None) -> None:
        self.pipeline_id = pipeline_id
        self.rows: list[RowPlan] = []
        self.entities: dict[str, _Entity] = {}
        self._identities: dict[tuple[str, ...], int] = {}

    def add(self, verdicts: Iterable[Any]) -> None:
        for verdict in verdicts:
            self.rows.append(self._plan_row(verdict))

    def _plan_row(self, verdict: Any) -> RowPlan:
        plan = RowPlan(verdict.row, "would_import", verdict.domain, verdict.email)
        if verdict.warnings:
            plan.warnings = list(verdict.warnings)
        if verdict.errors:
            plan.status, plan.errors = "invalid", list(verdict.errors)
            plan.message = "; ".join(str(e) for e in verdict.errors)
            return plan
        if verdict.skipped:
            plan.status, plan.message = "skipped", verdict.skipped
            return plan
        keys = []
        if verdict.account is not None:
            keys.append(self._merge("accounts", f"account:{verdict.domain}", verdict.account, plan))
        if verdict.contact is not None:
            keys.append(self._merge("contacts", f"contact:{verdict.email}", verdict.contact, plan))
        if verdict.opportunity is not None:
            keys.append(
                self._merge("opportunities", self._deal_key(verdict), verdict.opportunity, plan)
            )
        if verdict.note is not None:
            digest = hashlib.sha1(_canonical(verdict.note)).hexdigest()[:20]
            keys.append(self._merge("notes", f"note:{digest}", verdict.note, plan))
        plan.entities = tuple(keys)
        first = self._identities.setdefault(plan.entities, plan.row)
        if first != plan.row:
            plan.status, plan.duplicate_of = "duplicate", first
            plan.message = f"duplicate of row {first}"
        return plan

    def _deal_key(self, verdict: Any) -> str:
        opportunity = verdict.opportunity
        name = " ".join(str(opportunity["opportunity"].get("name") or "").split())
        related = opportunity["related_objects"]
        anchor = related.get("account_domain") or "@" + str(
            related.get("primary_contact_email", "")
        )
        return f"opportunity:{opportunity['pipeline_id']}:{anchor}:{name}"

    def _merge(self, endpoint: Endpoint, key: str, payload: dict, plan: RowPlan) -> str:
        entity = self.entities.get(key)
        if entity is None:
            self.entities[key] = _Entity(key, endpoint, payload, plan.row)
            return key
        if endpoint == "contacts":
            _merge_fields(entity, payload, ("first_name", "last_name"), plan, "contact")
        elif endpoint == "opportunities":
            _merge_deal(entity, payload, plan)
        return key

    def finish(self) -> ImportPlan:
        """Choose the requests: each entity once, none whose effect another request covers."""
        deals = [e for e in self.entities.values() if e.endpoint == "opportunities"]
        deal_emails: dict[str, str] = {}
        deal_domains: dict[str, str] = {}
        for deal in deals:
            deal.request = deal.key
            related = deal.payload["related_objects"]
            for email in _deal_emails(related):
                deal_emails.setdefault(email, deal.key)
            if related.get("account_domain"):
                deal_domains.setdefault(related["account_domain"], deal.key)
        contact_domains: dict[str, str] = {}
        for entity in self._of("contacts"):
            email = entity.payload["email"]
            named = "first_name" in entity.payload or "last_name" in entity.payload
            # The deal endpoint takes only emails: a contact with a name needs its own create.
            entity.request = entity.key if named or email not in deal_emails else deal_emails[email]
            if entity.request == entity.key:
                contact_domains.setdefault(email.rpartition("@")[2], entity.key)
        for entity in self._of("accounts"):
            domain = entity.payload["domain"]
            entity.request = contact_domains.get(domain) or deal_domains.get(domain) or entity.key
        for entity in self._of("notes"):
            entity.request = entity.key
        ensured = {e.key: e.request for e in self.entities.values()}
        return self._build(ensured, contact_domains, deal_domains)

    def _build(self, ensured, contact_domains, deal_domains) -> ImportPlan:
        rows_of: dict[str, list[int]] = {}
        for plan in self.rows:
            if plan.status != "would_import" and plan.status != "duplicate":
                continue
            plan.requests = tuple(dict.fromkeys(ensured[k] for k in plan.entities))
            for key in plan.requests:
                rows_of.setdefault(key, []).append(plan.row)
        requests = []
        for endpoint in ENDPOINTS:
            for entity in self._of(endpoint):
                if entity.request != entity.key:
                    continue
                depends = self._depends(entity, ensured)
                rows = tuple(rows_of.get(entity.key, ()))
                requests.append(PlannedRequest(entity.key, endpoint, entity.payload, rows, depends))
        return ImportPlan(requests)

    def _depends(self, entity: _Entity, ensured: dict[str, str]) -> tuple[str, ...]:
        payload = entity.payload
        if entity.endpoint == "opportunities":
            emails = _deal_emails(payload["related_objects"])
            needed = [ensured.get(f"contact:{e}") for e in emails]
            needed.append(
                ensured.get(f"account:{payload['related_objects'].get('account_domain')}")
            )
        elif entity.endpoint == "notes":
            needed = [ensured.get(f"contact:{e}") for e in payload.get("contact_emails", ())]
            needed += [ensured.get(f"account:{d}") for d in payload.get("account_domains", ())]
        else:
            return ()
        return tuple(dict.fromkeys(k for k in needed if k and k != entity.key))

    def _of(self, endpoint: str) -> list[_Entity]:
        return [e for e in self.entities.values() if e.endpoint == endpoint]


def _canonical(payload: Mapping[str, Any]) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _deal_emails(related: Mapping[str, Any]) -> list[str]:
    emails = [related["primary_contact_email"]] if related.get("primary_contact_email") else []
    return emails + list(related.get("additional_contact_emails", ()))


def _merge_fields(
    entity: _Entity, payload: dict, names: Iterable[str], plan: RowPlan, what: str
) -> None:
    """Fill fields the first row left empty; warn where a later row disagrees."""
    for name in names:
        new = payload.get(name)
        if new is None:
            continue
        old = entity.payload.get(name)
        if old is None:
            entity.payload[name] = new
        elif old != new:
            _warn(
                plan,
                f"{what}.{name} {new!r} differs from row {entity.first_row}'s {old!r}; row {entity.first_row}'s value is sent",
            )


def _merge_deal(entity: _Entity, payload: dict, plan: RowPlan) -> None:
    """The same deal on several rows: one request, its contacts merged, conflicts warned."""
    _merge_fields(
        entity, payload["opportunity"], payload["opportunity"].keys(), plan, "opportunity"
    )
    related = entity.payload["related_objects"]
    known = set(_deal_emails(related))
    extra = [e for e in _deal_emails(payload["related_objects"]) if e not in known]
    if extra:
        related.setdefault("additional_contact_emails", []).extend(extra)


def _warn(plan: RowPlan, message: str) -> None:
    if plan.warnings is None:
        plan.warnings = []
    plan.warnings.append(message)
