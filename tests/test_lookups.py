"""Lost answers of records a repeat could duplicate are looked up before a resend.

The sandbox serves the public API's reads an importer needs for that
(``GET /v1/notes?q=``, ``POST /v1/opportunities/search``, API.md §2.4); the
client's :meth:`InboundClient.find` uses them, and the runner asks it after a
note's or a keyless deal's answer is lost, within a run and for an earlier run's
lost answer in the journal.
"""

from __future__ import annotations

import asyncio
import csv
from pathlib import Path
from typing import Any

import httpx
import pytest
from test_import_e2e import no_backoff  # noqa: F401 (a fixture)

from importer.run import run_import
from importer.sandbox import RunningSandbox, running_sandbox
from importer.send.client import InboundClient, LookupUnavailable
from importer.send.lookup import note_links

NOTE_MAPPING = """
contact:
  email: {column: Email, transforms: [email]}
note:
  title: {value: Imported}
  content: {template: "Status: {Status}"}
"""
DEAL_MAPPING = """
opportunity:
  name: Deal
  deal_size: {column: Amount, transforms: [money]}
"""


def post(box: RunningSandbox, path: str, body: Any) -> httpx.Response:
    return httpx.post(f"{box.url}{path}", json=body, headers={"X-API-Key": box.api_key})


def get(box: RunningSandbox, path: str, **params: Any) -> httpx.Response:
    return httpx.get(f"{box.url}{path}", params=params, headers={"X-API-Key": box.api_key})


def stats(box: RunningSandbox) -> dict[str, Any]:
    return get(box, "/_sandbox/stats").json()["data"]


def listed(box: RunningSandbox, kind: str) -> list[dict[str, Any]]:
    return get(box, f"/_sandbox/{kind}", limit=10_000).json()["data"][kind]


