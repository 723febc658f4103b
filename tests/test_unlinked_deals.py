"""Deals with nothing to link: sent on their own, and never merged without every row saying so."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from test_import_e2e import inspect, settings, write

from importer.run import run_import
from importer.sandbox import running_sandbox

MAPPING = """
opportunity:
  name: {column: Deal, required: false}
  deal_size: Amount
contact:
  email: {column: Email, required: false}
"""
DEALS = """
Deal,Amount,Email
Solar 12 Pine St,1000,
Roof 3 Oak Ave,500,
Solar 12 Pine St,1200,
,300,jo@gmail.com
"""


def results_of(path: Path) -> dict[str, dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return {row["row"]: row for row in csv.DictReader(handle)}


def test_unlinked_deals_land_and_a_shared_name_is_said_on_both_rows(tmp_path):
    mapping = write(tmp_path / "m.yaml", MAPPING)
    data = write(tmp_path / "deals.csv", DEALS)
    with running_sandbox() as box:
        options = {"pipeline_id": box.pipeline_id, "settings": settings(box)}
        dry = run_import(data, mapping, dry_run=True, results_path=tmp_path / "dry.csv", **options)
        real = run_import(data, mapping, results_path=tmp_path / "real.csv", **options)
        landed = {d["name"]: d for d in inspect(box, "opportunities")}

    assert dry.counts == {"would_import": 2, "duplicate": 1, "partial": 1}
    assert real.counts == {"imported": 2, "duplicate": 1, "partial": 1}
    assert set(landed) == {"Solar 12 Pine St", "Roof 3 Oak Ave"}
    assert landed["Solar 12 Pine St"]["account_domain"] in (None, "")
    assert landed["Solar 12 Pine St"]["amount"] == 1000  # the first row's; row 4 warns
    for name in ("dry.csv", "real.csv"):
        rows = results_of(tmp_path / name)
        assert "neither has the deal of row 4 with the same name" in rows["2"]["warnings"]
        assert "neither has the deal of row 2 with the same name" in rows["4"]["warnings"]
        assert "imported as a deal without an account" in rows["3"]["warnings"]
        assert "same name" not in rows["3"]["warnings"]
        assert rows["4"]["duplicate_of"] == "2"
        # no name and no company: the deal is refused before sending, as Octolane would;
        # the row's contact still goes
        assert rows["5"]["status"] == "partial"
        assert rows["5"]["error_fields"] == "opportunity.name"
        assert rows["5"]["records"] == "contact:jo@gmail.com"
    real_rows = results_of(tmp_path / "real.csv")
    assert real_rows["2"]["opportunity_id"] == real_rows["4"]["opportunity_id"]
    assert real_rows["2"]["opportunity_id"] == landed["Solar 12 Pine St"]["opportunity_id"]
    assert real_rows["5"]["people_id"] and not real_rows["5"]["opportunity_id"]
    assert dry.rows_with_warnings == real.rows_with_warnings == 3


def test_a_row_whose_deal_cells_are_empty_has_no_deal(tmp_path):
    # A contacts file with deal columns: a person with no deal is not given one (Octolane
    # would name an empty deal after the company). A deal cell that holds anything, even
    # an amount that is left out, is a deal, told what it lost.
    mapping = write(
        tmp_path / "m.yaml",
        """
contact:
  email: {column: Email}
opportunity:
  name: {column: Deal, required: false}
  deal_size: {column: Amount, transforms: [money]}
""",
    )
    data = write(
        tmp_path / "people.csv",
        """
