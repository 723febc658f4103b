"""load_mapping and bind_mapping: every error names the file, the key path, what is allowed."""

from __future__ import annotations

import pytest

from importer.errors import MappingError
from importer.map.spec import bind_mapping, load_mapping, parse_mapping

GOOD = """
version: 1
description: test
contact:
  email: {column: Email, transforms: [email]}
  first_name: First Name
account:
  domain: {columns: [Website, Email], transforms: [domain]}
"""


def test_a_valid_mapping_loads_with_the_shorthand(write_mapping):
    mapping = load_mapping(write_mapping(GOOD))
    assert mapping.contact.first_name.column == "First Name"
    assert mapping.account.domain.columns == ("Website", "Email")
    assert [k for k, _ in mapping.fields()] == [
        "account.domain",
        "contact.email",
        "contact.first_name",
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "contact:\n  email: {colum: Email}\n",
            "m.yaml: contact.email.colum: unknown key (did you mean 'column'?); allowed here: column, columns, template, value,"
            " transforms, required, optional_column",
        ),
        (
            "contact:\n  emial: Email\n",
            "m.yaml: contact.emial: unknown key (did you mean 'email'?); allowed here: email, first_name, last_name",
        ),
        ("contact:\n  first_name: First\n", "m.yaml: contact.email: Field required"),
        (
            "contact:\n  email: {column: Email, value: x}\n",
            "m.yaml: contact.email: give exactly one of column, columns, template or value (got column, value)",
        ),
        (
            "contact:\n  email: {column: Email, transforms: [emial]}\n",
            "m.yaml: contact.email.transforms[0]: unknown transform 'emial' (did you mean 'email'?)",
        ),
        ("options:\n  decimal_mark: x\ncontact:\n  email: E\n", "m.yaml: options.decimal_mark:"),
        ("version: 1\n", "m.yaml: <top>: map at least one of account, contact, opportunity, note"),
        ("contact: [\n", "m.yaml: line 2, column 1: invalid YAML:"),
        (
            "- a\n- b\n",
            "m.yaml: a mapping file is a YAML mapping with keys such as contact:, account: (got list)",
        ),
        (
            "",
            "m.yaml: a mapping file is a YAML mapping with keys such as contact:, account:"
            " (it is empty)",
        ),
        (
            "contact:\n  email: {column: Email}\n  first_name: First\n  email: {column: Work}\n",
            "m.yaml: line 4, column 3: invalid YAML: 'email' is given twice in one block (lines 2"
            " and 4): YAML would keep only the second; keep one",
        ),
        (
            "currency_rates: {EUR: 1.08, GBP: 1.27, EUR: 1.1}\ncontact:\n  email: E\n",
            "m.yaml: line 1, column 40: invalid YAML: 'EUR' is given twice in one block",
        ),
        (
            "stages:\n  yes: a\n  Yes: b\ncontact:\n  email: E\n",
            "m.yaml: line 3, column 3: invalid YAML: 'yes' and 'Yes' are one key to YAML (True) in"
            " one block (lines 2 and 3): YAML would keep only the second; quote them to keep both",
        ),
        (
            "opportunity:\n  name: {template: '{Deal'}\n",
            "m.yaml: opportunity.name: malformed template",
        ),
        (
            "options:\n  pipeline_id: nope\ncontact:\n  email: E\n",
            "m.yaml: options.pipeline_id: String should match pattern",
        ),
    ],
)
def test_mapping_errors_name_the_file_and_key_path(text, message):
    with pytest.raises(MappingError) as caught:
        parse_mapping(text, source="m.yaml")
    assert str(caught.value).startswith(message)


def test_unknown_transform_lists_the_known_ones():
    with pytest.raises(MappingError, match=r"the transforms are: .*email, domain"):
        parse_mapping("contact:\n  email: {column: E, transforms: [emial]}\n", source="m.yaml")


def test_a_missing_file_is_a_mapping_error(tmp_path):
    with pytest.raises(MappingError, match=r"nope.yaml: no such mapping file"):
        load_mapping(tmp_path / "nope.yaml")


def test_a_missing_required_column_lists_the_input_columns():
    mapping = parse_mapping("contact:\n  email: Emial\n", source="m.yaml")
    with pytest.raises(MappingError) as caught:
        bind_mapping(mapping, ["Email", "First Name"], input_name="leads.csv")
    assert str(caught.value) == (
        "m.yaml: contact.email: column 'Emial' is not in leads.csv (columns: Email, First Name)"
    )


