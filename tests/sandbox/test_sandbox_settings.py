"""Durability across restarts (--db), config files, and the in-process lifecycle."""

from __future__ import annotations

import threading
from pathlib import Path

import httpx
import pytest
from sandbox_http import client_for, listed

from importer.sandbox import SandboxConfigError, SandboxSettings, load_settings, running_sandbox

CONFIG = """
knobs: {latency_ms: 1}
behaviour: {unknown_keys: reject}
extra_api_keys: [second-demo-key]
extra_members: [sales@demo.example]
orgs:
  - name: Globex
    api_keys: [globex-key]
    members: [Boss@Globex.example]
    pipelines:
      - name: Enterprise
        stages: [Discovery, {name: Won, id: 6f1c0b7e-6a52-4a43-9a43-0c7a1e0b5a99}]
"""


def test_data_survives_a_restart_with_a_db_file(tmp_path: Path):
    db = str(tmp_path / "sandbox.db")
    deal = {"opportunity": {"name": "Kept"}, "related_objects": {"account_domain": "acme.com"}}
    with running_sandbox(db_path=db) as sandbox, client_for(sandbox) as api:
        deal["pipeline_id"] = sandbox.pipeline_id
        first = {
            "contact": api.post("/v1/inbound/contacts", json={"email": "jo@acme.com"}).json(),
            "deal": api.post("/v1/inbound/opportunities", json=deal).json(),
        }
        api.post(
            "/v1/inbound/notes", json={"note": {"title": "N"}, "contact_emails": ["jo@acme.com"]}
        )
        pipeline_id = sandbox.pipeline_id

    with running_sandbox(db_path=db) as sandbox, client_for(sandbox) as api:
        again = {
            "contact": api.post("/v1/inbound/contacts", json={"email": "JO@acme.com"}).json(),
            "deal": api.post("/v1/inbound/opportunities", json=deal).json(),
        }
        assert sandbox.pipeline_id == pipeline_id  # derived ids are stable
        assert again == first
        assert [n["title"] for n in listed(api, "notes")] == ["N"]
        assert len(listed(api, "accounts")) == 1


def test_in_memory_data_does_not_survive():
    with running_sandbox() as sandbox, client_for(sandbox) as api:
        api.post("/v1/inbound/accounts", json={"domain": "acme.com"})
    with running_sandbox() as sandbox, client_for(sandbox) as api:
        assert listed(api, "accounts") == []


def test_config_file_adds_orgs_keys_members_and_settings(tmp_path: Path):
    path = tmp_path / "sandbox.yaml"
    path.write_text(CONFIG, encoding="utf-8")

    settings = load_settings(path, port=0)

    with running_sandbox(settings) as sandbox:
        assert sandbox.settings.knobs.latency_ms == 1
        assert sandbox.settings.behaviour.unknown_keys == "reject"
        with client_for(sandbox, "second-demo-key") as demo:
            assert demo.get("/_sandbox/org").json()["data"]["members"] == [
                "owner@demo.example",
                "sales@demo.example",
            ]
        with client_for(sandbox, "globex-key") as globex:
            org = globex.get("/_sandbox/org").json()["data"]
            [pipeline] = org["pipelines"]
            body = {
                "pipeline_id": pipeline["pipeline_id"],
                "opportunity": {"name": "G"},
                "related_objects": {
                    "account_domain": "globex.example",
                    "owner_email": "boss@globex.example",
                },
            }
            created = globex.post("/v1/inbound/opportunities", json=body)
    assert org["name"] == "Globex"
    assert [s["name"] for s in pipeline["stages"]] == ["Discovery", "Won"]
    assert pipeline["stages"][1]["stage_id"] == "6f1c0b7e-6a52-4a43-9a43-0c7a1e0b5a99"
    assert created.status_code == 200


def test_json_config_files_work_too(tmp_path: Path):
    path = tmp_path / "sandbox.json"
    path.write_text('{"include_demo_org": false, "orgs": [{"name": "Only", "api_keys": ["k"]}]}')

    settings = load_settings(path)

    assert [org.name for org in settings.all_orgs()] == ["Only"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("orgs: [{name: X}]", "orgs[0].api_keys: Field required"),
        (
            "orgs: [{name: X, api_keys: [sandbox-demo-key]}]",
            "API key sand… is given to more than one org",
        ),
        (
            "orgs: [{name: X, api_keys: [k], pipelines: [{name: P, stages: []}]}]",
            "orgs[0].pipelines[0].stages: Tuple should have at least 1 item",
        ),
        ("knobs: {failure_rate: 3}", "knobs.failure_rate: Input should be less than or equal to 1"),
        ("knobs: {latency: 3}", "knobs.latency: Extra inputs are not permitted"),
        ("- just a list", "the top level must be a mapping of settings"),
        ("orgs: [", "not valid YAML/JSON"),
    ],
)
def test_bad_config_files_name_the_file_and_key(tmp_path: Path, text, message):
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")

    with pytest.raises(SandboxConfigError) as caught:
        load_settings(path)

    assert str(caught.value).startswith(f"{path}: ")
    assert message in str(caught.value)


def test_missing_config_file(tmp_path: Path):
    with pytest.raises(SandboxConfigError, match="cannot read the sandbox config"):
        load_settings(tmp_path / "nope.yaml")


def test_unknown_keyword_lists_the_valid_ones():
    with pytest.raises(SandboxConfigError, match=r"unknown sandbox setting 'latency'; valid: .*"):
        SandboxSettings().with_overrides(latency=5)


def test_sandbox_starts_fast_and_stops_without_leaking_threads():
    threads_before = threading.active_count()

    with running_sandbox() as sandbox:
        assert sandbox.base_url.startswith("http://127.0.0.1:")
        assert sandbox.base_url.endswith("/v1")
        url = sandbox.url

    assert threading.active_count() == threads_before
    with pytest.raises(httpx.ConnectError), httpx.Client(verify=False) as client:
        client.get(f"{url}/_sandbox/health")


def test_busy_port_is_a_clear_error():
    with (
        running_sandbox() as sandbox,
        pytest.raises(SandboxConfigError, match="cannot listen"),
        running_sandbox(port=sandbox.port),
    ):
        pass


def test_runtime_org_cannot_steal_a_key(sandbox):
    with pytest.raises(SandboxConfigError, match="already belongs to org 'Demo Org'"):
        sandbox.add_org("Thief", api_key=sandbox.api_key)