def rows_of(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def note(title: str, content: str, **links: list[str]) -> dict[str, Any]:
    return {"note": {"title": title, "content": content}, **links}


# ---- the sandbox's reads ----------------------------------------------------------------


def test_notes_read_finds_by_text_and_pages():
    with running_sandbox() as box:
        for n in range(5):
            body = note("Call", f"Spoke to 50% of team {n}", contact_emails=[f"p{n}@acme.com"])
            assert post(box, "/v1/inbound/notes", body).status_code == 200
        post(box, "/v1/inbound/notes", note("Other", "nothing alike"))

        page = get(box, "/v1/notes", q="50% of TEAM", limit=2).json()
        assert page["success"] and page["message"] == "Notes were returned"
        data = page["data"]
        assert [n["content"] for n in data["notes"]] == [
            "Spoke to 50% of team 0",
            "Spoke to 50% of team 1",
        ]
        assert data["has_more"] and data["page"] == 1 and data["limit"] == 2
        assert data["notes"][0]["contact_emails"] == ["p0@acme.com"]
        last = get(box, "/v1/notes", q="50% of team", limit=2, page=3).json()["data"]
        assert [n["content"] for n in last["notes"]] == ["Spoke to 50% of team 4"]
        assert not last["has_more"]
        assert get(box, "/v1/notes", q="%").json()["data"]["notes"] == [
            n for n in get(box, "/v1/notes", q="50%").json()["data"]["notes"]
        ]  # % is a character, not a wildcard
        bad = get(box, "/v1/notes", page=0)
        assert bad.status_code == 400 and "page" in bad.json()["errors"]


def test_opportunity_search_by_name_in_a_pipeline():
    with running_sandbox() as box:
        for name, domain in (("Renewal", None), ("Renewal", "acme.com"), ("New", None)):
            body: dict[str, Any] = {"pipeline_id": box.pipeline_id, "opportunity": {"name": name}}
            body["related_objects"] = {"account_domain": domain} if domain else {}
            assert post(box, "/v1/inbound/opportunities", body).status_code == 200
        query = {
            "pipeline_id": box.pipeline_id,
            "filters": [{"field": "name", "operator": "eq", "value": "Renewal"}],
        }
        found = post(box, "/v1/opportunities/search", query).json()["data"]
        assert sorted(bool(d["account_id"]) for d in found["opportunities"]) == [False, True]
        assert found["has_more"] is False and found["next_cursor"] is None
        paged = post(box, "/v1/opportunities/search", {**query, "limit": 1}).json()["data"]
        assert paged["has_more"] and paged["next_cursor"] == "1"
        rest = post(box, "/v1/opportunities/search", {**query, "limit": 1, "cursor": "1"})
        assert len(rest.json()["data"]["opportunities"]) == 1

        wrong = post(box, "/v1/opportunities/search", {"filter": []})
        assert wrong.status_code == 400 and "filter" in wrong.json()["errors"]
        unknown = {**query, "pipeline_id": "11111111-1111-4111-8111-111111111111"}
        assert post(box, "/v1/opportunities/search", unknown).status_code == 404


# ---- the client's lookups ---------------------------------------------------------------


def find(box: RunningSandbox, endpoint: str, payload: dict[str, Any]) -> Any:
    async def go() -> Any:
        async with InboundClient(box.api_key, base_url=box.base_url, public_url=box.url) as client:
            return await client.find(endpoint, payload)  # type: ignore[arg-type]

    return asyncio.run(go())


def test_find_a_note_by_title_content_and_links():
    with running_sandbox() as box:
        body = note(
            "Call", "Spoke to Jo", contact_emails=["jo@acme.com"], account_domains=["acme.com"]
        )
        created = post(box, "/v1/inbound/notes", body).json()["data"]
        assert find(box, "notes", body).note_id == created["note_id"]
        # Another contact, or other text: not the same note.
        assert find(box, "notes", {**body, "contact_emails": ["al@acme.com"]}) is None
        assert find(box, "notes", note("Call", "Spoke to Jo again")) is None
        # Accounts, contacts and deals with a domain need no lookup: a repeat finds them.
        with pytest.raises(LookupUnavailable):
            find(box, "contacts", {"email": "jo@acme.com"})


def test_find_a_keyless_deal_by_name():
    with running_sandbox() as box:
        body = {
            "pipeline_id": box.pipeline_id,
            "opportunity": {"name": "Big"},
            "related_objects": {},
        }
        created = post(box, "/v1/inbound/opportunities", body).json()["data"]
        assert find(box, "opportunities", body).opportunity_id == created["opportunity_id"]
        assert find(box, "opportunities", {**body, "opportunity": {"name": "Small"}}) is None


def test_no_lookup_where_the_key_may_not_read_the_public_api():
    with running_sandbox(public_api=False) as box, pytest.raises(LookupUnavailable, match="401"):
        find(box, "notes", note("Call", "x"))


# ---- through a real import ------------------------------------------------------------


SETTINGS = ("api", "batch_size", "concurrency")


def import_notes(box: RunningSandbox, folder: Path, **options: Any):
    data = folder / "leads.csv"
    data.write_text(
        "Email,Status\n" + "".join(f"p{i}@co{i}.com,status {i}\n" for i in range(6)),
        encoding="utf-8",
    )
    mapping = folder / "m.yaml"
    mapping.write_text(NOTE_MAPPING, encoding="utf-8")
    from importer.settings import Settings

    settings = Settings(
        api_key=box.api_key,
        base_url=box.base_url,
        rate_per_min=60_000,
        **{"concurrency": 2, **{k: options.pop(k) for k in SETTINGS if k in options}},
    )
    return run_import(
        data, mapping, results_path=folder / "results.csv", failures_path=folder / "failures.csv",
        settings=settings, **options,
    )  # fmt: skip


def test_a_lost_note_answer_is_looked_up_not_sent_twice(tmp_path):
    with running_sandbox() as box:
        # The next two notes are stored and their connections closed unanswered.
        box.fail_next(2, endpoint="notes", after_write=True, drop_connection=True)
        report = import_notes(box, tmp_path)

        assert report.counts == {"imported": 6}
        # The path ran: one lookup per lost answer, and one read before the first note
        # (the organization held none: no note to check before its first send).
        assert report.send.lookups == 3
        assert stats(box)["requests"]["notes_read"]["200"] == 3
        contents = [n["content"] for n in listed(box, "notes")]
        assert sorted(contents) == [f"Status: status {i}" for i in range(6)]  # one each
        rows = rows_of(tmp_path / "results.csv")
        looked = [r for r in rows if "found in Octolane by a lookup" in r["message"]]
        assert len(looked) == 2 and all(r["note_id"] for r in looked)
        ids = {n["note_id"] for n in listed(box, "notes")}
        assert {r["note_id"] for r in rows} == ids


def test_without_a_lookup_a_lost_note_is_unknown_then_retry_unknown_sends_it(tmp_path):
    with running_sandbox(public_api=False) as box:
        # Dropped before the write: the note does not exist, and nobody can tell.
        box.fail_next(1, endpoint="notes", drop_connection=True)
        report = import_notes(box, tmp_path)
        assert report.counts == {"imported": 5, "unknown": 1}
        assert report.exit_code == 1
        assert rows_of(tmp_path / "failures.csv") == []  # nothing to fix
        unknown = [r for r in rows_of(tmp_path / "results.csv") if r["status"] == "unknown"]
        assert "--retry-unknown" in unknown[0]["message"]
        assert len(listed(box, "notes")) == 5

        again = import_notes(box, tmp_path)  # the same command: not sent blindly
        assert again.counts == {"already_imported": 5, "unknown": 1}
        assert again.send.requests_sent == 0 and len(listed(box, "notes")) == 5

        last = import_notes(box, tmp_path, retry_unknown=True)
        assert last.counts == {"already_imported": 5, "imported": 1}
        assert last.send.requests_sent == 1 and len(listed(box, "notes")) == 6


@pytest.mark.parametrize("api", ["inbound", "public"])
def test_retry_unknown_looks_a_lost_note_up_before_it_sends_it_again(tmp_path, api):
    """--retry-unknown sends again only the lost notes a lookup does not find: the one
    Octolane stored is found (not a second copy), the one it never got is sent."""
    with running_sandbox() as box:
        # No lookup in the first run (the reads are refused): one note stored and its
        # answer lost, one lost before the write. Both are unknown, and nothing but a
        # lookup can tell them apart.
        writes = "notes" if api == "inbound" else "notes.bulk"
        box.fail_next(1, endpoint=writes, after_write=True, drop_connection=True)
        box.fail_next(1, endpoint=writes, drop_connection=True)
        box.fail_next(10, endpoint="notes_read", status=403)
        first = import_notes(box, tmp_path, api=api, batch_size=1)
        assert first.counts == {"imported": 4, "unknown": 2}
        assert len(listed(box, "notes")) == 5

        box.reset_knobs()  # the reads answer now: lookups work
        last = import_notes(box, tmp_path, api=api, batch_size=1, retry_unknown=True)
        assert last.journal_note is not None
        assert "2 whose answer was lost: looked up first" in last.journal_note
        assert last.counts == {"already_imported": 4, "imported": 2}
        assert last.send.lookups == 2  # the path ran: each lost answer was looked up
        contents = sorted(n["content"] for n in listed(box, "notes"))
        assert contents == [f"Status: status {i}" for i in range(6)]  # one each, no copy
        rows = rows_of(tmp_path / "results.csv")
        found = [r for r in rows if "notes: found in Octolane by a lookup" in r["message"]]
        sent = [r for r in rows if "notes: sent again (a lookup did not find it" in r["message"]]
        assert len(found) == 1 and len(sent) == 1, [r["message"] for r in rows]
        assert {r["status"] for r in found + sent} == {"imported"}


def test_retry_unknown_without_a_lookup_says_the_note_was_sent_again(tmp_path):
    with running_sandbox(public_api=False) as box:
        box.fail_next(1, endpoint="notes", drop_connection=True)
        import_notes(box, tmp_path)
        last = import_notes(box, tmp_path, retry_unknown=True)
        assert last.counts == {"already_imported": 5, "imported": 1}
        sent = [r for r in rows_of(tmp_path / "results.csv") if r["status"] == "imported"]
        assert "sent again (no lookup:" in sent[0]["message"]


# ---- lost answers across runs: never sent blind where a lookup could tell -----------


def notes_in(box: RunningSandbox) -> int:
    return len(listed(box, "notes"))


@pytest.mark.parametrize("api", ["inbound", "public"])
def test_a_lookup_refused_for_now_is_retried_and_never_licenses_a_blind_resend(
    tmp_path, api, monkeypatch
):
    """A read answered 429 or 5xx is tried again; one that keeps failing leaves the lost
    answer unknown even with --retry-unknown (a later run can look): nothing is sent twice."""
    from importer.send import client

    monkeypatch.setattr(client, "_READ_WAITS_S", (0.01, 0.01, 0.01))
    monkeypatch.setattr(client, "_READ_WAIT_MAX_S", 0.01)  # the sandbox's Retry-After too
    writes = "notes" if api == "inbound" else "notes.bulk"
    with running_sandbox() as box:
        box.fail_next(2, endpoint=writes, after_write=True, drop_connection=True)
        box.fail_next(100, endpoint="notes_read", status=403)  # no lookup in run 1
        first = import_notes(box, tmp_path, api=api, batch_size=1)
        assert first.counts == {"imported": 4, "unknown": 2} and notes_in(box) == 6

        box.reset_knobs()
        box.fail_next(100, endpoint="notes_read", status=503)  # the reads fail, for now
        again = import_notes(box, tmp_path, api=api, batch_size=1, retry_unknown=True)
        assert again.counts == {"already_imported": 4, "unknown": 2}
        assert notes_in(box) == 6  # not sent blind
        unknown = [r for r in rows_of(tmp_path / "results.csv") if r["status"] == "unknown"]
        assert all("the next run looks it up again" in r["message"] for r in unknown)
        # the first read was tried 4 times; the second lookup did not wait for the same
        assert stats(box)["requests"]["notes_read"]["503"] == 4

        box.reset_knobs()
        box.fail_next(1, endpoint="notes_read", status=429)  # one refusal: tried again
        last = import_notes(box, tmp_path, api=api, batch_size=1, retry_unknown=True)
        assert last.counts == {"already_imported": 4, "imported": 2} and notes_in(box) == 6
        assert last.send.requests_sent == 0  # both found by their lookups


def test_a_failed_resend_keeps_the_lost_answer_for_the_next_run(tmp_path):
    """A --retry-unknown re-send that fails with no answer about its data (a 404 here)
    leaves the journal's lost answer in place: the next run looks it up, not sends it."""
    with running_sandbox() as box:
        box.fail_next(1, endpoint="notes", after_write=True, drop_connection=True)
        box.fail_next(100, endpoint="notes_read", status=403)
        import_notes(box, tmp_path)
        box.fail_next(1, endpoint="notes", status=404)  # the re-send meets a route hiccup
        second = import_notes(box, tmp_path, retry_unknown=True)
        assert second.counts == {"already_imported": 5, "failed": 1} and notes_in(box) == 6

        box.reset_knobs()  # lookups work again
        third = import_notes(box, tmp_path)
        assert third.send.lookups == 1 and third.send.requests_sent == 0
        assert third.counts == {"already_imported": 5, "imported": 1} and notes_in(box) == 6


@pytest.mark.parametrize("api", ["inbound", "public"])
def test_a_run_that_stops_before_its_lookups_keeps_them_unknown(tmp_path, api):
    writes = "notes" if api == "inbound" else "notes.bulk"
    contacts = "contacts" if api == "inbound" else "contacts.bulk"
    with running_sandbox() as box:
        box.fail_next(1, endpoint=contacts, status=404)  # row 2 waits for the next run
        box.fail_next(2, endpoint=writes, after_write=True, drop_connection=True)
        box.fail_next(100, endpoint="notes_read", status=403)
        import_notes(box, tmp_path, api=api, batch_size=1, concurrency=1)
        box.reset_knobs()
        box.fail_next(1, endpoint=contacts, status=401)  # the key refused: the run halts
        stopped = import_notes(box, tmp_path, api=api, batch_size=1, concurrency=1)
        assert stopped.send.aborted and stopped.send.lookups == 0
        assert stopped.counts.get("unknown") == 2  # not "not_sent": they may exist
        unknown = [r for r in rows_of(tmp_path / "results.csv") if r["status"] == "unknown"]
        assert all("not looked up: " in r["message"] for r in unknown)


def test_public_bulk_deal_with_a_company_is_looked_up_not_sent_blind(tmp_path):
    """The bulk route does not deduplicate deals: a lost answer of a deal with a company
    domain is looked up by the next run, not sent again as on the Inbound API."""
    data = tmp_path / "in.csv"
    data.write_text("Website,Deal\nacme.com,Renewal\nbeta.com,New\n", encoding="utf-8")
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        "account:\n  domain: {column: Website, transforms: [domain]}\nopportunity:\n  name: Deal\n",
        encoding="utf-8",
    )
    with running_sandbox() as box:
        from importer.settings import Settings

        settings = Settings(
            api_key=box.api_key, base_url=box.base_url, rate_per_min=60_000, api="public",
            batch_size=1, concurrency=1,
        )  # fmt: skip

        def go():
            return run_import(
                data, mapping, settings=settings, pipeline_id=box.pipeline_id,
                results_path=tmp_path / "r.csv",
            )  # fmt: skip

        box.fail_next(1, endpoint="opportunities.bulk", after_write=True, drop_connection=True)
        box.fail_next(100, endpoint="opportunities_search", status=403)
        box.fail_next(100, endpoint="accounts_search", status=403)
        go()
        box.reset_knobs()
        second = go()
        assert second.send.lookups >= 1
        assert sorted(d["name"] for d in listed(box, "opportunities")) == ["New", "Renewal"]


