"""The one exception a lookup raises, apart from the clients (which load httpx): the
senders catch it without importing a client, and what a note lookup matches on."""

from __future__ import annotations

from collections.abc import Container, Mapping
from typing import Any

__all__ = ["AnyOf", "Links", "LookupUnavailable", "NoteText", "note_links", "note_text"]

#: A note's (title, content), and its (domains, e-mails).
NoteText = tuple[str, str | None]
Links = tuple[frozenset[str], frozenset[str]]


class LookupUnavailable(Exception):
    """A record cannot be looked up here (no such read, or it could not be read).

    ``transient``: the read failed for a passing reason (a 429, a 5xx, no connection)
    after its retries: a later run can look it up, so a lost answer must stay unknown
    rather than be sent again as if no lookup were possible.
    """

    def __init__(self, message: str, *, transient: bool = False, undecided: bool = False) -> None:
        super().__init__(message)
        self.transient = transient
        #: The read worked, but cannot tell this record from others (too many match):
        #: a fact about this record alone, not about the reads.
        self.undecided = undecided

    def said(self) -> str:
        """Why, as a row says it: a failure for now says that the next run looks again."""
        return f"{self}; the next run looks it up again" if self.transient else str(self)


def note_text(payload: Mapping[str, Any]) -> NoteText:
    """A note's (title, content), from a create's payload or a read note."""
    note = payload.get("note") if "note" in payload else payload
    note = note if isinstance(note, Mapping) else {}
    return str(note.get("title") or ""), (note.get("content") or None)


def note_links(payload: Mapping[str, Any]) -> Links:
    """A note's (domains, e-mails), lower-cased."""
    return (
        frozenset(str(d).lower() for d in payload.get("account_domains") or ()),
        frozenset(str(e).lower() for e in payload.get("contact_emails") or ()),
    )


class AnyOf(Container[str]):
    """Ids in any of some sets, without copying them (the run's ids can be millions)."""

    def __init__(self, *parts: Container[str]) -> None:
        self.parts = parts

    def __contains__(self, item: object) -> bool:
        return any(item in part for part in self.parts)
