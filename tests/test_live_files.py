"""Nothing is lost on disk: the results and failures files grow as rows complete.

The importer runs as a subprocess against a sandbox with latency; once some rows
are done it is killed with SIGKILL (no handler runs). The files it leaves must be
valid CSV holding every row finished so far: the results file each row that was
answered, the failures file every row rejected before sending and every row
Octolane refused. The same command then completes both.
"""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from importer.sandbox import RunningSandbox, running_sandbox

ROWS = 400
MAPPING = """
contact:
  email: {column: Email, transforms: [email]}
  first_name: First Name
account:
  domain: {column: Email, transforms: [domain]}
"""


def rows_of(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def contacts(box: RunningSandbox) -> int:
    response = httpx.get(f"{box.url}/_sandbox/stats", headers={"X-API-Key": box.api_key})
    return response.json()["data"]["records"]["contacts"]


def test_kill_9_leaves_valid_files_of_every_finished_row(tmp_path):
    data, mapping = tmp_path / "leads.csv", tmp_path / "m.yaml"
    lines = ["Email,First Name"]
    for i in range(ROWS):
        # Every 50th row is not an e-mail: invalid before anything is sent.
        lines.append(f"p{i}@company{i}.com,P{i}" if i % 50 else f"not-an-email-{i},P{i}")
    data.write_text("\n".join(lines) + "\n", encoding="utf-8")
    mapping.write_text(MAPPING, encoding="utf-8")
    out, failures = tmp_path / "results.csv", tmp_path / "failures.csv"
    invalid = {str(i + 2) for i in range(ROWS) if not i % 50}

    with running_sandbox(latency_ms=30) as box:
        # The first contacts are refused for their data (400): failures to fix.
        box.fail_next(5, status=400, endpoint="contacts")
        env = {k: v for k, v in os.environ.items() if not k.startswith("OCTOLANE_")}
        env["OCTOLANE_API_KEY"] = box.api_key
        command = [
            sys.executable, "-m", "importer", str(data), "--mapping", str(mapping),
            "--base-url", box.base_url, "--concurrency", "4", "--rate", "6000", "-q",
            "--out", str(out), "--failures", str(failures),
        ]  # fmt: skip
        process = subprocess.Popen(command, env=env, cwd=tmp_path, stdout=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 60
            while contacts(box) < 60:
                assert process.poll() is None, "the import ended before it could be killed"
                assert time.monotonic() < deadline
                time.sleep(0.02)
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
        landed = contacts(box)
        assert process.returncode == -signal.SIGKILL
        assert 60 <= landed < ROWS - len(invalid)  # killed mid-run

        # Valid files, each row at most once, holding what was finished.
        results = rows_of(out)
        assert len({r["row"] for r in results}) == len(results)
        done = [r for r in results if r["status"] == "imported"]
        assert len(done) >= landed - 4 - 5  # all answered but those on the wire
        assert all(r["people_id"] for r in done)
        assert {r["row"] for r in results if r["status"] == "invalid"} == invalid
        refused = {r["row"] for r in results if r["status"] == "failed"}
        assert len(refused) == 5
        to_fix = rows_of(failures)
        assert {r["import_row"] for r in to_fix} == invalid | refused
        assert all(r["Email"] and r["import_error"] for r in to_fix)

        # The same command completes both files, in input order.
        again = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True)
        assert again.returncode == 1, again.stderr  # the invalid and refused rows
        assert "resuming:" in again.stdout
        results = rows_of(out)
        assert [int(r["row"]) for r in results] == list(range(2, ROWS + 2))
        assert contacts(box) == ROWS - len(invalid) - 5
        assert [r["import_row"] for r in rows_of(failures)] == sorted(invalid | refused, key=int)
