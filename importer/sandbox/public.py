"""The public API's creates, bulk creates, lists and searches (API.md §2.2-2.4), on the
same store as the inbound endpoints.

:class:`PublicApi` holds the handlers; :func:`public_routes` says which route each
serves and its tally name. The gauntlet (key, limits, latency, injected faults) is
:class:`~importer.sandbox.app.SandboxApp`'s; here is what happens once a request is
through it:

- a create checks its body, resolves pipeline, stage and owner, may fail by injection
  (``fail_items_containing``, ``item_failure_rate``), then writes; it answers
  ``public_success_status`` with ``{"success", "message", "data"}``;
- a bulk create does that per item, then writes the good items in one transaction. With
  ``bulk_mode="all_or_nothing"`` one bad item makes the whole request a 400 naming each
  bad field as ``[index].field``, and nothing is written; with ``"partial"`` the bad
  items are ``failed`` in the answer (``bulk_response``: ``per_item``, ``summary`` or
  ``empty``);
- a list or search pages the org's records oldest first; ``cursor`` is an offset.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import astuple, dataclass
from typing import Any, NamedTuple, Protocol

from importer.sandbox.config import Behaviour
from importer.sandbox.directory import OrgInfo, PipelineInfo
from importer.sandbox.faults import Faults
from importer.sandbox.public_checks import (
    PublicDeal,
    check_fast_bulk_opportunity,
    check_public_account,
    check_public_contact,
    check_public_note,
    check_public_opportunity,
)
from importer.sandbox.store import DealWrite, LinkedContact, Store
from importer.sandbox.validation import InvalidBody, normalise_domain, normalise_email

__all__ = [
    "MAX_BATCH",
    "Answer",
    "Problem",
    "PublicApi",
    "Unresolved",
    "ok",
    "public_routes",
    "unresolved",
]

Payload = dict[str, Any]
MAX_BATCH = 100
VALIDATION_FAILED = "Validation failed"
INJECTED = "Injected item failure"
_COUNTS = ("created", "resolved", "skipped", "failed")


class Answer(NamedTuple):
    """A handler's answer with a status other than 200."""

    status: int
    body: Payload


class Unresolved(Exception):
    """A well-formed reference that does not exist in the org (404, or 400 if so set)."""

    def __init__(self, status: int, message: str, errors: dict[str, str]) -> None:
        super().__init__(message)
        self.status, self.message, self.errors = status, message, errors


class Host(Protocol):
    """What the handlers need from the app: storage, faults, the behaviour in force."""

    store: Store
    faults: Faults
    behaviour: Behaviour

    def linked(self, email: str) -> LinkedContact: ...


class Problem(NamedTuple):
    status: int
    message: str
    field: str
    text: str


def unresolved(problems: list[Problem]) -> Unresolved:
    """One error for every reference that failed: the lowest status wins."""
    worst = min(p.status for p in problems)
    message = problems[0].message if len(problems) == 1 else "Referenced resources not found"
    if worst == 400:
        message = "Validation error"
    return Unresolved(worst, message, {p.field: p.text for p in problems})


def ok(message: str, data: Any) -> Payload:
    return {"success": True, "message": message, "data": data}


# ---- search filters ---------------------------------------------------------------

_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": lambda have, want: have == want,
    "neq": lambda have, want: have != want,
    "contains": lambda have, want: str(want).lower() in str(have or "").lower(),
    "starts_with": lambda have, want: str(have or "").lower().startswith(str(want).lower()),
    "in": lambda have, want: have in want,
    "empty": lambda have, want: have in (None, ""),
    "not_empty": lambda have, want: have not in (None, ""),
}
_ALIASES = {"is": "eq", "is_not": "neq", "contain": "contains", "is_any_of": "in"}
# Fields compared as the store normalises them (case-insensitive).
_NORMALISED: dict[str, Callable[[str], str | None]] = {
    "domain": normalise_domain,
    "email": normalise_email,
}


def _normalised(field: str, value: Any) -> Any:
    normalise = _NORMALISED.get(field)
    if normalise is None:
        return value
    if isinstance(value, list):
        return [_normalised(field, v) for v in value]
    return (normalise(value) or value.strip().lower()) if isinstance(value, str) else value


def _test(field: str, compare: Callable[[Any, Any], bool], value: Any) -> Callable[[Payload], bool]:
    return lambda record: compare(record.get(field), value)


