"""send_plan through InboundClient and httpx.MockTransport, on virtual time.

A scripted fake API answers each request by the entity it names (domain,
email, deal name, note title); the event loop's clock is virtual, so pacing,
Retry-After pauses and latency cost no real time, and stamina's testing mode
removes its backoff sleeps.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any, TypeVar

import httpx
import pytest
import stamina
from fakeclock import FakeClock

from importer.api.models import ContactCreated
from importer.errors import RateLimitedError
from importer.plan import ImportPlan, PlannedRequest
from importer.send.client import InboundClient
from importer.send.limiter import RateLimiter
from importer.send.runner import RequestOutcome, RetryPolicy, SendReport, send_plan

T = TypeVar("T")
PIPELINE = "00000000-0000-4000-8000-000000000001"


@pytest.fixture(autouse=True)
def no_backoff_sleeps() -> Iterator[None]:
    # Backoffs become 0; attempts stay as the policy says (cap=True keeps ours).
    with stamina.set_testing(True, attempts=1_000, cap=True):
        yield


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


# ---- a scripted API -----------------------------------------------------------

Reply = int | tuple[int, dict[str, str]] | Exception  # status, (status, headers) or raise


class FakeApi:
    """Answers by entity: ``script[name]`` lists replies for successive tries, then 200."""

    def __init__(self, clock: FakeClock, *, latency_s: float = 0.05) -> None:
        self.clock, self.latency_s = clock, latency_s
        self.script: dict[str, list[Reply]] = {}
        self.forever: dict[str, Reply] = {}
        self.latency: dict[str, float] = {}
        self.calls: list[tuple[float, str]] = []  # (start time, entity)
        self.done: dict[str, float] = {}  # entity -> time of its last answer
        self.in_flight = self.peak = 0

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        endpoint = request.url.path.rsplit("/", 1)[-1]
        name = entity(endpoint, json.loads(request.content))
        self.calls.append((self.clock.now(), name))
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            await asyncio.sleep(self.latency.get(name, self.latency_s))
        finally:
            self.in_flight -= 1
            self.done[name] = self.clock.now()
        replies = self.script.get(name)
        reply = replies.pop(0) if replies else self.forever.get(name, 200)
        if isinstance(reply, Exception):
            raise reply
        status, headers = reply if isinstance(reply, tuple) else (reply, {})
        if status == 200:
            id_field = ID_FIELDS[endpoint]
            return httpx.Response(200, json={"success": True, "data": {id_field: f"id-{name}"}})
        body: dict[str, Any] = {"success": False, "statusCode": status, "message": MESSAGES[status]}
        if status == 400:
            body["errors"] = {"domain": "Domain is invalid"}
        return httpx.Response(status, json=body, headers=headers)

    def sent(self, name: str) -> int:
        return sum(1 for _, called in self.calls if called == name)


ID_FIELDS = {
    "accounts": "company_id",
    "contacts": "people_id",
    "opportunities": "opportunity_id",
    "notes": "note_id",
}
MESSAGES = {
    400: "Validation error",
    401: "Invalid API key",
    404: "Pipeline not found",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}


def entity(endpoint: str, payload: dict[str, Any]) -> str:
    if endpoint == "accounts":
        return payload["domain"]
    if endpoint == "contacts":
        return payload["email"]
    if endpoint == "opportunities":
        return payload["opportunity"]["name"]
    return payload["note"]["title"]


def account(domain: str) -> PlannedRequest:
    return PlannedRequest(f"account:{domain}", "accounts", {"domain": domain}, rows=(2,))


def contact(email: str, *deps: str) -> PlannedRequest:
    return PlannedRequest(f"contact:{email}", "contacts", {"email": email}, (3,), deps)


def deal(name: str, *deps: str) -> PlannedRequest:
    payload = {"pipeline_id": PIPELINE, "opportunity": {"name": name}, "related_objects": {}}
    return PlannedRequest(f"opportunity:{name}", "opportunities", payload, (4,), deps)


def note(title: str, *deps: str) -> PlannedRequest:
    return PlannedRequest(f"note:{title}", "notes", {"note": {"title": title}}, (5,), deps)


def crm_plan(domains: int = 3) -> ImportPlan:
    """Per domain: an account, a contact and a deal needing it, a note needing the contact."""
    requests: list[PlannedRequest] = []
    for d in range(domains):
        requests.append(account(f"d{d}.com"))
    for d in range(domains):
        requests.append(contact(f"jo@d{d}.com", f"account:d{d}.com"))
    for d in range(domains):
        requests.append(deal(f"deal{d}", f"account:d{d}.com", f"contact:jo@d{d}.com"))
    for d in range(domains):
        requests.append(note(f"note{d}", f"contact:jo@d{d}.com"))
    return ImportPlan(requests)


def run(
    clock: FakeClock,
    api: FakeApi,
    plan: ImportPlan,
    *,
    limiter: RateLimiter | None = None,
    retry: RetryPolicy | None = None,
    stop: asyncio.Event | None = None,
    on_outcome: Callable[[RequestOutcome], None] | None = None,
) -> tuple[SendReport, list[RequestOutcome]]:
    seen: list[RequestOutcome] = []

    def record(outcome: RequestOutcome) -> None:
        seen.append(outcome)
        if on_outcome:
            on_outcome(outcome)

    async def main() -> SendReport:
        async with InboundClient("k-123", transport=httpx.MockTransport(api)) as client:
            return await send_plan(
                plan,
                client,
                limiter=limiter or RateLimiter(rate_per_min=6_000, clock=clock),
                retry=retry or RetryPolicy(),
                on_outcome=record,
                stop=stop,
            )

    report = clock.run(main())
    # Never lost, never twice: one outcome per request, reported as it became final.
    assert [o.key for o in sorted(seen, key=lambda o: o.key)] == sorted(report.outcomes)
    assert list(report.outcomes) == [r.key for r in plan.requests]
    assert sum(report.counts.values()) == len(plan.requests)
    assert report.requests_sent == len(api.calls)
    assert report.requests_sent == sum(o.attempts for o in report.outcomes.values())
    assert report.requests_sent == sum(o.attempts > 0 for o in seen) + report.retries
    return report, seen


# ---- success and order --------------------------------------------------------


def test_clean_import(clock: FakeClock) -> None:
    api = FakeApi(clock)
    plan = crm_plan(3)
    report, _ = run(clock, api, plan, limiter=RateLimiter(clock=clock))  # adaptive default

    assert report.counts == {"ok": 12, "failed": 0, "unknown": 0, "not_sent": 0}
    assert report.by_endpoint == {
        e: {"ok": 3, "failed": 0, "unknown": 0, "not_sent": 0}
        for e in ("accounts", "contacts", "opportunities", "notes")
    }
    assert (report.requests_sent, report.retries, report.rate_limited) == (12, 0, 0)
    assert report.aborted is None and report.elapsed_s > 0
    assert report.outcomes["contact:jo@d1.com"] == RequestOutcome(
        key="contact:jo@d1.com", endpoint="contacts", status="ok",
        ids={"people_id": "id-jo@d1.com"}, http_status=200, attempts=1, rows=(3,),
    )  # fmt: skip
    assert report.outcomes["note:note2"].ids == {"note_id": "id-note2"}


def test_a_request_goes_only_after_its_dependencies_succeeded(clock: FakeClock) -> None:
    api = FakeApi(clock)
    plan = crm_plan(4)
    run(clock, api, plan)
    started = {name: t for t, name in api.calls}
    for request in plan.requests:
        for dep in request.depends_on:
            dep_name = dep.split(":", 1)[1].removeprefix(PIPELINE + ":")
            mine = entity(request.endpoint, dict(request.payload))
            assert api.done[dep_name] <= started[mine]


def test_a_slow_account_does_not_stall_unrelated_requests(clock: FakeClock) -> None:
    api = FakeApi(clock)
    api.latency["d1.com"] = 30.0
    run(clock, api, crm_plan(3))
    started = {name: t for t, name in api.calls}
    assert max(started["note0"], started["note2"], started["deal2"]) < api.done["d1.com"]
    assert started["jo@d1.com"] >= api.done["d1.com"]


def test_requests_run_concurrently_up_to_the_cap(clock: FakeClock) -> None:
    api = FakeApi(clock, latency_s=1.0)
    plan = ImportPlan([account(f"d{i}.com") for i in range(40)])
    limiter = RateLimiter(concurrency=4, rate_per_min=600_000, clock=clock)
    report, _ = run(clock, api, plan, limiter=limiter)
    assert api.peak == 4
    # 1 s for the first request alone, then 39 more four at a time.
    assert report.elapsed_s == pytest.approx(1 + 10, abs=0.1)


# ---- failures that are not retried --------------------------------------------


def test_400_fails_the_request_and_its_dependants_naming_it(clock: FakeClock) -> None:
    api = FakeApi(clock)
    api.forever["d1.com"] = 400
    report, _ = run(clock, api, crm_plan(3))

    failed = report.outcomes["account:d1.com"]
    assert (failed.status, failed.http_status, failed.attempts) == ("failed", 400, 1)
    assert failed.message == "Validation error"
    assert failed.field_errors == {"domain": "Domain is invalid"}
    reason = (
        "not sent: accounts request account:d1.com failed "
        "(HTTP 400: Validation error (domain: Domain is invalid))"
    )
    for key in ("contact:jo@d1.com", "opportunity:deal1", "note:note1"):  # note: transitively
        blocked = report.outcomes[key]
        assert (blocked.status, blocked.blocked_by, blocked.message) == (
            "failed",
            failed.key,
            reason,
        )
        assert blocked.attempts == 0
    assert api.sent("jo@d1.com") == api.sent("note1") == 0
    assert report.counts == {"ok": 8, "failed": 4, "unknown": 0, "not_sent": 0}
    assert report.by_endpoint["accounts"] == {"ok": 2, "failed": 1, "unknown": 0, "not_sent": 0}
    assert report.aborted is None


def test_404_is_not_retried(clock: FakeClock) -> None:
    api = FakeApi(clock)
    api.forever["deal0"] = 404
    report, _ = run(clock, api, crm_plan(1))
    outcome = report.outcomes["opportunity:deal0"]
    assert (outcome.status, outcome.http_status, outcome.attempts) == ("failed", 404, 1)
    assert outcome.message == "Pipeline not found"
    assert report.outcomes["note:note0"].status == "ok"  # notes do not depend on deals


def test_401_aborts_after_exactly_one_request(clock: FakeClock) -> None:
    api = FakeApi(clock)
    api.forever = {name: 401 for name in ("d0.com", "d1.com", "d2.com")}
    report, seen = run(clock, api, crm_plan(3), limiter=RateLimiter(concurrency=10, clock=clock))

    assert len(api.calls) == 1
    assert report.aborted == (
        "the API key was refused (HTTP 401): check --api-key / OCTOLANE_API_KEY"
    )
    assert report.outcomes["account:d0.com"].status == "failed"
    assert report.outcomes["account:d0.com"].http_status == 401
    assert report.counts == {"ok": 0, "failed": 1, "unknown": 0, "not_sent": 11}
    not_sent = report.outcomes["note:note2"]
    assert not_sent.message == f"not sent: {report.aborted}"
    assert len(seen) == 12


def test_401_mid_run_sends_nothing_more(clock: FakeClock) -> None:
    api = FakeApi(clock, latency_s=1.0)
    api.forever["d5.com"] = 401
    plan = ImportPlan([account(f"d{i}.com") for i in range(30)])
    limiter = RateLimiter(concurrency=3, rate_per_min=600_000, clock=clock)
    report, _ = run(clock, api, plan, limiter=limiter)
    assert report.aborted is not None and "HTTP 401" in report.aborted
    refused_at = api.done["d5.com"]
    assert all(t < refused_at for t, _ in api.calls)  # in flight finished, nothing new
    assert report.counts["not_sent"] == 30 - len(api.calls)


# ---- retries ------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {"Retry-After": "20"},
        {
            "Retry-After": "Wed, 21 Oct 2015 07:28:20 GMT",
            "Date": "Wed, 21 Oct 2015 07:28:00 GMT",
        },
    ],
)
def test_429_waits_retry_after_for_every_worker_then_retries(
    clock: FakeClock, headers: dict[str, str]
) -> None:
    api = FakeApi(clock, latency_s=0.5)
    api.script["d3.com"] = [(429, headers)]
    plan = ImportPlan([account(f"d{i}.com") for i in range(12)])
    limiter = RateLimiter(concurrency=4, rate_per_min=600, clock=clock)
    report, _ = run(clock, api, plan, limiter=limiter)

    assert report.counts["ok"] == 12
    assert (report.rate_limited, report.retries, report.requests_sent) == (1, 1, 13)
    assert report.outcomes["account:d3.com"].attempts == 2
    answered_429_at = api.calls[3][0] + 0.5
    later = [t for t, _ in api.calls if t > answered_429_at]
    assert later and min(later) == pytest.approx(answered_429_at + 20)  # nobody sent meanwhile
    # The limiter waited; stamina added no backoff of its own.
    assert limiter.current_rate_per_min == 600


def test_429_retry_after_as_a_date_relative_to_now(clock: FakeClock) -> None:
    api = FakeApi(clock)
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    api.script["d0.com"] = [(429, {"Retry-After": when})]
    report, _ = run(clock, api, ImportPlan([account("d0.com")]))
    assert report.outcomes["account:d0.com"].status == "ok"
    assert 28 <= api.calls[1][0] - api.calls[0][0] <= 31


def test_429_too_many_times_fails_the_request(clock: FakeClock) -> None:
    api = FakeApi(clock)
    api.forever["d0.com"] = (429, {"Retry-After": "1"})
    retry = RetryPolicy(rate_limited_attempts=4)
    report, _ = run(clock, api, crm_plan(1), retry=retry)
    outcome = report.outcomes["account:d0.com"]
    assert (outcome.status, outcome.http_status, outcome.attempts) == ("failed", 429, 4)
    assert outcome.message == "Too many requests (after 4 attempts)"
    assert report.rate_limited == 4
    assert report.outcomes["contact:jo@d0.com"].blocked_by == "account:d0.com"


@pytest.mark.parametrize(
    ("failure", "counter"),
    [
        (500, "server_errors"),
        (503, "server_errors"),
        (httpx.ReadTimeout("timed out"), "transport_errors"),
        (httpx.ConnectError("[Errno 111] Connection refused"), "transport_errors"),
    ],
)
def test_transient_failure_is_retried_then_succeeds(
    clock: FakeClock, failure: Reply, counter: str
) -> None:
    api = FakeApi(clock)
    api.script["jo@d0.com"] = [failure, failure]
    report, _ = run(clock, api, crm_plan(1))
    assert report.counts["ok"] == 4
    assert report.outcomes["contact:jo@d0.com"].attempts == 3
    assert getattr(report, counter) == 2 and report.retries == 2


@pytest.mark.parametrize(
    ("failure", "status", "http_status", "message"),
    [
        (500, "failed", 500, "Internal server error (after 5 attempts)"),
        (
            httpx.ReadTimeout("timed out"),
            "unknown",  # each try may have reached the server: the account may exist
            None,
            "no answer known: no answer from https://enrich.octolane.com/v1 within 30 s (read"
            " timeout) (after 5 attempts); Octolane may have created it; running the same"
            " command again sends it again, which finds the same record rather than making a"
            " second",
        ),
    ],
)
def test_persistent_failure_fails_after_bounded_attempts(
    clock: FakeClock, failure: Reply, status: str, http_status: int | None, message: str
) -> None:
    api = FakeApi(clock)
    api.forever["d0.com"] = failure
    report, _ = run(clock, api, crm_plan(2))
    outcome = report.outcomes["account:d0.com"]
    assert (outcome.status, outcome.http_status, outcome.attempts) == (status, http_status, 5)
    assert outcome.message == message
    assert api.sent("d0.com") == 5
    assert report.outcomes["note:note0"].blocked_by == "account:d0.com"
    assert report.counts["ok"] == 4 and report.counts[status] >= 1
    # What waits on a failed request fails with it; on a lost answer, it is not sent yet.
    waiting = "failed" if status == "failed" else "not_sent"
    assert sum(report.counts[s] for s in {status, waiting}) == 4
    assert report.outcomes["note:note0"].status == waiting
    assert report.aborted is None


def test_a_run_of_server_failures_aborts(clock: FakeClock) -> None:
    api = FakeApi(clock)
    plan = ImportPlan([account(f"d{i}.com") for i in range(50)])
    api.forever = {f"d{i}.com": 500 for i in range(50)}
    retry = RetryPolicy(attempts=2, max_failures_in_a_row=4)
    report, _ = run(clock, api, plan, retry=retry)
    assert report.aborted == (
        "the server failed 4 requests in a row (last: HTTP 500: Internal server error "
        "(after 2 attempts)); stopping rather than hammering it"
    )
    assert report.counts["ok"] == 0 and report.counts["not_sent"] > 0
    sent_at_least_once = report.counts["failed"]
    assert report.requests_sent <= 2 * sent_at_least_once < 50


def test_scattered_server_failures_do_not_abort(clock: FakeClock) -> None:
    api = FakeApi(clock)
    plan = ImportPlan([account(f"d{i}.com") for i in range(40)])
    api.forever = {f"d{i}.com": 500 for i in range(0, 40, 2)}
    limiter = RateLimiter(concurrency=1, rate_per_min=6_000, clock=clock)  # finish in plan order
    retry = RetryPolicy(attempts=2, max_failures_in_a_row=2)
    report, _ = run(clock, api, plan, limiter=limiter, retry=retry)
    assert report.aborted is None
    assert report.counts == {"ok": 20, "failed": 20, "unknown": 0, "not_sent": 0}


# ---- stopping -----------------------------------------------------------------


def test_stop_lets_in_flight_requests_finish_and_sends_nothing_new(clock: FakeClock) -> None:
    api = FakeApi(clock, latency_s=1.0)
    plan = ImportPlan([account(f"d{i}.com") for i in range(30)])
    limiter = RateLimiter(concurrency=3, rate_per_min=600_000, clock=clock)
    stop = asyncio.Event()
    done: list[str] = []

    def on_outcome(outcome: RequestOutcome) -> None:
        done.append(outcome.key)
        if len(done) == 5:
            stop.set()  # as the CLI's SIGINT handler would

    report, _ = run(clock, api, plan, limiter=limiter, stop=stop, on_outcome=on_outcome)
    assert report.aborted == "the run was stopped (Ctrl-C or SIGTERM)"
    sent = len(api.calls)
    assert 5 < sent <= 5 + 3  # those on the wire when it was set still finished
    assert report.counts == {"ok": sent, "failed": 0, "unknown": 0, "not_sent": 30 - sent}
    assert (
        report.outcomes["account:d29.com"].message
        == "not sent: the run was stopped (Ctrl-C or SIGTERM)"
    )


def test_stop_already_set_sends_nothing(clock: FakeClock) -> None:
    api = FakeApi(clock)
    stop = asyncio.Event()
    stop.set()
    report, _ = run(clock, api, crm_plan(2), stop=stop)
    assert api.calls == []
    assert report.counts == {"ok": 0, "failed": 0, "unknown": 0, "not_sent": 8}


def test_stop_does_not_wait_out_a_retry_after_pause(clock: FakeClock) -> None:
    api = FakeApi(clock)
    api.script["d1.com"] = [(429, {"Retry-After": "120"})]
    stop = asyncio.Event()

    async def press_ctrl_c() -> None:
        await asyncio.sleep(10)
        stop.set()

    def on_outcome(outcome: RequestOutcome) -> None:
        if outcome.key == "account:d0.com":
            asyncio.get_running_loop().create_task(press_ctrl_c())

    report, _ = run(clock, api, crm_plan(3), stop=stop, on_outcome=on_outcome)
    assert report.elapsed_s < 20
    assert report.outcomes["account:d1.com"].status == "not_sent"  # the server did nothing
    assert report.outcomes["account:d1.com"].attempts == 1


def test_stop_during_a_5xx_backoff_reports_the_last_error(clock: FakeClock) -> None:
    api = FakeApi(clock)
    api.forever["d1.com"] = 500
    stop = asyncio.Event()

    def on_outcome(outcome: RequestOutcome) -> None:
        if outcome.key == "account:d0.com":  # d1 is sent next and answered 500 at once
            asyncio.get_running_loop().call_later(0.3, stop.set)  # during its 0.5-1.5 s backoff

    with stamina.set_testing(False):  # a real backoff (on virtual time) to interrupt
        report, _ = run(clock, api, crm_plan(2), stop=stop, on_outcome=on_outcome)
    outcome = report.outcomes["account:d1.com"]
    assert (outcome.status, outcome.http_status, outcome.attempts) == ("failed", 500, 1)
    assert outcome.message == "Internal server error (not retried: run stopped)"
    assert report.elapsed_s < 1.0


# ---- whole-run invariants -----------------------------------------------------


@pytest.mark.parametrize("seed", range(6))
def test_every_request_gets_exactly_one_outcome(clock: FakeClock, seed: int) -> None:
    rng = random.Random(seed)
    api = FakeApi(clock, latency_s=0.2)
    plan = crm_plan(12)
    replies: list[list[Reply]] = [
        [], [], [400], [500] * 9, [(429, {"Retry-After": "2"})], [httpx.ConnectError("reset")],
    ]  # fmt: skip
    for request in plan.requests:
        api.script[entity(request.endpoint, dict(request.payload))] = list(rng.choice(replies))
    limiter = RateLimiter(concurrency=rng.choice([1, 3, 10]), clock=clock)
    report, _ = run(clock, api, plan, limiter=limiter, retry=RetryPolicy(max_failures_in_a_row=99))
    for key, outcome in report.outcomes.items():
        if outcome.blocked_by:
            assert report.outcomes[outcome.blocked_by].status == "failed"
        if outcome.status == "ok":
            deps = next(r for r in plan.requests if r.key == key).depends_on
            assert all(report.outcomes[d].status == "ok" for d in deps)


@pytest.mark.parametrize(
    ("requests", "message"),
    [
        ([account("aa.com"), account("aa.com")], "the plan lists 'account:aa.com' twice"),
        ([contact("jo@ab.com", "account:a.com"), account("aa.com")], "not listed before it"),
    ],
)
def test_a_malformed_plan_is_refused(requests: list[PlannedRequest], message: str) -> None:
    async def main() -> None:
        async with InboundClient("k", transport=httpx.MockTransport(lambda r: None)) as client:  # type: ignore[arg-type,return-value]
            await send_plan(ImportPlan(requests), client, limiter=RateLimiter())

    with pytest.raises(ValueError, match=message):
        asyncio.run(main())


def test_an_empty_plan(clock: FakeClock) -> None:
    report, _ = run(clock, FakeApi(clock), ImportPlan([]))
    assert report.counts == {"ok": 0, "failed": 0, "unknown": 0, "not_sent": 0}
    assert report.by_endpoint == {} and report.requests_sent == 0


def test_a_bug_in_the_client_is_not_hidden(clock: FakeClock) -> None:
    api = FakeApi(clock)
    api.script["jo@d1.com"] = [RuntimeError("boom")]  # not an httpx error: a bug
    with pytest.raises(RuntimeError, match="boom"):
        run(clock, api, crm_plan(3))


def test_adaptive_import_against_a_rate_limited_server(clock: FakeClock) -> None:
    """The benchmark's criterion through send_plan: 5,000 contacts, a 3,000/min server.

    The client is a bare OctolaneClient (the HTTP path is test_client's job) so
    5,000 requests cost well under a second.
    """

    class TokenBucketClient:
        def __init__(self) -> None:
            self.tokens, self.updated, self.accepted, self.limited = 50.0, 0.0, 0, 0

        async def send(self, endpoint: str, payload: Any) -> ContactCreated:
            now = clock.now()  # 50 tokens/s, bursts of 50, 50 ms latency
            self.tokens, self.updated = min(50.0, self.tokens + (now - self.updated) * 50), now
            ok = self.tokens >= 1
            self.tokens -= ok
            await asyncio.sleep(0.05)
            if not ok:
                self.limited += 1
                raise RateLimitedError(429, "Too many requests", retry_after_s=1.0)
            self.accepted += 1
            return ContactCreated(people_id="p")

    client = TokenBucketClient()
    plan = ImportPlan([contact(f"p{i}@d{i % 1000}.com") for i in range(5000)])
    report = clock.run(send_plan(plan, client, limiter=RateLimiter(clock=clock)))  # type: ignore[arg-type]

    assert report.counts == {"ok": 5000, "failed": 0, "unknown": 0, "not_sent": 0}
    assert report.requests_sent == 5000 + report.retries
    assert report.retries == report.rate_limited == client.limited
    assert client.accepted / report.elapsed_s * 60 / 3000 >= 0.85
    assert client.limited / report.requests_sent < 0.03
