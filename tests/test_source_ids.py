"""Migration-ready results: each row's id in the source CRM beside the Octolane ids.

The mapping's ``source_id:`` names the id column (or candidates, the first the file
has); every preset names its CRM's. The results file's ``source_id`` column then
makes the results file the old → new id table of a migration.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from preset_cases import PIPELINE_ID, fixture_stages
from test_import_e2e import inspect, invoke, run, settings, write

from importer.errors import MappingError
from importer.map.presets import resolve_mapping_path
from importer.map.spec import load_mapping
from importer.report.results import RESULT_COLUMNS
from importer.run import run_import
from importer.sandbox import running_sandbox

REAL = Path(__file__).resolve().parents[2] / "shared" / "real-exports"
SF = "salesforce/data-export-"

MAPPING = """
{source_id}
contact:
  email: {{column: Email, transforms: [email]}}
"""
DATA = """Id,CRM Key,Email
001A,=HYPERLINK("x"),jo@acme.com
001B,K2,al@globex.com
001C,K3,not-an-email
"""


def rows_of(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def dry(tmp_path: Path, source_id: str, data: str = DATA) -> list[dict[str, str]]:
    csv_path = write(tmp_path / "leads.csv", data)
    mapping = write(tmp_path / "m.yaml", MAPPING.format(source_id=source_id))
    report = run_import(csv_path, mapping, dry_run=True, results_path=tmp_path / "r.csv")
    assert report.rows_read == 3
    return rows_of(tmp_path / "r.csv")


def test_the_results_carry_the_source_id_after_the_row(tmp_path):
    rows = dry(tmp_path, "source_id: Id")
    assert list(rows[0])[:3] == ["row", "source_id", "status"]
    assert [(r["source_id"], r["status"]) for r in rows] == [
        ("001A", "would_import"), ("001B", "would_import"), ("001C", "invalid"),
    ]  # fmt: skip


def test_candidates_take_the_first_column_the_file_has_and_ids_are_neutralised(tmp_path):
    rows = dry(tmp_path, "source_id: [Record ID, CRM Key, Id]")
    assert [r["source_id"] for r in rows] == ['\'=HYPERLINK("x")', "K2", "K3"]


def test_a_users_own_missing_column_is_an_error_naming_it(tmp_path):
    with pytest.raises(MappingError, match=r"source_id: column 'Record ID' is not in leads.csv"):
        dry(tmp_path, "source_id: Record ID")


def test_a_missing_candidate_list_warns_and_leaves_the_column_empty(tmp_path):
    csv_path = write(tmp_path / "leads.csv", DATA)
    mapping = write(tmp_path / "m.yaml", MAPPING.format(source_id="source_id: [A, B]"))
    report = run_import(csv_path, mapping, dry_run=True, results_path=tmp_path / "r.csv")
    assert any("none of" in w and "source_id" in w for w in report.mapping_warnings)
    assert {r["source_id"] for r in rows_of(tmp_path / "r.csv")} == {""}


def test_a_mapping_that_extends_a_preset_inherits_its_source_id(tmp_path):
    preset = load_mapping(resolve_mapping_path("hubspot"))
    assert preset.source_id_columns() == ("Record ID", "Record ID - Contact")
    child = write(tmp_path / "m.yaml", "extends: hubspot\n")
    assert load_mapping(child).source_id_columns() == preset.source_id_columns()
    none = write(tmp_path / "n.yaml", "extends: hubspot\nsource_id: null\n")
    assert load_mapping(none).source_id_columns() == ()


def test_a_mapping_that_extends_a_preset_can_name_its_own_column(tmp_path):
    csv_path = write(tmp_path / "leads.csv", DATA)
    own = write(tmp_path / "m.yaml", MAPPING.format(source_id="extends: hubspot\nsource_id: Id"))
    report = run_import(csv_path, own, dry_run=True, results_path=tmp_path / "r.csv")
    assert [r["source_id"] for r in rows_of(tmp_path / "r.csv")] == ["001A", "001B", "001C"]
    assert not [w for w in report.mapping_warnings if "source_id" in w]
    missing = write(tmp_path / "x.yaml", "extends: hubspot\nsource_id: Contact Key\n")
    with pytest.raises(MappingError, match=r"source_id: column 'Contact Key' is not in leads.csv"):
        run_import(csv_path, missing, dry_run=True, results_path=tmp_path / "r.csv")


def test_a_presets_id_column_only_warns_when_the_file_lacks_it(tmp_path):
    # salesforce-leads names one column, Id; a hand-made Lead.csv without it still imports
    csv_path = write(tmp_path / "Lead.csv", "Email,FirstName,LastName\njo@acme.com,Jo,Ng\n")
    report = run_import(csv_path, "salesforce-leads", dry_run=True, results_path=tmp_path / "r.csv")
    assert report.counts == {"would_import": 1}
    [warning] = [w for w in report.mapping_warnings if "source_id" in w]
    assert (
        "column 'Id' is in Lead.csv: the results file's source_id column is left empty" in warning
    )
    assert [r["source_id"] for r in rows_of(tmp_path / "r.csv")] == [""]
    # inherited through extends: still the preset's column, still a warning
    child = write(tmp_path / "m.yaml", "extends: salesforce-leads\n")
    report = run_import(csv_path, child, dry_run=True, results_path=tmp_path / "r.csv")
    assert [w for w in report.mapping_warnings if "source_id" in w] == [
        warning.replace(str(resolve_mapping_path("salesforce-leads")), str(child))
    ]


def test_an_id_column_inherited_from_the_users_own_file_is_required(tmp_path):
    csv_path = write(tmp_path / "leads.csv", DATA)
    write(tmp_path / "base.yaml", MAPPING.format(source_id="source_id: Lead Key"))
    child = write(tmp_path / "child.yaml", "extends: base.yaml\n")
    with pytest.raises(MappingError, match=r"source_id: column 'Lead Key' is not in leads.csv"):
        run_import(csv_path, child, dry_run=True, results_path=tmp_path / "r.csv")
    # the same base over a preset that names its own: the user's column still wins
    write(tmp_path / "base.yaml", "extends: hubspot\nsource_id: Id\n")
    grandchild = write(tmp_path / "g.yaml", "extends: child.yaml\n")
    run_import(csv_path, grandchild, dry_run=True, results_path=tmp_path / "r.csv")
    assert [r["source_id"] for r in rows_of(tmp_path / "r.csv")][:2] == ["001A", "001B"]


@pytest.mark.parametrize("value", ['""', "[]", '[Id, " "]'])
def test_source_id_must_name_a_column(tmp_path, value):
    with pytest.raises(MappingError, match=r"source_id: give the id column's name"):
        load_mapping(write(tmp_path / "m.yaml", MAPPING.format(source_id=f"source_id: {value}")))


def test_a_real_import_gives_the_old_to_new_id_table(tmp_path):
    csv_path = write(tmp_path / "leads.csv", DATA)
    mapping = write(tmp_path / "m.yaml", MAPPING.format(source_id="source_id: Id"))
    with running_sandbox() as box:
        report = run(box, csv_path, mapping, settings=settings(box))
        assert report.counts == {"imported": 2, "invalid": 1}
        table = {
            r["source_id"]: r["people_id"]
            for r in rows_of(tmp_path / "results.csv")
            if r["people_id"]
        }
        landed = {c["email"]: c["people_id"] for c in inspect(box, "contacts")}
        assert table == {"001A": landed["jo@acme.com"], "001B": landed["al@globex.com"]}


COMPANY_MAPPING = """
source_id: Id
account:
  domain: {column: Website, transforms: [domain]}
