"""pipedrive-deals on the columns a real Pipedrive deals export writes.

Real exports name the amount's currency ``Deal - Currency of Value`` (older ones
``Deal - Currency``), keep a won or lost deal's last stage in ``Deal - Stage`` with
``Deal - Status`` saying won or lost, and may carry the organization's own columns
(``Organization - Website``; ``Organisation`` in UK-English accounts).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from test_import_e2e import inspect, results_of, settings, write

from importer.map.presets import resolve_mapping_path
from importer.map.spec import load_mapping
from importer.run import run_import
from importer.sandbox import running_sandbox

HEADER = (
    '"Deal - ID","Deal - Title","Deal - Value","Deal - Currency of Value",'
    '"Deal - Organization","Deal - Stage","Deal - Status","Deal - Won time",'
    '"Deal - Lost time","Deal - Expected close date","Organization - Website",'
    '"Person - Email - Work"'
)
DEALS = f"""
{HEADER}
"1","Vertexa rollout","12500","EUR","Vertexa","Qualified","open","","","2025-06-30","https://www.vertexa.de",""
"2","Polder pilot","900000","JPY","Polder","Negotiation","lost","","2025-05-02 10:11:12","","polder.nl",""
"3","Acme renewal","4000","GBP","Acme","Negotiation","won","2025-04-01 09:00:00","","2025-06-30","acme-ltd.co.uk",""
"4","Dollar deal","700","USD","Bravo","Lead","open","","","","bravo.com","jo@bravo.com"
"""
RATES = {"EUR": 1.1, "GBP": 1.25, "JPY": 0.0067}


def _mapping(tmp_path: Path, stages: str = "") -> Path:
    return write(tmp_path / "pd.yaml", f"extends: pipedrive-deals\n{stages}")


def _requests(path: Path) -> dict[str, dict]:
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        request = json.loads(line)
        if request["endpoint"] == "opportunities":
            out[request["body"]["opportunity"]["name"]] = request["body"]
    return out


def test_the_preset_reads_the_currency_of_value_column_and_the_organizations_website(tmp_path):
    data = write(tmp_path / "deals.csv", DEALS)
    mapping = load_mapping(resolve_mapping_path("pipedrive-deals"))
    assert mapping.opportunity is not None and mapping.opportunity.currency is not None
    assert mapping.opportunity.currency.columns == ("Deal - Currency of Value", "Deal - Currency")
    report = run_import(
        data, _mapping(tmp_path, "options: {unmapped_stages: first}\n"),
        dry_run=True, results_path=tmp_path / "dry.csv", requests_path=tmp_path / "req.jsonl",
        pipeline_id="00000000-0000-4000-8000-000000000001", rates=RATES,
    )  # fmt: skip
    sent = _requests(tmp_path / "req.jsonl")
    # converted at the given rates, never sent as if they were dollars
    assert sent["Vertexa rollout"]["opportunity"]["deal_size"] == 13750.0
    assert sent["Acme renewal"]["opportunity"]["deal_size"] == 5000.0
    assert sent["Polder pilot"]["opportunity"]["deal_size"] == 6030.0
    assert sent["Dollar deal"]["opportunity"]["deal_size"] == 700.0
    assert report.amounts_converted == 3
    # the deals view's own website column gives the account
    assert sent["Vertexa rollout"]["related_objects"]["account_domain"] == "vertexa.de"
    assert sent["Polder pilot"]["related_objects"]["account_domain"] == "polder.nl"
    assert sent["Acme renewal"]["related_objects"]["account_domain"] == "acme-ltd.co.uk"


def test_without_rates_foreign_amounts_are_withheld_with_a_warning(tmp_path):
    data = write(tmp_path / "deals.csv", DEALS)
    run_import(
        data, _mapping(tmp_path, "options: {unmapped_stages: first}\n"), dry_run=True,
        results_path=tmp_path / "dry.csv", requests_path=tmp_path / "req.jsonl",
        pipeline_id="00000000-0000-4000-8000-000000000001",
    )  # fmt: skip
    sent = _requests(tmp_path / "req.jsonl")
    assert "deal_size" not in sent["Polder pilot"]["opportunity"]
    assert sent["Dollar deal"]["opportunity"]["deal_size"] == 700.0
    rows = {r["row"]: r for r in results_of(tmp_path / "dry.csv")}
    assert "JPY" in rows["3"]["warnings"]


def test_won_and_lost_deals_go_where_the_stages_table_sends_their_status(tmp_path):
    """A won deal lands in the won stage, not open in its last stage; a lost deal whose
    status has no stage is left out with the reason, never imported as open."""
    data = write(tmp_path / "deals.csv", DEALS)
    mapping = _mapping(tmp_path, "stages: {won: Closed won}\n")
    with running_sandbox() as box:
        stage_of = dict(zip(box.demo.stage_names, box.demo.stage_ids, strict=True))
        options = {"pipeline_id": box.pipeline_id, "settings": settings(box), "rates": RATES}
        dry = run_import(data, mapping, dry_run=True, results_path=tmp_path / "dry.csv", **options)
        real = run_import(data, mapping, results_path=tmp_path / "real.csv", **options)
        landed = {d["name"]: d for d in inspect(box, "opportunities")}
    assert dry.stages == real.stages
    assert real.stages[("won", "Closed won")] == 1
    assert real.stages[("Qualified", "Qualified")] == 1
    assert landed["Acme renewal"]["stage_id"] == stage_of["Closed won"]
    assert landed["Vertexa rollout"]["stage_id"] == stage_of["Qualified"]
    assert "Polder pilot" not in landed  # lost: no stage given for it, so not sent as open
    for name in ("dry.csv", "real.csv"):
        row = {r["row"]: r for r in results_of(tmp_path / name)}["3"]
        assert row["status"] == "partial" and row["error_fields"] == "opportunity.stage"
        assert "'lost' has no Octolane stage" in row["message"]
    # a closed deal's close date is the day it closed, not the expected one
    won = landed["Acme renewal"]
    assert won["close_date"] == 1743498000000  # 2025-04-01 09:00:00 UTC


def test_the_status_column_may_be_absent(tmp_path):
    """A deals view without ``Deal - Status`` reads stages as before, and says so once."""
    rows = list(csv.reader(DEALS.strip().splitlines()))
    keep = [i for i, c in enumerate(rows[0]) if c not in ("Deal - Status",)]
    text = "\n".join(",".join(f'"{r[i]}"' for i in keep) for r in rows) + "\n"
    data = write(tmp_path / "deals.csv", text)
    report = run_import(
        data, _mapping(tmp_path, "options: {unmapped_stages: first}\n"), dry_run=True,
        results_path=tmp_path / "dry.csv", pipeline_id="00000000-0000-4000-8000-000000000001",
    )  # fmt: skip
    assert any("'Deal - Status' is not in" in w for w in report.mapping_warnings)
    assert report.stages[("Negotiation", "(first stage)")] == 2  # the lost one too: no status


def test_map_proposes_the_currency_of_value_column(tmp_path):
    from click.testing import CliRunner

    from importer.cli import cli

    data = write(tmp_path / "deals.csv", DEALS)
    result = CliRunner().invoke(cli, ["map", str(data)])
    assert result.exit_code == 0, result.output
    assert "currency: {column: Deal - Currency of Value" in result.output


def test_the_failures_workbook_marks_the_status_column_of_a_status_stage(tmp_path):
    """A lost deal whose status has no stage is a stage failure: the failures workbook
    marks both columns that decide the stage."""
    import openpyxl

    rows = list(csv.reader(DEALS.strip().splitlines()))
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    book.save(tmp_path / "deals.xlsx")
    run_import(
        tmp_path / "deals.xlsx", _mapping(tmp_path), dry_run=True,
        results_path=tmp_path / "r.csv", failures_path=tmp_path / "f.csv",
        pipeline_id="00000000-0000-4000-8000-000000000001", rates=RATES,
        stages=(),
    )  # fmt: skip
    sheet = openpyxl.load_workbook(tmp_path / "f.xlsx").active
    header = [c.value for c in next(sheet.iter_rows(max_row=1))]
    marked = {header[c.column - 1] for row in sheet.iter_rows(min_row=2) for c in row if c.comment}
    assert {"Deal - Stage", "Deal - Status"} <= marked


def test_map_proposes_the_status_override_and_its_stages(tmp_path):
    """A deals file with a status column that says won or lost: the proposal reads it as
    the stage of those deals, and its stages table lists 'won' and 'lost'."""
    from click.testing import CliRunner

    from importer.cli import cli

    data = write(tmp_path / "deals.csv", DEALS)
    result = CliRunner().invoke(cli, ["map", str(data), "--sandbox"])
    assert result.exit_code == 0, result.output
    assert "override: {column: Deal - Status, values: [won, lost]}" in result.output
    assert "won: Closed won" in result.output  # the demo pipeline's one "…won" stage
    assert "# lost: '?'" in result.output  # none has "lost": the user decides


def test_a_linked_person_without_a_work_email_is_named_on_the_row(tmp_path):
    """The deal's contact person had only a home e-mail: the deal went without a contact,
    and its row said nothing."""
    deals = write(
        tmp_path / "deals.csv",
        '"Deal - ID","Deal - Title","Deal - Organization","Deal - Contact person"\n'
        '"5","D5","Delta","Home Only"\n',
    )
    organizations = write(
        tmp_path / "organizations.csv",
        '"Organization - ID","Organization - Name","Organization - Website"\n'
        '"14","Delta","delta.com"\n',
    )
    people = write(
        tmp_path / "people.csv",
        '"Person - ID","Person - Name","Person - Email - Work","Person - Email - Home"\n'
        '"24","Home Only","","home@delta.com"\n',
    )
    run_import(
        deals, "pipedrive-deals", dry_run=True, links=[organizations, people], stages=(),
        pipeline_id="00000000-0000-4000-8000-000000000001", results_path=tmp_path / "r.csv",
    )  # fmt: skip
    (row,) = results_of(tmp_path / "r.csv")
    assert row["domain"] == "delta.com"
    assert (
        "link person: Home Only has no Person - Email - Work in people.csv (Person - Name),"
        " so the deal is not linked to that person" in row["warnings"]
    )
