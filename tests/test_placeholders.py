"""No invented identities (issue 10, point 5): an address or a domain that stands in for a
missing one (``i@a.com``, ``hr@xx.com``, ``a.com``) makes neither a person nor a company."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from test_import_e2e import inspect, run, write

from importer import run_import
from importer.sandbox import running_sandbox

REAL = Path(__file__).resolve().parents[2] / "shared" / "real-exports"

PEOPLE = """
Email,First Name,Last Name
i@a.com,Ana,Diaz
i@a.com,Luis,Mora
hr@xx.com,Eva,Ruiz
k@x.com,Kim,Park
jo@acme.com,Jo,Smith
"""

COMPANIES = """
Company,Website
Acme,acme.com
Nobody,a.com
Filler,https://www.xxx.com/
"""


def rows_of(path: Path) -> dict[str, dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return {row["row"]: row for row in csv.DictReader(handle)}


def test_placeholder_people_are_refused_and_make_no_company(tmp_path):
    data = write(tmp_path / "people.csv", PEOPLE)
    with running_sandbox() as box:
        report = run(box, data, "hubspot")
        accounts = {a["domain"] for a in inspect(box, "accounts")}
        contacts = {c["email"] for c in inspect(box, "contacts")}
    assert report.counts == {"imported": 1, "invalid": 4}
    assert accounts == {"acme.com"} and contacts == {"jo@acme.com"}
    rows = rows_of(tmp_path / "results.csv")
    for row in ("2", "3", "4", "5"):
        assert rows[row]["status"] == "invalid"
        assert "is a placeholder address" in rows[row]["message"]
        assert "placeholder domain" in rows[row]["warnings"]  # and no account for it
    # two different people at i@a.com are not merged into one contact: neither goes
    assert rows["3"]["duplicate_of"] == ""


def test_a_placeholder_website_is_refused_where_the_domain_is_required(tmp_path):
    data = write(tmp_path / "companies.csv", COMPANIES)
    mapping = write(tmp_path / "m.yaml", "account:\n  domain: {column: Website}\n")
    report = run_import(data, mapping, dry_run=True, results_path=tmp_path / "r.csv")
    assert report.counts == {"would_import": 1, "invalid": 2}
    rows = rows_of(tmp_path / "r.csv")
    assert rows["3"]["message"] == (
        "account.domain (column 'Website'): 'a.com' is a placeholder domain, not a company's"
    )
    assert "'xxx.com' is a placeholder domain" in rows["4"]["message"]


def test_the_real_salesforce_leads_give_no_placeholder_account(tmp_path):
    path = REAL / "salesforce" / "data-export-Lead.csv"
    if not path.exists():
        pytest.skip(f"{path} is not on this machine")
    report = run_import(path, "salesforce-leads", dry_run=True, results_path=tmp_path / "r.csv")
    rows = rows_of(tmp_path / "r.csv")
    records = {r for row in rows.values() for r in row["records"].split()}
    placeholders = {"account:a.com", "account:xx.com", "account:xxx.com", "account:x.com"}
    assert not (placeholders | {"account:aa.com", "account:ss.com"}) & records
    assert "contact:i@a.com" not in records
    # (32 and 34: nw@ss.com and ie@aa.com, for OMD and Corporación GPF)
    for row in ("9", "11", "12", "13", "14", "22", "32", "34", "35"):
        assert rows[row]["status"] == "invalid" and "placeholder" in rows[row]["message"]
    assert report.counts["invalid"] == 16


@pytest.mark.parametrize(
    ("address", "placeholder"),
    [("ie@aa.com", True), ("nw@ss.com", True), ("jane.doe@aa.com", False),
     ("jo@acme.com", False), ("al@ab.com", False), ("hr@ee.co.uk", False),  # EE's
     ("jd@aaa.com", False), ("ab@11.com", False)],
)  # fmt: skip
def test_two_letters_at_one_letter_typed_twice_is_a_placeholder(address, placeholder):
    from importer.map.transforms.cells import TransformError
    from importer.map.transforms.emails import first_email

    if placeholder:
        with pytest.raises(TransformError, match="placeholder address"):
            first_email(address)
    else:
        assert first_email(address) == address
