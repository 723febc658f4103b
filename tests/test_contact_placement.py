"""The results file tells the truth about where a contact goes (issue 10, point 4): Octolane
files a contact under its e-mail's domain; where the row's company differs, the row says so."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from test_import_e2e import inspect, run, write

from importer import run_import
from importer.sandbox import running_sandbox

REAL = Path(__file__).resolve().parents[2] / "shared" / "real-exports"

MAPPING = """
contact:
  email: Email
account:
  domain: {column: Website, required: false}
"""


def warnings_by_email(results: Path) -> dict[str, str]:
    with results.open(encoding="utf-8-sig", newline="") as handle:
        return {r["email"]: r["warnings"] for r in csv.DictReader(handle)}


def test_a_contact_filed_elsewhere_warns_and_lands_where_it_says(tmp_path: Path) -> None:
    data = write(
        tmp_path / "people.csv",
        """
Email,Website
ann@mail.acme.com,acme.com
bo@acme.com,https://www.acme.com/
sam@gmail.com,globex.com
""",
    )
    with running_sandbox() as box:
        report = run(box, data, write(tmp_path / "m.yaml", MAPPING))
        assert report.counts == {"imported": 3}
        filed = {c["email"]: (c["account"] or {}).get("domain") for c in inspect(box, "contacts")}
        accounts = {a["domain"] for a in inspect(box, "accounts")}
    # What the sandbox did ...
    assert filed == {"ann@mail.acme.com": "mail.acme.com", "bo@acme.com": "acme.com",
                     "sam@gmail.com": None}  # fmt: skip
    assert accounts == {"acme.com", "mail.acme.com", "globex.com"}
    # ... is what each row said it would do: its contact_account column ...
    with (tmp_path / "results.csv").open(encoding="utf-8-sig", newline="") as handle:
        placed = {r["email"]: r["contact_account"] or None for r in csv.DictReader(handle)}
    assert placed == filed
    # ... and its warning, where the row's company differs.
    said = warnings_by_email(tmp_path / "results.csv")
    assert said["ann@mail.acme.com"] == (
        "contact: Octolane files ann@mail.acme.com under the account of its e-mail's domain,"
        " mail.acme.com, not under the row's company acme.com; acme.com is created as an"
        " account of its own"
    )
    assert said["bo@acme.com"] == ""
    assert said["sam@gmail.com"].startswith(
        "contact: Octolane files sam@gmail.com under no account (gmail.com is a personal"
    )


@pytest.mark.parametrize(
    "mapping",
    [
        MAPPING,  # no company: the e-mail's (account_domain_from_email)
        "contact:\n  email: Email\naccount:\n  domain:\n    columns: [Website, Email]\n"
        "    transforms: [domain]\n",  # the hubspot preset's: Website, else the e-mail
    ],
)
def test_an_account_taken_from_an_e_mail_is_the_one_its_contact_lands_in(
    tmp_path: Path, mapping: str
) -> None:
    """jo@messages.spurams.com gives messages.spurams.com, where Octolane files jo: no
    spurams.com account with nobody in it (the appraisal export's rows 271, 279, ...)."""
    data = write(
        tmp_path / "people.csv",
        """
Email,Website
jo@messages.spurams.com,
ann@www.acme.com,
""",
    )
    with running_sandbox() as box:
        report = run(box, data, write(tmp_path / "m.yaml", mapping))
        assert report.counts == {"imported": 2}
        filed = {c["email"]: (c["account"] or {}).get("domain") for c in inspect(box, "contacts")}
        accounts = {a["domain"] for a in inspect(box, "accounts")}
    assert filed == {
        "jo@messages.spurams.com": "messages.spurams.com",
        "ann@www.acme.com": "acme.com",
    }
    assert accounts == {"messages.spurams.com", "acme.com"}
    with (tmp_path / "results.csv").open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["domain"], r["contact_account"], r["warnings"]) for r in rows] == [
        ("messages.spurams.com", "messages.spurams.com", ""),
        ("acme.com", "acme.com", ""),
    ]


@pytest.mark.skipif(not REAL.exists(), reason="the shared real exports are not beside the repo")
def test_the_issues_apollo_row_says_where_its_contact_lands(tmp_path: Path) -> None:
    source = REAL / "apollo" / "contacts-export-2025-format-philanthropy.csv"
    run_import(source, "apollo-people", dry_run=True, results_path=tmp_path / "r.csv")
    with (tmp_path / "r.csv").open(encoding="utf-8-sig", newline="") as handle:
        row3 = next(r for r in csv.DictReader(handle) if r["row"] == "3")
    assert row3["domain"] == "strayer.edu"
    assert row3["contact_account"] == "jwmi.com"  # where Octolane puts the person
    assert (
        "files buvoey.buwu@jwmi.com under the account of its e-mail's domain, jwmi.com"
        in (row3["warnings"])
    )
