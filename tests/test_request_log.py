"""A request log: --log FILE has one JSON line per HTTP attempt (time, endpoint, rows,
attempt, status, milliseconds, both bodies, never the key); -v prints a line each."""

from __future__ import annotations

import json
import stat

import pytest
from test_import_e2e import (
    SECRET_KEY,
    contacts_csv,
    inspect,
    invoke,
    results_of,
    run,
    settings,
    write,
)

from importer.sandbox import running_sandbox

MAPPING = "contact:\n  email: {column: Email, transforms: [email]}\n  first_name: First Name\n"


@pytest.fixture
def quick_retries():
    import stamina

    with stamina.set_testing(True, attempts=1000, cap=True):
        yield


def test_every_attempt_is_a_line_with_both_bodies(tmp_path, quick_retries):
    data = contacts_csv(tmp_path / "leads.csv", 12)
    mapping = write(tmp_path / "m.yaml", MAPPING)
    log = tmp_path / "logs" / "requests.jsonl"
    with running_sandbox() as box:
        org = box.add_org("Secretive", api_key=SECRET_KEY)
        box.fail_next(1, status=400, endpoint="contacts")  # refused: a failed row
        box.fail_next(2, status=503)  # retried: their second attempts succeed
        report = run(box, data, mapping, settings=settings(box, key=org.api_key),
                     request_log=log)  # fmt: skip
        stats = inspect(box, "stats", org.api_key)
    lines = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    assert report.send is not None
    assert len(lines) == report.send.requests_sent == stats["total"] == 14
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    text = log.read_text(encoding="utf-8")
    assert SECRET_KEY.lower() not in text.lower()

    assert {line["endpoint"] for line in lines} == {"contacts"}
    assert all(line["path"] == "inbound/contacts" and line["time"].endswith("Z") for line in lines)
    assert all(line["ms"] >= 0 for line in lines)
    statuses = sorted(line["status"] for line in lines)
    assert statuses == [200] * 11 + [400, 503, 503]
    refused = next(line for line in lines if line["status"] == 400)
    assert refused["response"]["success"] is False and refused["response"]["message"]
    second = [line for line in lines if line["attempt"] == 2]
    assert [line["status"] for line in second] == [200, 200]
    first_of_those = [
        line for line in lines if line["rows"] in [s["rows"] for s in second] and line is not None
    ]
    assert sorted(line["status"] for line in first_of_those) == [200, 200, 503, 503]

    # each answered line carries the exact body sent and the id the results file has
    results = {int(r["row"]): r for r in results_of(tmp_path / "results.csv")}
    for line in lines:
        (row,) = line["rows"]
        assert line["request"]["email"] == results[row]["email"]
        if line["status"] == 200:
            assert line["response"]["data"]["people_id"] == results[row]["people_id"]


def test_a_second_run_appends(tmp_path):
    data = contacts_csv(tmp_path / "leads.csv", 3)
    mapping = write(tmp_path / "m.yaml", MAPPING)
    log = tmp_path / "requests.jsonl"
    with running_sandbox() as box:
        run(box, data, mapping, request_log=log, no_journal=True)
        run(box, data, mapping, request_log=log, no_journal=True, force=True)
    assert len(log.read_text(encoding="utf-8").splitlines()) == 6


def test_verbose_prints_a_line_per_attempt(tmp_path):
    data = contacts_csv(tmp_path / "leads.csv", 3, extra="nobody@example.org,No,Body\n")
    mapping = write(tmp_path / "m.yaml", MAPPING)
    with running_sandbox() as box:
        box.fail_next(1, status=400, endpoint="contacts")
        result = invoke(
            data, "-m", mapping, "--base-url", box.base_url, "--rate", 60_000, "-v", "-q",
            "--out", tmp_path / "r.csv", env={"OCTOLANE_API_KEY": box.api_key},
        )  # fmt: skip
    lines = [line for line in result.stderr.splitlines() if line.startswith("POST ")]
    assert len(lines) == 3, result.stderr  # example.org is refused before sending
    assert lines[0].startswith("POST inbound/contacts row 2: 400 in ")
    assert "ms: " in lines[0]  # the server's message follows
    assert all(" ms" in line for line in lines[1:])
    assert "row 4: 200 in" in lines[2]
