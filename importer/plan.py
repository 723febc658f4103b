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

import datetime
import functools
import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from importer.api.endpoints import ENDPOINTS, Endpoint

__all__ = ["ImportPlan", "Mismatch", "PlannedRequest", "Planner", "RowPlan"]


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


class ImportPlan:
    """All requests of an import, in dependency order (accounts → contacts → opportunities → notes).

    Given its requests, or a way to build them when they are first read: a dry
    run that only counts them (``by_endpoint``) builds none, so a million-row
    plan costs no request objects.
    """

    __slots__ = ("_build", "_counts", "_requests")

    def __init__(
        self,
        requests: Iterable[PlannedRequest] | None = None,
        *,
        build: Callable[[], list[PlannedRequest]] | None = None,
        counts: Mapping[str, int] | None = None,
    ) -> None:
        if requests is None and build is None:
            requests = ()
        self._requests = list(requests) if requests is not None else None
        self._build = build
        self._counts = dict(counts) if counts is not None else None

    @property
    def requests(self) -> list[PlannedRequest]:
        if self._requests is None:
            assert self._build is not None
            self._requests, self._build = self._build(), None
        return self._requests

    def by_endpoint(self) -> dict[str, int]:
        if self._requests is None and self._counts is not None:
            return {endpoint: n for endpoint, n in self._counts.items() if n}
        counts: dict[str, int] = {}
        for request in self.requests:
            counts[request.endpoint] = counts.get(request.endpoint, 0) + 1
        return counts

    def __repr__(self) -> str:
        return f"ImportPlan({self.by_endpoint()})"


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
    #: Texts, and :class:`Mismatch` records (formatted with ``str`` when written).
    warnings: list[str | Mismatch] | None = None
    errors: list[Any] | None = None  # validation.FieldError
    #: The row's id in the source CRM (``source_id`` of the mapping), or "".
    source_id: str = ""


@dataclass(slots=True)
class _Entity:
    key: str
    endpoint: Endpoint
    payload: dict[str, Any]
    first_row: int
    request: str | None = None  # key of the request that ensures it, set by finish()
    first_plan: RowPlan | None = None  # notes: the row whose links they carry
    #: A deal's contact emails, once it has several: membership without a list scan.
    emails: set[str] | None = None


