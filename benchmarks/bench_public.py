"""The public API's bulk requests against the Inbound API's one record a request.

Issue 14 "Speed". 5,000 contacts at 1,000 companies (bench_import.py's input), each
target into a fresh sandbox process with 50 ms latency and a 3,000/min limit, side by
side:

  inbound            octolane-import --api inbound (the baseline)
  public, per_item   --api public; the sandbox answers each batch record by record
  public, summary    --api public; the sandbox answers counts only, so the importer
                     looks the records up (a search per batch) to learn their ids

For each: requests sent (writes and lookups, as the sandbox counted them), their
share of the baseline's, the time, and the time as a fraction of the baseline's.
The bar: with ``per_item`` the public target sends at most 2% of the Inbound
target's requests and finishes at least 20x sooner. Every run must land the same
contacts and accounts.

    python benchmarks/bench_public.py
    python benchmarks/bench_public.py --rows 1000 --companies 200   # quicker

Exit status 1 if a PASS/FAIL line fails.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import stamina
from bench_import import DEMO_KEY, sandbox_process, write_input

from importer.run import run_import
from importer.settings import Settings


@dataclass
class Result:
    name: str
    requests: int  # as the sandbox counted them (writes and reads)
    writes: int
    lookups: int
    seconds: float
    imported: int
    records: dict[str, int]


def one(name: str, api: str, shape: str, csv_path: Path, mapping: Path, args) -> Result:
    config = csv_path.parent / f"sandbox-{shape}.yaml"
    config.write_text(f"behaviour:\n  bulk_response: {shape}\n", encoding="utf-8")
    knobs = {
        "latency_ms": args.latency_ms,
        "rate_limit": args.limit,
        "rate_burst": args.burst,
        "config": config,
    }
    with sandbox_process(**knobs) as base_url:
        settings = Settings(api_key=DEMO_KEY, base_url=base_url, api=api)
        started = time.perf_counter()
        report = run_import(csv_path, mapping, settings=settings)
        seconds = time.perf_counter() - started
        root = base_url.removesuffix("/v1")
        stats = httpx.get(
            f"{root}/_sandbox/stats", headers={"X-API-Key": DEMO_KEY}, timeout=10
        ).json()["data"]
    assert report.send is not None
    return Result(
        name, stats["total"], report.send.requests_sent, report.send.lookups, seconds,
        report.counts.get("imported", 0), stats["records"],
    )  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--companies", type=int, default=1000)
    parser.add_argument("--limit", type=float, default=3000.0, help="server limit, per minute")
    parser.add_argument("--burst", type=int, default=50, help="server token bucket size")
    parser.add_argument("--latency-ms", type=float, default=50.0)
    args = parser.parse_args()
    stamina.instrumentation.set_on_retry_hooks([])
    with tempfile.TemporaryDirectory(prefix="bench-public-") as tmp:
        csv_path, mapping = write_input(Path(tmp), args.rows, args.companies)
        print(
            f"== {args.rows:,} contacts at {args.companies:,} companies; sandbox in its own"
            f" process, {args.latency_ms:g} ms latency, {args.limit:,.0f}/min limit"
        )
        base = one("inbound", "inbound", "per_item", csv_path, mapping, args)
        runs = [
            base,
            one("public, per_item", "public", "per_item", csv_path, mapping, args),
            one("public, summary", "public", "summary", csv_path, mapping, args),
        ]
    print(
        f"{'target':<18}{'requests':>9}{'writes':>8}{'lookups':>8}{'of inbound':>11}"
        f"{'seconds':>9}{'sooner':>8}{'imported':>10}  records"
    )
    for run in runs:
        print(
            f"{run.name:<18}{run.requests:>9,}{run.writes:>8,}{run.lookups:>8,}"
            f"{run.requests / base.requests:>11.2%}{run.seconds:>9.1f}"
            f"{base.seconds / run.seconds:>7.1f}x{run.imported:>10,}  {run.records}"
        )
    per_item = runs[1]
    checks = [
        (
            f"public (per_item) sends {per_item.requests / base.requests:.2%} of inbound's"
            " requests (bar: at most 2%)",
            per_item.requests <= 0.02 * base.requests,
        ),
        (
            f"public (per_item) finishes {base.seconds / per_item.seconds:.1f}x sooner"
            " (bar: at least 20x)",
            base.seconds >= 20 * per_item.seconds,
        ),
        (
            "every run imports every row and lands the same records",
            all(r.imported == args.rows and r.records == base.records for r in runs),
        ),
    ]
    for text, passed in checks:
        print(f"{'PASS' if passed else 'FAIL'}: {text}")
    return 0 if all(passed for _, passed in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