Email,Deal,Amount
jo@acme.com,,
ann@globex.com,Renewal,500
li@initech.com,,lots
""",
    )
    with running_sandbox() as box:
        options = {"pipeline_id": box.pipeline_id, "settings": settings(box)}
        dry = run_import(data, mapping, dry_run=True, results_path=tmp_path / "dry.csv", **options)
        real = run_import(data, mapping, results_path=tmp_path / "real.csv", **options)
        landed = inspect(box, "opportunities")
    assert dry.planned == {"contacts": 1, "opportunities": 2}, dry.planned
    assert real.counts == {"imported": 3}
    assert sorted(d["name"] for d in landed) == ["Initech", "Renewal"]  # the empty one named
    for name in ("dry.csv", "real.csv"):
        rows = results_of(tmp_path / name)
        assert rows["2"]["records"] == "contact:jo@acme.com"
        assert "opportunity" in rows["3"]["records"]
        assert "opportunity" in rows["4"]["records"]
        assert "'lots'" in rows["4"]["warnings"] and "left out" in rows["4"]["warnings"]


def test_a_reports_footer_lines_are_told_as_such(tmp_path):
    # Salesforce puts two lines under a report's data; with no deal cell filled they plan
    # no deal, and still read as the report's footer, not as rows with nothing to import
    fixture = Path(__file__).parent / "fixtures/exports/salesforce/opportunities-report.csv"
    report = run_import(
        fixture, "salesforce-report-opportunities", dry_run=True,
        pipeline_id="00000000-0000-4000-8000-000000000001", results_path=tmp_path / "r.csv",
    )  # fmt: skip
    rows = results_of(tmp_path / "r.csv")
    assert report.counts["skipped"] == 2
    assert [r["message"] for r in rows.values() if r["status"] == "skipped"] == [
        "a report's footer line, not a record"
    ] * 2
    assert all(label for label, _ in report.stages)  # no stage tallied for a footer


def test_a_deal_linked_to_a_personal_address_says_it_has_no_account(tmp_path):
    """A deal whose only link is a gmail contact lands with no account: the row says so, not
    only that gmail.com is personal (hubspot/deals-export-all-properties-with-associations)."""
    mapping = write(
        tmp_path / "m.yaml",
        MAPPING + "account:\n  domain: {column: Site, transforms: [domain], required: false}\n"
        "options:\n  account_domain_from_email: true\n  personal_domains: skip\n",
    )
    data = write(tmp_path / "deals.csv", "Deal,Amount,Email,Site\nJury,10,ann@gmail.com,\n"
                 "Acme,20,al@acme.com,\n")  # fmt: skip
    with running_sandbox() as box:
        options = {"pipeline_id": box.pipeline_id, "settings": settings(box)}
        run_import(data, mapping, results_path=tmp_path / "real.csv", **options)
        landed = {d["name"]: d for d in inspect(box, "opportunities")}
    rows = results_of(tmp_path / "real.csv")
    assert landed["Jury"]["account_domain"] in (None, "")
    assert "gmail.com is a personal email domain" in rows["2"]["warnings"]
    assert (
        "no company domain to link the deal to: it is imported as a deal without an account,"
        " linked to its contacts only"
    ) in rows["2"]["warnings"]
    assert landed["Acme"]["account_domain"] == "acme.com"  # its e-mail's company
    assert "without an account" not in rows["3"]["warnings"]


def test_a_note_filed_under_its_contacts_email_domain_says_so(tmp_path):
    """A Salesforce task whose account has no website was filed under the domain of its
    contact's e-mail (an agency's) with no word: deals said it, notes did not."""
    mapping = write(
        tmp_path / "m.yaml",
        "contact:\n  email: {column: Email, required: false}\n"
        "account:\n  domain: {column: Site, transforms: [domain], required: false}\n"
        "note:\n  title: Subject\n  content: Body\n"
        "options:\n  account_domain_from_email: true\n",
    )
    data = write(tmp_path / "tasks.csv", "Subject,Body,Email,Site\n"
                 "Call,About Coca-Cola,ana@mindshareworld.com.pe,\n"
                 "Call,About Acme,al@acme.com,acme.com\n")  # fmt: skip
    run_import(data, mapping, dry_run=True, results_path=tmp_path / "r.csv")
    rows = results_of(tmp_path / "r.csv")
    assert rows["2"]["warnings"] == (
        "note: linked to mindshareworld.com.pe, the domain of its contact's e-mail"
        " (ana@mindshareworld.com.pe): the row gives no company domain (column 'Site' is empty)"
    )
    assert rows["3"]["warnings"] == ""


def test_every_row_merged_into_a_deal_is_named_and_its_people_are_said(tmp_path):
    """Three customers' unlinked "Website" deals are one deal (as the sandbox merges them):
    the first row named only one of the other two, and the later rows' people, sent as
    other contacts of the first row's deal, were said nowhere; nor was the person of a
    company's second row whose deal name differs only in case."""
    mapping = write(tmp_path / "m.yaml", MAPPING + "account:\n  domain: {column: Site, "
                    "transforms: [domain], required: false}\n")  # fmt: skip
    data = write(tmp_path / "deals.csv", "Deal,Amount,Email,Site\nWebsite,100,ann@gmail.com,\n"
                 "Website,200,bob@gmail.com,\nWebsite,300,carl@hotmail.com,\n"
                 "Renewal,100,x@acme.com,acme.com\nrenewal ,100,y@acme.com,acme.com\n")  # fmt: skip
    with running_sandbox() as box:
        options = {"pipeline_id": box.pipeline_id, "settings": settings(box)}
        run_import(data, mapping, results_path=tmp_path / "real.csv", **options)
        landed = {d["name"]: d for d in inspect(box, "opportunities")}
    rows = results_of(tmp_path / "real.csv")
    assert "neither have the deals of rows 3 and 4 with the same name" in rows["2"]["warnings"]
    assert "bob@gmail.com is sent as another contact of row 2's deal" in rows["3"]["warnings"]
    assert "carl@hotmail.com is sent as another contact of row 2's deal" in rows["4"]["warnings"]
    assert "y@acme.com is sent as another contact of row 5's deal" in rows["6"]["warnings"]
    assert set(landed["Website"]["contact_emails"]) == {
        "ann@gmail.com", "bob@gmail.com", "carl@hotmail.com",
    }  # fmt: skip
    assert rows["2"]["opportunity_id"] == rows["3"]["opportunity_id"] == rows["4"]["opportunity_id"]


