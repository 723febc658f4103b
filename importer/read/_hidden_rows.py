"""XLSX rows hidden in the sheet: by a filter, by hand, or in a collapsed group.

A user who filtered a sheet down before saving it may think the file holds the
rows they see; it holds every row, and python-calamine reads every row. The rows
are imported (nothing is lost), and each hidden one says so, so that the user
can see which rows they had filtered out. calamine does not tell a row's
visibility, so the sheet's XML is searched for ``<row ... hidden="1">`` as it is
measured (the pass that streams it once).
"""

from __future__ import annotations

import re

__all__ = ["HiddenRows"]

#: A row's start tag that has cells (a self-closing row is empty: nothing to import).
_ROW = re.compile(rb"<row\b([^>]*)(?<!/)>")
_HIDDEN = re.compile(rb'\shidden\s*=\s*["\'](?:1|true)["\']')
_NUMBER = re.compile(rb'\sr\s*=\s*["\']([0-9]{1,7})["\']')


class HiddenRows:
    """The sheet's hidden rows (spreadsheet numbers), fed its XML a chunk at a time:
    ``found`` is whole after :meth:`close`; ``filtered`` says whether the sheet has
    a filter that hides rows."""

    def __init__(self) -> None:
        self.found: set[int] = set()
        self.filtered = False
        self._tail = b""

    def feed(self, chunk: bytes) -> None:
        # Each text is cut before its last row tag, which the next one reads whole.
        text = self._tail + chunk
        cut = text.rfind(b"<row")
        cut = cut if cut > 0 else max(len(text) - 64, 0)  # (``<filterColumn`` cut too)
        text, self._tail = text[:cut], text[cut:]
        self._collect(text)

    def close(self) -> None:
        self._collect(self._tail)
        self._tail = b""

    def _collect(self, text: bytes) -> None:
        if b"hidden" in text:
            for attributes in _ROW.findall(text):
                if _HIDDEN.search(attributes) and (number := _NUMBER.search(attributes)):
                    self.found.add(int(number.group(1)))
        if b"<filterColumn" in text:
            self.filtered = True
