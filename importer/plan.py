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

from importer.api.endpoints import Endpoint, deal_name_from_domain
from importer.validate.compact import (
    CONTACT_FIELDS,
    pack_contact,
    related_objects,
    unpack_contact,
)

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
    status: str  # would_import | invalid | duplicate | merged | skipped | partial
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
    #: The account Octolane files the row's contact under (the results' ``contact_account``),
    #: where the worker that validated the row worked it out; None: worked out when written.
    filed: str | None = None


#: Marks an entity whose first row did not end with it (see ``_Entity.rest``).
_NOT_LEAD: Any = object()
#: Ends a ``rest`` that is a whole identity: the three records of the first row of a
#: company, a person and a deal, kept on the record it brought first (not its last).
_WHOLE: Any = object()


def _kept_whole(company: Any, person: Any, deal: Any) -> int | None:
    """The first row of these three records where one of the first two keeps them."""
    for record in (person, company):
        kept = record.rest
        if (
            type(kept) is tuple
            and len(kept) == 4
            and kept[0] is company
            and kept[1] is person
            and kept[2] is deal
        ):
            return record.first_row
    return None


@dataclass(slots=True, eq=False)
class _Entity:
    """One distinct record of the file. A million-row file has about as many: it is small.

    ``ident`` identifies it among its kind: a domain, an email, or a deal's or a
    note's key. A contact's ``payload`` is packed (:func:`pack_contact`), the rest
    are the bodies to send. ``rest`` is the other records of ``first_row`` when the
    entity was that row's last record (a row's identity, without a tuple for it); where
    it was not, and the row was a company, a person and a deal, those three and
    :data:`_WHOLE` (the row's identity, kept on the record it brought first); else
    :data:`_NOT_LEAD`. ``extra`` is a deal's set of contact emails, a note's
    first row plan, or an account's or a contact's request key (``contact:jo@acme.com``)
    where rows are kept (a slot less on each of a million records).
    """

    ident: str
    payload: Any
    first_row: int
    rest: Any = _NOT_LEAD
    extra: Any = None


