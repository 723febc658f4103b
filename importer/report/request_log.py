"""What was sent and what came back: ``--log FILE`` (JSON lines) and ``-v`` (a line each).

Every HTTP attempt is one JSON line, appended and flushed as it is answered::

    {"time": "2026-12-04T10:31:07.412Z", "endpoint": "contacts",
     "path": "inbound/contacts", "rows": [2, 3], "attempt": 1, "status": 200,
     "ms": 34.1, "request": {...the exact body...}, "response": {"success": true, ...}}

``status`` is null when no answer came (a timeout, a dropped connection: then
``response`` holds ``{"error": ...}``). ``response`` is Octolane's envelope as the
importer read it: ``data`` on success, ``message`` and ``errors`` on a refusal. The
API key never appears: it is not part of a body, and every line is scrubbed of it
(in any letter case) all the same. The file holds customer data: it is created
readable by the user only, and a run appends to it (a continued run adds its lines).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING

from importer.api.endpoints import PATHS

if TYPE_CHECKING:
    from importer.send.runner import Attempt

__all__ = ["RequestLog", "describe_attempt"]


class RequestLog:
    """Appends one JSON line per attempt to ``path``; ``secrets`` are scrubbed from each."""

    def __init__(self, path: Path, secrets: Sequence[str] = ()) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self._handle: IO[str] = open(fd, "a", encoding="utf-8", newline="\n")  # noqa: SIM115
        words = [re.escape(s) for s in secrets if s and s.strip()]
        self._secret = re.compile("|".join(words), re.IGNORECASE) if words else None
        self.lines = 0

    def __call__(self, attempt: Attempt) -> None:
        request = attempt.request
        line = json.dumps(
            {
                "time": attempt.at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                "endpoint": request.endpoint,
                "path": attempt.path or PATHS[request.endpoint],
                "rows": list(request.rows),
                "attempt": attempt.attempt,
                "status": attempt.status,
                "ms": round(attempt.seconds * 1000, 1),
                "request": attempt.body if attempt.body is not None else request.payload,
                "response": attempt.answer,
            },
            ensure_ascii=False,
            separators=(",", ":"),
            default=str,
        )
        if self._secret is not None:
            line = self._secret.sub("[API key]", line)
        self._handle.write(line + "\n")
        self._handle.flush()
        self.lines += 1

    def close(self) -> None:
        self._handle.close()


def describe_attempt(attempt: Attempt) -> str:
    """``-v``'s line: ``POST inbound/contacts rows 2-3: 200 in 34 ms`` (path below the base URL)."""
    rows = list(attempt.request.rows)
    span = (
        f"row {rows[0]}" if len(rows) == 1
        else f"rows {rows[0]}-{rows[-1]}" if rows == list(range(rows[0], rows[-1] + 1))
        else f"{len(rows)} rows"
    )  # fmt: skip
    status = attempt.status if attempt.status is not None else "no answer"
    again = f" (attempt {attempt.attempt})" if attempt.attempt > 1 else ""
    why = ""
    if attempt.status is None or attempt.status >= 300:
        message = attempt.answer.get("message") or attempt.answer.get("error") or ""
        why = f": {str(message)[:120]}" if message else ""
    return (
        f"POST {attempt.path or PATHS[attempt.request.endpoint]} {span}: {status} in"
        f" {attempt.seconds * 1000:.0f} ms{again}{why}"
    )
