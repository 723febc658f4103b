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

from importer.api.endpoints import ENDPOINTS, Endpoint

__all__ = ["ImportPlan", "PlannedRequest", "Planner", "RowPlan"]


@dataclass(frozen=True, slots=True)
class PlannedRequest:
    """One API call the import will make.

    Attributes:
        key: stable identity, the same for the same file and mapping on every run
            (``account:acme.com``, ``contact:jo@acme.com``,
            ``opportunity:<pipeline_id>:acme.com:<name>``, ``note:<sha1 of body>``).
            The results and the requests file refer to requests by this key.
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
    first_plan: RowPlan | None = None  # notes: the row whose links they carry


class Planner:
    """Collects validated rows, dedupes them, and plans the minimal requests.

    Feed it :class:`~importer.validate.rows.RowVerdict` batches in input order with
    :meth:`add`, then call :meth:`finish`. Rows and entities are kept compactly:
    a million-row file costs a few hundred bytes per row and per distinct entity.
    """

    def __init__(self, *, pipeline_id: str | None = None) -> None:
        self.pipeline_id = pipeline_id
        self.rows: list[RowPlan] = []
        self.entities: dict[str, _Entity] = {}
        self._identities: dict[tuple[str, ...], RowPlan] = {}  # -> the first row with them
        self._ones: dict[str, tuple[str]] = {}
        #: Warnings that a later row adds to an earlier one (row → warning); see finish().
        self.amendments: dict[int, str] = {}

    def _same_name(self, entity: _Entity, plan: RowPlan) -> None:
        """Rows whose deals have no company and the same name become one deal: each says so."""
        name = entity.payload["opportunity"].get("name", "")
        _warn(plan, _SAME_NAME.format(name=name, row=entity.first_row))
        if entity.first_row not in self.amendments:
            self.amendments[entity.first_row] = _SAME_NAME.format(name=name, row=plan.row)

    def add(self, verdicts: Iterable[Any]) -> None:
        """Plan a batch of validated rows (in input order)."""
        entities, identities, rows = self.entities, self._identities, self.rows
        for verdict in verdicts:
            row = verdict.row
            plan = RowPlan(row, "would_import", verdict.domain, verdict.email)
            rows.append(plan)
            if verdict.warnings:
                plan.warnings = list(verdict.warnings)
            if verdict.errors:
                plan.status, plan.errors = "invalid", list(verdict.errors)
                plan.message = "; ".join(str(e) for e in verdict.errors)
                continue
            if verdict.skipped:
                plan.status, plan.message = "skipped", verdict.skipped
                continue
            keys = []
            if verdict.account is not None:
                key = "account:" + verdict.domain
                entity = entities.get(key)
                if entity is None:
                    entities[key] = entity = _Entity(key, "accounts", verdict.account, row)
                keys.append(entity.key)  # the stored string: rows share it, not copies
                plan.domain = entity.payload["domain"]  # likewise (a worker's rows are copies)
            if verdict.contact is not None:
                key = "contact:" + verdict.email
                entity = entities.get(key)
                if entity is None:
                    entities[key] = entity = _Entity(key, "contacts", verdict.contact, row)
                elif verdict.contact != entity.payload:  # the same person again: usually equal
                    _merge_fields(entity, verdict.contact, _NAMES, plan, "contact")
                keys.append(entity.key)  # the stored string: rows share it, not copies
                plan.email = entity.payload["email"]  # likewise
            if verdict.opportunity is not None:
                key = _deal_key(verdict.opportunity)
                entity = entities.get(key)
                if entity is None:
                    entities[key] = entity = _Entity(key, "opportunities", verdict.opportunity, row)
                else:
                    _merge_deal(entity, verdict.opportunity, plan)
                    if not verdict.opportunity["related_objects"].get("account_domain"):
                        self._same_name(entity, plan)
                keys.append(entity.key)  # the stored string: rows share it, not copies
            if verdict.note is not None:
                key = "note:" + hashlib.sha1(_canonical(verdict.note)).hexdigest()[:20]
                entity = entities.get(key)
                if entity is None:
                    entities[key] = entity = _Entity(key, "notes", verdict.note, row, None, plan)
                keys.append(entity.key)  # the stored string: rows share it, not copies
            identity = tuple(keys)
            first = identities.setdefault(identity, plan)
            plan.entities = first.entities if first is not plan else identity
            if first is not plan:
                plan.status, plan.duplicate_of = "duplicate", first.row

    def finish(self, *, resolve_rows: bool = True) -> ImportPlan:
        """Choose the requests: each entity once, none whose effect another request covers.

        With ``resolve_rows`` (what sending needs) each row learns the requests its
        outcome depends on (``RowPlan.requests``) and each request its rows
        (``PlannedRequest.rows``). A dry run skips that pass over every row: its
        results name the rows' records, which need no resolving.

        Warnings a later row added to an earlier one (:attr:`amendments`) land on
        the earlier row here (a dry run has written it already: its results sink
        amends the line).
        """
        if self.amendments:
            for row_plan in self.rows:
                extra = self.amendments.get(row_plan.row)
                if extra is not None:
                    _warn(row_plan, extra)
        deal_emails: dict[str, str] = {}
        deal_domains: dict[str, str] = {}
        by_endpoint: dict[str, list[_Entity]] = {e: [] for e in ENDPOINTS}
        for entity in self.entities.values():
            by_endpoint[entity.endpoint].append(entity)
        for deal in by_endpoint["opportunities"]:
            deal.request = deal.key
            related = deal.payload["related_objects"]
            for email in _deal_emails(related):
                deal_emails.setdefault(email, deal.key)
            if related.get("account_domain"):
                deal_domains.setdefault(related["account_domain"], deal.key)
        contact_domains: dict[str, str] = {}
        for entity in by_endpoint["contacts"]:
            payload = entity.payload
            email = payload["email"]
            named = "first_name" in payload or "last_name" in payload
            # The deal endpoint takes only emails: a contact with a name needs its own create.
            entity.request = entity.key if named or email not in deal_emails else deal_emails[email]
            if entity.request == entity.key:
                contact_domains.setdefault(email.rpartition("@")[2], entity.key)
        for entity in by_endpoint["accounts"]:
            domain = entity.payload["domain"]
            entity.request = contact_domains.get(domain) or deal_domains.get(domain) or entity.key
        for entity in by_endpoint["notes"]:
            entity.request = entity.key
        ensured = {key: e.request or key for key, e in self.entities.items()}
        rows_of = self._resolve_rows(ensured) if resolve_rows else {}
        return ImportPlan(self._requests(by_endpoint, ensured, rows_of))

    def _resolve_rows(self, ensured: dict[str, str]) -> dict[str, list[int]]:
        """Each row's requests, and each request's rows (both exact, both in input order)."""
        rows_of: dict[str, list[int]] = {}
        for plan in self.rows:
            if not plan.entities:
                continue
            plan.requests = requests = self._requests_of(plan, ensured)
            for request in requests:
                rows = rows_of.get(request)
                if rows is None:
                    rows_of[request] = [plan.row]
                elif rows[-1] != plan.row:
                    rows.append(plan.row)
        return rows_of

    def _requests_of(self, plan: RowPlan, ensured: dict[str, str]) -> tuple[str, ...]:
        entities = plan.entities
        mapped = [ensured[k] for k in entities]
        if (
            len(entities) == 2
            and mapped[1] == entities[1]
            and entities[0].startswith("account:")
            and entities[1].endswith("@" + entities[0][8:])
        ):
            # A company and its contact, whose create ensures the company: the common
            # case, kept fast; rows of one contact share the 1-tuple.
            return self._ones.get(entities[1]) or self._ones.setdefault(entities[1], (entities[1],))
        if mapped == list(entities):
            return entities  # the row's own requests: share the tuple (memory)
        return self._own_requests(entities, mapped)

    def _own_requests(self, entities: tuple[str, ...], mapped: list[str]) -> tuple[str, ...]:
        # Where one of the row's own requests covers an entity too, the row depends on
        # it, not on another row's: a row is never failed for somebody else's contact.
        own = [k for k, r in zip(entities, mapped, strict=True) if k == r]
        chosen = []
        for k, r in zip(entities, mapped, strict=True):
            if r != k:
                for o in own:
                    if self._covers(o, k):
                        r = o
                        break
            chosen.append(r)
        return tuple(dict.fromkeys(chosen))

    def _covers(self, request: str, entity: str) -> bool:
        """Does the create ``request`` also ensure ``entity`` (API.md §1.3, §1.5)?"""
        kind, _, value = entity.partition(":")
        if request.startswith("contact:"):
            return kind == "account" and request.endswith("@" + value)
        if request.startswith("opportunity:"):
            related = self.entities[request].payload["related_objects"]
            if kind == "account":
                return related.get("account_domain") == value
            return kind == "contact" and value in _deal_emails(related)
        return False

    def _requests(
        self,
        by_endpoint: dict[str, list[_Entity]],
        ensured: dict[str, str],
        rows_of: dict[str, list[int]],
    ) -> list[PlannedRequest]:
        requests = []
        for endpoint in ENDPOINTS:
            for entity in by_endpoint[endpoint]:
                if entity.request != entity.key:
                    continue
                rows = tuple(rows_of.pop(entity.key, ()))
                depends = _depends(self, entity, ensured)
                requests.append(PlannedRequest(entity.key, endpoint, entity.payload, rows, depends))
        return requests


_NAMES = ("first_name", "last_name")
_SAME_NAME = (
    "opportunity: the deal {name!r} has no company domain, and neither has the deal of "
    "row {row} with the same name: they are planned as one deal, as the sandbox merges them "
    "(Octolane's rule for deals without an account is undocumented)"
)


def _deal_key(opportunity: dict[str, Any]) -> str:
    name = opportunity["opportunity"].get("name")
    name = " ".join(name.split()) if name else ""
    # Octolane merges deals by (account domain, pipeline, name) (API.md §4). Without a
    # domain its rule is undocumented; the sandbox merges by pipeline and name, and so does
    # the plan: one deal, every row told (see Planner.add), never two that land as one.
    anchor = opportunity["related_objects"].get("account_domain") or ""
    return f"opportunity:{opportunity['pipeline_id']}:{anchor}:{name}"


def _depends(planner: Planner, entity: _Entity, ensured: dict[str, str]) -> tuple[str, ...]:
    """What must succeed before ``entity``'s request: never another row's deal.

    A deal creates its own account and contacts, so it waits only for the
    contacts that have creates of their own (named ones: their names must land
    before the deal creates them bare). A note waits for the requests that its
    own row depends on, which ensure the account and contact it links to.
    """
    if entity.endpoint == "opportunities":
        keys = (f"contact:{e}" for e in _deal_emails(entity.payload["related_objects"]))
        return tuple(dict.fromkeys(k for k in keys if ensured.get(k) == k))
    if entity.endpoint == "notes" and entity.first_plan is not None:
        first = entity.first_plan
        requests = first.requests or planner._requests_of(first, ensured)
        return tuple(k for k in requests if k != entity.key)
    return ()


def _canonical(payload: Mapping[str, Any]) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _deal_emails(related: Mapping[str, Any]) -> list[str]:
    emails = [related["primary_contact_email"]] if related.get("primary_contact_email") else []
    return emails + list(related.get("additional_contact_emails", ()))


def _merge_fields(
    entity: _Entity, payload: dict, names: Iterable[str], plan: RowPlan, what: str
) -> None:
    """Fill fields the first row left empty; warn where a later row disagrees."""
    _merge_into(entity.payload, payload, names, plan, what, entity.first_row)


def _merge_into(
    target: dict, payload: dict, names: Iterable[str], plan: RowPlan, what: str, first: int
) -> None:
    """:func:`_merge_fields` on any dict: a deal's body is merged in place, no wrapper built."""
    for name in names:
        new = payload.get(name)
        if new is None:
            continue
        old = target.get(name)
        if old is None:
            target[name] = new
        elif old != new:
            _warn(
                plan,
                f"{what}.{name} {new!r} differs from row {first}'s {old!r}; row {first}'s value is sent",
            )


def _merge_deal(entity: _Entity, payload: dict, plan: RowPlan) -> None:
    """The same deal on several rows: one request, its contacts merged, conflicts warned.

    This runs for nearly every row of a deal-heavy file, so it avoids building
    anything for the common cases: a body equal to the first row's, and a row
    whose contact the deal already lists (membership is checked on the deal's
    own fields, not on a set rebuilt per row).
    """
    body = payload["opportunity"]
    target = entity.payload["opportunity"]
    if body != target:
        _merge_into(target, body, body, plan, "opportunity", entity.first_row)
    related = entity.payload["related_objects"]
    new = payload["related_objects"]
    primary = new.get("primary_contact_email")
    extra = new.get("additional_contact_emails")
    if primary == related.get("primary_contact_email") and not extra:
        return
    known = related.get("primary_contact_email"), related.get("additional_contact_emails") or ()
    fresh = [e for e in _deal_emails(new) if e != known[0] and e not in known[1]]
    if fresh:
        related.setdefault("additional_contact_emails", []).extend(fresh)


def _warn(plan: RowPlan, message: str) -> None:
    if plan.warnings is None:
        plan.warnings = []
    plan.warnings.append(message)
