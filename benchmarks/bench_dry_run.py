"""Dry-run throughput and peak memory on a 1,000,000-row, 12-column CSV.

The issue's bar: at least 50,000 rows/s end to end with peak RSS under 1 GiB.
Each measurement runs in its own subprocess, so its peak RSS is its own, and
is reported next to a baseline measured in the same run: a bare
``csv.reader`` pass over the same file (the floor any CSV importer pays).

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
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script), *args],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    path = DATA_DIR / ("crm-1m.csv" if args.rows == 1_000_000 else f"crm-{args.rows}.csv")
    if not path.exists():
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        write_csv(path, args.rows)
    results = DATA_DIR / "bench-results.csv"
    base = measure(BASELINE, str(path))
    runs = [("csv.reader baseline", base)]
    for name, text in (("leads", LEADS_MAPPING), ("leads+deals", DEALS_MAPPING)):
        mapping = DATA_DIR / f"bench-{name}.yaml"
        mapping.write_text(text, encoding="utf-8")
        runs.append(
            (f"dry-run, {name} mapping", measure(DRY_RUN, str(path), str(mapping), str(results)))
        )
    print(
        f"{'':<28} {'rows':>9}  {'wall s':>7} {'cpu s':>7} {'rows/s (wall)':>14} {'peak RSS':>9}  ratio"
    )
    for name, m in runs:
        print(
            f"{name:<28} {m['rows']:>9,}  {m['elapsed_s']:7.2f} {m['cpu_s']:7.2f} "
            f"{m['rows'] / m['elapsed_s']:>14,.0f} {m['peak_rss'] / 2**20:>6.0f} MiB"
            f"  {m['cpu_s'] / base['cpu_s']:5.1f}x"
        )
    print("ratio: the run's CPU time over the csv.reader baseline's, measured in the same run")
    for name, m in runs[1:]:
        rate = m["rows"] / m["elapsed_s"]
        verdict = "PASS" if rate >= 50_000 and m["peak_rss"] < 2**30 else "FAIL"
        print(
            f"{verdict} {name}: {rate:,.0f} rows/s (>= 50,000), {m['peak_rss'] / 2**20:,.0f} MiB (< 1 GiB); {m['counts']}"
        )


if __name__ == "__main__":
    main()
