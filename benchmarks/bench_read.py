"""Measure how fast ``importer.read.source`` reads big files, and its peak memory.

Each file is read in a fresh subprocess, so the peak RSS reported is the
reading's own (``resource.getrusage``), not this script's. With
``--tracemalloc`` a second subprocess reports the peak of Python allocations
as well (tracemalloc slows reading several times, so its run is not timed).

Usage::

    .venv/bin/python benchmarks/gen_data.py          # once: writes benchmarks/data/
    .venv/bin/python benchmarks/bench_read.py        # both default files
    .venv/bin/python benchmarks/bench_read.py benchmarks/data/crm-1m.csv --repeat 3 --tracemalloc

Output: one line per file with rows, time to open (format, encoding scan,
sniffing), time to read, rows/s over both (wall clock, and per CPU second,
which is steadier on a busy machine), peak RSS, and the RSS the interpreter
had before opening the file (imports included).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"
DEFAULT_FILES = (DATA_DIR / "crm-1m.csv", DATA_DIR / "crm-100k.xlsx")


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def measure(path: str, batch_rows: int, traced: bool) -> dict[str, float]:
    """Read ``path`` once in this process; the figures as a dict."""
    from importer.read.source import open_source

    baseline_mb = _peak_rss_mb()
    if traced:
        import tracemalloc

        tracemalloc.start()
    started, started_cpu = time.perf_counter(), time.process_time()
    rows = 0
    with open_source(path, batch_rows=batch_rows) as source:
        opened = time.perf_counter()
        for batch in source.batches():
            rows += len(batch.rows)
    finished, cpu_s = time.perf_counter(), time.process_time() - started_cpu
    result = {
        "rows": rows,
        "open_s": opened - started,
        "read_s": finished - opened,
        "rows_per_s": rows / (finished - started),
        "rows_per_cpu_s": rows / cpu_s,
        "peak_rss_mb": _peak_rss_mb(),
        "baseline_rss_mb": baseline_mb,
    }
    if traced:
        result["traced_peak_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
    return result


def run_child(path: Path, batch_rows: int, traced: bool) -> dict[str, float]:
    command = [sys.executable, __file__, "--child", str(path), "--batch-rows", str(batch_rows)]
    if traced:
        command.append("--tracemalloc")
    repo = Path(__file__).resolve().parents[1]
    done = subprocess.run(command, capture_output=True, text=True, check=True, cwd=repo)
    return json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="*", type=Path, default=list(DEFAULT_FILES))
    parser.add_argument("--batch-rows", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=1, help="runs per file; the best is shown")
    parser.add_argument("--tracemalloc", action="store_true", help="also report Python's peak")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child, args.batch_rows, args.tracemalloc)))
        return
    for path in args.files:
        if not path.exists():
            sys.exit(f"{path}: missing; run benchmarks/gen_data.py first")
        runs = [run_child(path, args.batch_rows, traced=False) for _ in range(args.repeat)]
        best = max(runs, key=lambda r: r["rows_per_s"])
        line = (
            f"{path.name}: {best['rows']:,} rows, open {best['open_s']:.2f} s + read "
            f"{best['read_s']:.2f} s = {best['rows_per_s']:,.0f} rows/s "
            f"({best['rows_per_cpu_s']:,.0f} per CPU second); peak RSS "
            f"{max(r['peak_rss_mb'] for r in runs):.0f} MB (before opening: "
            f"{best['baseline_rss_mb']:.0f} MB)"
        )
        if args.tracemalloc:
            traced = run_child(path, args.batch_rows, traced=True)
            line += f"; Python peak (tracemalloc) {traced['traced_peak_mb']:.1f} MB"
        print(line, flush=True)


if __name__ == "__main__":
    main()
