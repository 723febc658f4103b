"""The sending client's throughput and CPU per request, by requests in flight.

Issue 15, point 1. A sandbox in its own process with 50 ms latency and no limit; the
importer sends contacts at a fixed rate far above what it can reach, so only the
requests in flight bound it. For each level of in flight: requests per second beside
the theoretical ceiling (in flight / latency), and this process's CPU time per request
(the sandbox's is its own), side by side for the ways of sending measured: aiohttp (what
the client ships, ``_Pools.BACKEND``), httpx in pools of ``_Pools.POOL_CONNECTIONS``
connections (``httpx/4``) and httpx in one pool of every connection, as httpx is usually
used (``httpx/all``).

    python benchmarks/bench_client.py
    python benchmarks/bench_client.py --levels 10,64 --requests 3000 --layouts aiohttp

Exit status 1 if a PASS/FAIL line fails: at 10 in flight at least 95% of the ceiling;
at 64 in flight at least 900 requests/s at no more than 1.5 ms of CPU a request.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import stamina
from bench_import import sandbox_process, write_input

from importer.run import OctolaneTarget, run_import, send_import
from importer.send import client as client_module
from importer.settings import Settings

DEMO_KEY = "sandbox-demo-key"


def measure(
    base_url: str, plan, concurrency: int, pool: int, backend: str = "aiohttp"
) -> tuple[float, float]:
    """(requests/s, CPU ms per request) of sending ``plan`` through ``backend`` (httpx:
    in pools of ``pool`` connections)."""
    client_module._Pools.POOL_CONNECTIONS = pool
    client_module._Pools.BACKEND = backend
    settings = Settings(
        api_key=DEMO_KEY, base_url=base_url, concurrency=concurrency, rate_per_min=6_000_000
    )
    cpu, wall = time.process_time(), time.perf_counter()
    report = send_import(plan, OctolaneTarget(settings))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    sent = report.requests_sent
    assert report.counts["ok"] == len(plan.requests), report.counts
    return sent / wall, cpu / sent * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", default="10,32,64")
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument(
        "--layouts", default="aiohttp,httpx/4", help="aiohttp, httpx/N (pools of N), httpx/all"
    )
    args = parser.parse_args()
    stamina.instrumentation.set_on_retry_hooks([])
    levels = [int(x) for x in args.levels.split(",")]
    layouts = args.layouts.split(",")
    shipped = client_module._Pools.BACKEND, client_module._Pools.POOL_CONNECTIONS
    latency_s = args.latency_ms / 1000
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-client-") as tmp:
        csv_path, mapping = write_input(Path(tmp), args.requests, args.requests // 5)
        plan = run_import(csv_path, mapping, dry_run=True).plan
        for level in levels:
            for layout in layouts:
                backend, _, size = layout.partition("/")
                pool = 1_000_000 if size == "all" else int(size or shipped[1])
                with sandbox_process(latency_ms=args.latency_ms) as base_url:
                    measure(base_url, plan, level, pool, backend)  # warm: connections, caches
                with sandbox_process(latency_ms=args.latency_ms) as base_url:
                    rps, cpu_ms = measure(base_url, plan, level, pool, backend)
                rows.append((level, layout, rps, cpu_ms))
    client_module._Pools.BACKEND, client_module._Pools.POOL_CONNECTIONS = shipped
    print(
        f"== {args.requests:,} creates, sandbox in its own process, {args.latency_ms:g} ms"
        " latency, no limit"
    )
    print(f"{'in flight':>9}{'sent by':>10}{'req/s':>8}{'ceiling':>9}{'of ceiling':>12}"
          f"{'CPU ms/req':>12}")  # fmt: skip
    for level, layout, rps, cpu_ms in rows:
        ceiling = level / latency_s
        print(f"{level:>9}{layout:>10}{rps:>8,.0f}{ceiling:>9,.0f}{rps / ceiling:>12.1%}"
              f"{cpu_ms:>12.2f}")  # fmt: skip
    checks = []
    for level, layout, rps, cpu_ms in rows:
        if layout != shipped[0]:
            continue
        if level == 10:
            checks.append((f"10 in flight: {rps / (10 / latency_s):.1%} of the ceiling"
                           " (bar: 95%)", rps >= 0.95 * 10 / latency_s))  # fmt: skip
        if level == 64:
            checks.append((f"64 in flight: {rps:,.0f} req/s at {cpu_ms:.2f} ms CPU a request"
                           " (bar: 900 req/s, 1.5 ms)", rps >= 900 and cpu_ms <= 1.5))  # fmt: skip
    for text, passed in checks:
        print(f"{'PASS' if passed else 'FAIL'}: {text}")
    return 0 if all(passed for _, passed in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
