"""The bulk sender against a scripted public API (httpx.MockTransport): how each answer
shape and failure becomes one outcome per record. The same paths through real HTTP to
the sandbox are in test_public_target.py."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

from importer.api.endpoints import to_inbound
from importer.plan import ImportPlan, PlannedRequest
from importer.send import PublicClient, RateLimiter, send_plan
from importer.send.bulk import BulkRun
from importer.send.public import read_batch_answer, to_public
from importer.send.runner import RetryPolicy

FAST = RetryPolicy(wait_initial_s=0.001, wait_max_s=0.001, wait_jitter_s=0)


class FakePublicApi:
    """Accounts by domain, notes always new; ``shape`` and ``mode`` as the sandbox's."""

    def __init__(self, *, shape: str = "per_item", mode: str = "all_or_nothing") -> None:
        self.shape, self.mode = shape, mode
        self.accounts: dict[str, str] = {}
        self.notes: list[dict[str, Any]] = []
        self.posts: list[tuple[str, int]] = []  # (path, records)
        self.reads = 0
        self.lose_next = 0  # write, then answer 500
        self.max_items: int | None = None

    def handler(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        body = json.loads(request.content or b"null")
        if path.endswith("/search"):
            self.reads += 1
            wanted = set(body["filters"][0]["value"])
            found = [{"id": i, "domain": d} for d, i in self.accounts.items() if d in wanted]
            return httpx.Response(200, json={"success": True, "data": {
                "accounts": found, "has_more": False, "next_cursor": None}})  # fmt: skip
        if request.method == "GET" and path == "/v1/notes":
            self.reads += 1
            q = request.url.params.get("q", "")
            found = [n for n in self.notes if q in (n["content"] or n["title"])]
            return httpx.Response(200, json={"success": True, "data": {
                "notes": found, "has_more": False}})  # fmt: skip
        self.posts.append((path, len(body)))
        if self.max_items and len(body) > self.max_items:
            return httpx.Response(413, json={"success": False, "message": "Too large"})
        bad = [i for i, item in enumerate(body) if "bad" in json.dumps(item)]
        if bad and self.mode == "all_or_nothing":
            errors = {f"[{i}].domain": "invalid" for i in bad}
            return httpx.Response(400, json={
                "success": False, "statusCode": 400, "message": "Validation failed",
                "errors": errors})  # fmt: skip
        results = []
        for i, item in enumerate(body):
            if i in bad:
                results.append({"index": i, "status": "failed", "message": "invalid domain"})
            elif path.startswith("/v1/accounts"):
                known = item["domain"] in self.accounts
                new_id = self.accounts.setdefault(item["domain"], f"a{len(self.accounts)}")
                results.append({"index": i, "status": "resolved" if known else "created",
                                "id": new_id})  # fmt: skip
            else:
                note_id = f"n{len(self.notes)}"
                self.notes.append({"note_id": note_id, **item["note"],
                                   "account_domains": item.get("account_domains") or []})  # fmt: skip
                results.append({"index": i, "status": "created", "id": note_id})
        if self.lose_next:
            self.lose_next -= 1
            return httpx.Response(500, json={"success": False, "message": "lost"})
        failed = sum(r["status"] == "failed" for r in results)
        data: Any = {"results": results, "created": len(results) - failed, "failed": failed}
        if self.shape == "summary":
            data = {"created": len(results) - failed, "failed": failed}
        elif self.shape == "empty":
            data = None
        return httpx.Response(201, json={"success": True, "message": "ok", "data": data})


def accounts_plan(n: int, bad: set[int] = frozenset()) -> ImportPlan:  # type: ignore[assignment]
    return ImportPlan([
        PlannedRequest(f"account:{i}", "accounts",
                       {"domain": f"{'bad' if i in bad else 'co'}{i}.com"}, rows=(i + 2,))
        for i in range(n)
    ])  # fmt: skip


def notes_plan(n: int) -> ImportPlan:
    return ImportPlan([
        PlannedRequest(f"note:{i}", "notes", {"note": {"title": f"T{i}", "content": f"body {i}"}},
                       rows=(i + 2,))
        for i in range(n)
    ])  # fmt: skip


def send(api: FakePublicApi, plan: ImportPlan, **options: Any):
    async def go():
        transport = httpx.MockTransport(api.handler)
        async with PublicClient("key", base_url="https://api.example.com",
                                transport=transport) as client:  # fmt: skip
            limiter = RateLimiter(concurrency=4, rate_per_min=1_000_000)
            reads = RateLimiter(concurrency=4, rate_per_min=1_000_000)
            return await send_plan(
                plan, client, limiter=limiter, retry=FAST,
                run_type=lambda *a: BulkRun(*a, read_limiter=reads), **options,
            )  # fmt: skip

    return asyncio.run(go())


def test_three_bad_records_among_a_hundred_cost_only_their_own_rows():
    api = FakePublicApi(mode="all_or_nothing")
    report = send(api, accounts_plan(100, bad={7, 50, 93}))
    failed = sorted(o.key for o in report.outcomes.values() if o.status == "failed")
    assert failed == ["account:50", "account:7", "account:93"]
    assert report.counts["ok"] == 97
    assert len(api.accounts) == 97
    # Bisection: the whole batch, then halves down to the three alone.
    assert report.bulk_requests == len(api.posts) and report.split_requests == len(api.posts) - 1
    assert report.split_requests <= 3 * 2 * 7  # three records, at most 7 levels each
    assert report.outcomes["account:7"].field_errors == {"domain": "invalid"}
    assert "sent alone after its batch of 100 was refused whole" in (
        report.outcomes["account:7"].message
    )


def test_partial_batches_give_each_record_its_own_outcome_in_one_request():
    api = FakePublicApi(mode="partial")
    report = send(api, accounts_plan(100, bad={7, 50, 93}))
    assert report.counts["ok"] == 97 and report.counts["failed"] == 3
    assert api.posts == [("/v1/accounts/bulk", 100)]
    assert "invalid domain" in report.outcomes["account:50"].message


def test_a_summary_answer_is_followed_by_a_lookup_of_the_ids():
    api = FakePublicApi(shape="summary")
    report = send(api, accounts_plan(250))
    assert [n for _, n in api.posts] == [100, 100, 50]
    assert api.reads == 3  # one search per batch
    assert report.lookups == 3
    ids = {o.ids["company_id"] for o in report.outcomes.values()}
    assert ids == set(api.accounts.values())


def test_an_empty_answer_in_partial_mode_finds_out_which_records_failed():
    api = FakePublicApi(shape="empty", mode="partial")
    report = send(api, accounts_plan(10, bad={3}))
    assert report.outcomes["account:3"].status == "failed"
    assert "not in Octolane" in report.outcomes["account:3"].message
    assert report.counts["ok"] == 9


def test_a_413_splits_the_batch():
    api = FakePublicApi()
    api.max_items = 30
    report = send(api, accounts_plan(100))
    assert report.counts["ok"] == 100
    assert api.posts[0] == ("/v1/accounts/bulk", 100)  # refused whole: too large
    assert sum(n for _, n in api.posts if n <= 30) == 100  # then halves, and halves again
    assert len(api.accounts) == 100


def test_a_lost_answer_on_notes_is_looked_up_and_nothing_is_sent_twice():
    api = FakePublicApi()
    api.lose_next = 1  # the first batch is written, then answered 500
    report = send(api, notes_plan(5))
    assert report.counts["ok"] == 5
    assert len(api.notes) == 5  # no note twice
    assert api.posts == [("/v1/notes/bulk", 5)]  # not sent again: all were found
    assert api.reads == 1 + 5  # whether any note was there before the run, then each
    assert all("found in Octolane by a lookup" in o.message for o in report.outcomes.values())


def test_translation_between_the_two_apis():
    deal = {"pipeline_id": "p", "related_objects": {"account_domain": "acme.com"},
            "opportunity": {"name": "D", "next_step": "Call", "close_date": 1_717_200_000_999,
                            "stage_name": "Won", "custom_attributes": {"k": 1}}}  # fmt: skip
    public = to_public("opportunities", deal)
    assert public["opportunity"]["close_date"] == 1_717_200_000
    assert public["opportunity"]["next_steps"] == "Call"
    inbound = to_inbound("opportunities", deal)
    assert inbound["opportunity"] == {"name": "D", "next_step": "Call",
                                      "close_date": 1_717_200_000_999}  # fmt: skip
    assert to_inbound("contacts", {"email": "a@b.co", "job_title": "CEO"}) == {"email": "a@b.co"}


@pytest.mark.parametrize(
    ("data", "oks"),
    [
        ([{"id": "1"}, {"id": "2"}], [True, True]),
        ({"results": [{"index": 1, "status": "failed"}, {"index": 0, "id": "x"}]}, [True, False]),
        (
            {"items": [{"success": False, "error": "bad"}, {"status": "skipped", "id": "y"}]},
            [False, True],
        ),
    ],
)
def test_per_item_answers_in_the_shapes_a_server_may_use(data, oks):
    answer = read_batch_answer(200, {"success": True, "data": data}, 2)
    assert answer.items is not None and [i.ok for i in answer.items] == oks


def test_a_list_that_does_not_match_the_batch_is_not_trusted():
    assert read_batch_answer(200, {"data": [{"id": "1"}]}, 2).items is None
    assert not read_batch_answer(200, {"data": {"created": 1, "failed": 1}}, 2).all_done
    # Counts that do not add up to the batch prove nothing of the records left over.
    assert not read_batch_answer(200, {"data": {"created": 98, "failed": 0}}, 100).all_done
    assert read_batch_answer(200, {"data": {"created": 97, "resolved": 3}}, 100).all_done


def test_counts_that_leave_records_out_send_the_run_looking_for_them():
    api = FakePublicApi(shape="summary")
    handler = api.handler

    def short(request: httpx.Request) -> httpx.Response:
        response = handler(request)
        if request.url.path.endswith("/bulk"):  # claims one record fewer than it got
            body = json.loads(response.content)
            body["data"]["created"] -= 1
            return httpx.Response(response.status_code, json=body)
        return response

    async def go():
        transport = httpx.MockTransport(short)
        async with PublicClient("key", base_url="https://api.example.com",
                                transport=transport) as client:  # fmt: skip
            limiter = RateLimiter(concurrency=2, rate_per_min=1_000_000)
            reads = RateLimiter(concurrency=2, rate_per_min=1_000_000)
            return await send_plan(
                notes_plan(3), client, limiter=limiter, retry=FAST,
                run_type=lambda *a: BulkRun(*a, read_limiter=reads),
            )  # fmt: skip

    report = asyncio.run(go())
    # Not "ok with no id" on the counts' word: each note was looked up, and found.
    assert api.reads == 1 + 3  # (the first: whether any note was there before the run)
    assert report.counts["ok"] == 3
    assert all(o.ids.get("note_id") for o in report.outcomes.values())


def test_a_stop_lets_the_batch_on_the_wire_finish_and_sends_no_other():
    api = FakePublicApi()
    stop: asyncio.Event | None = None
    handler = api.handler

    def stopping(request: httpx.Request) -> httpx.Response:
        assert stop is not None
        stop.set()  # Ctrl-C while the first batch is on the wire
        return handler(request)

    async def go():
        nonlocal stop
        stop = asyncio.Event()
        transport = httpx.MockTransport(stopping)
        async with PublicClient("key", base_url="https://api.example.com",
                                transport=transport) as client:  # fmt: skip
            limiter = RateLimiter(concurrency=1, rate_per_min=1_000_000)
            return await send_plan(accounts_plan(250), client, limiter=limiter, retry=FAST,
                                   stop=stop)  # fmt: skip

    report = asyncio.run(go())
    assert api.posts == [("/v1/accounts/bulk", 100)]  # the one on the wire, no other
    assert report.counts["ok"] == 100 and report.counts["not_sent"] == 150
    assert report.aborted is not None and "stopped" in report.aborted
    assert all("not sent" in o.message for o in report.outcomes.values() if o.status == "not_sent")
