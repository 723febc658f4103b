"""Processes that clean up: the forked reader dies with its parent, Ctrl-C and SIGTERM
leave no child and no ``.partial`` file, two runs never write the same files, and the
failures file holds the rows as they were read, whatever happens to the input later."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_import_e2e import results_of, settings, write

from importer.errors import UsageError
from importer.run import run_import
from importer.run.lock import outputs_locked
from importer.sandbox import running_sandbox

MAPPING = """
contact:
  email: {column: Email, transforms: [email]}
  first_name: First Name
  last_name: Last Name
"""


def big_csv(path: Path, rows: int) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write("Email,First Name,Last Name\n")
        handle.writelines(f"p{i}@company{i % 5000}.com,First{i},Last{i}\n" for i in range(rows))
    return path


def children(pid: int) -> list[int]:
    """Live (not zombie) processes whose parent is ``pid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                status = (entry / "status").read_text()
            except OSError:
                continue
            fields = dict(line.split(":\t", 1) for line in status.splitlines() if ":\t" in line)
            if fields.get("PPid", "").strip() == str(pid) and not fields["State"].startswith("Z"):
                found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in state


def wait_until(check, seconds: float = 20.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return False


linux_only = pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc")

PARENT = """
import multiprocessing, sys, time
from importer.map.spec import parse_mapping
from importer.validate import source as validate_source
if sys.argv[3] == "no-deathsig":
    validate_source._die_with = lambda parent: None  # only the closed pipe can end it
mapping = parse_mapping(open(sys.argv[2]).read())
result = validate_source.validated_source(
    sys.argv[1], mapping, pipeline_id=None, read={}, limit=None, batch_rows=2000, parallel=True
)
assert result.parallel
print(multiprocessing.active_children()[0].pid, flush=True)
time.sleep(600)  # never reads another batch: the worker blocks on a full pipe
"""


@linux_only
@pytest.mark.parametrize("how", ["deathsig", "no-deathsig"])
def test_the_reading_worker_dies_with_a_killed_parent(tmp_path, how):
    data = big_csv(tmp_path / "big.csv", 200_000)
    mapping = write(tmp_path / "m.yaml", MAPPING)
    script = write(tmp_path / "parent.py", PARENT)
    parent = subprocess.Popen(
        [sys.executable, str(script), str(data), str(mapping), how],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        worker = int(parent.stdout.readline())
        assert alive(worker)
        time.sleep(0.3)  # the worker fills the pipe and blocks on it
        assert alive(worker)
        parent.kill()
        parent.wait()
        assert wait_until(lambda: not alive(worker)), "the worker outlived its parent"
    finally:
        if parent.poll() is None:
            parent.kill()
        parent.wait()
        parent.stdout.close()
        if alive(worker):
            os.kill(worker, signal.SIGKILL)


@linux_only
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_while_reading_leaves_no_child_and_no_partial_file(tmp_path, sig):
    data = big_csv(tmp_path / "big.csv", 200_000)  # big enough to be read in a worker
    mapping = write(tmp_path / "m.yaml", MAPPING)
    out = tmp_path / "out" / "r.csv"
    command = [
        sys.executable, "-m", "importer", str(data), "--mapping", str(mapping), "--dry-run",
        "--out", str(out), "--failures", str(tmp_path / "out" / "f.csv"), "-q",
    ]  # fmt: skip
    process = subprocess.Popen(
        command, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        # a test started in the background without job control inherits SIGINT ignored,
        # and Python keeps an ignored SIGINT ignored: the import gets it as from a terminal
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    try:
        partial = out.with_name(out.name + ".partial")
        assert wait_until(lambda: children(process.pid), 60), "no forked worker"
        workers = children(process.pid)
        time.sleep(1.0)  # the dry run is writing results by now
        process.send_signal(sig)
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 3, stderr
    assert "Traceback" not in stderr
    assert "interrupted" in stderr
    assert not partial.exists()
    assert not out.exists()  # a results file is whole or absent
    assert [p.name for p in (tmp_path / "out").iterdir()] == []
    assert wait_until(lambda: not any(alive(w) for w in workers), 10)


def test_a_second_run_on_the_same_files_refuses_at_once(tmp_path):
    data = big_csv(tmp_path / "leads.csv", 10)
    mapping = write(tmp_path / "m.yaml", MAPPING)
    out = tmp_path / "r.csv"
    leftover = out.with_name(out.name + ".partial")
    command = [
        sys.executable, "-m", "importer", str(data), "--mapping", str(mapping), "--dry-run",
        "--out", str(out), "-q",
    ]  # fmt: skip
    # The lock is taken in another process: this test's.
    with outputs_locked([out]):
        leftover.write_text("half a file from a run killed with kill -9\n")
        held = subprocess.run(command, text=True, capture_output=True, timeout=60)
    assert held.returncode == 2
    assert "Traceback" not in held.stderr
    assert held.stderr.strip() == (
        f"error: {out} is being written by another octolane-import run: let it finish, or"
        " give this run other files (--out, --failures)"
    )
    assert leftover.exists()  # the other run's business while it runs

    # Once the other run is over, the same command runs, and tidies what a killed run left.
    free = subprocess.run(command, text=True, capture_output=True, timeout=60)
    assert free.returncode == 0, free.stderr
    assert not leftover.exists()
    assert len(results_of(out)) == 10
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "leads.csv", "m.yaml", "r.csv", "r.failures.csv"
    ]  # fmt: skip


def test_the_lock_covers_every_output_and_is_let_go(tmp_path):
    failures = tmp_path / "f.csv"
    with outputs_locked([tmp_path / "r.csv", failures]):
        assert (tmp_path / ".f.csv.lock").exists()
        with (
            pytest.raises(UsageError, match=r"f\.csv is being written by another"),
            outputs_locked([tmp_path / "other.csv", failures]),
        ):
            pass
    assert not (tmp_path / ".f.csv.lock").exists()
    with outputs_locked([failures]):
        pass


def test_the_failures_file_holds_the_rows_as_read_though_the_input_changes(tmp_path):
    lines = ["Email,First Name,Last Name"]
    lines += [f"p{i}@company{i}.com,First{i},Last{i}" for i in range(40)]
    lines += ["not-an-email,Bad,One", "also bad,Bad,Two"]
    data = write(tmp_path / "leads.csv", "\n".join(lines) + "\n")
    mapping = write(tmp_path / "m.yaml", MAPPING)
    changed = "Email,First Name,Last Name\n" + "".join(
        f"other{i}@elsewhere.com,Changed,Row\n" for i in range(42)
    )

    def progress(stage: str, done: int, total: int) -> None:
        if stage == "send" and done and data.read_text() != changed:
            data.write_text(changed, encoding="utf-8")  # someone saves the file mid-run

    with running_sandbox(latency_ms=20) as box:
        report = run_import(
            data, mapping, settings=settings(box, concurrency=2),
            results_path=tmp_path / "r.csv", failures_path=tmp_path / "f.csv",
            progress=progress,
        )  # fmt: skip
    assert data.read_text() == changed  # the input did change while requests were sent
    assert report.failures_written == 2
    with (tmp_path / "f.csv").open(encoding="utf-8-sig", newline="") as handle:
        failed = list(csv.DictReader(handle))
    assert [(r["Email"], r["First Name"], r["Last Name"]) for r in failed] == [
        ("not-an-email", "Bad", "One"),
        ("also bad", "Bad", "Two"),
    ]
    assert [r["import_row"] for r in failed] == ["42", "43"]


def test_no_row_spool_is_left_behind(tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)  # TMPDIR is read again
    data = big_csv(tmp_path / "leads.csv", 50)
    mapping = write(tmp_path / "m.yaml", MAPPING)
    seen: list[list[str]] = []

    def progress(stage: str, done: int, total: int) -> None:
        seen.append(os.listdir(tmp_path / "tmp"))

    from importer.read.spool import RowSpool

    made: list[bool] = []  # each spool: whether its files have no name
    temporary = RowSpool.temporary

    def spied(stack):
        spool = temporary(stack)
        made.append(spool._unnamed is not None)
        return spool

    monkeypatch.setattr(RowSpool, "temporary", spied)
    report = run_import(
        data, mapping, dry_run=True, results_path=tmp_path / "r.csv",
        failures_path=tmp_path / "f.csv", progress=progress,
    )  # fmt: skip
    assert report.rows_read == 50
    assert len(made) == 1  # the path ran: the rows were kept for the failures file
    if made[0]:  # (Linux) two files with no name: nothing to see in the folder, ever
        assert not any(seen)
    else:
        assert any(names and names[0].startswith("octolane-import-") for names in seen)
    assert os.listdir(tmp_path / "tmp") == []


@linux_only
def test_a_dry_run_killed_with_kill_9_leaves_no_file(tmp_path):
    data = big_csv(tmp_path / "big.csv", 200_000)
    mapping = write(tmp_path / "m.yaml", MAPPING)
    out = tmp_path / "out" / "r.csv"
    command = [
        sys.executable, "-m", "importer", str(data), "--mapping", str(mapping), "--dry-run",
        "--out", str(out), "--no-journal", "-q",
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert wait_until(lambda: children(process.pid), 60)
        workers = children(process.pid)
        # results are being written: an unnamed file open in the process
        assert wait_until(
            lambda: any("(deleted)" in os.readlink(f) or "O_TMPFILE" in os.readlink(f)
                        or os.readlink(f).startswith(str(out.parent))
                        for f in Path(f"/proc/{process.pid}/fd").iterdir()
                        if os.path.islink(f)), 30
        )  # fmt: skip
        process.kill()
        process.wait()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert wait_until(lambda: not any(alive(w) for w in workers), 10)
    # no .partial: the results never had a name (an empty lock file may stay: the lock is
    # the operating system's, held by no one once the process is gone)
    left = [p.name for p in (tmp_path / "out").iterdir()]
    assert [n for n in left if not n.endswith(".lock")] == [], left
