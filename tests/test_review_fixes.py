"""Regressions found in review of issue 9: each silent misreading is now refused or said."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from test_import_e2e import write

from importer.errors import MappingError, UsageError
from importer.run import run_import
from importer.send.stages import fetch_stages
from importer.settings import Settings

PID = "00000000-0000-4000-8000-000000000001"


def planned_deals(path: Path) -> dict[str, dict]:
    deals = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        request = json.loads(line)
        if request["endpoint"] == "opportunities":
            deals[request["body"]["opportunity"]["name"]] = request["body"]
    return deals


def results_of(path: Path) -> dict[str, dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return {row["row"]: row for row in csv.DictReader(handle)}


def test_the_stage_lookup_never_sends_the_key_over_plain_http_or_crashes_on_it():
    remote = Settings(api_key="sk_live_SECRET", base_url="http://192.0.2.2:18765/v1")
    with pytest.raises(UsageError, match="refusing to send the API key over plain http"):
        fetch_stages(remote, PID)
    odd = Settings(api_key="sk_live_SECé", base_url="http://127.0.0.1:9/v1")
    with pytest.raises(UsageError, match="non-ASCII") as caught:
        fetch_stages(odd, PID)
    assert "SECé" not in str(caught.value)


MAPPING = "account: {domain: Website}\nopportunity:\n  name: Deal\n  deal_size: Amount\n"


@pytest.mark.parametrize(
    ("cell", "said"),
    [
        ("$5,000 CAD", "5,000.00 CAD was left out"),
        ("€ 5 USD", "the cell names two different currencies"),
        ("XY$ 5,000", "names no currency the importer knows"),
        ("J$ 5,000", "5,000.00 JMD was left out"),
    ],
)
def test_a_cell_naming_another_currency_is_never_sent_as_dollars(cell, said, tmp_path):
    data = write(tmp_path / "d.csv", f'Deal,Website,Amount\nA,aa.com,"{cell}"\n')
    run_import(
        data, write(tmp_path / "m.yaml", MAPPING), dry_run=True, pipeline_id=PID,
        results_path=tmp_path / "r.csv", requests_path=tmp_path / "q.jsonl",
    )  # fmt: skip
    assert "deal_size" not in planned_deals(tmp_path / "q.jsonl")["A"]["opportunity"]
    assert said in results_of(tmp_path / "r.csv")["2"]["warnings"]


def test_hubspot_company_amount_wins_and_a_deal_currency_is_honoured(tmp_path):
    data = write(
        tmp_path / "deals.csv",
        '"Record ID","Deal Name","Amount","Amount in company currency","Currency"\n'
        '"1","Both","25000.0","27000.0","EUR"\n'
        '"2","Deal currency only","25000.0","","EUR"\n'
        '"3","Dollars","100.0","","USD"\n',
    )
    run_import(
        data, "hubspot-deals", dry_run=True, pipeline_id=PID, stages=(),
        results_path=tmp_path / "r.csv", requests_path=tmp_path / "q.jsonl",
        rates={"EUR": 1.1},
    )  # fmt: skip
    # no stage column: the deals are planned; amounts come out as the rules say
    deals = planned_deals(tmp_path / "q.jsonl")
    assert deals["Both"]["opportunity"]["deal_size"] == 27000.0  # company currency: USD
    assert deals["Deal currency only"]["opportunity"]["deal_size"] == 27500.0  # EUR at 1.1
    assert deals["Dollars"]["opportunity"]["deal_size"] == 100.0
    assert "25,000.00 EUR is 27,500.00 USD" in results_of(tmp_path / "r.csv")["3"]["warnings"]


def test_spreadsheet_number_cells_are_never_read_a_thousandfold_off(tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["Deal", "Website", "Amount"])
    for name, amount in (("A", 12.125), ("B", 2000), ("C", 99.875), ("D", "1.234,50")):
        sheet.append([name, f"{name.lower()}corp.com", amount])
    path = tmp_path / "deals.xlsx"
    book.save(path)
    run_import(
        path, write(tmp_path / "m.yaml", MAPPING), dry_run=True, pipeline_id=PID,
        requests_path=tmp_path / "q.jsonl", results_path=tmp_path / "r.csv",
    )  # fmt: skip
    deals = planned_deals(tmp_path / "q.jsonl")
    assert {k: v["opportunity"].get("deal_size") for k, v in deals.items()} == {
        # '12.125' is the number cell 12.125 or text writing 12,125 in this ',' column:
        # the text cannot tell, so it is never read as either, and the row says so
        "A": None,
        "B": 2000.0,
        "C": None,
        "D": 1234.5,  # a text cell: the column's mark (","), decided from it
    }
    warnings = results_of(tmp_path / "r.csv")
    assert (
        "'12.125' is ambiguous: a number cell of 12.125, or text writing 12125"
        in (warnings["2"]["warnings"])
    )


def test_many_thousands_cells_and_one_decimal_cell_cannot_decide_a_column(tmp_path):
    rows = "".join(f"D{i},d{i}.com,29.000\n" for i in range(20)) + "E,ee.com,12.5\n"
    data = write(tmp_path / "d.csv", "Deal,Website,Amount\n" + rows)
    with pytest.raises(MappingError, match=r"20 such as '29.000' read as thousands"):
        run_import(data, write(tmp_path / "m.yaml", MAPPING), dry_run=True, pipeline_id=PID)


def test_a_later_batch_cannot_be_misread_when_the_first_decided_nothing(tmp_path):
    rows = "".join(f"D{i},d{i}.com,1000\n" for i in range(30)) + "X,xy.com,29.000\n"
    data = write(tmp_path / "d.csv", "Deal,Website,Amount\n" + rows)
    run_import(
        data, write(tmp_path / "m.yaml", MAPPING), dry_run=True, pipeline_id=PID,
        results_path=tmp_path / "r.csv", batch_rows=10, requests_path=tmp_path / "q.jsonl",
    )  # fmt: skip
    line = results_of(tmp_path / "r.csv")["32"]
    assert "'29.000' is ambiguous" in line["warnings"]
    assert "deal_size" not in planned_deals(tmp_path / "q.jsonl")["X"]["opportunity"]


LINKED = """
opportunity:
  name: Id