def search_filters(
    filters: Any, fields: frozenset[str], errors: dict[str, str]
) -> list[Callable[[Payload], bool]]:
    """Each filter of a search as a test of a record; what cannot be applied, in ``errors``."""
    if not isinstance(filters, list) or len(filters) > 50:
        errors["filters"] = "filters must be a list of at most 50 filters"
        return []
    tests: list[Callable[[Payload], bool]] = []
    for n, item in enumerate(filters):
        where = f"filters[{n}]"
        if not isinstance(item, dict) or not isinstance(item.get("field"), str):
            errors[where] = "a filter is an object with a field"
            continue
        field, operator = item["field"], str(item.get("operator") or "eq")
        operator = _ALIASES.get(operator, operator)
        if field not in fields or operator not in _OPERATORS:
            errors[where] = (
                f"the sandbox filters on {', '.join(sorted(fields))} with {', '.join(_OPERATORS)}"
            )
            continue
        if operator == "in" and not isinstance(item.get("value"), list):
            errors[where] = "value must be a list for in"
            continue
        value = _normalised(field, item.get("value"))
        tests.append(_test(field, _OPERATORS[operator], value))
    return tests


class _Query(NamedTuple):
    text: str
    tests: list[Callable[[Payload], bool]]
    start: int
    limit: int


def _read_search(
    body: Mapping[str, Any], allowed: frozenset[str], fields: frozenset[str]
) -> _Query:
    """A ``SearchRequest``'s text, filters, start and limit; raises for what is not allowed."""
    errors: dict[str, str] = {}
    unknown = sorted(set(body) - allowed)
    if unknown:
        errors[unknown[0] or "body"] = "not allowed here (SearchRequest)"
    limit = body.get("limit", 100)
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= 500:
        errors["limit"] = "limit must be an integer from 1 to 500"
    cursor = body.get("cursor")
    if cursor is not None and not (isinstance(cursor, str) and cursor.isdigit()):
        errors["cursor"] = "unknown cursor"
    tests = search_filters(body.get("filters") or [], fields, errors)
    if errors:
        raise InvalidBody(errors)
    text = str(body.get("query") or body.get("q") or "").lower()
    return _Query(text, tests, int(cursor or 0), limit)


def _read_list(params: Mapping[str, str]) -> _Query:
    """A list's ``q``, ``cursor`` and ``limit`` (1-500, default 100) query parameters."""
    errors = {}
    text = params.get("limit", "100")
    limit = int(text) if text.isdigit() else 0
    if not 1 <= limit <= 500:
        errors["limit"] = "limit must be an integer from 1 to 500"
    cursor = params.get("cursor") or "0"
    if not cursor.isdigit():
        errors["cursor"] = "unknown cursor"
    if errors:
        raise InvalidBody(errors, message=VALIDATION_FAILED)
    return _Query(params.get("q", "").lower(), [], int(cursor), limit)


def page(noun: str, found: list[Payload], query: _Query, message: str) -> Payload:
    """One page of ``found`` in the list/search envelope."""
    start, limit = query.start, query.limit
    more = start + limit < len(found)
    data = {
        noun: found[start : start + limit],
        "custom_field_definitions": {},
        "has_more": more,
        "next_cursor": str(start + limit) if more else None,
        "limit": limit,
    }
    return ok(message, data)


def _matching(records: Iterable[Payload], query: _Query, keys: tuple[str, ...]) -> list[Payload]:
    """The records whose ``keys`` hold the query text and that pass every filter."""
    found = []
    for record in records:
        if query.text and not any(query.text in str(record.get(k) or "").lower() for k in keys):
            continue
        if all(test(record) for test in query.tests):
            found.append(record)
    return found


_SEARCH_KEYS = frozenset({"query", "q", "filters", "sort", "cursor", "limit", "fields"})
_ACCOUNT_FIELDS = frozenset({"id", "domain", "name"})
_CONTACT_FIELDS = frozenset({"id", "email", "first_name", "last_name"})
_DEAL_FIELDS = frozenset({"name", "id", "stage_id", "account_id"})


# ---- creates ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Failure:
    message: str
    errors: dict[str, str]
    reason: str


@dataclass(frozen=True, slots=True)
class _Kind:
    """One object's create: check and resolve an item, then write it."""

    prepare: Callable[[OrgInfo, Any], Any]
    write: Callable[[OrgInfo, Any], tuple[str, Payload]]  # (status, record)
    one: str  # the single create's message
    many: str  # the bulk create's message


