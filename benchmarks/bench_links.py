"""A linked dry run: a deals file joined to a companies file (``--with``), peak memory.

Issue 9's bar: a deals file of 1,000,000 rows linked to a companies file of 200,000
rows stays under 1.5 GiB. The files are written under ``benchmarks/data/``
(git-ignored, seeded): deals in HubSpot's shape (``Associated Company IDs``, some
holding two ids, 1 in 50 pointing to no company) and companies with ``Record ID``,
``Company Domain Name`` and ``Website URL``. Each run is its own subprocess, next to a
baseline measured in the same run: the same deals file dry-run without the link.

Usage::

    .venv/bin/python benchmarks/bench_links.py                    # 1,000,000 x 200,000
    .venv/bin/python benchmarks/bench_links.py --deals 100000 --companies 20000
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_dry_run import measure  # noqa: E402  (each run in its own subprocess)
from gen_data import DATA_DIR  # noqa: E402

MAPPING = """
version: 1
description: benchmark mapping (deals linked to their companies)
options: {pipeline_id: 00000000-0000-4000-8000-000000000001}
opportunity:
  name: Deal Name
  deal_size: Amount
account:
  domain:
    columns: [company.Company Domain Name, company.Website URL]
    transforms: [{split: {separators: [";"]}}, domain]
    required: false
links:
  company:
    by: Associated Company IDs
    key: Record ID
    columns: [Company Domain Name, Website URL]
"""

RUN = """
import json, resource, sys, time
from importer import run_import
start = time.perf_counter()
links = sys.argv[4:]
report = run_import(sys.argv[1], sys.argv[2], dry_run=True, results_path=sys.argv[3], links=links)
elapsed = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
peak += resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
print(json.dumps({"rows": report.rows_read, "elapsed_s": elapsed, "peak_rss": peak,
                  "counts": report.counts, "warned": report.rows_with_warnings,
                  "distinct": report.distinct}))
"""


def write_files(deals: Path, companies: Path, n_deals: int, n_companies: int) -> None:
    rng = random.Random(7)
    with companies.open("w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["Record ID", "Company name", "Company Domain Name", "Website URL"])
        for i in range(n_companies):
            domain = f"company{i}.com"  # a registrable domain, so the deal gets its account
            out.writerow(
                [
                    str(40000000000 + i),
                    f"Company {i}",
                    domain if i % 7 else "",
                    f"https://www.{domain}/",
                ]
            )
    with deals.open("w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["Record ID", "Deal Name", "Amount", "Associated Company IDs"])
        for i in range(n_deals):
            company = rng.randrange(n_companies)
            ids = str(40000000000 + company)
            if i % 50 == 0:
                ids = str(90000000000 + i)  # points to no company: a warning on the row
            elif i % 20 == 0:
                ids += f";{40000000000 + rng.randrange(n_companies)}"
            out.writerow([str(100000000 + i), f"Deal {i}", f"{rng.uniform(100, 90000):.2f}", ids])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deals", type=int, default=1_000_000)
    parser.add_argument("--companies", type=int, default=200_000)
    args = parser.parse_args()
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    deals = DATA_DIR / f"linked-deals-{args.deals}.csv"
    companies = DATA_DIR / f"linked-companies-{args.companies}.csv"
    if not deals.exists() or not companies.exists():
        write_files(deals, companies, args.deals, args.companies)
    mapping = DATA_DIR / "bench-links.yaml"
    mapping.write_text(MAPPING, encoding="utf-8")
    results = DATA_DIR / "bench-links-results.csv"
    base = measure(RUN, str(deals), str(mapping), str(results))
    linked = measure(RUN, str(deals), str(mapping), str(results), str(companies))
    print(f"{'':<34} {'rows':>9}  {'wall s':>7} {'rows/s':>9} {'peak RSS':>9}  ratio")
    for name, m in (("deals alone (no --with)", base), ("deals --with companies", linked)):
        print(
            f"{name:<34} {m['rows']:>9,}  {m['elapsed_s']:7.2f} {m['rows'] / m['elapsed_s']:>9,.0f}"
            f" {m['peak_rss'] / 2**20:>6.0f} MiB  {m['elapsed_s'] / base['elapsed_s']:4.2f}x"
        )
    # The link must have run: the deals get the accounts of their companies' domains.
    accounts = linked["distinct"]["accounts"]
    verdict = "PASS" if linked["peak_rss"] < 1.5 * 2**30 and accounts > 0 else "FAIL"
    print(
        f"{verdict} linked dry run: {linked['peak_rss'] / 2**20:,.0f} MiB (< 1.5 GiB);"
        f" {linked['counts']}, {accounts:,} accounts from the linked companies,"
        f" {linked['warned']:,} rows with warnings"
    )


if __name__ == "__main__":
    main()
