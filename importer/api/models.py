"""The Octolane Inbound API's request payloads and responses, as pydantic models.

These mirror API.md §1 field for field. Payload types are strict about what
the API requires (an email that looks like one, a UUID ``pipeline_id``, dates
as integer Unix milliseconds) so that a row that would earn a 400 is rejected
here, before anything is sent. A payload is a plain dict, sent as it is;
``TypeAdapter(ContactPayload).validate_python(body)`` checks one.
"""

from __future__ import annotations

from typing import Annotated, NotRequired

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, with_config
from typing_extensions import TypedDict  # pydantic needs this one before Python 3.12

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
EMAIL_PATTERN = r"^[^@\s,;<>()\[\]\"]{1,64}@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)*\.[A-Za-z0-9\-]{2,}$"
DOMAIN_PATTERN = r"^([a-z0-9]([a-z0-9\-]{0,61}[a-z0-9])?\.)+[a-z0-9\-]{2,63}$"
UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"

Email = Annotated[str, StringConstraints(pattern=EMAIL_PATTERN, max_length=254)]
Domain = Annotated[str, StringConstraints(pattern=DOMAIN_PATTERN, max_length=253)]
Uuid = Annotated[str, StringConstraints(pattern=UUID_PATTERN)]
Text = Annotated[str, StringConstraints(min_length=1, max_length=10_000)]
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=255)]
# Unix milliseconds from 1973-03-03 (10^11: below it the Inbound API takes a value for
# seconds and refuses it, API.md §4.5) to 2100: a value in seconds (or a year) is caught.
UnixMs = Annotated[int, Field(ge=100_000_000_000, le=4_102_444_800_000)]
#: The largest number every JSON reader keeps exactly (2^53 - 1): a bigger amount is refused.
MAX_SAFE_INTEGER = 2**53 - 1

# Payloads are TypedDicts checked by pydantic: the importer builds plain dicts and
# sends them as they are, so checking them needs no model instances (three times
# faster on a million rows than BaseModel, with the same rules and error locations).
_payload = ConfigDict(extra="forbid", strict=True)


@with_config(_payload)
class AccountPayload(TypedDict):
    """Body of ``POST /v1/inbound/accounts``."""

    domain: Domain
    #: Public API only (the Inbound client leaves it out).
    name: NotRequired[ShortText | None]


@with_config(_payload)
class ContactPayload(TypedDict):
    """Body of ``POST /v1/inbound/contacts``."""

    email: Email
    first_name: NotRequired[ShortText | None]
    last_name: NotRequired[ShortText | None]
    #: Public API only (the Inbound client leaves them out).
    job_title: NotRequired[ShortText | None]
    phone: NotRequired[ShortText | None]
    linkedin: NotRequired[ShortText | None]


@with_config(_payload)
class OpportunityBody(TypedDict):
    name: NotRequired[ShortText | None]
    stage_id: NotRequired[Uuid | None]
    deal_size: NotRequired[
        Annotated[float, Field(ge=0, le=MAX_SAFE_INTEGER, allow_inf_nan=False)] | None
    ]
    close_date: NotRequired[UnixMs | None]
    next_action_date: NotRequired[UnixMs | None]
    next_step: NotRequired[Text | None]
    #: Public API only (the Inbound client leaves them out).
    stage_name: NotRequired[ShortText | None]
    custom_attributes: NotRequired[dict[str, str | float | bool | None] | None]


@with_config(_payload)
class RelatedObjects(TypedDict):
    account_domain: NotRequired[Domain | None]
    primary_contact_email: NotRequired[Email | None]
    additional_contact_emails: NotRequired[list[Email] | None]
    owner_email: NotRequired[Email | None]


@with_config(_payload)
class OpportunityPayload(TypedDict):
    """Body of ``POST /v1/inbound/opportunities``."""

    pipeline_id: Uuid
    opportunity: OpportunityBody
    related_objects: RelatedObjects


@with_config(_payload)
class NoteBody(TypedDict):
    title: ShortText
    content: NotRequired[Text | None]


@with_config(_payload)
class NotePayload(TypedDict):
    """Body of ``POST /v1/inbound/notes``."""

    note: NoteBody
    account_domains: NotRequired[list[Domain] | None]
    contact_emails: NotRequired[list[Email] | None]


# ---- responses (the ``data`` object of a 200) --------------------------------

# Answers are read only by a run that sends: their validators are built on first use.
_response = ConfigDict(extra="allow", frozen=True, defer_build=True)


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