def _item_key(index: int, path: str) -> str:
    return f"[{index}]" if path == "body" else f"[{index}].{path}"


def bulk_data(results: list[Payload], shape: str) -> Payload | None:
    """A bulk create's ``data`` in the shape ``bulk_response`` names."""
    if shape == "empty":
        return None
    counts = {status: sum(r["status"] == status for r in results) for status in _COUNTS}
    return {"results": results, **counts} if shape == "per_item" else counts


class PublicApi:
    """The handlers of the public API's creates, bulk creates, lists and searches."""

    def __init__(self, host: Host) -> None:
        self.host = host
        deal = self._prepare_deal
        self.kinds = {
            "accounts": _Kind(
                lambda org, body: check_public_account(body, host.behaviour),
                self._write_account,
                "Account was created or resolved",
                "Accounts were created or resolved",
            ),
            "contacts": _Kind(
                lambda org, body: check_public_contact(body, host.behaviour),
                self._write_contact,
                "Contact was created or resolved",
                "Contacts were created or resolved",
            ),
            "opportunities.create": _Kind(
                lambda org, body: deal(org, body, check_public_opportunity, "deal_dedup_create"),
                self._write_deal,
                "Opportunity was created",
                "",
            ),
            "opportunities.bulk": _Kind(
                lambda org, body: deal(org, body, check_public_opportunity, "deal_dedup_bulk"),
                self._write_deal,
                "",
                "Opportunities were created or skipped as duplicates",
            ),
            "opportunities.fast_bulk": _Kind(
                lambda org, body: deal(
                    org, body, check_fast_bulk_opportunity, "deal_dedup_fast_bulk"
                ),
                self._write_deal,
                "",
                "Opportunities were created or skipped as duplicates",
            ),
            "notes": _Kind(
                lambda org, body: check_public_note(body, host.behaviour),
                self._write_note,
                "Note was created",
                "Notes were created",
            ),
        }

    # ---- the request shapes ---------------------------------------------------------

    def single(self, kind: str) -> Callable[[OrgInfo, Any], Answer]:
        """The handler of a single create: its record as ``data``."""
        spec = self.kinds[kind]

        def create(org: OrgInfo, body: Any) -> Answer:
            if self.host.faults.item_fails(_text(body)):
                raise InvalidBody({"body": INJECTED}, message=INJECTED, reason="injected_fault")
            try:
                prepared = spec.prepare(org, body)
            except InvalidBody as exc:
                raise InvalidBody(exc.errors, message=VALIDATION_FAILED) from None
            with self.host.store.batch():
                _, record = spec.write(org, prepared)
            return Answer(self.host.behaviour.public_success_status, ok(spec.one, record))

        return create

    def bulk(self, kind: str) -> Callable[[OrgInfo, Any], Answer]:
        """The handler of a bulk create: 1-100 items, written in one transaction."""
        spec = self.kinds[kind]

        def create_many(org: OrgInfo, body: Any) -> Answer:
            if not isinstance(body, list) or not 1 <= len(body) <= MAX_BATCH:
                text = f"The body must be a JSON array of 1 to {MAX_BATCH} items"
                raise InvalidBody({"body": text}, message=VALIDATION_FAILED)
            rules = self.host.behaviour
            outcomes = [self._prepare(org, spec, item) for item in body]
            failures = {n: o for n, o in enumerate(outcomes) if isinstance(o, _Failure)}
            if failures and rules.bulk_mode == "all_or_nothing":
                errors = {
                    _item_key(n, path): text
                    for n, failure in failures.items()
                    for path, text in failure.errors.items()
                }
                injected = all(f.reason == "injected_fault" for f in failures.values())
                reason = "injected_fault" if injected else "invalid"
                raise InvalidBody(errors, message=VALIDATION_FAILED, reason=reason)
            results = self._write_all(org, spec, outcomes)
            data = bulk_data(results, rules.bulk_response)
            return Answer(rules.public_success_status, ok(spec.many, data))

        return create_many

    def _prepare(self, org: OrgInfo, spec: _Kind, item: Any) -> Any:
        """The item checked and resolved, or its :class:`_Failure`."""
        if self.host.faults.item_fails(_text(item)):
            return _Failure(INJECTED, {"body": INJECTED}, "injected_fault")
        try:
            return spec.prepare(org, item)
        except InvalidBody as exc:
            return _Failure(VALIDATION_FAILED, exc.errors, "invalid")
        except Unresolved as exc:
            return _Failure(exc.message, exc.errors, "not_found")

    def _write_all(self, org: OrgInfo, spec: _Kind, outcomes: list[Any]) -> list[Payload]:
        results: list[Payload] = []
        with self.host.store.batch():
            for n, outcome in enumerate(outcomes):
                if isinstance(outcome, _Failure):
                    message, errors = outcome.message, outcome.errors
                    failed = {"status": "failed", "id": None, "message": message, "errors": errors}
                    results.append({"index": n, **failed})
                else:
                    status, record = spec.write(org, outcome)
                    results.append({"index": n, "status": status, "id": record["id"]})
        return results

    # ---- each object ----------------------------------------------------------------

    def _write_account(self, org: OrgInfo, account: Any) -> tuple[str, Payload]:
        record, created = self.host.store.put_account(org.id, account.domain, account.name)
        return ("created" if created else "resolved"), record

    def _write_contact(self, org: OrgInfo, contact: Any) -> tuple[str, Payload]:
        host = self.host
        record, created = host.store.put_contact(
            org.id,
            host.linked(contact.email),
            contact.profile,
            host.behaviour.contact_names_on_repeat,
        )
        return ("created" if created else "resolved"), record

    def _prepare_deal(
        self, org: OrgInfo, body: Any, check: Callable[..., PublicDeal], dedup: str
    ) -> tuple[PublicDeal, DealWrite]:
        rules, linked = self.host.behaviour, self.host.linked
        deal = check(body, rules)
        pipeline_id, stage_id, owner = self._references(org, deal)
        return deal, DealWrite(
            pipeline_id=pipeline_id,
            name=deal.name,
            stage_id=stage_id,
            deal_size=deal.deal_size,
            close_date=deal.close_date,
            next_action_date=deal.next_action_date,
            next_step=deal.next_step,
            account_domain=deal.account.domain if deal.account else None,
            primary=linked(deal.primary.email) if deal.primary else None,
            additional=tuple(linked(c.email) for c in deal.additional),
            owner_email=owner,
            repeated_fields=rules.repeated_deal_fields,
            repeated_contacts=rules.repeated_deal_contacts,
            dedup=getattr(rules, dedup) == "domain_pipeline_name",
            custom_attributes=deal.custom_attributes,
        )

    def _write_deal(self, org: OrgInfo, prepared: Any) -> tuple[str, Payload]:
        deal, write = prepared
        store = self.host.store
        if deal.account is not None and deal.account.name:  # fast-bulk: a named account
            store.put_account(org.id, deal.account.domain, deal.account.name)
        for contact in (deal.primary, *deal.additional):  # fast-bulk: contacts with profiles
            if contact is not None and any(astuple(contact.profile)):
                self._write_contact(org, contact)
        record, created = store.put_opportunity(org.id, write)
        return ("created" if created else "skipped"), record

    def _write_note(self, org: OrgInfo, note: Any) -> tuple[str, Payload]:
        host = self.host
        created = host.store.create_note(
            org.id,
            note.title,
            note.content,
            note.account_domains,
            [host.linked(email) for email in note.contact_emails],
            create_records=host.behaviour.notes_create_records,
        )
        return "created", {"id": created["note_id"], "title": note.title, "content": note.content}

    def _references(self, org: OrgInfo, deal: PublicDeal) -> tuple[str, str, str | None]:
        """Pipeline, stage and owner e-mail of ``deal``; raises :class:`Unresolved`."""
        rules = self.host.behaviour
        problems: list[Problem] = []
        pipeline = _pipeline(org, deal, problems)
        stage_id = _stage(pipeline, deal, rules.unknown_stage_status, problems)
        owner = deal.owner_email
        status, field = rules.unknown_owner_status, "related_objects.owner_email"
        if owner is not None and owner not in org.member_emails:
            text = f"{owner} is not a member of this organization"
            problems.append(Problem(status, "Owner not found", field, text))
        if deal.owner_id is not None:
            by_id = org.member_ids.get(deal.owner_id)
            if by_id is None:
                text = f"{deal.owner_id} is not the id of a member of this organization"
                problems.append(Problem(status, "Owner not found", field[:-5] + "id", text))
            owner = owner or by_id
        if problems:
            raise unresolved(problems)
        assert pipeline is not None and stage_id is not None
        return pipeline.id, stage_id, owner

    # ---- reads --------------------------------------------------------------------

    def list_accounts(self, org: OrgInfo, params: Mapping[str, str]) -> Payload:
        """``GET /v1/accounts?q=&cursor=&limit=``: ``q`` in the name or domain."""
        query = _read_list(params)
        found = _matching(self._accounts(org), query, ("name", "domain"))
        return page("accounts", found, query, "Accounts were returned")

    def search_accounts(self, org: OrgInfo, body: Mapping[str, Any]) -> Payload:
        """``POST /v1/accounts/search``: filters on ``id``, ``domain``, ``name``."""
        query = _read_search(body, _SEARCH_KEYS, _ACCOUNT_FIELDS)
        found = _matching(self._accounts(org), query, ("name", "domain"))
        return page("accounts", found, query, "Accounts were returned")

    def list_contacts(self, org: OrgInfo, params: Mapping[str, str]) -> Payload:
        """``GET /v1/contacts?q=&cursor=&limit=``: ``q`` in the e-mail or names."""
        query = _read_list(params)
        found = _matching(self._contacts(org), query, ("email", "first_name", "last_name"))
        return page("contacts", found, query, "Contacts were returned")

    def search_contacts(self, org: OrgInfo, body: Mapping[str, Any]) -> Payload:
        """``POST /v1/contacts/search``: filters on ``id``, ``email``, names."""
        query = _read_search(body, _SEARCH_KEYS, _CONTACT_FIELDS)
        found = _matching(self._contacts(org), query, ("email", "first_name", "last_name"))
        return page("contacts", found, query, "Contacts were returned")

    def list_opportunities(self, org: OrgInfo, params: Mapping[str, str]) -> Payload:
        """``GET /v1/opportunities?pipeline_id=&stage_id=&q=&cursor=&limit=``."""
        pipeline_id = params.get("pipeline_id")
        if not pipeline_id:
            errors = {"pipeline_id": "pipeline_id is required"}
            raise InvalidBody(errors, message=VALIDATION_FAILED)
        query = _read_list(params)
        _known_pipeline(org, pipeline_id)
        stage_id = params.get("stage_id")
        records = [
            r
            for r in self._opportunities(org, pipeline_id)
            if stage_id is None or r["stage_id"] == stage_id.strip().lower()
        ]
        found = _matching(records, query, ("name",))
        return page("opportunities", found, query, "Opportunities were returned")

    def search_opportunities(self, org: OrgInfo, body: Mapping[str, Any]) -> Payload:
        """``POST /v1/opportunities/search`` (API.md §2.4), the subset an importer needs to
        find a deal again: ``pipeline_id`` (optional: all pipelines), ``filters`` on
        ``name``, ``id``, ``stage_id``, ``account_id`` with ``eq``, ``neq``, ``contains``,
        ``starts_with``, ``in``, ``empty``, ``not_empty``; ``q`` (name contains), ``limit``
        (1-500, default 100) and ``cursor``. Other documented keys are accepted and
        ignored; a key the docs do not allow, or a filter the sandbox cannot apply, is a 400."""
        allowed = _SEARCH_KEYS | {"pipeline_id", "stage_id"}
        query = _read_search(body, allowed, _DEAL_FIELDS)
        pipeline_id = body.get("pipeline_id")
        if pipeline_id is not None:
            _known_pipeline(org, str(pipeline_id))
        found = _matching(self._opportunities(org, pipeline_id), query, ("name",))
        return page("opportunities", found, query, "Opportunities were returned")

    def _accounts(self, org: OrgInfo) -> list[Payload]:
        return [
            {
                "id": row["company_id"],
                "name": row["name"],
                "domain": row["domain"],
                "custom_fields": {},
            }
            for row in self.host.store.list_accounts(org.id, 1_000_000, 0)
        ]

    def _contacts(self, org: OrgInfo) -> list[Payload]:
        records = []
        for row in self.host.store.list_contacts(org.id, 1_000_000, 0):
            record = {
                "id": row["people_id"],
                "first_name": row["first_name"],
                "last_name": row["last_name"],
                "email": row["email"],
                "custom_fields": {},
            }
            record.update({k: row[k] for k in ("job_title", "phone", "linkedin") if k in row})
            records.append(record)
        return records

    def _opportunities(self, org: OrgInfo, pipeline_id: Any) -> list[Payload]:
        wanted = None if pipeline_id is None else str(pipeline_id).strip().lower()
        return [
            {
                "id": row["opportunity_id"],
                "name": row["name"],
                "pipeline_id": row["pipeline_id"],
                "stage_id": row["stage_id"],
                "account_id": row["company_id"],
                "account_domain": row["account_domain"],
                "amount": row["amount"],
            }
            for row in self.host.store.list_opportunities(org.id, 1_000_000, 0)
            if wanted is None or row["pipeline_id"] == wanted
        ]


