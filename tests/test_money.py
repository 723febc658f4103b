"""Amounts: real export values, separators per decimal mark, currencies, errors."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from importer.map.transforms import build_transform
from importer.map.transforms.cells import TransformError
from importer.map.transforms.money import parse_amount, parse_dollars, to_dollars


def money(value, **params):
    return build_transform("money", params)(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("45362.12", 45362.12),  # hubspot/deals-export-all-deals-solar.csv Amount
        ("1178.18", 1178.18),
        ("0.0", 0.0),
        ("468.0", 468.0),  # hubspot/deals-export-all-properties-with-associations.csv
        ("25000.0", 25000.0),
        ("9225.225", 9225.23),  # salesforce/data-export-Opportunity.csv Amount: half-up
        ("27675.675", 27675.68),
        ("11500000", 11500000.0),
        ("100", 100.0),
        ("3.5E8", 350000000.0),  # salesforce/dataloader-extract-Account.csv ANNUALREVENUE
        ("1.39E8", 139000000.0),
        ("5.6E9", 5600000000.0),
        ("1000000.0", 1000000.0),
        ("300.0", 300.0),
        ("24300000000", 24300000000.0),  # apollo/accounts-export-benelux-tech.csv
        ("170359000000", 170359000000.0),  # apollo/contacts-export-2025-format-philanthropy.csv
    ],
)
def test_real_export_amounts(value, expected):
    assert money(value) == expected


@pytest.mark.parametrize(
    ("value", "mark", "expected"),
    [
        ("$12,500.00", ".", 12500.0),
        ("12.500,00 €", ",", 12500.0),
        ("12.500,00 €", "auto", 12500.0),
        ("€1.234", ",", 1234.0),
        ("USD 1,200", ".", 1200.0),
        ("1\u00a0200,50\u00a0€", ",", 1200.5),  # NBSP thousands (French Excel)
        ("1\u202f234\u202f567,8", ",", 1234567.8),  # narrow NBSP
        ("CHF 1'234.50", ".", 1234.5),  # Swiss apostrophe
        ("Rs. 1,20,000", ".", 120000.0),  # Indian lakh grouping
        ("₹12,34,567.50", ".", 1234567.5),
        ("R$ 1.234,56", ",", 1234.56),
        ("S/ 1,500.00", ".", 1500.0),  # Peruvian sol (the Salesforce export is PEN/MXN/COP)
        ("MXN 250,000", ".", 250000.0),
        ("COP 1.500.000", ",", 1500000.0),
        ("12,5", ",", 12.5),
        ("12,5", "auto", 12.5),
        ("1.50", "auto", 1.5),
        ("1,234", ".", 1234.0),
        ("1.234", ",", 1234.0),
        (".5", ".", 0.5),
        ("10 000", ".", 10000.0),
        ("usd 99", ".", 99.0),
        ("99 eur", ".", 99.0),
    ],
)
def test_separators_and_currencies(value, mark, expected):
    assert money(value, decimal_mark=mark) == expected


# Values that write the other decimal mark: parse_amount alone reads them the only way
# they can be read; the money transform (a column whose mark is known) refuses them.
_OTHER_MARK = [
    ("$12,500.00", ",", 12500.0),  # both marks present: the last one is decimal
    ("12.500,00 €", ".", 12500.0),
    ("1 200,50 EUR", ".", 1200.5),
    ("1.234.567", ".", 1234567.0),  # repeated mark: thousands
    ("1,234,567", ",", 1234567.0),
]


@pytest.mark.parametrize(("value", "mark", "expected"), _OTHER_MARK)
def test_lenient_parse_reads_the_other_mark(value, mark, expected):
    assert parse_dollars(value, mark) == expected


@pytest.mark.parametrize(("value", "mark", "expected"), _OTHER_MARK)
def test_the_money_transform_refuses_the_other_mark(value, mark, expected):
    with pytest.raises(TransformError, match="the column's decimal mark") as caught:
        money(value, decimal_mark=mark)
    assert repr(value) in str(caught.value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("(1,200.00)", -1200.0),  # accounting negative
        ("$(1,200)", -1200.0),
        ("($1,200)", -1200.0),
        ("-1,200", -1200.0),
        ("-$1,200", -1200.0),
        ("$-1,200", -1200.0),
        ("1200-", -1200.0),  # SAP-style trailing minus
        ("−1200", -1200.0),  # U+2212 minus sign
        ("+1200", 1200.0),
        ("-0", 0.0),
        ("(0.00)", 0.0),
    ],
)
def test_negative_forms(value, expected):
    result = money(value)
    assert result == expected and str(result) == str(expected)  # never -0.0


@pytest.mark.parametrize(
    ("value", "mark", "expected"),
    [
        ("£3.5k", ".", 3500.0),
        ("3,5k", ",", 3500.0),
        ("10K", ".", 10000.0),
        ("$1.2M", ".", 1200000.0),  # M is a million, not the Roman thousand
        ("2.5 mm", ".", 2500000.0),
        ("2.5mn", ".", 2500000.0),
        ("1,5 Mio EUR", ",", 1500000.0),
        ("2bn", ".", 2000000000.0),
        ("1.1B USD", ".", 1100000000.0),
    ],
)
def test_multiplier_suffixes(value, mark, expected):
    assert money(value, decimal_mark=mark) == expected


@pytest.mark.parametrize("value", ["", "-", "—", "–", "$ -", " - ", "$", "\u00a0"])
def test_blank_and_dash_are_no_amount(value):
    assert money(value) is None


def test_none_passes_through():
    assert money(None) is None


@pytest.mark.parametrize(
    ("value", "mark", "message"),
    [
        ("12,5,0", ".", "'12,5,0' is not an amount (misplaced separators)"),
        ("1,2,3", ",", "'1,2,3' repeats ',', the column's decimal mark"),
        ("0,123", ".", "'0,123' is not an amount (misplaced separators)"),
        ("12,5", ".", "'12,5' is not an amount with decimal mark '.' (if ',' is the decimal"),
        ("468.0", ",", "'468.0' is not an amount with decimal mark ','"),
        ("1,234", "auto", "'1,234' is ambiguous: ',' could be the decimal mark or a thousands"),
        ("€1.234", "auto", "'€1.234' is ambiguous"),
        ("abc", ".", "'abc' is not an amount"),
        ("12 apples", ".", "'12 apples' is not an amount"),
        ("XYZ 12", ".", "'XYZ 12' is not an amount ('XYZ' is not a currency)"),
        ("12%", ".", "'12%' is not an amount"),
        ("$12,500.00 - $15,000.00", ".", "is not an amount"),
        ("(1,200", ".", "'(1,200' is not an amount"),
        ("--5", ".", "'--5' is not an amount"),
        ("1E400", ".", "'1E400' is too large to be an amount"),
        ("null", ".", "'null' is not an amount"),
        ("[not provided]", ".", "'[not provided]' is not an amount"),
    ],
)
def test_errors_quote_the_value(value, mark, message):
    with pytest.raises(TransformError) as info:
        money(value, decimal_mark=mark)
    assert message in str(info.value)


def test_cents():
    assert money("123456", cents=True) == 1234.56
    assert money("$99", cents=True) == 0.99
    assert money(12345, cents=True) == 123.45


def test_numbers_from_earlier_transforms_are_kept():
    assert money(12.345, decimal_mark=",") == 12.35
    assert money(1200, decimal_mark=",") == 1200.0


def test_parse_amount_is_exact():
    assert parse_amount("0.1") + parse_amount("0.2") == Decimal("0.3")
    assert to_dollars(Decimal("2.675")) == 2.68  # float round() would give 2.67


@given(st.decimals(min_value=-(10**12), max_value=10**12, places=2))
def test_formatted_amounts_round_trip(amount):
    us = f"${amount:,.2f}".replace("$-", "-$")
    european = f"{amount:,.2f}".replace(",", " ").replace(".", ",") + " €"
    assert money(us) == float(amount)
    assert money(european, decimal_mark=",") == float(amount)


@given(st.text(max_size=30))
def test_any_text_gives_a_number_none_or_a_transform_error(text):
    try:
        result = money(text, decimal_mark="auto")
    except TransformError:
        return
    assert result is None or isinstance(result, float)


@given(
    st.one_of(
        st.from_regex(r"-?[$€£]?\d{1,7}(,\d{3}){0,2}(\.\d{1,4})?", fullmatch=True),
        st.from_regex(r"-?[$€£]?\d{1,7}([. ]\d{3}){0,2}(,\d{1,4})?( ?€)?", fullmatch=True),
    ),
    st.sampled_from([".", ",", "auto"]),
)
@example("1250.50", "auto")
@example("$1,250.50", ".")
@example("1.250.000,50 €", ",")
@example("1 250 000,5", ",")
def test_fast_path_agrees_with_the_general_grammar(text, mark):
    def outcome(parse):
        try:
            return parse()
        except TransformError as exc:
            return str(exc)

    general = outcome(lambda: to_dollars(parse_amount(text, mark)))
    assert outcome(lambda: parse_dollars(text, mark)) == general
    strict = outcome(lambda: to_dollars(parse_amount(text, mark, strict=True)))
    assert outcome(lambda: money(text, decimal_mark=mark)) == strict


# ---- a column's decimal mark, decided from all its values ---------------------------

from importer.map.transforms.money import decide_decimal_mark  # noqa: E402


@pytest.mark.parametrize(
    ("cells", "decided"),
    [
        (["29.000,50", "16.750"], ","),
        (["1.234,50 €", "99"], ","),
        (["€ 3.000", "€ 12.500"], ","),  # only a "." before three digits: thousands
        (["29.000", "16.750"], ","),
        (["$1,200.50", "$3,000"], "."),
        (["12,5", "7"], ","),
        (["(1,000)", "2,500"], "."),
        (["1.5k", "300"], "."),
        (["0.125"], "."),  # a leading 0 cannot be a thousands group
        (["1234.567"], "."),  # nor four digits before the mark
        (["100", "250", ""], None),  # nothing tells
    ],
)
def test_a_column_decides_its_mark(cells, decided):
    assert decide_decimal_mark(cells)[0] == decided


def test_the_issue_cases_come_out_right_once_the_column_is_decided():
    """29.000,50 / 1.234,50 € / € 3.000 / $1,200.50 / 12,5 / (1,000) / 1.5k (issue 9, point 5)."""
    for column, expected in [
        (["29.000,50", "16.750"], [29000.5, 16750.0]),
        (["1.234,50 €", "€ 3.000", "12,5"], [1234.5, 3000.0, 12.5]),
        (["$1,200.50", "(1,000)", "1.5k"], [1200.5, -1000.0, 1500.0]),
    ]:
        mark, _ = decide_decimal_mark(column)
        assert [money(cell, decimal_mark=mark) for cell in column] == expected


def test_a_stated_mark_the_values_contradict_is_refused_with_two_cells():
    with pytest.raises(TransformError) as caught:
        decide_decimal_mark(["29.000", "16.750", "100"], ".")
    message = str(caught.value)
    assert "'29.000' as 29" in message and "'16.750' as 16.75" in message
    assert "set decimal_mark: ','" in message


def test_a_column_with_both_marks_in_numbers_is_refused():
    with pytest.raises(TransformError, match=r"both decimal marks .*'12.5'.*'12,5'"):
        decide_decimal_mark(["12.5", "3.25", "12,5", "7,75"])


def test_a_few_stray_cells_do_not_decide_the_column_they_fail_alone():
    cells = ["1200.50"] * 20 + ["R$ 12.500,00"]
    mark, _ = decide_decimal_mark(cells, ".")
    assert mark == "."
    with pytest.raises(TransformError, match=r"the column's decimal mark is '\.'"):
        money("R$ 12.500,00", decimal_mark=mark)


def test_binding_refuses_a_column_that_contradicts_the_mapping():
    from importer.errors import MappingError
    from importer.map.spec import bind_mapping, parse_mapping

    text = "options: {decimal_mark: '.'}\naccount: {domain: Website}\nopportunity:\n  name: Deal\n  deal_size: Amount\n"
    mapping = parse_mapping(text, source="deals.yaml")
    rows = [["aa.com", "A", "29.000"], ["bb.com", "B", "16.750"]]
    with pytest.raises(MappingError) as caught:
        bind_mapping(mapping, ["Website", "Deal", "Amount"], rows)
    message = str(caught.value)
    assert "deals.yaml: opportunity.deal_size: column 'Amount'" in message
    assert "'29.000' as 29" in message and "'16.750' as 16.75" in message


def test_binding_decides_auto_per_column_and_says_so():
    from importer.map.spec import bind_mapping, parse_mapping

    text = "account: {domain: Website}\nopportunity:\n  name: Deal\n  deal_size: Amount\n"
    bound = bind_mapping(
        parse_mapping(text, source="deals.yaml"),
        ["Website", "Deal", "Amount"],
        [["aa.com", "A", "29.000,50"], ["bb.com", "B", "16.750"]],
    )
    values, errors, _ = bound.readers["opportunity.deal_size"].read(
        [["aa.com", "A", "29.000,50"], ["bb.com", "B", "16.750"], ["cc.com", "C", "1,5"]]
    )
    assert values == [29000.5, 16750.0, 1.5] and not errors
    assert any("read with ',' as the decimal mark" in w for w in bound.warnings)


REAL = __import__("pathlib").Path(__file__).resolve().parents[2] / "shared" / "real-exports"
DEAL_FILES = [
    ("hubspot/deals-export-all-properties-with-associations.csv", "hubspot-deals"),
    ("hubspot/deals-export-all-deals-solar.csv", "hubspot-deals"),
    ("salesforce/data-export-Opportunity.csv", "salesforce-opportunities"),
]


@pytest.mark.skipif(not REAL.exists(), reason="the shared real exports are absent")
@pytest.mark.parametrize(("name", "preset"), DEAL_FILES)
def test_real_deal_amounts_are_read_without_a_misread_cell(name, preset, tmp_path):
    import csv as _csv

    from importer.run import run_import

    run_import(
        REAL / name, preset, dry_run=True, pipeline_id="00000000-0000-4000-8000-000000000001",
        results_path=tmp_path / "r.csv", stages=(),
    )  # fmt: skip
    with (tmp_path / "r.csv").open(encoding="utf-8-sig", newline="") as handle:
        lines = list(_csv.DictReader(handle))
    assert lines and not [r for r in lines if "decimal mark" in r["warnings"] + r["message"]]


@given(st.from_regex(r"[0-9]{1,16}(\.[0-9]{1,2})?", fullmatch=True))
def test_a_plain_amount_cell_is_read_as_float_by_every_path(cell: str) -> None:
    """The field reader reads a plain amount cell as float(cell), without the money chain:
    what the chain gives, with '.' or an undecided mark, and it names no currency."""
    from importer.map.transforms.currency import cell_currency
    from importer.map.transforms.money import PLAIN_AMOUNT

    assert PLAIN_AMOUNT.fullmatch(cell)
    assert parse_dollars(cell, ".") == parse_dollars(cell, "auto") == float(cell)
    assert cell_currency(cell) is None


def test_the_reader_takes_the_plain_shortcut_only_where_it_gives_the_chains_value() -> None:
    from importer.map.spec import bind_mapping, parse_mapping

    rows = [["A", "1200.50"], ["B", "12"], ["C", "€ 3"], ["D", "0"]]

    def reader(extra: str = "", transforms: str = "[money]", cells=rows):
        mapping = parse_mapping(
            "version: 1\noptions: {pipeline_id: 00000000-0000-4000-8000-000000000001"
            f"{extra}}}\nopportunity:\n  name: Name\n  deal_size: {{column: Amount, "
            f"transforms: {transforms}}}\n"
        )
        return bind_mapping(mapping, ["Name", "Amount"], cells).readers["opportunity.deal_size"]

    plain = reader()
    assert plain.plain is not None
    values, errors, _ = plain.read(rows)
    assert values == [1200.5, 12.0, 3.0, 0.0] and not errors
    assert bound_currency(rows) == [None, None, "EUR", None]
    # A "0" that the mapping calls empty, cents, or a comma column: the chain reads them.
    empty_zero = reader(", null_values: ['0']")
    assert empty_zero.plain is None and empty_zero.read(rows)[0][3] is None
    assert reader(transforms="[{money: {cents: true}}]").plain is None
    assert reader(", decimal_mark: ','", cells=[["A", "12,50"]]).plain is None


def bound_currency(rows):
    from importer.map.spec import CELL_CURRENCY, bind_mapping, parse_mapping

    mapping = parse_mapping(
        "version: 1\noptions: {pipeline_id: 00000000-0000-4000-8000-000000000001}\n"
        "opportunity:\n  name: Name\n  deal_size: Amount\n"
    )
    return bind_mapping(mapping, ["Name", "Amount"], rows).readers[CELL_CURRENCY].read(rows)[0]


@pytest.mark.parametrize(
    ("value", "mark"),
    [("€1.234", "."), ("USD 1,200", ","), ("1.500", "."), ("29.000", "."), ("2,500", ",")],
)
def test_a_cell_written_as_thousands_is_refused_under_the_other_mark(value, mark):
    """Read with the mark stated (or decided for its column), ``1.500`` would be 1.5: but
    it is written as thousands are, and a 1,000 times smaller amount is the worst thing
    an import can send. It is refused, with the reason; the decimals of other cells
    (``12.50``, ``0.125``, ``1234.567``) are read as ever."""
    with pytest.raises(TransformError, match="cannot be read one way"):
        money(value, decimal_mark=mark)
    assert money("12.50", decimal_mark=".") == 12.5
    assert money("0.125", decimal_mark=".") == 0.13
    assert money("1234.567", decimal_mark=".") == 1234.57


def test_amounts_a_column_would_read_1000_times_smaller_are_left_out_and_said(tmp_path):
    """Two silent 1,000x errors on a deal's amount: a lone "1.500" among "12.50" cells
    (the column's mark is "."; up to a tenth of other cells were let through and read
    as 1.5), and text cells "29.000" in a workbook (taken for the spreadsheet's own
    numbers, read with "."). Each is read right or left out, and its row says so."""
    import csv

    import openpyxl

    from importer.run import run_import

    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        "options: {pipeline_id: 00000000-0000-4000-8000-000000000001}\n"
        "opportunity:\n  name: Deal\n  deal_size: {column: Amount, transforms: [money]}\n",
        encoding="utf-8",
    )
    data = tmp_path / "stray.csv"
    amounts = [f"{n}.50" for n in range(10, 21)] + ["1.500"]
    data.write_text(
        "Deal,Amount\n" + "".join(f"D{i},{a}\n" for i, a in enumerate(amounts)), encoding="utf-8"
    )
    run_import(data, mapping, dry_run=True, results_path=tmp_path / "r.csv",
               requests_path=tmp_path / "q.jsonl")  # fmt: skip
    with (tmp_path / "r.csv").open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert "'1.500' cannot be read one way" in rows[-1]["warnings"]
    sent = (tmp_path / "q.jsonl").read_text(encoding="utf-8")
    assert '"deal_size":1.5' not in sent and '"deal_size":20.5' in sent

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Deal", "Amount"])
    for i, text in enumerate(["29.000", "1.500", "12.000", "2.500,50"]):
        sheet.append([f"T{i}", text])  # text cells, as a European export writes them
    sheet.append(["T9", 1234.5])  # a number cell: the number it is
    book.save(tmp_path / "text.xlsx")
    run_import(tmp_path / "text.xlsx", mapping, dry_run=True, results_path=tmp_path / "x.csv",
               requests_path=tmp_path / "x.jsonl")  # fmt: skip
    sizes = [
        json.loads(line)["body"]["opportunity"]["deal_size"]
        for line in (tmp_path / "x.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    assert sizes == [29000.0, 1500.0, 12000.0, 2500.5, 1234.5]