class Planner:
    """Collects validated rows, dedupes them, and plans the minimal requests.

    Feed it :class:`~importer.validate.rows.RowVerdict` batches in input order with
    :meth:`add`, then call :meth:`finish`. Rows and entities are kept compactly:
    a million-row file costs a few hundred bytes per row and per distinct entity.
    """

    def __init__(self, *, pipeline_id: str | None = None, keep_rows: bool = True) -> None:
        self.pipeline_id = pipeline_id
        #: Every row's plan, in input order; empty unless ``keep_rows`` (a dry run that
        #: writes each batch's results as it goes keeps none: the file holds them).
        self.rows: list[RowPlan] = []
        self.keep_rows = keep_rows
        self.entities: dict[str, _Entity] = {}
        #: A row's records (a key, or a tuple of several) -> the first row with them.
        self._identities: dict[str | tuple[str, ...], int] = {}
        self._ones: dict[str, tuple[str]] = {}
        self._names: dict[str, str] = {}  # a deal name as written -> as compared
        #: Warnings that a later row adds to an earlier one (row → warning); see finish().
        self.amendments: dict[int, str] = {}

    def _same_name(self, entity: _Entity, plan: RowPlan) -> None:
        """Rows whose deals have no company and the same name become one deal: each says so."""
        name = entity.payload["opportunity"].get("name", "")
        _warn(plan, _SAME_NAME.format(name=name, row=entity.first_row))
        if entity.first_row not in self.amendments:
            self.amendments[entity.first_row] = _SAME_NAME.format(name=name, row=plan.row)

    def add(self, verdicts: Iterable[Any]) -> list[RowPlan]:
        """Plan a batch of validated rows (in input order); returns the batch's row plans."""
        entities, identities = self.entities, self._identities
        names = self._names
        rows: list[RowPlan] = []
        for verdict in verdicts:
            row = verdict.row
            plan = RowPlan(
                row, "would_import", verdict.domain, verdict.email, source_id=verdict.source_id
            )
            rows.append(plan)
            if verdict.warnings:
                plan.warnings = verdict.warnings  # the verdict is dropped: its list is the row's
            if verdict.errors:
                plan.errors = list(verdict.errors)
                if not (verdict.account or verdict.contact or verdict.opportunity or verdict.note):
                    plan.status = "invalid"
                    plan.message = "; ".join(str(e) for e in verdict.errors)
                    continue
                plan.status, plan.message = "partial", _partial_message(verdict)
            if verdict.skipped:
                plan.status, plan.message = "skipped", verdict.skipped
                continue
            keys = []
            if verdict.account is not None:
                key = "account:" + verdict.domain
                entity = entities.get(key)
                if entity is None:
                    entities[key] = entity = _Entity(key, "accounts", verdict.account, row)
                elif verdict.account is not entity.payload and verdict.account != entity.payload:
                    _merge_fields(entity, verdict.account, ("name",), plan, "account")
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
            deal = verdict.opportunity
            if deal is not None:
                name = deal["opportunity"].get("name")
                anchor = deal["related_objects"].get("account_domain")
                squeezed = names.get(name) if name else ""
                if squeezed is None:  # the name with its runs of whitespace made one space
                    if len(names) > 100_000:  # names that never repeat: keep it bounded
                        names.clear()
                    squeezed = " ".join(name.split())
                    names[name] = squeezed = name if squeezed == name else squeezed
                key = _deal_key(deal["pipeline_id"], anchor or "", squeezed)
                entity = entities.get(key)
                if entity is None:
                    entities[key] = entity = _Entity(key, "opportunities", deal, row)
                else:
                    _merge_deal(entity, deal, plan)
                    if not anchor:
                        self._same_name(entity, plan)
                keys.append(entity.key)  # the stored string: rows share it, not copies
            if verdict.note is not None:
                key = "note:" + hashlib.sha1(_canonical(verdict.note)).hexdigest()[:20]
                entity = entities.get(key)
                if entity is None:
                    entities[key] = entity = _Entity(key, "notes", verdict.note, row, None, plan)
                keys.append(entity.key)  # the stored string: rows share it, not copies
            plan.entities = tuple(keys)
            # A row of one record is known by its key text, not a tuple of it (memory).
            first = identities.setdefault(keys[0] if len(keys) == 1 else plan.entities, row)
            if first != row:
                plan.duplicate_of = first
                if plan.status == "would_import":  # a partial row stays partial: it needs fixing
                    plan.status = "duplicate"
        if self.keep_rows:
            self.rows.extend(rows)
        return rows

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
            named = len(payload) > 1  # a name, a job title, a phone ...
            # The deal endpoint takes only emails: a contact with a name needs its own create.
            entity.request = entity.key if named or email not in deal_emails else deal_emails[email]
            if entity.request == entity.key:
                contact_domains.setdefault(email.rpartition("@")[2], entity.key)
        for entity in by_endpoint["accounts"]:
            domain = entity.payload["domain"]
            entity.request = contact_domains.get(domain) or deal_domains.get(domain) or entity.key
        for entity in by_endpoint["notes"]:
            entity.request = entity.key
        counts = {
            endpoint: sum(1 for e in entities if e.request == e.key)
            for endpoint, entities in by_endpoint.items()
        }
        if not resolve_rows:  # the requests are built only if somebody reads them
            return ImportPlan(
                build=lambda: self._requests(by_endpoint, self._ensured(), {}), counts=counts
            )
        ensured = self._ensured()
        rows_of = self._resolve_rows(ensured)
        return ImportPlan(self._requests(by_endpoint, ensured, rows_of))

    def _ensured(self) -> dict[str, str]:
        """Each entity's key → the key of the request that ensures it."""
        return {key: e.request or key for key, e in self.entities.items()}

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


_RECORD_NAMES = {"account": "company", "contact": "contact", "opportunity": "deal", "note": "note"}


def _partial_message(verdict: Any) -> str:
    """What of a partial row goes and what is left out, and why."""
    going = [name for kind, name in _RECORD_NAMES.items() if getattr(verdict, kind) is not None]
    left: dict[str, list[str]] = {}
    for error in verdict.errors:
        kind = error.field.partition(".")[0]
        left.setdefault(_RECORD_NAMES.get(kind, kind), []).append(str(error))
    said = "; ".join(f"the {name} is left out: {'; '.join(why)}" for name, why in left.items())
    return f"{said}; the {' and the '.join(going)} {'go' if len(going) > 1 else 'goes'} ahead"


