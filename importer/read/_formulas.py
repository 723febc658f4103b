"""XLSX formula cells that hold no computed value (``=PROPER(A2)`` saved by a script).

Excel, LibreOffice and Google Sheets save each formula's result beside it, and the
reader reads that result. A workbook written by a library (openpyxl, pandas, a report
generator) often saves the formula alone: python-calamine then reads the cell as
empty, and a name or an e-mail made by formula would vanish without a word. So the
sheet's XML is streamed for such cells (only where it holds a formula at all), and
each row that has one says which cell it is and how to get its value: open the
workbook in a spreadsheet and save it again.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

from importer.read._workbook_limits import WorkbookLimits, _chunks, _sheet_part, _zip

__all__ = ["uncached_formulas"]

#: A cell with a formula: its reference, the formula element, and what follows it.
_FORMULA_CELL = re.compile(
    rb'<c r="([A-Z]{1,3})([0-9]{1,7})"[^>]*>\s*<f(?:\s[^>]*)?(?:/>|>([^<]*)</f>)(.*?)</c>', re.S
)
#: A computed value (an empty text result too: ``<v></v>``); openpyxl writes ``<v />``.
_CACHED = re.compile(rb"<v>|<is>")
#: Rows kept, at most: a sheet of uncached formulas warns its first rows, and says so.
_MAX_ROWS = 100_000


def uncached_formulas(
    path: Path, name: str, sheet: str, limits: WorkbookLimits
) -> dict[int, list[tuple[int, str]]]:
    """Row (from 0) -> [(column from 0, formula text)] of the sheet's formula cells that
    hold no computed value."""
    found: dict[int, list[tuple[int, str]]] = {}
    with _zip(path, name) as archive:
        part = _sheet_part(archive, sheet)
        if part is None:
            return found
        tail = b""
        for chunk in _chunks(archive, part, name, limits):
            text = tail + chunk
            cut = text.rfind(b"<c ")
            cut = cut if cut > 0 else len(text)
            text, tail = text[:cut], text[cut:]
            if b"<f" in text:
                _collect(text, found)
        if b"<f" in tail:
            _collect(tail, found)
    return found


def _collect(text: bytes, found: dict[int, list[tuple[int, str]]]) -> None:
    for letters, row, formula, rest in _FORMULA_CELL.findall(text):
        if _CACHED.search(rest) or len(found) >= _MAX_ROWS:
            continue
        shown = html.unescape(formula.decode("utf-8", "replace")).strip()
        found.setdefault(int(row) - 1, []).append((_column(letters), f"={shown}" if shown else ""))


def _column(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + letter - 64
    return number - 1