def test_lookups_are_paced_by_the_read_quota_not_the_writes(tmp_path, monkeypatch):
    """The public API's reads have their own quota (300 a minute, ``read_rate_per_min``):
    a lookup takes its turn from a limiter at that pace, not from the writes' limiter."""
    from importer.run import _send
    from importer.send.limiter import RateLimiter

    made: list[RateLimiter] = []

    class Recorded(RateLimiter):
        def __init__(self, **options: Any) -> None:
            super().__init__(**options)
            made.append(self)

    monkeypatch.setattr(_send, "RateLimiter", Recorded)
    with running_sandbox() as box:
        box.fail_next(1, endpoint="notes", after_write=True, drop_connection=True)
        report = import_notes(box, tmp_path)
    # the lost answer's, and the "any notes?" before the first note
    assert report.counts == {"imported": 6} and report.send.lookups == 2
    writes, reads = made  # the run's two limiters: writes first
    assert reads.current_rate_per_min == 300 and not reads.adaptive
    assert reads.peak_in_flight == 1  # the lookups went through it
    assert writes.peak_in_flight >= 1


# ---- a lookup never gives a row another row's note ---------------------------------


def test_find_prefers_the_exact_links_and_skips_other_rows_notes():
    with running_sandbox() as box:
        wide = note("Call", "Spoke", account_domains=["acme.com"], contact_emails=["jo@acme.com"])
        narrow = note("Call", "Spoke", account_domains=["acme.com"])
        wide_id = post(box, "/v1/inbound/notes", wide).json()["data"]["note_id"]
        # Only the wider note exists: it may be the narrow one's (Octolane may add links)...
        assert find(box, "notes", narrow).note_id == wide_id

        async def go(payload: dict[str, Any], **context: Any) -> Any:
            async with InboundClient(
                box.api_key, base_url=box.base_url, public_url=box.url
            ) as client:
                return await client.find("notes", payload, **context)

        # ...but not where another row of the run got it, or asks for exactly its links.
        text = ("Call", "Spoke")
        both = {text: {note_links(wide), note_links(narrow)}}
        assert asyncio.run(go(narrow, taken={wide_id})) is None
        assert asyncio.run(go(narrow, rivals=both)) is None
        assert asyncio.run(go(narrow, rivals={("Other", "x"): {note_links(wide)}})).note_id == (
            wide_id
        )
        assert asyncio.run(go(wide, rivals=both)).note_id == wide_id
        narrow_id = post(box, "/v1/inbound/notes", narrow).json()["data"]["note_id"]
        assert find(box, "notes", narrow).note_id == narrow_id  # the exact one first