_NAMES = ("first_name", "last_name", "job_title", "phone", "linkedin")
_SAME_NAME = (
    "opportunity: the deal {name!r} has no company domain, and neither has the deal of "
    "row {row} with the same name: they are planned as one deal, as the sandbox merges them "
    "(Octolane's rule for deals without an account is undocumented)"
)


def _deal_key(pipeline_id: str, anchor: str, name: str) -> str:
    # Octolane merges deals by (account domain, pipeline, name) (API.md §4). Without a
    # domain its rule is undocumented; the sandbox merges by pipeline and name, and so does
    # the plan: one deal, every row told (see Planner.add), never two that land as one.
    return f"opportunity:{pipeline_id}:{anchor}:{name}"


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


class Mismatch(NamedTuple):
    """A later row's value that differs from the one sent: a row warning kept as data.

    A deal-heavy file has one on most rows; kept as a small tuple (whose
    ``sent`` is the record's own value, not a copy), it is formatted (``str``)
    only when the results file is written, and a date reads as a date there.
    """

    field: str  # contact.first_name, opportunity.deal_size, ...
    value: Any  # this row's value
    first_row: int  # the row whose value is sent
    sent: Any

    def __str__(self) -> str:
        field, first = self.field, self.first_row
        return (
            f"{field} {_shown(field, self.value)} differs from row {first}'s"
            f" {_shown(field, self.sent)}; row {first}'s value is sent"
        )


_DATE_FIELDS = frozenset({"opportunity.close_date", "opportunity.next_action_date"})
#: A Mismatch from a 4-tuple, in C (the generated ``__new__`` is Python code).
_mismatch = functools.partial(tuple.__new__, Mismatch)


def _shown(field: str, value: Any) -> str:
    return _day(value) if type(value) is int and field in _DATE_FIELDS else repr(value)


@functools.lru_cache(maxsize=4096)
def _day(unix_ms: int) -> str:
    """A deal date (Unix milliseconds) as the user wrote it: '2024-03-08'."""
    try:
        moment = datetime.datetime.fromtimestamp(unix_ms / 1000, datetime.UTC)
    except (OverflowError, OSError, ValueError):
        return repr(unix_ms)
    midnight = moment.time() == datetime.time()
    return repr(moment.date().isoformat() if midnight else moment.isoformat())


#: "opportunity.<name>" for each field of a deal's body, built once.
_DEAL_FIELDS = {
    name: f"opportunity.{name}"
    for name in (
        "name",
        "stage_id",
        "deal_size",
        "close_date",
        "next_action_date",
        "next_step",
        "stage_name",
        "custom_attributes",
    )
}


def _merge_fields(
    entity: _Entity, payload: dict, names: Iterable[str], plan: RowPlan, what: str
) -> None:
    """Fill fields the first row left empty; note where a later row disagrees."""
    target = entity.payload
    for name in names:
        new = payload.get(name)
        if new is None:
            continue
        old = target.get(name)
        if old is None:
            target[name] = new
        elif old != new:
            _warn(plan, Mismatch(f"{what}.{name}", new, entity.first_row, old))


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
        warnings = plan.warnings
        for name, new in body.items():
            old = target.get(name)
            if old is None:
                target[name] = new
            elif old != new:
                label = _DEAL_FIELDS.get(name) or f"opportunity.{name}"
                mismatch = _mismatch((label, new, entity.first_row, old))
                if warnings is None:
                    plan.warnings = warnings = [mismatch]
                else:
                    warnings.append(mismatch)
    related = entity.payload["related_objects"]
    new_related = payload["related_objects"]
    if new_related == related:
        return
    primary = new_related.get("primary_contact_email")
    extra = new_related.get("additional_contact_emails")
    if not extra and (primary is None or primary == related.get("primary_contact_email")):
        return
    known = entity.emails
    if known is None:
        known = entity.emails = set(_deal_emails(related))
    listed = None
    for email in (primary, *extra) if extra else (primary,):
        if email is not None and email not in known:
            known.add(email)
            if listed is None:
                listed = related.setdefault("additional_contact_emails", [])
            listed.append(email)


def _warn(plan: RowPlan, message: str | Mismatch) -> None:
    if plan.warnings is None:
        plan.warnings = []
    plan.warnings.append(message)
