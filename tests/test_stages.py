"""Deal stages: labels → Octolane stages by table, by name or by policy; never dropped silently."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from test_import_e2e import inspect, settings, write

from importer.cli import cli
from importer.errors import MappingError, UsageError
from importer.map.stages import PipelineStage, build_stage_table, propose_stages, stage_key
from importer.report.render import render_summary
from importer.run import run_import
from importer.sandbox import running_sandbox
from importer.send.stages import StagesUnavailable, fetch_stages
from importer.settings import Settings

PIPELINE = [
    PipelineStage("11111111-1111-4111-8111-111111111111", "Lead", 1),
    PipelineStage("22222222-2222-4222-8222-222222222222", "Qualified", 2),
    PipelineStage("33333333-3333-4333-8333-333333333333", "Closed won", 3),
]
MAPPING = """
opportunity:
  name: Deal
  stage: Stage
account:
  domain: Website
stages:
  Demo Booked: Qualified
"""
DEALS = """
Deal,Website,Stage
Won one,aa.com,Closed Won
Demo,bb.com,Demo Booked
Fresh,cc.com,lead
Odd,dd.com,Waiting on legal
No stage,ee.com,
"""


def results_of(path: Path) -> dict[str, dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return {row["row"]: row for row in csv.DictReader(handle)}


def test_labels_compare_without_case_or_extra_spaces_only():
    assert stage_key("Closed Won") == stage_key(" closed  won ") == stage_key("CLOSED WON")
    # punctuation and emoji carry meaning: "Closed won ❌" is not "Closed won"
    assert stage_key("Closed won ❌") != stage_key("Closed won")
    assert stage_key("Proposal -") != stage_key("Proposal +")
    assert stage_key("Closed Won") != stage_key("Closed Lost")


def test_an_id_shaped_label_that_is_no_stage_of_the_pipeline_is_refused():
    table = build_stage_table({}, "error", PIPELINE)
    unknown = table.resolve("99999999-2222-4333-8444-555555555555")
    assert unknown.stage_id is None and "is not a stage id of the pipeline" in (unknown.error or "")
    assert table.resolve(PIPELINE[1].id.upper()).stage_id == PIPELINE[1].id


def test_a_table_by_name_by_id_by_same_name_and_the_unmapped_policy():
    table = build_stage_table(
        {"Demo Booked": "qualified", "Signed": PIPELINE[2].id}, "error", PIPELINE
    )
    assert table.resolve("Demo Booked").stage_id == PIPELINE[1].id
    assert table.resolve("Signed").stage_id == PIPELINE[2].id
    assert table.resolve("closed won").stage_id == PIPELINE[2].id  # same name, no table entry
    odd = table.resolve("Waiting on legal")
    assert odd.stage_id is None and odd.error is not None
    assert "'Waiting on legal' has no Octolane stage" in odd.error
    first = build_stage_table({}, "first", PIPELINE).resolve("Waiting on legal")
    assert first.stage_id is None and first.error is None
    assert "goes to the pipeline's first stage" in (first.warning or "")
    named = build_stage_table({}, "Lead", PIPELINE).resolve("Waiting on legal")
    assert named.stage_id == PIPELINE[0].id and "goes to stage 'Lead'" in (named.warning or "")


def test_a_table_naming_a_stage_the_pipeline_lacks_stops_with_its_stages():
    with pytest.raises(MappingError) as caught:
        build_stage_table({"Won": "Closed-Won!!"}, "error", PIPELINE[:2], source="m.yaml")
    assert "m.yaml: stages.Won: 'Closed-Won!!' is not a stage of the pipeline" in str(caught.value)
    assert "(its stages: 'Lead', 'Qualified')" in str(caught.value)


def test_names_need_the_pipelines_stages_ids_do_not():
    with pytest.raises(MappingError, match="needs the pipeline's stages, which could not be read"):
        build_stage_table({"Won": "Closed won"}, "error", None, unavailable="no API key")
    table = build_stage_table({"Won": PIPELINE[2].id}, "error", None)
    assert table.resolve("Won").stage_id == PIPELINE[2].id
    assert "(the stages of the pipeline were not read)" in (table.resolve("Lead").error or "")


def test_proposed_table_matches_labels_to_stage_names():
    assert propose_stages(["Closed Won", "Lead", "Demo"], PIPELINE) == {
        "Closed Won": "Closed won",
        "Lead": "Lead",
        "Demo": None,
    }


def test_stages_are_read_from_the_sandbox_and_deals_land_in_them(tmp_path):
    mapping = write(tmp_path / "m.yaml", MAPPING)
    data = write(tmp_path / "deals.csv", DEALS)
    with running_sandbox() as box:
        stage_of = dict(zip(box.demo.stage_names, box.demo.stage_ids, strict=True))
        options = {"pipeline_id": box.pipeline_id, "settings": settings(box)}
        dry = run_import(data, mapping, dry_run=True, results_path=tmp_path / "dry.csv", **options)
        real = run_import(data, mapping, results_path=tmp_path / "real.csv", **options)
        landed = {d["name"]: d for d in inspect(box, "opportunities")}
        stats = inspect(box, "stats")
    # the stage list was read over HTTP, once per run
    assert stats["requests"]["stages"] == {"200": 2}
    # the deals of "Odd" (a label with no stage) and "No stage" (an empty cell) are left out
    assert dry.counts == {"would_import": 3, "partial": 2}
    assert real.counts == {"imported": 3, "partial": 2}
    assert landed["Won one"]["stage_id"] == stage_of["Closed won"]
    assert landed["Demo"]["stage_id"] == stage_of["Qualified"]
    assert landed["Fresh"]["stage_id"] == stage_of["Lead"]
    assert "Odd" not in landed and "No stage" not in landed
    for name in ("dry.csv", "real.csv"):
        row = results_of(tmp_path / name)["5"]
        assert row["status"] == "partial" and row["error_fields"] == "opportunity.stage"
        assert "'Waiting on legal' has no Octolane stage" in row["message"]
        row = results_of(tmp_path / name)["6"]
        assert row["status"] == "partial" and row["error_fields"] == "opportunity.stage"
        assert 'the stage cell is empty: add "" to the stages: table' in row["message"]
    assert (
        dry.stages
        == real.stages
        == {
            ("Closed Won", "Closed won"): 1,
            ("Demo Booked", "Qualified"): 1,
            ("lead", "Lead"): 1,
            ("Waiting on legal", "—"): 1,
            ("", "—"): 1,
        }
    )
    summary = render_summary(dry)
    assert "stages (source label → Octolane stage: rows):" in summary
    assert "  'Demo Booked' → Qualified: 1" in summary


def test_unmapped_first_warns_on_every_row_it_moves(tmp_path):
    mapping = write(tmp_path / "m.yaml", MAPPING + "options: {unmapped_stages: first}\n")
    data = write(tmp_path / "deals.csv", DEALS)
    with running_sandbox() as box:
        options = {"pipeline_id": box.pipeline_id, "settings": settings(box)}
        real = run_import(data, mapping, results_path=tmp_path / "real.csv", **options)
        landed = {d["name"]: d for d in inspect(box, "opportunities")}
    assert real.counts == {"imported": 5}
    assert landed["Odd"]["stage_id"] == landed["No stage"]["stage_id"] == box.demo.stage_ids[0]
    warning = results_of(tmp_path / "real.csv")["5"]["warnings"]
    assert "'Waiting on legal' has no Octolane stage of its own" in warning
    assert "the pipeline's first stage (options.unmapped_stages)" in warning
    assert results_of(tmp_path / "real.csv")["6"]["warnings"] == (
        "opportunity.stage: the stage cell is empty: the deal goes to the pipeline's first"
        " stage (options.unmapped_stages)"
    )


def test_an_empty_stage_cell_goes_where_the_stages_table_sends_it(tmp_path):
    mapping = write(tmp_path / "m.yaml", MAPPING + '  "": Qualified\n')
    data = write(tmp_path / "deals.csv", DEALS)
    with running_sandbox() as box:
        stage_of = dict(zip(box.demo.stage_names, box.demo.stage_ids, strict=True))
        options = {"pipeline_id": box.pipeline_id, "settings": settings(box)}
        real = run_import(data, mapping, results_path=tmp_path / "real.csv", **options)
        landed = {d["name"]: d for d in inspect(box, "opportunities")}
    assert landed["No stage"]["stage_id"] == stage_of["Qualified"]
    assert real.stages[("", "Qualified")] == 1


def test_a_key_the_public_api_refuses_dry_runs_with_ids_and_says_why(tmp_path):
    data = write(tmp_path / "deals.csv", DEALS)
    with running_sandbox(public_api=False) as box:
        options = {"pipeline_id": box.pipeline_id, "settings": settings(box)}
        with pytest.raises(MappingError, match=r"answered 401: the key may not read the public"):
            run_import(data, write(tmp_path / "m.yaml", MAPPING), dry_run=True, **options)
        by_id = MAPPING.replace("Demo Booked: Qualified", f"Demo Booked: {box.demo.stage_ids[1]}")
        report = run_import(data, write(tmp_path / "i.yaml", by_id), dry_run=True, **options)
    assert report.counts == {"would_import": 1, "partial": 4}  # (the empty stage cell too)
    assert any("stages could not be read" in w and "401" in w for w in report.mapping_warnings)


def test_fetching_stages_answers(tmp_path):
    with running_sandbox() as box:
        good = settings(box)
        stages = fetch_stages(good, box.pipeline_id)
        assert [s.label for s in stages] == list(box.demo.stage_names)
        with pytest.raises(UsageError, match="was not found"):
            fetch_stages(good, "99999999-9999-4999-8999-999999999999")
        with pytest.raises(StagesUnavailable, match="answered 401"):
            fetch_stages(settings(box, key="not-a-key"), box.pipeline_id)
        response = httpx.get(f"{box.url}/v1/pipelines", headers={"x-api-key": box.api_key})
        assert response.json()["data"]["pipelines"][0]["stages"][0]["is_default"] is True
    with pytest.raises(StagesUnavailable, match="no API key"):
        fetch_stages(Settings(), box.pipeline_id)
    secret = Settings(api_key="sk-very-secret", base_url="http://127.0.0.1:9/v1", timeout_s=1)
    with pytest.raises(StagesUnavailable) as caught:
        fetch_stages(secret, box.pipeline_id)
    assert "sk-very-secret" not in str(caught.value)


def test_the_stages_command(tmp_path):
    result = CliRunner().invoke(cli, ["stages", "--sandbox", "--json"])
    assert result.exit_code == 0, result.output
    listed = json.loads(result.output)
    assert [s["label"] for s in listed["stages"]][-1] == "Closed won"
    text = CliRunner().invoke(cli, ["stages", "--sandbox"]).output
    assert "5 stages (the first is the default)" in text and "Closed won" in text
    missing = CliRunner().invoke(
        cli,
        ["stages", "--pipeline-id", PIPELINE[0].id],
        env={"OCTOLANE_API_KEY": "", "OCTOLANE_PIPELINE_ID": ""},
    )
    assert missing.exit_code == 2 and "could not be read: no API key" in missing.output


def test_a_mapping_may_not_map_stage_and_stage_id(tmp_path):
    from importer.map.spec import load_mapping

    bad = write(
        tmp_path / "m.yaml", MAPPING.replace("  stage: Stage", "  stage: Stage\n  stage_id: S")
    )
    with pytest.raises(MappingError, match="map either stage"):
        load_mapping(bad)


def test_map_proposes_the_stages_table_from_the_files_labels(tmp_path):
    from importer.map.spec import parse_mapping

    data = write(tmp_path / "deals.csv", "Deal Name,Website,Deal Stage\nA,aa.com,Closed Won\n"
                 "B,bb.com,Demo\nC,cc.com,qualified\n")  # fmt: skip
    result = CliRunner().invoke(cli, ["map", str(data), "--sandbox"])
    assert result.exit_code == 0, result.output
    text = result.output
    assert "  Closed Won: Closed won\n" in text and "  qualified: Qualified\n" in text
    assert "  # Demo: '?'\n" in text
    mapping = parse_mapping(text)
    assert mapping.opportunity is not None and mapping.opportunity.stage is not None
    assert mapping.stages == {"Closed Won": "Closed won", "qualified": "Qualified"}
    offline = CliRunner().invoke(
        cli, ["map", str(data)], env={"OCTOLANE_PIPELINE_ID": "", "OCTOLANE_API_KEY": ""}
    )
    assert "stages: {}" in offline.output
    assert "The pipeline's stages were not read (no pipeline given)" in offline.output


REPO = Path(__file__).resolve().parents[1]


def test_the_sample_stages_mapping_dry_runs_as_documented(tmp_path):
    result = CliRunner().invoke(
        cli,
        [
            str(REPO / "sample_data/salesforce-opportunities.csv"),
            "--mapping",
            str(REPO / "sample_data/salesforce-opportunities-stages.yaml"),
            "--sandbox",
            "--dry-run",
            "--json",
            "--out",
            str(tmp_path / "r.csv"),
            "--failures",
            str(tmp_path / "f.csv"),
        ],
    )
    report = json.loads(result.output)
    # the 19 deals of an unknown stage are left out; their people and companies go
    assert report["counts"] == {"would_import": 161, "skipped": 2, "partial": 19}
    assert report["distinct"]["opportunities"] == 160
    stages = {(s["label"], s["stage"]): s["rows"] for s in report["stages"]}
    assert stages[("Closed Lost", "—")] == 19 and stages[("Needs Analysis", "Qualified")] == 33
    documented = (REPO / "sample_data/README.md").read_text(encoding="utf-8")
    assert "| salesforce-opportunities.csv | 161 | – | 19 | – | 166 | 42 | 160 |" in documented


def test_extends_merges_a_preset_key_by_key(tmp_path):
    from importer.map.spec import load_mapping

    child = write(
        tmp_path / "m.yaml",
        "extends: salesforce-report-opportunities\nstages: {Prospecting: Lead}\n"
        "options: {unmapped_stages: first}\nopportunity: {next_step: null}\n",
    )
    mapping = load_mapping(child)
    assert mapping.stages == {"Prospecting": "Lead"}
    assert mapping.options.unmapped_stages == "first"
    assert mapping.options.decimal_mark == "."  # the preset's, kept
    assert mapping.opportunity is not None and mapping.opportunity.next_step is None
    assert mapping.opportunity.stage is not None and mapping.opportunity.stage.column == "Stage"
    loop = write(tmp_path / "loop.yaml", "extends: loop.yaml\n")
    with pytest.raises(MappingError, match="extends itself"):
        load_mapping(loop)
    with pytest.raises(MappingError, match="extends"):
        load_mapping(write(tmp_path / "bad.yaml", "extends: no-such-preset\n"))


REAL = Path(__file__).resolve().parents[2] / "shared" / "real-exports"


@pytest.mark.skipif(not REAL.exists(), reason="the shared real exports are absent")
def test_real_hubspot_deals_keep_their_stages(tmp_path):
    """The issue's file: 46 deals once all went to the first stage without a word."""
    from preset_cases import own_stages

    path = REAL / "hubspot/deals-export-all-properties-with-associations.csv"
    stages = own_stages(path, "hubspot-deals")
    report = run_import(
        path, "hubspot-deals", dry_run=True, stages=stages,
        pipeline_id="00000000-0000-4000-8000-000000000001", requests_path=tmp_path / "q.jsonl",
    )  # fmt: skip
    assert report.stages[("Closed Won", "Closed Won")] == 7
    assert sum(report.stages.values()) == report.rows_read == 54
    planned = [json.loads(line) for line in (tmp_path / "q.jsonl").read_text("utf-8").splitlines()]
    # (the deals' named contacts have creates of their own: "Name (email)" names them)
    sent = [
        r["body"]["opportunity"].get("stage_id")
        for r in planned
        if r["endpoint"] == "opportunities"
    ]
    assert len({s for s in sent if s}) == len(stages) >= 8
    # without the pipeline's stages and no table, no deal goes anywhere silently
    blind = run_import(
        path, "hubspot-deals", dry_run=True, pipeline_id="00000000-0000-4000-8000-000000000001"
    )
    assert blind.counts == {"invalid": 7, "partial": 47}  # the rest of the row goes
    assert blind.planned.get("opportunities", 0) == 0
