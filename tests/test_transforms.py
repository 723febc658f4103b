"""The transform registry: names, parameters, chaining, and the small text transforms.

The parsers behind email, domain, money, date and the name split have their own
test modules (test_emails.py, test_domains.py, test_money.py, test_dates.py,
test_names.py); this one also sweeps the real exports when they are present.
"""

from __future__ import annotations

import contextlib
import csv
import doctest
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from importer.map import transforms
from importer.map.transforms import (
    NULLIFY_VALUES,
    TRANSFORM_NAMES,
    TransformError,
    build_transform,
    cells,
    chain,
    compose,
    dates,
    domains,
    emails,
    infer_date_order,
    money,
    names,
)
from importer.map.transforms import _params as transform_params

REAL_EXPORTS = Path(__file__).resolve().parents[2] / "shared" / "real-exports"


def test_transform_names():
    assert TRANSFORM_NAMES == (
        "trim",
        "lower",
        "upper",
        "title",
        "nullify",
        "first_name",
        "last_name",
        "email",
        "domain",
        "money",
        "currency",
        "integer",
        "date",
        "lookup",
        "default",
        "split",
    )


def test_public_api():
    assert set(transforms.__all__) >= {
        "TransformError",
        "build_transform",
        "TRANSFORM_NAMES",
        "infer_date_order",
        "is_personal_domain",
        "email_domain",
        "chain",
        "compose",
    }
    assert issubclass(TransformError, ValueError)


@pytest.mark.parametrize("name", TRANSFORM_NAMES)
def test_every_transform_but_default_passes_none_and_empty(name):
    params = {"lookup": {"table": {"a": "b"}}, "default": {"value": "x"}}.get(name)
    transform = build_transform(name, params)
    if name == "default":
        assert transform(None) == "x"
        assert transform("") == "x"
    else:
        assert transform(None) is None
        assert transform("") is None


@pytest.mark.parametrize(
    "module", [cells, dates, domains, emails, money, names, transform_params, transforms]
)
def test_docstring_examples(module):
    assert doctest.testmod(module).failed == 0


# ---- trim, lower, upper, title ----------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("  Acme Corp  ", "Acme Corp"),
        ("\u00a0Acme\u00a0", "Acme"),  # NBSP from Excel/web copy
        ("\ufeffRecord ID", "Record ID"),  # BOM left on a first cell
        ("\u200bjo@acme.com\u200b", "jo@acme.com"),
        ("Ac\u200bme", "Acme"),  # zero-width space inside
        ("Acme  Corp", "Acme  Corp"),  # internal runs are kept
        (" +1 954-798-5856", "+1 954-798-5856"),  # hubspot/companies-appraisal.csv phone
        ("Jasmine ", "Jasmine"),  # hubspot contacts-with-company-assoc First Name
        (" --", "--"),
        ("   ", None),
        ("\t\r\n", None),
    ],
)
def test_trim(value, expected):
    assert build_transform("trim")(value) == expected


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("lower", "Jo@Acme.COM", "jo@acme.com"),
        ("lower", "ÉCOLE", "école"),
        ("upper", "pe", "PE"),
        ("upper", "straße", "STRASSE"),
        ("title", "JOHN SMITH", "John Smith"),
        ("title", "john smith", "John Smith"),
        ("title", "o'neil", "O'Neil"),
        ("title", "JOE'S PIZZA", "Joe's Pizza"),
        ("title", "jackson-schneider", "Jackson-Schneider"),
        ("title", "McDonald", "McDonald"),  # mixed case is someone's choice: kept
        ("title", "MEX-DeAcero-TBD(sep)", "Mex-DeAcero-Tbd(Sep)"),
        ("title", "ÉCOLE PRIMAIRE", "École Primaire"),
    ],
)
def test_case_transforms(name, value, expected):
    assert build_transform(name)(value) == expected


@pytest.mark.parametrize("name", ["trim", "lower", "upper", "title"])
def test_text_transforms_leave_numbers_alone(name):
    assert build_transform(name)(1200) == 1200


# ---- nullify ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    ["null", "NULL", " None ", "N/A", "n/a", "NA", "-", "—", "[not provided]", "#N/A", "undefined"],
)
def test_nullify_default_placeholders(value):
    assert build_transform("nullify")(value) is None


@pytest.mark.parametrize("value", ["Nora", "0", "None of them", "--", "Null Island Ltd"])
def test_nullify_keeps_real_values(value):
    assert build_transform("nullify")(value) == value


def test_nullify_custom_values():
    nullify = build_transform("nullify", {"values": ["Unknown", "000000000000000AAA"]})
    assert nullify("unknown") is None
    assert nullify("000000000000000AAA") is None  # Salesforce's empty lookup id
    assert nullify("null") == "null"
    assert NULLIFY_VALUES[0] == "null"


