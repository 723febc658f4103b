"""Spreadsheets back as spreadsheets: a workbook's results and failures come back as XLSX
(frozen header, filters, the failed cells marked with the error as a comment, the input's
columns first, every value as text), and the failures workbook imports again as it is."""

from __future__ import annotations

import pytest
from openpyxl import Workbook, load_workbook
from test_import_e2e import inspect, results_of, run, settings, write

from importer.read import open_source
from importer.run import run_import
from importer.sandbox import running_sandbox

MAPPING = """
contact:
  email: {column: Email, transforms: [email]}
  first_name: First Name
"""
ROWS = [
    ["Email", "First Name", "Zip"],
    ["ann@acme.com", "Ann", "00501"],
    ["not-an-email", "Al", "02134"],
    ["bo@beta.io", "Bo", "10001"],
]


def workbook(path, rows=ROWS):
    book = Workbook()
    sheet = book.active
    sheet.title = "Leads"
    for row in rows:
        sheet.append(row)
    for cell in sheet["C"]:
        cell.number_format = "@"  # the zip codes are text, as an export writes them
    book.save(path)
    return path


def red(cell) -> bool:
    return cell.fill is not None and cell.fill.fgColor.rgb == "00FFC7CE"


def test_a_workbook_dry_run_comes_back_as_workbooks(tmp_path):
    data = workbook(tmp_path / "leads.xlsx")
    mapping = write(tmp_path / "m.yaml", MAPPING)
    report = run_import(data, mapping, dry_run=True, results_path=tmp_path / "leads.results.csv",
                        failures_path=tmp_path / "leads.failures.csv")  # fmt: skip
    assert report.results_workbook == tmp_path / "leads.results.xlsx"
    assert report.failures_workbook == tmp_path / "leads.failures.xlsx"

    sheet = load_workbook(report.results_workbook)["Results"]
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:S4"
    header = [c.value for c in sheet[1]]
    assert header[:5] == ["Email", "First Name", "Zip", "row", "source_id"]
    assert all(c.font.bold for c in sheet[1])
    assert [c.value for c in sheet["C"]] == ["Zip", "00501", "02134", "10001"]  # text, exact
    bad = sheet["A3"]
    assert bad.value == "not-an-email" and red(bad)
    assert "is not an email address" in bad.comment.text
    assert not any(red(c) for c in sheet[2]) and not any(red(c) for c in sheet[4])
    assert sheet.cell(3, header.index("status") + 1).value == "invalid"

    failures = load_workbook(report.failures_workbook)["Failures"]
    assert [c.value for c in failures[1]] == ["Email", "First Name", "Zip", "import_row",
                                              "import_error"]  # fmt: skip
    assert [c.value for c in failures[2]][:4] == ["not-an-email", "Al", "02134", "3"]
    assert red(failures["A2"]) and "is not an email" in failures["A2"].comment.text
    assert failures.max_row == 2


def test_the_failures_workbook_imports_again_as_it_is(tmp_path):
    data = workbook(tmp_path / "leads.xlsx")
    mapping = write(tmp_path / "m.yaml", MAPPING)
    with running_sandbox() as box:
        box.fail_next(1, status=400, endpoint="contacts")  # refused for no field: status marked
        first = run(box, data, mapping)
        assert first.failures_workbook is not None
        book = load_workbook(first.failures_workbook)
        sheet = book["Failures"]
        rows = {sheet.cell(r, 4).value: r for r in range(2, sheet.max_row + 1)}
        assert set(rows) == {"2", "3"}  # Ann refused by the server, Al's e-mail invalid
        assert red(sheet.cell(rows["2"], 5))  # no input column to blame: the error is marked
        sheet.cell(rows["3"], 1).value = "al@acme.com"  # the user fixes the cell
        book.save(tmp_path / "fixed.xlsx")
        again = run_import(tmp_path / "fixed.xlsx", mapping, settings=settings(box),
                           results_path=tmp_path / "again.csv",
                           failures_path=tmp_path / "again.failures.csv")  # fmt: skip
        landed = {c["email"] for c in inspect(box, "contacts")}
    assert again.counts == {"imported": 2}
    assert landed == {"ann@acme.com", "al@acme.com", "bo@beta.io"}


@pytest.mark.parametrize(
    ("suffix", "fmt", "workbooks"),
    [(".csv", "auto", False), (".csv", "xlsx", True), (".xlsx", "csv", False)],
)
def test_the_results_format(tmp_path, suffix, fmt, workbooks):
    rows = [*ROWS, ['=HYPERLINK("http://x")@acme.com', "=cmd|' /C calc'!A0", "1"]]
    if suffix == ".csv":
        data = tmp_path / "leads.csv"
        data.write_text("\n".join(",".join(f'"{c}"' for c in r) for r in rows), encoding="utf-8")
    else:
        data = workbook(tmp_path / "leads.xlsx")
    report = run_import(data, write(tmp_path / "m.yaml", MAPPING), dry_run=True,
                        results_path=tmp_path / "r.csv", failures_path=tmp_path / "f.csv",
                        results_format=fmt)  # fmt: skip
    assert (report.results_workbook is not None) is workbooks
    assert (tmp_path / "r.xlsx").exists() is workbooks
    if workbooks:
        sheet = load_workbook(tmp_path / "r.xlsx")["Results"]
        formula = sheet["B5"]
        assert formula.value == "=cmd|' /C calc'!A0" and formula.data_type == "s"  # text


