"""The Octolane Inbound API's request payloads and responses, as pydantic models.

These mirror API.md §1 field for field. Payload models are strict about what
the API requires (an email that looks like one, a UUID ``pipeline_id``, dates
as integer Unix milliseconds) so that a row that would earn a 400 is rejected
here, before anything is sent.

The models are also the wire format: ``payload.model_dump(mode="json",
exclude_none=True)`` is the exact JSON body sent.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

__all__ = [
    "AccountCreated",
    "AccountPayload",
    "ContactCreated",
    "ContactPayload",
    "NoteBody",
    "NoteCreated",
    "NotePayload",
    "OpportunityBody",
    "OpportunityCreated",
    "OpportunityPayload",
    "RelatedObjects",
]

# A pragmatic address check run by pydantic-core's Rust regex: one @, no spaces,
# a dotted domain. Full RFC 5322 parsing (email-validator) is far too slow for
# the per-row hot path and rejects nothing Octolane would accept here.
EMAIL_PATTERN = r"^[^@\s,;<>()\[\]\"]+@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)*\.[A-Za-z0-9\-]{2,}$"
DOMAIN_PATTERN = r"^([a-z0-9]([a-z0-9\-]{0,61}[a-z0-9])?\.)+[a-z0-9\-]{2,63}$"
UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"

Email = Annotated[str, StringConstraints(pattern=EMAIL_PATTERN, max_length=254)]
Domain = Annotated[str, StringConstraints(pattern=DOMAIN_PATTERN, max_length=253)]
Uuid = Annotated[str, StringConstraints(pattern=UUID_PATTERN)]
Text = Annotated[str, StringConstraints(min_length=1, max_length=10_000)]
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=255)]
# Unix milliseconds between 1970 and 2100: a value in seconds (or a year) is caught.
UnixMs = Annotated[int, Field(ge=0, le=4_102_444_800_000)]

_payload = ConfigDict(extra="forbid", strict=True, frozen=True)


class AccountPayload(BaseModel):
    """Body of ``POST /v1/inbound/accounts``."""

    model_config = _payload
    domain: Domain


class ContactPayload(BaseModel):
    """Body of ``POST /v1/inbound/contacts``."""

    model_config = _payload
    email: Email
    first_name: ShortText | None = None
    last_name: ShortText | None = None


class OpportunityBody(BaseModel):
    model_config = _payload
    name: ShortText | None = None
    stage_id: Uuid | None = None
    deal_size: Annotated[float, Field(ge=0, allow_inf_nan=False)] | None = None
    close_date: UnixMs | None = None
    next_action_date: UnixMs | None = None
    next_step: Text | None = None


class RelatedObjects(BaseModel):
    model_config = _payload
    account_domain: Domain | None = None
    primary_contact_email: Email | None = None
    additional_contact_emails: list[Email] | None = None
    owner_email: Email | None = None


class OpportunityPayload(BaseModel):
    """Body of ``POST /v1/inbound/opportunities``."""

    model_config = _payload
    pipeline_id: Uuid
    opportunity: OpportunityBody
    related_objects: RelatedObjects


class NoteBody(BaseModel):
    model_config = _payload
    title: ShortText
    content: Text | None = None


class NotePayload(BaseModel):
    """Body of ``POST /v1/inbound/notes``."""

    model_config = _payload
    note: NoteBody
    account_domains: list[Domain] | None = None
    contact_emails: list[Email] | None = None


# ---- responses (the ``data`` object of a 200) --------------------------------

_response = ConfigDict(extra="allow", frozen=True)


class AccountCreated(BaseModel):
    model_config = _response
    company_id: str
    domain: str | None = None
    name: str | None = None


class ContactCreated(BaseModel):
    model_config = _response
    people_id: str
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None


class OpportunityCreated(BaseModel):
    model_config = _response
    opportunity_id: str
    name: str | None = None
    amount: float | None = None


class NoteCreated(BaseModel):
    model_config = _response
    note_id: str
    title: str | None = None
    content: str | None = None