class Planner:
    """Collects validated rows, dedupes them, and plans the minimal requests.

    Feed it :class:`~importer.validate.rows.RowVerdict` batches in input order with
    :meth:`add`, then call :meth:`finish`. Memory: a dry run that writes each batch's
    results as it goes (``keep_rows=False``) keeps only the distinct records, each
    once and compactly (a contact costs its email, its packed fields and ~150 bytes);
    a run that sends keeps every row's plan too.
    """

    def __init__(
        self,
        *,
        pipeline_id: str | None = None,
        keep_rows: bool = True,
        account_names: bool = True,
        subject: str = "",
    ) -> None:
        self.pipeline_id = pipeline_id
        #: The file's own kind of record, as a key prefix ("contact:"): the one two source
        #: ids make a merge of ("" for any).
        self.subject = subject
        #: Whether an account's name is sent (the public API's): a named account then
        #: needs its own create, where a contact's or a deal's would create it bare.
        self.account_names = account_names
        #: Every row's plan, in input order; empty unless ``keep_rows`` (a dry run that
        #: writes each batch's results as it goes keeps none: the file holds them).
        self.rows: list[RowPlan] = []
        self.keep_rows = keep_rows
        #: The distinct records by kind, each keyed by its ``ident``, in first-row order.
        self._accounts: dict[str, _Entity] = {}
        self._contacts: dict[str, _Entity] = {}
        #: (A deal is filed under its key's parts, (pipeline, domain, name as compared).)
        self._deals: dict[tuple[str, str, str], _Entity] = {}
        self._notes: dict[str, _Entity] = {}
        #: A row's records (entities) -> the first row with them, for the rows whose
        #: identity is not their last record's first (see ``_Entity.rest``).
        self._identities: dict[tuple[_Entity, ...], int] = {}
        self._ones: dict[str, tuple[str]] = {}
        self._names: dict[str, str] = {}  # a deal name as written -> as compared
        #: Values and packed contacts seen before: equal ones are kept once (bounded).
        self._shared: dict[Any, Any] = {}
        #: Warnings that a later row adds to an earlier one (row → warning); see finish().
        self.amendments: dict[int, str] = {}
        #: The rows whose unlinked deal became an earlier row's (first row → later rows):
        #: the first row names them all (see finish()).
        self._same_named: dict[int, list[int]] = {}
        #: The source ids of the rows first with their records (where the file has ids).
        self._first_ids: dict[int, str] = {}
        #: The deals by their request key, made when first asked (_deal_by_key).
        self._deal_keys: dict[str, _Entity] = {}
        #: The deals' e-mails that were no contact's when a deal took them (deal_people).
        self._deal_people: set[str] = set()

    def distinct(self) -> dict[str, int]:
        """The distinct records of each kind the rows name."""
        return {
            "accounts": len(self._accounts),
            "contacts": len(self._contacts),
            "opportunities": len(self._deals),
            "notes": len(self._notes),
        }

    def account_domains(self) -> set[str]:
        """The domains of the file's distinct accounts."""
        return set(self._accounts)

    def deal_people(self) -> set[str]:
        """The e-mails the file's deals link (primary and additional) that no contact
        record of the file has: Octolane makes each a person when the deal is sent.

        (Gathered as the deals are planned, where their bodies are at hand: read from
        every deal at the end, it cost a third of a second a million rows.)"""
        return {email for email in self._deal_people if email not in self._contacts}

    def _people_of(self, emails: list[str]) -> None:
        """Note a deal's ``emails`` that are no contact's of the file (yet)."""
        contacts = self._contacts
        for email in emails:
            if email not in contacts:
                self._deal_people.add(email)

    def contact_hosts(self) -> set[str]:
        """The e-mail hosts of the file's distinct contacts (each files its contact under
        an account of its own: the results' ``contact_account``)."""
        return {email.rpartition("@")[2] for email in self._contacts}

    def _key(self, entity: _Entity, prefix: str) -> str:
        """The entity's request key (``contact:jo@acme.com``); rows kept share one string."""
        if not prefix:
            return entity.ident  # a deal's or a note's ident is its key
        key: str | None = entity.extra  # (an account's or a contact's: their only extra)
        if key is None:
            key = prefix + entity.ident
            if self.keep_rows:
                entity.extra = key
        return key

    def _share(self, packed: tuple[Any, ...]) -> tuple[Any, ...]:
        """``packed``, or an equal tuple seen before; its values likewise (names repeat)."""
        shared = self._shared
        found = shared.get(packed)
        if found is not None:
            return found
        if len(shared) > 200_000:  # values that never repeat: keep it bounded
            shared.clear()
        if packed:
            packed = tuple([v if v is None else shared.setdefault(v, v) for v in packed])
        shared[packed] = packed
        return packed

    def _same_name(self, entity: _Entity, plan: RowPlan) -> None:
        """Rows whose deals have no company and the same name become one deal: each says so."""
        name = entity.payload["opportunity"].get("name", "")
        _warn(plan, _SAME_NAME.format(name=name, row=entity.first_row))
        later = self._same_named.setdefault(entity.first_row, [])
        if len(later) < _NAMED_ROWS + 1:  # (one more: "and more")
            later.append(plan.row)
        if len(later) == 1:
            self.amendments[entity.first_row] = _SAME_NAME.format(name=name, row=plan.row)
        else:
            if len(later) > _NAMED_ROWS:
                shown = ", ".join(map(str, later[:_NAMED_ROWS])) + " and more"
            else:
                shown = ", ".join(map(str, later[:-1])) + f" and {later[-1]}"
            self.amendments[entity.first_row] = _SAME_NAMES.format(name=name, rows=shown)

    def add(self, verdicts: Iterable[Any]) -> list[RowPlan]:
        """Plan a batch of validated rows (in input order); returns the batch's row plans."""
        accounts, contacts, deals, notes = self._accounts, self._contacts, self._deals, self._notes
        identities, names, key_of = self._identities, self._names, self._key
        keep = self.keep_rows  # else a row's keys are its own strings, dropped with it
        rows: list[RowPlan] = []
        for verdict in verdicts:
            if type(verdict) is tuple:  # a regular row's compact verdict (COMPACT_FIELDS)
                (
                    row, warned, domain, email, account, packed, body, pipeline, source_id, _, _,
                    filed,
                ) = verdict  # fmt: skip
                plan = RowPlan(
                    row, "would_import", domain, email, (), (), None, "", warned, None, source_id,
                    filed,
                )  # fmt: skip
                rows.append(plan)
                contact = deal = note = related = None
            else:
                row, domain, email = verdict.row, verdict.domain, verdict.email
                source_id = verdict.source_id
                # (positional: keywords cost a third more, on every row)
                plan = RowPlan(
                    row, "would_import", domain, email, (), (), None, "", None, None, source_id
                )  # fmt: skip
                rows.append(plan)
                if verdict.warnings:
                    plan.warnings = (
                        verdict.warnings
                    )  # the verdict is dropped: its list is the row's
                if verdict.errors:
                    plan.errors = list(verdict.errors)
                    if not (
                        verdict.account or verdict.contact or verdict.opportunity or verdict.note
                    ):
                        plan.status = "invalid"
                        plan.message = "; ".join(str(e) for e in verdict.errors)
                        continue
                    plan.status, plan.message = "partial", _partial_message(verdict)
                if verdict.skipped:
                    plan.status, plan.message = "skipped", verdict.skipped
                    continue
                account, contact, deal, note = (
                    verdict.account, verdict.contact, verdict.opportunity, verdict.note
                )  # fmt: skip
                packed = None if contact is None else pack_contact(contact)
                body = pipeline = None
                if deal is not None:
                    body, related = deal["opportunity"], deal["related_objects"]
                    pipeline = deal["pipeline_id"]
            found: list[_Entity] = []
            keys: list[str] = []
            fresh = None  # the entity this row brings first, if any
            if account:  # (a compact verdict's: True, its body {"domain": domain})
                entity = accounts.get(domain)
                if entity is None:
                    if account is True:
                        account = {"domain": domain}
                    else:
                        domain = account["domain"]
                    accounts[domain] = entity = fresh = _Entity(domain, account, row)
                elif (
                    self.account_names
                    and account is not True
                    and account is not entity.payload
                    and account != entity.payload
                ):
                    # (a name is all an account body holds beside its domain: where names
                    # are not sent, the Inbound API's, two rows' names are no conflict)
                    _merge_fields(
                        entity.payload, entity.first_row, account, ("name",), plan, "account"
                    )
                found.append(entity)
                keys.append(key_of(entity, "account:") if keep else "account:" + entity.ident)
                plan.domain = entity.ident  # the stored string: rows share it, not copies
            if packed is not None:
                entity = contacts.get(email)
                if entity is None:
                    if contact is not None:
                        email = contact["email"]
                    packed = self._share(packed)
                    contacts[email] = entity = fresh = _Entity(email, packed, row)
                elif packed != entity.payload:  # the same person again: usually equal
                    entity.payload = self._merge_contact(entity, packed, plan)
                found.append(entity)
                keys.append(key_of(entity, "contact:") if keep else "contact:" + entity.ident)
                plan.email = entity.ident  # likewise
            if body is not None:
                name = body.get("name")
                anchor = domain if related is None else related.get("account_domain")
                squeezed = names.get(name) if name else _derived_key(anchor) if anchor else ""
                if squeezed is None:  # the name as Octolane compares it (API.md §4; the
                    # sandbox's reading): runs of whitespace one space, and no case
                    if len(names) > 100_000:  # names that never repeat: keep it bounded
                        names.clear()
                    squeezed = " ".join(name.split()).casefold()
                    names[name] = squeezed = name if squeezed == name else squeezed
                # (looked up by its parts: the key's text is made only for a new deal)
                parts = (pipeline, anchor or "", squeezed)
                entity = deals.get(parts)
                if entity is None:
                    if deal is None:
                        deal = {
                            "pipeline_id": pipeline,
                            "opportunity": body,
                            "related_objects": related_objects(domain, email),
                        }
                        if email and packed is None:  # (with a contact, its own e-mail)
                            self._deal_people.add(email)
                    else:
                        self._people_of(_deal_emails(deal["related_objects"]))
                    deals[parts] = entity = fresh = _Entity(_deal_key(*parts), deal, row)
                else:
                    added = _merge_deal(entity, body, related, domain, email, plan)
                    if added:
                        self._people_of(added)
                    if not anchor:
                        self._same_name(entity, plan)
                found.append(entity)
                keys.append(entity.ident)  # the stored string: rows share it, not copies
            if note is not None:
                key = "note:" + hashlib.sha1(_canonical(note)).hexdigest()[:20]
                entity = notes.get(key)
                if entity is None:
                    notes[key] = entity = fresh = _Entity(key, note, row, extra=plan)
                found.append(entity)
                keys.append(entity.ident)
            plan.entities = tuple(keys)
            # The row's identity is its records (see _first_with), known by its last one.
            n = len(found)
            rest = found[0] if n == 2 else None if n == 1 else _NOT_LEAD
            if n == 3:  # a company, a person and a deal: _first_with, inline (every row)
                lead = found[2]
                known = lead.rest
                if lead is fresh:
                    lead.rest, first = (found[0], found[1]), row
                elif (
                    type(known) is tuple
                    and len(known) == 2
                    and known[0] is found[0]
                    and known[1] is found[1]
                ):
                    first = lead.first_row
                elif fresh is not None:
                    # a record the row brings first (a new person at a known deal): the
                    # identity is new, and that record keeps it (no place in identities)
                    fresh.rest, first = (found[0], found[1], lead, _WHOLE), row
                else:
                    first = _kept_whole(found[0], found[1], lead)
                    if first is None:
                        first = identities.setdefault(tuple(found), row)
            elif rest is _NOT_LEAD:
                first = _first_with(found, fresh, identities, row)
            elif found[-1] is fresh:
                fresh.rest, first = rest, row
            elif found[-1].rest is rest:
                first = found[-1].first_row
            else:
                first = identities.setdefault(tuple(found), row)
            if first != row:
                plan.duplicate_of = first
                # another record of the source, merged? (rows say so) Only where the row
                # has the file's own kind of record: a contacts row whose person was left
                # out shares its company, not its person, with the earlier row.
                if source_id and keys[-1].startswith(self.subject):
                    earlier = self._first_ids.get(first, "")
                    if earlier and earlier != source_id:
                        _merged(plan, earlier)
                        continue
                if plan.status == "would_import":  # a partial row stays partial: it needs fixing
                    plan.status = "duplicate"
            elif source_id:  # (a file without ids keeps nothing here)
                self._first_ids[row] = source_id
                lead = found[-1]
                if lead is not fresh and keys[-1].startswith(self.subject):
                    # its own record is an earlier row's, its other records are not
                    earlier = self._first_ids.get(lead.first_row, "")
                    if earlier and earlier != source_id:
                        _warn(plan, _shared(keys[-1], lead.first_row, source_id, earlier))
        if self.keep_rows:
            self.rows.extend(rows)
        return rows

    def _merge_contact(self, entity: _Entity, packed: tuple[Any, ...], plan: RowPlan) -> Any:
        """The contact's packed fields once this row's (``packed``) filled the empty ones
        (each fill and each mismatch warned, in the body's field order)."""
        merged = list(entity.payload)
        first = entity.first_row
        filled = False
        for i, new in enumerate(packed):
            if new is None:
                continue
            old = merged[i] if i < len(merged) else None
            if old is None:
                if i >= len(merged):
                    merged.extend([None] * (i + 1 - len(merged)))
                merged[i] = new
                filled = True
                _warn(plan, _filled(_CONTACT_LABELS[i], new, first))
            elif old != new:
                _warn(plan, _mismatch((_CONTACT_LABELS[i], new, first, old)))
        if filled:
            return self._share(tuple(merged))
        return entity.payload  # only mismatches, warned: what is sent stays

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
        covered = self._covered()
        covered_accounts = sum(1 for e in self._accounts.values() if e in covered)
        counts = {
            "accounts": len(self._accounts) - covered_accounts,
            "contacts": len(self._contacts) - (len(covered) - covered_accounts),
            "opportunities": len(self._deals),
            "notes": len(self._notes),
        }
        if not resolve_rows:  # the requests are built only if somebody reads them
            return ImportPlan(
                build=lambda: self._requests(covered, self._ensured(covered), {}), counts=counts
            )
        ensured = self._ensured(covered)
        rows_of = self._resolve_rows(ensured)
        return ImportPlan(self._requests(covered, ensured, rows_of))

    def _tables(self) -> tuple[tuple[Endpoint, str, Mapping[Any, _Entity]], ...]:
        """Each kind's endpoint, key prefix and records, in the order requests are sent."""
        return (
            ("accounts", "account:", self._accounts),
            ("contacts", "contact:", self._contacts),
            ("opportunities", "", self._deals),
            ("notes", "", self._notes),
        )

    def named_create(self, domain: str, ensured: dict[str, str]) -> str | None:
        """The key of ``domain``'s own account create where it carries a name (the public
        API's), else None."""
        entity = self._accounts.get(domain) if self.account_names else None
        if entity is None or len(entity.payload) < 2:
            return None
        key = "account:" + domain
        return key if ensured.get(key) == key else None

    def _covered(self) -> dict[_Entity, str]:
        """The accounts and contacts another request ensures -> that request's key.

        A deal creates its account and the contacts it names (API.md §1.5), and a
        contact create the account of its email's domain (§1.3). The deal endpoint
        takes only emails: a contact with a name needs its own create, and so does an
        account with a name (the public API's; those creates would give it none).
        """
        deals = self._deals.values()
        covered: dict[_Entity, str] = {}
        # Only a contact with no name is covered by a deal's create: where the file has
        # such contacts, the deals' e-mails are read (the first deal to name each covers it).
        bare = {email: entity for email, entity in self._contacts.items() if not entity.payload}
        if bare:
            for deal in deals:
                related = deal.payload["related_objects"]
                primary = related.get("primary_contact_email")
                extra = related.get("additional_contact_emails") or ()
                for email in (primary, *extra) if primary else extra:
                    entity = bare.get(email)
                    if entity is not None and entity not in covered:
                        covered[entity] = deal.ident
        # Each domain's first contact that no deal covers (its create ensures the account):
        # read backwards, so that the first one is the one kept.
        contact_domains = {
            email.rpartition("@")[2]: entity
            for email, entity in reversed(self._contacts.items())
            if not covered or entity not in covered
        }
        deal_domains: dict[str, str] | None = None  # read only for a company no contact files
        for domain, entity in self._accounts.items():
            if self.account_names and len(entity.payload) > 1:  # named: its own create
                continue
            contact = contact_domains.get(domain)
            if contact is not None:
                covered[entity] = self._key(contact, "contact:")
                continue
            if deal_domains is None:
                deal_domains = {}
                for deal in deals:
                    anchor = deal.payload["related_objects"].get("account_domain")
                    if anchor:
                        deal_domains.setdefault(anchor, deal.ident)
            by = deal_domains.get(domain)
            if by is not None:
                covered[entity] = by
        return covered

    def _ensured(self, covered: dict[_Entity, str]) -> dict[str, str]:
        """Each entity's key → the key of the request that ensures it."""
        ensured: dict[str, str] = {}
        for _, prefix, table in self._tables():
            for entity in table.values():
                key = self._key(entity, prefix)
                ensured[key] = covered.get(entity, key)
        return ensured

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
            and mapped[0] != entities[0]  # (a named account has a create of its own)
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

    def _deal_by_key(self, key: str) -> _Entity:
        """The deal of a request key (``opportunity:...``)."""
        if len(self._deal_keys) != len(self._deals):
            self._deal_keys = {deal.ident: deal for deal in self._deals.values()}
        return self._deal_keys[key]

    def _covers(self, request: str, entity: str) -> bool:
        """Does the create ``request`` also ensure ``entity`` (API.md §1.3, §1.5)?"""
        kind, _, value = entity.partition(":")
        if request.startswith("contact:"):
            return kind == "account" and request.endswith("@" + value)
        if request.startswith("opportunity:"):
            related = self._deal_by_key(request).payload["related_objects"]
            if kind == "account":
                return related.get("account_domain") == value
            return kind == "contact" and value in _deal_emails(related)
        return False

    def _requests(
        self,
        covered: dict[_Entity, str],
        ensured: dict[str, str],
        rows_of: dict[str, list[int]],
    ) -> list[PlannedRequest]:
        requests = []
        for endpoint, prefix, table in self._tables():
            for entity in table.values():
                if entity in covered:
                    continue
                key = self._key(entity, prefix)
                payload = entity.payload
                if endpoint == "contacts":
                    payload = unpack_contact(entity.ident, payload)
                rows = tuple(rows_of.pop(key, ()))
                depends = _depends(self, endpoint, entity, ensured)
                requests.append(PlannedRequest(key, endpoint, payload, rows, depends))
        return requests