contact:
  email: {column: people.Email, required: false}
  first_name: {column: people.First}
account:
  domain: {column: org.Website, required: false}
links:
  people: {by: People, key: Pid, columns: [Email, First]}
  org: {by: Org, key: Name, columns: [Website], match: name}
"""


def test_a_name_belongs_to_its_email_and_a_name_join_takes_the_whole_cell(tmp_path):
    deals = write(tmp_path / "deals.csv", 'Id,People,Org\nD1,"p1;p2","Smith; Jones LLP"\n')
    people = write(tmp_path / "people.csv", "Pid,Email,First\np1,,Ann\np2,bob@kim.example,Bob\n")
    orgs = write(
        tmp_path / "orgs.csv",
        'Name,Website\nSmith,smith-unrelated.com\n"Smith; Jones LLP",smithjones.com\n',
    )
    run_import(
        deals, write(tmp_path / "m.yaml", LINKED), dry_run=True, pipeline_id=PID,
        links=[people, orgs], requests_path=tmp_path / "q.jsonl",
    )  # fmt: skip
    requests = [json.loads(line) for line in (tmp_path / "q.jsonl").read_text().splitlines()]
    contact = next(r["body"] for r in requests if r["endpoint"] == "contacts")
    assert contact == {"email": "bob@kim.example", "first_name": "Bob"}
    deal = planned_deals(tmp_path / "q.jsonl")["D1"]
    assert deal["related_objects"]["account_domain"] == "smithjones.com"


def test_extends_can_drop_a_presets_links(tmp_path):
    from importer.map.spec import load_mapping

    mapping = load_mapping(write(tmp_path / "m.yaml", "extends: hubspot-deals\nlinks: null\n"))
    assert mapping.links == {}


def test_an_unreadable_file_of_an_export_is_reported_and_the_others_still_run(tmp_path):
    from importer.run.export import run_export

    folder = tmp_path / "export"
    folder.mkdir()
    fixtures = Path(__file__).resolve().parent / "fixtures" / "exports" / "salesforce"
    (folder / "Contact.csv").write_bytes((fixtures / "Contact.csv").read_bytes())
    (folder / "Lead.csv").write_bytes(b"\x00\x01\x02binary\x00" * 50)
    report = run_export(folder, "salesforce-data-export", out_dir=tmp_path / "out", dry_run=True)
    assert [name for name, _ in report.parts] == ["Contact.csv"]
    assert [name for name, _ in report.failed] == ["Lead.csv"]
    assert report.exit_code == 2


def test_a_row_naming_two_companies_says_which_is_its_account(tmp_path):
    data = write(tmp_path / "d.csv", 'Deal,Website\nA,"aa.com;bb.io"\n')
    mapping = write(
        tmp_path / "m.yaml",
        "opportunity:\n  name: Deal\naccount:\n  domain:\n    column: Website\n"
        "    transforms: [{split: {separators: [';']}}, domain]\n",
    )
    run_import(data, mapping, dry_run=True, pipeline_id=PID, results_path=tmp_path / "r.csv")
    line = results_of(tmp_path / "r.csv")["2"]
    assert line["domain"] == "aa.com"
    assert "the row names 2 companies (aa.com, bb.io); the first is its account" in line["warnings"]


def test_hubspot_company_amount_in_a_currency_its_cell_writes_is_not_sent_as_dollars(tmp_path):
    data = write(
        tmp_path / "deals.csv",
        '"Record ID","Deal Name","Amount","Amount in company currency","Currency"\n'
        '"1","Pounds","1000","£1100","EUR"\n'
        '"2","Yen","1000","1100 JPY","EUR"\n'
        '"3","Euros","","EUR 5,000",""\n'
        '"4","Negative","","(1,000)",""\n'
        '"5","Plain","","1.5k",""\n',
    )
    run_import(
        data, "hubspot-deals", dry_run=True, pipeline_id=PID, stages=(),
        results_path=tmp_path / "r.csv", requests_path=tmp_path / "q.jsonl",
        rates={"EUR": 1.1},
    )  # fmt: skip
    deals = planned_deals(tmp_path / "q.jsonl")
    sent = {name: deal["opportunity"].get("deal_size") for name, deal in deals.items()}
    assert sent == {"Pounds": None, "Yen": None, "Euros": 5500.0, "Negative": None, "Plain": 1500.0}
    rows = results_of(tmp_path / "r.csv")
    assert "1,100.00 GBP was left out" in rows["2"]["warnings"]
    assert "1,100.00 JPY was left out" in rows["3"]["warnings"]
    assert "5,000.00 EUR is 5,500.00 USD" in rows["4"]["warnings"]
    assert (
        "opportunity.company_amount (column 'Amount in company currency'): -1000.0 is negative"
        in rows["5"]["warnings"]
    )
