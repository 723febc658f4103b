"""The documented semantics: dedup, auto-creation, deal merge, derived names, notes, orgs."""

from __future__ import annotations

import pytest
from sandbox_http import client_for, listed

FEB_11_2026_MS = 1_770_768_000_000


def create(api, endpoint: str, body: dict) -> dict:
    response = api.post(f"/v1/inbound/{endpoint}", json=body)
    assert response.status_code == 200, response.text
    return response.json()["data"]


def deal(org, *, name=None, domain="acme.com", primary=None, others=(), **fields) -> dict:
    related = {"account_domain": domain, "primary_contact_email": primary}
    if others:
        related["additional_contact_emails"] = list(others)
    opportunity = {"name": name, **fields}
    return {
        "pipeline_id": org.pipeline_id,
        "opportunity": {k: v for k, v in opportunity.items() if v is not None},
        "related_objects": {k: v for k, v in related.items() if v is not None},
    }


@pytest.mark.parametrize(
    "variant",
    [
        "acme.com",
        "ACME.com",
        " acme.com ",
        "www.acme.com",
        "https://www.acme.com/about?x=1",
        "http://Acme.com:8080",
        "acme.com.",
        "//acme.com/path#frag",
    ],
)
def test_account_dedup_by_normalised_domain(api, variant):
    first = create(api, "accounts", {"domain": "acme.com"})

    again = create(api, "accounts", {"domain": variant})

    assert (
        again == first == {"company_id": first["company_id"], "domain": "acme.com", "name": "Acme"}
    )
    assert len(listed(api, "accounts")) == 1


@pytest.mark.parametrize(
    ("domain", "name"),
    [
        ("acme.com", "Acme"),
        ("acme-corp.com", "Acme Corp"),
        ("shop.acme.co.uk", "Acme"),
        ("globex.io", "Globex"),
    ],
)
def test_account_name_is_derived_from_the_domain(api, domain, name):
    assert create(api, "accounts", {"domain": domain})["name"] == name


def test_international_domain_is_stored_as_punycode(api):
    data = create(api, "accounts", {"domain": "B\u00fccher.de"})

    assert data == {
        "company_id": data["company_id"],
        "domain": "xn--bcher-kva.de",
        "name": "xn--bcher-kva.de",
    }


def test_contact_dedup_by_lower_cased_email_returns_existing_record(api):
    first = create(api, "contacts", {"email": "John@Acme.com", "first_name": "John"})

    again = create(api, "contacts", {"email": "john@acme.COM ", "first_name": "Johnny"})

    assert (
        again
        == first
        == {
            "people_id": first["people_id"],
            "email": "john@acme.com",
            "first_name": "John",
            "last_name": None,
        }
    )
    assert len(listed(api, "contacts")) == 1


def test_contact_create_ensures_the_account_of_its_email_domain(api):
    account = create(api, "accounts", {"domain": "acme.com"})

    create(api, "contacts", {"email": "jo@acme.com"})
    create(api, "contacts", {"email": "al@www.globex.io"})

    by_email = {c["email"]: c["account"] for c in listed(api, "contacts")}
    assert by_email["jo@acme.com"] == {"company_id": account["company_id"], "domain": "acme.com"}
    assert by_email["al@www.globex.io"]["domain"] == "globex.io"
    assert sorted(a["domain"] for a in listed(api, "accounts")) == ["acme.com", "globex.io"]


def test_freemail_contact_gets_no_account_by_default(api):
    create(api, "contacts", {"email": "someone@gmail.com"})

    assert listed(api, "contacts")[0]["account"] is None
    assert listed(api, "accounts") == []


def test_opportunity_ensures_account_and_all_contacts(api, org):
    create(api, "opportunities", deal(org, name="Big", primary="a@acme.com", others=["b@acme.com"]))

    assert [a["domain"] for a in listed(api, "accounts")] == ["acme.com"]
    assert {c["email"] for c in listed(api, "contacts")} == {"a@acme.com", "b@acme.com"}


def test_same_deal_twice_creates_no_second_deal_and_adds_contacts(api, org):
    first = create(api, "opportunities", deal(org, name="Big", primary="a@acme.com", deal_size=10))

    again = create(
        api,
        "opportunities",
        deal(
            org,
            name=" big ",
            domain="WWW.ACME.COM",
            primary="b@acme.com",
            others=["c@acme.com"],
            deal_size=99,
        ),
    )

    assert (
        again == first == {"opportunity_id": first["opportunity_id"], "name": "Big", "amount": 10}
    )
    [stored] = listed(api, "opportunities")
    assert stored["contact_emails"] == ["a@acme.com", "b@acme.com", "c@acme.com"]
    assert stored["primary_contact_email"] == "a@acme.com"
    assert stored["amount"] == 10


def test_same_name_in_another_pipeline_or_domain_is_another_deal(sandbox):
    org = sandbox.add_org(
        pipelines=[{"name": "P1", "stages": ["S"]}, {"name": "P2", "stages": ["S"]}]
    )
    with client_for(sandbox, org.api_key) as api:
        pipelines = [p["pipeline_id"] for p in api.get("/_sandbox/org").json()["data"]["pipelines"]]
        ids = {
            create(
                api,
                "opportunities",
                {
                    "pipeline_id": pipeline,
                    "opportunity": {"name": "Deal"},
                    "related_objects": {"account_domain": domain},
                },
            )["opportunity_id"]
            for pipeline in pipelines
            for domain in ("acme.com", "globex.io")
        }

        assert len(ids) == 4 == len(listed(api, "opportunities"))


def test_blank_name_is_derived_from_the_domain_and_still_dedups(api, org):
    first = create(api, "opportunities", deal(org, name=""))
    again = create(api, "opportunities", deal(org))

    assert first["name"] == "Acme"
    assert again["opportunity_id"] == first["opportunity_id"]


