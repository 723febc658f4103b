"""``skip_rows``: rows a mapping leaves out by a column's value, each told why.

Salesforce's converted leads are the reason: Salesforce made each one a contact, which
the same org's Contact export holds, so importing both made two people of one.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from test_import_e2e import write

from importer.errors import MappingError
from importer.run import run_import

REAL = Path(__file__).resolve().parents[2] / "shared" / "real-exports" / "salesforce"

LEADS = """Id,Email,IsConverted,ConvertedContactId
L1,ana@acme.com,1,003AAA
L2,bo@globex.com,0,000000000000000AAA
L3,cy@initech.com,1,000000000000000AAA
L4,di@hooli.com,TRUE,003BBB
"""


def rows_of(path: Path) -> dict[str, dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return {row["row"]: row for row in csv.DictReader(handle)}


def dry(tmp_path: Path, mapping: str) -> tuple[object, dict[str, dict[str, str]]]:
    data = write(tmp_path / "leads.csv", LEADS)
    path = write(tmp_path / "m.yaml", mapping)
    report = run_import(data, path, dry_run=True, results_path=tmp_path / "r.csv")
    return report, rows_of(tmp_path / "r.csv")


def test_rows_are_skipped_by_a_columns_values_and_each_says_why(tmp_path):
    report, rows = dry(tmp_path, """
source_id: Id
skip_rows:
  - column: IsConverted
    values: ["1", "true"]
    reason: converted into the contact {ConvertedContactId}
contact:
  email: Email
""")  # fmt: skip
    assert report.counts == {"would_import": 1, "skipped": 3}
    assert (rows["2"]["status"], rows["2"]["message"]) == (
        "skipped", "converted into the contact 003AAA",
    )  # fmt: skip
    assert rows["5"]["status"] == "skipped"  # "TRUE": no case
    assert rows["2"]["source_id"] == "L1" and rows["2"]["records"] == ""
    assert report.distinct["contacts"] == 1


def test_other_than_skips_any_filled_cell_but_those(tmp_path):
    _, rows = dry(tmp_path, """
skip_rows:
  - {column: ConvertedContactId, other_than: ["000000000000000AAA"], reason: "as {ConvertedContactId}"}
contact:
  email: Email
""")  # fmt: skip
    assert [rows[r]["status"] for r in "2345"] == [
        "skipped", "would_import", "would_import", "skipped",
    ]  # fmt: skip
    assert rows["5"]["message"] == "as 003BBB"


def test_a_mapping_that_extends_a_preset_can_keep_the_rows_and_a_rule_needs_one_test(tmp_path):
    _, rows = dry(tmp_path, "extends: salesforce-leads\nskip_rows: []\n")
    assert not any(r["status"] == "skipped" for r in rows.values())
    with pytest.raises(MappingError, match=r"values .* or other_than, not both"):
        dry(tmp_path, "skip_rows:\n  - {column: Id, reason: x}\ncontact:\n  email: Email\n")


def test_a_users_rule_on_a_missing_column_warns(tmp_path):
    report, _ = dry(tmp_path, """
skip_rows:
  - {column: Converted, values: ["1"], reason: x}
contact:
  email: Email
""")  # fmt: skip
    assert any(
        "skip_rows: column 'Converted' is not in leads.csv" in w for w in report.mapping_warnings
    )


@pytest.mark.skipif(not REAL.exists(), reason="the shared real exports are not here")
def test_a_salesforce_export_makes_one_person_of_a_converted_lead(tmp_path):
    """Lead row 24 (Thomas Hansen, thansen@omdecuador.com) was converted into the contact of
    Contact.csv row 68 (thomas.hansen@omnicommediagroup.com.ec): one person, not two."""
    folder = tmp_path / "export"
    folder.mkdir()
    for name in ("Account", "Contact", "Lead", "Opportunity", "OpportunityContactRole", "Task"):
        (folder / f"{name}.csv").write_bytes((REAL / f"data-export-{name}.csv").read_bytes())
    out = tmp_path / "out"
    run_import(folder / "Lead.csv", "salesforce-leads", dry_run=True, results_path=out / "lead.csv")
    lead = rows_of(out / "lead.csv")["24"]
    assert lead["status"] == "skipped"
    assert "the contact '0038a00003DP2MaAAL', which the Contact export holds" in lead["message"]
    assert "thansen@omdecuador.com" not in lead["records"]


def test_a_reason_names_any_column_and_numbers_are_values(tmp_path):
    """Linked and Salesforce columns hold dots ("Owner.Name"): the reason crashed the run
    as a format string. YAML's 1 and true are the cells "1" and "true"."""
    data = write(tmp_path / "l.csv", "Id,Email,Conv,Owner.Name,Note: x\nL1,ana@acme.com,1,Bob,n\n"
                 "L2,bo@globex.com,true,Al,m\n")  # fmt: skip
    path = write(tmp_path / "m.yaml", """
skip_rows:
  - {column: Conv, values: [1, true], reason: "by {Owner.Name} ({Note: x}) {0} {} a { b {Nope}"}
contact:
  email: Email
""")  # fmt: skip
    run_import(data, path, dry_run=True, results_path=tmp_path / "r.csv")
    rows = rows_of(tmp_path / "r.csv")
    assert rows["2"]["message"] == "by Bob (n) {0} {} a { b {Nope}"
    assert rows["3"]["status"] == "skipped"


@pytest.mark.parametrize(
    ("preset", "header", "deleted", "kept"),
    [
        (
            "pipedrive-deals",
            "Deal - ID,Deal - Title,Deal - Status,Deal - Value,Organization - Website",
            "1,Gone,deleted,100,acme.com",
            "2,Open,open,200,globex.com",
        ),
        (
            "salesforce-contacts",
            "Id,IsDeleted,FirstName,LastName,Email",
            "0038a000037J0ggAAC,1,Ana,Lee,ana@acme.com",
            "0038a000037J0ghAAC,0,Bo,Ng,bo@globex.com",
        ),
    ],
)
def test_a_deleted_record_of_the_export_is_skipped_and_says_so(
    tmp_path, preset, header, deleted, kept
):
    """A deleted Pipedrive deal was sent to its stage as an open one; Salesforce's
    recycle bin (an export with deleted records) came back to life likewise."""
    data = write(tmp_path / "export.csv", f"{header}\n{deleted}\n{kept}\n")
    report = run_import(
        data, preset, dry_run=True, results_path=tmp_path / "r.csv",
        pipeline_id="00000000-0000-4000-8000-000000000001", stages=(),
    )  # fmt: skip
    rows = rows_of(tmp_path / "r.csv")
    assert rows["2"]["status"] == "skipped" and "a deleted" in rows["2"]["message"]
    assert rows["3"]["status"] != "skipped"
    assert report.counts["skipped"] == 1