# ---- lookup ----------------------------------------------------------------------------

STAGES = {
    "Closed Won": "9a2e0000-0000-4000-8000-000000000001",
    "Closed Lost": "9a2e0000-0000-4000-8000-000000000002",
    "Appointment scheduled": "9a2e0000-0000-4000-8000-000000000003",
}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Closed Won", STAGES["Closed Won"]),  # HubSpot's default deal stages
        ("closed won", STAGES["Closed Won"]),
        ("  CLOSED LOST ", STAGES["Closed Lost"]),
        ("Appointment scheduled", STAGES["Appointment scheduled"]),
    ],
)
def test_lookup(value, expected):
    assert build_transform("lookup", {"table": STAGES})(value) == expected


def test_lookup_case_sensitive():
    lookup = build_transform("lookup", {"table": STAGES, "case_sensitive": True})
    assert lookup(" Closed Won ") == STAGES["Closed Won"]  # spaces are still ignored
    with pytest.raises(TransformError):
        lookup("closed won")


def test_lookup_unmatched_lists_known_keys():
    with pytest.raises(TransformError) as info:
        build_transform("lookup", {"table": STAGES})("Negotiation")
    assert str(info.value) == (
        "'Negotiation' is not in the lookup table "
        "(known: 'Closed Won', 'Closed Lost', 'Appointment scheduled')"
    )


def test_lookup_lists_at_most_ten_keys():
    table = {f"Stage {n}": str(n) for n in range(25)}
    with pytest.raises(TransformError) as info:
        build_transform("lookup", {"table": table})("Other")
    assert "'Stage 9', ... (25 in all))" in str(info.value)
    assert "'Stage 10'" not in str(info.value)


def test_lookup_default():
    assert build_transform("lookup", {"table": STAGES, "default": "other"})("x") == "other"
    assert build_transform("lookup", {"table": STAGES, "default": None})("x") is None


def test_lookup_numbers_from_earlier_transforms():
    assert build_transform("lookup", {"table": {"1": "one"}})(1) == "one"


# ---- default, integer, split -------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"), [(None, "x"), ("", "x"), ("  ", "x"), ("a", "a"), (0, 0)]
)
def test_default(value, expected):
    assert build_transform("default", {"value": "x"})(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1,200", 1200),
        ("12.0", 12),
        ("26000", 26000),  # apollo "# Employees"
        ("2", 2),  # pipedrive "Closed deals"
        ("1.0", 1),  # hubspot "Number of times contacted"
        ("-3", -3),
        ("10k", 10000),
        ("5.0E7", 50000000),
        ("1 000", 1000),
        ("-", None),
        (12.0, 12),
        (7, 7),
    ],
)
def test_integer(value, expected):
    result = build_transform("integer")(value)
    assert result == expected and (result is None or type(result) is int)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("12.5", "'12.5' is not a whole number"),
        ("0.2", "'0.2' is not a whole number"),  # hubspot "Deal probability"
        ("abc", "'abc' is not an amount"),
        ("12,5,0", "'12,5,0' is not an amount"),
    ],
)
def test_integer_errors(value, message):
    with pytest.raises(TransformError, match=message.replace(".", r"\.")):
        build_transform("integer")(value)


def test_integer_decimal_comma():
    assert build_transform("integer", {"decimal_mark": ","})("1.200") == 1200


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("01097736631, 01097 736631", ["01097736631", "01097 736631"]),  # pipedrive phones
        ("Customer", ["Customer"]),
        ("a; b | c\nd\r\ne", ["a", "b", "c", "d", "e"]),
        ("a,,b, ,", ["a", "b"]),
        (" , ; ", None),
        ("231667688130;232768112317", ["231667688130", "232768112317"]),  # hubspot IDs
    ],
)
def test_split(value, expected):
    assert build_transform("split")(value) == expected


def test_split_custom_separators():
    split = build_transform("split", {"separators": [" / ", "&"]})
    assert split("Sales / Marketing & Ops, EMEA") == ["Sales", "Marketing", "Ops, EMEA"]


# ---- chain and compose ---------------------------------------------------------------------


def test_compose_yaml_form():
    to_date = compose(["trim", {"date": {"order": "dmy"}}])
    assert to_date(" 03/04/2024 ") == 1712102400000


def test_list_values_are_transformed_element_wise():
    emails = compose([{"split": {}}, "nullify", "email"])
    cell = "Jo <JO@acme.com>; n/a; ann@acme.com"
    assert emails(cell) == ["jo@acme.com", "ann@acme.com"]


