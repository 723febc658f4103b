"""HTTP helpers shared by the sandbox tests (plain module: conftest is for fixtures)."""

from __future__ import annotations

import re
from typing import Any

import httpx

from importer.sandbox import RunningSandbox

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def client_for(sandbox: RunningSandbox, api_key: str | None = None) -> httpx.Client:
    """A keep-alive client on the sandbox's root URL (paths start with /v1 or /_sandbox)."""
    headers = {"X-API-Key": api_key or sandbox.api_key}
    # verify=False: plain HTTP on loopback; skips building a CA bundle per client (~25 ms).
    return httpx.Client(base_url=sandbox.url, headers=headers, timeout=10, verify=False)


def listed(client: httpx.Client, kind: str) -> list[dict[str, Any]]:
    """Rows of ``GET /_sandbox/<kind>`` (sandbox-only inspection)."""
    response = client.get(f"/_sandbox/{kind}")
    assert response.status_code == 200, response.text
    return response.json()["data"][kind]


def stats(client: httpx.Client) -> dict[str, Any]:
    response = client.get("/_sandbox/stats")
    assert response.status_code == 200, response.text
    return response.json()["data"]
