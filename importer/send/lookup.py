"""The one exception a lookup raises, apart from the clients (which load httpx): the
senders catch it without importing a client."""

from __future__ import annotations

__all__ = ["LookupUnavailable"]


class LookupUnavailable(Exception):
    """A record cannot be looked up here (no such read, or it could not be read).

    ``transient``: the read failed for a passing reason (a 429, a 5xx, no connection)
    after its retries: a later run can look it up, so a lost answer must stay unknown
    rather than be sent again as if no lookup were possible.
    """

    def __init__(self, message: str, *, transient: bool = False) -> None:
        super().__init__(message)
        self.transient = transient

    def said(self) -> str:
        """Why, as a row says it: a failure for now says that the next run looks again."""
        return f"{self}; the next run looks it up again" if self.transient else str(self)