def test_deal_without_domain_needs_a_name_and_dedups_on_it(api, org):
    body = {"pipeline_id": org.pipeline_id, "opportunity": {"name": "Solo"}, "related_objects": {}}

    first = create(api, "opportunities", body)
    again = create(api, "opportunities", body)

    assert again["opportunity_id"] == first["opportunity_id"]
    assert listed(api, "opportunities")[0]["account_domain"] is None


def test_missing_stage_defaults_to_first_stage_and_given_stage_is_kept(api, org):
    create(api, "opportunities", deal(org, name="Default"))
    create(api, "opportunities", deal(org, name="Given", stage_id=org.stage_ids[3].upper()))

    stages = {d["name"]: (d["stage_id"], d["stage_name"]) for d in listed(api, "opportunities")}
    assert stages == {
        "Default": (org.stage_ids[0], "Lead"),
        "Given": (org.stage_ids[3], "Negotiation"),
    }


def test_all_documented_deal_fields_are_stored(api, org):
    body = deal(
        org,
        name="Full",
        primary="a@acme.com",
        deal_size=1234.5,
        close_date=FEB_11_2026_MS,
        next_action_date=FEB_11_2026_MS + 86_400_000,
        next_step="Schedule demo",
    )
    body["related_objects"]["owner_email"] = "OWNER@demo.example"

    data = create(api, "opportunities", body)

    [stored] = listed(api, "opportunities")
    assert data["amount"] == 1234.5
    assert {
        k: stored[k]
        for k in ("amount", "close_date", "next_action_date", "next_step", "owner_email")
    } == {
        "amount": 1234.5,
        "close_date": FEB_11_2026_MS,
        "next_action_date": FEB_11_2026_MS + 86_400_000,
        "next_step": "Schedule demo",
        "owner_email": "owner@demo.example",
    }


def test_amount_is_null_without_deal_size(api, org):
    assert create(api, "opportunities", deal(org, name="No size"))["amount"] is None


def test_notes_always_create_and_link_by_domain_and_email(api):
    body = {
        "note": {"title": "Call", "content": "  spaced  "},
        "account_domains": ["www.acme.com"],
        "contact_emails": ["Jo@acme.com"],
    }
    create(api, "contacts", {"email": "jo@acme.com"})

    first = create(api, "notes", body)
    again = create(api, "notes", body)

    assert first["note_id"] != again["note_id"]
    assert first["content"] == "  spaced  "
    notes = listed(api, "notes")
    assert len(notes) == 2
    assert notes[0]["account_domains"] == ["acme.com"]
    assert notes[0]["contact_emails"] == ["jo@acme.com"]
    assert all(link["id"] for link in notes[0]["links"])  # both resolve to existing records


def test_note_links_to_missing_records_do_not_create_them_by_default(api):
    create(api, "notes", {"note": {"title": "T"}, "account_domains": ["ghost.com"]})

    assert listed(api, "accounts") == []
    assert listed(api, "notes")[0]["links"] == [{"kind": "account", "key": "ghost.com", "id": None}]


def test_note_without_links_is_accepted_by_default(api):
    data = create(api, "notes", {"note": {"title": "Loose"}})

    assert data["content"] is None
    assert listed(api, "notes")[0]["links"] == []


def test_unknown_keys_are_ignored_by_default(api, org):
    body = deal(org, name="Extra", next_steps="public API name", stage_name="Lead")
    body["related_objects"]["owner_id"] = "x"
    body["custom"] = True

    assert create(api, "opportunities", body)["name"] == "Extra"
    assert create(api, "contacts", {"email": "jo@acme.com", "job_title": "CTO"})


def test_organisations_see_only_their_own_data(sandbox, api, org):
    other = sandbox.add_org()
    create(api, "accounts", {"domain": "acme.com"})
    create(api, "contacts", {"email": "jo@acme.com"})
    create(api, "opportunities", deal(org, name="Mine"))
    create(api, "notes", {"note": {"title": "Mine"}})

    with client_for(sandbox, other.api_key) as theirs:
        assert all(
            listed(theirs, kind) == []
            for kind in ("accounts", "contacts", "opportunities", "notes")
        )
        same_domain = create(theirs, "accounts", {"domain": "acme.com"})
        mine = listed(api, "accounts")[0]
        assert same_domain["company_id"] != mine["company_id"]
        assert theirs.get("/_sandbox/stats").json()["data"]["records"]["contacts"] == 0
        assert theirs.post("/v1/inbound/opportunities", json=deal(org)).status_code == 404


def test_org_endpoint_lists_pipelines_stages_and_members(api, org):
    data = api.get("/_sandbox/org").json()["data"]

    assert data["org_id"] == org.org_id
    assert data["members"] == ["owner@demo.example"]
    [pipeline] = data["pipelines"]
    assert pipeline["pipeline_id"] == org.pipeline_id
    assert [s["stage_id"] for s in pipeline["stages"]] == list(org.stage_ids)
    assert [s["name"] for s in pipeline["stages"]] == [
        "Lead",
        "Qualified",
        "Proposal",
        "Negotiation",
        "Closed won",
    ]


def test_inspection_pages_and_rejects_unknown_kinds(api):
    for n in range(5):
        create(api, "accounts", {"domain": f"c{n}.com"})

    page = api.get("/_sandbox/accounts", params={"limit": 2, "offset": 1}).json()["data"]
    unknown = api.get("/_sandbox/deals")

    assert [a["domain"] for a in page["accounts"]] == ["c1.com", "c2.com"]
    assert page["count"] == 2
    assert unknown.status_code == 404
    assert api.get("/_sandbox/accounts", params={"limit": "x"}).status_code == 400