contact:
  email: {column: Email, transforms: [email], required: false}
"""


def test_the_cli_writes_source_id_beside_company_and_people_ids(tmp_path):
    csv_path = write(
        tmp_path / "accounts.csv",
        "Id,Company,Website,Email\n"
        "A-1,Acme,https://acme.com,jo@acme.com\n"
        "A-2,Globex,globex.com,\n"
        "A-3,Nowhere,,\n",
    )
    mapping = write(tmp_path / "m.yaml", COMPANY_MAPPING)
    out = tmp_path / "r.csv"
    with running_sandbox() as box:
        result = invoke(
            csv_path, "-m", mapping, "--api-key", box.api_key, "--base-url", box.base_url,
            "--rate", 60_000, "-q", "--out", out, "--failures", tmp_path / "f.csv",
        )  # fmt: skip
        assert result.exit_code == 1, result.output  # the row without a domain is invalid
        accounts = {a["domain"]: a["company_id"] for a in inspect(box, "accounts")}
        contacts = {c["email"]: c["people_id"] for c in inspect(box, "contacts")}
    with out.open(encoding="utf-8-sig", newline="") as handle:
        header = next(csv.reader(handle))
    assert header == list(RESULT_COLUMNS) and header[:2] == ["row", "source_id"]
    table = [(r["source_id"], r["status"], r["company_id"], r["people_id"]) for r in rows_of(out)]
    # (a contact create ensures its account, and Octolane does not return that id)
    assert table == [
        ("A-1", "imported", "", contacts["jo@acme.com"]),
        ("A-2", "imported", accounts["globex.com"], ""),
        ("A-3", "invalid", "", ""),
    ]
    assert set(accounts) == {"acme.com", "globex.com"} and all(accounts.values())


def test_a_real_export_imported_into_the_sandbox_maps_each_crm_id_to_its_account(tmp_path):
    path = REAL / "apollo" / "accounts-export-benelux-tech.csv"
    if not path.exists():
        pytest.skip("the real exports are not beside this checkout")
    with running_sandbox() as box:
        report = run_import(
            path, "apollo-accounts", settings=settings(box),
            results_path=tmp_path / "r.csv", failures_path=tmp_path / "f.csv",
        )  # fmt: skip
        landed = {a["domain"]: a["company_id"] for a in inspect(box, "accounts")}
    rows = rows_of(tmp_path / "r.csv")
    assert len(rows) == report.rows_read == 12
    assert [r["source_id"] for r in rows] == source_ids(path, "Apollo Account Id")
    imported = [r for r in rows if r["status"] == "imported"]
    assert imported and all(r["company_id"] == landed[r["domain"]] for r in imported)
    assert len({r["source_id"] for r in imported}) == len(imported)


# ---- every preset on the real exports ---------------------------------------------------

CASES = [
    ("apollo/accounts-export-benelux-tech.csv", "apollo-accounts", "Apollo Account Id", ()),
    (
        "apollo/contacts-export-2025-format-philanthropy.csv",
        "apollo-people",
        "Apollo Contact Id",
        (),
    ),
    ("apollo/contacts-export-anz-logistics.csv", "apollo-people", "Apollo Contact Id", ()),
    ("apollo/contacts-export-india-finance.csv", "apollo-people", "Apollo Contact Id", ()),
    ("hubspot/companies-appraisal.csv", "hubspot-companies", "Record ID", ()),
    ("hubspot/companies-export-view-schools.csv", "hubspot-companies", "Record ID", ()),
    ("hubspot/contacts-export-all-contacts-au-textiles.csv", "hubspot", "Record ID", ()),
    ("hubspot/contacts-export-all-properties.csv", "hubspot", "Record ID", ()),
    ("hubspot/contacts-export-doctors-it.xlsx", "hubspot-companies", "Record ID", ()),
    ("hubspot/contacts-with-company-assoc-appraisal.csv", "hubspot", "Record ID - Contact", ()),
    ("hubspot/deals-export-all-deals-solar.csv", "hubspot-deals", "Record ID", ()),
    ("hubspot/deals-export-all-properties-with-associations.csv", "hubspot-deals", "Record ID", ()),
    ("pipedrive/deals-export-custom-fields-nyc-offices.csv", "pipedrive-deals", "Deal - ID", ()),
    (f"{SF}Account.csv", "salesforce-accounts", "Id", ()),
    (f"{SF}Contact.csv", "salesforce-contacts", "Id", ()),
    (f"{SF}Lead.csv", "salesforce-leads", "Id", ()),
    (f"{SF}Opportunity.csv", "salesforce-opportunities", "Id", (f"{SF}Account.csv",)),
    (f"{SF}Task.csv", "salesforce-tasks", "Id", (f"{SF}Contact.csv", f"{SF}Account.csv")),
    ("salesforce/dataloader-extract-Account.csv", "salesforce-accounts", "ID", ()),
    ("zoho/accounts-export-br-industrial.csv", "zoho-accounts", "Record Id", ()),
    ("zoho/leads-export-br-industrial.csv", "zoho-leads", "Record Id", ()),
]


def source_ids(path: Path, column: str) -> list[str]:
    if path.suffix == ".xlsx":
        import openpyxl

        book = openpyxl.load_workbook(path, read_only=True)
        try:
            rows = book.active.iter_rows(values_only=True)
            lines = [["" if c is None else str(c) for c in r] for r in rows]
        finally:
            book.close()
    else:  # (the Salesforce Data Export is Windows-1252; its ids are ASCII either way)
        with path.open(encoding="utf-8-sig", errors="replace", newline="") as handle:
            lines = list(csv.reader(handle))
    at = [h.strip() for h in lines[0]].index(column)
    return [line[at].strip() for line in lines[1:] if any(c.strip() for c in line)]


@pytest.mark.parametrize(("name", "preset", "column", "links"), CASES, ids=[c[0] for c in CASES])
def test_every_preset_fills_source_id_on_the_real_exports(tmp_path, name, preset, column, links):
    path = REAL / name
    if not path.exists():
        pytest.skip("the real exports are not beside this checkout")
    report = run_import(
        path, preset, dry_run=True, results_path=tmp_path / "r.csv",
        links=[REAL / link for link in links], pipeline_id=PIPELINE_ID, stages=fixture_stages(),
    )  # fmt: skip
    rows = rows_of(tmp_path / "r.csv")
    assert len(rows) == report.rows_read
    assert [r["source_id"] for r in rows] == source_ids(path, column)
    assert all(r["source_id"] for r in rows)
    assert not [w for w in report.mapping_warnings if "source_id" in w]


@pytest.mark.parametrize(
    "name", ["organisations-export-uk-print.csv", "people-export-uk-print.csv"]
)
def test_pipedrive_exports_without_an_id_column_say_so(tmp_path, name):
    path = REAL / "pipedrive" / name
    if not path.exists():
        pytest.skip("the real exports are not beside this checkout")
    preset = "pipedrive-organizations" if name.startswith("org") else "pipedrive-people"
    report = run_import(path, preset, dry_run=True, results_path=tmp_path / "r.csv")
    assert any("source_id" in w and "left empty" in w for w in report.mapping_warnings)


# ---- two source records, one Octolane record: `merged`, never a silent duplicate ----

SCHOOLS = """Id,Name,Website
S1,Heritage High School,https://brevardschools.org/heritage
S2,Meadowlane Elementary,https://www.brevardschools.org/meadowlane
S1,Heritage High School,brevardschools.org
S3,Acme Academy,acme.edu
,No id,acme.edu
"""
SCHOOLS_MAPPING = """
source_id: Id
account:
  domain: {column: Website, transforms: [domain]}
