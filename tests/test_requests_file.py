"""``--requests FILE.jsonl``: every planned request, in send order, the same in a dry run and a real one."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from test_import_e2e import deal_mapping, inspect, invoke, settings, write

from importer.api.endpoints import ENDPOINTS
from importer.run import run_import
from importer.sandbox import running_sandbox

DEALS = """
Email,First Name,Last Name,Website,Deal,Amount,Stage,Owner,Status
jo@acme.com,Jo,Smith,https://www.acme.com,Big deal,"1,000.50",Lead,,hot
al@acme.com,Al,Jones,acme.com,Big deal,,Lead,,warm
bo@globex.com,Bo,Brown,globex.com,Other deal,200,Won,,cold
not-an-email,Cy,Gray,initech.com,Third deal,5,Lead,,cold
"""


def lines_of(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_dry_run_and_real_run_write_the_same_requests_and_the_sandbox_gets_them(tmp_path):
    with running_sandbox(unknown_keys="reject") as box:
        mapping = deal_mapping(tmp_path, box)
        data = write(tmp_path / "deals.csv", DEALS)
        common = {"pipeline_id": box.pipeline_id, "settings": settings(box)}
        dry = run_import(
            data, mapping, dry_run=True, requests_path=tmp_path / "dry.jsonl", **common
        )
        real = run_import(data, mapping, requests_path=tmp_path / "real.jsonl", **common)
        landed = {d["name"]: d for d in inspect(box, "opportunities")}

    assert (tmp_path / "dry.jsonl").read_bytes() == (tmp_path / "real.jsonl").read_bytes()
    requests = lines_of(tmp_path / "dry.jsonl")
    assert len(requests) == sum(dry.planned.values()) == sum(real.planned.values()) == 9
    # send order: accounts, then contacts, then deals, then notes
    order = [ENDPOINTS.index(r["endpoint"]) for r in requests]
    assert order == sorted(order)
    assert [r["key"] for r in requests] == [r.key for r in real.plan.requests]
    # every row is named by a request: the partial row (5, its e-mail is not one) by its
    # deal's, which also creates its company; its note waits for the fixed row
    rows = {row for r in requests for row in r["rows"]}
    assert rows == {2, 3, 4, 5} and dry.counts["partial"] == real.counts["partial"] == 1
    assert [r["rows"] for r in requests if r["endpoint"] == "notes"] == [[2], [3], [4]]
    deals = {
        r["body"]["opportunity"]["name"]: r for r in requests if r["endpoint"] == "opportunities"
    }
    assert deals["Big deal"]["rows"] == [2, 3]
    assert deals["Big deal"]["body"]["opportunity"]["deal_size"] == 1000.5
    assert deals["Big deal"]["body"]["related_objects"]["account_domain"] == "acme.com"
    # what the file said would be sent is what landed
    for name, request in deals.items():
        assert landed[name]["amount"] == request["body"]["opportunity"].get("deal_size")
        assert landed[name]["stage_id"] == request["body"]["opportunity"]["stage_id"]
    assert real.counts["imported"] == 3
    assert landed["Third deal"]["account_domain"] == "initech.com"
    assert landed["Third deal"]["contact_emails"] in ([], None)


def test_cli_writes_the_requests_file_on_a_dry_run(tmp_path):
    data = write(tmp_path / "leads.csv", "Email,First Name\njo@acme.com,Jo\nann@globex.com,Ann\n")
    mapping = write(tmp_path / "m.yaml", "contact:\n  email: Email\n  first_name: First Name\n")
    out = tmp_path / "out" / "requests.jsonl"
    result = invoke(data, "--mapping", mapping, "--dry-run", "--requests", out, "-q",
                    "--out", tmp_path / "r.csv", "--failures", tmp_path / "f.csv")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert lines_of(out) == [
        {"key": "contact:jo@acme.com", "endpoint": "contacts", "rows": [2], "depends_on": [],
         "path": "/v1/inbound/contacts", "body": {"email": "jo@acme.com", "first_name": "Jo"}},
        {"key": "contact:ann@globex.com", "endpoint": "contacts", "rows": [3], "depends_on": [],
         "path": "/v1/inbound/contacts",
         "body": {"email": "ann@globex.com", "first_name": "Ann"}},
    ]  # fmt: skip
    assert not out.with_name("requests.jsonl.partial").exists()


WIRE = """
contact:
  email: Email
  job_title: Title
account:
  domain: {column: Website, transforms: [domain]}
  name: Company
opportunity:
  name: Deal
  close_date: {column: Close, transforms: [date]}
  next_step: Next