_RECORD_NAMES = {"account": "company", "contact": "contact", "opportunity": "deal", "note": "note"}


def _merged(plan: RowPlan, earlier: str) -> None:
    """A row whose records are an earlier row's, though the source calls them two records
    (their source ids differ): Octolane keeps one, and the row says so (never a silent
    ``duplicate``). A partial row stays partial, with the same words as a warning."""
    first, records = plan.duplicate_of, plan.entities
    rules = "; ".join(dict.fromkeys(map(_one_rule, records)))
    text = (
        f"merged into row {first}'s records ({' and '.join(records)}): a different record"
        f" of the source (source id {plan.source_id}; row {first}'s is {earlier}), made one"
        f" because {rules}; row {first}'s values are sent"
    )
    if plan.status == "would_import":
        plan.status, plan.message = "merged", text
    else:
        _warn(plan, text)


def _shared(key: str, first: int, source_id: str, earlier: str) -> str:
    """A row whose own record is an earlier row's, though their source ids differ."""
    return (
        f"{key} is also row {first}'s, a different record of the source (source id"
        f" {source_id}; row {first}'s is {earlier}): made one because {_one_rule(key)};"
        f" row {first}'s values are sent"
    )


def _one_rule(key: str) -> str:
    """Why records with ``key`` are one Octolane record (a deal with no company: the
    sandbox's rule, Octolane's being undocumented)."""
    kind = key.partition(":")[0]
    if kind == "opportunity" and key.split(":", 3)[2] == "":
        return _SAME_NAME_RULE
    return _ONE_PER[kind]


