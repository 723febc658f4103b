"""The mapping file: which column feeds which Octolane field, and how.

A mapping is YAML (docs/mapping.md describes the format). It is
validated with pydantic by :func:`load_mapping` before any row is read; every
error names the file, the YAML key path and what is allowed. :func:`bind_mapping`
then checks it against the input's actual columns and turns each field into a
:class:`FieldReader` that evaluates a whole batch of rows at once.

Example:
    >>> mapping = load_mapping("mappings/hubspot.yaml")          # doctest: +SKIP
    >>> bound = bind_mapping(mapping, source.info.columns, sample) # doctest: +SKIP
"""

from __future__ import annotations

import difflib
import operator
import re
import string
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from importer.api.models import UUID_PATTERN
from importer.errors import MappingError
from importer.map.presets import load_yaml
from importer.map.stages import StageTable, build_stage_table
from importer.map.transforms import TransformError, compose, infer_date_order
from importer.map.transforms.cells import NULL_VALUES, formula_like, hidden_characters, quote
from importer.map.transforms.currency import cell_currency
from importer.map.transforms.domains import FileZones, is_personal_domain
from importer.map.transforms.emails import display_name
from importer.map.transforms.money import (
    ISO_CODES,
    NUMBER_CELL,
    PLAIN_AMOUNT,
    decide_decimal_mark,
)
from importer.map.transforms.names import split_full_name, unsplittable

__all__ = [
    "CELL_CURRENCY",
    "COMPANY_CELL_CURRENCY",
    "EMAIL_NAME",
    "BoundMapping",
    "FieldReader",
    "FieldSpec",
    "LinkSpec",
    "MappingFile",
    "bind_mapping",
    "is_required",
    "load_mapping",
    "load_rates",
    "natural_transforms",
    "needs_column",
    "parse_mapping",
    "parse_rates",
    "plain_number",
]


_strict = ConfigDict(extra="forbid", frozen=True)
TransformSpec = str | dict[str, Any]


class Override(BaseModel):
    """Another column that, where its cell is one of ``values``, is the field's value:
    Pipedrive's ``Deal - Status`` (``won``, ``lost``) over the deal's last stage."""

    model_config = _strict
    column: str
    values: tuple[str, ...] = Field(min_length=1)


class FieldSpec(BaseModel):
    """Where one API field comes from: a column, columns, a template or a value."""

    model_config = _strict
    column: str | None = None
    columns: tuple[str, ...] | None = None
    template: str | None = None
    value: str | int | float | bool | None = None
    transforms: tuple[TransformSpec, ...] = ()
    required: bool | None = None
    optional_column: bool = False
    override: Override | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        # `first_name: First Name` is the everyday form: a bare string is a column name.
        return {"column": data} if isinstance(data, str) else data

    @model_validator(mode="after")
    def _one_source(self) -> FieldSpec:
        given = [
            k for k in ("column", "columns", "template", "value") if getattr(self, k) is not None
        ]
        if len(given) != 1:
            raise ValueError(
                "give exactly one of column, columns, template or value"
                + (f" (got {', '.join(given)})" if given else "")
            )
        if self.columns is not None and not self.columns:
            raise ValueError("columns must list at least one column")
        if self.template is not None:
            template_columns(self.template)  # raises ValueError on a malformed template
        return self

    def referenced_columns(self) -> tuple[str, ...]:
        if self.column is not None:
            return (self.column,)
        if self.columns is not None:
            return self.columns
        if self.template is not None:
            return template_columns(self.template)
        return ()

    def read_columns(self) -> tuple[str, ...]:
        """Every column the field reads: its source's and its override's."""
        extra = (self.override.column,) if self.override is not None else ()
        return self.referenced_columns() + extra


class Options(BaseModel):
    model_config = _strict
    #: "auto": each amount column's mark is decided from its values (as date order is).
    decimal_mark: Literal[".", ",", "auto"] = "auto"
    date_order: Literal["auto", "dmy", "mdy", "ymd"] = "auto"
    timezone: str = "UTC"
    personal_domains: Literal["skip", "keep"] = "skip"
    account_domain_from_email: bool = True
    pipeline_id: str | None = Field(default=None, pattern=UUID_PATTERN)
    null_values: tuple[str, ...] = NULL_VALUES
    #: The currency of amounts whose cell and row name none (ISO 4217).
    currency: str = "USD"
    #: The currency a row's ``opportunity.exchange_rate`` is against (the CRM's home
    #: currency: Zoho's organization currency); None: the rates are not used.
    home_currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")
    #: A deal with no company domain and no contact e-mail: imported on its own, with a
    #: warning (what the API allows when it has a name), or rejected.
    unlinked_deals: Literal["import", "reject"] = "import"
    #: A stage label with no Octolane stage (not in ``stages:``, no stage of that name):
    #: ``error`` makes its rows invalid, ``first`` sends the deal to the pipeline's first
    #: stage, a stage name or id sends it there; the last two warn on each row.
    unmapped_stages: str = "error"

    @field_validator("currency", mode="before")
    @classmethod
    def _currency(cls, value: Any) -> Any:
        return _iso_code(value)


#: Fields of a mapping that only the public API takes (custom attributes too).
PUBLIC_ONLY_FIELDS = frozenset({
    "account.name", "contact.job_title", "contact.phone", "contact.linkedin",
    "opportunity.stage_name",
})  # fmt: skip


class AccountSpec(BaseModel):
    model_config = _strict
    domain: FieldSpec
    #: The company's name: sent by the public API only (``--api public``).
    name: FieldSpec | None = None


class ContactSpec(BaseModel):
    model_config = _strict
    email: FieldSpec
    first_name: FieldSpec | None = None
    last_name: FieldSpec | None = None
    #: Sent by the public API only (``--api public``); the Inbound API has no such fields.
    job_title: FieldSpec | None = None
    phone: FieldSpec | None = None
    linkedin: FieldSpec | None = None


class OpportunitySpec(BaseModel):
    model_config = _strict
    name: FieldSpec | None = None
    #: The CRM's stage label, turned into a stage id by the mapping's ``stages:`` table.
    stage: FieldSpec | None = None
    stage_id: FieldSpec | None = None
    deal_size: FieldSpec | None = None
    #: An amount already in ``options.currency`` (HubSpot "Amount in company currency"):
    #: where a row has one it is sent, and ``deal_size`` and ``currency`` do not apply.
    company_amount: FieldSpec | None = None
    #: The amount's currency (a column of ISO codes such as CurrencyIsoCode); not sent.
    currency: FieldSpec | None = None
    #: The row's own rate against ``options.home_currency`` (Zoho's "Exchange Rate":
    #: units of the deal's currency per unit of the home currency); not sent.
    exchange_rate: FieldSpec | None = None
    close_date: FieldSpec | None = None
    next_action_date: FieldSpec | None = None
    next_step: FieldSpec | None = None
    owner_email: FieldSpec | None = None
    additional_contact_emails: FieldSpec | None = None
    #: The stage's label, sent as it is for Octolane to resolve (public API only).
    stage_name: FieldSpec | None = None
    #: Custom attributes of the deal, by attribute name (public API only).
    custom_attributes: dict[str, FieldSpec] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_stage(self) -> OpportunitySpec:
        if self.stage is not None and self.stage_id is not None:
            raise ValueError(
                "map either stage (labels, through the stages: table) or stage_id (ids), not both"
            )
        return self