def _text(item: Any) -> str:
    """An item's JSON text, compact, as ``fail_items_containing`` looks into it."""
    return json.dumps(item, ensure_ascii=False, separators=(",", ":"))


def _known_pipeline(org: OrgInfo, pipeline_id: str) -> None:
    if pipeline_id.strip().lower() not in org.pipelines:
        raise Unresolved(404, f"Pipeline {pipeline_id} not found", {})


def _pipeline(org: OrgInfo, deal: PublicDeal, problems: list[Problem]) -> PipelineInfo | None:
    """By id, else by name (case-insensitive), else the org's first pipeline."""
    if deal.pipeline_id is not None:
        found = org.pipelines.get(deal.pipeline_id)
        field, text = "pipeline_id", f"Pipeline {deal.pipeline_id} not found"
    elif deal.pipeline_name is not None:
        names = {p.name.casefold(): p for p in org.pipelines.values()}
        found = names.get(deal.pipeline_name.casefold())
        field, text = "pipeline_name", f"Pipeline {deal.pipeline_name!r} not found"
    else:
        found = next(iter(org.pipelines.values()), None)
        field, text = "pipeline_id", "The organization has no pipeline"
    if found is None:
        problems.append(Problem(404, "Pipeline not found", field, text))
    return found


def _stage(
    pipeline: PipelineInfo | None, deal: PublicDeal, status: int, problems: list[Problem]
) -> str | None:
    """By id, else by label (case-insensitive), else the pipeline's first stage."""
    if pipeline is None:
        return None
    if deal.stage_id is not None:
        if deal.stage_id in pipeline.stage_ids:
            return deal.stage_id
        field = "opportunity.stage_id"
        text = f"Stage {deal.stage_id} is not a stage of pipeline {pipeline.id}"
    elif deal.stage_name is not None:
        labels = {
            n.casefold(): i for i, n in zip(pipeline.stage_ids, pipeline.stage_names, strict=True)
        }
        found = labels.get(deal.stage_name.casefold())
        if found is not None:
            return found
        field = "opportunity.stage_name"
        text = f"{deal.stage_name!r} is not a stage of pipeline {pipeline.id}"
    else:
        return pipeline.stage_ids[0]
    problems.append(Problem(status, "Stage not found", field, text))
    return None


