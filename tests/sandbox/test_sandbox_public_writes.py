"""The public API's creates, bulk creates, lists and searches, through real HTTP.

Bodies are written as raw JSON from the public API's spec (API.md §2.2-2.4), not from
the importer's models, so the sandbox is checked against the docs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from sandbox_http import UUID_RE, client_for, listed, stats

from importer.sandbox import OrgAccess, load_settings, running_sandbox

INBOUND_MS = 1_700_000_000_000


def deal(pipeline_id: str | None, name: str = "Big deal", **fields: Any) -> dict[str, Any]:
    related = fields.pop("related", {"account_domain": "acme.com"})
    return {
        "pipeline_id": pipeline_id,
        "opportunity": {"name": name, **fields},
        "related_objects": related,
    }


def data(response: httpx.Response, status: int = 201) -> Any:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is True and isinstance(body["message"], str)
    return body["data"]


def error(response: httpx.Response, status: int = 400) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is False and body["statusCode"] == status
    return body


# ---- single creates --------------------------------------------------------------


def test_single_creates_answer_201_with_the_record(api: httpx.Client, org: OrgAccess):
    account = data(
        api.post(
            "/v1/accounts",
            json={"domain": "https://www.Acme.com/", "name": "ACME Inc", "industry": "x"},
        )
    )
    assert UUID_RE.match(account["id"]) and account == {
        "id": account["id"],
        "domain": "acme.com",
        "name": "ACME Inc",
    }
    contact = data(
        api.post(
            "/v1/contacts",
            json={"email": "Jo@Acme.com", "first_name": "Jo", "job_title": "CEO", "seniority": "C"},
        )
    )
    assert contact == {
        "id": contact["id"],
        "email": "jo@acme.com",
        "first_name": "Jo",
        "last_name": None,
    }
    created = data(api.post("/v1/opportunities", json=deal(org.pipeline_id)))
    assert created == {
        "id": created["id"], "name": "Big deal", "pipeline_id": org.pipeline_id,
        "stage_id": org.stage_ids[0], "account_id": account["id"],
    }  # fmt: skip
    note = data(api.post("/v1/notes", json={"note": {"title": "Call", "content": "Went well"}}))
    assert note == {"id": note["id"], "title": "Call", "content": "Went well"}
    # The same storage as the inbound endpoints: the contact is linked to the account.
    assert listed(api, "contacts")[0]["account"]["company_id"] == account["id"]
    assert listed(api, "contacts")[0]["job_title"] == "CEO"
    assert listed(api, "accounts")[0]["name"] == "ACME Inc"
    again = data(api.post("/v1/accounts", json={"domain": "acme.com", "name": "Other"}))
    assert again == account  # resolved: the existing account, its name kept


def test_the_success_status_may_be_200(own):
    _, client = own(public_success_status=200)
    assert client.post("/v1/accounts", json={"domain": "acme.com"}).status_code == 200
    assert client.post("/v1/accounts/bulk", json=[{"domain": "acme.com"}]).status_code == 200


@pytest.mark.parametrize(
    ("path", "body", "errors"),
    [
        ("/v1/accounts", {"name": "Acme"}, {"domain": "Domain is required"}),
        ("/v1/contacts", {"email": "nope"}, {"email": "Email must be a valid email"}),
        (
            "/v1/notes",
            {"note": {"title": "t", "body": "x"}},
            {"note.body": "Unknown field 'body' (not allowed here)"},
        ),
        ("/v1/notes", {"note": {"content": "x"}}, {"note.title": "Title is required"}),
        ("/v1/accounts", [{"domain": "acme.com"}], {"body": "Each item must be a JSON object"}),
    ],
)
def test_single_create_validation(api: httpx.Client, path: str, body: Any, errors: dict):
    answer = error(api.post(path, json=body))
    assert answer["message"] == "Validation failed" and answer["errors"] == errors


def test_a_deal_is_checked_as_the_spec_says(api: httpx.Client, org: OrgAccess):
    extra = deal(org.pipeline_id, related={"account_domain": "acme.com", "account_name": "Acme"})
    assert error(api.post("/v1/opportunities", json=extra))["errors"] == {
        "related_objects.account_name": "Unknown field 'account_name' (not allowed here)"
    }
    nameless = deal(org.pipeline_id, name=None, related={})  # type: ignore[arg-type]
    assert error(api.post("/v1/opportunities", json=nameless))["errors"] == {
        "opportunity.name": "Name is required when related_objects.account_domain is not given"
    }
    derived = data(api.post("/v1/opportunities", json=deal(org.pipeline_id, name=None)))  # type: ignore[arg-type]
    assert derived["name"] == "Acme"  # derived from the domain, as on the inbound API
    bad_attributes = deal(org.pipeline_id, custom_attributes={"tier": ["gold"]})
    assert error(api.post("/v1/opportunities", json=bad_attributes))["errors"] == {
        "opportunity.custom_attributes.tier": "A custom attribute must be a string, number, boolean or null"
    }
    unknown = deal("00000000-0000-4000-8000-000000000000")
    assert (
        error(api.post("/v1/opportunities", json=unknown), 404)["message"] == "Pipeline not found"
    )
    stranger = deal(
        org.pipeline_id,
        related={"account_domain": "acme.com", "owner_id": "00000000-0000-4000-8000-000000000000"},
    )
    assert (
        "related_objects.owner_id"
        in error(api.post("/v1/opportunities", json=stranger), 404)["errors"]
    )


def test_dates_are_unix_seconds_stored_as_the_inbound_milliseconds(
    api: httpx.Client, org: OrgAccess
):
    seconds = INBOUND_MS // 1000
    public = deal(org.pipeline_id, "Public", close_date=seconds, next_action_date=seconds, next_steps="Call",
                  custom_attributes={"tier": "gold", "seats": 5, "vip": True, "note": None})  # fmt: skip
    data(api.post("/v1/opportunities", json=public))
    inbound = {
        "pipeline_id": org.pipeline_id,
        "opportunity": {
            "name": "Inbound",
            "close_date": INBOUND_MS,
            "next_action_date": INBOUND_MS,
            "next_step": "Call",
        },
        "related_objects": {"account_domain": "acme.com"},
    }
    assert api.post("/v1/inbound/opportunities", json=inbound).status_code == 200
    rows = {row["name"]: row for row in listed(api, "opportunities")}
    for key in ("close_date", "next_action_date", "next_step"):
        assert rows["Public"][key] == rows["Inbound"][key], key
    assert rows["Public"]["close_date"] == INBOUND_MS
    assert rows["Public"]["custom_attributes"] == {
        "tier": "gold",
        "seats": 5,
        "vip": True,
        "note": None,
    }
    assert "custom_attributes" not in rows["Inbound"]
    late = error(api.post("/v1/opportunities", json=deal(org.pipeline_id, close_date=INBOUND_MS)))
    assert late["errors"] == {
        "opportunity.close_date": "Close date must be in Unix seconds on this API; 1700000000000 is after 2100 (milliseconds?)"
    }
    assert (
        api.post(
            "/v1/opportunities", json=deal(org.pipeline_id, close_date=4_102_444_800)
        ).status_code
        == 201
    )


def test_stage_name_is_matched_case_insensitively(api: httpx.Client, org: OrgAccess):
    created = data(
        api.post(
            "/v1/opportunities", json=deal(org.pipeline_id, stage_name=org.stage_names[2].upper())
        )
    )
    assert created["stage_id"] == org.stage_ids[2]
    by_id = deal(org.pipeline_id, "Other", stage_id=org.stage_ids[1], stage_name="nonsense")
    assert (
        data(api.post("/v1/opportunities", json=by_id))["stage_id"] == org.stage_ids[1]
    )  # stage_id wins
    unknown = error(
        api.post("/v1/opportunities", json=deal(org.pipeline_id, stage_name="Won!")), 404
    )
    assert unknown["message"] == "Stage not found"
    assert unknown["errors"] == {
        "opportunity.stage_name": f"'Won!' is not a stage of pipeline {org.pipeline_id}"
    }


# ---- bulk creates -----------------------------------------------------------------


def test_bulk_accounts_per_item(api: httpx.Client):
    data(api.post("/v1/accounts", json={"domain": "old.com"}))
    batch = [{"domain": "new.com"}, {"domain": "OLD.com"}, {"domain": "www.new.com"}]
    answer = data(api.post("/v1/accounts/bulk", json=batch))
    ids = {row["domain"]: row["company_id"] for row in listed(api, "accounts")}
    assert answer == {
        "results": [
            {"index": 0, "status": "created", "id": ids["new.com"]},
            {"index": 1, "status": "resolved", "id": ids["old.com"]},
            {"index": 2, "status": "resolved", "id": ids["new.com"]},  # earlier in the same batch
        ],
        "created": 1, "resolved": 2, "skipped": 0, "failed": 0,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("shape", "expected"),
    [("summary", {"created": 1, "resolved": 1, "skipped": 0, "failed": 0}), ("empty", None)],
)
def test_bulk_response_shapes(own, shape: str, expected: Any):
    _, client = own(bulk_response=shape)
    answer = client.post(
        "/v1/contacts/bulk", json=[{"email": "a@acme.com"}, {"email": "A@acme.com"}]
    )
    assert data(answer) == expected
    assert [row["email"] for row in listed(client, "contacts")] == ["a@acme.com"]


@pytest.mark.parametrize(
    "body",
    [[], {"domain": "acme.com"}, [{"domain": f"d{n}.com"} for n in range(101)]],
    ids=["empty", "object", "101 items"],
)
def test_a_bulk_body_is_an_array_of_1_to_100(api: httpx.Client, body: Any):
    answer = error(api.post("/v1/accounts/bulk", json=body))
    assert answer["errors"] == {"body": "The body must be a JSON array of 1 to 100 items"}


def test_all_or_nothing_writes_nothing_and_names_each_bad_item(api: httpx.Client, org: OrgAccess):
    contacts = [{"email": "a@acme.com"}, {"email": "nope"}, "text"]
    answer = error(api.post("/v1/contacts/bulk", json=contacts))
    assert answer["message"] == "Validation failed"
    assert answer["errors"] == {
        "[1].email": "Email must be a valid email",
        "[2]": "Each item must be a JSON object",
    }
    deals = [deal(org.pipeline_id, "Fine"), deal(org.pipeline_id, "Bad", stage_name="Won!")]
    answer = error(api.post("/v1/opportunities/bulk", json=deals))
    assert answer["errors"] == {
        "[1].opportunity.stage_name": f"'Won!' is not a stage of pipeline {org.pipeline_id}"
    }
    assert (
        listed(api, "contacts") == []
        and listed(api, "opportunities") == []
        and listed(api, "accounts") == []
    )


def test_partial_writes_the_good_items(own):
    sandbox, client = own(bulk_mode="partial")
    batch = [
        {"email": "a@acme.com", "phone": "+1 555", "linkedin": "in/a"},
        {"email": "nope"},
        {"email": "b@acme.com"},
    ]
    answer = data(client.post("/v1/contacts/bulk", json=batch))
    ids = {row["email"]: row["people_id"] for row in listed(client, "contacts")}
    assert answer["results"] == [
        {"index": 0, "status": "created", "id": ids["a@acme.com"]},
        {
            "index": 1,
            "status": "failed",
            "id": None,
            "message": "Validation failed",
            "errors": {"email": "Email must be a valid email"},
        },
        {"index": 2, "status": "created", "id": ids["b@acme.com"]},
    ]
    assert (answer["created"], answer["failed"]) == (2, 1)
    first = listed(client, "contacts")[0]
    assert (first["phone"], first["linkedin"], first["account"]["domain"]) == (
        "+1 555",
        "in/a",
        "acme.com",
    )
    deals = [
        deal(sandbox.pipeline_id, "Fine"),
        deal(
            sandbox.pipeline_id,
            "Owned",
            related={"account_domain": "acme.com", "owner_email": "who@else.com"},
        ),
    ]
    answer = data(client.post("/v1/opportunities/bulk", json=deals))
    assert [r["status"] for r in answer["results"]] == ["created", "failed"]
    assert answer["results"][1]["message"] == "Owner not found"
    assert answer["results"][1]["errors"] == {
        "related_objects.owner_email": "who@else.com is not a member of this organization"
    }


def test_bulk_notes_and_their_links(api: httpx.Client):
    notes = [
        {
            "note": {"title": "One"},
            "account_domains": ["acme.com"],
            "contact_emails": ["jo@acme.com"],
        },
        {"note": {"title": "One"}},
    ]
    answer = data(api.post("/v1/notes/bulk", json=notes))
    assert [r["status"] for r in answer["results"]] == ["created", "created"]  # never deduplicated
    rows = listed(api, "notes")
    assert [r["note_id"] for r in rows] == [r["id"] for r in answer["results"]]
    assert (rows[0]["account_domains"], rows[0]["contact_emails"]) == (
        ["acme.com"],
        ["jo@acme.com"],
    )


# ---- deal dedup -------------------------------------------------------------------


def test_deal_dedup_defaults_per_route(api: httpx.Client, org: OrgAccess):
    one = deal(
        org.pipeline_id,
        related={"account_domain": "acme.com", "primary_contact_email": "a@acme.com"},
    )
    first = data(api.post("/v1/opportunities", json=one))["id"]
    second = data(api.post("/v1/opportunities", json=one))["id"]  # create: none
    bulk = data(api.post("/v1/opportunities/bulk", json=[one, one]))  # bulk: none
    assert [r["status"] for r in bulk["results"]] == ["created", "created"]
    assert len({first, second, *(r["id"] for r in bulk["results"])}) == 4
    fast = {
        "opportunity": {"name": "big DEAL"},
        "related_objects": {
            "account": {"domain": "acme.com"},
            "primary_contact": {"email": "b@acme.com"},
        },
    }
    answer = data(
        api.post("/v1/opportunities/fast-bulk", json=[fast])
    )  # fast-bulk: the inbound rule
    assert answer["results"] == [{"index": 0, "status": "skipped", "id": first}]
    assert (answer["created"], answer["skipped"]) == (0, 1)
    rows = {row["opportunity_id"]: row for row in listed(api, "opportunities")}
    assert len(rows) == 4
    assert rows[first]["contact_emails"] == ["a@acme.com", "b@acme.com"]  # merged as inbound does


def test_deal_dedup_settings(own):
    sandbox, client = own(
        deal_dedup_create="domain_pipeline_name",
        deal_dedup_bulk="domain_pipeline_name",
        deal_dedup_fast_bulk="none",
    )
    one = deal(sandbox.pipeline_id)
    first = data(client.post("/v1/opportunities", json=one))["id"]
    assert data(client.post("/v1/opportunities", json=one))["id"] == first
    bulk = data(client.post("/v1/opportunities/bulk", json=[one]))
    assert bulk["results"] == [{"index": 0, "status": "skipped", "id": first}]
    fast = {
        "opportunity": {"name": "Big deal"},
        "related_objects": {"account": {"domain": "acme.com"}},
    }
    assert data(client.post("/v1/opportunities/fast-bulk", json=[fast, fast]))["created"] == 2
    assert len(listed(client, "opportunities")) == 3


def test_fast_bulk_nested_records_and_pipeline_choice(api: httpx.Client, org: OrgAccess):
    item = {
        "pipeline_name": "sales",
        "opportunity": {"stage_name": org.stage_names[1]},
        "related_objects": {
            "account": {"domain": "globex.com", "name": "Globex Corporation"},
            "primary_contact": {
                "email": "hank@globex.com",
                "first_name": "Hank",
                "job_title": "Boss",
            },
            "additional_contacts": [
                {"email": "hank@globex.com"},
                {"email": "mo@globex.com", "last_name": "Mo"},
            ],
            "owner_email": org.members[0],
        },
    }
    default_pipeline = {"opportunity": {"name": "Other"}, "related_objects": {}}
    answer = data(api.post("/v1/opportunities/fast-bulk", json=[item, default_pipeline]))
    assert [r["status"] for r in answer["results"]] == ["created", "created"]
    rows = listed(api, "opportunities")
    assert rows[0]["name"] == "Globex"  # derived from the domain, as on the inbound API
    assert (rows[0]["stage_id"], rows[0]["owner_email"]) == (org.stage_ids[1], org.members[0])
    assert rows[0]["contact_emails"] == ["hank@globex.com", "mo@globex.com"]
    assert rows[1]["pipeline_id"] == org.pipeline_id
    assert listed(api, "accounts")[0]["name"] == "Globex Corporation"
    people = {row["email"]: row for row in listed(api, "contacts")}
    assert (people["hank@globex.com"]["first_name"], people["hank@globex.com"]["job_title"]) == (
        "Hank",
        "Boss",
    )
    assert people["mo@globex.com"]["last_name"] == "Mo"
    wrong = {
        "pipeline_name": "Nope",
        "opportunity": {"name": "x"},
        "related_objects": {"contact": {}},
    }
    assert error(api.post("/v1/opportunities/fast-bulk", json=[wrong]))["errors"] == {
        "[0].related_objects.contact": "Unknown field 'contact' (not allowed here)"
    }


def test_owner_id_names_a_member(api: httpx.Client, org: OrgAccess):
    member_ids = api.get("/_sandbox/org").json()["data"]["member_ids"]
    owner = member_ids[org.members[0]]
    data(
        api.post(
            "/v1/opportunities",
            json=deal(org.pipeline_id, related={"account_domain": "acme.com", "owner_id": owner}),
        )
    )
    assert listed(api, "opportunities")[0]["owner_email"] == org.members[0]


# ---- faults ---------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["all_or_nothing", "partial"])
def test_items_fail_by_injection(own, mode: str):
    _, client = own(fail_items_containing="boom", bulk_mode=mode)
    batch = [{"domain": "fine.com"}, {"domain": "boom.com"}]
    answer = client.post("/v1/accounts/bulk", json=batch)
    if mode == "all_or_nothing":
        assert error(answer)["errors"] == {"[1]": "Injected item failure"}
        assert listed(client, "accounts") == []
    else:
        results = data(answer)["results"]
        assert results[1] == {
            "index": 1,
            "status": "failed",
            "id": None,
            "message": "Injected item failure",
            "errors": {"body": "Injected item failure"},
        }
        assert [row["domain"] for row in listed(client, "accounts")] == ["fine.com"]
    single = error(client.post("/v1/notes", json={"note": {"title": "boom"}}))
    assert (single["message"], single["errors"]) == (
        "Injected item failure",
        {"body": "Injected item failure"},
    )
    assert stats(client)["rejected"]["injected_fault"] >= 1


def test_item_failure_rate_is_seeded(own):
    def failed_items(seed: int) -> list[int]:
        _, client = own(item_failure_rate=0.5, seed=seed, bulk_mode="partial")
        batch = [{"domain": f"d{n}.com"} for n in range(20)]
        results = data(client.post("/v1/accounts/bulk", json=batch))["results"]
        return [r["index"] for r in results if r["status"] == "failed"]

    first = failed_items(7)
    assert first == failed_items(7) and 0 < len(first) < 20


def test_a_bulk_answer_lost_after_the_write(own):
    sandbox, client = own()
    notes = [{"note": {"title": f"Note {n}"}} for n in range(3)]
    sandbox.fail_next(1, endpoint="notes.bulk", after_write=True)
    assert (
        client.post("/v1/notes", json={"note": {"title": "single"}}).status_code == 201
    )  # other route
    assert (
        error(client.post("/v1/notes/bulk", json=notes), 500)["message"] == "Internal Server Error"
    )
    assert len(listed(client, "notes")) == 4  # the whole batch was written
    sandbox.fail_next(1, endpoint="notes.bulk", after_write=True, drop_connection=True)
    with pytest.raises(httpx.TransportError):
        client.post("/v1/notes/bulk", json=notes)
    assert len(listed(client, "notes")) == 7
    sandbox.fail_next(1, endpoint="notes.bulk")  # before the write: nothing stored
    assert client.post("/v1/notes/bulk", json=notes).status_code == 500
    assert len(listed(client, "notes")) == 7
    tally = stats(client)["requests"]["notes.bulk"]
    assert tally == {"500": 2, "dropped": 1}


@pytest.mark.parametrize("scope", ["key", "route"])
def test_rate_limit_per_key_or_per_route(own, scope: str):
    _, client = own(rate_limit_per_min=1, rate_limit_scope=scope)
    assert client.post("/v1/accounts", json={"domain": "acme.com"}).status_code == 201
    limited = client.post("/v1/accounts", json={"domain": "acme.com"})
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
    other = client.post("/v1/contacts", json={"email": "jo@acme.com"})
    assert other.status_code == (201 if scope == "route" else 429)


def test_public_routes_need_the_public_api(own):
    _, client = own(public_api=False)
    for method, path, body in [
        ("POST", "/v1/accounts/bulk", [{"domain": "acme.com"}]),
        ("GET", "/v1/accounts", None),
    ]:
        assert error(client.request(method, path, json=body), 401)["message"].startswith(
            "This API key may not"
        )
    assert client.post("/v1/inbound/accounts", json={"domain": "acme.com"}).status_code == 200


# ---- lists and searches -------------------------------------------------------------


def test_lists_page_with_cursors(api: httpx.Client):
    data(api.post("/v1/accounts/bulk", json=[{"domain": f"d{n}.com"} for n in range(5)]))
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = data(api.get("/v1/accounts", params=params), 200)
        assert set(page) == {
            "accounts",
            "custom_field_definitions",
            "has_more",
            "next_cursor",
            "limit",
        }
        assert page["limit"] == 2 and page["custom_field_definitions"] == {}
        seen += [a["domain"] for a in page["accounts"]]
        pages += 1
        cursor = page["next_cursor"]
        assert page["has_more"] == (cursor is not None)
        if not page["has_more"]:
            break
    assert (seen, pages) == ([f"d{n}.com" for n in range(5)], 3)
    record = data(api.get("/v1/accounts", params={"q": "D3"}), 200)["accounts"]
    assert record == [
        {"id": record[0]["id"], "name": "D3", "domain": "d3.com", "custom_fields": {}}
    ]
    for bad in ({"limit": 0}, {"limit": 501}, {"cursor": "x"}):
        assert error(api.get("/v1/accounts", params=bad))["message"] == "Validation failed"


def test_contact_list_and_search(api: httpx.Client):
    data(api.post("/v1/contacts/bulk", json=[
        {"email": "jo@acme.com", "first_name": "Jo", "job_title": "CEO"},
        {"email": "al@acme.com", "last_name": "Smith"},
        {"email": "zed@globex.com"},
    ]))  # fmt: skip
    listed_ = data(api.get("/v1/contacts", params={"q": "smith"}), 200)["contacts"]
    assert [c["email"] for c in listed_] == ["al@acme.com"]
    jo = data(api.get("/v1/contacts", params={"q": "jo@"}), 200)["contacts"][0]
    assert jo == {
        "id": jo["id"],
        "first_name": "Jo",
        "last_name": None,
        "email": "jo@acme.com",
        "custom_fields": {},
        "job_title": "CEO",
    }

    def search(*filters: dict, **body: Any) -> list[str]:
        found = data(api.post("/v1/contacts/search", json={"filters": list(filters), **body}), 200)
        return [c["email"] for c in found["contacts"]]

    assert search({"field": "email", "operator": "eq", "value": "JO@Acme.COM"}) == ["jo@acme.com"]
    assert search(
        {"field": "email", "operator": "in", "value": [" AL@acme.com", "zed@globex.com"]}
    ) == ["al@acme.com", "zed@globex.com"]
    assert search(
        {"field": "email", "operator": "neq", "value": "jo@acme.com"},
        {"field": "first_name", "operator": "empty"},
    ) == ["al@acme.com", "zed@globex.com"]
    assert search({"field": "email", "operator": "contains", "value": "ACME"}, limit=1) == [
        "jo@acme.com"
    ]
    assert search({"field": "last_name", "operator": "not_empty"}) == ["al@acme.com"]
    assert search(q="globex") == ["zed@globex.com"]
    assert search({"field": "id", "value": jo["id"]}) == ["jo@acme.com"]
    bad = error(api.post("/v1/contacts/search", json={"pipeline_id": "x"}))
    assert bad["errors"] == {"pipeline_id": "not allowed here (SearchRequest)"}
    bad = error(
        api.post("/v1/contacts/search", json={"filters": [{"field": "domain", "value": "x"}]})
    )
    assert list(bad["errors"]) == ["filters[0]"]


def test_account_search_pages_and_normalises_domains(api: httpx.Client):
    data(
        api.post(
            "/v1/accounts/bulk",
            json=[
                {"domain": "acme.com", "name": "Acme"},
                {"domain": "acme.io"},
                {"domain": "globex.com"},
            ],
        )
    )
    body = {
        "filters": [{"field": "domain", "operator": "starts_with", "value": "ACME"}],
        "limit": 1,
        "sort": "name:asc",
        "fields": ["domain"],
    }
    first = data(api.post("/v1/accounts/search", json=body), 200)
    assert [a["domain"] for a in first["accounts"]] == ["acme.com"] and first["next_cursor"] == "1"
    second = data(
        api.post("/v1/accounts/search", json={**body, "cursor": first["next_cursor"]}), 200
    )
    assert [a["domain"] for a in second["accounts"]] == ["acme.io"] and second["has_more"] is False
    exact = {
        "filters": [{"field": "domain", "operator": "is", "value": "https://www.ACME.com/about"}]
    }
    assert [
        a["name"] for a in data(api.post("/v1/accounts/search", json=exact), 200)["accounts"]
    ] == ["Acme"]


def test_opportunity_list(api: httpx.Client, org: OrgAccess):
    data(
        api.post(
            "/v1/opportunities/bulk",
            json=[
                deal(org.pipeline_id, f"Deal {n}", stage_id=org.stage_ids[n % 2]) for n in range(4)
            ],
        )
    )
    found = data(
        api.get(
            "/v1/opportunities",
            params={"pipeline_id": org.pipeline_id, "stage_id": org.stage_ids[1]},
        ),
        200,
    )
    assert [d["name"] for d in found["opportunities"]] == ["Deal 1", "Deal 3"]
    record = found["opportunities"][0]
    assert set(record) == {
        "id",
        "name",
        "pipeline_id",
        "stage_id",
        "account_id",
        "account_domain",
        "amount",
    }
    assert record["account_domain"] == "acme.com"
    paged = data(
        api.get(
            "/v1/opportunities", params={"pipeline_id": org.pipeline_id, "q": "deal", "limit": 3}
        ),
        200,
    )
    assert (len(paged["opportunities"]), paged["has_more"], paged["next_cursor"]) == (3, True, "3")
    assert error(api.get("/v1/opportunities"))["errors"] == {
        "pipeline_id": "pipeline_id is required"
    }
    unknown = "00000000-0000-4000-8000-000000000000"
    assert (
        error(api.get("/v1/opportunities", params={"pipeline_id": unknown}), 404)["message"]
        == f"Pipeline {unknown} not found"
    )


def test_each_route_is_tallied_under_its_name(api: httpx.Client, org: OrgAccess):
    api.post("/v1/accounts/search", json={})
    api.get("/v1/contacts")
    api.post(
        "/v1/opportunities/fast-bulk", json=[{"opportunity": {"name": "x"}, "related_objects": {}}]
    )
    tally = stats(api)["requests"]
    assert tally == {
        "accounts.search": {"200": 1},
        "contacts.list": {"200": 1},
        "opportunities.fast_bulk": {"201": 1},
    }


def test_the_new_settings_load_from_a_config_file(tmp_path: Path):
    path = tmp_path / "sandbox.yaml"
    path.write_text(
        "knobs: {fail_items_containing: boom, item_failure_rate: 0, rate_limit_scope: route}\n"
        "behaviour: {public_success_status: 200, bulk_response: summary, bulk_mode: partial,\n"
        "  deal_dedup_create: domain_pipeline_name, deal_dedup_bulk: domain_pipeline_name,\n"
        "  deal_dedup_fast_bulk: none}\n",
        encoding="utf-8",
    )
    settings = load_settings(path)
    assert settings.knobs.rate_limit_scope == "route" and settings.behaviour.bulk_mode == "partial"
    with running_sandbox(settings.with_overrides(port=0)) as sandbox, client_for(sandbox) as client:
        answer = client.post(
            "/v1/accounts/bulk", json=[{"domain": "a.com"}, {"domain": "boom.com"}]
        )
        assert data(answer, 200) == {"created": 1, "resolved": 0, "skipped": 0, "failed": 1}