class NoteSpec(BaseModel):
    model_config = _strict
    title: FieldSpec
    content: FieldSpec | None = None
    #: Every person the note is about (a list cell, or a linked file's people): linked
    #: by e-mail beside ``contact.email``'s.
    contact_emails: FieldSpec | None = None


class SkipRule(BaseModel):
    """Rows to leave out, by a column's value: ``skipped``, with the reason on each row.

    ``reason`` may name the row's cells as ``{Column}`` (``{ConvertedContactId}``).
    """

    model_config = _strict
    column: str
    #: The cell values (compared without case or surrounding spaces) that skip a row...
    values: tuple[str, ...] = ()
    #: ... or: any filled cell but these skips it (an id column, but its "no record").
    other_than: tuple[str, ...] | None = None
    reason: str
    #: A file without the column skips nothing, without a warning (a preset's rule for
    #: one kind of export of its CRM).
    optional_column: bool = False

    @field_validator("values", "other_than", mode="before")
    @classmethod
    def _as_texts(cls, value: Any) -> Any:
        # (values: [1, true] is how a 0/1 or boolean column is written in YAML)
        if isinstance(value, list | tuple):
            return [str(v).lower() if isinstance(v, bool) else str(v) for v in value]
        return value

    @model_validator(mode="after")
    def _one_test(self) -> SkipRule:
        if bool(self.values) == (self.other_than is not None):
            raise ValueError("give values (the cells that skip a row) or other_than, not both")
        return self


#: A ``{Column}`` of a skip rule's reason (any name but braces: "Owner.Name", "Note: x").
REASON_CELL = re.compile(r"\{([^{}]+)\}")


class LinkSpec(BaseModel):
    """A join to another export of the same CRM, given with ``--with FILE``.

    Each row's ``by`` cell holds keys (``separator``-joined) of rows of the linked
    file, found in its ``key`` column; the linked rows' ``columns`` become columns of
    this file named ``<link>.<column>``, for the mapping's fields to read.
    """

    model_config = _strict
    #: This file's column holding the keys, or ``<earlier link>.<column>``.
    by: str
    #: The linked file's column the keys are found in (an id, or a name).
    key: str
    #: The linked file's columns brought in. The first is what the link is for (an
    #: e-mail, a website): linked rows without it are left out, and it lists every linked
    #: row's value; the others come from the first linked row that has it.
    columns: tuple[str, ...] = Field(min_length=1)
    #: Of ``columns``, those a linked file may lack (they read as empty, and the run
    #: says so): a companies export saved without "Website URL".
    optional_columns: tuple[str, ...] = ()
    #: A word the linked file's name holds ("Account", "companies"): picks among files.
    file: str | None = None
    #: ``id``: keys compare exactly; ``name``: without case and extra spaces, and a name
    #: that two different rows carry links nothing (with a warning); ``salesforce_id``:
    #: a Salesforce id's 15- and 18-character forms (a report's and Data Export's) match.
    match: Literal["id", "name", "salesforce_id"] = "id"
    #: The key may be in several rows of the linked file (contact roles): bring them all;
    #: a key in no row is then no problem (a deal no contact role names).
    many: bool = False
    separator: str = ";"
    #: Only keys that start with this are looked up here (Salesforce ids: ``003`` is a
    #: Contact, ``00Q`` a Lead, so one WhoId column can feed two links).
    key_prefix: str | None = None
    #: This file's column naming which of ``by``'s keys is the primary one (HubSpot's
    #: ``Associated Company IDs (Primary)``): it comes first, so it is the deal's company.
    #: A file without the column keeps ``by``'s order.
    primary: str | None = None
    #: The linked file's column that marks its primary rows (``IsPrimary`` of Salesforce
    #: contact roles: ``true``/``1``): they come first, so one is the deal's primary contact.
    primary_flag: str | None = None
    #: The linked file's column that marks deleted rows (Salesforce's ``IsDeleted``:
    #: ``true``/``1``): they link nothing, as if absent. A file without it keeps every row.
    deleted_flag: str | None = None


class MappingFile(BaseModel):
    """A whole mapping file, as validated from YAML."""

    model_config = _strict
    version: Literal[1] = 1
    description: str | None = None
    options: Options = Options()
    account: AccountSpec | None = None
    contact: ContactSpec | None = None
    opportunity: OpportunitySpec | None = None
    note: NoteSpec | None = None
    #: Joins to the other exports of the same CRM (``--with FILE``), in order.
    links: dict[str, LinkSpec] = Field(default_factory=dict)
    #: Stage label → Octolane stage (an id, or a stage name of the pipeline).
    stages: dict[str, str] = Field(default_factory=dict)
    #: US dollars per unit of each currency: how amounts in them are converted.
    currency_rates: dict[str, float] = Field(default_factory=dict)
    #: What would work when no row of a file gives anything to import (a preset
    #: knows its CRM: which export or column carries the domains or e-mails).
    when_nothing_imports: str | None = None
    #: The column holding each row's id in the source CRM (HubSpot "Record ID"), or
    #: candidate columns of which the first the file has is used: the results file
    #: carries each row's id beside the Octolane ids (see :meth:`source_id_columns`).
    source_id: str | tuple[str, ...] | None = None
    #: Rows left out by a column's value (Salesforce's converted leads: their contacts
    #: are in the Contact export); an ``extends:`` mapping's ``skip_rows: []`` keeps them.
    skip_rows: tuple[SkipRule, ...] = ()
    source: str = Field(default="<mapping>", exclude=True)
    #: The source_id came from a preset (the file itself, or one it extends): a file
    #: without its column warns, where the user's own single column stops the run.
    _source_id_from_preset: bool = PrivateAttr(default=False)

    @field_validator("currency_rates", mode="before")
    @classmethod
    def _rates(cls, value: Any) -> Any:
        return parse_rates(value) if isinstance(value, Mapping) else value

    @field_validator("description", "when_nothing_imports", mode="before")
    @classmethod
    def _strip(cls, value: Any) -> Any:
        return value.strip() if isinstance(value, str) else value

    @field_validator("source_id")
    @classmethod
    def _source_id(cls, value: str | tuple[str, ...] | None) -> str | tuple[str, ...] | None:
        names = (value,) if isinstance(value, str) else value
        if names is not None and (not names or not all(n.strip() for n in names)):
            raise ValueError("give the id column's name, or a list of candidate column names")
        return value

    def money_columns(self) -> tuple[str, ...]:
        """The columns read as amounts (a field whose transforms, its natural ones
        included, hold ``money``): where a workbook's cell format shows a currency, the
        reader writes it beside the number in these columns only."""
        found: list[str] = []
        for key, spec in self.fields():
            if _reads_money(key, spec):
                found.extend(c for c in spec.referenced_columns() if c not in found)
        return tuple(found)

    def source_id_columns(self) -> tuple[str, ...]:
        """The columns ``source_id`` names, in order (none when it is not set)."""
        if self.source_id is None:
            return ()
        return (self.source_id,) if isinstance(self.source_id, str) else self.source_id

    @property
    def source_id_required(self) -> bool:
        """Whether a file without the ``source_id`` column is refused: the user's own
        mapping names one column. A list of candidates, or a preset's, only warns."""
        return isinstance(self.source_id, str) and not self._source_id_from_preset

    @model_validator(mode="after")
    def _links_in_order(self) -> MappingFile:
        earlier: list[str] = []
        for name, link in self.links.items():
            if not name or "." in name or name != name.strip():
                raise ValueError(f"links: {name!r} is not a link name (a word, no dots)")
            head, dot, _ = link.by.partition(".")
            if dot and head in self.links and head not in earlier:
                raise ValueError(
                    f"links.{name}.by: {link.by!r} reads link {head!r}, which comes later;"
                    " list it first"
                )
            earlier.append(name)
        return self

    @model_validator(mode="after")
    def _some_object(self) -> MappingFile:
        if not any((self.account, self.contact, self.opportunity, self.note)):
            raise ValueError("map at least one of account, contact, opportunity, note")
        return self

    def fields(self) -> Iterable[tuple[str, FieldSpec]]:
        """(``object.field``, spec) for every mapped field, in a stable order."""
        for obj in ("account", "contact", "opportunity", "note"):
            spec = getattr(self, obj)
            if spec is None:
                continue
            for name in type(spec).model_fields:
                value = getattr(spec, name)
                if isinstance(value, dict):  # custom attributes, each a field of its own
                    for attribute, field_spec in value.items():
                        yield f"{obj}.{name}.{attribute}", field_spec
                elif value is not None:
                    yield f"{obj}.{name}", value

    def public_only(self) -> list[str]:
        """The mapped fields only the public API takes (``contact.job_title``, ...):
        on the Inbound API they are not sent, and a run says so once."""
        return [key for key, _ in self.fields() if key in PUBLIC_ONLY_FIELDS
                or key.startswith("opportunity.custom_attributes.")]  # fmt: skip


