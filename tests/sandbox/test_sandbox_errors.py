"""Every documented error path: 400 (all bad fields at once), 401, 404, 405, 413."""

from __future__ import annotations

import httpx
import pytest
from sandbox_http import stats

UNKNOWN_UUID = "00000000-0000-4000-8000-000000000000"


def deal(pipeline_id: str, **opportunity) -> dict:
    return {
        "pipeline_id": pipeline_id,
        "opportunity": opportunity,
        "related_objects": {"account_domain": "acme.com"},
    }


def errors_of(response: httpx.Response, status: int = 400) -> dict[str, str]:
    body = response.json()
    assert response.status_code == status, body
    assert body["success"] is False and body["statusCode"] == status
    return body["errors"]


@pytest.mark.parametrize(
    ("endpoint", "body", "expected"),
    [
        ("accounts", {}, {"domain": "Domain is required"}),
        ("accounts", {"domain": None}, {"domain": "Domain is required"}),
        ("accounts", {"domain": 42}, {"domain": "Domain must be a string"}),
        (
            "accounts",
            {"domain": "not a domain"},
            {"domain": "Domain must be a valid domain such as acme.com"},
        ),
        (
            "accounts",
            {"domain": "jo@acme.com"},
            {"domain": "Domain must be a valid domain such as acme.com"},
        ),
        ("contacts", {}, {"email": "Email is required"}),
        ("contacts", {"email": "john.acme.com"}, {"email": "Email must be a valid email"}),
        ("contacts", {"email": "john@acme"}, {"email": "Email must be a valid email"}),
        ("contacts", {"email": ["john@acme.com"]}, {"email": "Email must be a string"}),
        (
            "contacts",
            {"email": "john@acme.com", "first_name": 7, "last_name": {"x": 1}},
            {
                "first_name": "First name must be a string",
                "last_name": "Last name must be a string",
            },
        ),
        ("notes", {}, {"note": "Note is required"}),
        ("notes", {"note": "hello"}, {"note": "Note must be an object"}),
        ("notes", {"note": {"content": "no title"}}, {"note.title": "Title is required"}),
        ("notes", {"note": {"title": "   "}}, {"note.title": "Title must not be blank"}),
        (
            "notes",
            {"note": {"title": "T"}, "account_domains": "acme.com"},
            {"account_domains": "Account domains must be an array of strings"},
        ),
        (
            "notes",
            {"note": {"title": "T"}, "contact_emails": ["ok@acme.com", "bad"]},
            {"contact_emails[1]": "Contact emails[1] must be a valid email"},
        ),
        (
            "opportunities",
            {},
            {
                "pipeline_id": "Pipeline id is required",
                "opportunity": "Opportunity is required",
                "related_objects": "Related objects is required",
            },
        ),
    ],
)
def test_bad_fields_get_400_naming_each(api, endpoint, body, expected):
    response = api.post(f"/v1/inbound/{endpoint}", json=body)

    assert errors_of(response) == expected
    assert response.json()["message"] == "Validation error"


def test_every_bad_opportunity_field_is_named_at_once(api):
    body = {
        "pipeline_id": "not-a-uuid",
        "opportunity": {
            "name": 12,
            "stage_id": "stage-1",
            "deal_size": "50000",
            "close_date": "2026-02-11",
            "next_action_date": 1770768000,  # seconds, not milliseconds
            "next_step": ["call"],
        },
        "related_objects": {
            "account_domain": "acme",
            "primary_contact_email": "john@",
            "additional_contact_emails": ["jane@acme.com", 3],
            "owner_email": "owner",
        },
    }

    errors = errors_of(api.post("/v1/inbound/opportunities", json=body))

    assert errors == {
        "pipeline_id": "Pipeline id must be a valid uuid",
        "opportunity.name": "Name must be a string",
        "opportunity.stage_id": "Stage id must be a valid uuid",
        "opportunity.deal_size": "Deal size must be a number",
        "opportunity.close_date": "Close date must be a Unix timestamp in milliseconds (a number)",
        "opportunity.next_action_date": (
            "Next action date must be in milliseconds; 1770768000 looks like seconds"
        ),
        "opportunity.next_step": "Next step must be a string",
        "related_objects.account_domain": "Account domain must be a valid domain such as acme.com",
        "related_objects.primary_contact_email": "Primary contact email must be a valid email",
        "related_objects.additional_contact_emails[1]": (
            "Additional contact emails[1] must be a string"
        ),
        "related_objects.owner_email": "Owner email must be a valid email",
    }


