"""The adaptive limiter under load shed at random: 429s without Retry-After.

Issue 12, point 8: with a fifth of all requests answered 429 and no ``Retry-After``
(a gateway shedding load whatever the rate), an import must keep at least half the
throughput it has when no request is turned away. It used to fall to the limiter's
6/min floor: 81 of 780 rows in 240 s, against 10 s when healthy.

Both runs import the same contacts with the default adaptive rate into a fresh
in-process sandbox (real HTTP on loopback) with 20 ms latency: the baseline with no
faults, then with ``failure_rate=0.2, failure_status=429, failure_retry_after=None``.
Reported: rows per second of each, the ratio (the bar: >= 0.5), the 429s, and the
lowest rate the limiter set.

    python benchmarks/bench_limiter.py               # 780 rows, under a minute
    python benchmarks/bench_limiter.py --rows 3000 --shed 0.3

Exit status 1 if the PASS/FAIL line fails.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from pathlib import Path

from importer.run import run_import
from importer.sandbox import running_sandbox
from importer.settings import Settings

MAPPING = "contact:\n  email: {column: Email, transforms: [email]}\n  first_name: First Name\n"


def measure(folder: Path, rows: int, shed: float) -> dict[str, float]:
    data = folder / f"leads-{shed}.csv"
    lines = ["Email,First Name", *(f"p{i}@company{i}.com,P{i}" for i in range(rows))]
    data.write_text("\n".join(lines) + "\n", encoding="utf-8")
    mapping = folder / "m.yaml"
    mapping.write_text(MAPPING, encoding="utf-8")
    faults = {"failure_rate": shed, "failure_status": 429, "failure_retry_after": None, "seed": 1}
    with running_sandbox(latency_ms=20, **(faults if shed else {})) as box:
        settings = Settings(api_key=box.api_key, base_url=box.base_url, concurrency=10)
        started = time.perf_counter()
        report = run_import(data, mapping, settings=settings, results_path=None,
                            failures_path=None, no_journal=True)  # fmt: skip
        elapsed = time.perf_counter() - started
    assert report.send is not None
    assert report.counts == {"imported": rows}, report.counts
    return {
        "elapsed_s": elapsed,
        "rows_per_s": rows / elapsed,
        "rate_limited": report.send.rate_limited,
        "lowest_per_min": report.send.lowest_rate_per_min,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=780)
    parser.add_argument("--shed", type=float, default=0.2, help="share of requests turned away")
    args = parser.parse_args()
    logging.getLogger("stamina").setLevel(logging.ERROR)  # each retry; the table says it
    with tempfile.TemporaryDirectory() as folder:
        healthy = measure(Path(folder), args.rows, 0.0)
        shed = measure(Path(folder), args.rows, args.shed)
    print(f"{'':<34} {'rows':>6} {'seconds':>8} {'rows/s':>8} {'429s':>6} {'lowest rate':>12}")
    for name, m in (
        ("baseline: no 429s", healthy),
        (f"{args.shed:.0%} 429s, no Retry-After", shed),
    ):
        print(
            f"{name:<34} {args.rows:>6} {m['elapsed_s']:>8.1f} {m['rows_per_s']:>8.0f}"
            f" {m['rate_limited']:>6.0f} {m['lowest_per_min']:>8.0f}/min"
        )
    ratio = shed["rows_per_s"] / healthy["rows_per_s"]
    verdict = "PASS" if ratio >= 0.5 else "FAIL"
    print(f"{verdict} throughput with {args.shed:.0%} 429s / without: {ratio:.2f} (>= 0.50)")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