def test_a_nul_in_a_cell_does_not_stop_the_workbooks(tmp_path):
    """A control character XML forbids (48 NULs in Salesforce's Opportunity export), or a
    carriage return XML would read as a line feed, is written as the workbook's escape
    (``_x0000_``): the workbooks read back exactly as the CSV files, and the failures
    workbook imports as the first run read its rows."""
    data = tmp_path / "leads.csv"
    data.write_bytes(
        b'Email,First Name,Plan\nann@acme.com,Ann,step\x00one\nbad,Al,"x\x01\r\n_x0041_"\n'
    )
    report = run_import(data, write(tmp_path / "m.yaml", MAPPING), dry_run=True,
                        results_path=tmp_path / "r.csv", failures_path=tmp_path / "f.csv",
                        results_format="xlsx")  # fmt: skip
    assert report.counts == {"would_import": 1, "invalid": 1}
    with open_source(report.results_workbook) as source:
        rows = [row for batch in source.batches() for row in batch.rows]
    assert [rows[0][2], rows[1][2]] == ["step\x00one", "x\x01\r\n_x0041_"]  # as they were
    with open_source(report.failures_workbook) as again, open_source(tmp_path / "f.csv") as csv:
        assert next(again.batches()).rows == next(csv.batches()).rows
    assert results_of(tmp_path / "r.csv")[1]["warnings"] == ""  # nothing was changed
    for path in (report.results_workbook, report.failures_workbook):
        assert path.stat().st_mode & 0o077 == 0  # the user's only, as the CSV files


def test_a_cell_too_long_for_a_workbook_is_cut_and_its_row_says_so(tmp_path):
    """A workbook cell holds 32,767 characters: a longer one is cut to fit, its cell
    yellow (or red) with a comment, and the row names it and the file that holds it
    whole; the failures workbook says to import the failures CSV instead."""
    notes = "call log line " * 3_000  # 42,000 characters
    data = tmp_path / "leads.csv"
    data.write_text(f"Email,First Name,Notes\nann@acme.com,Ann,{notes}\nbad,Al,{notes}\n")
    report = run_import(data, write(tmp_path / "m.yaml", MAPPING), dry_run=True,
                        results_path=tmp_path / "r.csv", failures_path=tmp_path / "f.csv",
                        results_format="xlsx")  # fmt: skip
    results = load_workbook(report.results_workbook)["Results"]
    header = [c.value for c in results[1]]
    cell = results["C2"]
    assert cell.value == notes[:32_767] and cell.fill.fgColor.rgb == "00FFEB9C"
    said = (
        "C2 (column 'Notes') is cut to 32,767 of its 42,000 characters in this workbook (a"
        " cell holds at most 32,767): the input holds it whole (row 2)"
    )
    assert said in cell.comment.text
    assert results.cell(2, header.index("warnings") + 1).value == said
    assert "C3 (column 'Notes') is cut" in results.cell(3, header.index("warnings") + 1).value
    assert results_of(tmp_path / "r.csv")[0]["warnings"] == ""  # the CSV is whole

    failures = load_workbook(report.failures_workbook)["Failures"]
    assert failures["C2"].value == notes[:32_767]
    error = failures["E2"].value
    assert error.startswith("contact.email (column 'Email'): 'bad' is not")  # the error first
    assert error.endswith(
        " | C2 (column 'Notes') is cut to 32,767 of its 42,000 characters in this workbook (a"
        " cell holds at most 32,767): the failures CSV 'f.csv' holds it whole: import that"
        " file, not this workbook, to send the whole value"
    )
    with open_source(tmp_path / "f.csv") as source:
        assert next(source.batches()).rows[0][2] == notes


def test_a_long_cell_of_control_characters_is_cut_where_its_escapes_fit(tmp_path):
    """Each escape takes seven characters of the cell: the cut keeps whole escapes."""
    text = "x" * 32_000 + "\x01" * 200  # (more control bytes would make the file binary)
    data = tmp_path / "leads.csv"
    data.write_bytes(f"Email,First Name,Plan\nbad,Al,{text}\n".encode())
    report = run_import(data, write(tmp_path / "m.yaml", MAPPING), dry_run=True,
                        results_path=tmp_path / "r.csv", failures_path=tmp_path / "f.csv",
                        results_format="xlsx")  # fmt: skip
    with open_source(report.failures_workbook) as source:
        row = next(source.batches()).rows[0]
    assert row[2] == "x" * 32_000 + "\x01" * 109  # 767 // 7 escapes fit after the x's
    assert "C2 (column 'Plan') is cut to 32,109 of its 32,200 characters" in row[4]
