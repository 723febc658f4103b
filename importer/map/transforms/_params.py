"""The parameters each transform takes in a mapping file, as pydantic models.

Unknown keys are refused (``extra="forbid"``), so a typo such as ``ordr:`` is
reported with the allowed names instead of being ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from importer.map.transforms.cells import NULLIFY_VALUES
from importer.map.transforms.dates import DateOrder, time_zone
from importer.map.transforms.money import DecimalMark

__all__ = [
    "DateParams",
    "DefaultParams",
    "DomainParams",
    "EmailParams",
    "IntegerParams",
    "LookupParams",
    "MoneyParams",
    "NoParams",
    "NullifyParams",
    "Params",
    "SplitParams",
]


class Params(BaseModel):
    """Base: frozen, unknown keys refused."""

    # Validators built on first use: a mapping names a few transforms of the dozen.
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class NoParams(Params):
    """trim, lower, upper, title, first_name, last_name: no parameters."""


class NullifyParams(Params):
    """values: placeholders read as empty (case and surrounding spaces ignored)."""

    values: tuple[str, ...] = NULLIFY_VALUES


class EmailParams(Params):
    """all: return every address of the cell as a list, not just the first."""

    all: bool = False


class DomainParams(Params):
    """keep_subdomain: shop.acme.co.uk instead of acme.co.uk (www. is still dropped)."""

    keep_subdomain: bool = False


class MoneyParams(Params):
    """decimal_mark: "." | "," | "auto"; cents: the export counts cents (divide by 100);
    number_cells: the file is a spreadsheet, whose number cells read as plain ``12.125``:
    such a cell is that number, whatever the column's decimal mark (set by the importer
    for XLSX and XLS files); exact: every decimal kept, not rounded to cents (set by the
    importer for ``opportunity.exchange_rate``, a rate, and for a deal's amount, converted
    from every decimal its cell writes before its dollars are rounded)."""

    decimal_mark: DecimalMark = "."
    cents: bool = False
    number_cells: bool = False
    exact: bool = False


class IntegerParams(Params):
    """decimal_mark: as for money ("1.200" is 1200 with ",")."""

    decimal_mark: DecimalMark = "."


class DateParams(Params):
    """format: strptime format(s), tried in order; order: auto | dmy | mdy | ymd;
    timezone: IANA name for values without an offset; excel_serial: true (every number
    is an Excel serial), false (none is) or unset (numbers 25569-73050, 1970-2099).
    """

    format: tuple[str, ...] = ()
    order: DateOrder = "auto"
    timezone: str = "UTC"
    excel_serial: bool | None = None

    @field_validator("format", mode="before")
    @classmethod
    def _formats(cls, value: Any) -> Any:
        formats = [value] if isinstance(value, str) else value
        if formats is None:
            return ()
        if not isinstance(formats, list | tuple) or not all(isinstance(f, str) for f in formats):
            raise ValueError("give a strptime format such as '%d/%m/%Y', or a list of them")
        for fmt in formats:
            if "%" not in fmt:
                raise ValueError(f"{fmt!r} is not a strptime format (e.g. '%d/%m/%Y %H:%M')")
        return tuple(formats)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        time_zone(value)
        return value


class LookupParams(Params):
    """table: label -> value; case_sensitive; default: for unmatched labels (else an error)."""

    table: dict[str, str | int | float | bool] = Field(min_length=1)
    case_sensitive: bool = False
    default: str | int | float | bool | None = None

    @field_validator("table", mode="before")
    @classmethod
    def _text_keys(cls, value: Any) -> Any:
        for key in value if isinstance(value, Mapping) else ():
            if not isinstance(key, str):
                raise ValueError(f"key {key!r} is not text; quote it in the YAML: '{key}': ...")
        return value


class DefaultParams(Params):
    """value: used when the input is empty."""

    value: str | int | float | bool


class SplitParams(Params):
    """separators: strings that separate the values of a multi-value cell."""

    separators: tuple[str, ...] = Field(default=(",", ";", "|", "\n"), min_length=1)

    @field_validator("separators")
    @classmethod
    def _non_empty(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not all(value):
            raise ValueError("a separator cannot be empty")
        return value