SHARED_TEXT = """
account:
  domain: {column: Domain, transforms: [domain]}
contact:
  email: {column: Email, transforms: [email], required: false}
note:
  title: {value: Call}
  content: {column: Text}
"""


@pytest.mark.parametrize("api", ["inbound", "public"])
def test_a_lost_note_is_not_matched_to_another_rows_note_of_the_same_text(tmp_path, api):
    """Two rows, one text: row 2 links the company alone, row 3 the company and a
    person. Row 2's note is lost before Octolane stores it and cannot be looked up in
    that run; the re-run's lookup must not take row 3's note (linked to more) for it."""
    from importer.settings import Settings

    data, mapping = tmp_path / "notes.csv", tmp_path / "m.yaml"
    data.write_text("Domain,Email,Text\nacme.com,,Spoke\nacme.com,jo@acme.com,Spoke\n")
    mapping.write_text(SHARED_TEXT, encoding="utf-8")
    writes = "notes" if api == "inbound" else "notes.bulk"

    def once() -> Any:
        settings = Settings(
            api_key=box.api_key, base_url=box.base_url, rate_per_min=60_000, concurrency=1,
            api=api, batch_size=1,
        )  # fmt: skip
        return run_import(data, mapping, results_path=tmp_path / "results.csv", settings=settings)

    with running_sandbox() as box:
        box.fail_next(1, endpoint=writes, drop_connection=True)  # row 2's, never stored
        # No read this run (a key without read access): the notes go unchecked, and the
        # lost one is unknown. (Reads down for now would hold both back: not_sent.)
        box.fail_next(100, endpoint="notes_read", status=403)
        first = once()
        assert first.counts == {"imported": 1, "unknown": 1}, first.counts
        assert notes_in(box) == 1

        box.reset_knobs()
        again = once()
        assert again.send.lookups == 1  # the path ran: the lost answer was looked up
        assert again.counts == {"already_imported": 1, "imported": 1}, again.counts
        notes = sorted((n["account_domains"], n["contact_emails"]) for n in listed(box, "notes"))
        assert notes == [(["acme.com"], []), (["acme.com"], ["jo@acme.com"])]
        rows = rows_of(tmp_path / "results.csv")
        assert rows[0]["note_id"] != rows[1]["note_id"]
        assert {r["note_id"] for r in rows} == {n["note_id"] for n in listed(box, "notes")}
        assert "a lookup did not find it" in rows[0]["message"], rows[0]["message"]


