"""The requests file (``--requests FILE.jsonl``): every planned request, in send order.

One JSON object per line::

    {"key": "contact:jo@acme.com", "endpoint": "contacts", "rows": [2, 7],
     "depends_on": [], "path": "/v1/inbound/contacts",
     "body": {"email": "jo@acme.com", "first_name": "Jo"}}

``body`` is the exact JSON the request sends to ``path`` (with ``--api public``, an
item of the bulk request's array: the public API's names and units, deal dates in
seconds); ``rows`` are the spreadsheet rows whose outcome depends on it. A dry run writes it too, so amounts, stages and
links can be checked before anything is sent. Like the results file, it is
written under ``.partial`` and takes its name only when complete.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from importer.api.endpoints import wire_form
from importer.plan import ImportPlan
from importer.report.results import check_writable

__all__ = ["write_requests"]


def write_requests(path: Path, plan: ImportPlan, *, api: str = "inbound") -> int:
    """Write ``plan``'s requests to ``path`` as JSON lines, each as it goes on ``api``
    (``inbound`` or ``public``); return how many were written."""
    check_writable(path)
    partial = path.with_name(path.name + ".partial")
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # the user's alone
        with open(fd, "w", encoding="utf-8", newline="\n") as out:
            for request in plan.requests:
                route, body = wire_form(api, request.endpoint, request.payload)
                line = {
                    "key": request.key,
                    "endpoint": request.endpoint,
                    "rows": list(request.rows),
                    "depends_on": list(request.depends_on),
                    "path": route,
                    "body": body,
                }
                out.write(json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n")
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return len(plan.requests)
