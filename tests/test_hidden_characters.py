"""Text that should not travel: control characters and direction overrides are taken
out of values with a warning on the row, and refuse an e-mail or a domain outright."""

from __future__ import annotations

import pytest
from test_import_e2e import inspect, results_of, run, write

from importer.map.transforms.cells import hidden_characters
from importer.sandbox import running_sandbox

MAPPING = """
account:
  domain: {column: Website, transforms: [domain]}
contact:
  email: {column: Email, transforms: [email]}
  first_name: {column: First Name}
  last_name: {column: Last Name}
"""


@pytest.mark.parametrize(
    ("char", "name"),
    [
        ("\x00", "U+0000"),
        ("\x1b", "U+001B"),
        ("\x7f", "U+007F"),
        ("\x85", "U+0085"),
        ("\u202a", "LEFT-TO-RIGHT EMBEDDING"),
        ("\u202e", "RIGHT-TO-LEFT OVERRIDE"),
        ("\u2066", "LEFT-TO-RIGHT ISOLATE"),
        ("\u2069", "POP DIRECTIONAL ISOLATE"),
    ],
)
def test_each_hidden_character_is_found_and_named(char, name):
    found = hidden_characters(["plain", f"An{char}n", None, ""])
    assert list(found) == [1]
    text, what = found[1]
    assert text == "Ann"
    assert name in what


def test_tabs_line_breaks_and_scripts_are_left_alone():
    values = ["line one\nline two\r\n", "a\tb", "علي", "שלום", "\u200dzwj", "Zoë"]
    assert hidden_characters(values) == {}


def test_a_real_import_strips_names_and_refuses_hidden_addresses(tmp_path):
    data = write(
        tmp_path / "leads.csv",
        "Email,First Name,Last Name,Company,Website\n"
        "ann@acme.com,A\x00nn,Do\u202ee,Acme,acme.com\n"
        "\u202er3@acme.com,Bob,Roe,Acme,acme.com\n"
        "cy@beta.io,Cy,\x1bRay,Beta,beta.io\n"
        "di@gamma.io,Di,Fox,Gamma,gam\u2066ma.io\n"
        + "".join(f"p{i}@delta.com,P{i},Q,Delta,delta.com\n" for i in range(60)),
    )
    mapping = write(tmp_path / "m.yaml", MAPPING)
    with running_sandbox() as box:
        report = run(box, data, mapping)
        people = {p["email"]: p for p in inspect(box, "contacts")}
        companies = {c["domain"]: c for c in inspect(box, "accounts")}
    rows = {int(r["row"]): r for r in results_of(tmp_path / "results.csv")}
    assert report.exit_code == 1  # two rows are partial

    # a name: the NUL is taken out, the row says so, and Octolane holds the clean name
    assert rows[2]["status"] == "imported"
    assert (
        "contact.first_name (column 'First Name'): hidden characters removed" in rows[2]["warnings"]
    )
    assert "U+0000" in rows[2]["warnings"]
    assert people["ann@acme.com"]["first_name"] == "Ann"
    assert people["ann@acme.com"]["last_name"] == "Doe"
    assert "RIGHT-TO-LEFT OVERRIDE" in rows[2]["warnings"]
    assert people["cy@beta.io"]["last_name"] == "Ray"
    assert "U+001B" in rows[4]["warnings"]

    # an address or a domain: refused, never sent in any form
    assert rows[3]["status"] == "partial"
    assert rows[3]["error_fields"] == "contact.email"
    assert "RIGHT-TO-LEFT OVERRIDE" in rows[3]["message"]
    assert "correct the cell" in rows[3]["message"]
    assert "r3@acme.com" not in people
    assert rows[5]["error_fields"] == "account.domain"
    assert "LEFT-TO-RIGHT ISOLATE" in rows[5]["message"]
    assert rows[5]["status"] == "partial"
    assert "di@gamma.io" in people  # the person goes ahead, filed by the e-mail's domain
    assert not any(
        any(c in value for c in "\x00\x1b\u202e\u2066")
        for record in [*people.values(), *companies.values()]
        for value in record.values()
        if isinstance(value, str)
    )