def test_list_results_are_flattened_and_empty_lists_become_none():
    emails = compose([{"split": {"separators": ["|"]}}, {"email": {"all": True}}])
    assert emails("a@xy.com, b@xy.com | c@xy.com") == ["a@xy.com", "b@xy.com", "c@xy.com"]
    with_default = compose(["split", "nullify", {"default": {"value": "none given"}}])
    assert with_default("null, n/a") == "none given"


def test_chain_of_plain_functions():
    run = chain([str.strip, str.upper])
    assert run("  pe ") == "PE"
    assert chain([])("same") == "same"


def test_compose_errors_name_the_position():
    with pytest.raises(ValueError) as info:
        compose(["trim", {"date": {"order": "dym"}}])
    assert str(info.value) == (
        "transforms[1] (date): parameter 'order': Input should be 'auto', 'dmy', 'mdy' or 'ymd'"
        " (got 'dym')"
    )


@pytest.mark.parametrize(
    ("specs", "message"),
    [
        (["trim", "emial"], "transforms[1]: unknown transform 'emial' (did you mean 'email'?)"),
        ([{"a": 1, "b": 2}], "transforms[0]: expected a transform name or a one-key map"),
        ([42], "transforms[0]: expected a transform name or a one-key map"),
        ([{"date": "dmy"}], "transforms[0] (date): parameters must be a map such as {order: dmy}"),
        ([{"trim": {"x": 1}}], "transforms[0] (trim): takes no parameters (got 'x')"),
    ],
)
def test_compose_errors(specs, message):
    with pytest.raises(ValueError) as info:
        compose(specs)
    assert str(info.value).startswith(message)


def test_compose_accepts_null_parameters():
    assert compose([{"split": None}])("a,b") == ["a", "b"]


# ---- build_transform parameter errors ----------------------------------------------------


def test_unknown_transform_lists_the_names():
    with pytest.raises(ValueError) as info:
        build_transform("domain_from_url")
    assert str(info.value) == (
        "unknown transform 'domain_from_url' (did you mean 'domain'?); the transforms are: "
        + ", ".join(TRANSFORM_NAMES)
    )


PARAMETER_ERRORS = [
    ("date", {"ordr": "dmy"}, "date: unknown parameter 'ordr' (allowed: format, order, timezone,"),
    ("date", {"order": "dym"}, "date: parameter 'order': Input should be 'auto', 'dmy', 'mdy' or"),
    ("date", {"timezone": "Europe/Berlinn"}, "date: parameter 'timezone': unknown time zone"),
    ("date", {"format": "dd/mm/yyyy"}, "date: parameter 'format': 'dd/mm/yyyy' is not a strptime"),
    ("date", {"format": 12}, "date: parameter 'format': give a strptime format such as"),
    ("money", {"decimal_mark": ";"}, "money: parameter 'decimal_mark': Input should be '.', ','"),
    ("money", {"currency": "EUR"}, "money: unknown parameter 'currency' (allowed: decimal_mark,"),
    ("email", {"all": "maybe"}, "email: parameter 'all': Input should be a valid boolean"),
    ("trim", {"chars": " "}, "trim: takes no parameters (got 'chars')"),
    ("lookup", {}, "lookup: parameter 'table' is required"),
    ("lookup", {"table": {}}, "lookup: parameter 'table': Dictionary should have at least 1"),
    ("lookup", {"table": {True: "x"}}, "lookup: parameter 'table': key True is not text; quote"),
    ("lookup", {"table": {"Won": "a", "won": "b"}}, "lookup: parameter 'table': 'Won' and 'won'"),
    ("default", None, "default: parameter 'value' is required"),
    ("split", {"separators": []}, "split: parameter 'separators': Tuple should have at least 1"),
    ("split", {"separators": [""]}, "split: parameter 'separators': a separator cannot be empty"),
    ("nullify", {"values": "null"}, "nullify: parameter 'values': Input should be a valid"),
]


def test_parameter_error_messages_in_full():
    with pytest.raises(ValueError) as info:
        build_transform("date", {"ordr": "dmy", "timezone": "Mars/Base"})
    assert str(info.value) == (
        "date: parameter 'timezone': unknown time zone 'Mars/Base' (use an IANA name such as"
        " 'UTC', 'Europe/Berlin' or 'America/New_York'); unknown parameter 'ordr' (allowed:"
        " format, order, timezone, excel_serial)"
    )


@pytest.mark.parametrize(("name", "params", "message"), PARAMETER_ERRORS)
def test_parameter_errors(name, params, message):
    with pytest.raises(ValueError) as info:
        build_transform(name, params)
    assert str(info.value).startswith(message)


