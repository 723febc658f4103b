"""A row's own exchange rate against the CRM's home currency (Zoho's "Exchange Rate")."""

from __future__ import annotations

import json
import re

import pytest
from test_import_e2e import results_of, write

from importer.errors import MappingError
from importer.run import run_import

DEALS = """
Record Id,Deal Name,Amount,Currency,Exchange Rate,Stage,Account Name
zcrm_1,Vertexa rollout,12500.5,EUR,0.92,Qualification,Vertexa
zcrm_2,Polder pilot,900000,JPY,150,Qualification,Polder
zcrm_3,Dollar deal,700,USD,1,Qualification,Bravo
"""
PIPELINE = "00000000-0000-4000-8000-000000000001"


def _amounts(path):
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        body = json.loads(line)["body"]
        if "opportunity" in body:
            out[body["opportunity"]["name"]] = body["opportunity"].get("deal_size")
    return out


def _run(tmp_path, options: str, rates: str = ""):
    mapping = write(
        tmp_path / "m.yaml",
        f"extends: zoho-deals\noptions: {{unmapped_stages: first{options}}}\n{rates}",
    )
    data = write(tmp_path / "deals.csv", DEALS)
    run_import(data, mapping, dry_run=True, pipeline_id=PIPELINE, results_path=tmp_path / "r.csv",
               requests_path=tmp_path / "q.jsonl")  # fmt: skip
    return _amounts(tmp_path / "q.jsonl"), {r["row"]: r for r in results_of(tmp_path / "r.csv")}


def test_a_home_currency_in_dollars_uses_each_rows_own_rate(tmp_path):
    amounts, rows = _run(tmp_path, ", home_currency: USD")
    assert amounts == {"Vertexa rollout": 13587.5, "Polder pilot": 6000.0, "Dollar deal": 700.0}
    assert (
        "12,500.50 EUR is 13,587.50 USD (the row's exchange rate 0.92 EUR per USD)"
        in (rows["2"]["warnings"])
    )


def test_the_users_own_rate_wins_and_another_home_currency_goes_through_its_rate(tmp_path):
    amounts, _ = _run(tmp_path, ", home_currency: EUR", "currency_rates: {EUR: 1.1}\n")
    # EUR at the user's rate; JPY through the row's rate to EUR, then EUR to dollars
    assert amounts["Vertexa rollout"] == 13750.55
    assert amounts["Polder pilot"] == round(900000 / 150 * 1.1, 2)


def test_without_a_home_currency_the_rows_rate_is_only_pointed_at(tmp_path):
    amounts, rows = _run(tmp_path, "")
    assert amounts == {"Vertexa rollout": None, "Polder pilot": None, "Dollar deal": 700.0}
    warning = rows["2"]["warnings"]
    assert "12,500.50 EUR was left out" in warning
    assert "the row's exchange rate (0.92 EUR per unit of your home currency)" in warning
    assert "options.home_currency" in warning


@pytest.mark.parametrize(
    ("name", "text", "said"),
    [
        ("r.csv", "currency,rate\nEUR,1.2\neur,1.5\n", "lines 2 and 3 both give a rate for EUR"),
        ("r.yaml", "EUR: 1.2\neur: 1.5\n", "EUR has two rates ('EUR': 1.2, 'eur': 1.5)"),
        ("r.csv", "currency,rate\nUSD,2\n", "the rate for USD must be 1"),
    ],
)
def test_a_rate_given_twice_or_for_dollars_is_refused_not_chosen(tmp_path, name, text, said):
    """'EUR' and 'eur' name one currency: the last of two rates was used without a word."""
    from importer.map.spec import load_rates

    with pytest.raises(MappingError, match=re.escape(said)):
        load_rates(write(tmp_path / name, text))
    mapping = write(
        tmp_path / "m.yaml",
        "opportunity:\n  name: Deal\n  deal_size: Amount\ncurrency_rates: {EUR: 1.1, eur: 1.5}\n",
    )
    with pytest.raises(MappingError, match=re.escape("EUR has two rates")):
        run_import(write(tmp_path / "d.csv", "Deal,Amount\nA,1\n"), mapping, dry_run=True)


def test_a_rows_exchange_rate_of_zero_is_said_to_be_no_rate(tmp_path):
    data = write(tmp_path / "d.csv", "Deal,Amount,Currency,Rate\nA,100,JPY,0\nB,100,JPY,150\n")
    mapping = write(
        tmp_path / "m.yaml",
        "options:\n  home_currency: USD\nopportunity:\n  name: Deal\n  deal_size: Amount\n"
        "  currency: Currency\n  exchange_rate: Rate\n",
    )
    run_import(
        data, mapping, dry_run=True, pipeline_id="00000000-0000-4000-8000-000000000001",
        results_path=tmp_path / "r.csv", requests_path=tmp_path / "q.jsonl",
    )  # fmt: skip
    assert _amounts(tmp_path / "q.jsonl") == {"A": None, "B": 0.67}
    rows = {r["row"]: r for r in results_of(tmp_path / "r.csv")}
    assert "the row's exchange rate, 0, is no rate (it must be above 0)" in rows["2"]["warnings"]


def test_a_rows_rate_keeps_every_decimal(tmp_path):
    """Zoho writes rates such as 0.912345: read as an amount, they were rounded to cents
    (0.91), and 1,000 EUR went as 1,098.90 USD, not 1,096.08, the message quoting 0.91 too.
    A rate the user gives in a workbook number cell, or written with a decimal comma, is
    kept whole as well; a user who names ``money`` for the column gets the same."""
    data = write(
        tmp_path / "deals.csv",
        "Record Id,Deal Name,Amount,Currency,Exchange Rate,Stage,Account Name\n"
        "zcrm_1,Euro deal,1000,EUR,0.912345,Qualification,Vertexa\n"
        "zcrm_2,Yen deal,1000000,JPY,151.2345,Qualification,Polder\n",
    )
    for extra in (
        "",
        "opportunity:\n  exchange_rate: {column: Exchange Rate, transforms: [money]}\n",
    ):
        mapping = write(
            tmp_path / "m.yaml",
            "extends: zoho-deals\noptions: {unmapped_stages: first, home_currency: USD}\n" + extra,
        )
        run_import(data, mapping, dry_run=True, pipeline_id=PIPELINE,
                   results_path=tmp_path / "r.csv", requests_path=tmp_path / "q.jsonl")  # fmt: skip
        assert _amounts(tmp_path / "q.jsonl") == {"Euro deal": 1096.08, "Yen deal": 6612.25}
        rows = {r["row"]: r for r in results_of(tmp_path / "r.csv")}
        assert (
            "1,000.00 EUR is 1,096.08 USD (the row's exchange rate 0.912345 EUR per USD)"
            in (rows["2"]["warnings"])
        )
        assert "(the row's exchange rate 151.2345 JPY per USD)" in rows["3"]["warnings"]


def test_the_users_rate_is_quoted_whole(tmp_path):
    amounts, rows = _run(tmp_path, "", "currency_rates: {EUR: 1.0812345, JPY: 0.0066}\n")
    assert amounts["Vertexa rollout"] == round(12500.5 * 1.0812345, 2)
    assert "(rate 1.0812345 from currency_rates)" in rows["2"]["warnings"]
