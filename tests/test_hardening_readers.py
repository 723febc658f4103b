"""Workbooks and CSV files a script wrote: formula cells with no computed value, an
empty cover sheet, a cell longer than the limit. Each is said, never silent."""

from __future__ import annotations

import openpyxl
import pytest
from test_import_e2e import invoke, results_of

from importer.errors import SourceError
from importer.read import open_source
from importer.run import run_import


def test_formula_cells_without_a_computed_value_are_said_on_their_rows(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Record ID", "First Name", "Last Name", "Email"])
    sheet.append([1, '=PROPER("ann")', '=UPPER("lee")', "ann@acme.com"])
    sheet.append([2, "Bob", "Ray", '=LOWER("BOB@ACME.COM")'])
    sheet.append([3, "Cy", "Dee", "cy@acme.com"])
    book.save(tmp_path / "leads.xlsx")
    run_import(tmp_path / "leads.xlsx", "hubspot", dry_run=True, results_path=tmp_path / "r.csv")
    rows = {r["row"]: r for r in results_of(tmp_path / "r.csv")}
    assert "B2 (column 'First Name', =PROPER(\"ann\"))" in rows["2"]["warnings"]
    assert "hold no computed value, so they read empty" in rows["2"]["warnings"]
    assert rows["3"]["status"] == "invalid"
    assert (
        "D3 (column 'Email', =LOWER(\"BOB@ACME.COM\")) holds no computed value"
        in (rows["3"]["warnings"])
    )
    assert "save it, which computes it" in rows["3"]["warnings"]
    assert rows["4"]["warnings"] == ""


def test_formula_cells_a_spreadsheet_saved_with_their_values_read_as_those(tmp_path):
    """Excel and LibreOffice write the result beside the formula: nothing to say."""
    book = openpyxl.Workbook()
    book.active.append(["Email"])
    book.active.append(["=LOWER(A3)"])
    book.save(tmp_path / "f.xlsx")
    import zipfile

    cached = tmp_path / "cached.xlsx"
    with zipfile.ZipFile(tmp_path / "f.xlsx") as source, zipfile.ZipFile(cached, "w") as target:
        for item in source.infolist():
            content = source.read(item)
            if item.filename.startswith("xl/worksheets/"):
                content = content.replace(b"<v />", b"<v>jo@acme.com</v>").replace(
                    b'<c r="A2">', b'<c r="A2" t="str">'
                )
            target.writestr(item, content)
    with open_source(cached) as source:
        batch = next(source.batches())
    assert batch.rows == [["jo@acme.com"]] and batch.problems == {}


def test_an_empty_first_sheet_names_the_others_and_the_option(tmp_path):
    book = openpyxl.Workbook()
    book.active.title = "Cover"
    data = book.create_sheet("Contacts")
    data.append(["Record ID", "First Name", "Last Name", "Email"])
    data.append([1, "Ann", "Lee", "ann@acme.com"])
    book.save(tmp_path / "leads.xlsx")
    with pytest.raises(SourceError, match=r"sheet 'Cover', the first visible one, is empty"):
        open_source(tmp_path / "leads.xlsx")
    result = invoke(tmp_path / "leads.xlsx", "--mapping", "hubspot", "--dry-run", "--out",
                    tmp_path / "r.csv")  # fmt: skip
    assert result.exit_code == 2 and "--sheet 'Contacts'" in result.output
    result = invoke(tmp_path / "leads.xlsx", "--mapping", "hubspot", "--dry-run", "--out",
                    tmp_path / "r.csv", "--sheet", "Contacts")  # fmt: skip
    assert result.exit_code == 0, result.output


def test_a_long_cell_with_its_quotes_closed_is_not_blamed_on_a_quote(tmp_path):
    path = tmp_path / "long.csv"
    with path.open("w", encoding="utf-8") as out:
        out.write("Record ID,First Name,Last Name,Email,Notes\n")
        out.write('1,Ann,Lee,ann@acme.com,"' + "call log line\n" * 900_000 + '"\n')
        out.write("2,Bob,Ray,bob@acme.com,short\n")
    result = invoke(path, "--mapping", "hubspot", "--dry-run", "--out", tmp_path / "r.csv")
    assert result.exit_code == 2
    assert "row 2: a cell is longer than 10,485,760 characters, the limit" in result.output
    assert "never closed" not in result.output
    path.write_text(
        'Record ID,First Name,Last Name,Email,Notes\n1,Ann,Lee,ann@acme.com,"'
        + "call log line\n" * 900_000,
        encoding="utf-8",
    )
    result = invoke(path, "--mapping", "hubspot", "--dry-run", "--out", tmp_path / "r.csv")
    assert result.exit_code == 2 and "never closed" in result.output


def test_a_missing_column_error_points_at_the_header_row(tmp_path):
    """A title row above a one-column header is taken for the header: the error says
    which row was read as the header, and --header-row fixes it."""
    data = tmp_path / "onecol.csv"
    data.write_text("My export\nEmail\na@acme.com\nb@acme.com\n", encoding="utf-8")
    result = invoke(data, "--mapping", "hubspot", "--dry-run", "--out", tmp_path / "r.csv")
    assert result.exit_code == 2
    assert "the header was read from row 1: if it is another row, pass --header-row N" in (
        result.output
    )
    result = invoke(data, "--mapping", "hubspot", "--dry-run", "--out", tmp_path / "r.csv",
                    "--header-row", "2")  # fmt: skip
    assert result.exit_code == 0, result.output
