"""The requests file (``--requests FILE.jsonl``): every planned request, in send order.

One JSON object per line::

    {"key": "contact:jo@acme.com", "endpoint": "contacts", "rows": [2, 7],
     "depends_on": [], "body": {"email": "jo@acme.com", "first_name": "Jo"}}

``body`` is the exact JSON the request sends; ``rows`` are the spreadsheet rows
whose outcome depends on it. A dry run writes it too, so amounts, stages and
links can be checked before anything is sent. Like the results file, it is
written under ``.partial`` and takes its name only when complete.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from importer.plan import ImportPlan
from importer.report.results import check_writable

__all__ = ["write_requests"]


def write_requests(path: Path, plan: ImportPlan) -> int:
    """Write ``plan``'s requests to ``path`` as JSON lines; return how many were written."""
    check_writable(path)
    partial = path.with_name(path.name + ".partial")
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # the user's alone
        with open(fd, "w", encoding="utf-8", newline="\n") as out:
            for request in plan.requests:
                line = {
                    "key": request.key,
                    "endpoint": request.endpoint,
                    "rows": list(request.rows),
                    "depends_on": list(request.depends_on),
                    "body": request.payload,
                }
                out.write(json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n")
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return len(plan.requests)