@pytest.mark.parametrize("api", ["inbound", "public"])
def test_a_408_is_retried_without_a_lookup(tmp_path, api, no_backoff):  # noqa: F811
    """A 408 says the server gave up waiting for the request and did not act on it: the
    note is sent again at once (not looked up, not left unknown), and lands once."""
    writes = "notes" if api == "inbound" else "notes.bulk"
    with running_sandbox() as box:
        box.fail_next(2, endpoint=writes, status=408)
        report = import_notes(box, tmp_path, api=api, batch_size=1)
        assert report.counts == {"imported": 6}
        assert (
            report.send.retries == 2 and report.send.lookups == 1
        )  # (the "any notes?" read, no lookup)
        assert stats(box)["requests"][writes]["408"] == 2  # the path ran
        assert notes_in(box) == 6

    with running_sandbox() as box:  # (the notes of the run above would be found first)
        box.fail_next(100, endpoint=writes, status=408)  # every try: failed, not unknown
        (tmp_path / "results.csv").unlink()
        last = import_notes(box, tmp_path, api=api, batch_size=1, fresh=True)
        assert last.counts == {"failed": 6} and notes_in(box) == 0
        assert all("HTTP 408" in r["message"] for r in rows_of(tmp_path / "results.csv"))


# ---- notes an earlier import made -------------------------------------------------------


