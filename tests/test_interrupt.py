"""Ctrl-C mid-run: a real signal to a real ``octolane-import`` process.

The importer runs as a subprocess against a sandbox served from this test
process (with latency, so the import lasts a few seconds). Once some rows have
landed, the test sends SIGINT (or SIGTERM, handled the same way) and checks
that the process stops sending, lets the requests in flight finish, writes
complete results and failures files and exits 3.
"""

from __future__ import annotations

import contextlib
import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from importer.sandbox import RunningSandbox, running_sandbox

ROWS = 120
CONCURRENCY = 4
MAPPING = """
contact:
  email: {column: Email, transforms: [email]}
  first_name: First Name
  last_name: Last Name
"""


def stats(box: RunningSandbox) -> dict:
    response = httpx.get(f"{box.url}/_sandbox/stats", headers={"X-API-Key": box.api_key})
    return response.json()["data"]


def landed(box: RunningSandbox) -> set[str]:
    response = httpx.get(
        f"{box.url}/_sandbox/contacts", params={"limit": 10_000},
        headers={"X-API-Key": box.api_key},
    )  # fmt: skip
    return {c["email"] for c in response.json()["data"]["contacts"]}


def rows_of(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def wait_for_rows(box: RunningSandbox, process: subprocess.Popen, count: int) -> None:
    """Poll the sandbox until ``count`` contacts have landed (the import is under way)."""
    deadline = time.monotonic() + 60
    while stats(box)["records"]["contacts"] < count:
        assert process.poll() is None, "the import ended before it could be interrupted"
        assert time.monotonic() < deadline, "the import did not get going within 60 s"
        time.sleep(0.02)


@pytest.mark.parametrize(
    "sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP], ids=["SIGINT", "SIGTERM", "SIGHUP"]
)
def test_interrupt_stops_sending_and_leaves_complete_results(tmp_path, sig):
    data, mapping = tmp_path / "leads.csv", tmp_path / "m.yaml"
    lines = ["Email,First Name,Last Name"]
    lines += [f"p{i}@company{i}.com,First{i},Last{i}" for i in range(ROWS)]
    data.write_text("\n".join(lines) + "\n", encoding="utf-8")
    mapping.write_text(MAPPING, encoding="utf-8")
    out, failures = tmp_path / "results.csv", tmp_path / "failures.csv"

    with running_sandbox(latency_ms=100) as box:
        env = {k: v for k, v in os.environ.items() if not k.startswith("OCTOLANE_")}
        env["OCTOLANE_API_KEY"] = box.api_key
        command = [
            sys.executable, "-m", "importer", str(data), "--mapping", str(mapping),
            "--base-url", box.base_url, "--concurrency", str(CONCURRENCY), "--rate", "6000",
            "--out", str(out), "--failures", str(failures),
        ]  # fmt: skip
        process = subprocess.Popen(
            command, env=env, cwd=tmp_path, text=True,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip
        try:
            wait_for_rows(box, process, 10)
            process.send_signal(sig)
            answered_at_stop = stats(box)["total"]
            stdout, stderr = process.communicate(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        final = stats(box)
        emails_landed = landed(box)

        assert process.returncode == 3, stderr
        assert "Traceback" not in stderr
        assert "stopping: no new requests; waiting for those in flight" in stderr
        # The progress line after the stop counts sent, failed and not-sent rows apart.
        stopped = [line for line in stderr.splitlines() if line.startswith("stopped: ")]
        assert (
            stopped
            and stopped[-1].endswith(" not sent")
            and "rows sent (0 of them failed)" in (stopped[-1])
        )
        assert "ABORTED: the run was stopped (Ctrl-C or SIGTERM)" in stdout
        # Nothing new after the stop: at most the requests in flight were answered since.
        assert final["total"] - answered_at_stop <= CONCURRENCY
        assert f"sent: {final['total']:,} HTTP requests" in stdout

        rows = rows_of(out)
        assert [int(r["row"]) for r in rows] == list(range(2, ROWS + 2))  # every row, in order
        imported = [r for r in rows if r["status"] == "imported"]
        not_sent = [r for r in rows if r["status"] == "not_sent"]
        assert len(imported) + len(not_sent) == ROWS
        assert 10 <= len(imported) < ROWS
        assert {r["email"] for r in imported} == emails_landed  # each answered request reported
        assert all(r["people_id"] for r in imported)
        assert final["total"] == final["records"]["contacts"] == len(imported)
        assert {r["message"] for r in not_sent} == {
            "not sent: the run was stopped (Ctrl-C or SIGTERM)"
        }
        # Not sent is not "to fix": the failures file is empty, and the summary prints the
        # command that continues the run.
        assert rows_of(failures) == []
        assert f"to continue ({len(not_sent)} rows not sent), run the same command again:" in (
            stdout
        )
        said = stdout.rpartition("run the same command again:")[2]
        assert f"--out {out}" in said and f"--failures {failures}" in said

        # The same command again sends only the rows not sent, and says so.
        box.configure(latency_ms=0)
        again = subprocess.run(command, env=env, cwd=tmp_path, text=True, capture_output=True)
        assert again.returncode == 0, again.stderr
        assert (
            f"resuming: {len(imported)} of {ROWS} rows already done by earlier runs;"
            f" {len(not_sent)} requests to send"
        ) in again.stdout
        after = stats(box)
        assert after["total"] - final["total"] == len(not_sent)  # nothing sent twice
        assert after["records"]["contacts"] == ROWS

        rows = rows_of(out)
        assert [int(r["row"]) for r in rows] == list(range(2, ROWS + 2))
        status = {r["email"]: r["status"] for r in rows}
        assert {e for e, s in status.items() if s == "already_imported"} == emails_landed
        assert {e for e, s in status.items() if s == "imported"} == {r["email"] for r in not_sent}
        assert all(r["people_id"] for r in rows)


def test_a_second_ctrl_c_says_what_is_true(tmp_path):
    data, mapping = tmp_path / "leads.csv", tmp_path / "m.yaml"
    lines = ["Email,First Name,Last Name"]
    lines += [f"p{i}@company{i}.com,First{i},Last{i}" for i in range(ROWS)]
    data.write_text("\n".join(lines) + "\n", encoding="utf-8")
    mapping.write_text(MAPPING, encoding="utf-8")
    with running_sandbox(latency_ms=1000) as box:  # slow answers: still on the wire
        env = {k: v for k, v in os.environ.items() if not k.startswith("OCTOLANE_")}
        env["OCTOLANE_API_KEY"] = box.api_key
        command = [
            sys.executable, "-m", "importer", str(data), "--mapping", str(mapping),
            "--base-url", box.base_url, "--concurrency", str(CONCURRENCY), "--rate", "6000",
            "--out", str(tmp_path / "r.csv"),
        ]  # fmt: skip
        process = subprocess.Popen(
            command, env=env, cwd=tmp_path, text=True,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip
        try:
            wait_for_rows(box, process, 4)
            process.send_signal(signal.SIGINT)
            time.sleep(0.3)
            assert process.poll() is None  # waiting for the requests on the wire
            process.send_signal(signal.SIGINT)
            _, stderr = process.communicate(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    assert process.returncode == 3, stderr
    assert "interrupted before any request was sent" not in stderr
    assert "Traceback" not in stderr
    assert (
        "interrupted: the results file holds the rows finished so far, and every answer that"
        " came is in the run journal; requests on the wire may have reached Octolane. Run the"
        " same command again to continue" in stderr
    )
    assert (tmp_path / "r.journal.sqlite").exists()


def test_a_killed_run_leaves_none_of_the_inputs_rows_in_the_temporary_folder(tmp_path):
    """The rows kept for the failures file (the input's cells, customer data) are in
    files with no name: kill -9 mid-run leaves nothing in the temporary folder."""
    data, mapping = tmp_path / "leads.csv", tmp_path / "m.yaml"
    lines = ["Email,First Name,Last Name"]
    lines += [f"p{i}@company{i}.com,First{i},Last{i}" for i in range(ROWS)]
    data.write_text("\n".join(lines) + "\n", encoding="utf-8")
    mapping.write_text(MAPPING, encoding="utf-8")
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    with running_sandbox(latency_ms=100) as box:
        env = {k: v for k, v in os.environ.items() if not k.startswith("OCTOLANE_")}
        env.update(OCTOLANE_API_KEY=box.api_key, TMPDIR=str(temporary))
        command = [
            sys.executable, "-m", "importer", str(data), "--mapping", str(mapping),
            "--base-url", box.base_url, "--concurrency", str(CONCURRENCY), "--rate", "6000",
            "--out", str(tmp_path / "results.csv"), "--failures", str(tmp_path / "f.csv"),
        ]  # fmt: skip
        process = subprocess.Popen(
            command, env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            wait_for_rows(box, process, 10)
            opened = []  # what the process holds open, where /proc says
            if sys.platform == "linux":
                for fd in os.listdir(f"/proc/{process.pid}/fd"):
                    with contextlib.suppress(OSError):
                        opened.append(os.readlink(f"/proc/{process.pid}/fd/{fd}"))
            process.kill()
            process.wait(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    assert process.returncode == -signal.SIGKILL
    if sys.platform == "linux":  # the path ran: the rows' two files were open, unnamed
        spooled = [t for t in opened if t.startswith(str(temporary)) and t.endswith("(deleted)")]
        assert len(spooled) == 2, opened
    assert list(temporary.iterdir()) == []