#: Why two source records are one Octolane record, by record kind.
_ONE_PER = {
    "account": "Octolane keeps one company per domain",
    "contact": "Octolane keeps one person per e-mail address",
    "opportunity": "Octolane keeps one deal per company, pipeline and name",
    "note": "equal notes (title, content and links) are sent once",
}
_SAME_NAME_RULE = (
    "deals with no company and the same name are planned as one deal (Octolane's rule for"
    " them is undocumented; the sandbox merges them)"
)


def _partial_message(verdict: Any) -> str:
    """What of a partial row goes and what is left out, and why."""
    going = [name for kind, name in _RECORD_NAMES.items() if getattr(verdict, kind) is not None]
    left: dict[str, list[str]] = {}
    for error in verdict.errors:
        kind = error.field.partition(".")[0]
        left.setdefault(_RECORD_NAMES.get(kind, kind), []).append(str(error))
    said = "; ".join(f"the {name} is left out: {'; '.join(why)}" for name, why in left.items())
    return f"{said}; the {' and the '.join(going)} {'go' if len(going) > 1 else 'goes'} ahead"


#: "contact.<name>" for each packed contact field (CONTACT_FIELDS), built once.
_CONTACT_LABELS = tuple(f"contact.{name}" for name in CONTACT_FIELDS)
_SAME_NAME = (
    "opportunity: the deal {name!r} has no company domain, and neither has the deal of "
    "row {row} with the same name: they are planned as one deal, as the sandbox merges them "
    "(Octolane's rule for deals without an account is undocumented)"
)
_SAME_NAMES = (
    "opportunity: the deal {name!r} has no company domain, and neither have the deals of "
    "rows {rows} with the same name: they are planned as one deal, as the sandbox merges them "
    "(Octolane's rule for deals without an account is undocumented)"
)
_NAMED_ROWS = 5  # the later rows a first row names


