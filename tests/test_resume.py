"""Running the same import again: continue, retry what failed, refuse what changed.

Through the CLI and real HTTP to the sandbox: the journal beside the results file
decides what is sent again (importer/run/journal.py).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from importer.cli import cli
from importer.sandbox import RunningSandbox, running_sandbox

MAPPING = """
contact:
  email: {column: Email, transforms: [email]}
  first_name: First Name
account:
  domain: {column: Email, transforms: [domain]}
"""


def setup(folder: Path, rows: int = 8) -> tuple[Path, Path]:
    data, mapping = folder / "leads.csv", folder / "m.yaml"
    lines = ["Email,First Name", *(f"p{i}@co{i}.com,P{i}" for i in range(rows))]
    data.write_text("\n".join(lines) + "\n", encoding="utf-8")
    mapping.write_text(MAPPING, encoding="utf-8")
    return data, mapping


def invoke(box: RunningSandbox, data: Path, mapping: Path, *args: Any) -> Any:
    folder = data.parent
    command = [
        str(data), "-m", str(mapping), "--base-url", box.base_url, "--rate", "60000", "-q",
        "--out", str(folder / "leads.results.csv"), *map(str, args),
    ]  # fmt: skip
    return CliRunner().invoke(cli, command, env={"OCTOLANE_API_KEY": box.api_key})


def results(folder: Path) -> list[dict[str, str]]:
    with (folder / "leads.results.csv").open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def sent(box: RunningSandbox) -> int:
    stats = httpx.get(f"{box.url}/_sandbox/stats", headers={"X-API-Key": box.api_key})
    return stats.json()["data"]["total"]


def test_a_complete_run_run_again_sends_nothing_and_says_so(tmp_path):
    data, mapping = setup(tmp_path)
    with running_sandbox() as box:
        first = invoke(box, data, mapping)
        assert first.exit_code == 0, first.output
        assert "journal: " in first.stdout and "(run 1)" in first.stdout
        ids = {r["row"]: r["people_id"] for r in results(tmp_path)}
        before = sent(box)

        again = invoke(box, data, mapping)
        assert again.exit_code == 0, again.output
        assert sent(box) == before  # nothing sent
        assert "(run 2): nothing to send: every request has its outcome from an earlier run" in (
            again.stdout
        )
        rows = results(tmp_path)
        assert {r["status"] for r in rows} == {"already_imported"}
        assert all(r["message"].startswith("already imported by run 1 (") for r in rows)
        assert {r["row"]: r["people_id"] for r in rows} == ids  # the recorded ids, reused


def test_retry_failed_sends_only_the_failed_requests(tmp_path):
    data, mapping = setup(tmp_path)
    with running_sandbox() as box:
        box.fail_next(2, status=400, endpoint="contacts")  # refused for their data
        first = invoke(box, data, mapping)
        assert first.exit_code == 1
        failed = [r["row"] for r in results(tmp_path) if r["status"] == "failed"]
        assert len(failed) == 2
        before = sent(box)

        again = invoke(box, data, mapping)  # kept failed: the same data fails again
        assert sent(box) == before
        rows = {r["row"]: r for r in results(tmp_path)}
        assert [row for row, r in rows.items() if r["status"] == "failed"] == failed
        assert "--retry-failed sends it again" in rows[failed[0]]["message"]
        assert "(run 2)" in again.stdout

        last = invoke(box, data, mapping, "--retry-failed")
        assert last.exit_code == 0, last.output
        assert sent(box) == before + 2  # only the two that failed
        rows = {r["row"]: r for r in results(tmp_path)}
        assert {rows[row]["status"] for row in failed} == {"imported"}
        assert all(r["people_id"] for r in rows.values())
        assert len(rows) == 8  # every row's final state


def test_a_changed_file_or_mapping_is_refused_with_what_changed(tmp_path):
    data, mapping = setup(tmp_path)
    with running_sandbox() as box:
        assert invoke(box, data, mapping).exit_code == 0
        data.write_text(data.read_text() + "new@co9.com,New\n", encoding="utf-8")
        changed = invoke(box, data, mapping)
        assert changed.exit_code == 2
        assert "the input file leads.csv has changed since" in changed.output
        assert "--fresh" in changed.output and "--out" in changed.output

        before = sent(box)
        fresh = invoke(box, data, mapping, "--fresh", "--force")
        assert fresh.exit_code == 0, fresh.output
        assert "begun anew; the earlier journal is now" in fresh.stdout
        assert sent(box) == before + 9
        assert len(list(tmp_path.glob("leads.journal-*.sqlite"))) == 1  # kept aside


def test_a_results_file_with_ids_is_not_overwritten(tmp_path):
    data, mapping = setup(tmp_path)
    with running_sandbox() as box:
        assert invoke(box, data, mapping).exit_code == 0
        kept = (tmp_path / "leads.results.csv").read_bytes()

        dry = invoke(box, data, mapping, "--dry-run")
        assert dry.exit_code == 2
        assert "holds the Octolane ids of a real import (row 2 has a people_id)" in dry.output
        assert "--force" in dry.output
        assert (tmp_path / "leads.results.csv").read_bytes() == kept

        forced = invoke(box, data, mapping, "--dry-run", "--force")
        assert forced.exit_code == 0
        assert {r["status"] for r in results(tmp_path)} == {"would_import"}


def test_a_big_results_file_is_read_beside_the_dry_run_and_still_kept(tmp_path, monkeypatch):
    """A dry run reads a big results file in a low-priority process while it plans (a
    million lines take a second): the file with ids is still refused, and kept whole,
    and nothing else is written (no requests file)."""
    from importer.run import background, pipeline

    data, mapping = setup(tmp_path)
    forked: list[bool] = []

    def counted(function: Any, *args: Any) -> background.Pending[Any]:
        pending = background.in_background(function, *args)
        forked.append(pending._process is not None)
        return pending

    with running_sandbox() as box:
        assert invoke(box, data, mapping).exit_code == 0
    kept = (tmp_path / "leads.results.csv").read_bytes()
    monkeypatch.setattr(pipeline, "_READ_BESIDE_FROM", 1)
    monkeypatch.setattr(pipeline, "in_background", counted)
    # (other tests' threads may linger in this process: the fork is made regardless)
    monkeypatch.setattr(background.threading, "active_count", lambda: 1)
    dry = invoke(box, data, mapping, "--dry-run", "--requests", tmp_path / "q.jsonl")
    assert forked == [True]  # read in a process of its own
    assert dry.exit_code == 2, dry.output
    assert "holds the Octolane ids of a real import (row 2 has a people_id)" in dry.output
    assert (tmp_path / "leads.results.csv").read_bytes() == kept
    assert not (tmp_path / "q.jsonl").exists()


def test_a_check_in_the_background_returns_its_result_or_raises_its_error(tmp_path, monkeypatch):
    from importer.run import background

    monkeypatch.setattr(background.threading, "active_count", lambda: 1)
    data = tmp_path / "x.txt"
    data.write_text("abc", encoding="utf-8")
    pending = background.in_background(Path.read_text, data)
    assert pending._process is not None  # a process of its own (Linux forks)
    assert pending.result() == "abc"
    missing = background.in_background(Path.read_text, tmp_path / "missing.txt")
    with pytest.raises(FileNotFoundError, match=r"missing\.txt"):
        missing.result()
    monkeypatch.setattr(background.threading, "active_count", lambda: 2)
    inline = background.in_background(Path.read_text, data)  # threads: no fork, now
    assert inline._process is None and inline.result() == "abc"


def test_a_wrong_base_url_stops_after_five_requests(tmp_path):
    data, mapping = setup(tmp_path, rows=200)
    with running_sandbox() as box:
        wrong = box.url + "/v1/wrong"  # a path the server does not have: 404 on every row
        command = [
            str(data), "-m", str(mapping), "--base-url", wrong, "--json",
            "--out", str(tmp_path / "r.csv"),
        ]  # fmt: skip
        result = CliRunner().invoke(cli, command, env={"OCTOLANE_API_KEY": box.api_key})
        assert result.exit_code == 3
        summary = json.loads(result.stdout)
        assert summary["aborted"].startswith(
            f"5 requests in a row got HTTP 404 from {wrong}/inbound/contacts (Not Found"
        )
        assert summary["sending"]["requests_sent"] == 5
        assert sent(box) == 5  # the server saw five requests, no more
        assert summary["counts"]["not_sent"] == 195
