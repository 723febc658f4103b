"""End to end through real HTTP: run_import and the CLI against the in-process sandbox.

Every test starts its own sandbox (about 40 ms), so knobs never leak between
tests, and checks what landed through the sandbox's ``/_sandbox/`` inspection
endpoints, not through the importer's own report alone. Nothing here sleeps:
the only waits are the server latency a test asks for and, in the tests of
retries, stamina's real backoff (or none, where ``no_backoff`` says so).
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import stamina
from click.testing import CliRunner

from importer.cli import cli, main  # noqa: F401  (main registers the sub-commands)
from importer.report.results import RESULT_COLUMNS
from importer.report.summary import ImportReport
from importer.run import run_import
from importer.sandbox import RunningSandbox, running_sandbox
from importer.settings import Settings

CONTACT_MAPPING = """
contact:
  email: {column: Email, transforms: [email]}
  first_name: First Name
  last_name: Last Name
account:
  domain: {column: Email, transforms: [domain], required: false}
"""
DEAL_MAPPING = """
contact:
  email: {{column: Email, transforms: [email]}}
  first_name: First Name
  last_name: Last Name
account:
  domain: {{column: Website, transforms: [domain]}}
opportunity:
  name: Deal
  deal_size: {{column: Amount, transforms: [money]}}
  stage_id:
    column: Stage
    transforms: [{{lookup: {{table: {{Lead: {lead}, Won: {won}, Gone: {bad}}}}}}}]
  owner_email: {{column: Owner, transforms: [email], required: false}}
note:
  title: {{value: Imported from the CRM}}
  content: {{template: "Lead status: {{Status}}"}}
"""
COMPANIES = ("acme.com", "globex.com", "initech.com", "umbrella.com", "hooli.com", "stark.com")
UNKNOWN_UUID = "11111111-1111-4111-8111-111111111111"
SECRET_KEY = "sk_live_e2e_DO-NOT-PRINT_7f3a9c51d2"


# ---- helpers ------------------------------------------------------------------------


@pytest.fixture
def sandbox() -> Iterator[RunningSandbox]:
    with running_sandbox() as box:
        yield box


@pytest.fixture
def no_backoff() -> Iterator[None]:
    """stamina's testing switch: retries keep their bounds but do not wait."""
    with stamina.set_testing(True, attempts=1000, cap=True):
        yield


def contacts_csv(path: Path, count: int, *, shared: bool = False, extra: str = "") -> Path:
    """``count`` people, one row each, each at a company of its own (``shared``: six
    companies between them); ``extra`` lines appended."""
    lines = ["Email,First Name,Last Name"]
    domains = [COMPANIES[i % 6] if shared else f"company{i}.com" for i in range(count)]
    lines += [f"p{i}@{domain},First{i},Last{i}" for i, domain in enumerate(domains)]
    path.write_text("\n".join(lines) + "\n" + extra, encoding="utf-8")
    return path


def deal_mapping(folder: Path, box: RunningSandbox) -> Path:
    """Contacts, deals and notes; stages Lead and Won are the sandbox's, Gone is not."""
    text = DEAL_MAPPING.format(lead=box.stage_ids[0], won=box.stage_ids[-1], bad=UNKNOWN_UUID)
    return write(folder / "m.yaml", text)


def outcome(row: dict[str, str]) -> tuple[str, str, str]:
    return row["status"], row["http_status"], row["error_fields"]


def write(path: Path, text: str) -> Path:
    path.write_text(text.lstrip(), encoding="utf-8")
    return path


def settings(box: RunningSandbox, key: str | None = None, **options: Any) -> Settings:
    """Fast by default: 8 in flight at a fixed 60,000/min, so no test waits on pacing."""
    options = {"concurrency": 8, "rate_per_min": 60_000, **options}
    return Settings(api_key=key or box.api_key, base_url=box.base_url, **options)


def inspect(box: RunningSandbox, kind: str, key: str | None = None) -> Any:
    response = httpx.get(
        f"{box.url}/_sandbox/{kind}", params={"limit": 10_000} if kind != "stats" else None,
        headers={"X-API-Key": key or box.api_key},
    )  # fmt: skip
    response.raise_for_status()
    data = response.json()["data"]
    return data if kind in ("stats", "org") else data[kind]


