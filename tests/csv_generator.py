"""Well-formed CSV exports at random, for the reader's property tests.

Each file has a known header row and delimiter: a CRM-like header (2-12 columns),
0-2 title lines above it (a report name, a "Generated:" line, a blank line), data
rows of e-mails, names with the delimiter inside (quoted), amounts, dates, empty
cells and notes with line breaks (quoted), and some ragged rows (short, or with
extra cells; in some files twice as many), values with quotes and other delimiters inside. Written with the csv module, so every file is well-formed.
"""

from __future__ import annotations

import csv
import io
import random
from dataclasses import dataclass

DELIMITERS = (",", ";", "\t", "|")
COLUMNS = (
    "Email", "First Name", "Last Name", "Company", "Website", "Phone", "City", "Country",
    "Deal Name", "Amount", "Close Date", "Stage", "Owner", "Notes", "Title", "Record ID",
    "Created Date", "Lead Source", "Industry", "Employees", "Full Name", "Address",
)  # fmt: skip
TITLES = (
    "Contacts report", "Leads export", "All deals (2026)", "Report: Open opportunities",
    "Company list – Q3", "Untitled report",
)  # fmt: skip
FIRST = ("Ann", "Bo", "Chloé", "Dmitri", "Eve", "Fatima", "Gus", "Hiro", "Ines", "José")
LAST = ("Doe", "Roe", "Müller", "O'Brien", "Nakamura", "Smith", "García", "Lee")
COMPANIES = ("Acme", "Globex", "Initech", "Umbrella", "Hooli", "Stark")


@dataclass(frozen=True)
class Case:
    text: str
    delimiter: str
    header_row: int  # the spreadsheet row number of the header (1 = first line)
    columns: tuple[str, ...]
    seed: int


def value(column: str, rng: random.Random, delimiter: str) -> str:
    company = rng.choice(COMPANIES)
    first, last = rng.choice(FIRST), rng.choice(LAST)
    if rng.random() < 0.12:
        return ""
    match column:
        case "Email":
            return f"{first.lower()}.{rng.randint(1, 999)}@{company.lower()}.com"
        case "First Name":
            return first
        case "Last Name":
            return last
        case "Full Name":
            return f"{last}{delimiter} {first}" if rng.random() < 0.4 else f"{first} {last}"
        case "Company":
            return f"{company}{delimiter} Inc." if rng.random() < 0.3 else company
        case "Website":
            return f"https://www.{company.lower()}.com"
        case "Phone":
            return f"+1 (555) {rng.randint(100, 999)}-{rng.randint(1000, 9999)}"
        case "Amount" | "Employees":
            amount = rng.randint(0, 2_000_000)
            return f"{amount:,}" if rng.random() < 0.3 else str(amount)
        case "Close Date" | "Created Date":
            return f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        case "Notes" | "Address":
            lines = [f"line {i} about {company}" for i in range(rng.randint(1, 3))]
            if rng.random() < 0.3:
                lines[0] += f"{delimiter} and more"
            return "\n".join(lines)
        case "Record ID":
            return str(rng.randint(10**8, 10**9))
        case "Title":
            return rng.choice(
                ('VP "Growth"', "Head of Sales; EMEA", "CEO | Founder", "CTO, Co-founder")
            )
    return f"{company} {rng.choice(('A', 'B', 'C'))}{rng.randint(1, 99)}"


def generate(seed: int) -> Case:
    rng = random.Random(seed)
    ragged = rng.choice((1.0, 1.0, 0.5))  # a half of the files twice as ragged
    delimiter = rng.choice(DELIMITERS)
    columns = tuple(rng.sample(COLUMNS, rng.randint(2, 12)))
    lines: list[list[str]] = []
    for _ in range(rng.choice((0, 0, 0, 1, 1, 2))):
        kind = rng.random()
        if kind < 0.45:
            lines.append([rng.choice(TITLES)])
        elif kind < 0.8:
            lines.append([f"Generated: 2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"])
        elif kind < 0.9:
            lines.append(["Exported by", "Jo Smith"])
        else:
            lines.append([])
    header_row = len(lines) + 1
    lines.append(list(columns))
    for _ in range(rng.randint(2, 40)):
        row = [value(c, rng, delimiter) for c in columns]
        shape = rng.random() * ragged
        if shape < 0.1 and len(row) > 1:
            row = row[: rng.randint(1, len(row) - 1)]  # short: trailing cells left out
        elif shape < 0.18:
            row += [value("Notes", rng, delimiter) for _ in range(rng.randint(1, 2))]  # extra
        lines.append(row)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator=rng.choice(("\n", "\r\n")))
    writer.writerows(lines)
    return Case(buffer.getvalue(), delimiter, header_row, columns, seed)