def _iso_code(value: Any) -> Any:
    if isinstance(value, str):
        code = value.strip().upper()
        if code not in ISO_CODES:
            raise ValueError(f"{value!r} is not an ISO 4217 currency code such as USD or EUR")
        return code
    return value


def parse_rates(rates: Mapping[Any, Any]) -> dict[str, float]:
    """Currency rates as given (code → US dollars per unit), checked.

    Raises:
        ValueError: a key is not a currency code, or a rate is not a positive number.

    >>> parse_rates({"eur": "1.08", "GBP": 1.27})
    {'EUR': 1.08, 'GBP': 1.27}
    """
    checked: dict[str, float] = {}
    given: dict[str, Any] = {}  # each code as written
    for code, rate in rates.items():
        key = _iso_code(str(code))
        if key in given:  # ("EUR" and "eur": one currency; which rate is meant?)
            raise ValueError(
                f"{key} has two rates ({given[key]!r}: {checked[key]!r}, {code!r}: {rate!r});"
                " keep one"
            )
        given[key] = code
        try:
            number = float(rate)
        except (TypeError, ValueError):
            number = float("nan")
        if not number > 0 or number == float("inf"):
            raise ValueError(f"the rate for {key} must be a positive number (got {rate!r})")
        if key == "USD" and number != 1:
            raise ValueError(
                f"the rate for USD must be 1 (got {rate!r}): rates are US dollars per unit of"
                " each currency, and Octolane takes US dollars"
            )
        checked[key] = number
    return checked


# Fields the API requires of an object the mapping sends (API.md §1).
API_REQUIRED = frozenset({"account.domain", "contact.email", "note.title"})


def is_required(key: str, spec: FieldSpec) -> bool:
    """Whether a row without this field is rejected: the mapping's ``required``, else the API's."""
    return spec.required if spec.required is not None else key in API_REQUIRED


def needs_column(key: str, spec: FieldSpec) -> bool:
    """Whether binding fails when the field's column is not in the file (else: a warning)."""
    return is_required(key, spec) and not spec.optional_column


def template_columns(template: str) -> tuple[str, ...]:
    """The column names a ``{Column}`` template refers to, in order."""
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise ValueError(
            f"malformed template {template!r}: {exc} (use {{{{ }}}} for a brace)"
        ) from exc
    names = []
    for _, name, spec, conversion in parts:
        if name is None:
            continue
        if (
            spec
            or conversion
            or not name.strip()
            or name.isdigit()
            or any(c in name for c in ".[]")
        ):
            shown = name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "")
            raise ValueError(
                f"template {template!r}: {{{shown}}} is not a column name; write {{Column Name}}"
                " (formatting belongs in transforms)"
            )
        names.append(name)
    return tuple(names)


# ---- loading --------------------------------------------------------------


def load_mapping(path: str | Path) -> MappingFile:
    """Read and validate a mapping YAML file.

    Raises:
        MappingError: the file is missing, is not valid YAML, or does not fit the
            format; the message names the file and the YAML key path.
    """
    path = Path(path)
    return parse_mapping(_read_text(path, "mapping file"), source=str(path))


def _read_text(path: Path, what: str) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise MappingError(f"{path}: no such {what}") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise MappingError(f"{path}: cannot read the {what}: {exc}") from exc


def load_rates(path: str | Path) -> dict[str, float]:
    """Currency rates from a file: YAML or JSON (``EUR: 1.08``), or CSV ``currency,rate``.

    Rates are US dollars per unit of the currency.

    Raises:
        MappingError: the file is missing, unreadable, or holds something else; the
            message names the file (and the line of a CSV).
    """
    import csv
    import io

    path = Path(path)
    text = _read_text(path, "rates file")
    table: dict[Any, Any]
    if path.suffix.lower() in (".csv", ".tsv", ".txt"):
        table = {}
        lines: dict[str, int] = {}  # each currency's line
        reader = csv.reader(io.StringIO(text), delimiter="\t" if path.suffix == ".tsv" else ",")
        for line, cells in enumerate(reader, 1):
            cells = [c.strip() for c in cells]
            if not any(cells) or (line == 1 and cells[0].lower() in ("currency", "code")):
                continue
            if len(cells) != 2:
                raise MappingError(
                    f"{path}: line {line}: expected two cells, currency and rate (got {cells!r})"
                )
            code = cells[0].upper()
            if code in lines:
                raise MappingError(
                    f"{path}: lines {lines[code]} and {line} both give a rate for {code}; keep one"
                )
            lines[code] = line
            table[cells[0]] = cells[1]
    else:
        try:
            loaded = load_yaml(text)
        except yaml.YAMLError as exc:
            raise MappingError(f"{path}: invalid YAML or JSON: {exc}") from exc
        if not isinstance(loaded, dict):
            raise MappingError(f"{path}: a rates file maps currency codes to rates, e.g. EUR: 1.08")
        table = loaded.get("currency_rates", loaded)
    try:
        return parse_rates(table)
    except ValueError as exc:
        raise MappingError(f"{path}: {exc}") from exc