def _joined(emails: list[str], row: int) -> str:
    """A later row's people sent with an earlier row's deal (the same deal)."""
    if len(emails) == 1:
        said = f"{emails[0]} is sent as another contact"
    else:
        said = f"{', '.join(emails)} are sent as other contacts"
    return f"opportunity: {said} of row {row}'s deal, the same deal"


@functools.lru_cache(maxsize=4096)
def _derived_key(domain: str) -> str:
    """The dedup key of the name a deal sent without one gets (:func:`deal_name_from_domain`):
    an unnamed deal and a deal of that name at one company are one deal there, so they
    are one in the plan too, each row told."""
    return " ".join(deal_name_from_domain(domain).split()).casefold()


def _deal_key(pipeline_id: str, anchor: str, name: str) -> str:
    # Octolane merges deals by (account domain, pipeline, name), the name without case
    # or runs of spaces (API.md §4; the sandbox's reading). Without a
    # domain its rule is undocumented; the sandbox merges by pipeline and name, and so does
    # the plan: one deal, every row told (see Planner.add), never two that land as one.
    return f"opportunity:{pipeline_id}:{anchor}:{name}"


def _depends(
    planner: Planner, endpoint: Endpoint, entity: _Entity, ensured: dict[str, str]
) -> tuple[str, ...]:
    """What must succeed before ``entity``'s request: never another row's deal.

    A deal creates its own account and contacts, so it waits only for the
    contacts and the named account that have creates of their own (their names
    must land before the deal creates them bare); a contact, likewise, for its
    e-mail domain's named account. A note waits for the requests that its own row
    depends on, which ensure the account and contact it links to.
    """
    if endpoint == "contacts":
        # A named account's create (the public API's) goes before the contacts it files:
        # a contact create would make the account bare first, and the name be lost.
        named = planner.named_create(entity.ident.rpartition("@")[2], ensured)
        return (named,) if named else ()
    if endpoint == "opportunities":
        related = entity.payload["related_objects"]
        keys = [f"contact:{e}" for e in _deal_emails(related)]
        keys = [k for k in keys if ensured.get(k) == k]
        named = planner.named_create(related.get("account_domain") or "", ensured)
        return tuple(dict.fromkeys([named, *keys] if named else keys))
    if endpoint == "notes" and entity.extra is not None:
        first = entity.extra
        requests = first.requests or planner._requests_of(first, ensured)
        return tuple(k for k in requests if k != entity.ident)
    return ()


