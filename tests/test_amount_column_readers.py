"""A workbook's amount column, whose cells read with the currency their number format
shows ("3000.5\u00a0€"), as the other readers of that column see it: a custom attribute
or a template reading it gets the number, a skip rule compares the number, and an amount
in a currency no code names is left out with a warning a user can read."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
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
