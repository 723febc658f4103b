"""What a sheet shows beyond its cells' values: merged cells and hidden rows. Each is
said on the rows it touches and in the run's summary, never silent."""

from __future__ import annotations

import openpyxl
from preset_cases import stages_named
from test_import_e2e import results_of, write

from importer.run import run_import

MAPPING = """
source_id: Company
contact:
  email: {column: Email, transforms: [email]}
  first_name: First Name
"""


def dry(tmp_path, book):
    book.save(tmp_path / "leads.xlsx")
    report = run_import(tmp_path / "leads.xlsx", write(tmp_path / "m.yaml", MAPPING),
                        dry_run=True, results_path=tmp_path / "r.csv")  # fmt: skip
    return report, {r["row"]: r for r in results_of(tmp_path / "r.csv")}


def test_a_merged_cell_fills_down_its_column_and_each_row_says_so(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Leads"
    sheet.append(["Company", "First Name", "Last Name", "Email"])
    sheet.append(["Acme", "Ann", "Lee", "ann@acme.com"])
    sheet.append([None, "Bob", "Ray", "bob@acme.com"])
    sheet.append([None, "Cy", "Dee", "cy@acme.com"])
    sheet.append(["Beta", None, None, "di@beta.io"])
    sheet.append(["Gamma", "Ed", "Fox", "ed@gamma.io"])
    sheet.merge_cells("A2:A4")  # a company over its three contacts
    sheet.merge_cells("A5:C5")  # a value spread over three columns
    report, rows = dry(tmp_path, book)
    assert [rows[n]["source_id"] for n in "23456"] == ["Acme", "Acme", "Acme", "Beta", "Gamma"]
    assert rows["2"]["warnings"] == ""  # the merged cell's own
    assert rows["3"]["warnings"] == (
        "value of merged cell A2:A4 filled in: A3 (column 'Company') reads 'Acme'"
    )
    assert "merged cell A2:A4 filled in: A4 (column 'Company')" in rows["4"]["warnings"]
    assert (
        "B5, C5 (columns 'First Name', 'Last Name') are covered by merged cell A5:C5: they"
        " read empty (its value 'Beta' is read under column 'Company' alone)"
    ) in rows["5"]["warnings"]
    assert rows["6"]["warnings"] == ""
    said = [w for w in report.mapping_warnings if "merged" in w]
    assert said == [
        "sheet 'Leads' has 2 merged cells over its data rows (A2:A4, A5:C5): a merged value"
        " is filled down its column, as the sheet shows it; each row that gets it, or whose"
        " covered cells stay empty, says so"
    ]


def test_a_merged_cell_from_the_header_down_leaves_its_data_cells_empty(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Company", "First Name", "Email"])
    sheet.append([None, "Ann", "ann@acme.com"])
    sheet.append(["Beta", "Bob", "bob@beta.io"])
    sheet.merge_cells("A1:A2")
    _, rows = dry(tmp_path, book)
    assert rows["2"]["source_id"] == ""
    assert (
        "A2 (column 'Company') is covered by merged cell A1:A2, which starts at row 1,"
        " above the data: it reads empty"
    ) in rows["2"]["warnings"]
    assert rows["3"]["warnings"] == ""


def test_merged_cells_of_a_sheet_that_starts_further_in(tmp_path):
    """calamine's rows start at row 1 and its columns at the first used one."""
    book = openpyxl.Workbook()
    sheet = book.active
    for row, values in enumerate(
        [["Company", "First Name", "Email"], ["Acme", "Ann", "ann@acme.com"],
         [None, "Bob", "bob@acme.com"]], start=3,
    ):  # fmt: skip
        for column, value in enumerate(values, start=3):
            sheet.cell(row, column, value)
    sheet.merge_cells("C4:C5")
    _, rows = dry(tmp_path, book)
    assert rows["5"]["source_id"] == "Acme"
    assert (
        "merged cell C4:C5 filled in: C5 (column 'Company') reads 'Acme'" in (rows["5"]["warnings"])
    )


def people(sheet, count=5):
    sheet.append(["Company", "First Name", "Email"])
    for i in range(1, count + 1):
        sheet.append([f"Co{i}", f"P{i}", f"p{i}@co{i}.com"])


def test_rows_a_filter_hides_are_imported_and_each_says_so(tmp_path):
    """The user who filtered the sheet sees fewer rows than the file holds: every row is
    imported (nothing lost), the hidden ones named on their rows and in the summary."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Leads"
    people(sheet)
    sheet.auto_filter.ref = "A1:C6"
    sheet.auto_filter.add_filter_column(0, ["Co1", "Co3", "Co5"])
    sheet.row_dimensions[3].hidden = True  # what Excel saves for the rows filtered out
    sheet.row_dimensions[5].hidden = True
    report, rows = dry(tmp_path, book)
    assert [rows[n]["status"] for n in "23456"] == ["would_import"] * 5
    said = (
        "the row is hidden in sheet 'Leads' (by its filter or by hand) and is imported like"
        " the visible rows: to leave it out, delete it from the sheet"
    )
    assert [rows[n]["warnings"] for n in "23456"] == ["", said, "", said, ""]
    assert [w for w in report.mapping_warnings if "hidden" in w] == [
        "sheet 'Leads' has 2 hidden rows (by its filter or by hand): 3, 5; they are imported"
        " like the visible rows, each saying so in its warnings: to import only the rows the"
        " sheet shows, delete the hidden ones (or copy the visible rows to a new sheet) and"
        " import again"
    ]


def test_rows_hidden_by_hand_say_so_too(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    people(sheet, 8)
    for number in range(3, 10):
        sheet.row_dimensions[number].hidden = True
    report, rows = dry(tmp_path, book)
    assert "hidden in sheet 'Sheet' (by hand or in a collapsed group)" in rows["9"]["warnings"]
    assert rows["2"]["warnings"] == ""
    assert any(
        "has 7 hidden rows (by hand or in a collapsed group): 3, 4, 5, 6, 7 and 2 more;" in w
        for w in report.mapping_warnings
    )


def test_a_linked_workbook_says_what_its_sheet_hides_and_merges(tmp_path):
    """A linked file's rows are no rows of the results: the summary says it."""
    deals = write(tmp_path / "deals.csv", (
        '"Record ID","Deal Name","Deal Stage","Amount","Associated Company IDs"\n'
        '"9001","Northwind renewal","Closed won","1200.0","7001"\n'
    ))  # fmt: skip
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Companies"
    sheet.append(["Record ID", "Company name", "Company Domain Name"])
    sheet.append(["7001", "Northwind", "northwind-logistics.com"])
    sheet.append(["7002", None, "harbourvale.co.uk"])
    sheet.merge_cells("B2:B3")
    sheet.row_dimensions[3].hidden = True
    book.save(tmp_path / "hubspot-companies.xlsx")
    report = run_import(deals, "hubspot-deals", dry_run=True, results_path=tmp_path / "r.csv",
                        links=[tmp_path / "hubspot-companies.xlsx"],
                        pipeline_id="00000000-0000-4000-8000-000000000001",
                        stages=stages_named("Closed won"))  # fmt: skip
    linked = [w for w in report.mapping_warnings if w.startswith("link ")]
    assert any("hubspot-companies.xlsx: sheet 'Companies' has 1 merged cell" in w for w in linked)
    assert any("hubspot-companies.xlsx: sheet 'Companies' has 1 hidden row" in w for w in linked)
