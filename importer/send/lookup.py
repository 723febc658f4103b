"""The one exception a lookup raises, apart from the clients (which load httpx): the
senders catch it without importing a client."""

from __future__ import annotations

__all__ = ["LookupUnavailable"]


class LookupUnavailable(Exception):
    """A record cannot be looked up here (no such read, or it could not be read)."""
