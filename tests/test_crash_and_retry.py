"""A crash at any point, or answers lost on the way back, never duplicate or lose a record.

Issue 11, point 10. Each scenario imports N rows that use all four endpoints (a
contact; its company, on a domain other than its e-mail's; a deal at that company,
or with no company at all on one row in ten; a note) and compares what the sandbox
holds at the end, record by record, with a clean run of the same file into another
sandbox: the same contacts, accounts, deals and notes, each exactly once.

- ``kill -9`` of the importer (a subprocess) once a share of the records has
  landed, then the same command again, to the end.
- 30% of answers lost after the write (the connection closed unanswered, or a 500),
  then the same command with ``--retry-unknown`` and the faults off.

N is 2,000; CI runs 500 (the environment variable CI is set there).
"""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
import stamina

from importer.run import run_import
from importer.sandbox import RunningSandbox, running_sandbox
from importer.settings import Settings

pytestmark = pytest.mark.slow
ROWS = 500 if os.environ.get("CI") else 2000
MAPPING = """
contact:
  email: {column: Email, transforms: [email]}
  first_name: First Name
account:
  domain: {column: Website, transforms: [domain], required: false}
opportunity:
  name: Deal
  deal_size: {column: Amount, transforms: [money]}
note:
  title: {value: Imported}
  content: {template: "Row {Row}: {Status}"}
"""


def write_input(folder: Path) -> tuple[Path, Path]:
    data, mapping = folder / "leads.csv", folder / "m.yaml"
    with data.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Row", "Email", "First Name", "Website", "Deal", "Amount", "Status"])
        for i in range(ROWS):
            website = "" if i % 10 == 0 else f"https://company{i % 300}.com"
            writer.writerow(
                [i, f"p{i}@mail{i}.example.com", f"P{i}", website, f"Deal {i}", 100 + i, f"s{i}"]
            )
    mapping.write_text(MAPPING, encoding="utf-8")
    return data, mapping


def listed(box: RunningSandbox, kind: str) -> list[dict[str, Any]]:
    response = httpx.get(
        f"{box.url}/_sandbox/{kind}", params={"limit": 100_000},
        headers={"X-API-Key": box.api_key},
    )  # fmt: skip
    return response.json()["data"][kind]


def landed(box: RunningSandbox) -> int:
    response = httpx.get(f"{box.url}/_sandbox/stats", headers={"X-API-Key": box.api_key})
    return sum(response.json()["data"]["records"].values())


def holdings(box: RunningSandbox) -> dict[str, Counter]:
    """Every record the sandbox holds, by what identifies it (ids aside), with counts."""
    return {
        "accounts": Counter(a["domain"] for a in listed(box, "accounts")),
        "contacts": Counter(c["email"] for c in listed(box, "contacts")),
        "opportunities": Counter(
            (d["name"], d["account_domain"], d["primary_contact_email"])
            for d in listed(box, "opportunities")
        ),
        "notes": Counter(
            (n["title"], n["content"], tuple(n["account_domains"]), tuple(n["contact_emails"]))
            for n in listed(box, "notes")
        ),
    }


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Counter]:
    """What one clean run of the file leaves in a sandbox of its own."""
    folder = tmp_path_factory.mktemp("clean")
    data, mapping = write_input(folder)
    with running_sandbox() as box:
        report = run_import(
            data, mapping, settings=settings(box), pipeline_id=box.pipeline_id,
            results_path=folder / "r.csv", failures_path=folder / "f.csv",
        )  # fmt: skip
        assert report.counts == {"imported": ROWS}
        held = holdings(box)
    assert sum(held["notes"].values()) == ROWS == len(held["notes"])
    assert sum(held["opportunities"].values()) == ROWS
    return held


def settings(box: RunningSandbox) -> Settings:
    return Settings(
        api_key=box.api_key, base_url=box.base_url, concurrency=8, rate_per_min=600_000,
        read_rate_per_min=600_000,  # the lookups too: the sandbox has no read quota here
    )  # fmt: skip


def rows_of(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def assert_one_clean_run(box: RunningSandbox, clean: dict[str, Counter], results: Path) -> None:
    held = holdings(box)
    for kind, expected in clean.items():
        duplicated = held[kind] - expected
        missing = expected - held[kind]
        assert not duplicated and not missing, (kind, list(duplicated)[:3], list(missing)[:3])
    rows = rows_of(results)
    assert [int(r["row"]) for r in rows] == list(range(2, ROWS + 2))  # each row once, in order
    assert {r["status"] for r in rows} <= {"imported", "already_imported"}
    assert all(r["people_id"] and r["opportunity_id"] and r["note_id"] for r in rows)


@pytest.mark.parametrize("share", [0.15, 0.5, 0.85])
def test_kill_9_then_the_same_command_gives_one_clean_run(tmp_path, clean, share):
    data, mapping = write_input(tmp_path)
    out = tmp_path / "leads.results.csv"
    total = sum(sum(c.values()) for c in clean.values())
    with running_sandbox(latency_ms=3) as box:
        env = {k: v for k, v in os.environ.items() if not k.startswith("OCTOLANE_")}
        env["OCTOLANE_API_KEY"] = box.api_key
        command = [
            sys.executable, "-m", "importer", str(data), "--mapping", str(mapping),
            "--base-url", box.base_url, "--pipeline-id", box.pipeline_id,
            "--concurrency", "8", "--rate", "600000", "-q", "--out", str(out),
        ]  # fmt: skip
        process = subprocess.Popen(command, env=env, cwd=tmp_path, stdout=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 120
            while landed(box) < share * total:
                assert process.poll() is None, "the import ended before it could be killed"
                assert time.monotonic() < deadline
                time.sleep(0.01)
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
        at_kill = landed(box)
        assert process.returncode == -signal.SIGKILL
        assert 0 < at_kill < total  # killed mid-run

        again = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True)
        assert again.returncode == 0, again.stdout + again.stderr
        assert "(run 2): resuming: " in again.stdout
        assert_one_clean_run(box, clean, out)


@pytest.mark.parametrize("drop", [True, False], ids=["connection-closed", "500-after-write"])
def test_lost_answers_then_retry_unknown_give_one_clean_run(tmp_path, clean, drop):
    data, mapping = write_input(tmp_path)
    faults = {"failure_rate": 0.3, "seed": 11, "fault_after_write": True}
    # stamina's testing switch: retries keep their bounds but do not wait.
    with (
        stamina.set_testing(True, attempts=1000, cap=True),
        running_sandbox(drop_connection_after_write=drop, **faults) as box,
    ):

        def go(**options: Any):
            return run_import(
                data, mapping, settings=settings(box), pipeline_id=box.pipeline_id,
                results_path=tmp_path / "r.csv", failures_path=tmp_path / "f.csv", **options,
            )  # fmt: skip

        first = go()
        assert first.send.lookups > 0  # lost notes and keyless deals were looked up
        assert first.send.retries > 0
        # Whatever is still unknown (or failed on 5xx after every try) is no failure to fix.
        assert rows_of(tmp_path / "f.csv") == []

        box.configure(failure_rate=0.0)
        last = go(retry_unknown=True)
        assert set(last.counts) <= {"imported", "already_imported"}
        assert_one_clean_run(box, clean, tmp_path / "r.csv")