def test_a_german_reports_footer_lines_are_told_as_such(tmp_path):
    """A report exported by a user whose language is German ends in the footer in German:
    its lines were invalid rows (no e-mail) instead of the report's footer."""
    data = write(
        tmp_path / "report.csv",
        '"First Name","Last Name","Account Name","Email"\n'
        '"Jo","Li","Acme","jo@acme.com"\n'
        "\n"
        '"Vertrauliche Informationen - Nicht weitergeben"\n'
        '"Copyright (c) 2000-2024 salesforce.com, inc. Alle Rechte vorbehalten."\n'
        '"Erstellt von: Jo Li  05.12.2026 14:00"\n'
        '"Erstellt von"\n',
    )
    report = run_import(
        data, "salesforce-report-contacts", dry_run=True, results_path=tmp_path / "r.csv"
    )
    rows = results_of(tmp_path / "r.csv")
    assert report.counts == {"would_import": 1, "skipped": 3, "invalid": 1}
    assert [r["message"] for r in rows.values() if r["status"] == "skipped"] == [
        "a report's footer line, not a record"
    ] * 3
    assert rows["7"]["status"] == "invalid"  # only the whole line is the footer's


TOTALS_MAPPING = MAPPING + "account:\n  domain: {column: Site, required: false}\n"


def test_a_totals_row_under_the_deals_is_skipped_and_said(tmp_path, monkeypatch):
    """A spreadsheet's totals row under the deals became a deal named "Total" worth the
    whole pipeline. Only one after the last deal, with the sum of the amounts above or
    no company or contact, is skipped; a deal named "Total" elsewhere is a deal. (Slices
    of two rows: the last deal and the totals rows are in different slices.)"""
    monkeypatch.setattr("importer.validate.source.VALIDATE_ROWS", 2)
    mapping = write(tmp_path / "m.yaml", TOTALS_MAPPING)
    data = write(
        tmp_path / "deals.csv",
        "Deal,Amount,Email,Site\n"
        "Solar 12 Pine St,1000,al@acme.com,acme.com\n"
        "Total,250.50,bo@globex.com,globex.com\n"  # a deal of that name: rows follow it
        "Roof 3 Oak Ave,500,cy@initech.com,initech.com\n"
        "Total,1750.50,,\n"  # the sum
        "Grand Total,99,,\n"  # no company or contact
        "Summe,7,di@umbrella.com,umbrella.com\n",  # neither: a deal
    )
    with running_sandbox() as box:
        options = {"pipeline_id": box.pipeline_id, "settings": settings(box)}
        report = run_import(data, mapping, results_path=tmp_path / "r.csv", **options)
        deals = sorted((d["name"], d["amount"]) for d in inspect(box, "opportunities"))
    assert deals == [
        ("Roof 3 Oak Ave", 500), ("Solar 12 Pine St", 1000), ("Summe", 7), ("Total", 250.5)
    ]  # fmt: skip
    rows = results_of(tmp_path / "r.csv")
    assert report.counts == {"imported": 4, "skipped": 2}
    assert rows["5"]["message"] == (
        "a totals row, not a deal: its deal name is 'Total' and its amount, 1,750.50, is the"
        " sum of the deals above"
    )
    assert rows["6"]["message"] == (
        "a totals row, not a deal: its deal name is 'Grand Total' and it names no company or"
        " contact"
    )
    assert rows["7"]["status"] == rows["3"]["status"] == "imported"


def test_a_file_of_a_deal_named_total_alone_imports_it(tmp_path):
    """Nothing above it to total: a deal, however it is named."""
    mapping = write(tmp_path / "m.yaml", TOTALS_MAPPING)
    data = write(tmp_path / "deals.csv", "Deal,Amount,Email,Site\nTotal,10,,\n")
    report = run_import(
        data, mapping, dry_run=True, results_path=tmp_path / "r.csv",
        pipeline_id="00000000-0000-4000-8000-000000000001",
    )  # fmt: skip
    assert report.counts == {"would_import": 1}