def parse_mapping(text: str, *, source: str = "<mapping>") -> MappingFile:
    """Validate mapping YAML given as text; ``source`` names it in errors."""
    try:
        data = load_yaml(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise MappingError(f"{source}: {where}invalid YAML: {problem}") from exc
    if not isinstance(data, dict):
        got = "it is empty" if data is None else f"got {type(data).__name__}"
        raise MappingError(
            f"{source}: a mapping file is a YAML mapping with keys such as contact:, account:"
            f" ({got})"
        )
    own_source_id = "source_id" in data  # (before a mapping it extends fills it in)
    data = _extended(data, source, ())
    inherited_from = data.pop(_SOURCE_ID_FROM, None)  # the file an inherited one is from
    try:
        mapping = MappingFile.model_validate(data)
    except ValidationError as exc:
        raise MappingError(f"{source}: " + _describe_errors(exc)) from exc
    mapping = mapping.model_copy(update={"source": source})
    if mapping.source_id is not None and _is_preset(source if own_source_id else inherited_from):
        mapping._source_id_from_preset = True
    for key, spec in mapping.fields():
        try:
            compose([_with_defaults(item, mapping.options) for item in spec.transforms])
        except ValueError as exc:  # the message starts "transforms[i] (name): ..."
            raise MappingError(f"{source}: {key}.{exc}") from exc
    return mapping


def _is_preset(source: str | None) -> bool:
    """Whether ``source`` is the file of a bundled preset."""
    from importer.map.presets import preset_dir

    if source is None:
        return False
    directory = preset_dir()
    path = Path(source)
    try:
        return (
            directory is not None
            and path.is_file()
            and path.resolve().parent == directory.resolve()
        )
    except OSError:
        return False


#: The key under which :func:`_extended` says which file an inherited ``source_id:``
#: comes from (no YAML mapping has it): a preset's id column only warns when missing.
_SOURCE_ID_FROM = "\0source_id from"

# Sections an ``extends:`` mapping merges key by key (a key set to null removes it).
_MERGED = (
    "options",
    "account",
    "contact",
    "opportunity",
    "note",
    "stages",
    "currency_rates",
    "links",
)


def _extended(data: dict[str, Any], source: str, seen: tuple[str, ...]) -> dict[str, Any]:
    """``data`` on top of the mapping its ``extends:`` names (a preset or a file beside it).

    The sections in ``_MERGED`` merge key by key, the extending mapping winning; a key
    given as null is removed (``opportunity: {next_step: null}``); anything else replaces.
    """
    base_name = data.pop("extends", None)
    if base_name is None:
        return data
    from importer.map.presets import resolve_mapping_path

    if not isinstance(base_name, str) or not base_name.strip():
        raise MappingError(f"{source}: extends: give a preset name or a mapping file")
    beside = Path(source).parent / base_name
    path = beside if beside.suffix in (".yaml", ".yml") and beside.exists() else None
    if path is None:
        try:
            path = resolve_mapping_path(base_name)
        except MappingError as exc:
            raise MappingError(f"{source}: extends: {exc}") from exc
    if str(path) in seen or len(seen) > 8:
        raise MappingError(f"{source}: extends: {base_name} extends itself")
    try:
        base = load_yaml(path.read_text(encoding="utf-8-sig"))
    except (OSError, yaml.YAMLError) as exc:
        raise MappingError(f"{source}: extends: cannot read {base_name}: {exc}") from exc
    if not isinstance(base, dict):
        raise MappingError(f"{source}: extends: {base_name} is not a mapping file")
    base_source_id = "source_id" in base
    merged = _extended(base, str(path), (*seen, str(path)))
    if base_source_id:
        merged[_SOURCE_ID_FROM] = str(path)
    if "source_id" in data:
        merged.pop(_SOURCE_ID_FROM, None)
    for key, value in data.items():
        if key in _MERGED and isinstance(value, dict) and isinstance(merged.get(key), dict):
            section = {**merged[key], **value}
            merged[key] = {k: v for k, v in section.items() if v is not None}
        elif key in _MERGED and value is None:
            merged.pop(key, None)  # "links: null" drops the preset's links
        else:
            merged[key] = value
    return merged


def _describe_errors(exc: ValidationError) -> str:
    lines = []
    # A misspelt key also makes the right one "missing": name the misspelling first.
    errors = sorted(exc.errors(include_url=False), key=lambda e: e["type"] != "extra_forbidden")
    for error in errors:
        loc = ".".join(str(p) for p in error["loc"] if not str(p).startswith("function-"))
        loc = re.sub(r"\.(\d+)(?=\.|$)", r"[\1]", loc)
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            parent, _, key = loc.rpartition(".")
            allowed = _allowed_keys(parent)
            close = difflib.get_close_matches(key, allowed, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            message = f"unknown key{hint}; allowed here: {', '.join(allowed)}"
        elif error["type"] == "literal_error":
            message = f"{message} (got {error['input']!r})"
        lines.append(f"{loc or '<top>'}: {message}")
    return "; ".join(dict.fromkeys(lines))


def _allowed_keys(parent: str) -> list[str]:
    models: dict[str, type[BaseModel]] = {
        "": MappingFile,
        "options": Options,
        "account": AccountSpec,
        "contact": ContactSpec,
        "opportunity": OpportunitySpec,
        "note": NoteSpec,
    }
    if parent.startswith("links."):
        return list(LinkSpec.model_fields)
    model = models.get(parent, FieldSpec)
    return [k for k in model.model_fields if k != "source"]


def _with_defaults(
    item: TransformSpec,
    options: Options,
    *,
    date_order: str | None = None,
    decimal_mark: str | None = None,
    number_cells: bool = False,
    exact: bool = False,
) -> Any:
    """Give money/date transforms the mapping-wide decimal mark, date order and timezone.

    ``date_order`` / ``decimal_mark``: what was decided for this column from its values.
    ``exact``: a money transform keeps every decimal (an exchange rate's).
    """
    name, params = (item, {}) if isinstance(item, str) else next(iter(item.items()))
    params = dict(params or {}) if isinstance(params, Mapping) else params
    if name == "money" and isinstance(params, dict):
        if decimal_mark is not None:
            params["decimal_mark"] = decimal_mark
        params.setdefault("decimal_mark", options.decimal_mark)
        if number_cells:
            params["number_cells"] = True
        if exact:
            params["exact"] = True
    elif name == "date" and isinstance(params, dict):
        if "format" not in params:
            params.setdefault("order", date_order or options.date_order)
        params.setdefault("timezone", options.timezone)
    if not isinstance(item, str) and params != next(iter(item.values())):
        return {name: params}
    if isinstance(item, str) and params:
        return {name: params}
    return item


# ---- binding to an input's columns ----------------------------------------


@dataclass(slots=True)
class FieldReader:
    """Evaluates one mapped field over a batch of rows, column-wise.

    ``read(rows)`` returns the values and the errors (row index → message).
    Results of the transform chain are memoised per distinct input: domains,
    stages and dates repeat across thousands of rows.
    """

    key: str
    spec: FieldSpec
    label: str  # what a user calls the source: "column 'Email'", "template '...'"
    getter: Callable[[Sequence[str]], Any]
    chain: Callable[[Any], Any]
    required: bool
    position: int | None = None  # a single column's index: the fast path
    clean: Callable[[str], str | None] | None = None
    #: Cells read without the chain: (does the raw cell match, its value). An amount
    #: column's plain cells ("45362.12"): most of a deal file's distinct values.
    plain: tuple[Callable[[str], Any], Callable[[str], Any]] | None = None
    #: A batch none of whose cells holds one of these characters (or, given a pattern,
    #: none of which it finds) reads as all None.
    needs: str | re.Pattern[str] | None = None
    _cache: dict[Any, Any] = field(default_factory=dict)
    _bad: set[Any] = field(default_factory=set)  # the cached inputs that failed
    #: The last batch read and what it read (a batch read again, by the totals-row finder
    #: after validation, is not read twice: each of its amounts parsed again cost 0.5 s a
    #: million-row deals file).
    _last: tuple[Any, tuple[list[Any], dict[int, str], dict[int, str]]] | None = None

    def read(
        self, rows: Sequence[Sequence[str]]
    ) -> tuple[list[Any], dict[int, str], dict[int, str]]:
        """The batch's values, the errors and the warnings (row index -> message)."""
        last = self._last
        if last is not None and last[0] is rows:  # (copies: a caller may change its own)
            values, errors, removed = last[1]
            return list(values), dict(errors), dict(removed)
        read = self._read(rows)
        self._last = rows, read
        values, errors, removed = read
        return list(values), dict(errors), dict(removed)

    def _read(
        self, rows: Sequence[Sequence[str]]
    ) -> tuple[list[Any], dict[int, str], dict[int, str]]:
        if self.position is not None:
            # One column: memoise on the raw cell, so a repeated value costs one lookup.
            pos, clean, chain = self.position, self.clean, self.chain
            assert clean is not None  # bind_mapping gives every reader its cleaner
            raw = list(map(operator.itemgetter(pos), rows))
            needs = self.needs
            if needs is not None:
                # One scan of the whole batch, at C speed (a pattern's batch is joined by a
                # space, which it allows: a control character in a cell is still seen).
                if isinstance(needs, str):
                    cells = "\x1f".join(raw)
                    skip = not any(c in cells for c in needs)
                else:
                    skip = needs.search(" ".join(raw)) is None
                if skip:
                    return [None] * len(raw), {}, {}
            refused, removed = self._unhide(raw, "")
            values, errors = self._evaluate(raw, lambda text: chain(clean(text)))
        else:
            raw = [self.getter(row) for row in rows]
            refused, removed = self._unhide(raw, None)
            values, errors = self._evaluate(raw, self.chain)
        errors.update(refused)
        return values, errors, removed

    def _unhide(self, raw: list[Any], empty: str | None) -> tuple[dict[int, str], dict[int, str]]:
        """Takes control characters and direction overrides out of ``raw`` in place.

        In an e-mail address or a domain the value is refused (``empty`` takes its
        place): without them it would name another person or company. Elsewhere they
        are removed, and the row says so.
        """
        hidden = hidden_characters(raw)
        if not hidden:
            return {}, {}
        refused: dict[int, str] = {}
        removed: dict[int, str] = {}
        identity = self.key in IDENTITY_FIELDS
        for i, (text, found) in hidden.items():
            if identity:
                refused[i] = (
                    f"{quote(raw[i])} holds hidden characters, {found}: the address would "
                    "change without them; correct the cell in the file"
                )
                raw[i] = empty
            else:
                raw[i] = text
                removed[i] = f"hidden characters removed from the value: {found}"
        return refused, removed

    def _evaluate(
        self, raw: list[Any], compute: Callable[[Any], Any]
    ) -> tuple[list[Any], dict[int, str]]:
        cache, bad = self._cache, self._bad
        fresh = set(raw).difference(cache)  # each new value once, found at C speed
        if self.plain is not None and fresh:
            matches, value_of = self.plain
            for value in [v for v in fresh if type(v) is str and matches(v)]:
                cache[value] = value_of(value)
                fresh.discard(value)
        for value in fresh:
            try:
                cache[value] = compute(value)
            except TransformError as exc:
                cache[value] = exc
                bad.add(value)
        values = list(map(cache.__getitem__, raw))
        errors: dict[int, str] = {}
        if bad and not bad.isdisjoint(raw):  # only a batch with a failing value is scanned
            errors = {i: str(v) for i, v in enumerate(values) if type(v) is TransformError}
            for i in errors:
                values[i] = None
        if len(cache) > 50_000:  # a column of unique values: keep memory bounded
            cache.clear()
            bad.clear()
        return values, errors


@dataclass(slots=True)
class BoundMapping:
    """A mapping checked against an input's columns, ready to evaluate batches."""

    mapping: MappingFile
    readers: dict[str, FieldReader]
    warnings: list[str]
    columns: tuple[str, ...]
    checked: dict[str, set[Any]] = field(default_factory=dict)  # payload parts known valid
    #: Stage labels → stage ids, when the mapping reads a stage column.
    stages: StageTable | None = None
    #: The file's zones that ``account.domain``'s ``domain`` transform cuts by, when the
    #: whole file is validated (:func:`importer.validate.validated_source`).
    zones: FileZones | None = None
    #: Where each row's ``source_id`` is: the position of the mapping's id column in
    #: the rows, or None when it names none or the file has none of its columns.
    source_id: int | None = None
    #: The rows to skip: each rule's column position, its values (case-folded), whether
    #: they are the only filled values that do not skip, its reason, and the positions of
    #: the columns the reason names.
    skips: tuple[tuple[int, frozenset[str], bool, str, dict[str, int]], ...] = ()
    #: The positions of the columns read as amounts, whose workbook number cells read
    #: with the currency their format shows (:func:`plain_number` takes it off).
    amounts: frozenset[int] = frozenset()

    @property
    def objects(self) -> tuple[str, ...]:
        return tuple(
            o for o in ("account", "contact", "opportunity", "note") if getattr(self.mapping, o)
        )


def bind_mapping(
    mapping: MappingFile,
    columns: Sequence[str],
    sample_rows: Sequence[Sequence[str]] = (),
    *,
    input_name: str = "the input",
    stages: StageTable | None = None,
    spreadsheet: bool = False,
    zones: FileZones | None = None,
) -> BoundMapping:
    """Check ``mapping`` against the input's columns and build a reader per field.

    ``zones``: the file's zones (:class:`~importer.map.transforms.domains.FileZones`),
    which the ``domain`` transform of ``account.domain`` cuts by; without them it cuts
    each value on its own.

    ``spreadsheet``: the input is XLSX/XLS, whose number cells read as ``12.125``: those
    are numbers, left out of a column's decimal-mark decision and read as they are.

    ``stages``: the run's stage table (:func:`importer.map.stages.build_stage_table`);
    when the mapping reads stage labels and none is given, one is built from the
    mapping alone (stage ids only).

    ``sample_rows`` (the first batch) lets automatic date order and decimal mark be
    decided per column: a column whose dates all read both day-first and
    month-first is refused, since a silent guess would shift dates by months, and
    so is an amount column that writes both decimal marks or contradicts the
    mapping's ``decimal_mark``, since a silent guess would be off by 1,000.

    Raises:
        MappingError: a required column is missing (the message lists the
            input's columns), or a date column is ambiguous.
    """
    columns = tuple(columns)
    index = {name: i for i, name in enumerate(columns)}
    # Case/whitespace-insensitive fallback: "email " in a header still matches "Email".
    loose = {_loose(name): i for i, name in reversed(list(enumerate(columns)))}
    warnings: list[str] = []
    readers: dict[str, FieldReader] = {}
    nulls = frozenset(v.strip().lower() for v in mapping.options.null_values)
    # The columns read as amounts, whose workbook number cells read with the currency
    # their format shows ("3000.5\u00a0€"): any other field reading one gets the number.
    found = (index.get(n, loose.get(_loose(n))) for n in mapping.money_columns())
    amounts = frozenset(p for p in found if p is not None) if spreadsheet else frozenset()
    for key, spec in mapping.fields():
        required = is_required(key, spec)
        positions: dict[str, int | None] = {}
        for name in spec.referenced_columns():
            positions[name] = index.get(name, loose.get(_loose(name)))
        missing = [name for name, pos in positions.items() if pos is None]
        present = [name for name, pos in positions.items() if pos is not None]
        where = f"{mapping.source}: {key}"
        if missing and spec.columns is not None and present:
            if not spec.optional_column:  # (with it, the mapping expects some to be absent)
                warnings.append(
                    f"{where}: column(s) {_names(missing)} not in {input_name};"
                    f" using {_names(present)}"
                )
        elif missing and spec.template is not None and present:
            if not spec.optional_column:  # a template's absent column reads as empty
                warnings.append(
                    f"{where}: column(s) {_names(missing)} not in {input_name}; the template"
                    " reads them as empty"
                )
        elif missing:
            message = (
                f"{where}: column {_names(missing)} is not in {input_name} "
                f"(columns: {', '.join(columns)})"
            )
            if needs_column(key, spec):
                raise MappingError(message)
            if key == "opportunity.exchange_rate" and spec.optional_column:
                continue  # (one-currency accounts have no rates: nothing follows from it)
            if key == "opportunity.currency":  # normal in one-currency accounts: say what follows
                warnings.append(
                    f"{where}: no column {_names(missing)} in {input_name}: amounts whose cell names"
                    f" no currency are read as {mapping.options.currency} (options.currency)"
                )
                continue
            warnings.append(message + "; the field is left empty")
            continue
        numbers = not amounts.isdisjoint(positions.values()) and not _reads_money(key, spec)
        getter, label = _getter(spec, positions, nulls, numbers)
        position = positions[spec.column] if spec.column is not None else None
        # A personal address first, a work one after (in the cell, or in a later column):
        # the account is the work one's company.
        company_first = key == "account.domain" and mapping.options.personal_domains == "skip"
        if company_first and spec.columns is not None:
            getter = _business_first([p for p in positions.values() if p is not None], nulls)
        if spec.override is not None:
            over = spec.override
            at = index.get(over.column, loose.get(_loose(over.column)))
            if at is None:
                warnings.append(
                    f"{where}: column {over.column!r} is not in {input_name}: its"
                    f" {', '.join(map(repr, over.values))} cells, which would be the field's"
                    " value, are not read"
                )
            else:
                getter, label = (
                    _overridden(getter, at, over.values, nulls),
                    (
                        f"{label}, or column {over.column!r} where it says"
                        f" {' or '.join(map(repr, over.values))}"
                    ),
                )
                position = None  # not the single-column fast path: two columns decide
        spec = spec.model_copy(update={"transforms": natural_transforms(key, spec.transforms)})
        date_order = _decide_date_order(where, spec, getter, sample_rows, label, mapping.options)
        decimal_mark = _decide_decimal_mark(
            where, spec, getter, sample_rows, label, mapping.options, warnings, spreadsheet
        )
        defaults = {"date_order": date_order, "decimal_mark": decimal_mark}
        chain = compose(
            [
                _with_defaults(
                    t,
                    mapping.options,
                    **defaults,
                    number_cells=spreadsheet,
                    exact=key in _EXACT_MONEY,
                )
                for t in spec.transforms
            ],
            zones=zones if key == "account.domain" else None,
        )
        if company_first and spec.columns is None:
            chain = _company_first(chain)
        plain = _plain_amounts(spec, decimal_mark, nulls) if position is not None else None
        readers[key] = FieldReader(
            key, spec, label, getter, chain, required, position, _cleaner(nulls, numbers), plain
        )
        if key == "contact.email":
            # The name an e-mail cell writes beside the address ("Jo Smith <jo@x.com>").
            readers[EMAIL_NAME] = FieldReader(
                EMAIL_NAME,
                spec,
                label,
                getter,
                _email_name,
                False,
                position,
                _cleaner(nulls),
                (_NO_BRACKET.fullmatch, _nothing),  # a bare address names nobody
                "<(",
            )
        if key in _CELL_CURRENCIES:
            # The currency the amount cell itself writes (€, R$, EUR): read beside it.
            readers[_CELL_CURRENCIES[key]] = FieldReader(
                _CELL_CURRENCIES[key],
                spec,
                label,
                getter,
                _cell_currency,
                False,
                position,
                _cleaner(nulls),
                (PLAIN_AMOUNT.fullmatch, _nothing),  # "45362.12" writes none
                _WRITES_CURRENCY,
            )
    _unmapped_deal_fields(mapping, readers, warnings)
    if stages is None and "opportunity.stage" in readers:
        stages = build_stage_table(
            mapping.stages, mapping.options.unmapped_stages, None, source=mapping.source
        )
    if "account.domain" not in readers:
        zones = None
    source_id = _source_id_position(mapping, columns, index, loose, input_name, warnings)
    skips = []
    for rule in mapping.skip_rows:
        position = index.get(rule.column, loose.get(_loose(rule.column)))
        if position is None:
            if not rule.optional_column:
                warnings.append(
                    f"{mapping.source}: skip_rows: column {rule.column!r} is not in"
                    f" {input_name}: no row is skipped by it"
                )
            continue
        named = {
            name: at
            for name in REASON_CELL.findall(rule.reason)
            if (at := index.get(name, loose.get(_loose(name)))) is not None
        }
        listed = rule.values if rule.other_than is None else rule.other_than
        values = frozenset(v.strip().casefold() for v in listed)
        skips.append((position, values, rule.other_than is not None, rule.reason, named))
    return BoundMapping(
        mapping, readers, warnings, columns, stages=stages, zones=zones, source_id=source_id,
        skips=tuple(skips), amounts=amounts,
    )  # fmt: skip


def _unmapped_deal_fields(
    mapping: MappingFile, readers: Mapping[str, FieldReader], warnings: list[str]
) -> None:
    """What follows for every deal when a mapping maps no stage, or no currency beside its
    amounts: said once, not left for the user to find in Octolane."""
    if not mapping.opportunity:
        return
    keys = {key for key, _ in mapping.fields()}
    if not keys & {"opportunity.stage", "opportunity.stage_id", "opportunity.stage_name"}:
        warnings.append(
            f"{mapping.source}: opportunity: no stage is mapped: every deal goes to the"
            " pipeline's first stage (map the export's stage column as opportunity.stage)"
        )
    if "opportunity.deal_size" in readers and "opportunity.currency" not in keys:
        warnings.append(
            f"{mapping.source}: opportunity.deal_size: no currency column is mapped: amounts"
            f" whose cell names no currency are read as {mapping.options.currency}"
            " (options.currency)"
        )


def _source_id_position(
    mapping: MappingFile,
    columns: tuple[str, ...],
    index: Mapping[str, int],
    loose: Mapping[str, int],
    input_name: str,
    warnings: list[str],
) -> int | None:
    """The position of the first ``source_id`` column the file has (names match as a
    field's do). None found: an error for the user's own single column, else a warning."""
    names = mapping.source_id_columns()
    for name in names:
        position = index.get(name, loose.get(_loose(name)))
        if position is not None:
            return position
    if not names:
        return None
    where = f"{mapping.source}: source_id"
    if mapping.source_id_required:
        raise MappingError(
            f"{where}: column {_names(names)} is not in {input_name} (columns: {', '.join(columns)})"
        )
    which = f"column {_names(names)} is" if len(names) == 1 else f"none of {_names(names)} is"
    warnings.append(
        f"{where}: {which} in {input_name}: the results file's source_id column is left empty"
    )
    return None


#: The reader of the currency written in a deal's amount cell (not a mapping field).
CELL_CURRENCY = "opportunity.deal_size.currency"
#: The same for the amount already in the company's currency (a cell may still say £).
COMPANY_CELL_CURRENCY = "opportunity.company_amount.currency"
_CELL_CURRENCIES = {
    "opportunity.deal_size": CELL_CURRENCY,
    "opportunity.company_amount": COMPANY_CELL_CURRENCY,
}
#: Fields that name a person or a company: a hidden character in them refuses the value
#: rather than being removed, which would silently point at someone else.
IDENTITY_FIELDS = frozenset(
    {
        "contact.email",
        "account.domain",
        "opportunity.additional_contact_emails",
        "opportunity.owner_email",
        "note.contact_emails",
    }
)


def _nothing(text: str) -> None:
    """A plain cell's value for a reader that reads nothing from plain cells."""
    return None


#: The reader of the (first name, last name, whole name) an e-mail cell writes beside its
#: address (the whole name for the row's warning of a title the split drops).
EMAIL_NAME = "contact.email.name"
_NO_BRACKET = re.compile(r"[^<(]*")


def _email_name(value: Any) -> tuple[str | None, str | None, str] | None:
    name = display_name(value) if type(value) is str else None
    # (a name the split would change, "Acme, Inc. <info@acme.com>", is no person's)
    return (*split_full_name(name), name) if name and unsplittable(name) is None else None


def _plain_amounts(
    spec: FieldSpec, decimal_mark: str | None, nulls: frozenset[str]
) -> tuple[Callable[[str], Any], Callable[[str], Any]] | None:
    """The shortcut for an amount column's plain cells, where it gives what the chain gives.

    A cell of digits with up to two decimals after a ``.`` is ``float(cell)`` for the
    one ``money`` transform (no cents) of a column read with ``.`` (or undecided):
    :func:`~importer.map.transforms.money.parse_dollars` reads it so, and no such cell
    is a placeholder unless the mapping's ``null_values`` make it one.
    """
    params = _transform_params(spec, "money")
    if (
        params is None
        or len(spec.transforms) != 1
        or params.get("cents")
        or decimal_mark not in (".", "auto")
        or any(PLAIN_AMOUNT.fullmatch(n) for n in nulls)
    ):
        return None
    return PLAIN_AMOUNT.fullmatch, float


#: The fields whose ``money`` transform keeps every decimal its cell writes. A rate's
#: decimals are its value (0.912345, not 0.91); a deal's amount may be in a currency
#: with more than cents (1,234.567 KWD), converted from what the cell says: the
#: planner rounds the dollars it ends in (an amount rounded before its conversion is
#: off by up to half a cent times the rate, which a dinar's is more than three).
_EXACT_MONEY = frozenset(
    {"opportunity.exchange_rate", "opportunity.deal_size", "opportunity.company_amount"}
)

#: A character an amount cell that writes a currency has: one not of digits, separators,
#: signs and spaces ("(1,000)", "1.234,50" and "- 5" write none).
_WRITES_CURRENCY = re.compile(r"[^0-9.,'()+\- \t\u00a0]")


def _cell_currency(value: Any) -> str | None:
    return cell_currency(value) if type(value) is str else None


# The transform a field gets when its mapping names none of these: an email is always
# normalised (Octolane matches people by lower-cased address), a domain always reduced
# to the registered domain, an amount and a date always parsed.
_NATURAL: dict[str, tuple[frozenset[str], Any]] = {
    "account.domain": (frozenset({"domain"}), "domain"),
    "contact.email": (frozenset({"email"}), "email"),
    "opportunity.owner_email": (frozenset({"email"}), "email"),
    "opportunity.additional_contact_emails": (frozenset({"email"}), {"email": {"all": True}}),
    "note.contact_emails": (frozenset({"email"}), {"email": {"all": True}}),
    "opportunity.deal_size": (frozenset({"money", "integer"}), "money"),
    "opportunity.company_amount": (frozenset({"money", "integer"}), "money"),
    "opportunity.currency": (frozenset({"currency"}), "currency"),
    "opportunity.exchange_rate": (frozenset({"money"}), "money"),
    "opportunity.close_date": (frozenset({"date"}), "date"),
    "opportunity.next_action_date": (frozenset({"date"}), "date"),
}


def natural_transforms(key: str, transforms: Sequence[TransformSpec]) -> tuple[TransformSpec, ...]:
    """``transforms``, plus the field's natural transform when none of its kind is there.

    >>> natural_transforms("contact.email", ["trim"])
    ('trim', 'email')
    """
    kinds, natural = _NATURAL.get(key, (frozenset(), None))
    names = {t if isinstance(t, str) else next(iter(t)) for t in transforms}
    if natural is None or names & kinds:
        return tuple(transforms)
    return (*transforms, natural)


def _loose(name: str) -> str:
    return " ".join(name.split()).casefold()


def _reads_money(key: str, spec: FieldSpec) -> bool:
    """Whether the field reads its cells as an amount (its transforms, the natural ones
    included, hold ``money``; an exchange rate is a rate, not an amount)."""
    if key == "opportunity.exchange_rate":
        return False
    transforms = natural_transforms(key, spec.transforms)
    return any((t if isinstance(t, str) else next(iter(t))) == "money" for t in transforms)


def plain_number(text: str) -> str:
    """A workbook number cell's text without the currency its format shows, as a field
    that does not read it as an amount sees it (``3000.5\u00a0€`` -> ``3000.5``; the
    reader's form of such a cell: :data:`~importer.map.transforms.money.NUMBER_CELL`)."""
    if "\u00a0" in text and NUMBER_CELL.fullmatch(text):
        return text.partition("\u00a0")[0]
    return text


def _names(names: Iterable[str]) -> str:
    return ", ".join(repr(n) for n in names)


def _cleaner(nulls: frozenset[str], numbers: bool = False) -> Callable[[str], str | None]:
    """Trim a cell; empty or a placeholder such as ``[not provided]`` is no value.

    ``numbers``: the field reads a column read as an amount elsewhere, whose workbook
    number cells read with the currency their format shows: it gets the number
    (:func:`plain_number`)."""
    # A placeholder's first character, either case: other cells skip the lower() copy.
    starts = frozenset(c for n in nulls if n for c in (n[0].lower(), n[0].upper()))
    longest = max((len(n) for n in nulls), default=0)

    def clean(text: str) -> str | None:
        text = text.strip()
        if not text:
            return None
        if text[0] == "'" and formula_like(text[1:]):
            # undo a results/failures file's formula guard: re-imports round-trip
            text = text[1:].strip()
            if not text:
                return None
        if text[0] in starts and len(text) <= longest and text.lower() in nulls:
            return None
        return text

    if not numbers:  # (every other field's cells: no test on the hot path)
        return clean

    def clean_number(text: str) -> str | None:
        cleaned = clean(text)
        return cleaned if cleaned is None else plain_number(cleaned)

    return clean_number


def _getter(
    spec: FieldSpec,
    positions: Mapping[str, int | None],
    nulls: frozenset[str],
    numbers: bool = False,
) -> tuple[Callable[[Sequence[str]], Any], str]:
    clean = _cleaner(nulls, numbers)

    if spec.column is not None:
        pos = positions[spec.column]
        return (lambda row: clean(row[pos])), f"column {spec.column!r}"
    if spec.columns is not None:
        found = [p for p in positions.values() if p is not None]

        def first(row: Sequence[str]) -> str | None:
            for p in found:
                value = clean(row[p])
                if value is not None:
                    return value
            return None

        return first, "columns " + ", ".join(repr(c) for c in spec.columns)
    if spec.template is not None:
        template = spec.template
        names = {name: positions.get(name) for name in template_columns(template)}

        def fill(row: Sequence[str]) -> str | None:
            values = {n: (clean(row[p]) or "") if p is not None else "" for n, p in names.items()}
            if not any(values.values()):
                return None
            # Runs of spaces are collapsed in each line; the lines are kept (a note's
            # description with its paragraphs), blank ones at most one in a row.
            lines = (" ".join(line.split()) for line in template.format_map(values).split("\n"))
            text = _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()
            return text or None

        return fill, f"template {template!r}"
    constant = spec.value
    return (lambda row: constant), f"value {constant!r}"


_BLANK_LINES = re.compile(r"\n{3,}")


def _business_first(found: Sequence[int], nulls: frozenset[str]) -> Callable[[Sequence[str]], Any]:
    """The first of the row's cells that names a company (:func:`_company_of`); where
    none does, the first filled cell (whose personal domain the transform then says)."""
    clean = _cleaner(nulls)

    def read(row: Sequence[str]) -> str | None:
        first = None
        for p in found:
            cell = clean(row[p])
            if cell is None:
                continue
            if first is None:
                first = cell
            company = _company_of(cell)
            if company is not None:
                return company
        return first

    return read


def _company_of(cell: str) -> str | None:
    """What in a cell names a company: the cell itself where it has no address (a web
    site) or its first address is not personal; else the address of the one company its
    other addresses name (``jo@gmail.com, jo@acme.com``); else None (personal addresses
    only, or several companies' people: none is guessed)."""
    if "@" not in cell:
        return cell
    addresses = _ADDRESS.findall(cell)
    work = [a for a in addresses if not is_personal_domain(a)]
    if work and work[0] == addresses[0]:
        return cell  # (a cell as it is, where it can be)
    if len({a.rpartition("@")[2].lower() for a in work}) == 1:
        return work[0]
    return None


def _company_first(chain: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``chain`` on the part of a cell that names a company (:func:`_company_of`)."""

    def run(text: Any) -> Any:
        if type(text) is str and "@" in text:
            text = _company_of(text) or text
        return chain(text)

    return run


_ADDRESS = re.compile(r"[^\s,;<>()\"']+@[^\s,;<>()\"']+")


def _overridden(
    getter: Callable[[Sequence[str]], Any], at: int, values: Sequence[str], nulls: frozenset[str]
) -> Callable[[Sequence[str]], Any]:
    """``getter``, except where column ``at`` holds one of ``values`` (case and spaces
    aside): then that cell."""
    clean, wanted = _cleaner(nulls), frozenset(" ".join(v.split()).casefold() for v in values)

    def read(row: Sequence[str]) -> Any:
        cell = clean(row[at])
        if cell is not None and " ".join(cell.split()).casefold() in wanted:
            return cell.strip()
        return getter(row)

    return read


def _decide_date_order(
    where: str,
    spec: FieldSpec,
    getter: Callable,
    sample_rows: Sequence[Sequence[str]],
    label: str,
    options: Options,
) -> str | None:
    """Pick day-first/month-first for an automatic date transform from sample values."""
    params = _transform_params(spec, "date")
    if params is None:
        return None
    order = params.get("order", options.date_order)
    if "format" in params or order != "auto":
        return None
    sample = [v for v in (getter(row) for row in sample_rows) if isinstance(v, str)]
    try:
        return infer_date_order(sample)
    except TransformError as exc:
        raise MappingError(f"{where}: {label}: {exc}") from exc


def _transform_params(spec: FieldSpec, wanted: str) -> dict[str, Any] | None:
    """The parameters of the field's first ``wanted`` transform, or None if it has none."""
    for item in spec.transforms:
        name, params = (item, {}) if isinstance(item, str) else next(iter(item.items()))
        if name == wanted:
            return dict(params or {})
    return None


def _decide_decimal_mark(
    where: str,
    spec: FieldSpec,
    getter: Callable,
    sample_rows: Sequence[Sequence[str]],
    label: str,
    options: Options,
    warnings: list[str],
    spreadsheet: bool = False,
) -> str | None:
    """The decimal mark of a money column, decided from its sampled values.

    A spreadsheet's number cells (``12.125``) say nothing about it: they are left out.

    The mapping's mark (the transform's ``decimal_mark``, else ``options.decimal_mark``)
    is checked against the values; ``auto`` takes theirs, and says so when it is
    not the plain ``.``.
    """
    params = _transform_params(spec, "money")
    if params is None:
        return None
    given = params.get("decimal_mark", options.decimal_mark)
    sample = (
        v
        for v in (getter(row) for row in sample_rows)
        if isinstance(v, str) and not (spreadsheet and NUMBER_CELL.fullmatch(v))
    )
    try:
        decided, cells = decide_decimal_mark(sample, given)
    except TransformError as exc:
        raise MappingError(f"{where}: {label} {exc}") from exc
    if decided is None:
        # Nothing in the sample tells: a later "29.000" is ambiguous, refused per row.
        return str(given)
    if given == "auto" and decided == ",":
        warnings.append(f"{where}: {label} is read with ',' as the decimal mark (as in {cells})")
    return decided
