"""A workbook's amounts in the currency their number format shows (``3.000,00 €``), never
as dollars; and no output written over an input."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from openpyxl.styles.numbers import BUILTIN_FORMATS
from test_currencies import results_of, sent_amounts
from test_import_e2e import inspect, invoke, settings, write
from test_links import hubspot_files

from importer.errors import UsageError
from importer.read import open_source
from importer.read._cell_currency import cell_currencies, format_currency
from importer.read._workbook_limits import WorkbookLimits
from importer.run import run_import
from importer.sandbox import running_sandbox
from importer.settings import Settings

MAPPING = """
options:
  pipeline_id: 00000000-0000-4000-8000-000000000001
opportunity:
  name: Deal
  deal_size: Amount
account:
  domain: Website
"""

# (deal, amount, number format): the formats Excel, LibreOffice and openpyxl write.
AMOUNTS = [
    ("Euro block", 3000.5, "#,##0.00 [$€-407]"),  # Excel's "Currency" in German
    ("Euro quoted", 1200, '#,##0.00\\ "€"'),
    ("Pound quoted", 12, '"£"#,##0.00'),
    ("Euro code", 250, '#,##0.00 "EUR"'),
    ("Dollar bare", 1000, "$#,##0.00"),
    ("Plain number", 99.5, "#,##0.00"),
    ("Accounting pad", 70, "_-* #,##0.00\\ _€_-"),  # "_€": a space as wide as €, no €
    ("Built-in currency", 40, 7),  # the reading computer's currency: not said by the file
    ("Euro as text", "1.500", "#,##0.00 [$€-407]"),  # a text cell: its own text
]


def _workbook(path: Path, *, offset: bool = False) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    first_row, first_column = (3, 2) if offset else (1, 1)
    sheet.cell(first_row, first_column, "Deal")
    sheet.cell(first_row, first_column + 1, "Website")
    sheet.cell(first_row, first_column + 2, "Amount")
    for i, (deal, amount, number_format) in enumerate(AMOUNTS, start=first_row + 1):
        sheet.cell(i, first_column, deal)
        sheet.cell(i, first_column + 1, f"{deal.split()[0].lower()}{i}.com")
        cell = sheet.cell(i, first_column + 2, amount)
        if isinstance(number_format, int):
            cell.number_format = BUILTIN_FORMATS[number_format]  # written as its id
        else:
            cell.number_format = number_format
    book.save(path)
    return path


@pytest.mark.parametrize(
    ("code", "currency"),
    [
        ("#,##0.00 [$€-407]", "€"),
        ("[$€-2] #,##0.00", "€"),
        ("[$USD] #,##0", "USD"),
        ('"£"#,##0.00;[Red]-"£"#,##0.00', "£"),
        ("#,##0.00\\ \\€", "€"),
        ('#,##0.00 "kr"', "kr"),
        ("$#,##0.00_);($#,##0.00)", "$"),
        ("_-* #,##0.00\\ _€_-;\\-* #,##0.00\\ _€_-", None),
        ("[$-409]d/m/yyyy h:mm", None),
        ('0.00 "units"', None),
        ("0.00%", None),
        ('"€"#,##0 "USD"', None),  # two currencies: not decided here
        ("General", None),
    ],
)
def test_the_currency_a_number_format_writes(code, currency):
    assert format_currency(code) == currency


def test_number_cells_read_with_the_currency_their_format_shows(tmp_path):
    data = _workbook(tmp_path / "deals.xlsx")
    with open_source(data, money_columns=["Amount"]) as source:
        rows = [cells for batch in source.batches() for cells in batch.rows]
    amounts = {cells[0]: cells[2] for cells in rows}
    assert amounts == {
        "Euro block": "3000.5\u00a0€",
        "Euro quoted": "1200\u00a0€",
        "Pound quoted": "12\u00a0£",
        "Euro code": "250\u00a0EUR",
        "Dollar bare": "1000\u00a0$",
        "Plain number": "99.5",
        "Accounting pad": "70",
        "Built-in currency": "40",
        "Euro as text": "1.500",
    }


def test_a_sheet_that_starts_below_and_right_of_a1_finds_its_cells(tmp_path):
    data = _workbook(tmp_path / "deals.xlsx", offset=True)
    with open_source(data, money_columns=["Amount"]) as source:
        amounts = {cells[0]: cells[2] for batch in source.batches() for cells in batch.rows}
    assert amounts["Euro block"] == "3000.5\u00a0€"
    assert amounts["Plain number"] == "99.5"


def test_a_workbook_without_currency_formats_reads_no_sheet_for_them(tmp_path, monkeypatch):
    book = openpyxl.Workbook()
    book.active.append(["Deal", "Website", "Amount"])
    book.active.append(["A", "a.com", 5])
    book.save(tmp_path / "plain.xlsx")
    with zipfile.ZipFile(tmp_path / "plain.xlsx") as archive:
        assert b'"$' not in archive.read("xl/styles.xml")
    found = cell_currencies(tmp_path / "plain.xlsx", "plain.xlsx", "Sheet", WorkbookLimits())
    assert found is None


def test_formatted_amounts_are_withheld_without_a_rate_and_converted_with_one(tmp_path):
    data = _workbook(tmp_path / "deals.xlsx")
    mapping = write(tmp_path / "m.yaml", MAPPING)
    run_import(
        data, mapping, dry_run=True, results_path=tmp_path / "r.csv",
        requests_path=tmp_path / "q.jsonl",
    )  # fmt: skip
    sent = sent_amounts(tmp_path / "q.jsonl")
    assert sent == {
        "Euro block": None,
        "Euro quoted": None,
        "Pound quoted": None,
        "Euro code": None,
        "Dollar bare": 1000.0,
        "Plain number": 99.5,
        "Accounting pad": 70.0,
        "Built-in currency": 40.0,
        "Euro as text": 1500.0,  # a text cell: its own text, read by the column's mark
    }
    rows = results_of(tmp_path / "r.csv")
    assert "3,000.50 EUR was left out" in rows["2"]["warnings"]
    assert "12.00 GBP was left out" in rows["4"]["warnings"]

    mapping = write(tmp_path / "rated.yaml", MAPPING + "currency_rates: {EUR: 1.1, GBP: 1.25}\n")
    run_import(
        data, mapping, dry_run=True, results_path=tmp_path / "r2.csv",
        requests_path=tmp_path / "q2.jsonl",
    )  # fmt: skip
    sent = sent_amounts(tmp_path / "q2.jsonl")
    assert sent["Euro block"] == 3300.55
    assert sent["Euro quoted"] == 1320.0
    assert sent["Pound quoted"] == 15.0
    assert sent["Euro code"] == 275.0
    rows = results_of(tmp_path / "r2.csv")
    assert "3,000.50 EUR is 3,300.55 USD (rate 1.1 from currency_rates)" in rows["2"]["warnings"]


def test_formatted_euros_land_converted_in_the_sandbox(tmp_path):
    data = _workbook(tmp_path / "deals.xlsx")
    mapping = write(tmp_path / "m.yaml", MAPPING + "currency_rates: {EUR: 2}\n")
    with running_sandbox() as box:
        report = run_import(
            data, mapping, settings=settings(box), pipeline_id=box.pipeline_id,
            results_path=tmp_path / "r.csv",
        )  # fmt: skip
        landed = {d["name"]: d["amount"] for d in inspect(box, "opportunities")}
    assert report.counts == {"imported": len(AMOUNTS)}
    assert landed["Euro block"] == 6001
    assert landed["Euro quoted"] == 2400
    assert landed["Pound quoted"] is None  # no GBP rate: withheld, not sent as dollars
    assert landed["Plain number"] == 99.5


# ---- ODS: the currency is the cell's own ---------------------------------------------

_NS = " ".join(
    f'xmlns:{k}="urn:oasis:names:tc:opendocument:xmlns:{k}:1.0"'
    for k in ("office", "table", "text")
)
_MANIFEST = (
    '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest='
    '"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
    '<manifest:file-entry manifest:full-path="/" manifest:media-type='
    '"application/vnd.oasis.opendocument.spreadsheet"/><manifest:file-entry'
    ' manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>'
)


def _ods_cell(value: object) -> str:
    if isinstance(value, tuple):  # (amount, currency code): LibreOffice's currency cell
        amount, code = value
        return (
            f'<table:table-cell office:value-type="currency" office:currency="{code}"'
            f' office:value="{amount}"><text:p>{amount} {code}</text:p></table:table-cell>'
        )
    if isinstance(value, (int, float)):
        return (
            f'<table:table-cell office:value-type="float" office:value="{value}">'
            f"<text:p>{value}</text:p></table:table-cell>"
        )
    return (
        f'<table:table-cell office:value-type="string"><text:p>{value}</text:p></table:table-cell>'
    )


def write_ods(path: Path, rows: list[list[object]], lead_rows: int = 0, lead_cols: int = 0) -> Path:
    """A one-sheet ODS workbook as LibreOffice writes it, ``lead_rows`` blank rows and
    ``lead_cols`` blank cells before the data."""
    body = ""
    if lead_rows:
        body += (
            f'<table:table-row table:number-rows-repeated="{lead_rows}">'
            "<table:table-cell/></table:table-row>"
        )
    pad = f'<table:table-cell table:number-columns-repeated="{lead_cols}"/>' if lead_cols else ""
    for row in rows:
        body += f"<table:table-row>{pad}{''.join(map(_ods_cell, row))}</table:table-row>"
    content = (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {_NS}'
        ' office:version="1.2"><office:body><office:spreadsheet><table:table'
        f' table:name="Sheet1">{body}</table:table></office:spreadsheet></office:body>'
        "</office:document-content>"
    )
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr("META-INF/manifest.xml", _MANIFEST, compress_type=zipfile.ZIP_DEFLATED)
    return path


@pytest.mark.parametrize("offset", [False, True])
def test_an_ods_currency_cell_reads_with_its_code(tmp_path, offset):
    rows = [["Deal", "Website", "Amount"], ["A", "aa.com", (3000.5, "EUR")], ["B", "bb.com", 12]]
    data = write_ods(tmp_path / "deals.ods", rows, lead_rows=2 * offset, lead_cols=int(offset))
    with open_source(data, money_columns=["Amount"]) as source:
        read = [cells for batch in source.batches() for cells in batch.rows]
    assert read == [["A", "aa.com", "3000.5\u00a0EUR"], ["B", "bb.com", "12"]]
    run_import(
        data, write(tmp_path / "m.yaml", MAPPING + "currency_rates: {EUR: 2}\n"), dry_run=True,
        results_path=tmp_path / "r.csv", requests_path=tmp_path / "q.jsonl",
    )  # fmt: skip
    assert sent_amounts(tmp_path / "q.jsonl") == {"A": 6001.0, "B": 12.0}


# ---- no output over an input ---------------------------------------------------------


def test_results_named_like_the_input_are_refused_and_the_input_kept(tmp_path):
    data = write(tmp_path / "deals.csv", "Deal,Website,Amount\nA,aa.com,5\n")
    before = data.read_bytes()
    result = invoke("import", data, "--mapping", write(tmp_path / "m.yaml", MAPPING),
                    "--dry-run", "--out", data)  # fmt: skip
    assert result.exit_code == 2
    assert "is the input, and the run would write over it" in result.output
    assert data.read_bytes() == before


def test_a_workbooks_results_copy_may_not_replace_the_workbook(tmp_path):
    data = _workbook(tmp_path / "deals.xlsx")
    before = data.read_bytes()
    mapping = write(tmp_path / "m.yaml", MAPPING)
    result = invoke(
        "import", data, "--mapping", mapping, "--dry-run", "--out", tmp_path / "deals.csv"
    )
    assert result.exit_code == 2
    assert "deals.xlsx, the workbook copy of deals.csv: is the input" in result.output
    assert "--results-format csv" in result.output
    assert data.read_bytes() == before
    # as the message says: a CSV alone is written
    result = invoke("import", data, "--mapping", mapping, "--dry-run", "--out",
                    tmp_path / "deals.csv", "--results-format", "csv")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert data.read_bytes() == before


def test_no_output_replaces_a_linked_export_or_the_input(tmp_path):
    data = write(tmp_path / "deals.csv", "Deal,Website,Amount\nA,aa.com,5\n")
    mapping = write(tmp_path / "m.yaml", MAPPING)
    for option in ("requests_path", "failures_path", "report_path"):
        with pytest.raises(UsageError, match="is the input"):
            run_import(data, mapping, dry_run=True, results_path=tmp_path / "r.csv",
                       **{option: data})  # fmt: skip
    assert data.read_text(encoding="utf-8") == "Deal,Website,Amount\nA,aa.com,5\n"


def test_no_output_replaces_the_mapping_or_the_rates_file(tmp_path):
    data = write(tmp_path / "deals.csv", "Deal,Website,Amount\nA,aa.com,5 EUR\n")
    mapping = write(tmp_path / "m.yaml", MAPPING)
    rates = write(tmp_path / "rates.yaml", "EUR: 1.1\n")
    kept = mapping.read_bytes(), rates.read_bytes()
    result = invoke("import", data, "--mapping", mapping, "--dry-run", "--out", mapping)
    assert result.exit_code == 2
    assert "is the mapping m.yaml, and the run would write over it" in result.output
    result = invoke("import", data, "--mapping", mapping, "--rates", rates, "--dry-run",
                    "--out", tmp_path / "r.csv", "--failures", rates)  # fmt: skip
    assert result.exit_code == 2
    assert "is the rates file rates.yaml" in result.output
    assert (mapping.read_bytes(), rates.read_bytes()) == kept
    result = invoke("import", data, "--mapping", mapping, "--rates", rates, "--dry-run",
                    "--out", tmp_path / "r.csv")  # fmt: skip
    assert result.exit_code == 0, result.output


def test_no_output_replaces_a_linked_export(tmp_path):
    deals, companies, contacts = hubspot_files(tmp_path)
    before = companies.read_bytes()
    with pytest.raises(UsageError, match=r"is the linked export hubspot-companies\.csv"):
        run_import(deals, "hubspot-deals", dry_run=True, results_path=tmp_path / "r.csv",
                   links=[companies, contacts], requests_path=companies)  # fmt: skip
    assert companies.read_bytes() == before


def test_a_proposed_mapping_is_not_written_over_the_export(tmp_path):
    data = write(tmp_path / "leads.csv", "Email,First Name\njo@northwind-logistics.com,Jo\n")
    before = data.read_bytes()
    result = invoke("map", data, "-o", tmp_path / "." / "leads.csv")
    assert result.exit_code == 2
    assert "is the export to map" in result.output
    assert data.read_bytes() == before


def _sheets_rewritten(data: Path, path: Path, rewrite: Any) -> Path:
    """A copy of the workbook ``data`` whose sheet XML ``rewrite`` changed (it must)."""
    with zipfile.ZipFile(data) as source, zipfile.ZipFile(path, "w") as target:
        for item in source.infolist():
            content = source.read(item)
            if item.filename.startswith("xl/worksheets/"):
                changed = rewrite(content)
                assert changed != content
                content = changed
            target.writestr(item, content)
    return path


def _amount_rows(path: Path) -> list[list[str]]:
    with open_source(path, money_columns=["Amount"]) as source:
        return [cells for batch in source.batches() for cells in batch.rows]


def _attributes_swapped(xml: bytes) -> bytes:
    xml = re.sub(rb'<c r="([A-Z]+[0-9]+)" s="([0-9]+)"', rb'<c s="\2" r="\1"', xml)
    return xml.replace(b'<row r="2"', b'<row s="1" customFormat="1" r="2"')


def test_cells_written_with_their_attributes_in_another_order_are_found(tmp_path):
    """Writers put a cell's r, s and t in that order; one that does not (and a row with a
    style of its own) is read the same."""
    data = _workbook(tmp_path / "deals.xlsx")
    swapped = _sheets_rewritten(data, tmp_path / "swapped.xlsx", _attributes_swapped)
    after = _amount_rows(swapped)
    assert after == _amount_rows(data)
    assert after[0][2] == "3000.5\u00a0€"


@pytest.mark.parametrize("code", ['0 "PCS"', '#,##0 "FTE"', '0.0 "KWH"', '#,##0 "SQM"'])
def test_a_unit_written_in_capitals_is_no_currency(code):
    assert format_currency(code) is None


def test_only_amount_columns_read_the_currency_their_format_shows(tmp_path):
    """A number with a currency format in a column no amount reads (a custom attribute)
    is sent as the number it is, not as ``12 €`` text; the amount beside it is in €."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Deal", "Website", "Amount", "Seats"])
    sheet.append(["A", "acmecorp.io", 3000, 12])
    sheet.cell(2, 3).number_format = "#,##0.00 [$€-407]"
    sheet.cell(2, 4).number_format = '#,##0 "€"'
    book.save(tmp_path / "deals.xlsx")
    mapping = write(
        tmp_path / "m.yaml",
        "options: {pipeline_id: 00000000-0000-4000-8000-000000000001}\n"
        "opportunity:\n  name: Deal\n  deal_size: Amount\n"
        "  custom_attributes: {seats: {column: Seats}}\n"
        "account:\n  domain: Website\ncurrency_rates: {EUR: 2}\n",
    )
    run_import(
        tmp_path / "deals.xlsx", mapping, dry_run=True, results_path=tmp_path / "r.csv",
        requests_path=tmp_path / "q.jsonl", settings=Settings(api_key="k", api="public"),
    )  # fmt: skip
    lines = (tmp_path / "q.jsonl").read_text(encoding="utf-8").splitlines()
    bodies = [json.loads(line)["body"] for line in lines]
    deal = next(b for b in bodies if "custom_attributes" in json.dumps(b))
    text = json.dumps(deal, ensure_ascii=False)
    assert "€" not in text and "\u00a0" not in text  # the seats are a number of seats
    assert '"seats": "12"' in text or '"seats": 12' in text
    assert "6000" in text  # 3000 € at 2 dollars a euro
    # the reader writes the currency only into the columns it is told are amounts
    with open_source(tmp_path / "deals.xlsx", money_columns=["amount"]) as source:
        assert next(source.batches()).rows == [["A", "acmecorp.io", "3000\u00a0€", "12"]]
    with open_source(tmp_path / "deals.xlsx") as source:
        assert next(source.batches()).rows == [["A", "acmecorp.io", "3000", "12"]]