@pytest.mark.parametrize("api", ["inbound", "public"])
def test_notes_imported_again_are_found_not_made_twice(tmp_path, api):
    """A note is created every time it is sent: a second import of the same notes that
    the journal does not cover (--fresh, another results file) made every note again,
    and said nothing. Each note is now looked up before its first send where the
    organization held notes when the run began; a first import into an organization
    with none asks once."""
    with running_sandbox() as box:
        first = import_notes(box, tmp_path, api=api, batch_size=2)
        assert first.counts == {"imported": 6} and notes_in(box) == 6
        assert stats(box)["requests"]["notes_read"] == {"200": 1}  # "any notes?" No.
        ids = {r["note_id"] for r in rows_of(tmp_path / "results.csv")}

        again = import_notes(box, tmp_path, api=api, batch_size=2, fresh=True, force=True)
        assert again.counts == {"imported": 6} and notes_in(box) == 6
        rows = rows_of(tmp_path / "results.csv")
        assert {r["note_id"] for r in rows} == ids
        assert all(r["message"].startswith("notes: already in Octolane") for r in rows)
        assert stats(box)["requests"]["notes_read"] == {"200": 1 + 1 + 6}  # the path ran

        other = tmp_path / "other"
        other.mkdir()
        import_notes(box, other, api=api, batch_size=2)  # another results file
        assert notes_in(box) == 6
        assert {r["note_id"] for r in rows_of(other / "results.csv")} == ids