"""


def test_the_requests_file_holds_the_body_as_each_api_gets_it(tmp_path):
    """Inbound: without the fields only the public API takes (a company's name). Public:
    the bulk route's item, in its names and units (next_steps, dates in seconds); what
    lands is what the file said."""
    data = write(tmp_path / "deals.csv", "Email,Title,Website,Company,Deal,Close,Next\n"
                 "jo@acme.com,CTO,acme.com,Acme Inc,Renewal,2025-03-01,Call Jo\n")  # fmt: skip
    mapping = write(tmp_path / "m.yaml", WIRE)
    with running_sandbox() as box:
        said = {}
        for api in ("public", "inbound"):  # (the account is named by the first)
            report = run_import(
                data, mapping, pipeline_id=box.pipeline_id, settings=settings(box, api=api),
                requests_path=tmp_path / f"{api}.jsonl", results_path=tmp_path / f"{api}.csv",
            )  # fmt: skip
            assert report.counts == {"imported": 1}, api
            said[api] = {r["endpoint"]: r for r in lines_of(tmp_path / f"{api}.jsonl")}
        [deal] = inspect(box, "opportunities")
        [account] = inspect(box, "accounts")

    inbound, public = said["inbound"], said["public"]
    assert inbound["contacts"]["path"] == "/v1/inbound/contacts"
    assert inbound["contacts"]["body"] == {"email": "jo@acme.com"}  # no title: not sent there
    assert "accounts" not in inbound  # the deal's domain makes it; its name goes nowhere
    assert public["contacts"]["body"] == {"email": "jo@acme.com", "job_title": "CTO"}
    assert inbound["opportunities"]["body"]["opportunity"]["next_step"] == "Call Jo"
    assert public["accounts"]["path"] == "/v1/accounts/bulk"
    assert public["accounts"]["body"] == {"domain": "acme.com", "name": "Acme Inc"}
    sent = public["opportunities"]["body"]["opportunity"]
    assert public["opportunities"]["path"] == "/v1/opportunities/bulk"
    assert sent["next_steps"] == "Call Jo" and "next_step" not in sent
    ms = inbound["opportunities"]["body"]["opportunity"]["close_date"]
    assert sent["close_date"] * 1000 == ms == deal["close_date"]
    assert account["name"] == "Acme Inc"


PEOPLE = """
contact:
  email: {column: Email, transforms: [email]}
account:
  domain: {column: Website, transforms: [domain]}
opportunity:
  name: Deal
  additional_contact_emails: {column: Others, transforms: [{email: {all: true}}]}
"""


def test_the_summary_counts_the_people_the_deals_make(tmp_path):
    """A deal's other contacts become people in Octolane though no contact record names
    them: the summary says how many, and the sandbox holds as many as it said."""
    from importer.report.render import render_summary

    data = write(tmp_path / "deals.csv", "Email,Website,Deal,Others\n"
                 "jo@acme.com,acme.com,Renewal,al@acme.com;bo@acme.com\n"
                 "al@acme.com,acme.com,Pilot,jo@acme.com\n")  # fmt: skip
    mapping = write(tmp_path / "m.yaml", PEOPLE)
    with running_sandbox() as box:
        report = run_import(
            data, mapping, pipeline_id=box.pipeline_id, settings=settings(box),
            results_path=tmp_path / "r.csv",
        )  # fmt: skip
        landed = inspect(box, "contacts")
    assert report.distinct["contacts"] == 2 and report.deal_contacts == 1
    assert len(landed) == report.distinct["contacts"] + report.deal_contacts == 3
    assert "and 1 more contacts Octolane makes for the deals' people" in render_summary(report)


def test_deals_whose_names_differ_only_in_case_are_one_deal_and_said(tmp_path):
    """Octolane merges deals by company, pipeline and name without case: two rows named
    "renewal" and "Renewal" at acme.com were planned as two deals, and the second landed
    on the first with its amount lost unsaid. They are one deal, and the row says so."""
    mapping = write(tmp_path / "m.yaml", "account:\n  domain: {column: Website, transforms: "
                    "[domain]}\nopportunity:\n  name: Deal\n  deal_size: {column: Amount, "
                    "transforms: [money]}\n")  # fmt: skip
    data = write(tmp_path / "d.csv", "Website,Deal,Amount\nacme.com,renewal,100\n"
                 "acme.com,Renewal,200\nacme.com,Other: phase 2,5\n")  # fmt: skip
    with running_sandbox() as box:
        dry = run_import(data, mapping, dry_run=True, pipeline_id=box.pipeline_id,
                         results_path=tmp_path / "dry.csv")  # fmt: skip
        real = run_import(data, mapping, pipeline_id=box.pipeline_id, settings=settings(box),
                          results_path=tmp_path / "real.csv")  # fmt: skip
        deals = sorted((d["name"], d["amount"]) for d in inspect(box, "opportunities"))
    assert dry.distinct["opportunities"] == real.distinct["opportunities"] == 2
    assert deals == [("Other: phase 2", 5), ("renewal", 100)]
    with (tmp_path / "real.csv").open(encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    assert rows[1]["duplicate_of"] == "2"
    assert "opportunity.deal_size 200.0 differs from row 2's 100.0" in rows[1]["warnings"]
    assert rows[0]["opportunity_id"] == rows[1]["opportunity_id"] != rows[2]["opportunity_id"]
