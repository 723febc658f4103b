"""Each answer to an API.md §4 open question is a setting; both sides of each are tested.

Defaults are covered in test_sandbox_semantics.py; here each test flips one setting,
at start (``running_sandbox(**settings)``) or at runtime (``sandbox.configure``).
"""

from __future__ import annotations

import pytest
from sandbox_http import listed

from importer.sandbox import SandboxConfigError


def deal(sandbox, **related) -> dict:
    return {
        "pipeline_id": sandbox.pipeline_id,
        "opportunity": {"name": "Deal", "deal_size": 10},
        "related_objects": {"account_domain": "acme.com", **related},
    }


def test_repeated_deal_can_replace_its_contacts(own):
    sandbox, api = own(repeated_deal_contacts="replace")
    api.post(
        "/v1/inbound/opportunities",
        json=deal(
            sandbox, primary_contact_email="a@acme.com", additional_contact_emails=["b@acme.com"]
        ),
    )

    api.post("/v1/inbound/opportunities", json=deal(sandbox, primary_contact_email="c@acme.com"))

    [stored] = listed(api, "opportunities")
    assert stored["contact_emails"] == ["c@acme.com"]
    assert stored["primary_contact_email"] == "c@acme.com"


def test_repeated_deal_can_update_its_fields(own):
    sandbox, api = own(repeated_deal_fields="update")
    first = api.post("/v1/inbound/opportunities", json=deal(sandbox)).json()["data"]
    body = deal(sandbox, owner_email="owner@demo.example")
    body["opportunity"].update(deal_size=99, stage_id=sandbox.stage_ids[2], next_step="Sign")

    again = api.post("/v1/inbound/opportunities", json=body).json()["data"]

    assert again == {**first, "amount": 99}
    [stored] = listed(api, "opportunities")
    assert (stored["stage_name"], stored["next_step"], stored["owner_email"]) == (
        "Proposal",
        "Sign",
        "owner@demo.example",
    )


def test_freemail_domains_can_get_accounts(own):
    _, api = own(freemail_accounts=True)

    api.post("/v1/inbound/contacts", json={"email": "someone@gmail.com"})

    assert [a["domain"] for a in listed(api, "accounts")] == ["gmail.com"]


def test_extra_freemail_domains_get_no_account(own):
    _, api = own(extra_freemail_domains=["Mailbox.example"])

    api.post("/v1/inbound/contacts", json={"email": "x@mailbox.example"})

    assert listed(api, "accounts") == []


@pytest.mark.parametrize(
    ("policy", "names"),
    [("keep", ("Jo", None)), ("fill", ("Jo", "Doe")), ("overwrite", ("Joanna", "Doe"))],
)
def test_names_sent_again_for_an_existing_contact(own, policy, names):
    _, api = own(contact_names_on_repeat=policy)
    api.post("/v1/inbound/contacts", json={"email": "jo@acme.com", "first_name": "Jo"})

    data = api.post(
        "/v1/inbound/contacts",
        json={"email": "jo@acme.com", "first_name": "Joanna", "last_name": "Doe"},
    ).json()["data"]

    assert (data["first_name"], data["last_name"]) == names


def test_notes_without_links_can_be_rejected(own):
    _, api = own(notes_require_link=True)

    response = api.post(
        "/v1/inbound/notes", json={"note": {"title": "Loose"}, "contact_emails": []}
    )

    assert response.status_code == 400
    assert response.json()["errors"] == {
        "account_domains": "Include at least one of account_domains or contact_emails"
    }


def test_notes_can_create_the_records_they_link(own):
    _, api = own(notes_create_records=True)

    api.post(
        "/v1/inbound/notes",
        json={
            "note": {"title": "T"},
            "account_domains": ["acme.com"],
            "contact_emails": ["jo@globex.io"],
        },
    )

    assert sorted(a["domain"] for a in listed(api, "accounts")) == ["acme.com", "globex.io"]
    assert all(link["id"] for link in listed(api, "notes")[0]["links"])


def test_unknown_keys_can_be_rejected_each_named(own):
    sandbox, api = own(unknown_keys="reject")
    body = deal(sandbox, owner_id="x")
    body["opportunity"]["next_steps"] = "public-API name"
    body["extra"] = 1

    response = api.post("/v1/inbound/opportunities", json=body)

    assert response.status_code == 400
    assert response.json()["errors"] == {
        "extra": "Unknown field 'extra'",
        "opportunity.next_steps": "Unknown field 'next_steps'",
        "related_objects.owner_id": "Unknown field 'owner_id'",
    }


def test_dates_in_seconds_can_be_accepted(own):
    sandbox, api = own(seconds_dates="accept")
    body = deal(sandbox)
    body["opportunity"]["close_date"] = 1_770_768_000

    assert api.post("/v1/inbound/opportunities", json=body).status_code == 200
    assert listed(api, "opportunities")[0]["close_date"] == 1_770_768_000


def test_unknown_owner_and_stage_can_be_400(own):
    sandbox, api = own(unknown_owner_status=400, unknown_stage_status=400)
    body = deal(sandbox, owner_email="stranger@acme.com")
    body["opportunity"]["stage_id"] = "00000000-0000-4000-8000-000000000000"

    response = api.post("/v1/inbound/opportunities", json=body)

    assert response.status_code == 400
    assert response.json()["message"] == "Validation error"
    assert set(response.json()["errors"]) == {"opportunity.stage_id", "related_objects.owner_email"}


def test_content_type_check_can_be_relaxed(own):
    _, api = own(require_json_content_type=False)

    response = api.post("/v1/inbound/accounts", content=b'{"domain": "acme.com"}')

    assert response.status_code == 200


def test_behaviour_can_change_at_runtime(own):
    sandbox, api = own()
    body = {"email": "jo@acme.com", "title": "CTO"}
    assert api.post("/v1/inbound/contacts", json=body).status_code == 200

    sandbox.configure(unknown_keys="reject")

    assert api.post("/v1/inbound/contacts", json=body).status_code == 400
    assert sandbox.settings.behaviour.unknown_keys == "reject"
    assert api.get("/_sandbox/stats").json()["data"]["behaviour"]["unknown_keys"] == "reject"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"unknown_keys": "maybe"}, "unknown_keys: Input should be 'ignore' or 'reject'"),
        ({"failure_rate": 2}, "invalid knob value: Input should be less than or equal to 1"),
        ({"latency": 5}, "cannot configure latency; valid: rate_limit_per_min"),
    ],
)
def test_bad_settings_are_refused_with_a_message(own, changes, message):
    sandbox, _ = own()

    with pytest.raises(SandboxConfigError) as caught:
        sandbox.configure(**changes)

    assert message in str(caught.value)
    assert sandbox.settings.knobs.failure_rate == 0