@pytest.mark.parametrize("api", ["inbound", "public"])
def test_a_note_check_that_fails_for_now_holds_the_notes_back(tmp_path, api):
    """Reads down (503s) when Octolane holds notes: no note is sent blind; the rows are
    not_sent, and the same command checks, then sends them. Where reads are refused for
    good (no read access), the notes go, and each row says they were not checked."""
    with running_sandbox() as box:
        (tmp_path / "seed").mkdir()
        import_notes(box, tmp_path / "seed", api=api)  # the organization holds notes
        box.fail_next(1000, endpoint="notes_read", status=503)
        (tmp_path / "leads.csv").write_text("Email,Status\nnew@co.com,fresh\n", encoding="utf-8")
        first = import_notes_from(box, tmp_path, api=api)
        assert first.counts == {"not_sent": 1} and notes_in(box) == 6
        [row] = rows_of(tmp_path / "results.csv")
        assert "the check for the same note in Octolane failed for now" in row["message"]

        box.reset_knobs()
        again = import_notes_from(box, tmp_path, api=api)
        assert again.counts == {"imported": 1} and notes_in(box) == 7

        box.fail_next(1000, endpoint="notes_read", status=403)
        (tmp_path / "leads.csv").write_text("Email,Status\nnext@co.com,later\n", encoding="utf-8")
        last = import_notes_from(box, tmp_path, api=api, fresh=True, force=True)
        assert last.counts == {"imported": 1} and notes_in(box) == 8
        [row] = rows_of(tmp_path / "results.csv")
        assert "sent without a check for the same note in Octolane (no lookup" in row["message"]


def import_notes_from(box: RunningSandbox, folder: Path, **options: Any):
    """:func:`import_notes` of the leads file already in ``folder``."""
    from importer.settings import Settings

    mapping = folder / "m.yaml"
    mapping.write_text(NOTE_MAPPING, encoding="utf-8")
    settings = Settings(
        api_key=box.api_key, base_url=box.base_url, rate_per_min=60_000,
        **{k: options.pop(k) for k in SETTINGS if k in options},
    )  # fmt: skip
    return run_import(
        folder / "leads.csv", mapping, results_path=folder / "results.csv", settings=settings,
        **options,
    )  # fmt: skip


def test_a_continued_import_remembers_that_the_organization_held_no_notes(tmp_path):
    """The first run asked once and found no note: its journal keeps the answer, so the
    run that continues it (after a stop) asks only whether Octolane holds notes beyond
    the ones this import made (a page a hundred) and, where it holds none, checks no
    note, where each check is a read of a quota of 300 a minute."""
    with running_sandbox() as box:
        box.fail_next(1, endpoint="notes", status=401)  # the run stops: no note is sent
        first = import_notes(box, tmp_path, concurrency=1)
        assert first.counts.get("imported", 0) < 6 and notes_in(box) < 6
        reads = stats(box)["requests"]["notes_read"]
        assert reads == {"200": 1}
        again = import_notes(box, tmp_path, concurrency=1)
        assert set(again.counts) <= {"imported", "already_imported"} and notes_in(box) == 6
        # one read ("any notes beyond this import's?" No), and no note's own check
        assert stats(box)["requests"]["notes_read"] == {"200": 2}


def test_one_lost_batch_answer_is_one_failure_not_one_a_record(tmp_path):
    """A bulk request's records share its error: one lost answer on a batch of 25 counted
    25 failures in a row and stopped the run as a sick server (10), leaving the rest of
    the file not sent. It counts once now, as on the Inbound API."""
    with running_sandbox() as box:
        box.fail_next(1, endpoint="notes.bulk", after_write=True, drop_connection=True)
        box.fail_next(1000, endpoint="notes_read", status=403)  # no lookup: unknown it stays
        data = tmp_path / "leads.csv"
        data.write_text(
            "Email,Status\n" + "".join(f"p{i}@co{i}.com,status {i}\n" for i in range(30)),
            encoding="utf-8",
        )
        report = import_notes_from(box, tmp_path, api="public", batch_size=12, concurrency=1)
        assert report.send.aborted is None, report.send.aborted
        assert report.counts == {"imported": 18, "unknown": 12}
        sent = stats(box)["requests"]["notes.bulk"]
        assert sum(sent.values()) == 3, sent  # the path ran: three batches, one answer lost


WIDE_MAPPING = """
account:
  domain: {column: Domain, transforms: [domain]}
contact:
  email: {column: Email, transforms: [email]}
note:
  title: {value: Imported}
  content: {template: "Status: {Status}"}
"""


