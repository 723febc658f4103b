"""The public API's lists and searches (API.md §2.4) over the sandbox's store, and
what the public handlers share: :class:`Answer`, :class:`Unresolved`, :class:`Host`.

A list or search pages the org's records oldest first; ``cursor`` is an offset
(opaque to clients). ``custom_field_definitions`` is always ``{}``: the sandbox has
no custom fields.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, NamedTuple, Protocol

from importer.sandbox.config import Behaviour
from importer.sandbox.directory import OrgInfo
from importer.sandbox.faults import Faults
from importer.sandbox.store import LinkedContact, Store
from importer.sandbox.validation import InvalidBody, normalise_domain, normalise_email

__all__ = [
    "Answer",
    "Host",
    "Problem",
    "PublicReads",
    "Unresolved",
    "ok",
    "page",
    "search_filters",
    "unresolved",
]

Payload = dict[str, Any]
VALIDATION_FAILED = "Validation failed"


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


class PublicReads:
    """The handlers of the public API's lists and searches."""

    def __init__(self, host: Host) -> None:
        self.host = host

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


def _known_pipeline(org: OrgInfo, pipeline_id: str) -> None:
    if pipeline_id.strip().lower() not in org.pipelines:
        raise Unresolved(404, f"Pipeline {pipeline_id} not found", {})