def _first_with(
    found: list[_Entity],
    fresh: _Entity | None,
    identities: dict[tuple[_Entity, ...], int],
    row: int,
) -> int:
    """The first row with the same records as ``row`` (``found``): ``row`` if none.

    A row's identity is its records. Most rows are the first of their last record,
    or have the records of that row: the record remembers them (``rest``), and only
    the other identities take a place in ``identities``.
    """
    if not found:
        return identities.setdefault((), row)
    lead = found[-1]
    n = len(found)
    rest = None if n == 1 else found[0] if n == 2 else tuple(found[:-1])
    if lead is fresh:
        lead.rest = rest
        return row
    known = lead.rest
    if known is rest or (type(known) is tuple and known == rest):
        return lead.first_row
    return identities.setdefault(tuple(found), row)


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
        field, value, first, sent = self
        shown = _shown(field, value) if field in _DATE_FIELDS else repr(value)
        if not sent or type(sent) not in _CACHED_TYPES:  # 0.0 and -0.0 read differently
            said = _shown(field, sent) if field in _DATE_FIELDS else repr(sent)
            return f"{field} {shown} differs from row {first}'s {said}; row {first}'s value is sent"
        # The rest repeats on every later row of a record: its text is made once (the
        # repr of a float costs more than the lookup). Equal keys read the same.
        key = (field, first, type(sent), sent)
        rest = _SENT_TEXTS.get(key)
        if rest is None:
            if len(_SENT_TEXTS) > 50_000:
                _SENT_TEXTS.clear()
            said = _shown(field, sent) if field in _DATE_FIELDS else repr(sent)
            rest = _SENT_TEXTS[key] = (
                f" differs from row {first}'s {said}; row {first}'s value is sent"
            )
        return f"{field} {shown}{rest}"


