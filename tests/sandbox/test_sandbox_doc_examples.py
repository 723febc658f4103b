"""The documentation's own examples, as raw JSON, against the sandbox.

Requests are copied from the inbound API pages API.md §6 cites
(``create-{account,contact,opportunity,note}.mdx`` at docs commit 83450131);
responses from API.md §1.2-§1.6. A response must have the documented keys,
JSON types and values, except that ids are fresh UUIDs.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from sandbox_http import UUID_RE

ACCOUNT_REQUEST = '{ "domain": "acme.com" }'
ACCOUNT_RESPONSE = """
{
  "success": true,
  "data": { "company_id": "990e8400-e29b-41d4-a716-446655440000", "domain": "acme.com", "name": "Acme" },
  "message": "Account created successfully"
}"""

CONTACT_REQUEST = """{
    "email": "john@acme.com",
    "first_name": "John",
    "last_name": "Doe"
  }"""
CONTACT_RESPONSE = """
{
  "success": true,
  "data": { "people_id": "aa0e8400-e29b-41d4-a716-446655440000", "email": "john@acme.com",
            "first_name": "John", "last_name": "Doe" },
  "message": "Contact created successfully"
}"""

OPPORTUNITY_REQUEST = """{
    "pipeline_id": "your-pipeline-id",
    "opportunity": {
      "name": "Acme Corp Deal",
      "deal_size": 50000,
      "next_step": "Schedule demo call"
    },
    "related_objects": {
      "account_domain": "acme.com",
      "primary_contact_email": "john@acme.com",
      "additional_contact_emails": ["jane@acme.com"]
    }
  }"""
OPPORTUNITY_RESPONSE = """
{
  "success": true,
  "statusCode": 200,
  "data": {
    "opportunity_id": "770e8400-e29b-41d4-a716-446655440000",
    "name": "Acme Corp Deal",
    "amount": 50000
  },
  "message": "Opportunity created successfully"
}"""
VALIDATION_ERROR_RESPONSE = """
{
  "success": false,
  "statusCode": 400,
  "message": "Validation error",
  "errors": { "pipeline_id": "Pipeline id must be a valid uuid" }
}"""

NOTE_REQUEST = """{
    "note": {
      "title": "Instantly Lead - First Contact",
      "content": "Reached out via cold email. Replied interested in demo."
    },
    "account_domains": ["acme.com"],
    "contact_emails": ["john@acme.com"]
  }"""
NOTE_RESPONSE = """
{
  "success": true,
  "data": { "note_id": "bb0e8400-e29b-41d4-a716-446655440000",
            "title": "Instantly Lead - First Contact",
            "content": "Reached out via cold email. Replied interested in demo." },
  "message": "Note created successfully"
}"""

ID_FIELDS = {"company_id", "people_id", "opportunity_id", "note_id"}


def assert_documented(actual: Any, documented: Any, path: str = "") -> None:
    """Same keys, JSON types and values as the documented example; ids only need be UUIDs."""
    if isinstance(documented, dict):
        assert isinstance(actual, dict), path
        assert actual.keys() == documented.keys(), path
        for key, value in documented.items():
            if key in ID_FIELDS:
                assert UUID_RE.match(actual[key]), f"{path}.{key} = {actual[key]!r}"
            else:
                assert_documented(actual[key], value, f"{path}.{key}")
    else:
        assert type(actual) is type(documented), f"{path}: {actual!r} vs {documented!r}"
        assert actual == documented, path


def post_raw(api: httpx.Client, endpoint: str, raw: str) -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    return api.post(f"/v1/inbound/{endpoint}", content=raw.encode(), headers=headers)


@pytest.mark.parametrize(
    ("endpoint", "request_json", "response_json"),
    [
        ("accounts", ACCOUNT_REQUEST, ACCOUNT_RESPONSE),
        ("contacts", CONTACT_REQUEST, CONTACT_RESPONSE),
        ("notes", NOTE_REQUEST, NOTE_RESPONSE),
    ],
)
def test_documented_example_gets_documented_response(api, endpoint, request_json, response_json):
    response = post_raw(api, endpoint, request_json)

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert_documented(response.json(), json.loads(response_json))


def test_opportunity_example_as_printed_gets_the_documented_400(api):
    """The example's placeholder pipeline id is not a UUID: the documented error, verbatim."""
    response = post_raw(api, "opportunities", OPPORTUNITY_REQUEST)

    assert response.status_code == 400
    assert response.json() == json.loads(VALIDATION_ERROR_RESPONSE)


def test_opportunity_example_with_a_real_pipeline_gets_documented_response(api, org):
    raw = OPPORTUNITY_REQUEST.replace("your-pipeline-id", org.pipeline_id)

    response = post_raw(api, "opportunities", raw)

    assert response.status_code == 200
    assert_documented(response.json(), json.loads(OPPORTUNITY_RESPONSE))


def test_opportunity_example_sets_up_account_and_contacts(api, org):
    post_raw(api, "opportunities", OPPORTUNITY_REQUEST.replace("your-pipeline-id", org.pipeline_id))

    accounts = api.get("/_sandbox/accounts").json()["data"]["accounts"]
    contacts = api.get("/_sandbox/contacts").json()["data"]["contacts"]
    [deal] = api.get("/_sandbox/opportunities").json()["data"]["opportunities"]
    assert [a["domain"] for a in accounts] == ["acme.com"]
    assert {c["email"]: c["account"]["domain"] for c in contacts} == {
        "john@acme.com": "acme.com",
        "jane@acme.com": "acme.com",
    }
    assert deal["contact_emails"] == ["john@acme.com", "jane@acme.com"]
    assert deal["primary_contact_email"] == "john@acme.com"
    assert (deal["stage_id"], deal["stage_name"]) == (org.stage_ids[0], "Lead")
    assert deal["next_step"] == "Schedule demo call"


def test_documented_error_envelope_shape_for_every_error_status(api, sandbox):
    """401/404/413 bodies follow the one documented error example's envelope."""
    with httpx.Client(base_url=sandbox.url, verify=False) as anonymous:
        unauthorised = anonymous.post("/v1/inbound/accounts", json={"domain": "acme.com"})
    unknown_pipeline = api.post(
        "/v1/inbound/opportunities",
        json={
            "pipeline_id": "00000000-0000-4000-8000-000000000000",
            "opportunity": {},
            "related_objects": {"account_domain": "acme.com"},
        },
    )
    too_large = post_raw(api, "notes", '{"note": {"title": "' + "x" * 1_100_000 + '"}}')

    for response, status in [(unauthorised, 401), (unknown_pipeline, 404), (too_large, 413)]:
        body = response.json()
        assert response.status_code == status
        assert body["success"] is False
        assert body["statusCode"] == status
        assert isinstance(body["message"], str) and body["message"]
