"""Speed of a real import into the sandbox: how close to the server's limit, at what CPU cost.

Issue 4 "Speed". Generates 5,000 contacts at 1,000 companies (deterministic),
starts ``python -m importer sandbox`` as a separate process with 50 ms latency
and a 3,000/min rate limit (a fresh sandbox for every run, so the sandbox's
dedup never short-circuits a run), and reports side by side:

  (a) naive     the loop a user would write with httpx: one POST per contact,
                sequential, sleeping Retry-After on a 429 (first 500 rows only,
                to keep the run short);
  (b) adaptive  octolane-import with the default adaptive rate;
  (c) fixed     octolane-import with --rate 3000;
  (d) capped    octolane-import, adaptive, up to 32 in flight, into a 10,000/min limit
                whose bucket holds one Retry-After's worth (1 s: 167 requests). A
                smaller bucket makes every 429 cost what no client that honours
                Retry-After can win back (with 50, each costs 117 requests: even a
                limiter told the limit after its first 429 reaches only ~96%). Its
                PASS line counts the share without the free burst (at most 167 of the
                5,000 requests); --high-burst sets the bucket;
  (e) start     8 rows, and make demo's file, into a sandbox with no limit: adaptive
                against --rate 1000000 (issue 15, point 3; only with --runs ...,e).

Each as a fraction of the server's limit (successful requests per minute ÷
3,000), with its 429s and the requests sent against the plan's minimum (which
must equal minimum + retries, counted by the sandbox as well as the importer).

Then the importer's own CPU time per request against a sandbox with no
latency, at concurrency 4, 8, 16 and 32 (the sandbox runs in its own process,
so this process's CPU time is the importer's alone), next to a bare
``httpx.AsyncClient`` doing the same POSTs.

    python benchmarks/bench_import.py                   # everything, about 5 minutes
    python benchmarks/bench_import.py --skip-speed      # the CPU table only
    python benchmarks/bench_import.py --rows 1000 --companies 200 --naive-rows 100
    python benchmarks/bench_import.py --runs d,e --skip-cpu      # point 2 and point 3

Exit status 1 if a PASS/FAIL line fails.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import math
import random
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import stamina

from importer.run import OctolaneTarget, run_import, send_import
from importer.settings import Settings

DEMO_KEY = "sandbox-demo-key"
MAPPING = """\
version: 1
description: benchmark contacts (company domain given)
contact:
  email: {column: Email, transforms: [email]}
  first_name: {column: First Name, transforms: [trim]}
  last_name: {column: Last Name, transforms: [trim]}
account:
  domain: {column: Website, transforms: [domain]}
