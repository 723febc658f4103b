"""Named value transforms used by mapping files.

A transform turns one cell's text (or the previous transform's output) into a
value: ``str``, ``int``, ``float``, ``list`` or ``None``. ``None`` and ``""``
mean "no value": every transform but ``default`` passes ``None`` through and
turns ``""`` into ``None``. A value that cannot be transformed raises
:class:`TransformError` with a message that quotes it.

In a mapping file a field lists its transforms in order; a name alone, or a
one-key map with parameters::

    transforms: [trim, {date: {order: dmy}}]

Once a transform returns a list (``split``, ``email`` with ``all: true``), the
ones after it apply to each element, dropping elements that become ``None``.

Example:
    >>> to_deal_size = compose(["trim", {"money": {"decimal_mark": ","}}])
    >>> to_deal_size(" 12.500,00 € ")
    12500.0
    >>> compose([{"split": {}}, "email"])("Jo <JO@acme.com>; ann@acme.com")
    ['jo@acme.com', 'ann@acme.com']
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from importer.map.transforms._params import (
    DateParams,
    DefaultParams,
    DomainParams,
    EmailParams,
    IntegerParams,
    LookupParams,
    MoneyParams,
    NoParams,
    NullifyParams,
    Params,
    SplitParams,
)
from importer.map.transforms.cells import (
    NULL_VALUES,
    NULLIFY_VALUES,
    TransformError,
    clean_text,
    memoise,
    quote,
)
from importer.map.transforms.currency import currency_code
from importer.map.transforms.dates import date_parser, infer_date_order, time_zone
from importer.map.transforms.domains import (
    FileZones,
    domain_parser,
    email_domain,
    is_personal_domain,
)
from importer.map.transforms.emails import all_emails, first_email
from importer.map.transforms.money import (
    NUMBER_CELL,
    parse_amount,
    parse_dollars,
    to_dollars,
)
from importer.map.transforms.names import split_full_name, unsplittable

__all__ = [
    "NULLIFY_VALUES",
    "NULL_VALUES",
    "TRANSFORM_NAMES",
    "Transform",
    "TransformError",
    "build_transform",
    "chain",
    "compose",
    "email_domain",
    "infer_date_order",
    "is_personal_domain",
]

Transform = Callable[[Any], Any]
_CACHE_SIZE = 1 << 16


# ---- the transforms -----------------------------------------------------------------


def _text(value: Any) -> str:
    return value if type(value) is str else str(value)


def _text_transform(apply: Callable[[str], str]) -> Transform:
    """A transform that changes text and leaves numbers alone."""

    def transform(value: Any) -> Any:
        if value is None or type(value) is not str:
            return value
        return apply(value) or None

    return transform


_LETTERS = re.compile(r"[^\W\d_]+")


def _title_word(match: re.Match[str]) -> str:
    word, text = match.group(), match.string
    if not (word.isupper() or word.islower()):
        return word  # McDonald, iPhone, DeAcero: someone chose that case
    after_apostrophe = match.start() > 0 and text[match.start() - 1] in "'’"
    if after_apostrophe and len(word) <= 2:
        return word.lower()  # Joe's, Don't; but O'Neil, D'Angelo
    return word[0].upper() + word[1:].lower()


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _title(text: str) -> str:
    return _LETTERS.sub(_title_word, text)


def _make_nullify(params: NullifyParams) -> Transform:
    nulls = frozenset(clean_text(v).casefold() for v in params.values)

    def nullify(value: Any) -> Any:
        if value is None or value == "":
            return None
        if type(value) is str and clean_text(value).casefold() in nulls:
            return None
        return value

    return nullify


def _make_name_part(index: int) -> Callable[[NoParams], Transform]:
    def make(params: NoParams) -> Transform:
        def name_part(value: Any) -> Any:
            if not value:
                return None
            text = _text(value)
            why = unsplittable(text)
            if why is not None:
                raise TransformError(
                    f"{quote(text)} is not split into a first and last name: {why}, which"
                    " the split would drop or misplace; write the names in columns of their"
                    " own, or correct the cell"
                )
            return split_full_name(text)[index]

        return name_part

    return make


def _make_email(params: EmailParams) -> Transform:
    parse = all_emails if params.all else first_email

    def email(value: Any) -> Any:
        return parse(_text(value)) if value else None

    return email


def _make_domain(params: DomainParams, zones: FileZones | None = None) -> Transform:
    parse: Callable[[str], str] = domain_parser(keep_subdomain=params.keep_subdomain)
    if zones is not None and not params.keep_subdomain:
        parse = zones.cut  # the account's domain, by the file's zones

    def domain(value: Any) -> Any:
        return parse(_text(value)) if value else None

    return domain


#: A spreadsheet number cell's text that also writes a whole number with '.' between
#: thousands ("2.125": 2.125, or 2,125 written as text in a decimal-comma column).
_GROUPED = re.compile(r"-?[1-9]\d{0,2}\.\d{3}")


def _make_money(params: MoneyParams) -> Transform:
    mark, cents, number_cells = params.decimal_mark, params.cents, params.number_cells
    exact = params.exact

    def parse(text: str) -> float | None:
        if number_cells and NUMBER_CELL.fullmatch(text):
            number = text.partition("\u00a0")[0]
            if mark != "." and _GROUPED.fullmatch(number):
                # A number cell reads "2.125"; so does a text cell that writes 2,125 with
                # a '.' between thousands, as a ',' column does: which one, the text
                # cannot say, and the two differ a thousandfold.
                whole = number.replace(".", "")
                raise TransformError(
                    f"{quote(text)} is ambiguous: a number cell of {number}, or text writing"
                    f" {whole} with '.' between thousands"
                    + (
                        ", as the column's other amounts write ',' as the decimal mark; write"
                        f" it {whole} or format the column's cells as numbers"
                        if mark == ","
                        else "; if the column's cells are numbers, set decimal_mark: '.' in"
                        f" the mapping, else write it {whole}"
                    )
                )
            try:
                return parse_dollars(text, ".", cents=cents, exact=exact)  # a sheet's number
            except TransformError:
                number, _, shown = text.partition("\u00a0")
                if not shown:
                    raise
                # its number format shows it in what names no currency here ("Rp")
                raise TransformError(
                    f"'{number} {shown}' is not an amount: the cell's number format shows it"
                    f" in {shown!r}, which names no currency the importer knows; format the"
                    " column with its currency's ISO code (such as [$IDR] #,##0)"
                ) from None
        return parse_dollars(text, mark, cents=cents, strict=True, exact=exact)

    cached = memoise(parse, _CACHE_SIZE)

    def money(value: Any) -> Any:
        if value is None or value == "":
            return None
        if type(value) is int or type(value) is float:  # already a number: keep it
            return to_dollars(Decimal(repr(value)), cents=cents, exact=exact)
        return cached(_text(value))

    return money


def _make_currency(params: NoParams) -> Transform:
    cached = memoise(currency_code, _CACHE_SIZE)

    def currency(value: Any) -> Any:
        return cached(_text(value)) if value else None

    return currency


def _make_integer(params: IntegerParams) -> Transform:
    mark = params.decimal_mark

    def parse(text: str) -> int | None:
        amount = parse_amount(text, mark)
        if amount is None:
            return None
        if amount != amount.to_integral_value():
            raise TransformError(f"{quote(text)} is not a whole number")
        return int(amount)

    cached = memoise(parse, _CACHE_SIZE)

    def integer(value: Any) -> Any:
        if value is None or value == "":
            return None
        if type(value) is int:
            return value
        if type(value) is float and value.is_integer():
            return int(value)
        return cached(_text(value))

    return integer


def _make_date(params: DateParams) -> Transform:
    cached = memoise(
        date_parser(
            formats=params.format,
            order=params.order,
            zone=time_zone(params.timezone),
            excel_serial=params.excel_serial,
        ),
        _CACHE_SIZE,
    )

    def date(value: Any) -> Any:
        return cached(_text(value)) if value else None

    return date


def _lookup_key(text: str, case_sensitive: bool) -> str:
    text = clean_text(text)
    return text if case_sensitive else text.casefold()


def _make_lookup(params: LookupParams) -> Transform:
    sensitive = params.case_sensitive
    table: dict[str, Any] = {}
    spelled: dict[str, str] = {}
    for key, result in params.table.items():
        normal = _lookup_key(key, sensitive)
        if normal in table and table[normal] != result:
            raise ValueError(
                f"parameter 'table': {spelled[normal]!r} and {key!r} are the same key (case and"
                " surrounding spaces are ignored) with different values; set case_sensitive: true"
                " or give them one value"
            )
        table[normal], spelled[normal] = result, key
    has_default = "default" in params.model_fields_set
    fallback = params.default
    keys = list(params.table)
    known = ", ".join(repr(k) for k in keys[:10])
    if len(keys) > 10:
        known += f", ... ({len(keys)} in all)"

    def lookup(value: Any) -> Any:
        if value is None or value == "":
            return None
        try:
            return table[_lookup_key(_text(value), sensitive)]
        except KeyError:
            if has_default:
                return fallback
            raise TransformError(
                f"{quote(value)} is not in the lookup table (known: {known})"
            ) from None

    return lookup


def _make_default(params: DefaultParams) -> Transform:
    fallback = params.value

    def default(value: Any) -> Any:
        if value is None or value == [] or (type(value) is str and not clean_text(value)):
            return fallback
        return value

    return default


def _make_split(params: SplitParams) -> Transform:
    ordered = sorted(params.separators, key=len, reverse=True)
    pattern = re.compile("|".join(re.escape(s) for s in ordered))

    def split(value: Any) -> Any:
        if value is None or value == "":
            return None
        if type(value) is not str:
            return [value]
        return [part for part in map(clean_text, pattern.split(value)) if part] or None

    return split


@dataclass(frozen=True)
class _Entry:
    params: type[Params]
    make: Callable[[Any], Transform]


def _fixed(transform: Transform) -> Callable[[NoParams], Transform]:
    return lambda params: transform


_REGISTRY: dict[str, _Entry] = {
    "trim": _Entry(NoParams, _fixed(_text_transform(clean_text))),
    "lower": _Entry(NoParams, _fixed(_text_transform(str.lower))),
    "upper": _Entry(NoParams, _fixed(_text_transform(str.upper))),
    "title": _Entry(NoParams, _fixed(_text_transform(_title))),
    "nullify": _Entry(NullifyParams, _make_nullify),
    "first_name": _Entry(NoParams, _make_name_part(0)),
    "last_name": _Entry(NoParams, _make_name_part(1)),
    "email": _Entry(EmailParams, _make_email),
    "domain": _Entry(DomainParams, _make_domain),
    "money": _Entry(MoneyParams, _make_money),
    "currency": _Entry(NoParams, _make_currency),
    "integer": _Entry(IntegerParams, _make_integer),
    "date": _Entry(DateParams, _make_date),
    "lookup": _Entry(LookupParams, _make_lookup),
    "default": _Entry(DefaultParams, _make_default),
    "split": _Entry(SplitParams, _make_split),
}
TRANSFORM_NAMES: tuple[str, ...] = tuple(_REGISTRY)


# ---- building -----------------------------------------------------------------------


class _UnknownTransform(ValueError):
    pass


def _describe(model: type[Params], exc: ValidationError) -> str:
    allowed = ", ".join(model.model_fields)
    messages: dict[str, str] = {}
    for error in exc.errors(include_url=False):
        param = str(error["loc"][0]) if error["loc"] else "?"
        if error["type"] == "extra_forbidden":
            message = (
                f"unknown parameter {param!r} (allowed: {allowed})"
                if allowed
                else f"takes no parameters (got {param!r})"
            )
        elif error["type"] == "missing":
            message = f"parameter {param!r} is required"
        elif error["type"] == "value_error":  # our validators quote the value themselves
            message = f"parameter {param!r}: {error['msg'].removeprefix('Value error, ')}"
        else:
            message = f"parameter {param!r}: {error['msg']} (got {quote(error['input'])})"
        messages.setdefault(param, message)
    return "; ".join(messages.values())


def _suggestion(name: str) -> str:
    """' (did you mean 'email'?)' for 'emial' or 'domain_from_url', or ''."""
    close = difflib.get_close_matches(name, TRANSFORM_NAMES, n=1)
    contained = [known for known in TRANSFORM_NAMES if known in name.lower()]
    best = close[0] if close else max(contained, key=len, default=None)
    return f" (did you mean {best!r}?)" if best else ""


def _build(
    name: Any, params: Mapping[str, Any] | None, zones: FileZones | None = None
) -> Transform:
    """Raises _UnknownTransform, or ValueError with the message after "<name>: "."""
    entry = _REGISTRY.get(name) if isinstance(name, str) else None
    if entry is None:
        known = ", ".join(TRANSFORM_NAMES)
        raise _UnknownTransform(
            f"unknown transform {name!r}{_suggestion(str(name))}; the transforms are: {known}"
        )
    if params is not None and not isinstance(params, Mapping):
        raise ValueError(f"parameters must be a map such as {{order: dmy}} (got {quote(params)})")
    try:
        validated = entry.params.model_validate(dict(params or {}))
    except ValidationError as exc:
        raise ValueError(_describe(entry.params, exc)) from exc
    if zones is not None and isinstance(validated, DomainParams):
        return _make_domain(validated, zones)
    return entry.make(validated)


def build_transform(name: str, params: Mapping[str, Any] | None = None) -> Transform:
    """The transform ``name`` with its parameters checked.

    Raises:
        ValueError: unknown name (the message lists TRANSFORM_NAMES), or a bad
            parameter (the message names the transform, the parameter and what
            is allowed).

    >>> build_transform("lookup", {"table": {"Closed Won": "9a2e"}})(" closed won ")
    '9a2e'
    """
    try:
        return _build(name, params)
    except _UnknownTransform as exc:
        raise ValueError(str(exc)) from None
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from exc


def _map_list(transform: Transform, values: list[Any]) -> list[Any] | None:
    results: list[Any] = []
    for item in values:
        result = transform(item)
        if type(result) is list:
            results.extend(result)
        elif result is not None:
            results.append(result)
    return results or None


def chain(funcs: Iterable[Transform]) -> Transform:
    """Apply ``funcs`` in order; once the value is a list, apply each to its elements.

    Elements that become None are dropped, lists returned for an element are
    flattened, and an empty list becomes None.
    """
    funcs = tuple(funcs)

    def run(value: Any) -> Any:
        for func in funcs:
            value = _map_list(func, value) if type(value) is list else func(value)
        return value

    return run


def _spec_parts(spec: Any, index: int) -> tuple[str, Any]:
    if isinstance(spec, str):
        return spec, None
    if isinstance(spec, Mapping) and len(spec) == 1:
        name, params = next(iter(spec.items()))
        if isinstance(name, str):
            return name, params
    raise ValueError(
        f"transforms[{index}]: expected a transform name or a one-key map such as "
        f"{{date: {{order: dmy}}}} (got {quote(spec)})"
    )


def compose(
    specs: Sequence[str | Mapping[str, Any]], *, zones: FileZones | None = None
) -> Transform:
    """The chain described by a mapping file's ``transforms:`` list.

    ``zones``: a ``domain`` transform cuts by this file's zones (the account's domain).

    Raises:
        ValueError: naming the position and transform, e.g.
            ``transforms[1] (date): parameter 'order': Input should be ...``.
    """
    if isinstance(specs, str | Mapping):
        specs = [specs]
    funcs = []
    for index, spec in enumerate(specs):
        name, params = _spec_parts(spec, index)
        try:
            funcs.append(_build(name, params, zones))
        except _UnknownTransform as exc:
            raise ValueError(f"transforms[{index}]: {exc}") from exc
        except ValueError as exc:
            raise ValueError(f"transforms[{index}] ({name}): {exc}") from exc
    return chain(funcs)
