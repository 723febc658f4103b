"""Knobs for the bad days: rate limit, concurrency limit, latency, failures; all counted."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from sandbox_http import client_for, listed, stats

from importer.sandbox.faults import TokenBucket

CONTACT = {"email": "jo@acme.com"}


def post_contact(api: httpx.Client, n: int = 0) -> httpx.Response:
    return api.post("/v1/inbound/contacts", json={"email": f"c{n}@acme.com"})


def test_token_bucket_refills_at_its_rate():
    now = [100.0]
    bucket = TokenBucket(rate_per_s=0.5, capacity=2, clock=lambda: now[0])

    assert [bucket.take(), bucket.take(), bucket.take()] == [0.0, 0.0, 2.0]
    now[0] += 1.0
    assert bucket.take() == pytest.approx(1.0)
    now[0] += 1.0
    assert bucket.take() == 0.0
    now[0] += 60.0
    assert [bucket.take(), bucket.take(), bucket.take()] == [0.0, 0.0, 2.0]  # capped at capacity


def test_rate_limit_answers_429_with_retry_after(own):
    _, api = own(rate_limit_per_min=2)

    statuses = [post_contact(api, n).status_code for n in range(3)]
    limited = post_contact(api, 9)

    assert statuses == [200, 200, 429]
    assert limited.headers["retry-after"] == "30"  # 1 token at 2/min = 30 s
    assert limited.json() == {
        "success": False,
        "statusCode": 429,
        "message": "Too many requests - slow down and retry",
    }
    assert stats(api)["rejected"] == {"rate_limited": 2}
    assert len(listed(api, "contacts")) == 2


def test_rate_limit_is_per_key(own):
    sandbox, api = own(rate_limit_per_min=1)
    other = sandbox.add_org()

    assert post_contact(api).status_code == 200
    assert post_contact(api).status_code == 429
    with client_for(sandbox, other.api_key) as theirs:
        assert post_contact(theirs).status_code == 200


def test_rate_limit_set_at_runtime_refills(own):
    sandbox, api = own()
    sandbox.configure(rate_limit_per_min=240, rate_limit_burst=1)  # one token per 250 ms

    first, second = post_contact(api, 1), post_contact(api, 2)
    time.sleep(0.26)
    third = post_contact(api, 3)

    assert (first.status_code, second.status_code, third.status_code) == (200, 429, 200)
    assert second.headers["retry-after"] == "1"  # rounded up, never 0


def test_concurrency_limit_answers_429_beyond_the_limit(own):
    sandbox, api = own(concurrency_limit=2, latency_ms=300)

    async def burst() -> list[httpx.Response]:
        async with httpx.AsyncClient(
            base_url=sandbox.url, headers={"X-API-Key": sandbox.api_key}, verify=False
        ) as client:
            return await asyncio.gather(
                *(
                    client.post("/v1/inbound/contacts", json={"email": f"c{n}@acme.com"})
                    for n in range(5)
                )
            )

    responses = asyncio.run(burst())

    codes = sorted(r.status_code for r in responses)
    assert codes == [200, 200, 429, 429, 429]
    assert {r.headers.get("retry-after") for r in responses if r.status_code == 429} == {"1"}
    assert stats(api)["rejected"] == {"concurrency_limited": 3}
    assert post_contact(api, 10).status_code == 200  # slots were given back


def test_latency_and_jitter_delay_api_requests_only(own):
    _, api = own(latency_ms=150, jitter_ms=20, seed=1)

    started = time.perf_counter()
    post_contact(api)
    api_s = time.perf_counter() - started
    started = time.perf_counter()
    api.get("/_sandbox/stats")
    inspect_s = time.perf_counter() - started

    assert 0.15 <= api_s < 1.5
    assert inspect_s < 0.15


def statuses_with_seed(start_sandbox, seed: int) -> list[int]:
    sandbox = start_sandbox(failure_rate=0.5, seed=seed)
    with client_for(sandbox) as api:
        return [post_contact(api, n).status_code for n in range(24)]


def test_failure_rate_is_deterministic_with_a_seed(start_sandbox):
    first = statuses_with_seed(start_sandbox, 7)
    second = statuses_with_seed(start_sandbox, 7)
    other = statuses_with_seed(start_sandbox, 8)

    assert first == second
    assert set(first) == {200, 500}
    assert other != first


def test_failure_rate_one_fails_everything_and_stores_nothing(own):
    _, api = own(failure_rate=1.0)

    responses = [post_contact(api, n) for n in range(3)]

    assert [r.status_code for r in responses] == [500, 500, 500]
    assert responses[0].json() == {
        "success": False,
        "statusCode": 500,
        "message": "Internal Server Error",
    }
    assert listed(api, "contacts") == []  # inspection is never faulted
    assert stats(api)["rejected"] == {"injected_fault": 3}


def test_fail_next_fails_exactly_n_requests(own):
    sandbox, api = own()

    sandbox.fail_next(2)

    assert [post_contact(api, n).status_code for n in range(4)] == [500, 500, 200, 200]


def test_fail_next_for_one_endpoint_with_another_status(own):
    sandbox, api = own()
    sandbox.fail_next(1, status=503, endpoint="accounts")

    contact = post_contact(api)
    account = api.post("/v1/inbound/accounts", json={"domain": "acme.com"})

    assert contact.status_code == 200
    assert account.status_code == 503
    assert account.headers["retry-after"] == "1"
    assert api.post("/v1/inbound/accounts", json={"domain": "acme.com"}).status_code == 200


def test_fail_after_write_loses_the_response_but_keeps_the_record(own):
    sandbox, api = own()
    sandbox.fail_next(1, after_write=True)

    lost = api.post("/v1/inbound/contacts", json=CONTACT)
    retried = api.post("/v1/inbound/contacts", json=CONTACT)

    assert lost.status_code == 500
    assert retried.status_code == 200
    [stored] = listed(api, "contacts")
    assert stored["people_id"] == retried.json()["data"]["people_id"]


def test_failure_after_write_from_the_rate_knob(own):
    _, api = own(failure_rate=1.0, fault_after_write=True, failure_status=502)

    assert post_contact(api).status_code == 502
    assert len(listed(api, "contacts")) == 1


def test_reset_knobs_heals_the_server(own):
    sandbox, api = own(failure_rate=1.0, rate_limit_per_min=1)
    sandbox.fail_next(5)

    sandbox.reset_knobs()

    assert [post_contact(api, n).status_code for n in range(3)] == [200, 200, 200]
    assert stats(api)["knobs"]["failure_rate"] == 0


def test_unauthenticated_requests_are_counted_too(own):
    sandbox, api = own()
    with httpx.Client(base_url=sandbox.url, verify=False) as anonymous:
        anonymous.post("/v1/inbound/contacts", json=CONTACT)

    unauthenticated = stats(api)["unauthenticated"]

    assert unauthenticated["requests"] == {"contacts": {"401": 1}}
    assert unauthenticated["rejected"] == {"unauthenticated": 1}
