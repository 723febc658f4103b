"""Generate the sample exports in sample_data/ (deterministic: same bytes every run).

    python sample_data/generate.py

Writes, each in its system's real export format (see the matching preset's
header comment in mappings/ for the format facts):

* hubspot-contacts.csv            HubSpot contacts export      → mappings/hubspot.yaml
* pipedrive-people.csv            Pipedrive people export (UK)  → mappings/pipedrive-people.yaml
* salesforce-opportunities.csv    Salesforce report export
                                  → mappings/salesforce-report-opportunities.yaml

The people and companies are invented. Companies have several contacts each;
some people use gmail/outlook addresses (they become contacts, never
accounts); a few people appear twice (another case, another export); a few rows
are broken the way real exports are (no e-mail, a malformed e-mail, an amount
nobody can read) so a dry-run has something to report.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent

PREFIXES = [
    "Blue",
    "North",
    "Silver",
    "Harbor",
    "Bright",
    "Oak",
    "Summit",
    "Iron",
    "Clear",
    "Red",
    "Stone",
    "Maple",
    "Copper",
    "Pine",
    "Lake",
    "Swift",
    "Cedar",
    "Atlas",
    "Nova",
    "Tidal",
]
SUFFIXES = ["peak", "line", "field", "gate", "works", "stack", "wave", "bridge", "point", "forge"]
KINDS = [
    ("Analytics", "io"),
    ("Logistics", "com"),
    ("Health", "com"),
    ("Capital", "com"),
    ("Software", "dev"),
    ("Foods", "co.uk"),
    ("Robotics", "de"),
    ("Energy", "fr"),
    ("Legal", "com"),
    ("Studio", "co"),
    ("Labs", "ai"),
    ("Retail", "com.au"),
]
FIRST = [
    "Amelia",
    "Liam",
    "Sofía",
    "Noah",
    "Zoë",
    "Mateo",
    "Priya",
    "Lukas",
    "Chloé",
    "Ethan",
    "Aisha",
    "Jonas",
    "Mei",
    "Oliver",
    "Ingrid",
    "Rafael",
    "Hannah",
    "Kwame",
    "Elena",
    "Tomás",
    "Grace",
    "Yusuf",
    "Nina",
    "Arjun",
    "Freya",
    "Diego",
    "Sara",
    "Malik",
    "Ana",
    "Felix",
    "Léa",
    "Omar",
]
LAST = [
    "Garcia",
    "Okafor",
    "Müller",
    "Nguyen",
    "O'Brien",
    "Kowalski",
    "Rossi",
    "Andersen",
    "Patel",
    "Dubois",
    "Kim",
    "Fischer",
    "Santos",
    "Walsh",
    "Haddad",
    "Lindqvist",
    "Novak",
    "Brennan",
    "Tanaka",
    "Moreau",
    "Costa",
    "Schmidt",
    "Ibrahim",
    "Byrne",
    "Larsen",
    "Silva",
    "Clarke",
]
OWNERS = ["Dana Whitfield", "Marco Bellini", "Grace Liu", "Sam Okoro"]
FREEMAIL = ["gmail.com", "gmail.com", "outlook.com", "hotmail.co.uk", "yahoo.com"]


def companies(rng: random.Random, n: int) -> list[tuple[str, str]]:
    """n (name, domain) pairs, all distinct."""
    seen: dict[str, str] = {}
    while len(seen) < n:
        prefix, suffix, (kind, tld) = rng.choice(PREFIXES), rng.choice(SUFFIXES), rng.choice(KINDS)
        domain = f"{prefix}{suffix}.{tld}".lower()
        seen.setdefault(domain, f"{prefix}{suffix} {kind}")
    return [(name, domain) for domain, name in seen.items()]


def ascii_slug(text: str) -> str:
    table = str.maketrans("áéíóúàèçñöüøåïëäßô", "aeiouaecnouoaieaso")
    return "".join(c for c in text.lower().translate(table) if c.isalnum())


def person(rng: random.Random, company: tuple[str, str], used: set[str]) -> dict[str, str]:
    """A person at a company; about one in twelve signs up with a personal address."""
    while True:
        first, last = rng.choice(FIRST), rng.choice(LAST)
        style = rng.choice(["{f}.{l}", "{f}", "{f0}{l}", "{f}{l}"])
        local = style.format(f=ascii_slug(first), l=ascii_slug(last), f0=ascii_slug(first)[0])
        domain = company[1]
        if rng.random() < 0.08:
            domain, local = (
                rng.choice(FREEMAIL),
                f"{ascii_slug(first)}.{ascii_slug(last)}{rng.randint(1, 99)}",
            )
        email = f"{local}@{domain}"
        if email not in used:
            used.add(email)
            return {
                "first": first,
                "last": last,
                "email": email,
                "company": company[0],
                "domain": company[1],
            }


def crowd(seed: int, n_companies: int, n_people: int) -> list[dict[str, str]]:
    """People grouped by company: a few big accounts, many small ones."""
    rng = random.Random(seed)
    pool = companies(rng, n_companies)
    weights = [6 if i < 5 else 2 if i < 20 else 1 for i in range(len(pool))]
    used: set[str] = set()
    return [person(rng, rng.choices(pool, weights)[0], used) for _ in range(n_people)]


def break_some(rows: list[dict[str, str]], rng: random.Random) -> None:
    """The problems real exports have, at fixed places."""
    rows[17]["email"] = ""  # no e-mail
    rows[64]["email"] = ""
    rows[101]["email"] = rows[101]["email"].replace("@", " at ")  # typed by hand
    rows[150]["email"] = rows[150]["email"].split("@")[0] + "@"  # cut off
    rows[203]["email"] = rows[203]["email"].replace("@", "@@")
    for source, target in ((3, 120), (40, 220), (88, 230), (9, 235)):  # the same person twice
        rows[target] = dict(
            rows[source],
            email=rows[source]["email"].upper() if target % 2 else rows[source]["email"],
        )


def quote_all(values: list[str]) -> str:
    return ",".join('"' + v.replace('"', '""') + '"' for v in values)


def write(path: Path, lines: list[str], *, encoding: str = "utf-8", end: bool = True) -> None:
    path.write_bytes(("\n".join(lines) + ("\n" if end else "")).encode(encoding))


def day(rng: random.Random, start: date, span: int) -> date:
    return start + timedelta(days=rng.randrange(span))


def hubspot_contacts() -> None:
    """HubSpot 'All contacts' export: all cells quoted, LF, 'YYYY-MM-DD HH:MM'."""
    rng = random.Random(7)
    rows = crowd(2025, 70, 300)
    break_some(rows, rng)
    header = [
        "Record ID",
        "First Name",
        "Last Name",
        "Email",
        "Phone Number",
        "Contact owner",
        "Primary Associated Company ID",
        "Last Activity Date",
        "Lead Status",
        "Create Date",
        "Additional email addresses",
        "Associated Company",
    ]
    lines = [quote_all(header)]
    for i, p in enumerate(rows):
        created = day(rng, date(2024, 3, 1), 480)
        activity = created + timedelta(days=rng.randrange(90)) if rng.random() < 0.6 else None
        extra = f"{ascii_slug(p['first'])}@{p['domain']}" if i % 37 == 5 else ""
        last = "[not provided]" if i % 53 == 7 else p["last"]
        lines.append(
            quote_all(
                [
                    str(301250000000 + i * 7),
                    p["first"],
                    last,
                    p["email"],
                    f"+1 ({rng.randint(201, 989)}) 555-{rng.randint(1000, 9999)}"
                    if rng.random() < 0.7
                    else "",
                    rng.choice(OWNERS),
                    str(18800000000 + hash_domain(p["domain"])),
                    f"{activity:%Y-%m-%d} {rng.randint(8, 18):02d}:{rng.randint(0, 59):02d}"
                    if activity
                    else "",
                    rng.choice(
                        [
                            "New",
                            "Open",
                            "In progress",
                            "Open deal",
                            "Unqualified",
                            "Attempted to contact",
                            "",
                        ]
                    ),
                    f"{created:%Y-%m-%d} {rng.randint(8, 18):02d}:{rng.randint(0, 59):02d}",
                    extra,
                    p["company"],
                ]
            )
        )
    write(HERE / "hubspot-contacts.csv", lines)


def hash_domain(domain: str) -> int:
    return sum(ord(c) * (i + 1) for i, c in enumerate(domain)) % 10_000_000


def pipedrive_people() -> None:
    """Pipedrive people export from a UK-English account: every cell quoted, no final newline."""
    rng = random.Random(8)
    rows = crowd(2026, 55, 240)
    break_some(rows, rng)
    header = [
        "Person - Name",
        "Person - Labels",
        "Person - Organisation",
        "Person - Email - Work",
        "Person - Email - Home",
        "Person - Email - Other",
        "Person - Phone - Work",
        "Person - Phone - Home",
        "Person - Phone - Mobile",
        "Person - Phone - Other",
        "Person - Next activity date",
        "Person - Country of Address",
    ]
    lines = [quote_all(header)]
    for i, p in enumerate(rows):
        work, home = p["email"], ""
        if p["email"].split("@")[-1].lower() in FREEMAIL:
            work, home = "", p["email"]
        if i % 41 == 6 and work:
            work += f", {ascii_slug(p['first'])}@{p['domain']}"
        phone = f"0{rng.randint(1200, 1999)} {rng.randint(100000, 999999)}"
        next_activity = day(rng, date(2025, 7, 1), 200) if rng.random() < 0.5 else None
        lines.append(
            quote_all(
                [
                    f"{p['first']} {p['last']}",
                    rng.choice(["Customer", "Prospect", "Hot lead", ""]),
                    p["company"],
                    work,
                    home,
                    "",
                    f"{phone}, {phone.replace(' ', '')}" if i % 3 == 0 else phone,
                    "",
                    f"07{rng.randint(100, 999)} {rng.randint(100000, 999999)}"
                    if rng.random() < 0.3
                    else "",
                    "",
                    f"{next_activity:%Y-%m-%d}" if next_activity else "",
                    "United Kingdom",
                ]
            )
        )
    write(HERE / "pipedrive-people.csv", lines, end=False)


def salesforce_opportunities() -> None:
    """Salesforce opportunities report: Details Only CSV, en_US, ISO-8859-1, with the footer."""
    rng = random.Random(9)
    people = crowd(2027, 45, 180)
    header = [
        "Opportunity Owner",
        "Account Name",
        "Opportunity Name",
        "Stage",
        "Fiscal Period",
        "Amount",
        "Probability (%)",
        "Close Date",
        "Created Date",
        "Next Step",
        "Lead Source",
        "Type",
        "Website",
        "Email",
    ]
    stages = [
        ("Prospecting", 10),
        ("Qualification", 20),
        ("Needs Analysis", 20),
        ("Proposal/Price Quote", 75),
        ("Negotiation/Review", 90),
        ("Closed Won", 100),
        ("Closed Lost", 0),
    ]
    lines = [quote_all(header)]
    for i, p in enumerate(people):
        stage, probability = rng.choice(stages)
        close = day(rng, date(2025, 1, 2), 540)
        created = close - timedelta(days=rng.randint(20, 200))
        value = rng.choice([4800, 12500, 18000, 24999.5, 36000, 52000, 75000, 120000, 9600, 2400])
        amount = f"{value:,.2f}"
        if i in (33, 141):
            amount = "TBD"
        kind = rng.choice(["New Business", "Upsell", "Renewal", "Pilot"])
        deal = f"{p['company']} - {kind} - {rng.randint(2, 90) * 10} seats"
        lines.append(
            quote_all(
                [
                    rng.choice(OWNERS),
                    p["company"],
                    deal,
                    stage,
                    f"Q{(close.month - 1) // 3 + 1}-{close.year}",
                    amount,
                    f"{probability}%",
                    f"{close.month}/{close.day}/{close.year}",
                    f"{created.month}/{created.day}/{created.year}",
                    rng.choice(["Send proposal", "Schedule demo", "Follow up with legal", "", ""]),
                    rng.choice(["Web", "Partner Referral", "Trade Show", "Cold Call"]),
                    rng.choice(["New Business", "Existing Business"]),
                    f"www.{p['domain']}" if i % 11 else "",
                    p["email"] if i % 13 else "",
                ]
            )
        )
    lines += [
        "",
        '"Confidential Information - Do Not Distribute"',
        '"Copyright (c) 2000-2025 salesforce.com, inc. All rights reserved."',
    ]
    write(HERE / "salesforce-opportunities.csv", lines, encoding="latin-1")


def main() -> None:
    hubspot_contacts()
    pipedrive_people()
    salesforce_opportunities()
    print("wrote", ", ".join(p.name for p in sorted(HERE.glob("*.csv"))))


if __name__ == "__main__":
    main()
