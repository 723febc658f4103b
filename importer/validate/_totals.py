"""A deals file's totals row: the last line a spreadsheet or a report adds under the deals.

``Total`` (``Totals``, ``Grand Total``, ``Summe``) in the deal name cell, under the last
deal, with the sum of the amounts above or no company or contact: imported, it would be
a deal named "Total" worth the whole pipeline. Only such a row after the file's last
deal is skipped (its footer lines aside); a deal named "Total" anywhere else, or one
whose amount is not the sum and that names a company or a contact, is a deal.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

from importer.map.spec import BoundMapping, FieldReader
from importer.validate.rows import RowVerdict

__all__ = ["TOTAL_NAMES", "Slice", "TotalsRows"]

#: The deal name cells of a totals row, case-folded.
TOTAL_NAMES = frozenset({"total", "totals", "grand total", "summe"})
#: The fields whose cells say who a deal is with: all empty in a totals row.
_IDENTITY = ("account.domain", "contact.email", "opportunity.additional_contact_emails")

#: A slice of rows on its way: its row numbers, cells and verdicts.
Slice = tuple[list[int], list[list[str]], list[RowVerdict]]


@dataclass(slots=True)
class _Candidate:
    verdict: RowVerdict
    name: str
    amount: float | None
    alone: bool  # no company or contact cell filled


@dataclass(slots=True)
class TotalsRows:
    """Holds back the slices from the one with the last deal so far, so the rows after
    it are known to be the file's last when the file ends (one slice in memory)."""

    bound: BoundMapping
    footer: str  # the skip reason of a report's footer line (not a deal either)
    total: float = 0.0  # the amounts of the deals so far
    deals: int = 0  # (a file of a "Total" row alone has no totals row: nothing to sum)
    _pending: list[Slice] = field(default_factory=list)
    _tail: list[_Candidate] = field(default_factory=list)  # candidates after the last deal

    @classmethod
    def of(cls, bound: BoundMapping, footer: str) -> TotalsRows | None:
        """The finder for a deals mapping with a name column; None for other mappings."""
        reader = bound.readers.get("opportunity.name")
        return cls(bound, footer) if reader is not None else None

    def feed(self, part: Slice) -> Iterator[Slice]:
        """``part`` read: the slices that are known not to end the file."""
        _, rows, verdicts = part
        reader = self.bound.readers["opportunity.name"]
        if not self._tail and reader.position is not None and not _may_hold_total(reader, rows):
            # the common slice (every slice of a big file): no "Total" cell, so its rows
            # are deals or footer lines; their amounts summed in one pass
            self.total += sum(a for a in self._amounts(rows) if type(a) in (int, float))
            if any(v.skipped != self.footer for v in verdicts):
                self.deals += 1  # (only "any deal at all" is asked of it)
                yield from self._pending
                self._pending = []
            self._pending.append(part)
            return
        names = _cells(reader, rows)
        amounts = [a if type(a) in (int, float) else None for a in self._amounts(rows)]
        deal_seen = False
        for i, verdict in enumerate(verdicts):
            name = names[i]
            if verdict.skipped == self.footer:
                continue
            if name is not None and name.strip().casefold() in TOTAL_NAMES:
                alone = self._alone(rows[i])
                self._tail.append(_Candidate(verdict, name.strip(), amounts[i], alone))
                continue
            # a deal after them: the "totals" above were deals of that name
            self.total += sum(c.amount for c in self._tail if c.amount is not None)
            self.total += amounts[i] or 0.0
            self.deals += len(self._tail) + 1
            self._tail.clear()
            deal_seen = True
        if deal_seen:
            yield from self._pending
            self._pending = []
        self._pending.append(part)

    def finish(self) -> Iterator[Slice]:
        """The file has ended: its totals rows are skipped, the held slices go."""
        for candidate in self._tail if self.deals else ():
            summed = candidate.amount is not None and math.isclose(
                candidate.amount, self.total, rel_tol=0, abs_tol=0.005
            )
            if summed or candidate.alone:
                _skip(candidate, summed)
        yield from self._pending
        self._pending, self._tail = [], []

    def _amounts(self, rows: Sequence[Sequence[str]]) -> list[Any]:
        reader = self.bound.readers.get("opportunity.deal_size")
        if reader is None:
            return [None] * len(rows)
        return reader.read(rows)[0]

    def _alone(self, row: Sequence[str]) -> bool:
        readers = [self.bound.readers.get(key) for key in _IDENTITY]
        return all(_cells(r, [row])[0] is None for r in readers if r is not None)


def _may_hold_total(reader: FieldReader, rows: Sequence[Sequence[str]]) -> bool:
    """Whether a name cell of ``rows`` may be a totals name (one scan, at C speed)."""
    assert reader.position is not None
    text = "\x1f".join(map(itemgetter(reader.position), rows)).casefold()
    return "total" in text or "summe" in text


def _cells(reader: FieldReader, rows: Sequence[Sequence[str]]) -> list[str | None]:
    """The field's source text in each row, before its transforms (None: empty)."""
    if reader.position is not None and reader.clean is not None:
        pos, clean = reader.position, reader.clean
        return [clean(row[pos]) for row in rows]
    return [reader.getter(row) for row in rows]


def _skip(candidate: _Candidate, summed: bool) -> None:
    verdict = candidate.verdict
    why = (
        f"its amount, {candidate.amount:,.2f}, is the sum of the deals above"
        if summed
        else "it names no company or contact"
    )
    verdict.skipped = f"a totals row, not a deal: its deal name is {candidate.name!r} and {why}"
    verdict.errors, verdict.warnings = [], []
    verdict.account = verdict.contact = verdict.opportunity = verdict.note = None
    verdict.domain = verdict.email = None
    verdict.stage = verdict.amount = None