def _prefixed(xml: bytes) -> bytes:
    main = b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    xml = xml.replace(main, main.replace(b"xmlns=", b"xmlns:x="))
    return re.sub(
        rb"<(/?)(worksheet|sheetPr|outlinePr|dimension|sheetViews|sheetView|selection"
        rb"|sheetFormatPr|sheetData|row|c|v|is|t|pageMargins)\b",
        rb"<\1x:\2",
        xml,
    )


@pytest.mark.parametrize(
    "rewrite",
    [
        pytest.param(lambda x: re.sub(rb'<c r="[A-Z]+[0-9]+"', b"<c", x), id="no-references"),
        pytest.param(_prefixed, id="prefixed-namespace"),
        pytest.param(
            lambda x: re.sub(rb'<c r="([A-Z0-9]+)" s="([0-9]+)"', rb"<c r='\1' s='\2'", x),
            id="single-quotes",
        ),
    ],
)
def test_sheet_xml_in_less_usual_forms_still_shows_its_currencies(tmp_path, rewrite):
    """SpreadsheetML lets a writer leave out cell references, prefix its namespace (the
    .NET SDK's ``<x:c``) or quote attributes with '; such a sheet is parsed as XML, so its
    euros are never read as bare numbers (sent as dollars)."""
    data = _workbook(tmp_path / "deals.xlsx")
    after = _amount_rows(_sheets_rewritten(data, tmp_path / "unusual.xlsx", rewrite))
    assert after == _amount_rows(data)
    assert after[0][2] == "3000.5\u00a0€"


def test_a_repeated_ods_currency_row_is_one_run_not_a_row_at_a_time(tmp_path):
    """LibreOffice writes identical rows once, with number-rows-repeated: the repeated
    currency cells are recorded as one run, however many rows they stand for."""
    from importer.read._cell_currency import ods_cell_currencies

    data = write_ods(tmp_path / "deals.ods", [["Deal", "Amount"], ["A", (5.0, "EUR")]])
    with zipfile.ZipFile(data) as archive:
        content = archive.read("content.xml")
    repeated = content.replace(
        b'<table:table-row><table:table-cell office:value-type="string"><text:p>A',
        b'<table:table-row table:number-rows-repeated="5000000"><table:table-cell'
        b' office:value-type="string"><text:p>A',
    )
    assert repeated != content
    with zipfile.ZipFile(data, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", repeated)
    found = ods_cell_currencies(data, "deals.ods", "Sheet1", WorkbookLimits())
    assert found is not None
    assert (found.at(1, 1), found.at(5_000_000, 1), found.at(5_000_001, 1)) == ("EUR", "EUR", None)
    assert found.at(1, 0) is None
