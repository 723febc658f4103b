"""Each record of a row stands on its own (issue 10, point 2).

A row whose person is rejected still creates its company (and deal): the row is
``partial``, says what went and what was left out, sits in the failures file, and
running the fixed failures file completes it without creating anything twice.
Everything here goes through real HTTP to the sandbox, and checks what it stored.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from test_import_e2e import inspect, invoke, results_of, run, settings, write

from importer import run_import
from importer.sandbox import running_sandbox

REAL = Path(__file__).resolve().parents[2] / "shared" / "real-exports"

PEOPLE = """
contact:
  email: {column: Email, transforms: [email]}
  first_name: First Name
account:
  domain: {column: Website, transforms: [domain], required: false}
"""

DEALS = """
contact:
  email: {column: Email, transforms: [email]}
account:
  domain: {column: Website, transforms: [domain]}
opportunity:
  name: Deal
  deal_size: {column: Amount, transforms: [money]}
note:
  title: {value: Imported}
  content: Comment
"""


def rows_of(path: Path) -> dict[str, dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return {row.get("import_row") or row["row"]: row for row in csv.DictReader(handle)}


def test_a_rejected_person_leaves_the_company_and_the_fixed_row_completes(tmp_path):
    data = write(
        tmp_path / "people.csv",
        """
Email,First Name,Website
jo@acme.com,Jo,acme.com
,Al,https://www.globex.com/about
bad-address,Bo,initech.co.uk
,Cy,
""",
    )
    mapping = write(tmp_path / "m.yaml", PEOPLE)
    with running_sandbox() as box:
        report = run(box, data, mapping)
        accounts = {a["domain"]: a for a in inspect(box, "accounts")}
        contacts = {c["email"] for c in inspect(box, "contacts")}
        rows = rows_of(tmp_path / "results.csv")
        failures = rows_of(tmp_path / "failures.csv")

        assert report.counts == {"imported": 1, "partial": 2, "invalid": 1}
        assert report.exit_code == 1  # some records were left out
        assert set(accounts) == {"acme.com", "globex.com", "initech.co.uk"}
        assert contacts == {"jo@acme.com"}
        # What went, with its id; what was left out, and why.
        assert rows["3"]["status"] == "partial"
        assert rows["3"]["company_id"] == accounts["globex.com"]["company_id"]
        assert rows["3"]["people_id"] == ""
        assert rows["3"]["error_fields"] == "contact.email"
        assert rows["3"]["message"] == (
            "the contact is left out: contact.email (column 'Email'): is empty: Octolane"
            " identifies people by email address; the company goes ahead"
        )
        assert "'bad-address' is not an email address" in rows["4"]["message"]
        assert rows["5"]["status"] == "invalid"  # nothing of it can go
        # The failures file holds the partial rows with the rejected one.
        assert sorted(failures) == ["3", "4", "5"]

        # Fix the two e-mails, run the failures file: the rows complete, nothing doubles.
        fixed = (tmp_path / "failures.csv").read_text(encoding="utf-8-sig")
        fixed = fixed.replace(",Al,", "al@globex.com,Al,").replace(
            "bad-address", "bo@initech.co.uk"
        )
        again = tmp_path / "again"
        again.mkdir()
        second = run(box, write(again / "fixed.csv", fixed), mapping)
        accounts_after = {a["domain"]: a for a in inspect(box, "accounts")}
        contacts_after = {c["email"] for c in inspect(box, "contacts")}
    assert second.counts == {"imported": 2, "invalid": 1}
    assert contacts_after == {"jo@acme.com", "al@globex.com", "bo@initech.co.uk"}
    assert accounts_after.keys() == accounts.keys()  # found again, not made twice
    assert accounts_after["globex.com"]["company_id"] == accounts["globex.com"]["company_id"]


def test_a_deal_waits_for_its_company_and_a_note_for_its_whole_row(tmp_path):
    data = write(
        tmp_path / "deals.csv",
        """