def test_a_reports_totals_row_above_its_footer_is_skipped(tmp_path):
    """The totals row comes before the report's footer lines: still the last deal row."""
    fixture = Path(__file__).parent / "fixtures/exports/salesforce/opportunities-report.csv"
    data, blank, footer = fixture.read_bytes().partition(b"\n\n")
    assert blank, "the fixture's footer follows an empty line"
    data += b'\n"","","Total","","","999.00"' + b',""' * 8 + b"\n\n" + footer
    path = tmp_path / "report.csv"
    path.write_bytes(data)
    report = run_import(
        path, "salesforce-report-opportunities", dry_run=True, results_path=tmp_path / "r.csv",
        pipeline_id="00000000-0000-4000-8000-000000000001",
    )  # fmt: skip
    said = [
        r["message"] for r in results_of(tmp_path / "r.csv").values() if r["status"] == "skipped"
    ]
    assert report.counts["skipped"] == 3
    assert said[0] == (
        "a totals row, not a deal: its deal name is 'Total' and it names no company or contact"
    )


FOOTER = (
    "\n"
    '"Confidential Information - Do Not Distribute"\n'
    '"Copyright (c) 2000-2024 salesforce.com, inc. All rights reserved."\n'
    '"Generated By: Jo Li  5/12/2026 2:00 PM"\n'
)


def _footer_run(tmp_path: Path, mapping: str, data: str, **options: object):
    run_import(
        write(tmp_path / "report.csv", data), write(tmp_path / "m.yaml", mapping),
        dry_run=True, pipeline_id="00000000-0000-4000-8000-000000000001",
        results_path=tmp_path / "r.csv", requests_path=tmp_path / "q.jsonl", **options,
    )  # fmt: skip
    deals = [
        request["body"]["opportunity"].get("name")
        for line in (tmp_path / "q.jsonl").read_text(encoding="utf-8").splitlines()
        if (request := json.loads(line))["endpoint"] == "opportunities"
    ]
    return deals, results_of(tmp_path / "r.csv")


@pytest.mark.parametrize("slice_rows", [5_000, 1, 2, 3])
def test_a_reports_footer_is_no_deal_where_the_deal_name_is_optional(
    tmp_path, monkeypatch, slice_rows
):
    """With an optional deal name in the first column, each footer line was a valid deal
    named after it (an unlinked one): at the end of the file they are the footer's, in
    whichever slice they fall."""
    monkeypatch.setattr("importer.validate.source.VALIDATE_ROWS", slice_rows)
    data = "Deal,Amount,Email\nSolar 12 Pine St,1000,al@acme.com\nRoof,500,\n" + FOOTER
    deals, rows = _footer_run(tmp_path, MAPPING, data)
    assert deals == ["Solar 12 Pine St", "Roof"]
    assert [(r["status"], r["message"], r["warnings"]) for r in rows.values()][2:] == [
        ("skipped", "a report's footer line, not a record", "")
    ] * 3


def test_a_deal_named_as_a_footer_line_above_other_deals_is_a_deal(tmp_path, monkeypatch):
    """Only the file's last lines are its footer: a record of that text above a deal is
    one (here in its own slice, the next slice's deal deciding)."""
    monkeypatch.setattr("importer.validate.source.VALIDATE_ROWS", 1)
    data = (
        "Deal,Amount,Email\nConfidential Information - Do Not Distribute,,\n"
        "Generated By: referral,,\nSolar,1000,al@acme.com\n"
    )
    deals, rows = _footer_run(tmp_path, MAPPING, data)
    assert deals == ["Confidential Information - Do Not Distribute", "Generated By: referral",
                     "Solar"]  # fmt: skip
    assert {r["status"] for r in rows.values()} == {"would_import"}


def test_a_footer_under_a_totals_row_leaves_both_out(tmp_path):
    data = "Deal,Amount,Email,Site\nSolar,1000,al@acme.com,acme.com\nTotal,1000,,\n" + FOOTER
    deals, rows = _footer_run(tmp_path, TOTALS_MAPPING, data)
    assert deals == ["Solar"]
    assert rows["3"]["message"].startswith("a totals row, not a deal")
    assert [rows[r]["message"] for r in ("5", "6", "7")] == [
        "a report's footer line, not a record"
    ] * 3


def test_a_footer_is_no_deal_where_the_deal_is_named_after_its_domain(tmp_path):
    """No name mapped (Octolane names a deal after its company's domain): the footer lines
    are skipped, and say nothing of the fields they would have filled."""
    mapping = (
        "opportunity:\n  deal_size: Amount\n  next_step: {column: Site, required: false}\n"
        "account:\n  domain: {column: Site, required: false}\n"
    )
    data = "Site,Amount\nacme.com,1000\n" + FOOTER
    deals, rows = _footer_run(tmp_path, mapping, data)
    assert len(deals) == 1
    assert [(rows[r]["status"], rows[r]["warnings"]) for r in ("4", "5", "6")] == [
        ("skipped", "")
    ] * 3
