"""What the run journal costs: the same real import with and without it, side by side.

Issue 11 "Speed": with the journal (SQLite in WAL mode, one transaction per answer,
a 'sending' mark before each note, and the results and failures files written as
rows complete), an import must keep at least 90% of the rows per second of the same
import with ``--no-journal``.

Generates N rows (default 3,000) that use all four endpoints: a contact, its
company (a domain other than the e-mail's, so the account has its own request), a
deal at that company, and a note. Each run imports them into a FRESH sandbox
process (``python -m importer sandbox``) with no latency and no rate limit, at a
fixed pace far above what the sandbox can answer, so the importer and the journal
are what is measured. The two kinds alternate (A B B A ...), ``--repeat`` runs
each, and the medians are compared.

    python benchmarks/bench_journal.py                 # 3,000 rows, 3 runs each
    python benchmarks/bench_journal.py --rows 1000 --repeat 1

Exit status 1 if the PASS/FAIL line fails.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
from bench_import import sandbox_process, server_stats

from importer.run import run_import
from importer.settings import Settings

DEMO_KEY = "sandbox-demo-key"
MAPPING = """\
version: 1
description: benchmark rows that use all four endpoints
contact:
  email: {column: Email, transforms: [email]}
  first_name: First Name
account:
  domain: {column: Website, transforms: [domain]}
opportunity:
  name: Deal
  deal_size: {column: Amount, transforms: [money]}
note:
  title: {value: Imported}
  content: {template: "Row {Row}: {Status}"}
"""


def write_input(folder: Path, rows: int) -> tuple[Path, Path]:
    path = folder / f"rows-{rows}.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Row", "Email", "First Name", "Website", "Deal", "Amount", "Status"])
        for i in range(rows):
            company = f"company{i % max(1, rows // 3)}"
            writer.writerow(
                [i, f"p{i}@mail{i}.example.com", f"P{i}", f"https://{company}.com",
                 f"Deal {i}", 100 + i, f"status {i}"]
            )  # fmt: skip
    mapping = folder / "bench-journal.yaml"
    mapping.write_text(MAPPING, encoding="utf-8")
    return path, mapping


def pipeline_of(base_url: str) -> str:
    """The demo pipeline's id, as the sandbox's inspection endpoint gives it."""
    url = base_url.removesuffix("/v1") + "/_sandbox/org"
    org = httpx.get(url, headers={"X-API-Key": DEMO_KEY}, timeout=10).json()["data"]
    return str(org["pipelines"][0]["pipeline_id"])


def one_run(folder: Path, data: Path, mapping: Path, *, journal: bool, n: int) -> float:
    """Rows per second of one real import into a fresh sandbox."""
    with sandbox_process() as base_url:
        settings = Settings(
            api_key=DEMO_KEY, base_url=base_url, concurrency=16, rate_per_min=1_000_000
        )
        out = folder / f"run-{n}-{'journal' if journal else 'none'}"
        started = time.perf_counter()
        report = run_import(
            data, mapping, settings=settings, pipeline_id=pipeline_of(base_url),
            results_path=out / "results.csv", failures_path=out / "failures.csv",
            no_journal=not journal,
        )  # fmt: skip
        elapsed = time.perf_counter() - started
        stats = server_stats(base_url)
    if report.counts.get("imported") != report.rows_read:
        raise SystemExit(f"the import did not import every row: {report.counts}")
    assert (report.journal_path is not None) == journal  # the path measured is the one named
    if journal:
        assert (out / "results.journal.sqlite").exists()
    assert stats["records"]["notes"] == report.rows_read
    return report.rows_read / elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=3000)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each kind")
    parser.add_argument("--bar", type=float, default=0.90, help="least journal/no-journal ratio")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-journal-") as tmp:
        folder = Path(tmp)
        data, mapping = write_input(folder, args.rows)
        speeds: dict[bool, list[float]] = {True: [], False: []}
        order = [True, False, False, True] * ((args.repeat + 1) // 2)
        n = 0
        for journal in order:
            if len(speeds[journal]) >= args.repeat:
                continue
            n += 1
            rate = one_run(folder, data, mapping, journal=journal, n=n)
            speeds[journal].append(rate)
            kind = "journal   " if journal else "no journal"
            print(f"run {n}: {kind} {rate:8,.0f} rows/s", flush=True)

    with_journal = statistics.median(speeds[True])
    without = statistics.median(speeds[False])
    ratio = with_journal / without
    print(f"\n{args.rows:,} rows (contact, account, deal and note each), {args.repeat} runs each:")
    print(
        f"  --no-journal  median {without:8,.0f} rows/s  ({', '.join(f'{s:,.0f}' for s in speeds[False])})"
    )
    print(
        f"  journal       median {with_journal:8,.0f} rows/s  ({', '.join(f'{s:,.0f}' for s in speeds[True])})"
    )
    passed = ratio >= args.bar
    print(
        f"{'PASS' if passed else 'FAIL'}: journal at {ratio:.1%} of --no-journal (bar {args.bar:.0%})"
    )
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