"""
FIRST = ["Ada", "Ben", "Cleo", "Dev", "Eli", "Fay", "Gus", "Hana", "Ivo", "Jun", "Kai", "Lea"]
LAST = ["Okafor", "Lind", "Moreau", "Patel", "Quinn", "Rossi", "Sato", "Tan", "Ueda", "Vance"]
WORDS = ["north", "blue", "iron", "summit", "nova", "bright", "clear", "delta", "echo", "field"]
TRADES = ["labs", "works", "logistics", "capital", "systems", "foods", "health", "media"]


# ---- input --------------------------------------------------------------------------


def write_input(folder: Path, rows: int, companies: int) -> tuple[Path, Path]:
    """A deterministic CSV of ``rows`` contacts spread over ``companies`` domains."""
    rng = random.Random(20240611)
    domains = []
    for i in range(companies):
        domains.append(f"{rng.choice(WORDS)}{rng.choice(TRADES)}{i}.com")
    path = folder / f"contacts-{rows}.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["First Name", "Last Name", "Email", "Website"])
        for i in range(rows):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            domain = domains[i % companies]
            email = f"{first.lower()}.{last.lower()}.{i}@{domain}"
            writer.writerow([first, last, email, f"https://www.{domain}/"])
    mapping = folder / "bench-contacts.yaml"
    mapping.write_text(MAPPING, encoding="utf-8")
    return path, mapping


# ---- the sandbox, in its own process ------------------------------------------------


@contextlib.contextmanager
def sandbox_process(**flags: object) -> Iterator[str]:
    """Start ``python -m importer sandbox --port 0 ...``; yield its base URL (…/v1)."""
    command = [sys.executable, "-m", "importer", "sandbox", "--host", "127.0.0.1", "--port", "0"]
    for name, value in flags.items():
        command += [f"--{name.replace('_', '-')}", str(value)]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1
    )
    try:
        base_url = _read_base_url(process)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _read_base_url(process: subprocess.Popen) -> str:
    assert process.stdout is not None
    for line in process.stdout:
        found = re.search(r"base URL\s+(\S+)", line)
        if found:
            base_url = found.group(1)
            _wait_healthy(base_url)
            return base_url
    raise SystemExit(
        f"the sandbox did not start: {process.stderr.read() if process.stderr else ''}"
    )


def _wait_healthy(base_url: str) -> None:
    url = base_url.removesuffix("/v1") + "/_sandbox/health"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(url, timeout=2).status_code == 200:
                return
        time.sleep(0.05)
    raise SystemExit("the sandbox did not answer within 20 s")


def server_stats(base_url: str) -> dict:
    url = base_url.removesuffix("/v1") + "/_sandbox/stats"
    return httpx.get(url, headers={"X-API-Key": DEMO_KEY}, timeout=10).json()["data"]


def _status_count(stats: dict, status: int) -> int:
    return sum(by.get(str(status), 0) for by in stats["requests"].values())


# ---- the runs --------------------------------------------------------------------


@dataclass
class Run:
    name: str
    rows: int
    minimum: int  # requests the plan needs
    sent: int  # requests the importer sent
    server_total: int  # requests the sandbox answered
    ok: int  # 2xx answers
    rate_limited: int  # 429 answers (as the sandbox counted them)
    retries: int | None  # None: the naive loop has no such notion beyond its 429 repeats
    elapsed_s: float
    limit_per_min: float
    note: str = ""

    @property
    def per_min(self) -> float:
        return self.ok / self.elapsed_s * 60 if self.elapsed_s else 0.0

    @property
    def of_limit(self) -> float:
        return self.per_min / self.limit_per_min

    @property
    def share_429(self) -> float:
        return self.rate_limited / self.server_total if self.server_total else 0.0


def naive_run(base_url: str, csv_path: Path, rows: int, limit: float) -> Run:
    """What a user writes first: a for loop over the rows, one POST each, no concurrency."""
    with csv_path.open(newline="", encoding="utf-8") as handle:
        records = list(csv.DictReader(handle))[:rows]
    sent = rate_limited = 0
    started = time.perf_counter()
    with httpx.Client(base_url=base_url, headers={"X-API-Key": DEMO_KEY}, timeout=30) as api:
        for record in records:
            body = {
                "email": record["Email"].strip().lower(),
                "first_name": record["First Name"],
                "last_name": record["Last Name"],
            }
            while True:
                sent += 1
                response = api.post("/inbound/contacts", json=body)
                if response.status_code != 429:
                    response.raise_for_status()
                    break
                rate_limited += 1
                time.sleep(float(response.headers.get("Retry-After", "1")))
    elapsed = time.perf_counter() - started
    stats = server_stats(base_url)
    return Run(
        "(a) naive loop", len(records), len(records), sent, stats["total"], _status_count(stats, 200),
        _status_count(stats, 429), sent - len(records), elapsed, limit,
        note=f"first {len(records)} rows",
    )  # fmt: skip


def importer_run(
    name: str,
    base_url: str,
    csv_path: Path,
    mapping: Path,
    limit: float,
    rate: float | None,
    concurrency: int = 10,
) -> Run:
    settings = Settings(
        api_key=DEMO_KEY, base_url=base_url, rate_per_min=rate, concurrency=concurrency
    )
    report = run_import(csv_path, mapping, settings=settings)
    send = report.send
    stats = server_stats(base_url)
    if report.counts.get("imported") != report.rows_read:
        print(f"warning: {name}: not every row was imported: {report.counts}", file=sys.stderr)
    return Run(
        name, report.rows_read, len(report.plan.requests), send.requests_sent, stats["total"],
        _status_count(stats, 200), _status_count(stats, 429), send.retries, send.elapsed_s, limit,
        note=f"concurrency {settings.concurrency}, peak in flight {send.peak_in_flight},"
        f" final rate {send.rate_per_min:,.0f}/min",
    )  # fmt: skip


def print_speed(runs: list[Run]) -> None:
    print(
        f"{'run':<16}{'rows':>6}{'ok req/min':>12}{'of limit':>10}{'429s':>7}{'429 %':>7}"
        f"{'sent':>7}{'min':>7}{'retries':>9}{'server':>8}{'time s':>8}  note"
    )
    for run in runs:
        retries = "-" if run.retries is None else f"{run.retries}"
        print(
            f"{run.name:<16}{run.rows:>6}{run.per_min:>12,.0f}{run.of_limit:>10.1%}"
            f"{run.rate_limited:>7}{run.share_429:>7.1%}{run.sent:>7}{run.minimum:>7}"
            f"{retries:>9}{run.server_total:>8}{run.elapsed_s:>8.1f}  {run.note}"
        )


# ---- CPU per request ---------------------------------------------------------------


@dataclass
class CpuRow:
    concurrency: int
    requests: int
    importer_ms: float
    importer_per_s: float
    httpx_ms: float
    httpx_per_s: float


def cpu_importer(base_url: str, csv_path: Path, mapping: Path, concurrency: int) -> tuple:
    planned = run_import(csv_path, mapping, dry_run=True)
    # A fixed, very high rate: pacing never waits, so the cost measured is the
    # importer's own (limiter bookkeeping included), not the time it sleeps.
    settings = Settings(
        api_key=DEMO_KEY, base_url=base_url, concurrency=concurrency, rate_per_min=6_000_000
    )
    cpu, wall = time.process_time(), time.perf_counter()
    report = send_import(planned.plan, OctolaneTarget(settings))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    assert report.counts["ok"] == len(planned.plan.requests), report.counts
    return report.requests_sent, cpu / report.requests_sent * 1000, report.requests_sent / wall


async def _bare_httpx(base_url: str, bodies: list[dict], concurrency: int) -> None:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    queue = list(reversed(bodies))
    async with httpx.AsyncClient(base_url=base_url + "/", limits=limits, timeout=30) as api:

        async def worker() -> None:
            while queue:
                response = await api.post(
                    "inbound/contacts", json=queue.pop(), headers={"X-API-Key": DEMO_KEY}
                )
                response.raise_for_status()

        await asyncio.gather(*(worker() for _ in range(concurrency)))


def cpu_httpx(base_url: str, requests: int, concurrency: int) -> tuple[float, float]:
    bodies = [
        {"email": f"bare{concurrency}.{i}@c{i % 500}.com", "first_name": "B"}
        for i in range(requests)
    ]
    cpu, wall = time.process_time(), time.perf_counter()
    asyncio.run(_bare_httpx(base_url, bodies, concurrency))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return cpu / requests * 1000, requests / wall


def cpu_table(folder: Path, requests: int, levels: list[int], repeat: int) -> list[CpuRow]:
    """Each level ``repeat`` times, each time into a fresh sandbox; the least CPU is kept
    (other load on the machine only ever adds to it)."""
    csv_path, mapping = write_input(folder, requests, max(1, requests // 5))
    warm_path, warm_mapping = write_input(folder, 200, 40)
    with sandbox_process() as base_url:  # warm-up: imports, caches, first connections
        cpu_importer(base_url, warm_path, warm_mapping, 8)
        cpu_httpx(base_url, 200, 8)
    rows = []
    for concurrency in levels:
        runs = []
        for _ in range(repeat):
            with sandbox_process() as base_url:  # fresh: no dedup short-circuit
                sent, importer_ms, importer_rps = cpu_importer(
                    base_url, csv_path, mapping, concurrency
                )
                httpx_ms, httpx_rps = cpu_httpx(base_url, requests, concurrency)
            runs.append(CpuRow(concurrency, sent, importer_ms, importer_rps, httpx_ms, httpx_rps))
        best = CpuRow(
            concurrency, runs[0].requests,
            min(r.importer_ms for r in runs), max(r.importer_per_s for r in runs),
            min(r.httpx_ms for r in runs), max(r.httpx_per_s for r in runs),
        )  # fmt: skip
        rows.append(best)
    return rows


def print_cpu(rows: list[CpuRow], limit_per_min: float) -> None:
    top = 10_000.0  # Octolane's Enterprise plan at launch (API.md §1.8)
    print(
        f"{'concurrency':>11}{'requests':>9}{'importer CPU':>14}{'req/s':>7}{'bare httpx':>12}"
        f"{'req/s':>7}{'core @' + format(limit_per_min, ',.0f'):>13}{'core @10,000':>14}"
        f"{'max/min @200ms':>16}"
    )
    print(
        f"{'':>11}{'':>9}{'ms/request':>14}{'':>7}{'ms/request':>12}{'':>7}{'/min':>13}{'/min':>14}"
    )
    for row in rows:
        print(
            f"{row.concurrency:>11}{row.requests:>9}{row.importer_ms:>14.2f}"
            f"{row.importer_per_s:>7,.0f}{row.httpx_ms:>12.2f}{row.httpx_per_s:>7,.0f}"
            f"{limit_per_min / 60 * row.importer_ms / 1000:>13.0%}"
            f"{top / 60 * row.importer_ms / 1000:>14.0%}"
            f"{row.concurrency / 0.2 * 60:>16,.0f}"
        )
    print(
        "core @N/min: share of one core the importer needs to send N requests a minute; "
        "max/min @200ms: the most N in flight can send at 200 ms latency"
    )


#: API.md §1.8: "10 concurrent connections per key" (the MCP page, said to share the REST limits).
DOCUMENTED_CAP = 10


def recommend(rows: list[CpuRow]) -> str:
    """The largest measured level within the documented cap that stays light on CPU.

    Concurrency buys throughput (``N / latency``) only up to the server's cap; beyond
    it the server answers 429. Below the cap, more in flight costs some CPU per
    request. The rule: the largest level <= the documented cap at which sending at
    the top documented plan rate (10,000/min) takes at most half of one core.
    """
    top_per_s = 10_000 / 60
    fits = [r for r in rows if r.concurrency <= DOCUMENTED_CAP and top_per_s * r.importer_ms <= 500]
    if not fits:
        return "no measured level within the documented cap stays under half a core at 10,000/min"
    best = max(fits, key=lambda r: r.concurrency)
    cheapest = min(rows, key=lambda r: r.importer_ms)
    return (
        f"recommended default concurrency: {best.concurrency} (the largest measured level within "
        f"the documented {DOCUMENTED_CAP} concurrent connections per key; "
        f"{best.importer_ms:.2f} ms CPU/request, {top_per_s * best.importer_ms / 1000:.0%} of a "
        f"core at 10,000/min; {best.concurrency} in flight sustain "
        f"{best.concurrency / 0.2 * 60:,.0f}/min at 200 ms latency; the cheapest level, "
        f"{cheapest.concurrency}, costs {cheapest.importer_ms:.2f} ms but sustains only "
        f"{cheapest.concurrency / 0.2 * 60:,.0f}/min at 200 ms)"
    )


# ---- main ----------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--companies", type=int, default=1000)
    parser.add_argument("--naive-rows", type=int, default=500)
    parser.add_argument("--limit", type=float, default=3000.0, help="server limit, per minute")
    parser.add_argument("--burst", type=int, default=50, help="server token bucket size")
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument(
        "--high-limit", type=float, default=10_000.0, help="run (d)'s server limit, per minute"
    )
    parser.add_argument(
        "--high-burst", type=int, default=None,
        help="run (d)'s bucket (default: one Retry-After's worth, the limit's second)",
    )  # fmt: skip
    parser.add_argument("--cpu-requests", type=int, default=3000)
    parser.add_argument("--cpu-levels", default="4,8,10,16,32")
    parser.add_argument("--repeat", type=int, default=2, help="CPU runs per level (least kept)")
    parser.add_argument("--runs", default="a,b,c,d", help="which speed runs: a,b,c,d, e (start)")
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--skip-cpu", action="store_true")
    args = parser.parse_args()
    # The summary counts retries; stamina's per-retry log line would only be noise here.
    stamina.instrumentation.set_on_retry_hooks([])
    checks: list[tuple[str, bool]] = []
    with tempfile.TemporaryDirectory(prefix="bench-import-") as tmp:
        folder = Path(tmp)
        if not args.skip_speed:
            checks += speed(args, folder)
        if not args.skip_cpu:
            cpu(args, folder)
    for text, passed in checks:
        print(f"{'PASS' if passed else 'FAIL'}: {text}")
    return 0 if all(passed for _, passed in checks) else 1


def speed(args: argparse.Namespace, folder: Path) -> list[tuple[str, bool]]:
    csv_path, mapping = write_input(folder, args.rows, args.companies)
    knobs = {"latency_ms": args.latency_ms, "rate_limit": args.limit, "rate_burst": args.burst}
    wanted = set(args.runs.split(","))
    if wanted - {"e"}:
        print(
            f"== {args.rows:,} contacts at {args.companies:,} companies into a sandbox with "
            f"{args.latency_ms:g} ms latency and a {args.limit:,.0f}/min limit "
            f"(token bucket of {args.burst}: the free burst adds at most {args.burst} requests, "
            f"so it inflates no figure by more than {args.burst / args.rows:.1%}); "
            "a fresh sandbox process per run"
        )
    runs: dict[str, Run] = {}
    if "a" in wanted:
        with sandbox_process(**knobs) as base_url:
            runs["a"] = naive_run(base_url, csv_path, args.naive_rows, args.limit)
    if "b" in wanted:
        with sandbox_process(**knobs) as base_url:
            runs["b"] = importer_run("(b) adaptive", base_url, csv_path, mapping, args.limit, None)
    if "c" in wanted:
        with sandbox_process(**knobs) as base_url:
            runs["c"] = importer_run(
                "(c) --rate 3000", base_url, csv_path, mapping, args.limit, args.limit
            )
    high = args.high_limit
    high_burst = args.high_burst or math.ceil(high / 60)  # Retry-After is whole seconds: 1 s
    knobs = {"latency_ms": args.latency_ms, "rate_limit": high, "rate_burst": high_burst}
    if "d" in wanted:
        with sandbox_process(**knobs) as base_url:
            runs["d"] = importer_run(
                f"(d) cap 32 @{high / 1000:g}k", base_url, csv_path, mapping, high, None,
                concurrency=32,
            )  # fmt: skip
    if "e" in wanted:
        checks_e = start(folder)
    if runs:
        print_speed(list(runs.values()))
        print(
            "ok req/min: 2xx answers per minute of sending; of limit: that ÷ the server's"
            " limit; sent/server: requests the importer sent / the sandbox answered; min: the"
            " plan's minimum; peak in flight: the most requests on the wire at once"
        )
    checks = []
    if "b" in wanted:
        adaptive = runs["b"]
        checks.append(
            (
                f"adaptive reaches ≥ 95% of the limit ({adaptive.of_limit:.1%}) with 429s < 3%"
                f" of requests ({adaptive.share_429:.2%})",
                adaptive.of_limit >= 0.95 and adaptive.share_429 < 0.03,
            )
        )
    if "d" in wanted:
        capped = runs["d"]
        net = capped.of_limit - high_burst / args.rows  # the free burst taken out
        checks.append(
            (
                f"at {high:,.0f}/min (a bucket of {high_burst}) with up to 32 in flight: ≥ 95%"
                f" of the limit ({capped.of_limit:.1%}; {net:.1%} without the free burst)"
                f" with 429s < 1% ({capped.share_429:.2%})",
                net >= 0.95 and capped.share_429 < 0.01,
            )
        )
    if "e" in wanted:
        checks += checks_e
    for key, run in runs.items():
        if key == "a":
            continue
        checks.append(
            (
                f"{run.name}: requests sent {run.sent} == plan minimum {run.minimum} + retries "
                f"{run.retries} == requests the sandbox answered {run.server_total}",
                run.sent == run.minimum + (run.retries or 0) == run.server_total,
            )
        )
    return checks


def start(folder: Path, repeat: int = 3) -> list[tuple[str, bool]]:
    """(e) No slow start where none is needed: sending 8 rows, and the demo's file, into a
    sandbox with no limit, adaptive against --rate 1000000 (medians of ``repeat``)."""
    demo = folder / "hubspot-contacts.csv"
    shipped = Path(__file__).resolve().parent.parent / "sample_data" / demo.name
    demo.write_bytes(shipped.read_bytes())
    csv_path, mapping = write_input(folder, 8, 8)
    cases = [("8 rows", csv_path, mapping), ("make demo's file", demo, Path("hubspot"))]
    print("== (e) sending time into a sandbox with no limit (medians of 3, seconds)")
    results = {}
    for name, data, mapping_path in cases:
        for rate in (None, 1_000_000.0):
            times = []
            for _ in range(repeat):
                with sandbox_process() as base_url:
                    settings = Settings(api_key=DEMO_KEY, base_url=base_url, rate_per_min=rate)
                    report = run_import(
                        data, mapping_path, settings=settings, results_path=None,
                        failures_path=None, no_journal=True,
                    )  # fmt: skip
                    assert report.send is not None
                    times.append(report.send.elapsed_s)
            results[name, rate] = sorted(times)[len(times) // 2]
        adaptive, fixed = results[name, None], results[name, 1_000_000.0]
        print(f"  {name:<18} adaptive {adaptive:6.3f} s   --rate 1000000 {fixed:6.3f} s"
              f"   ratio {adaptive / fixed:5.2f}")  # fmt: skip
    eight = results["8 rows", None]
    demo_ratio = results["make demo's file", None] / results["make demo's file", 1_000_000.0]
    return [
        (f"8 rows send in < 0.3 s ({eight:.3f} s)", eight < 0.3),
        (f"make demo's file sends within 1.5x of --rate 1000000 ({demo_ratio:.2f}x)",
         demo_ratio <= 1.5),
    ]  # fmt: skip


def cpu(args: argparse.Namespace, folder: Path) -> None:
    levels = [int(level) for level in args.cpu_levels.split(",")]
    print(
        f"\n== importer CPU per request: {args.cpu_requests:,} contact creates into a sandbox "
        "process with no latency and no limit (this process's CPU time, process_time; "
        f"the least of {args.repeat} runs per level, each into a fresh sandbox)"
    )
    rows = cpu_table(folder, args.cpu_requests, levels, args.repeat)
    print_cpu(rows, args.limit)
    print(recommend(rows))


if __name__ == "__main__":
    sys.exit(main())