"""


def test_two_source_records_with_one_domain_are_merged_and_the_row_says_so(tmp_path):
    csv_path = write(tmp_path / "schools.csv", SCHOOLS)
    mapping = write(tmp_path / "m.yaml", SCHOOLS_MAPPING)
    report = run_import(csv_path, mapping, dry_run=True, results_path=tmp_path / "r.csv")
    rows = {r["row"]: r for r in rows_of(tmp_path / "r.csv")}
    assert report.counts == {"would_import": 2, "merged": 1, "duplicate": 2}
    merged = rows["3"]
    assert (merged["status"], merged["duplicate_of"]) == ("merged", "2")
    assert merged["message"] == (
        "merged into row 2's records (account:brevardschools.org): a different record of the"
        " source (source id S2; row 2's is S1), made one because Octolane keeps one company"
        " per domain; row 2's values are sent"
    )
    # the same id again is a duplicate; a row with no id cannot be told apart: a duplicate
    assert (rows["4"]["status"], rows["4"]["message"]) == (
        "duplicate", "duplicate of row 2: the same account:brevardschools.org",
    )  # fmt: skip
    assert (rows["6"]["status"], rows["6"]["duplicate_of"]) == ("duplicate", "5")


def test_a_merged_row_gets_the_earlier_rows_ids_on_a_real_run(tmp_path):
    csv_path = write(tmp_path / "schools.csv", SCHOOLS)
    mapping = write(tmp_path / "m.yaml", SCHOOLS_MAPPING)
    with running_sandbox() as box:
        report = run(box, csv_path, mapping, settings=settings(box))
        assert report.counts == {"imported": 2, "merged": 1, "duplicate": 2}
        rows = {r["row"]: r for r in rows_of(tmp_path / "results.csv")}
        landed = {a["domain"]: a["company_id"] for a in inspect(box, "accounts")}
        assert sorted(landed) == ["acme.edu", "brevardschools.org"]
        assert rows["3"]["status"] == "merged"
        assert rows["3"]["company_id"] == rows["2"]["company_id"] == landed["brevardschools.org"]
        assert rows["3"]["message"].startswith("merged into row 2's records")
    assert report.exit_code == 0  # merged rows are not rejected: they are one record


def test_a_merged_row_with_a_rejected_record_stays_partial_and_warns(tmp_path):
    data = (
        "Id,Email,Website\nC1,jo@acme.com,acme.com\nC2,jo@acme.com,acme.com\n"
        "C3,al@globex.com,globex.com\nC4,al@globex.com,a.com\n"
        "C5,bad@@x,initech.com\nC6,worse@@y,initech.com\nC7,jo@acme.com,hooli.com\n"
    )
    csv_path = write(tmp_path / "people.csv", data)
    mapping = write(
        tmp_path / "m.yaml",
        "source_id: Id\ncontact:\n  email: {column: Email, transforms: [email]}\n"
        "account:\n  domain: {column: Website, transforms: [domain]}\n",
    )
    run_import(csv_path, mapping, dry_run=True, results_path=tmp_path / "r.csv")
    rows = {r["row"]: r for r in rows_of(tmp_path / "r.csv")}
    assert rows["3"]["status"] == "merged"
    assert (
        "Octolane keeps one company per domain; Octolane keeps one person per e-mail"
        in rows["3"]["message"]
    )
    # row 5's company is refused and its person is row 4's: partial, the merge a warning
    assert rows["5"]["status"] == "partial"
    assert (
        "contact:al@globex.com is also row 4's, a different record of the source (source id"
        " C4; row 4's is C3): made one because Octolane keeps one person per e-mail address"
    ) in rows["5"]["warnings"]
    # rows 6 and 7 lost their people: they share a company, and no person is merged
    assert (rows["6"]["status"], rows["7"]["status"]) == ("partial", "partial")
    assert rows["7"]["duplicate_of"] == "6" and "merged" not in rows["7"]["warnings"]
    # another company, the same person: not a duplicate row, but the person is merged
    assert rows["8"]["status"] == "would_import"
    assert "contact:jo@acme.com is also row 2's" in rows["8"]["warnings"]