def test_parameter_errors_are_not_transform_errors():
    with pytest.raises(ValueError) as info:
        build_transform("date", {"order": "x"})
    assert not isinstance(info.value, TransformError)


@given(st.text(max_size=30))
def test_any_text_gives_a_value_or_a_transform_error(text):
    for name in ("trim", "title", "nullify", "first_name", "integer", "split"):
        with contextlib.suppress(TransformError):
            value = build_transform(name)(text)
            assert value is None or isinstance(value, str | int | float | list)


# ---- the real exports, column by column ------------------------------------------------------

# (file, column, transform, params, number of values the transform must refuse)
HS_SCHOOLS = "hubspot/companies-export-view-schools.csv"
HS_RESAVED = "hubspot/companies-appraisal.csv"
HS_CONTACTS = "hubspot/contacts-with-company-assoc-appraisal.csv"
HS_DEALS = "hubspot/deals-export-all-properties-with-associations.csv"
SF_OPPORTUNITIES = "salesforce/data-export-Opportunity.csv"
PD_PEOPLE = "pipedrive/people-export-uk-print.csv"
ZOHO_LEADS = "zoho/leads-export-br-industrial.csv"
APOLLO = "apollo/contacts-export-anz-logistics.csv"
ALL = {"all": True}
REAL_COLUMNS = [
    (HS_SCHOOLS, "Create Date", "date", None, 0),
    (
        HS_SCHOOLS,
        "Company Domain Name",
        "domain",
        None,
        137,
    ),  # 136 × sites.google.com: a hosting platform; core-docs.s3.amazonaws.com: a bucket
    (HS_RESAVED, "Create Date", "date", None, 0),
    (HS_RESAVED, "Website URL", "domain", None, 0),
    (HS_CONTACTS, "Create Date", "date", None, 0),
    (
        HS_CONTACTS,
        "Website URL",
        "domain",
        None,
        15,
    ),  # 14 × google.com/profiles/... and a lender's page on hardmoneyhome.com: no company site
    (HS_CONTACTS, "Email", "email", None, 0),
    ("hubspot/contacts-export-all-contacts-au-textiles.csv", "Email", "email", None, 0),
    ("hubspot/deals-export-all-deals-solar.csv", "Amount", "money", None, 0),
    (HS_DEALS, "Close Date", "date", None, 0),
    (HS_DEALS, "Associated Contact", "email", ALL, 0),
    (HS_DEALS, "Associated Contact", "first_name", None, 0),
    (SF_OPPORTUNITIES, "CloseDate", "date", None, 0),
    (SF_OPPORTUNITIES, "Amount", "money", None, 0),
    ("salesforce/dataloader-extract-Account.csv", "ANNUALREVENUE", "money", None, 0),
    (APOLLO, "Email Last Verified At", "date", None, 0),
    (APOLLO, "Website", "domain", None, 0),
    ("apollo/contacts-export-2025-format-philanthropy.csv", "Annual Revenue", "money", None, 0),
    (PD_PEOPLE, "Person - Email - Work", "email", ALL, 2),  # 'email', 'sir wplck@...'
    # 31 cells a split would change unsaid: a word with an @ beside a name, two people
    # joined by "/", a lone dash, a lower-case letter after a comma (each is said)
    (PD_PEOPLE, "Person - Name", "last_name", None, 31),
    (
        "pipedrive/organisations-export-uk-print.csv",
        "Organisation - Next activity date",
        "date",
        None,
        0,
    ),
    (ZOHO_LEADS, "Created Time", "date", None, 0),
    (ZOHO_LEADS, "Website", "domain", None, 8),  # 8 × linkedin.com/in/...: a person's page
]


def _column(relative: str, name: str) -> list[str]:
    path = REAL_EXPORTS / relative
    encoding = "latin-1" if "data-export" in relative else "utf-8"
    with path.open(encoding=encoding, newline="") as handle:
        rows = csv.reader(handle)
        index = next(rows).index(name)
        values = [row[index] for row in rows if index < len(row)]
    nullify = build_transform("nullify")
    return [v for v in values if nullify(v) is not None]


@pytest.mark.skipif(not REAL_EXPORTS.is_dir(), reason="the shared real exports are not here")
@pytest.mark.parametrize(("relative", "column", "name", "params", "refused"), REAL_COLUMNS)
def test_real_export_columns(relative, column, name, params, refused):
    values = _column(relative, column)
    if name == "date":
        params = {"order": infer_date_order(values) or "auto"}
    transform = build_transform(name, params)
    failures = []
    for value in values:
        try:
            transform(value)
        except TransformError as exc:
            failures.append(str(exc))
    assert values and len(failures) == refused, failures[:5]
