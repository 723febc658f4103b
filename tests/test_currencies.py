"""Amounts in other currencies: converted at the user's rate or withheld, never sent as dollars."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from preset_cases import own_stages
from test_import_e2e import inspect, settings, write

from importer.cli import cli
from importer.errors import MappingError
from importer.map.spec import load_rates
from importer.map.transforms.cells import TransformError
from importer.map.transforms.currency import cell_currency, currency_code, settle_currency
from importer.run import run_import
from importer.sandbox import running_sandbox

MAPPING = """
opportunity:
  name: Deal
  deal_size: Amount
  currency: {column: Currency, optional_column: true}
account:
  domain: Website
"""
DEALS = """
Deal,Website,Amount,Currency
Dollars,aa.com,1000,USD
Euros by column,bb.com,1000,EUR
Euros by sign,cc.com,€ 2.000,
Pesos,dd.com,69660000,COP
Sign and column disagree,ee.com,€ 500,USD
Canadian dollars,ff.com,$300,CAD
Bad code,gg.com,700,XXQ
"""


def results_of(path: Path) -> dict[str, dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return {row["row"]: row for row in csv.DictReader(handle)}


def sent_amounts(requests: Path) -> dict[str, float | None]:
    amounts = {}
    for line in requests.read_text(encoding="utf-8").splitlines():
        request = json.loads(line)
        if request["endpoint"] == "opportunities":
            body = request["body"]["opportunity"]
            amounts[body["name"]] = body.get("deal_size")
    return amounts


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ("€ 3.000", "EUR"),
        ("1.234,50 €", "EUR"),
        ("R$ 12.500,00", "BRL"),
        ("£10", "GBP"),
        ("$1,200.50", "$"),
        ("¥500", "¥"),
        ("1,200 usd", "USD"),
        ("CAD$100", "CAD"),  # a dollar's code before its sign
        ("AUD$ 1,000", "AUD"),
        ("12", None),
        ("", None),
    ],
)
def test_the_currency_a_cell_writes(cell, written):
    assert cell_currency(cell) == written


def test_currency_column_cells():
    assert [currency_code(c) for c in ("usd", " EUR ", "R$", "€", "Euro")] == [
        "USD",
        "EUR",
        "BRL",
        "EUR",
        "EUR",
    ]
    with pytest.raises(TransformError, match="'XXQ' is not a currency code"):
        currency_code("XXQ")


def test_settling_a_rows_currency():
    assert settle_currency(None, None, "USD") == ("USD", None)
    assert settle_currency(None, "MXN", "USD") == ("MXN", None)
    assert settle_currency("$", "MXN", "USD") == ("MXN", None)  # the peso writes $
    assert settle_currency("$", None, "EUR") == ("USD", None)
    assert settle_currency("kr", None, "SEK") == ("SEK", None)
    assert settle_currency("kr", None, "USD")[0] is None
    assert settle_currency("EUR", "USD", "USD")[0] is None
    assert settle_currency("$", "EUR", "USD")[0] is None


def test_rates_files(tmp_path):
    assert load_rates(write(tmp_path / "r.yaml", "EUR: 1.08\ncop: 0.00025\n")) == {
        "EUR": 1.08,
        "COP": 0.00025,
    }
    assert load_rates(write(tmp_path / "r.json", '{"GBP": 1.27}')) == {"GBP": 1.27}
    assert load_rates(write(tmp_path / "r.csv", "currency,rate\nEUR,1.1\n")) == {"EUR": 1.1}
    with pytest.raises(MappingError, match=r"r2.csv: line 2: expected two cells"):
        load_rates(write(tmp_path / "r2.csv", "currency,rate\nEUR\n"))
    with pytest.raises(MappingError, match="the rate for EUR must be a positive number"):
        load_rates(write(tmp_path / "r3.yaml", "EUR: -1\n"))
    with pytest.raises(MappingError, match="'EURO' is not an ISO 4217 currency code"):
        load_rates(write(tmp_path / "r4.yaml", "EURO: 1\n"))


def test_without_rates_foreign_amounts_are_withheld_and_each_row_says_so(tmp_path):
    mapping = write(tmp_path / "m.yaml", MAPPING)
    data = write(tmp_path / "deals.csv", DEALS)
    report = run_import(
        data,
        mapping,
        dry_run=True,
        pipeline_id="7c1e6e5e-0000-4000-8000-000000000001",
        results_path=tmp_path / "r.csv",
        requests_path=tmp_path / "q.jsonl",
    )
    assert report.counts == {"would_import": 7}
    amounts = sent_amounts(tmp_path / "q.jsonl")
    assert amounts == {
        "Dollars": 1000.0,
        "Euros by column": None,
        "Euros by sign": None,
        "Pesos": None,
        "Sign and column disagree": None,
        "Canadian dollars": None,
        "Bad code": None,
    }
    rows = results_of(tmp_path / "r.csv")
    assert rows["2"]["warnings"] == ""
    assert "1,000.00 EUR was left out" in rows["3"]["warnings"]
    assert "2,000.00 EUR was left out" in rows["4"]["warnings"]
    assert "69,660,000.00 COP was left out" in rows["5"]["warnings"]
    assert "currency_rates: {COP: <US dollars per COP>}" in rows["5"]["warnings"]
    assert "the cell says EUR and the currency column says USD" in rows["6"]["warnings"]
    assert "300.00 CAD was left out" in rows["7"]["warnings"]
    assert "'XXQ' is not a currency code" in rows["8"]["warnings"]
    assert (
        "700.00 was left out: its currency column is not a currency code" in rows["8"]["warnings"]
    )


def test_rates_convert_through_the_cli_into_the_sandbox(tmp_path):
    """--rates FILE: converted amounts land in the sandbox, and each converted row says so."""
    mapping = write(tmp_path / "m.yaml", MAPPING + "currency_rates: {EUR: 1.5}\n")
    data = write(tmp_path / "deals.csv", DEALS)
    rates = write(tmp_path / "rates.csv", "currency,rate\nEUR,1.08\nCOP,0.00025\nCAD,0.75\n")
    with running_sandbox() as box:
        env = {"OCTOLANE_API_KEY": box.api_key, "OCTOLANE_BASE_URL": box.base_url}
        result = CliRunner().invoke(
            cli,
            [
                "import",
                str(data),
                "--mapping",
                str(mapping),
                "--rates",
                str(rates),
                "--pipeline-id",
                box.pipeline_id,
                "--out",
                str(tmp_path / "r.csv"),
                "--failures",
                str(tmp_path / "f.csv"),
                "--requests",
                str(tmp_path / "q.jsonl"),
                "--quiet",
            ],
            env=env,
        )
        landed = {d["name"]: d["amount"] for d in inspect(box, "opportunities")}
    assert result.exit_code == 0, result.output
    expected = {
        "Dollars": 1000,
        "Euros by column": 1080,  # the file's rate wins over the mapping's 1.5
        "Euros by sign": 2160,
        "Pesos": 17415,
        "Sign and column disagree": None,
        "Canadian dollars": 225,
        "Bad code": None,
    }
    assert landed == expected
    assert sent_amounts(tmp_path / "q.jsonl") == {k: v and float(v) for k, v in expected.items()}
    rows = results_of(tmp_path / "r.csv")
    assert {r["status"] for r in rows.values()} == {"imported"}
    assert "1,000.00 EUR is 1,080.00 USD (rate 1.08 from currency_rates)" in rows["3"]["warnings"]
    assert "69,660,000.00 COP is 17,415.00 USD" in rows["5"]["warnings"]


def test_settings_from_python_rates_mapping(tmp_path):
    mapping = write(tmp_path / "m.yaml", MAPPING)
    data = write(tmp_path / "deals.csv", DEALS)
    with running_sandbox() as box:
        run_import(
            data,
            mapping,
            pipeline_id=box.pipeline_id,
            settings=settings(box),
            rates={"eur": 2},
            results_path=tmp_path / "r.csv",
        )
        landed = {d["name"]: d["amount"] for d in inspect(box, "opportunities")}
    assert landed["Euros by column"] == 2000 and landed["Pesos"] is None


REAL_EXPORTS = Path(__file__).resolve().parents[2] / "shared" / "real-exports"
OPPORTUNITIES = REAL_EXPORTS / "salesforce" / "data-export-Opportunity.csv"


@pytest.mark.skipif(not OPPORTUNITIES.exists(), reason="the shared real exports are absent")
def test_salesforce_opportunities_in_pen_mxn_cop_are_never_sent_as_dollars(tmp_path):
    report = run_import(
        OPPORTUNITIES,
        "salesforce-opportunities",
        dry_run=True,
        pipeline_id="7c1e6e5e-0000-4000-8000-000000000001",
        results_path=tmp_path / "r.csv",
        requests_path=tmp_path / "q.jsonl",
        stages=own_stages(OPPORTUNITIES, "salesforce-opportunities"),
    )
    assert report.rows_read == 512
    with OPPORTUNITIES.open(encoding="latin-1", newline="") as handle:
        source = {i: row for i, row in enumerate(csv.DictReader(handle), 2)}
    currencies = {row["CurrencyIsoCode"] for row in source.values()}
    assert {"MXN", "COP", "PEN"} <= currencies
    sent_rows = set()
    for line in (tmp_path / "q.jsonl").read_text(encoding="utf-8").splitlines():
        request = json.loads(line)
        if request["endpoint"] == "opportunities" and "deal_size" in request["body"]["opportunity"]:
            sent_rows.update(request["rows"])
    assert sent_rows, "no amount was planned at all"
    assert {source[r]["CurrencyIsoCode"] for r in sent_rows} == {"USD"}
    results = results_of(tmp_path / "r.csv")
    withheld = [
        r for r, line in results.items() if "was left out: Octolane takes" in line["warnings"]
    ]
    foreign = [
        str(i) for i, row in source.items() if row["CurrencyIsoCode"] != "USD" and row["Amount"]
    ]
    assert set(foreign) <= set(withheld) | {
        r for r, line in results.items() if line["status"] != "would_import"
    }


def test_a_batch_of_plain_amounts_is_read_for_currencies_in_one_scan_and_a_sign_is_still_found():
    from importer.map.spec import CELL_CURRENCY, bind_mapping, parse_mapping

    mapping = parse_mapping(MAPPING)
    bound = bind_mapping(mapping, ["Deal", "Website", "Amount", "Currency"])
    reader = bound.readers[CELL_CURRENCY]
    plain = [
        ["D", "aa.com", cell, ""] for cell in ("1000", "(1,000)", "1.234,50", "- 5", "", "12,5")
    ]
    values, errors, removed = reader.read(plain)
    assert values == [None] * len(plain) and not errors and not removed
    assert reader._cache == {}  # the scan decided: no cell went through the transform
    signed = [*plain, ["D", "bb.com", "€ 3.000", ""], ["D", "cc.com", "1.5k", ""]]
    values, errors, _ = reader.read(signed)
    assert values[-2] == "EUR" and values[-1] is None and values[:-2] == [None] * len(plain)
    assert "€ 3.000" in reader._cache  # read cell by cell once a cell may write a currency
    # a control character is not skipped with the batch: it is removed, and the row told
    values, errors, removed = (
        bind_mapping(mapping, ["Deal", "Website", "Amount", "Currency"])
        .readers[CELL_CURRENCY]
        .read([*plain, ["D", "bb.com", "1\x1f000", ""]])
    )
    assert values == [None] * (len(plain) + 1) and not errors
    assert removed == {
        len(plain): "hidden characters removed from the value: U+001F (a control character)"
    }


def test_a_deals_mapping_without_stage_or_currency_says_what_follows(tmp_path):
    """The mapping `map` proposed for a 4-column deals export (hubspot solar): every deal in
    the first stage and every amount in dollars, said once, not left to find in Octolane."""
    from importer.run import run_import

    data = write(tmp_path / "deals.csv", "Deal Name,Amount\n52352 - 6 Pine St,12000\n")
    mapping = write(tmp_path / "m.yaml", "opportunity:\n  name: Deal Name\n"
                    "  deal_size: {column: Amount, transforms: [money]}\n")  # fmt: skip
    report = run_import(
        data, mapping, dry_run=True, pipeline_id="00000000-0000-4000-8000-000000000001"
    )
    said = [w for w in report.mapping_warnings if "m.yaml: opportunity" in w]
    assert said == [
        f"{mapping}: opportunity: no stage is mapped: every deal goes to the pipeline's first"
        " stage (map the export's stage column as opportunity.stage)",
        f"{mapping}: opportunity.deal_size: no currency column is mapped: amounts whose cell"
        " names no currency are read as USD (options.currency)",
    ]


# A currency with three decimals (the Kuwaiti dinar's fils): 1,234.567 KWD is 4,012.34275
# US dollars at 3.25, so 4,012.34; read as 1,234.57 first it was 4,012.35.
EXACT_DEALS = """
Deal,Website,Amount,Currency
Dinars by column,aa.com,"1,234.567",KWD
Dinars by code,bb.com,"1,234.567 KWD",
Dollars in fils,cc.com,"1,234.567",USD
Dinars unrated,dd.com,"2,000.125",BHD
Dinars of a home rate,ee.com,"1,234.567",JOD
"""


def _exact_run(tmp_path: Path, mapping: str, **options: object):
    data = write(tmp_path / "deals.csv", EXACT_DEALS)
    run_import(data, write(tmp_path / "m.yaml", mapping), dry_run=True,
               pipeline_id="7c1e6e5e-0000-4000-8000-000000000001",
               results_path=tmp_path / "r.csv", requests_path=tmp_path / "q.jsonl",
               **options)  # fmt: skip
    return sent_amounts(tmp_path / "q.jsonl"), results_of(tmp_path / "r.csv")


def test_a_foreign_amount_is_converted_from_every_decimal_its_cell_writes(tmp_path):
    """An amount with more than two decimals is converted as written, and only the dollars
    are rounded to cents; the warning quotes the amount whole, not rounded."""
    amounts, rows = _exact_run(tmp_path, MAPPING + "currency_rates: {KWD: 3.25}\n")
    assert amounts["Dinars by column"] == amounts["Dinars by code"] == 4012.34
    for row in ("2", "3"):
        assert (
            "1,234.567 KWD is 4,012.34 USD (rate 3.25 from currency_rates)" in rows[row]["warnings"]
        )
    assert amounts["Dollars in fils"] == 1234.57  # dollars: rounded half-up to cents
    assert rows["4"]["warnings"] == ""
    assert amounts["Dinars unrated"] is None  # withheld: the amount quoted whole
    assert "opportunity.deal_size: 2,000.125 BHD was left out" in rows["5"]["warnings"]


def test_rates_from_a_file_convert_every_decimal_too(tmp_path):
    amounts, rows = _exact_run(tmp_path, MAPPING, rates={"KWD": 3.25})
    assert amounts["Dinars by column"] == 4012.34
    assert "1,234.567 KWD is 4,012.34 USD" in rows["2"]["warnings"]


def test_an_amount_of_no_known_currency_is_quoted_whole_where_it_is_withheld(tmp_path):
    data = write(tmp_path / "deals.csv", "Deal,Website,Amount,Currency\nOdd,aa.com,12.3456,XXQ\n")
    run_import(data, write(tmp_path / "m.yaml", MAPPING), dry_run=True,
               pipeline_id="7c1e6e5e-0000-4000-8000-000000000001",
               results_path=tmp_path / "r.csv")  # fmt: skip
    assert (
        "opportunity.deal_size: 12.3456 was left out: its currency column is not a currency code"
        in results_of(tmp_path / "r.csv")["2"]["warnings"]
    )


def test_a_rows_own_exchange_rate_converts_every_decimal(tmp_path):
    mapping = MAPPING.replace("account:", "  exchange_rate: {value: '0.25'}\naccount:")
    mapping += "options: {home_currency: USD}\n"
    amounts, rows = _exact_run(tmp_path, mapping)
    # 1,234.567 / 0.25 = 4,938.268; from 1,234.57 it was 4,938.28
    assert amounts["Dinars of a home rate"] == 4938.27
    assert (
        "1,234.567 JOD is 4,938.27 USD (the row's exchange rate 0.25 JOD per USD)"
        in rows["6"]["warnings"]
    )


def test_a_company_amount_is_converted_from_every_decimal(tmp_path):
    data = write(tmp_path / "deals.csv",
                 "Deal,Website,Company amount\nDinars,aa.com,1234.567\nDollars,bb.com,9.9951 USD\n")  # fmt: skip
    mapping = write(tmp_path / "m.yaml", "opportunity:\n  name: Deal\n"
                    "  company_amount: Company amount\naccount:\n  domain: Website\n"
                    "options: {currency: KWD}\ncurrency_rates: {KWD: 3.25}\n")  # fmt: skip
    run_import(data, mapping, dry_run=True, pipeline_id="7c1e6e5e-0000-4000-8000-000000000001",
               results_path=tmp_path / "r.csv", requests_path=tmp_path / "q.jsonl")  # fmt: skip
    assert sent_amounts(tmp_path / "q.jsonl") == {"Dinars": 4012.34, "Dollars": 10.0}
    assert "1,234.567 KWD is 4,012.34 USD" in results_of(tmp_path / "r.csv")["2"]["warnings"]