def public_routes(
    api: PublicApi,
) -> list[tuple[str, str, str, Callable[[OrgInfo, Any], Any], bool]]:
    """``(method, path, tally name, handler, is a read)`` for each public route."""
    routes: list[tuple[str, str, str, Callable[[OrgInfo, Any], Any], bool]] = []
    for noun in ("accounts", "contacts", "notes"):
        routes.append(("POST", f"/v1/{noun}", f"{noun}.create", api.single(noun), False))
        routes.append(("POST", f"/v1/{noun}/bulk", f"{noun}.bulk", api.bulk(noun), False))
    deals = "/v1/opportunities"
    routes += [
        ("POST", deals, "opportunities.create", api.single("opportunities.create"), False),
        ("POST", f"{deals}/bulk", "opportunities.bulk", api.bulk("opportunities.bulk"), False),
        (
            "POST",
            f"{deals}/fast-bulk",
            "opportunities.fast_bulk",
            api.bulk("opportunities.fast_bulk"),
            False,
        ),
        ("GET", "/v1/accounts", "accounts.list", api.list_accounts, True),
        ("GET", "/v1/contacts", "contacts.list", api.list_contacts, True),
        ("GET", deals, "opportunities.list", api.list_opportunities, True),
        ("POST", "/v1/accounts/search", "accounts.search", api.search_accounts, True),
        ("POST", "/v1/contacts/search", "contacts.search", api.search_contacts, True),
        ("POST", f"{deals}/search", "opportunities_search", api.search_opportunities, True),
    ]
    return routes