def statuses(stats: dict) -> Counter[int]:
    """Responses by HTTP status, over every endpoint."""
    counts: Counter[int] = Counter()
    for by_status in stats["requests"].values():
        counts.update({int(status): n for status, n in by_status.items()})
    return counts


def results_of(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def run(box: RunningSandbox, data: Path, mapping: Path, **options: Any) -> ImportReport:
    folder = data.parent
    options.setdefault("settings", settings(box))
    return run_import(
        data, mapping, results_path=folder / "results.csv",
        failures_path=folder / "failures.csv", **options,
    )  # fmt: skip


def invoke(*args: Any, env: dict[str, str] | None = None) -> Any:
    return CliRunner().invoke(cli, [str(a) for a in args], env=env, catch_exceptions=False)


def assert_accounted(report: ImportReport, box: RunningSandbox, key: str | None = None) -> None:
    """The importer and the sandbox agree on every request.

    Each planned request was sent once plus its retries, or is accounted for as
    never sent (blocked by a failed dependency, or the run stopped first); the
    sandbox answered exactly the requests the importer counts as sent.
    """
    send = report.send
    outcomes = list(send.outcomes.values())
    assert len(outcomes) == len(report.plan.requests)
    assert all(o.blocked_by or o.status == "not_sent" for o in outcomes if not o.attempts)
    sent_once = sum(1 for o in outcomes if o.attempts)
    assert send.requests_sent == sent_once + send.retries == sum(o.attempts for o in outcomes)
    stats = inspect(box, "stats", key)
    reads = sum(sum(v.values()) for k, v in stats["requests"].items() if k.endswith("_read"))
    assert stats["total"] - reads == send.requests_sent  # (the reads are lookups)
    assert reads <= send.lookups


# ---- a clean run ----------------------------------------------------------------------


def test_clean_import_lands_exactly_the_planned_records(sandbox, tmp_path):
    duplicate = "P0@ACME.COM,First0,Last0\n"  # row 2 again: planned once
    data = contacts_csv(
        tmp_path / "leads.csv", 24, shared=True, extra="sam@gmail.com,Sam,Green\n" + duplicate
    )
    mapping = write(tmp_path / "m.yaml", CONTACT_MAPPING)

    report = run(sandbox, data, mapping)

    assert report.exit_code == 0
    assert report.counts == {"imported": 25, "duplicate": 1}
    assert report.planned == {"contacts": 25}  # contact creates ensure the accounts
    contacts = {c["email"]: c for c in inspect(sandbox, "contacts")}
    expected = {f"p{i}@{COMPANIES[i % 6]}": (f"First{i}", f"Last{i}") for i in range(24)}
    expected["sam@gmail.com"] = ("Sam", "Green")
    assert {e: (c["first_name"], c["last_name"]) for e, c in contacts.items()} == expected
    assert {a["domain"] for a in inspect(sandbox, "accounts")} == set(COMPANIES)  # no gmail.com
    assert contacts["sam@gmail.com"]["account"] is None
    assert contacts["p7@globex.com"]["account"]["domain"] == "globex.com"
    assert inspect(sandbox, "opportunities") == [] and inspect(sandbox, "notes") == []
    stats = inspect(sandbox, "stats")
    assert statuses(stats) == {200: 25}
    assert_accounted(report, sandbox)

    rows = results_of(tmp_path / "results.csv")
    assert list(rows[0]) == list(RESULT_COLUMNS)
    assert [int(r["row"]) for r in rows] == list(range(2, 28))
    for row in rows[:-1]:
        assert row["status"] == "imported"
        assert row["people_id"] == contacts[row["email"]]["people_id"]
    assert rows[-1]["status"] == "duplicate" and rows[-1]["duplicate_of"] == "2"
    assert rows[-1]["people_id"] == rows[0]["people_id"]
    assert results_of(tmp_path / "failures.csv") == []


def test_deals_and_notes_land_merged_and_linked(tmp_path):
    # unknown_keys="reject": a body with any key the API does not know is a 400,
    # so the test also proves the importer sends only documented fields.
    with running_sandbox(unknown_keys="reject") as box:
        mapping = deal_mapping(tmp_path, box)
        data = write(tmp_path / "deals.csv", f"""
Email,First Name,Last Name,Website,Deal,Amount,Stage,Owner,Status
jo@acme.com,Jo,Smith,https://www.acme.com,Big deal,"1,000.50",Lead,{box.owner_email},hot
al@acme.com,Al,Jones,acme.com,Big deal,,Lead,,warm
bo@globex.com,Bo,Brown,globex.com,Other deal,200,Won,,cold
""")  # fmt: skip
        report = run(box, data, mapping, pipeline_id=box.pipeline_id)

        assert report.exit_code == 0, report.counts
        assert report.planned == {"contacts": 3, "opportunities": 2, "notes": 3}
        deals = {d["name"]: d for d in inspect(box, "opportunities")}
        assert set(deals) == {"Big deal", "Other deal"}
        big = deals["Big deal"]
        assert big["amount"] == 1000.5 and big["stage_name"] == "Lead"
        assert big["account_domain"] == "acme.com"
        assert big["primary_contact_email"] == "jo@acme.com"
        assert sorted(big["contact_emails"]) == ["al@acme.com", "jo@acme.com"]  # rows merged
        assert big["owner_email"] == box.owner_email and big["pipeline_id"] == box.pipeline_id
        other = deals["Other deal"]
        assert other["amount"] == 200 and other["stage_name"] == "Closed won"
        assert other["contact_emails"] == ["bo@globex.com"]
        people = {c["email"]: c["people_id"] for c in inspect(box, "contacts")}
        companies = {a["domain"]: a["company_id"] for a in inspect(box, "accounts")}
        assert set(people) == {"jo@acme.com", "al@acme.com", "bo@globex.com"}
        assert set(companies) == {"acme.com", "globex.com"}
        notes = {n["content"]: n for n in inspect(box, "notes")}
        assert set(notes) == {"Lead status: hot", "Lead status: warm", "Lead status: cold"}
        for note in notes.values():  # every link resolves to the record just imported
            ids = {(link["kind"], link["key"]): link["id"] for link in note["links"]}
            email, domain = note["contact_emails"][0], note["account_domains"][0]
            assert ids == {("contact", email): people[email], ("account", domain): companies[domain]}  # fmt: skip
        assert statuses(inspect(box, "stats")) == {200: 9}  # 8 creates, and 1 read:
        assert inspect(box, "stats")["requests"]["notes_read"] == {"200": 1}  # any notes?

        rows = {r["email"]: r for r in results_of(tmp_path / "results.csv")}
        assert rows["jo@acme.com"]["opportunity_id"] == big["opportunity_id"]
        assert rows["al@acme.com"]["opportunity_id"] == big["opportunity_id"]
        assert rows["bo@globex.com"]["opportunity_id"] == other["opportunity_id"]
        assert rows["al@acme.com"]["note_id"] == notes["Lead status: warm"]["note_id"]
        assert rows["bo@globex.com"]["people_id"] == people["bo@globex.com"]


# ---- the server pushes back ----------------------------------------------------------


@pytest.mark.parametrize("rate_per_min", [None, 3000], ids=["adaptive", "fixed-too-fast"])
def test_rate_limited_import_completes_without_losing_or_doubling_a_row(tmp_path, rate_per_min):
    data = contacts_csv(tmp_path / "leads.csv", 40)
    mapping = write(tmp_path / "m.yaml", CONTACT_MAPPING)
    with running_sandbox(rate_limit_per_min=600, rate_limit_burst=5) as box:
        report = run(box, data, mapping, settings=settings(box, rate_per_min=rate_per_min))

        stats = inspect(box, "stats")
        assert statuses(stats)[429] >= 1  # the limit was hit...
        assert statuses(stats)[429] == report.send.rate_limited
        assert stats["rejected"] == {"rate_limited": report.send.rate_limited}
        assert report.exit_code == 0 and report.counts == {"imported": 40}  # ...and nothing lost
        assert stats["records"]["contacts"] == 40  # nothing created twice
        assert sorted(c["email"] for c in inspect(box, "contacts")) == sorted(
            r["email"] for r in results_of(tmp_path / "results.csv")
        )
        assert_accounted(report, box)


def test_seeded_server_errors_end_with_every_row_imported_or_reported(tmp_path):
    data = contacts_csv(tmp_path / "leads.csv", 40)
    mapping = write(tmp_path / "m.yaml", CONTACT_MAPPING)
    with running_sandbox(failure_rate=0.2, seed=7) as box:
        report = run(box, data, mapping)  # stamina's real backoff, 0.5 s and up

        stats = inspect(box, "stats")
        assert statuses(stats)[500] >= 4  # about 20% of ~50 requests
        assert statuses(stats)[500] == report.send.server_errors
        rows = results_of(tmp_path / "results.csv")
        assert len(rows) == 40
        by_status = Counter(r["status"] for r in rows)
        assert set(by_status) <= {"imported", "failed"}
        assert report.exit_code == (0 if by_status == {"imported": 40} else 1)
        imported = {r["email"] for r in rows if r["status"] == "imported"}
        # The injected 500s come before the write: what landed is exactly what was imported.
        assert {c["email"] for c in inspect(box, "contacts")} == imported
        failed = [r for r in rows if r["status"] == "failed"]
        assert [r["Email"] for r in results_of(tmp_path / "failures.csv")] == [
            r["email"] for r in failed
        ]
        assert_accounted(report, box)


def test_bad_key_aborts_after_exactly_one_request(sandbox, tmp_path):
    data = contacts_csv(tmp_path / "leads.csv", 12)
    mapping = write(tmp_path / "m.yaml", CONTACT_MAPPING)
    out, failures = tmp_path / "r.csv", tmp_path / "f.csv"
    wrong = "sk_live_wrong_key_0123456789"

    result = invoke(
        data, "-m", mapping, "--base-url", sandbox.base_url, "--out", out, "--failures", failures,
        "-q", env={"OCTOLANE_API_KEY": wrong},
    )  # fmt: skip

    assert result.exit_code == 3, result.output
    assert inspect(sandbox, "stats")["unauthenticated"]["total"] == 1
    assert inspect(sandbox, "stats")["records"]["contacts"] == 0
    assert "ABORTED: the API key was refused (HTTP 401): check --api-key / OCTOLANE_API_KEY" in (
        result.stdout
    )
    rows = results_of(out)
    assert len(rows) == 12
    # The one request sent is refused (failed, HTTP 401); the rest were never sent.
    assert [(r["status"], r["http_status"]) for r in rows[:1]] == [("failed", "401")]
    assert {r["status"] for r in rows[1:]} == {"not_sent"}
    # Nothing is the rows' fault: none is a failure to fix; the same command continues.
    assert results_of(failures) == []
    assert "to continue (11 rows not sent; 1 rows that failed for no fault of theirs)" in (
        result.stdout
    )
    assert wrong not in result.output

    # With the right key (another target: the journal recorded nothing that reached
    # Octolane, so it is begun anew) every row goes in.
    again = invoke(
        data, "-m", mapping, "--base-url", sandbox.base_url, "--out", out, "--failures", failures,
        "-q", env={"OCTOLANE_API_KEY": sandbox.api_key},
    )  # fmt: skip
    assert again.exit_code == 0, again.output
    assert {r["status"] for r in results_of(out)} == {"imported"}
    assert inspect(sandbox, "stats")["records"]["contacts"] == 12


def test_a_rejected_row_fails_alone_and_its_dependants_name_it(tmp_path):
    with running_sandbox(unknown_owner_status=400) as box:
        mapping = deal_mapping(tmp_path, box)
        data = write(tmp_path / "deals.csv", """
Email,First Name,Last Name,Website,Deal,Amount,Stage,Owner,Status
jo@acme.com,Jo,Smith,acme.com,Big deal,1000,Lead,,hot
al@acme.com,Al,Jones,acme.com,Big deal,1000,Lead,,warm
bo@globex.com,Bo,Brown,globex.com,Other,200,Won,stranger@globex.com,cold
cy@initech.com,Cy,Black,initech.com,Stale,5,Gone,,dormant
dee@umbrella.com,Dee,Ross,umbrella.com,Good,7,Won,,new
""")  # fmt: skip
        # The first request goes out alone and is the plan's first contact: jo's.
        box.fail_next(1, status=400, endpoint="contacts")
        report = run(box, data, mapping, pipeline_id=box.pipeline_id)

        assert report.exit_code == 1
        assert report.counts == {"failed": 4, "imported": 1}
        rows = {r["email"]: r for r in results_of(tmp_path / "results.csv")}
        # bo: an owner who is not a member → 400 on the deal; the contact landed, and the
        # note waits for its row (sent now, it would be sent twice when the row is re-run).
        bo = rows["bo@globex.com"]
        assert outcome(bo) == ("failed", "400", "related_objects.owner_email")
        assert "stranger@globex.com is not a member of this organization" in bo["message"]
        assert bo["people_id"] and not bo["opportunity_id"] and not bo["note_id"]
        # cy: a stage_id the pipeline does not have → 404 on the deal.
        cy = rows["cy@initech.com"]
        assert outcome(cy) == ("failed", "404", "opportunity.stage_id")
        assert cy["people_id"] and not cy["opportunity_id"] and not cy["note_id"]
        assert rows["dee@umbrella.com"]["status"] == "imported"
        # jo's contact got the 400: the deal it shares with al was not sent, nor their notes.
        assert outcome(rows["jo@acme.com"]) == ("failed", "400", "")
        assert rows["al@acme.com"]["status"] == "failed" and rows["al@acme.com"]["people_id"]
        blocked = {o.rows: o for o in report.send.outcomes.values() if o.blocked_by}
        assert {(o.endpoint, rows) for rows, o in blocked.items()} == {
            ("opportunities", (2, 3)), ("notes", (2,)), ("notes", (3,)),
            ("notes", (4,)), ("notes", (5,)),
        }  # fmt: skip
        jo_failed = "contacts request contact:jo@acme.com failed (HTTP 400: Bad Request)"
        assert blocked[2, 3].message == f"not sent: {jo_failed}"
        assert blocked[2,].message == f"not sent: {jo_failed}"
        assert blocked[4,].blocked_by.endswith(":globex.com:other")  # (the name as compared)
        assert blocked[4,].message.startswith(
            f"not sent: opportunities request {blocked[4,].blocked_by} failed (HTTP 400: "
        )
        assert {d["name"] for d in inspect(box, "opportunities")} == {"Good"}
        assert [n["content"] for n in inspect(box, "notes")] == ["Lead status: new"]
        assert {c["email"] for c in inspect(box, "contacts")} == set(rows) - {"jo@acme.com"}
        assert_accounted(report, box)
        assert [r["Email"] for r in results_of(tmp_path / "failures.csv")] == [
            "jo@acme.com", "al@acme.com", "bo@globex.com", "cy@initech.com"
        ]  # fmt: skip


@pytest.fixture
def jo_refused(tmp_path) -> Iterator[tuple[RunningSandbox, Path, Path]]:
    """jo and al share a deal at acme.com; jo's contact create gets a 400."""
    with running_sandbox() as box:
        mapping = deal_mapping(tmp_path, box)
        data = write(tmp_path / "deals.csv", """
Email,First Name,Last Name,Website,Deal,Amount,Stage,Owner,Status
jo@acme.com,Jo,Smith,acme.com,Big deal,1000,Lead,,hot
al@acme.com,Al,Jones,acme.com,Big deal,1000,Lead,,warm
""")  # fmt: skip
        box.fail_next(1, status=400, endpoint="contacts")
        run(box, data, mapping, pipeline_id=box.pipeline_id)
        yield box, mapping, tmp_path


def test_a_row_failed_by_another_rows_request_names_that_request(jo_refused):
    # al's own contact landed; the deal it shares with jo was blocked by jo's contact.
    _, _, folder = jo_refused
    _, al = results_of(folder / "results.csv")
    assert outcome(al) == ("failed", "", "")
    assert al["message"] == (
        "not sent: contacts request contact:jo@acme.com failed (HTTP 400: Bad Request)"
    )
    assert al["people_id"] and not al["opportunity_id"] and not al["note_id"]


def test_running_the_failures_file_again_completes_the_rows_without_doubles(jo_refused):
    box, mapping, folder = jo_refused
    again = folder / "again" / "fixed.csv"  # the re-run writes its results next to it
    again.parent.mkdir()
    (folder / "failures.csv").rename(again)

    report = run(box, again, mapping, pipeline_id=box.pipeline_id)

    assert report.exit_code == 0 and report.counts == {"imported": 2}
    (deal,) = inspect(box, "opportunities")
    assert sorted(deal["contact_emails"]) == ["al@acme.com", "jo@acme.com"]
    assert sorted(c["email"] for c in inspect(box, "contacts")) == ["al@acme.com", "jo@acme.com"]
    # Notes are never deduplicated by the API: each must have been sent exactly once.
    assert sorted(n["content"] for n in inspect(box, "notes")) == [
        "Lead status: hot", "Lead status: warm"
    ]  # fmt: skip


def test_rows_sharing_a_domain_are_not_blamed_for_another_rows_contact(sandbox, tmp_path):
    # Each contact create ensures its own account: a row is not charged with the
    # refusal of the first contact at its domain.
    data = contacts_csv(tmp_path / "leads.csv", 12, shared=True)
    mapping = write(tmp_path / "m.yaml", CONTACT_MAPPING)
    run(sandbox, data, mapping, settings=settings(sandbox, "sk_live_wrong_key_0123456789"))
    rows = results_of(tmp_path / "results.csv")
    assert rows[0]["status"] == "failed"
    # p6@acme.com (row 8) was never sent: its account is ensured by its own contact create.
    assert {r["status"] for r in rows[1:]} == {"not_sent"}


def test_unknown_pipeline_is_a_404_on_each_deal(tmp_path):
    with running_sandbox() as box:
        mapping = deal_mapping(tmp_path, box)
        data = write(tmp_path / "deals.csv", """
Email,First Name,Last Name,Website,Deal,Amount,Stage,Owner,Status
jo@acme.com,Jo,Smith,acme.com,Big deal,1000,,,hot
bo@globex.com,Bo,Brown,globex.com,Other,200,,,cold
""")  # fmt: skip
        report = run(box, data, mapping, pipeline_id=UNKNOWN_UUID)

        assert report.exit_code == 1 and report.counts == {"failed": 2}
        for row in results_of(tmp_path / "results.csv"):
            assert outcome(row) == ("failed", "404", "pipeline_id")
            assert "Pipeline not found" in row["message"]
            assert row["people_id"] and not row["opportunity_id"] and not row["note_id"]
        assert inspect(box, "opportunities") == [] and inspect(box, "notes") == []
        assert inspect(box, "stats")["rejected"] == {"not_found": 2}


def test_timeouts_are_retried_then_the_rows_fail(tmp_path, no_backoff):
    data = contacts_csv(tmp_path / "leads.csv", 3)
    mapping = write(tmp_path / "m.yaml", CONTACT_MAPPING)
    with running_sandbox(latency_ms=2000) as box:
        report = run(box, data, mapping, settings=settings(box, timeout_s=0.25))

        # Each try reached the server (which wrote the contact after the client gave up):
        # the rows say the outcome is unknown, not failed, and are no failures to fix.
        assert report.exit_code == 1 and report.counts == {"unknown": 3}
        assert report.send.transport_errors == 15 and report.send.retries == 12  # 5 tries each
        for row in results_of(tmp_path / "results.csv"):
            assert row["http_status"] == ""
            assert row["message"].startswith(
                f"no answer known: no answer from {box.base_url} within 0.25 s (read timeout)"
                " (after 5 attempts); Octolane may have created it; running the same command"
                " again sends it again"
            )
        assert not (tmp_path / "failures.csv").exists() or not results_of(tmp_path / "failures.csv")


def test_a_sick_server_aborts_the_run_and_leaves_the_rest_not_sent(tmp_path, no_backoff):
    data = contacts_csv(tmp_path / "leads.csv", 30)
    mapping = write(tmp_path / "m.yaml", CONTACT_MAPPING)
    with running_sandbox(failure_rate=1.0) as box:
        report = run(box, data, mapping, settings=settings(box, concurrency=2))

        assert report.exit_code == 3
        assert report.aborted is not None
        assert report.aborted.startswith("the server failed 10 requests in a row")
        rows = results_of(tmp_path / "results.csv")
        assert len(rows) == 30
        by_status = Counter(r["status"] for r in rows)
        assert set(by_status) == {"failed", "not_sent"} and by_status["failed"] >= 10
        # A sick server is no row's fault: nothing to fix, the same command sends them.
        assert results_of(tmp_path / "failures.csv") == []
        assert report.rows_to_resend == by_status["failed"]
        assert inspect(box, "stats")["records"]["contacts"] == 0
        assert_accounted(report, box)

        box.configure(failure_rate=0.0)
        again = run(box, data, mapping, settings=settings(box, concurrency=2))
        assert again.counts == {"imported": 30} and again.run_number == 2
        assert inspect(box, "stats")["records"]["contacts"] == 30


# ---- the CLI --------------------------------------------------------------------------


def test_json_summary_of_a_real_run(sandbox, tmp_path):
    data = contacts_csv(tmp_path / "leads.csv", 12, extra="not-an-email,Bad,Row\n")
    mapping = write(tmp_path / "m.yaml", CONTACT_MAPPING)
    out = tmp_path / "r.csv"
    result = invoke(
        data, "-m", mapping, "--api-key", sandbox.api_key, "--base-url", sandbox.base_url,
        "--rate", 60_000, "--json", "--out", out, "--failures", tmp_path / "f.csv",
    )  # fmt: skip

    assert result.exit_code == 1, result.output
    summary = json.loads(result.stdout)
    assert summary["counts"] == {"imported": 12, "invalid": 1}
    assert summary["exit_code"] == 1 and summary["aborted"] is None
    assert summary["planned_requests"] == {"contacts": 12}
    sending = summary["sending"]
    assert sending["requests_sent"] == 12 == inspect(sandbox, "stats")["total"]
    assert (sending["retries"], sending["rate_limited"]) == (0, 0)
    assert summary["results_path"] == str(out) and summary["sandbox_records"] is None
    assert inspect(sandbox, "stats")["records"]["contacts"] == 12


def test_sandbox_flag_imports_into_a_fresh_sandbox_and_says_what_landed(tmp_path, monkeypatch):
    monkeypatch.delenv("OCTOLANE_API_KEY", raising=False)
    data = contacts_csv(tmp_path / "leads.csv", 6)
    mapping = write(tmp_path / "m.yaml", CONTACT_MAPPING)
    result = invoke(
        data, "-m", mapping, "--sandbox", "--rate", 60_000, "-q",
        "--out", tmp_path / "r.csv", "--failures", tmp_path / "f.csv",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "in the sandbox now: 6 accounts, 6 contacts, 0 opportunities, 0 notes" in result.stdout
    assert {r["status"] for r in results_of(tmp_path / "r.csv")} == {"imported"}


def test_the_api_key_appears_nowhere(sandbox, tmp_path, no_backoff):
    org = sandbox.add_org("Secretive", api_key=SECRET_KEY)
    data = contacts_csv(tmp_path / "leads.csv", 10, extra="not-an-email,Bad,Row\n")
    mapping = write(tmp_path / "m.yaml", CONTACT_MAPPING)
    out, failures = tmp_path / "r.csv", tmp_path / "f.csv"
    sandbox.fail_next(1, status=400, endpoint="contacts")  # a failed row, with its message
    sandbox.fail_next(2, status=503)  # retries, with their messages

    result = invoke(
        data, "-m", mapping, "--api-key", SECRET_KEY, "--base-url", sandbox.base_url,
        "--rate", 60_000, "--out", out, "--failures", failures,
    )  # fmt: skip

    assert result.exit_code == 1, result.output
    assert inspect(sandbox, "stats", org.api_key)["total"] == 12  # 10 rows + 2 retried 503s
    for text in (result.stdout, result.stderr, out.read_text("utf-8"), failures.read_text("utf-8")):
        assert SECRET_KEY not in text
        assert SECRET_KEY[-10:] not in text
    assert "failed" in result.stdout


def test_retries_print_no_log_noise_on_stderr(sandbox, tmp_path):
    # stamina logs each retry at WARNING; unconfigured logging would print it on stderr.
    data = contacts_csv(tmp_path / "leads.csv", 3)
    mapping = write(tmp_path / "m.yaml", CONTACT_MAPPING)
    sandbox.fail_next(1, status=503)
    env = {k: v for k, v in os.environ.items() if not k.startswith("OCTOLANE_")}
    env["OCTOLANE_API_KEY"] = sandbox.api_key
    command = [
        sys.executable, "-m", "importer", str(data), "-m", str(mapping), "-q",
        "--base-url", sandbox.base_url, "--rate", "60000",
    ]  # fmt: skip
    done = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "sent: 4 HTTP requests, 1 retries" in done.stdout
    assert done.stderr == ""


def test_a_row_gets_only_its_own_records_ids(tmp_path):
    # Row 3 has only a company, ensured by row 2's contact create; row 5 has only a
    # person, ensured by row 4's deal create. Neither create's id is theirs: the
    # person's id is not the company's, nor the deal's the person's.
    data = write(
        tmp_path / "in.csv",
        """
Email,Domain,Deal
jo@acme.com,acme.com,
,acme.com,
ann@globex.com,globex.com,Renewal
ann@globex.com,globex.com,
""",
    )
    mapping = write(
        tmp_path / "m.yaml",
        """
version: 1
contact:
  email: {column: Email, transforms: [email], required: false}
account:
  domain: {column: Domain, transforms: [domain], required: false}
opportunity:
  name: {column: Deal, transforms: [trim]}
""",
    )
    with running_sandbox() as box:
        report = run(box, data, mapping, pipeline_id=box.pipeline_id)
        people = {p["email"]: p["people_id"] for p in inspect(box, "contacts")}
        deals = {d["name"]: d["opportunity_id"] for d in inspect(box, "opportunities")}
    rows = {r["row"]: r for r in results_of(tmp_path / "results.csv")}
    assert report.rows_read == 4
    # the covering requests ran: row 3's account through jo's create, row 5's contact
    # through the deal's (ann has no name, so no create of her own)
    assert report.planned == {"contacts": 1, "opportunities": 1}, report.planned
    assert rows["2"]["people_id"] == people["jo@acme.com"]
    assert rows["3"]["status"] == "imported" and rows["3"]["records"] == "account:acme.com"
    assert rows["3"]["people_id"] == "" and rows["3"]["company_id"] == ""
    assert rows["4"]["opportunity_id"] == deals["Renewal"]
    assert rows["5"]["records"] == "account:globex.com contact:ann@globex.com"
    assert rows["5"]["opportunity_id"] == ""


def test_a_value_a_later_row_fills_in_is_said_on_that_row(tmp_path):
    # Row 2 leaves the last name and the amount empty; row 3 fills them into row 2's
    # records: "Jo Li" and the deal's 500 are sent, and row 3 says so (as it says that
    # its first name is not sent).
    data = write(tmp_path / "in.csv", "Email,First,Last,Deal,Amount\n"
                 "jo@acme.com,Jo,,Renewal,\njo@acme.com,Joe,Li,Renewal,500\n")  # fmt: skip
    mapping = write(
        tmp_path / "m.yaml",
        """
contact:
  email: {column: Email}
  first_name: First
  last_name: Last
opportunity:
  name: Deal
  deal_size: {column: Amount, transforms: [money]}
""",
    )
    with running_sandbox() as box:
        report = run(box, data, mapping, pipeline_id=box.pipeline_id)
        (person,) = inspect(box, "contacts")
        (deal,) = inspect(box, "opportunities")
    assert report.counts == {"imported": 1, "duplicate": 1}
    assert (person["first_name"], person["last_name"], deal["amount"]) == ("Jo", "Li", 500)
    said = results_of(tmp_path / "results.csv")[1]["warnings"].split(" | ")
    assert said == [
        "contact.first_name 'Joe' differs from row 2's 'Jo'; row 2's value is sent",
        "contact.last_name 'Li' fills in row 2's empty value: it is sent with row 2's record",
        "opportunity.deal_size 500.0 fills in row 2's empty value: it is sent with row 2's record",
    ]
