"""XLSX formula cells that hold no computed value (``=PROPER(A2)`` saved by a script).

Excel, LibreOffice and Google Sheets save each formula's result beside it, and the
reader reads that result. A workbook written by a library (openpyxl, pandas, a report
generator) often saves the formula alone: python-calamine then reads the cell as
empty, and a name or an e-mail made by formula would vanish without a word. So the
sheet's XML is searched for such cells as it is measured (only where it holds a
formula at all), and each row that has one says which cell it is and how to get its value: open the
workbook in a spreadsheet and save it again.
"""

from __future__ import annotations

import html
import re

__all__ = ["FormulaCells"]

#: A cell with a formula: its reference, the formula element, and what follows it.
_FORMULA_CELL = re.compile(
    rb'<c r="([A-Z]{1,3})([0-9]{1,7})"[^>]*>\s*<f(?:\s[^>]*)?(?:/>|>([^<]*)</f>)(.*?)</c>', re.S
)
#: A computed value (an empty text result too: ``<v></v>``); openpyxl writes ``<v />``.
_CACHED = re.compile(rb"<v>|<is>")
#: Rows kept, at most: a sheet of uncached formulas warns its first rows, and says so.
_MAX_ROWS = 100_000


class FormulaCells:
    """The sheet's formula cells that hold no computed value, fed its XML a chunk at a
    time (by the pass that measures the sheet: the XML is streamed once):
    ``found`` is row (from 0) -> [(column from 0, formula text)], whole after
    :meth:`close`."""

    def __init__(self) -> None:
        self.found: dict[int, list[tuple[int, str]]] = {}
        self._tail = b""

    def feed(self, chunk: bytes) -> None:
        # Each text is cut before its last cell tag, which the next one reads whole.
        text = self._tail + chunk
        cut = text.rfind(b"<c ")
        cut = cut if cut > 0 else len(text)
        text, self._tail = text[:cut], text[cut:]
        if b"<f" in text:
            self._collect(text)

    def close(self) -> None:
        if b"<f" in self._tail:
            self._collect(self._tail)
        self._tail = b""

    def _collect(self, text: bytes) -> None:
        found = self.found
        for letters, row, formula, rest in _FORMULA_CELL.findall(text):
            if _CACHED.search(rest) or len(found) >= _MAX_ROWS:
                continue
            shown = html.unescape(formula.decode("utf-8", "replace")).strip()
            cells = found.setdefault(int(row) - 1, [])
            cells.append((_column(letters), f"={shown}" if shown else ""))


def _column(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + letter - 64
    return number - 1