@pytest.mark.parametrize("api", ["inbound", "public"])
def test_a_check_before_a_first_send_takes_only_a_note_linked_exactly_so(tmp_path, api):
    """Octolane holds a note of the same text linked to the company and two people: it
    is neither person's own note, and the check before their first send took it for the
    first row's (which was then never sent, and said its links matched)."""
    from importer.settings import Settings

    with running_sandbox() as box:
        key = {"X-API-Key": box.api_key}
        shared = {"note": {"title": "Imported", "content": "Status: called"},
                  "account_domains": ["acme.com"],
                  "contact_emails": ["ann@acme.com", "bob@acme.com"]}  # fmt: skip
        assert httpx.post(f"{box.url}/v1/inbound/notes", json=shared, headers=key).is_success
        data, mapping = tmp_path / "notes.csv", tmp_path / "m.yaml"
        data.write_text("Domain,Email,Status\nacme.com,ann@acme.com,called\n"
                        "acme.com,bob@acme.com,called\n", encoding="utf-8")  # fmt: skip
        mapping.write_text(WIDE_MAPPING, encoding="utf-8")
        settings = Settings(api_key=box.api_key, base_url=box.base_url, rate_per_min=60_000,
                            api=api, concurrency=1)  # fmt: skip
        report = run_import(data, mapping, results_path=tmp_path / "r.csv", settings=settings)
        assert report.counts == {"imported": 2} and notes_in(box) == 3
        assert report.send.lookups >= 3  # the path ran: "any notes?", then each note's check
        rows = rows_of(tmp_path / "r.csv")
        assert not any("already in Octolane" in r["message"] for r in rows)


def test_a_note_the_check_cannot_tell_waits_alone(tmp_path, monkeypatch):
    """More notes of one text than a lookup pages through: that note cannot be told, so
    it waits (not_sent, the way on said; sent with --retry-unknown). The check was
    switched off for the whole run instead, and every other note sent unchecked."""
    from importer.send import client

    monkeypatch.setattr(client, "_LOOKUP_PAGES", 1)  # more than 100 match: cannot tell
    with running_sandbox() as box:
        (tmp_path / "seed").mkdir()
        seed = tmp_path / "seed" / "leads.csv"
        seed.write_text("Email,Status\n" + "".join(f"p{i}@co{i}.com,vm\n" for i in range(101))
                        + "uma@unique-co.com,unique\n", encoding="utf-8")  # fmt: skip
        import_notes_from(box, tmp_path / "seed")
        assert notes_in(box) == 102
        (tmp_path / "leads.csv").write_text(
            "Email,Status\np100@co100.com,vm\numa@unique-co.com,unique\n", encoding="utf-8"
        )
        report = import_notes_from(box, tmp_path)
        assert notes_in(box) == 102
        rows = rows_of(tmp_path / "results.csv")
        assert [r["status"] for r in rows] == ["not_sent", "imported"]
        assert "cannot tell" in rows[0]["message"] and "--retry-unknown" in rows[0]["message"]
        assert "already in Octolane" in rows[1]["message"]  # still checked
        assert report.counts == {"not_sent": 1, "imported": 1}
        again = import_notes_from(box, tmp_path, retry_unknown=True)
        assert again.counts == {"imported": 1, "already_imported": 1} and notes_in(box) == 103


def test_a_continued_import_asks_again_when_notes_came_from_elsewhere(tmp_path):
    """The first run found no note and stopped before sending one; another import (its
    own results file) then landed the same notes. The continued run trusted the first
    run's "no notes" and made each note again. It now asks whether Octolane holds more
    notes than this import made, and checks each note where it does."""
    with running_sandbox() as box:
        box.fail_next(1, endpoint="notes", status=401)  # the run stops: no note is sent
        import_notes(box, tmp_path, concurrency=1)
        assert notes_in(box) == 0
        (tmp_path / "other").mkdir()
        import_notes(box, tmp_path / "other")
        assert notes_in(box) == 6
        again = import_notes(box, tmp_path, concurrency=1)
        assert notes_in(box) == 6 and again.counts == {"imported": 6}
        assert all("already in Octolane" in r["message"] for r in rows_of(tmp_path / "results.csv"))


def test_a_note_waiting_for_a_contacts_lost_answer_says_it_was_not_sent(tmp_path, no_backoff):  # noqa: F811
    """Every attempt at one contact loses its answer: its row is unknown, and its line
    says which request that is and that the row's note was not sent for it (the line's
    "Octolane may have created it" is the contact, not the note)."""
    with running_sandbox() as box:
        box.fail_next(1000, endpoint="contacts", after_write=True, drop_connection=True)
        report = import_notes(box, tmp_path, concurrency=1)
        notes = listed(box, "notes")
    assert report.counts == {"unknown": 6} and notes == []
    rows = rows_of(tmp_path / "results.csv")
    assert all(
        "(contact:" in r["message"]
        and r["message"].endswith("; the row's note not sent: it waits for that answer")
        for r in rows
    ), rows[0]["message"]