Email,Website,Deal,Amount,Comment
jo@acme.com,acme.com,Rollout,100,met at the fair
nope,globex.com,Pilot,200,called twice
al@initech.com,not a domain,Upgrade,300,renewal due
""",
    )
    with running_sandbox() as box:
        common = {"pipeline_id": box.pipeline_id, "settings": settings(box)}
        dry = run_import(
            data, write(tmp_path / "m.yaml", DEALS), dry_run=True,
            results_path=tmp_path / "dry.csv", **common,
        )  # fmt: skip
        real = run(box, data, tmp_path / "m.yaml", **common)
        deals = {d["name"]: d for d in inspect(box, "opportunities")}
        notes = inspect(box, "notes")
        contacts = {c["email"] for c in inspect(box, "contacts")}
    assert dry.counts == {"would_import": 1, "partial": 2}
    assert real.counts == {"imported": 1, "partial": 2}
    # Row 3: the person is rejected; the deal goes under its company, the note waits.
    # Row 4: the company is rejected; the person goes, the deal and the note wait.
    assert set(deals) == {"Rollout", "Pilot"}
    assert deals["Pilot"]["account_domain"] == "globex.com"
    assert contacts == {"jo@acme.com", "al@initech.com"}
    assert [n["title"] for n in notes] == ["Imported"]  # row 2's only
    for name in ("dry.csv", "results.csv"):
        rows = rows_of(tmp_path / name)
        assert rows["3"]["error_fields"] == "contact.email;note"
        assert "the company and the deal go ahead" in rows["3"]["message"]
        assert rows["4"]["error_fields"] == "account.domain;opportunity;note"
        assert "held back until the row's company is fixed" in rows["4"]["message"]
        assert rows["4"]["message"].endswith("the contact goes ahead")
    real_rows = rows_of(tmp_path / "results.csv")
    assert real_rows["3"]["opportunity_id"] == deals["Pilot"]["opportunity_id"]
    assert real_rows["4"]["people_id"] and not real_rows["4"]["opportunity_id"]


def test_the_summary_counts_partial_rows(tmp_path):
    data = write(tmp_path / "people.csv", "Email,First Name,Website\n,Al,globex.com\n")
    mapping = write(tmp_path / "m.yaml", PEOPLE)
    result = invoke(data, "-m", mapping, "--dry-run", "--json", "--out", tmp_path / "r.csv")
    summary = json.loads(result.output)
    assert summary["counts"] == {"partial": 1}
    assert summary["exit_code"] == result.exit_code == 1
    text = invoke(data, "-m", mapping, "--dry-run", "--out", tmp_path / "r.csv").output
    assert "rows: 0 valid, 1 partial (some records left out), 0 invalid" in text
    assert "NOTHING IMPORTED" not in text  # the company goes


def test_real_apollo_rows_without_an_email_still_create_their_companies(tmp_path):
    path = REAL / "apollo" / "contacts-export-india-finance.csv"
    if not path.exists():
        pytest.skip(f"{path} is not on this machine")
    report = run_import(path, "apollo-people", dry_run=True, results_path=tmp_path / "r.csv")
    rows = rows_of(tmp_path / "r.csv")
    for row in ("5", "7", "10", "12", "15"):  # the rows the issue names
        assert rows[row]["status"] == "partial"
        assert rows[row]["records"].startswith("account:")
        assert rows[row]["error_fields"] == "contact.email"
    assert report.counts == {"would_import": 7, "partial": 7}


def test_a_stopped_runs_unsent_partial_rows_still_need_fixing_and_are_counted(tmp_path):
    """A run stopped before a partial row's records went (here a refused key) makes the
    row not_sent; its left-out company still needs a fix the next run will not bring: the
    row is in the failures file, and the summary counts it partial, as the dry run does."""
    from importer.report.render import render_summary

    mapping = write(tmp_path / "m.yaml", """
contact:
  email: {column: Email, transforms: [email]}
account:
  domain: {column: Website, transforms: [domain], required: true}
""")  # fmt: skip
    data = write(tmp_path / "d.csv", "Email,Website\nann@northwind-logistics.com,northwind-"
                 "logistics.com\nbo@harbourvale.co.uk,not a site\ncy@gammaworks.org,gammaworks.org\n")  # fmt: skip
    with running_sandbox() as box:
        box.fail_next(1, status=401)
        report = run(box, data, mapping, settings=settings(box, concurrency=1))
    assert report.aborted and report.counts == {"failed": 1, "not_sent": 2}
    assert "rows: 2 valid, 1 partial (some records left out), 0 invalid" in render_summary(report)
    rows = rows_of(tmp_path / "results.csv")
    assert rows["3"]["status"] == "not_sent" and rows["3"]["error_fields"] == "account.domain"
    with (tmp_path / "failures.csv").open(encoding="utf-8-sig", newline="") as handle:
        assert [r["import_row"] for r in csv.DictReader(handle)] == ["3"]


def test_a_row_split_by_an_unquoted_delimiter_is_invalid_not_sent_shifted(tmp_path):
    """'1,200' written without quotes made the row's stage '200' and its close date
    'Proposal': a warning said cells were cut, and the deal went with shifted values."""
    data = write(
        tmp_path / "deals.csv",
        "Website,Deal,Amount,Stage\n"
        "one.com,D1,100,Lead\n"
        "two.com,D2,1,200,Lead\n"
        "three.com,D3,300,Lead,,\n",  # empty cells beyond the header: a row like any
    )
    mapping = write(
        tmp_path / "m.yaml",
        "account:\n  domain: Website\nopportunity:\n  name: Deal\n  deal_size: Amount\n"
        "  stage: Stage\n",
    )
    with running_sandbox() as box:
        options = {"pipeline_id": box.pipeline_id, "settings": settings(box)}
        dry = run_import(data, mapping, dry_run=True, results_path=tmp_path / "d.csv", **options)
        real = run_import(data, mapping, results_path=tmp_path / "r.csv", **options)
        landed = {d["name"] for d in inspect(box, "opportunities")}
    assert dry.counts == {"would_import": 2, "invalid": 1}
    assert real.counts == {"imported": 2, "invalid": 1}
    assert landed == {"D1", "D3"}
    (row,) = [r for r in results_of(tmp_path / "r.csv") if r["row"] == "3"]
    assert row["error_fields"] == "row" and not row["warnings"]
    assert "it has 5 cells but the header has 4" in row["message"]
    assert "(beyond the header: 'Lead')" in row["message"]
