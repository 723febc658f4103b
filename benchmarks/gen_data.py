"""Generate the large inputs the reading benchmarks use.

Writes, under ``benchmarks/data/`` (git-ignored):

* ``crm-1m.csv``: 1,000,000 data rows × 12 columns of CRM-like contacts with
  their company and deal (record ids, names with accents, e-mails, phones with
  leading ``+``/``0``, company names with commas, domains, job titles, deal
  names, stages, amounts, close dates). About 1 in 200 cells needs quoting, a
  few deal names hold a line break, and some cells are empty, as in real
  exports.
* ``crm-100k.xlsx``: 100,000 data rows × 12 columns, the same columns with
  real number and date cells (written with openpyxl's write-only mode).

Usage::

    .venv/bin/python benchmarks/gen_data.py            # both files
    .venv/bin/python benchmarks/gen_data.py --csv-rows 200000 --no-xlsx

The output is deterministic (seeded), so figures are comparable across runs.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import random
import time
from collections.abc import Iterator
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"

COLUMNS = (
    "Record ID",
    "First Name",
    "Last Name",
    "Email",
    "Phone Number",
    "Company Name",
    "Company Domain",
    "Job Title",
    "Deal Name",
    "Deal Stage",
    "Amount",
    "Close Date",
)
# fmt: off
FIRST_NAMES = ("James", "Mary", "José", "Zoë", "Łukasz", "Søren", "Anna", "Mohammed", "Wei", "Priya",
               "Olivia", "Noah", "Chloé", "Mateo", "Aiko", "Ines", "Lars", "Fatima", "Jürgen",
               "Amélie", "Diego", "Sofia", "Liam", "Emma", "Ivan", "Yuki", "Omar", "Nora")
LAST_NAMES = ("Smith", "Müller", "García", "Dvořák", "Nakamura", "O'Brien", "Rossi", "Kowalski",
              "Dubois", "Patel", "Silva", "Johansson", "van der Berg", "Nguyen", "Schmidt", "López",
              "Kim", "Andersen", "Costa", "Novak", "Haddad", "Brown")
COMPANY_WORDS = ("Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Hooli", "Vandelay",
                 "Soylent", "Tyrell", "Cyberdyne", "Wonka", "Gringotts", "Oscorp", "Aperture",
                 "Massive", "Dynamic", "Blue", "Sun", "Nakatomi", "Pied", "Piper")
# fmt: on
SUFFIXES = ("Inc.", "Ltd", "GmbH", "S.A.", "LLC", "Pty Ltd", "B.V.", "AG", "")
TITLES = (
    "CEO",
    "Head of Sales",
    "VP, Marketing",
    "Account Executive",
    "Operations Manager",
    "CTO",
    "Founder & CEO",
    "Procurement Lead",
)
STAGES = (
    "Appointment scheduled",
    "Qualified to buy",
    "Presentation scheduled",
    "Decision maker bought-in",
    "Contract sent",
    "Closed won",
    "Closed lost",
)
TLDS = ("com", "io", "co.uk", "de", "fr", "com.au", "nl")


def _company(rng: random.Random) -> tuple[str, str]:
    words = rng.sample(COMPANY_WORDS, rng.choice((1, 1, 2)))
    suffix = rng.choice(SUFFIXES)
    name = " ".join(words)
    domain = f"{''.join(words).lower()}.{rng.choice(TLDS)}"
    if suffix:
        name = f"{name}, {suffix}" if rng.random() < 0.3 else f"{name} {suffix}"
    return name, domain


def _phone(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.15:
        return ""
    if kind < 0.5:
        return f"+1 ({rng.randint(200, 999)}) {rng.randint(200, 999)}-{rng.randint(0, 9999):04d}"
    if kind < 0.8:
        return f"0{rng.randint(20, 99)} {rng.randint(1000, 9999)} {rng.randint(1000, 9999)}"
    return f"+44{rng.randint(7000000000, 7999999999)}"


def _row(rng: random.Random, record_id: int) -> list[str]:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    company, domain = _company(rng)
    email = f"{first[0].lower()}.{last.lower().replace(' ', '').replace(chr(39), '')}@{domain}"
    deal = f"{company.split(',')[0]} – {rng.choice(('Renewal', 'Expansion', 'Pilot', 'New'))}"
    if rng.random() < 0.002:
        deal += "\nsecond line of the deal name"
    amount = "" if rng.random() < 0.1 else f"{rng.randint(500, 250_000)}.{rng.randint(0, 99):02d}"
    close = dt.date(2023, 1, 1) + dt.timedelta(days=rng.randint(0, 900))
    return [
        str(record_id),
        first if rng.random() > 0.05 else "",
        last,
        email,
        _phone(rng),
        company,
        domain if rng.random() > 0.1 else "",
        rng.choice(TITLES),
        deal,
        rng.choice(STAGES),
        amount,
        close.isoformat(),
    ]


def generate_rows(n_rows: int, *, seed: int = 42) -> Iterator[list[str]]:
    """Yield ``n_rows`` CRM-like rows of 12 text cells (deterministic for a seed)."""
    rng = random.Random(seed)
    for i in range(n_rows):
        yield _row(rng, 1_000_000_000 + i)


def write_csv(path: Path, n_rows: int) -> None:
    """Write a HubSpot-like CSV (UTF-8, LF, minimal quoting) with ``n_rows`` data rows."""
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(COLUMNS)
        writer.writerows(generate_rows(n_rows))


def write_xlsx(path: Path, n_rows: int) -> None:
    """Write an XLSX with ``n_rows`` data rows; ids, amounts and dates are typed cells."""
    from openpyxl import Workbook  # only the generator needs it

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Contacts")
    sheet.append(COLUMNS)
    for row in generate_rows(n_rows, seed=7):
        typed: list[object] = list(row)
        typed[0] = int(row[0])
        typed[10] = float(row[10]) if row[10] else None
        typed[11] = dt.date.fromisoformat(row[11])
        sheet.append(typed)
    workbook.save(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--csv-rows", type=int, default=1_000_000)
    parser.add_argument("--xlsx-rows", type=int, default=100_000)
    parser.add_argument("--no-csv", action="store_true")
    parser.add_argument("--no-xlsx", action="store_true")
    args = parser.parse_args()
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    jobs = []
    if not args.no_csv:
        jobs.append((write_csv, DATA_DIR / "crm-1m.csv", args.csv_rows))
    if not args.no_xlsx:
        jobs.append((write_xlsx, DATA_DIR / "crm-100k.xlsx", args.xlsx_rows))
    for write, path, n_rows in jobs:
        started = time.perf_counter()
        write(path, n_rows)
        elapsed_s = time.perf_counter() - started
        size_mb = path.stat().st_size / 1e6
        print(f"{path}: {n_rows:,} rows, {size_mb:.1f} MB in {elapsed_s:.1f} s")


if __name__ == "__main__":
    main()
