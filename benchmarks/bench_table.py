"""One table: each figure beside its baseline, measured in the same run, and the ratio.

Issue 15, point 7. Reduced sizes by default (about 3 minutes); every figure here is also
measured at full size by its own script (bench_dry_run, bench_import, bench_client,
bench_sandbox, bench_public).

  dry run            rows/s of ``run_import(..., dry_run=True)`` (contacts and companies)
                     against a bare ``csv.reader`` pass, a pandas + pydantic per-row
                     loader and ``frictionless validate`` on the same file
                     (benchmarks/baseline_loader.py), and the peak memory of each
  import             2xx answers per minute into a sandbox at 50 ms and 3,000/min,
                     against a naive httpx loop and against the limit itself
  client             requests/s at 64 in flight, 50 ms, no limit, against the ceiling
                     (in flight / latency)
  sandbox            contact creates/s over 32 connections against the bar (3,000/s)
  public API         requests and seconds of ``--api public`` against ``--api inbound``

    python benchmarks/bench_table.py
    python benchmarks/bench_table.py --rows 1000000 --import-rows 5000   # full size
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from types import SimpleNamespace

import stamina
from bench_client import measure as client_measure
from bench_dry_run import BASELINE, DRY_RUN, LEADS_MAPPING
from bench_dry_run import measure as subprocess_measure
from bench_import import importer_run, naive_run, sandbox_process, write_input
from bench_public import one as public_run
from gen_data import write_csv

from importer.run import run_import

HERE = Path(__file__).resolve().parent
Row = tuple[str, str, str, str, str]


def _ratio(value: float, baseline: float) -> str:
    return f"{value / baseline:.2f}x" if baseline else "-"


def dry_run_rows(folder: Path, rows: int) -> list[Row]:
    path = folder / f"crm-{rows}.csv"
    write_csv(path, rows)
    mapping = folder / "leads.yaml"
    mapping.write_text(LEADS_MAPPING, encoding="utf-8")
    ours = subprocess_measure(DRY_RUN, str(path), str(mapping), str(folder / "results.csv"))
    speed = ours["rows"] / ours["elapsed_s"]
    peak = ours["peak"] / 2**20  # the process tree's PSS (bench_dry_run.measure)
    table: list[Row] = []
    baselines = [("bare csv.reader pass", subprocess_measure(BASELINE, str(path)))]
    for kind, name in (("pandas-pydantic", "pandas + pydantic loader"),
                       ("frictionless", "frictionless validate")):  # fmt: skip
        try:
            baselines.append((name, _loader(kind, path)))
        except (subprocess.CalledProcessError, ValueError) as exc:
            table.append((f"dry run, {rows:,} rows", f"{speed:,.0f} rows/s", name,
                          f"not measured ({type(exc).__name__})", "-"))  # fmt: skip
    for name, base in baselines:
        base_speed = base["rows"] / base["elapsed_s"]
        table.append((f"dry run, {rows:,} rows", f"{speed:,.0f} rows/s", name,
                      f"{base_speed:,.0f} rows/s", _ratio(speed, base_speed)))  # fmt: skip
        base_peak = base.get("peak", base["peak_rss"]) / 2**20
        table.append((f"dry run, {rows:,} rows: peak memory", f"{peak:,.0f} MiB", name,
                      f"{base_peak:,.0f} MiB", _ratio(peak, base_peak)))  # fmt: skip
    return table


def _loader(kind: str, path: Path) -> dict:
    import json

    out = subprocess.run(
        [sys.executable, str(HERE / "baseline_loader.py"), kind, str(path)],
        check=True, capture_output=True, text=True, timeout=1800,
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def import_rows(folder: Path, rows: int, limit: float) -> list[Row]:
    csv_path, mapping = write_input(folder, rows, max(1, rows // 5))
    knobs = {"latency_ms": 50, "rate_limit": limit, "rate_burst": 50}
    with sandbox_process(**knobs) as base_url:
        naive = naive_run(base_url, csv_path, min(100, rows), limit)
    with sandbox_process(**knobs) as base_url:
        ours = importer_run("adaptive", base_url, csv_path, mapping, limit, None)
    what = f"import, {rows:,} contacts at 50 ms and {limit:,.0f}/min"
    return [
        (what, f"{ours.per_min:,.0f} ok/min", "naive httpx loop", f"{naive.per_min:,.0f} ok/min",
         _ratio(ours.per_min, naive.per_min)),
        (what, f"{ours.per_min:,.0f} ok/min", "the server's limit", f"{limit:,.0f}/min",
         _ratio(ours.per_min, limit)),
    ]  # fmt: skip


def client_rows(folder: Path, requests: int, level: int = 64, latency_ms: float = 50) -> list[Row]:
    csv_path, mapping = write_input(folder, requests, max(1, requests // 5))
    plan = run_import(csv_path, mapping, dry_run=True).plan
    from importer.send import client as client_module

    pool = client_module._Pools.POOL_CONNECTIONS
    with sandbox_process(latency_ms=latency_ms) as base_url:
        client_measure(base_url, plan, level, pool)  # warm
    with sandbox_process(latency_ms=latency_ms) as base_url:
        rps, cpu_ms = client_measure(base_url, plan, level, pool)
    ceiling = level / (latency_ms / 1000)
    return [
        (f"client, {level} in flight at {latency_ms:g} ms", f"{rps:,.0f} req/s",
         "ceiling (in flight / latency)", f"{ceiling:,.0f} req/s", _ratio(rps, ceiling)),
        (f"client, {level} in flight: CPU a request", f"{cpu_ms:.2f} ms", "the bar",
         "1.50 ms", _ratio(cpu_ms, 1.5)),
    ]  # fmt: skip


def sandbox_rows() -> list[Row]:
    out = subprocess.run(
        [sys.executable, str(HERE / "bench_sandbox.py"), "--connections", "32", "--duration", "5"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    found = re.search(r"requests/s:\s*([\d,]+)", out.stdout)
    rps = float(found.group(1).replace(",", "")) if found else 0.0
    return [("sandbox, contact creates over 32 connections", f"{rps:,.0f}/s", "the bar",
             "3,000/s", _ratio(rps, 3000))]  # fmt: skip


def public_rows(folder: Path, rows: int) -> list[Row]:
    csv_path, mapping = write_input(folder, rows, max(1, rows // 5))
    args = SimpleNamespace(latency_ms=50, limit=3000.0, burst=50)
    inbound = public_run("inbound", "inbound", "per_item", csv_path, mapping, args)
    public = public_run("public", "public", "per_item", csv_path, mapping, args)
    what = f"--api public, {rows:,} contacts"
    return [
        (f"{what}: requests", f"{public.requests:,}", "--api inbound", f"{inbound.requests:,}",
         _ratio(public.requests, inbound.requests)),
        (f"{what}: seconds", f"{public.seconds:.1f} s", "--api inbound",
         f"{inbound.seconds:.1f} s", _ratio(public.seconds, inbound.seconds)),
    ]  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000, help="dry-run rows")
    parser.add_argument("--import-rows", type=int, default=1000)
    parser.add_argument("--client-requests", type=int, default=2000)
    args = parser.parse_args()
    stamina.instrumentation.set_on_retry_hooks([])
    table: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="bench-table-") as tmp:
        folder = Path(tmp)
        for part, run in (
            ("dry", lambda: dry_run_rows(folder / "dry", args.rows)),
            ("import", lambda: import_rows(folder / "import", args.import_rows, 3000.0)),
            ("client", lambda: client_rows(folder / "client", args.client_requests)),
            ("sandbox", sandbox_rows),
            ("public", lambda: public_rows(folder / "public", args.import_rows)),
        ):
            (folder / part).mkdir()
            table += run()
    header: Row = ("figure", "value", "baseline", "baseline's value", "ratio")
    widths = [max(len(row[i]) for row in [header, *table]) for i in range(5)]
    for row in [header, tuple("-" * w for w in widths), *table]:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    print("ratio: value / baseline's value (for seconds, requests and memory, lower is better)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
