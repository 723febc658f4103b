"""The API's routes answer the same whether the sandbox serves them straight from its
route table (routes without path parameters) or through Starlette's routing (the rest)."""

from __future__ import annotations

from typing import Any

import pytest
from sandbox_http import client_for


def _boom(*args: Any) -> None:
    raise RuntimeError("boom")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/v1/inbound/contacts"),  # served from the table
        ("GET", "/v1/pipelines"),  # served from the table
        ("GET", "/v1/pipelines/{pipeline}/stages"),  # routed by Starlette
    ],
)
def test_a_crash_answers_500_naming_it_on_either_path(start_sandbox, monkeypatch, method, path):
    sandbox = start_sandbox()
    monkeypatch.setattr(sandbox.control.directory, "org_for_key", _boom)
    url = path.format(pipeline=sandbox.pipeline_id)

    with client_for(sandbox) as client:
        response = client.request(method, url, json={"email": "a@acme.com"})

    assert response.status_code == 500
    assert response.json() == {
        "success": False,
        "statusCode": 500,
        "message": "Sandbox bug: RuntimeError: boom",
    }


def test_the_first_of_repeated_key_headers_counts(sandbox):
    body = b'{"email": "twice@acme.com"}'
    with client_for(sandbox) as client:
        client.headers.pop("X-API-Key")
        first_valid = client.post(
            "/v1/inbound/contacts",
            content=body,
            headers=[
                ("Content-Type", "application/json"),
                ("X-API-Key", sandbox.api_key),
                ("X-API-Key", "not-a-key"),
            ],
        )
        first_invalid = client.post(
            "/v1/inbound/contacts",
            content=body,
            headers=[
                ("Content-Type", "application/json"),
                ("X-API-Key", "not-a-key"),
                ("X-API-Key", sandbox.api_key),
            ],
        )

    assert first_valid.status_code == 200
    assert first_invalid.status_code == 401


def test_a_trailing_slash_or_another_method_still_goes_through_the_router(api):
    slash = api.post("/v1/inbound/contacts/", json={"email": "slash@acme.com"})
    head = api.head("/v1/pipelines")
    put = api.put("/v1/inbound/contacts", json={"email": "put@acme.com"})

    assert slash.status_code == 307  # Starlette's redirect to the route without the slash
    assert slash.headers["location"].endswith("/v1/inbound/contacts")
    assert head.status_code == 200
    assert put.status_code == 405
    assert put.json()["message"] == "Method Not Allowed: PUT /v1/inbound/contacts"
