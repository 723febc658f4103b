"""A workbook's amount column, whose cells read with the currency their number format
shows ("3000.5\u00a0€"), as the other readers of that column see it: a custom attribute
or a template reading it gets the number, a skip rule compares the number, and an amount
in a currency no code names is left out with a warning a user can read."""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest
from test_currencies import results_of, sent_amounts
from test_import_e2e import write

from importer.run import run_import
from importer.settings import Settings

DEALS = """
options:
  pipeline_id: 00000000-0000-4000-8000-000000000001
opportunity:
  name: Deal
  deal_size: Amount
"""


def _import(data: Path, mapping: Path, tmp_path: Path) -> list[dict[str, object]]:
    run_import(
        data, mapping, dry_run=True, results_path=tmp_path / "r.csv",
        requests_path=tmp_path / "q.jsonl", settings=Settings(api_key="k", api="public"),
    )  # fmt: skip
    lines = (tmp_path / "q.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["body"] for line in lines if '"opportunities"' in line]


def _euros(path: Path, amounts: list[float], fmt: str = "#,##0.00 [$€-407]") -> Path:
    book = openpyxl.Workbook()
    book.active.append(["Deal", "Amount"])
    for row, amount in enumerate(amounts, start=2):
        book.active.append([f"D{row}", amount])
        book.active.cell(row, 2).number_format = fmt
    book.save(path)
    return path


def test_a_field_reading_the_amount_column_for_itself_gets_the_plain_number(tmp_path):
    data = _euros(tmp_path / "deals.xlsx", [3000.5])
    mapping = DEALS + (
        "  custom_attributes:\n"
        "    amount_shown: {column: Amount}\n"
        "    line: {template: '{Deal}: {Amount}'}\n"
        "currency_rates: {EUR: 2}\n"
    )
    bodies = _import(data, write(tmp_path / "m.yaml", mapping), tmp_path)
    assert bodies[0]["opportunity"]["custom_attributes"] == {
        "amount_shown": "3000.5",
        "line": "D2: 3000.5",
    }
    assert sent_amounts(tmp_path / "q.jsonl") == {"D2": 6001.0}  # the amount: still euros


def test_a_skip_rule_on_the_amount_column_compares_its_number(tmp_path):
    data = _euros(tmp_path / "a.xlsx", [0, 3000.5])
    mapping = DEALS + "skip_rows:\n  - column: Amount\n    values: [0]\n    reason: no amount\n"
    _import(data, write(tmp_path / "m.yaml", mapping), tmp_path)
    rows = results_of(tmp_path / "r.csv")
    assert rows["2"]["status"] == "skipped" and "no amount" in rows["2"]["message"]
    assert sent_amounts(tmp_path / "q.jsonl") == {"D3": None}  # euros, no rate: left out


def test_an_amount_in_a_currency_no_code_names_is_left_out_with_a_readable_warning(tmp_path):
    """'Rp' is shown by the format but names no currency: no amount, and the warning
    shows the cell as Excel does (a space, not the no-break space's escape)."""
    data = _euros(tmp_path / "a.xlsx", [3000], fmt="#,##0 [$Rp-421]")
    _import(data, write(tmp_path / "m.yaml", DEALS), tmp_path)
    assert sent_amounts(tmp_path / "q.jsonl") == {"D2": None}
    warnings = results_of(tmp_path / "r.csv")["2"]["warnings"]
    assert "'3000 Rp' is not an amount: the cell's number format shows it in 'Rp'" in warnings
    assert "[$IDR] #,##0" in warnings and "\\xa0" not in warnings


# ---- sheet XML in any valid form --------------------------------------------------------


def _rewritten(source: Path, target: Path, part: str, change: Callable[[bytes], bytes]) -> Path:
    with zipfile.ZipFile(source) as given, zipfile.ZipFile(target, "w") as written:
        for item in given.infolist():
            content = given.read(item)
            if item.filename == part:
                changed = change(content)
                assert changed != content
                content = changed
            written.writestr(item, content)
    return target


def _prefixed(xml: bytes) -> bytes:
    """Every tag in the main namespace under the prefix x: (the .NET OpenXML SDK's way)."""
    xml = xml.replace(b'xmlns="http://schemas', b'xmlns:x="http://schemas', 1)
    return re.sub(rb"<(/?)([A-Za-z]+[\s/>])", rb"<\1x:\2", xml)


SHEET_FORMS = {
    "no cell references": lambda xml: re.sub(rb'<c r="[A-Z]+[0-9]+"', b"<c", xml),
    "no row or cell references": lambda xml: re.sub(rb'<(c|row) r="[A-Z]*[0-9]+"', rb"<\1", xml),
    "a prefixed namespace": _prefixed,
    "single-quoted attributes": lambda xml: re.sub(rb'(\s[rst])="([^"]*)"', rb"\1='\2'", xml),
    "a single-quoted style": lambda xml: xml.replace(b' s="1"', b" s='1'"),
    "style before reference": lambda xml: re.sub(
        rb'<c r="([A-Z0-9]+)" s="([0-9]+)"', rb'<c s="\2" r="\1"', xml
    ),
    "line breaks between attributes": lambda xml: xml.replace(b'" s="', b'"\n  s="'),
    "spaces around =": lambda xml: xml.replace(b' s="', b' s = "'),
    "a space before =": lambda xml: xml.replace(b' s="', b' s ="'),
}


@pytest.mark.parametrize("form", SHEET_FORMS)
def test_currency_cells_are_found_in_any_valid_sheet_xml(tmp_path, form):
    data = _rewritten(
        _euros(tmp_path / "a.xlsx", [3000.5, 3001.5, 3002.5]), tmp_path / "b.xlsx",
        "xl/worksheets/sheet1.xml", SHEET_FORMS[form],
    )  # fmt: skip
    _import(data, write(tmp_path / "m.yaml", DEALS), tmp_path)
    assert sent_amounts(tmp_path / "q.jsonl") == {"D2": None, "D3": None, "D4": None}
    assert "3,000.50 EUR was left out" in results_of(tmp_path / "r.csv")["2"]["warnings"]


def test_the_default_style_writing_a_currency_holds_for_cells_without_a_style(tmp_path):
    """cellXfs[0] (the Normal style) with a currency format: a cell with no s has it."""
    data = _euros(tmp_path / "a.xlsx", [3000.5, 12])
    data = _rewritten(
        data, tmp_path / "b.xlsx", "xl/worksheets/sheet1.xml",
        lambda xml: re.sub(rb'(<c r="B[0-9]+") s="[0-9]+"', rb"\1", xml),
    )  # fmt: skip
    data = _rewritten(
        data, tmp_path / "c.xlsx", "xl/styles.xml",
        lambda xml: xml.replace(b'<cellXfs count="2"><xf numFmtId="0"', b'<cellXfs count="2"><xf numFmtId="164"'),
    )  # fmt: skip
    _import(data, write(tmp_path / "m.yaml", DEALS), tmp_path)
    assert sent_amounts(tmp_path / "q.jsonl") == {"D2": None, "D3": None}
    assert "3,000.50 EUR was left out" in results_of(tmp_path / "r.csv")["2"]["warnings"]


@pytest.mark.parametrize(
    ("cells", "decimal_mark", "sent", "refused"),
    [
        # text cells of a decimal-comma column: '2.125' is 2,125 or the number 2.125
        (["1.500", "2.125", "3.250,00"], "auto", {"D2": 1500.0, "D4": 3250.0}, "D3"),
        (["1.500", "2.125", "3.250,00"], ",", {"D2": 1500.0, "D4": 3250.0}, "D3"),
        # number cells with nothing else to say which mark the column uses
        ([1500, 2.125, 7.5], "auto", {"D2": 1500.0, "D4": 7.5}, "D3"),
        # the mapping says the column is '.': a number cell reads as its number
        ([1500, 2.125, 7.5], ".", {"D2": 1500.0, "D3": 2.13, "D4": 7.5}, None),
    ],
)
def test_a_workbook_amount_that_reads_as_a_number_or_as_grouped_thousands_is_refused(
    tmp_path, cells, decimal_mark, sent, refused
):
    """A number cell 2.125 reads '2.125', as does text writing 2,125 with '.' between
    thousands: the text cannot say which, and the two differ a thousandfold."""
    book = openpyxl.Workbook()
    book.active.append(["Deal", "Amount"])
    for row, cell in enumerate(cells, start=2):
        book.active.append([f"D{row}", cell])
    book.save(tmp_path / "deals.xlsx")
    mapping = (
        "options:\n  pipeline_id: 00000000-0000-4000-8000-000000000001\n"
        f"  decimal_mark: '{decimal_mark}'\n"
        "opportunity:\n  name: Deal\n  deal_size: {column: Amount, transforms: [money]}\n"
    )
    _import(tmp_path / "deals.xlsx", write(tmp_path / "m.yaml", mapping), tmp_path)
    amounts = sent_amounts(tmp_path / "q.jsonl")
    assert {k: v for k, v in amounts.items() if v is not None} == sent
    rows = results_of(tmp_path / "r.csv")
    for row in rows.values():
        if row["row"] == (refused or "")[1:]:
            assert "is ambiguous: a number cell of 2.125, or text writing 2125" in row["warnings"]
        else:
            assert "ambiguous" not in row["warnings"]


@pytest.mark.parametrize(
    ("fmt", "said"),
    [
        ("[$$-C09]#,##0.00", "2,500,000.00 AUD"),  # Australian dollars, not US
        ("[$$-1009]#,##0.00", "2,500,000.00 CAD"),
        ("[$$-1409]#,##0.00", "2,500,000.00 NZD"),
        ("[$¥-804]#,##0", "2,500,000.00 CNY"),  # yuan, not yen
        ('#,##0.0,, "M€"', "2,500,000.00 EUR"),  # shows 2.5 M€: the cell holds it whole
        ('"€M" 0.0,,', "2,500,000.00 EUR"),
    ],
)
def test_a_workbook_currency_format_says_its_currency_by_its_locale_and_is_not_scaled(
    tmp_path, fmt, said
):
    data = _euros(tmp_path / "deals.xlsx", [2_500_000], fmt)
    bodies = _import(data, write(tmp_path / "m.yaml", DEALS), tmp_path)
    assert "deal_size" not in bodies[0]["opportunity"]  # no rate given: never sent as USD
    warnings = results_of(tmp_path / "r.csv")["2"]["warnings"]
    assert f"{said} was left out" in warnings, warnings