#: The text of a Mismatch after its value, by (field, first row, type, value sent).
_SENT_TEXTS: dict[tuple[str, int, type, Any], str] = {}
_CACHED_TYPES = (str, int, float)  # hashable, and equal values of one type read the same


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
    target: dict[str, Any],
    first_row: int,
    payload: Mapping[str, Any],
    names: Iterable[str],
    plan: RowPlan,
    what: str,
) -> bool:
    """Fill fields the first row (``target``) left empty; note where a later row disagrees.

    Returns whether a field was filled.
    """
    filled = False
    for name in names:
        new = payload.get(name)
        if new is None:
            continue
        old = target.get(name)
        if old is None:
            target[name] = new
            filled = True
            _warn(plan, _filled(f"{what}.{name}", new, first_row))
        elif old != new:
            _warn(plan, Mismatch(f"{what}.{name}", new, first_row, old))
    return filled


def _filled(field: str, value: Any, first_row: int) -> str:
    """A later row's value sent with the record of an earlier row that left it empty."""
    return (
        f"{field} {_shown(field, value)} fills in row {first_row}'s empty value: it is sent"
        f" with row {first_row}'s record"
    )


def _merge_deal(
    entity: _Entity,
    body: dict[str, Any],
    new_related: dict[str, Any] | None,
    domain: str | None,
    email: str | None,
    plan: RowPlan,
) -> list[str] | None:
    """The same deal on several rows: one request, its contacts merged, conflicts warned;
    returns the e-mails the row added to the deal's people, if any.

    ``body`` is the row's deal body, ``new_related`` its links, or None where they are
    its row's ``domain`` and ``email`` (a compact verdict's, :func:`related_objects`).

    This runs for nearly every row of a deal-heavy file, so it avoids building
    anything for the common cases: a body equal to the first row's, and a row
    whose contact the deal already lists (membership is checked on the deal's
    own fields, not on a set rebuilt per row).
    """
    target = entity.payload["opportunity"]
    if body != target:
        warnings = plan.warnings
        for name, new in body.items():
            old = target.get(name)
            if old is None:
                target[name] = new
                filled = _filled(
                    _DEAL_FIELDS.get(name) or f"opportunity.{name}", new, entity.first_row
                )
                if warnings is None:
                    plan.warnings = warnings = [filled]
                else:
                    warnings.append(filled)
            elif old != new:
                label = _DEAL_FIELDS.get(name) or f"opportunity.{name}"
                mismatch = _mismatch((label, new, entity.first_row, old))
                if warnings is None:
                    plan.warnings = warnings = [mismatch]
                else:
                    warnings.append(mismatch)
    related = entity.payload["related_objects"]
    if new_related is None:
        primary, extra = email, None
    elif new_related == related:
        return None
    else:
        primary = new_related.get("primary_contact_email")
        extra = new_related.get("additional_contact_emails")
        domain = new_related.get("account_domain")
    if not extra and (primary is None or primary == related.get("primary_contact_email")):
        return None
    known = entity.extra
    if known is None:
        known = entity.extra = set(_deal_emails(related))
    if extra:
        added = list(
            dict.fromkeys(e for e in (primary, *extra) if e is not None and e not in known)
        )
    elif primary in known:
        return None
    else:
        added = [primary]  # (a row of a deals export: its one person, new to the deal)
    if added:
        known.update(added)
        others = related.get("additional_contact_emails")
        if others is None:
            related["additional_contact_emails"] = added
        else:
            others.extend(added)
        # This row's people join the earlier row's deal as its other contacts. Where the
        # rows write the deal alike (its name, at its company: an export's row a contact)
        # the shared deal's key in both rows' records says it; where they merged as one
        # (another spelling, or no company), the row says so.
        if body.get("name") != target.get("name") or not domain:
            _warn(plan, _joined(added, entity.first_row))
    return added


def _warn(plan: RowPlan, message: str | Mismatch) -> None:
    if plan.warnings is None:
        plan.warnings = []
    plan.warnings.append(message)
