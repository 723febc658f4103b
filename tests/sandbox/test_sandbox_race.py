"""64 concurrent creates of the same record leave exactly one (issue 2, point 7)."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from sandbox_http import listed

CONCURRENCY = 64


async def same_request_64_times(sandbox, endpoint: str, body: dict) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    async with httpx.AsyncClient(
        base_url=sandbox.url,
        headers={"X-API-Key": sandbox.api_key},
        limits=limits,
        timeout=30,
        verify=False,
    ) as client:
        return await asyncio.gather(
            *(client.post(f"/v1/inbound/{endpoint}", json=body) for _ in range(CONCURRENCY))
        )


@pytest.fixture
def racing(own):
    # A little latency keeps all 64 requests in flight inside the server at once.
    return own(latency_ms=20, jitter_ms=20, seed=3)


@pytest.mark.parametrize(
    ("endpoint", "body", "id_field", "kind"),
    [
        ("accounts", {"domain": "acme.com"}, "company_id", "accounts"),
        ("contacts", {"email": "jo@acme.com", "first_name": "Jo"}, "people_id", "contacts"),
        ("opportunities", None, "opportunity_id", "opportunities"),
    ],
)
def test_concurrent_identical_creates_leave_one_record(racing, endpoint, body, id_field, kind):
    sandbox, api = racing
    if body is None:
        body = {
            "pipeline_id": sandbox.pipeline_id,
            "opportunity": {"name": "Race", "deal_size": 1},
            "related_objects": {
                "account_domain": "acme.com",
                "primary_contact_email": "a@acme.com",
            },
        }

    responses = asyncio.run(same_request_64_times(sandbox, endpoint, body))

    assert {r.status_code for r in responses} == {200}
    assert len({r.json()["data"][id_field] for r in responses}) == 1
    assert len(listed(api, kind)) == 1
    assert len(listed(api, "accounts")) == 1  # the contact's / deal's account too


def test_concurrent_deals_with_different_contacts_merge_them_all(racing):
    sandbox, api = racing

    async def run() -> list[httpx.Response]:
        async with httpx.AsyncClient(
            base_url=sandbox.url,
            headers={"X-API-Key": sandbox.api_key},
            verify=False,
            limits=httpx.Limits(max_connections=CONCURRENCY),
            timeout=30,
        ) as client:
            return await asyncio.gather(
                *(
                    client.post(
                        "/v1/inbound/opportunities",
                        json={
                            "pipeline_id": sandbox.pipeline_id,
                            "opportunity": {"name": "Race"},
                            "related_objects": {
                                "account_domain": "acme.com",
                                "primary_contact_email": f"p{n}@acme.com",
                            },
                        },
                    )
                    for n in range(CONCURRENCY)
                )
            )

    responses = asyncio.run(run())

    assert {r.status_code for r in responses} == {200}
    [deal] = listed(api, "opportunities")
    assert len(deal["contact_emails"]) == CONCURRENCY