def test_a_missing_optional_column_only_warns():
    mapping = parse_mapping("contact:\n  email: Email\n  first_name: Vorname\n", source="m.yaml")
    bound = bind_mapping(mapping, ["Email"], input_name="leads.csv")
    assert "contact.first_name" not in bound.readers
    assert bound.warnings == [
        "m.yaml: contact.first_name: column 'Vorname' is not in leads.csv (columns: Email);"
        " the field is left empty"
    ]


def test_columns_match_ignoring_case_and_spacing():
    mapping = parse_mapping("contact:\n  email: email address\n", source="m.yaml")
    bound = bind_mapping(mapping, ["Email  Address"])
    values, errors, _ = bound.readers["contact.email"].read([["a@bc.co"]])
    assert values == ["a@bc.co"] and errors == {}


def test_template_and_first_non_empty_column():
    mapping = parse_mapping(
        "opportunity:\n  name: {template: '{Company} - {Deal}'}\n"
        "account:\n  domain: {columns: [Website, Email], transforms: [domain]}\n",
        source="m.yaml",
    )
    bound = bind_mapping(mapping, ["Company", "Deal", "Website", "Email"])
    rows = [["Acme", "Renewal", "", "jo@acme.co.uk"], ["", "", "https://www.globex.com/x", ""]]
    names, _, _ = bound.readers["opportunity.name"].read(rows)
    domains, _, _ = bound.readers["account.domain"].read(rows)
    assert names == ["Acme - Renewal", None]
    assert domains == ["acme.co.uk", "globex.com"]


def test_null_placeholders_are_empty():
    mapping = parse_mapping("contact:\n  email: E\n  first_name: F\n", source="m.yaml")
    bound = bind_mapping(mapping, ["E", "F"])
    values, _, _ = bound.readers["contact.first_name"].read(
        [["a@b.co", "[not provided]"], ["a@b.co", "null"]]
    )
    assert values == [None, None]


def test_ambiguous_date_column_is_refused():
    mapping = parse_mapping(
        "account:\n  domain: D\nopportunity:\n  close_date: {column: Close, transforms: [date]}\n",
        source="m.yaml",
    )
    sample = [["acme.com", "03/04/2024"], ["acme.com", "05/06/2024"]]
    with pytest.raises(MappingError, match=r"m.yaml: opportunity.close_date: column 'Close': "):
        bind_mapping(mapping, ["D", "Close"], sample)


def test_date_order_is_inferred_from_the_sample():
    mapping = parse_mapping(
        "account:\n  domain: D\nopportunity:\n  close_date: {column: Close, transforms: [date]}\n",
        source="m.yaml",
    )
    sample = [["acme.com", "03/04/2024"], ["acme.com", "25/06/2024"]]
    bound = bind_mapping(mapping, ["D", "Close"], sample)
    values, errors, _ = bound.readers["opportunity.close_date"].read(sample)
    assert errors == {}
    assert values == [1712102400000, 1719273600000]  # 3 April 2024, 25 June 2024, UTC


def test_the_mapping_wide_date_order_settles_an_ambiguous_column():
    mapping = parse_mapping(
        "options:\n  date_order: dmy\naccount:\n  domain: D\n"
        "opportunity:\n  close_date: {column: Close, transforms: [date]}\n",
        source="m.yaml",
    )
    sample = [["acme.com", "03/04/2024"], ["acme.com", "05/06/2024"]]
    bound = bind_mapping(mapping, ["D", "Close"], sample)
    values, errors, _ = bound.readers["opportunity.close_date"].read(sample)
    assert errors == {} and values == [1712102400000, 1717545600000]  # 3 April, 5 June 2024


@pytest.mark.parametrize("template", ["{Email!r}", "{Amount:d}", "{0}", "{a.b}", "{}"])
def test_template_placeholders_must_be_plain_column_names(template):
    with pytest.raises(MappingError, match=r"is not a column name; write \{Column Name\}"):
        parse_mapping(f"opportunity:\n  name: {{template: '{template}'}}\n", source="m.yaml")


def test_fields_get_their_natural_transform_when_none_is_named():
    mapping = parse_mapping(
        "contact:\n  email: Email\naccount:\n  domain: Web\n"
        "opportunity:\n  deal_size: Amount\n  close_date: Close\n",
        source="m.yaml",
    )
    bound = bind_mapping(mapping, ["Email", "Web", "Amount", "Close"])
    row = [[" Jo@Acme.COM ", "https://www.Acme.com/x", "$12,500.00", "2026-02-11"]]
    assert bound.readers["contact.email"].read(row)[:2] == (["jo@acme.com"], {})
    assert bound.readers["account.domain"].read(row)[:2] == (["acme.com"], {})
    assert bound.readers["opportunity.deal_size"].read(row)[:2] == ([12500.0], {})
    assert bound.readers["opportunity.close_date"].read(row)[:2] == ([1770768000000], {})
