"""The Inbound API's endpoints: their names, paths, response models and id fields (API.md §1).

Example:
    >>> PATHS["contacts"], ID_FIELDS["contacts"]
    ('inbound/contacts', 'people_id')
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from importer.api.models import AccountCreated, ContactCreated, NoteCreated, OpportunityCreated

__all__ = ["ENDPOINTS", "ID_FIELDS", "PATHS", "RESPONSE_MODELS", "Endpoint"]

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
