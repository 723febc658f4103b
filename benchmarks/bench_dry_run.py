"""Dry-run throughput and peak memory on a 1,000,000-row, 12-column CSV.

The bars: at least 50,000 rows/s end to end with peak memory under 1 GiB; the
contacts (leads) mapping under 300 MiB, its peak growing by less than 100 bytes
per row between 100,000 and 1,000,000 rows (flat memory: the planner keeps each
distinct record once, compactly, and the results are written as they are decided).
Each measurement runs in its own subprocess, so its peak is its own, and is
reported next to a baseline measured in the same run: a bare ``csv.reader`` pass
over the same file (the floor any CSV importer pays).

Memory, the bars' figure, is the processes' peak RSS added up (``getrusage``: exact,
and free to read): a big file is validated in a forked worker, which shares the
interpreter's pages with the importer, so the sum counts those twice and is an upper
bound of the tree's peak. The tree's proportional set size (PSS: shared pages split
between the processes that share them) is printed beside it, sampled from /proc every
quarter of a second: a sample walks every page table of the tree (milliseconds of CPU
on a big run), and sampled every 20 ms it took a tenth of the two cores and slowed
the run it measured by a tenth.

Each run writes its own results file, removed first: a dry run over an earlier run's
results reads them before replacing them (do they hold a real import's ids?), which
is not the work measured here.

Usage::

    .venv/bin/python benchmarks/bench_dry_run.py            # 1,000,000 rows
    .venv/bin/python benchmarks/bench_dry_run.py --rows 200000
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from gen_data import DATA_DIR, write_csv  # noqa: E402

LEADS_MAPPING = """
version: 1
description: benchmark mapping (contacts and their companies of gen_data.py)
contact:
  email: {column: Email, transforms: [email]}
  first_name: {column: First Name, transforms: [trim]}
  last_name: {column: Last Name, transforms: [trim]}
account:
  domain: {column: Company Domain, transforms: [domain], required: false}
"""

DEALS_MAPPING = """
version: 1
description: benchmark mapping (contacts, companies and deals of gen_data.py)
options:
  pipeline_id: 00000000-0000-4000-8000-000000000001
contact:
  email: {column: Email, transforms: [email]}
  first_name: {column: First Name, transforms: [trim]}
  last_name: {column: Last Name, transforms: [trim]}
account:
  domain: {column: Company Domain, transforms: [domain], required: false}
opportunity:
  name: {column: Deal Name, transforms: [trim]}
  deal_size: {column: Amount, transforms: [money]}
  close_date: {column: Close Date, transforms: [date]}
"""

BASELINE = """
import csv, json, resource, sys, time
start, cpu = time.perf_counter(), time.process_time()
with open(sys.argv[1], encoding="utf-8", newline="") as handle:
    rows = sum(1 for _ in csv.reader(handle)) - 1
elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"rows": rows, "elapsed_s": elapsed, "cpu_s": cpu, "peak_rss": peak}))
"""

DRY_RUN = """
import json, resource, sys, time
from importer import run_import
start, cpu = time.perf_counter(), time.process_time()
report = run_import(sys.argv[1], sys.argv[2], dry_run=True, results_path=sys.argv[3])
elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
# The validation worker (a second process on big files) counts too: peaks added up.
peak += resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
cpu += resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime
print(json.dumps({"rows": report.rows_read, "elapsed_s": elapsed, "cpu_s": cpu, "peak_rss": peak,
                  "counts": report.counts, "planned": report.planned}))
"""


def measure(script: str, *args: str) -> dict:
    """Run ``script`` in its own process; its JSON line, with ``pss`` (bytes) added."""
    process = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(script), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    peak = 0
    while process.poll() is None:
        peak = max(peak, _tree_pss(process.pid))
        time.sleep(0.25)
    out, err = process.communicate()
    if process.returncode:
        raise subprocess.CalledProcessError(process.returncode, process.args, out, err)
    result = json.loads(out.strip().splitlines()[-1])
    result["pss"] = peak
    return result


def _out(name: str) -> str:
    """A run's own results file, none there yet (see the module's docstring)."""
    path = DATA_DIR / f"bench-results-{name}.csv"
    path.unlink(missing_ok=True)
    return str(path)


def _mib(size: int) -> str:
    return f"{size / 2**20:,.0f} MiB" if size else "n/a"


def _tree_pss(pid: int) -> int:
    """The PSS of ``pid`` and its children, in bytes; 0 where /proc does not tell."""
    total = 0
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return 0
    for each in (pid, *map(int, children)):
        try:
            for line in Path(f"/proc/{each}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1]) * 1024
                    break
        except OSError:
            continue
    return total


def _data(rows: int) -> Path:
    path = DATA_DIR / ("crm-1m.csv" if rows == 1_000_000 else f"crm-{rows}.csv")
    if not path.exists():
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        write_csv(path, rows)
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument(
        "--small", type=int, default=100_000, help="rows of the growth measurement's small file"
    )
    args = parser.parse_args()
    path = _data(args.rows)
    base = measure(BASELINE, str(path))
    runs = [("csv.reader baseline", base)]
    for name, text in (("leads", LEADS_MAPPING), ("leads+deals", DEALS_MAPPING)):
        mapping = DATA_DIR / f"bench-{name}.yaml"
        mapping.write_text(text, encoding="utf-8")
        runs.append(
            (f"dry-run, {name} mapping", measure(DRY_RUN, str(path), str(mapping), _out(name)))
        )
    small = measure(
        DRY_RUN, str(_data(args.small)), str(DATA_DIR / "bench-leads.yaml"), _out("small")
    )
    print(
        f"{'':<28} {'rows':>9}  {'wall s':>7} {'cpu s':>7} {'rows/s (wall)':>14}"
        f" {'peak PSS':>9} {'RSS sum':>8}  ratio"
    )
    for name, m in runs:
        print(
            f"{name:<28} {m['rows']:>9,}  {m['elapsed_s']:7.2f} {m['cpu_s']:7.2f} "
            f"{m['rows'] / m['elapsed_s']:>14,.0f} {_mib(m.get('pss', 0)):>9}"
            f" {m['peak_rss'] / 2**20:>4.0f} MiB  {m['cpu_s'] / base['cpu_s']:5.1f}x"
        )
    print("ratio: the run's CPU time over the csv.reader baseline's, measured in the same run")
    failed = False
    for name, m in runs[1:]:
        rate = m["rows"] / m["elapsed_s"]
        ok = rate >= 50_000 and m["peak_rss"] < 2**30
        failed |= not ok
        print(
            f"{'PASS' if ok else 'FAIL'} {name}: {rate:,.0f} rows/s (>= 50,000),"
            f" {m['peak_rss'] / 2**20:,.0f} MiB RSS (< 1 GiB); {m['counts']}"
        )
    leads = runs[1][1]
    grown = (leads["peak_rss"] - small["peak_rss"]) / max(1, leads["rows"] - small["rows"])
    ok = leads["peak_rss"] < 300 * 2**20 and grown < 100
    failed |= not ok
    print(
        f"{'PASS' if ok else 'FAIL'} flat memory, leads mapping:"
        f" {small['peak_rss'] / 2**20:,.0f} MiB RSS at {small['rows']:,} rows,"
        f" {leads['peak_rss'] / 2**20:,.0f} MiB (< 300) at {leads['rows']:,}:"
        f" {grown:,.0f} bytes per extra row (< 100)"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