@pytest.mark.parametrize(
    ("opportunity", "field", "message"),
    [
        ({"deal_size": True}, "opportunity.deal_size", "Deal size must be a number"),
        ({"deal_size": -5}, "opportunity.deal_size", "Deal size must not be negative"),
        (
            {"close_date": 1.5e12 + 0.5},
            "opportunity.close_date",
            "Close date must be a whole, non-negative number of milliseconds",
        ),
        (
            {"close_date": 1_770_768_000_000_000},
            "opportunity.close_date",
            "Close date must be in milliseconds; 1770768000000000 looks like microseconds",
        ),
        ({"stage_id": 5}, "opportunity.stage_id", "Stage id must be a valid uuid"),
    ],
)
def test_wrong_number_types_and_units(api, org, opportunity, field, message):
    response = api.post("/v1/inbound/opportunities", json=deal(org.pipeline_id, **opportunity))

    assert errors_of(response) == {field: message}


def test_blank_name_without_domain_cannot_be_derived(api, org):
    body = {"pipeline_id": org.pipeline_id, "opportunity": {"name": " "}, "related_objects": {}}

    errors = errors_of(api.post("/v1/inbound/opportunities", json=body))

    assert errors == {
        "opportunity.name": "Name is required when related_objects.account_domain is not given"
    }


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b'{"domain": "acme.com"', "Malformed JSON: Expecting ',' delimiter"),
        (b"", "Malformed JSON: Expecting value"),
        (b'{"domain": NaN}', "Malformed JSON: NaN is not valid JSON"),
        (b"\xff\xfe{", "Malformed JSON"),
        (b'["acme.com"]', "Request body must be a JSON object"),
        (b'"acme.com"', "Request body must be a JSON object"),
        (b"42", "Request body must be a JSON object"),
        (b"null", "Request body must be a JSON object"),
    ],
)
def test_malformed_or_non_object_body_is_400(api, raw, expected):
    response = api.post(
        "/v1/inbound/accounts", content=raw, headers={"Content-Type": "application/json"}
    )

    assert errors_of(response)["body"].startswith(expected)


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
def test_content_type_must_be_json(api, content_type):
    headers = {"Content-Type": content_type} if content_type else {}

    response = api.post("/v1/inbound/accounts", content=b'{"domain": "acme.com"}', headers=headers)

    assert errors_of(response) == {"Content-Type": "Content-Type must be application/json"}


def test_json_content_type_with_charset_is_fine(api):
    headers = {"Content-Type": "Application/JSON; charset=utf-8"}

    response = api.post("/v1/inbound/accounts", content=b'{"domain": "acme.com"}', headers=headers)

    assert response.status_code == 200


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, "Missing API key (X-API-Key header)"),
        ({"X-API-Key": ""}, "Missing API key (X-API-Key header)"),
        ({"X-API-Key": "wrong-key"}, "Invalid API key"),
        ({"Authorization": "Bearer sandbox-demo-key"}, "Missing API key (X-API-Key header)"),
    ],
)
def test_missing_or_unknown_key_is_401(sandbox, headers, message):
    with httpx.Client(base_url=sandbox.url, verify=False) as client:
        response = client.post(
            "/v1/inbound/contacts", json={"email": "jo@acme.com"}, headers=headers
        )
        inspection = client.get("/_sandbox/contacts", headers=headers)

    assert response.status_code == 401
    assert response.json() == {"success": False, "statusCode": 401, "message": message}
    assert inspection.status_code == 401


@pytest.mark.parametrize("header", ["x-api-key", "X-API-KEY", "X-Api-Key"])
def test_key_header_is_case_insensitive(sandbox, org, header):
    with httpx.Client(base_url=sandbox.url, verify=False) as client:
        response = client.post(
            "/v1/inbound/accounts", json={"domain": "acme.com"}, headers={header: org.api_key}
        )

    assert response.status_code == 200


def test_unknown_pipeline_is_404(api):
    response = api.post("/v1/inbound/opportunities", json=deal(UNKNOWN_UUID))

    assert response.json() == {
        "success": False,
        "statusCode": 404,
        "message": "Pipeline not found",
        "errors": {"pipeline_id": f"Pipeline {UNKNOWN_UUID} not found"},
    }


