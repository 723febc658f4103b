"""The attack suite: hostile files that must neither crash the importer, nor hang it, nor
exhaust the machine's memory. Each runs the real console entry point in a child process
whose peak memory is measured and printed (``pytest -s`` shows the table)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from importer.read._sniff import column_names
from importer.read.source import open_source

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/status").exists(), reason="peak memory is read from /proc"
)

#: Runs the CLI in this child and reports the child's own peak RSS (KiB) on stderr.
#: (VmHWM, not ru_maxrss: Linux carries the parent's high-water mark across exec into
#: ru_maxrss, so a child forked from a big test process would report the parent's.)
RUNNER = """
import atexit, re, sys
def peak():
    status = open("/proc/self/status").read()
    print("peak-rss-kib=" + re.search(r"VmHWM:\\s+(\\d+)", status).group(1), file=sys.stderr)
atexit.register(peak)
from importer.cli import main
sys.argv = ["octolane-import", *sys.argv[1:]]
main()
"""


def run_measured(*args: object, timeout: float = 110) -> tuple[int, str, str, float, float]:
    """(exit code, stdout, stderr without the RSS line, peak RSS in MiB, seconds)."""
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-c", RUNNER, *map(str, args)],
        capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip
    seconds = time.monotonic() - started
    lines = result.stderr.splitlines()
    peaks = [int(line.split("=")[1]) for line in lines if line.startswith("peak-rss-kib=")]
    assert peaks, result.stderr
    stderr = "\n".join(line for line in lines if not line.startswith("peak-rss-kib="))
    print(f"\n  {Path(str(args[0])).name}: exit {result.returncode}, peak RSS "
          f"{peaks[0] / 1024:.0f} MiB, {seconds:.1f} s")  # fmt: skip
    return result.returncode, result.stdout, stderr, peaks[0] / 1024, seconds


def test_repeated_header_names_are_renamed_in_linear_time():
    names = column_names(["Phone"] * 200_000 + ["Phone (3)", ""])
    assert names[:3] == ("Phone", "Phone (2)", "Phone (4)")  # (3) is a real header's name
    assert names[-2:] == ("Phone (3)", "Column 200002")
    assert len(set(names)) == len(names)


def test_a_million_columns_of_the_same_name(tmp_path):
    count = 1_000_000
    data = tmp_path / "wide.csv"
    data.write_text(
        ",".join(["Email", *["Phone"] * count]) + "\n"
        + ",".join(["ann@acme.com", *["1"] * count]) + "\n",
        encoding="utf-8",
    )  # fmt: skip
    with open_source(data) as source:
        assert len(source.info.columns) == count + 1
        assert source.info.columns[-1] == f"Phone ({count})"
    code, stdout, stderr, peak, _ = run_measured(
        data, "-m", "hubspot", "--dry-run", "--out", tmp_path / "r.csv", "-q"
    )
    assert code == 0, stderr
    assert "Traceback" not in stderr
    assert "would_import" in stdout
    assert peak < 1024  # a row of a million cells, a few copies of it


def test_a_100_mb_line_without_a_line_break(tmp_path):
    data = tmp_path / "one-line.csv"
    with data.open("w", encoding="utf-8") as handle:
        handle.write("Email,Name\nann@acme.com,Ann\n")
        chunk = "x" * (1 << 20)
        for _ in range(100):
            handle.write(chunk)
    code, _, stderr, peak, _ = run_measured(
        data, "-m", "hubspot", "--dry-run", "--out", tmp_path / "r.csv"
    )
    assert code == 2
    assert stderr.strip() == (
        f"error: {data}: line 3 is longer than 16 MiB with no line break: this is not a CSV"
        " export, or its line breaks were lost; open it in a text editor to check"
    )
    assert peak < 200  # the file is 100 MB: it is never held whole
    assert not (tmp_path / "r.csv").exists()


@pytest.mark.parametrize("command", ["import", "map"])
def test_map_refuses_the_long_line_too(tmp_path, command):
    data = tmp_path / "one-line.csv"
    data.write_text("Email,Name\n" + "x" * (17 << 20), encoding="utf-8")
    args = [data, "-m", "hubspot", "--dry-run", "--out", tmp_path / "r.csv"]
    code, _, stderr, _, _ = run_measured(*(["map", data] if command == "map" else args))
    assert code == 2
    assert "is longer than 16 MiB with no line break" in stderr
    assert "Traceback" not in stderr
