"""Turn validated rows into the minimal, ordered set of API requests.

(Data types first; the planner itself follows below.)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from importer.models import Endpoint

__all__ = ["ImportPlan", "PlannedRequest"]


@dataclass(frozen=True, slots=True)
class PlannedRequest:
    """One API call the import will make.

    Attributes:
        key: stable identity, the same for the same file and mapping on every run
            (``account:acme.com``, ``contact:jo@acme.com``,
            ``opportunity:<pipeline_id>:acme.com:<name>``, ``note:<sha1 of body>``).
            The journal and the results refer to requests by this key.
        endpoint: ``accounts`` | ``contacts`` | ``opportunities`` | ``notes``.
        payload: the exact JSON body to send (already validated).
        rows: spreadsheet row numbers whose outcome depends on this request.
        depends_on: keys of requests that must succeed before this one is sent.
    """

    key: str
    endpoint: Endpoint
    payload: Mapping[str, Any]
    rows: tuple[int, ...] = ()
    depends_on: tuple[str, ...] = ()


@dataclass(slots=True)
class ImportPlan:
    """All requests of an import, in dependency order (accounts → contacts → opportunities → notes)."""

    requests: list[PlannedRequest] = field(default_factory=list)

    def by_endpoint(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for request in self.requests:
            counts[request.endpoint] = counts.get(request.endpoint, 0) + 1
        return counts
