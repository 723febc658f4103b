"""Excel workbooks (XLSX, XLS) through python-calamine: the sheet, and cells as text.

Private helpers of :mod:`importer.read.source`. calamine loads a whole sheet when
it is opened (in Rust, compactly); rows are then converted to text one batch
at a time.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import python_calamine

from importer.errors import SourceError
from importer.read._sniff import workbook_kind


def load_sheet(
    path: Path,
    name: str,
    sheet: str | int | None,
    check: Callable[[str], None] | None = None,
) -> tuple[python_calamine.CalamineSheet, str]:
    """The chosen sheet, loaded, and its name; ``check(name)`` may refuse it before."""
    try:
        with python_calamine.CalamineWorkbook.from_path(path) as workbook:
            sheet_name = pick_sheet(workbook, sheet, name)
            if check is not None:
                check(sheet_name)
            return workbook.get_sheet_by_name(sheet_name), sheet_name
    except python_calamine.PasswordError as exc:
        raise SourceError(
            f"{name}: the workbook is password-protected; remove the password in Excel and save it"
        ) from exc
    except python_calamine.CalamineError as exc:
        raise SourceError(f"{name}: is not a valid {workbook_kind(name)} ({exc})") from exc


def pick_sheet(
    workbook: python_calamine.CalamineWorkbook, sheet: str | int | None, name: str
) -> str:
    names = workbook.sheet_names
    if not names:
        raise SourceError(f"{name}: the workbook has no sheets")
    listing = ", ".join(repr(n) for n in names)
    if sheet is None:
        visible = [
            m.name
            for m in workbook.sheets_metadata
            if m.visible == python_calamine.SheetVisibleEnum.Visible
            and m.typ == python_calamine.SheetTypeEnum.WorkSheet
        ]
        return visible[0] if visible else names[0]
    if isinstance(sheet, str):
        if sheet in names:
            return sheet
        folded = [n for n in names if n.strip().casefold() == sheet.strip().casefold()]
        if len(folded) == 1:
            return folded[0]
        if not sheet.strip().isdigit():
            raise SourceError(
                f"{name}: no sheet named {sheet!r}; the workbook's sheets are: {listing}"
            )
        sheet = int(sheet)
    if not 1 <= sheet <= len(names):
        raise SourceError(
            f"{name}: no sheet number {sheet} (numbers start at 1); "
            f"the workbook's sheets are: {listing}"
        )
    return names[sheet - 1]


def cell_text(value: object) -> str:
    """An Excel cell's value as the text a user expects to see."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _number_text(value)
    if isinstance(value, dt.datetime):
        return _round_to_second(value).isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return _round_to_second(dt.datetime.combine(dt.date.min, value)).time().isoformat()
    if isinstance(value, dt.timedelta):
        hours, seconds = divmod(round(value.total_seconds()), 3600)
        return f"{hours}:{seconds // 60:02d}:{seconds % 60:02d}"
    return str(value)


def _number_text(value: float) -> str:
    if value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    text = repr(value)
    if "e" in text and math.isfinite(value):
        return format(Decimal(text), "f")
    return text


def _round_to_second(value: dt.datetime) -> dt.datetime:
    if value.microsecond >= 500_000 and value < dt.datetime.max.replace(microsecond=0):
        value += dt.timedelta(seconds=1)
    return value.replace(microsecond=0)