def test_another_orgs_pipeline_is_404(api, sandbox):
    response = api.post("/v1/inbound/opportunities", json=deal(sandbox.pipeline_id))

    assert errors_of(response, 404) == {"pipeline_id": f"Pipeline {sandbox.pipeline_id} not found"}


def test_stage_of_another_pipeline_is_404(sandbox):
    org = sandbox.add_org(
        pipelines=[{"name": "New", "stages": ["A", "B"]}, {"name": "Renewals", "stages": ["C"]}]
    )
    pipelines = {p["name"]: p for p in sandbox_org(sandbox, org.api_key)["pipelines"]}
    renewal_stage = pipelines["Renewals"]["stages"][0]["stage_id"]
    body = deal(org.pipeline_id, stage_id=renewal_stage)

    with httpx.Client(base_url=sandbox.url, headers={"X-API-Key": org.api_key}, verify=False) as c:
        response = c.post("/v1/inbound/opportunities", json=body)

    assert response.json()["message"] == "Stage not found"
    message = f"Stage {renewal_stage} is not a stage of pipeline {org.pipeline_id}"
    assert errors_of(response, 404) == {"opportunity.stage_id": message}


def sandbox_org(sandbox, api_key: str) -> dict:
    with httpx.Client(base_url=sandbox.url, headers={"X-API-Key": api_key}, verify=False) as c:
        return c.get("/_sandbox/org").json()["data"]


def test_owner_who_is_not_a_member_is_404(api, org):
    body = deal(org.pipeline_id)
    body["related_objects"]["owner_email"] = "stranger@acme.com"

    response = api.post("/v1/inbound/opportunities", json=body)

    assert response.json()["message"] == "Owner not found"
    assert errors_of(response, 404) == {
        "related_objects.owner_email": "stranger@acme.com is not a member of this organization"
    }


def test_all_unknown_references_are_named_at_once(api, org):
    body = deal(UNKNOWN_UUID, stage_id=UNKNOWN_UUID)
    body["related_objects"]["owner_email"] = "stranger@acme.com"

    errors = errors_of(api.post("/v1/inbound/opportunities", json=body), 404)

    assert set(errors) == {"pipeline_id", "related_objects.owner_email"}


def test_body_over_the_limit_is_413_by_content_length(api):
    big = b'{"domain": "' + b"a" * (1024 * 1024) + b'.com"}'

    response = api.post(
        "/v1/inbound/accounts", content=big, headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 413
    assert response.json()["message"] == "Request body too large (limit 1048576 bytes)"


def test_chunked_body_over_the_limit_is_413(own):
    _, client = own(max_body_bytes=100)

    def chunks():
        yield b'{"note": {"title": "'
        for _ in range(10):
            yield b"x" * 20
        yield b'"}}'

    response = client.post(
        "/v1/inbound/notes", content=chunks(), headers={"Content-Type": "application/json"}
    )
    small = client.post("/v1/inbound/notes", json={"note": {"title": "fits"}})

    assert response.status_code == 413
    assert small.status_code == 200


def test_unknown_route_and_wrong_method_use_the_envelope(api):
    missing = api.post("/v1/inbound/companies", json={})
    wrong_method = api.get("/v1/inbound/accounts")

    assert missing.status_code == 404
    assert missing.json()["message"] == "Not Found: POST /v1/inbound/companies"
    assert wrong_method.status_code == 405
    assert wrong_method.headers["allow"] == "POST"
    assert wrong_method.json()["statusCode"] == 405


def test_every_rejection_is_counted_by_reason(api, org):
    api.post("/v1/inbound/accounts", json={})
    api.post("/v1/inbound/accounts", content=b"{", headers={"Content-Type": "application/json"})
    api.post("/v1/inbound/opportunities", json=deal(UNKNOWN_UUID))
    api.post("/v1/inbound/accounts", json={"domain": "acme.com"})
    api.post("/v1/inbound/deals", json={})

    tally = stats(api)

    assert tally["requests"] == {
        "accounts": {"200": 1, "400": 2},
        "opportunities": {"404": 1},
        "other": {"404": 1},
    }
    assert tally["rejected"] == {"invalid": 2, "not_found": 1, "unknown_route": 1}
    assert tally["rejected_total"] == 4
    assert tally["total"] == 5
