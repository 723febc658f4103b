"""The Inbound API's endpoints: their names, paths, response models and id fields (API.md §1).

Example:
    >>> PATHS["contacts"], ID_FIELDS["contacts"]
    ('inbound/contacts', 'people_id')
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel

from importer.api.models import AccountCreated, ContactCreated, NoteCreated, OpportunityCreated

__all__ = [
    "BULK_PATHS",
    "ENDPOINTS",
    "ID_FIELDS",
    "PATHS",
    "PUBLIC_ONLY",
    "RESPONSE_MODELS",
    "Endpoint",
    "deal_name_from_domain",
    "to_inbound",
    "to_public",
    "wire_form",
]

Endpoint = Literal["accounts", "contacts", "opportunities", "notes"]
#: Dependency order: a request only depends on requests of earlier endpoints.
ENDPOINTS: tuple[Endpoint, ...] = ("accounts", "contacts", "opportunities", "notes")

#: Each endpoint's path below the base URL.
PATHS: dict[Endpoint, str] = {
    "accounts": "inbound/accounts",
    "contacts": "inbound/contacts",
    "opportunities": "inbound/opportunities",
    "notes": "inbound/notes",
}
#: Each endpoint's bulk route on the public API, below ``/v1``.
BULK_PATHS: dict[Endpoint, str] = {
    "accounts": "accounts/bulk",
    "contacts": "contacts/bulk",
    "opportunities": "opportunities/bulk",
    "notes": "notes/bulk",
}
#: The model of each endpoint's ``data`` object in a 200.
RESPONSE_MODELS: dict[Endpoint, type[BaseModel]] = {
    "accounts": AccountCreated,
    "contacts": ContactCreated,
    "opportunities": OpportunityCreated,
    "notes": NoteCreated,
}
#: The id each endpoint's response carries in ``data``.
ID_FIELDS: dict[Endpoint, str] = {
    "accounts": "company_id",
    "contacts": "people_id",
    "opportunities": "opportunity_id",
    "notes": "note_id",
}
#: Fields only the public API has, per endpoint and place in the payload: the Inbound
#: client leaves them out (the run says so once).
PUBLIC_ONLY: dict[Endpoint, dict[str | None, frozenset[str]]] = {
    "accounts": {None: frozenset({"name"})},
    "contacts": {None: frozenset({"job_title", "phone", "linkedin"})},
    "opportunities": {"opportunity": frozenset({"stage_name", "custom_attributes"})},
    "notes": {},
}


#: Second-level labels under which a company's name is the third label (acme.co.uk).
_SECOND_LEVEL = frozenset({"co", "com", "org", "net", "ac", "gov", "edu", "ltd", "plc", "or", "ne"})


def deal_name_from_domain(domain: str) -> str:
    """The name a deal sent without one gets: Octolane names it after its company's
    domain (API.md §1.3, §2.2; the exact rule is the sandbox's reading), the company's
    label in words.

    >>> deal_name_from_domain("acme-corp.co.uk"), deal_name_from_domain("xn--bcher-kva.de")
    ('Acme Corp', 'xn--bcher-kva.de')
    """
    labels = domain.split(".")
    if len(labels) < 2:
        return domain
    core = labels[-2]
    if len(labels) >= 3 and len(labels[-1]) == 2 and core in _SECOND_LEVEL:
        core = labels[-3]
    words = [w.capitalize() for w in core.split("-") if w]
    return " ".join(words) if words and not core.startswith("xn--") else domain


def to_inbound(endpoint: Endpoint, payload: Mapping[str, Any]) -> dict[str, Any]:
    """The payload without the fields only the public API has."""
    places = PUBLIC_ONLY.get(endpoint) or {}
    if not places:
        return dict(payload)
    body = dict(payload)
    for place, names in places.items():
        if place is None:
            for name in names & body.keys():
                del body[name]
        elif isinstance(body.get(place), Mapping) and names & body[place].keys():
            body[place] = {k: v for k, v in body[place].items() if k not in names}
    return body


def to_public(endpoint: Endpoint, payload: Mapping[str, Any]) -> dict[str, Any]:
    """The Inbound payload in the public API's names and units.

    >>> to_public("opportunities", {"pipeline_id": "p", "related_objects": {},
    ...     "opportunity": {"next_step": "Call", "close_date": 1717200000000}})["opportunity"]
    {'next_steps': 'Call', 'close_date': 1717200000}
    """
    body = dict(payload)
    if endpoint == "opportunities" and isinstance(body.get("opportunity"), Mapping):
        deal = dict(body["opportunity"])
        if "next_step" in deal:
            deal["next_steps"] = deal.pop("next_step")
        for name in ("close_date", "next_action_date"):
            if isinstance(deal.get(name), int):
                deal[name] = deal[name] // 1000  # milliseconds -> seconds
        body["opportunity"] = deal
    return body


def wire_form(
    api: str, endpoint: Endpoint, payload: Mapping[str, Any]
) -> tuple[str, dict[str, Any]]:
    """The path (below the API's root) and the JSON ``payload`` goes as on ``api``
    (``inbound``, or ``public``: an item of a bulk request's array)."""
    if api == "public":
        return f"/v1/{BULK_PATHS[endpoint]}", to_public(endpoint, payload)
    return f"/v1/{PATHS[endpoint]}", to_inbound(endpoint, payload)
