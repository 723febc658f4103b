"""Names travel with e-mails: "Name (email)", '"Name" <email>' and "email (Name)" cells name
the contact (issue 10, point 6)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from preset_cases import own_stages
from test_import_e2e import inspect, run, write

from importer import run_import
from importer.map.transforms.emails import display_name
from importer.sandbox import running_sandbox

REAL = Path(__file__).resolve().parents[2] / "shared" / "real-exports"


@pytest.mark.parametrize(
    ("cell", "name"),
    [
        ("Ann Smith <ann@acme.com>", "Ann Smith"),
        ('"Doe, John" <JOHN@acme.com>', "Doe, John"),
        ("kim@acme.com (Kim Lee)", "Kim Lee"),
        ("Zoe Park (zoe@acme.com);Al Bo (al@acme.com)", "Zoe Park"),
        ("  Jo  <mailto:jo@acme.com> ", "Jo"),
        ("bare@acme.com", None),
        ("<jo@acme.com>", None),
        ("jo@acme.com; Bo Li <bo@acme.com>", None),  # the first address names nobody
        ("john smith@acme.com", None),  # a broken address, not a name
        ("Jo Smith (not an address)", None),
        ("Smith, Jo <jo@acme.com>", "Smith, Jo"),  # Outlook's "Last, First", unquoted
        ("Smith, Jo <jo@acme.com>, Bo <bo@acme.com>", None),  # whose name is "Smith"?
    ],
)
def test_display_name(cell: str, name: str | None) -> None:
    assert display_name(cell) == name


MAPPING = """
contact:
  email: {column: Email, transforms: [email]}
"""

NAMED_MAPPING = """
contact:
  email: {column: Email, transforms: [email]}
  first_name: {column: First, optional_column: true}
  last_name: {column: Last, optional_column: true}
"""


def test_names_written_beside_addresses_land_in_the_sandbox(tmp_path: Path) -> None:
    data = write(
        tmp_path / "people.csv",
        """
Email,First,Last
Ann Smith <ann@acme.com>,,
"""
        + '"""Doe, John"" <john@acme.com>",,\n'
        + """kim@acme.com (Kim Lee),,
bare@acme.com,,
Zoe Park (zoe@acme.com),Zoë,Parker
"Lopez, Ana <ana@acme.com>",,
"Acme, Inc. <info@acme.com>",,
""",
    )
    with running_sandbox() as box:
        report = run(box, data, write(tmp_path / "m.yaml", NAMED_MAPPING))
        assert report.counts == {"imported": 7}
        people = {c["email"]: (c["first_name"], c["last_name"]) for c in inspect(box, "contacts")}
    assert people == {
        "ann@acme.com": ("Ann", "Smith"),
        "john@acme.com": ("John", "Doe"),
        "kim@acme.com": ("Kim", "Lee"),
        "bare@acme.com": (None, None),
        "zoe@acme.com": ("Zoë", "Parker"),  # the mapped name columns win
        "ana@acme.com": ("Ana", "Lopez"),
        "info@acme.com": (None, None),  # a company's name: no first name 'Inc.'
    }


@pytest.mark.skipif(not REAL.exists(), reason="the shared real exports are not beside the repo")
def test_hubspot_associated_contacts_get_their_names(tmp_path: Path) -> None:
    """HubSpot writes a deal's contacts as "Name (email)": each first contact is named."""
    source = REAL / "hubspot" / "deals-export-all-properties-with-associations.csv"
    requests = tmp_path / "requests.jsonl"
    run_import(
        source,
        "hubspot-deals",
        dry_run=True,
        results_path=tmp_path / "r.csv",
        requests_path=requests,
        pipeline_id="00000000-0000-4000-8000-000000000001",
        stages=own_stages(source, "hubspot-deals"),
    )
    contacts = {}
    for line in requests.read_text(encoding="utf-8").splitlines():
        request = json.loads(line)
        if request["endpoint"] == "contacts":
            body = request["body"]
            contacts[body["email"]] = (body.get("first_name"), body.get("last_name"))
    assert contacts["cmaddox@mtnskyumc.org"] == ("Carmen", "Maddox")
    assert contacts["fiona@innovative-business.net"] == ("Fiona", "Shah")


def test_an_international_address_is_sent_in_idna_form_and_the_row_shows_both(
    tmp_path: Path,
) -> None:
    """Issue 10, point 7: the server stores the IDNA form; the results file shows both."""
    import csv

    data = write(tmp_path / "people.csv", "Email\nZoë Krämer <zoe@bücher.de>\nbo@acme.com\n")
    with running_sandbox() as box:
        report = run(box, data, write(tmp_path / "m.yaml", MAPPING))
        assert report.counts == {"imported": 2}
        people = {c["email"]: c for c in inspect(box, "contacts")}
    assert set(people) == {"zoe@xn--bcher-kva.de", "bo@acme.com"}
    assert (
        people["zoe@xn--bcher-kva.de"]["first_name"],
        people["zoe@xn--bcher-kva.de"]["last_name"],
    ) == ("Zoë", "Krämer")
    with (tmp_path / "results.csv").open(encoding="utf-8-sig", newline="") as handle:
        line = next(r for r in csv.DictReader(handle) if r["row"] == "2")
    assert line["email"] == "zoe@xn--bcher-kva.de"
    assert "contact.email: zoe@bücher.de is sent as zoe@xn--bcher-kva.de" in line["warnings"]


def test_a_title_beside_the_address_is_said_dropped_on_the_row(tmp_path: Path) -> None:
    """'Dr. Jo Smith <jo@acme.com>' named the contact Jo Smith and lost 'Dr.' unsaid (a
    name column's title is said): the row now names the title or suffix, as it does there."""
    import csv

    data = write(
        tmp_path / "people.csv",
        "Email,First,Last\n"
        "Dr. Jo Smith <jo@acme.com>,,\n"
        '"""Prof. Anna Weber"" <anna@weber.de>",,\n'
        "kim@acme.com (Kim Lee PhD),,\n"
        "Ann Smith <ann@acme.com>,,\n"
        "Dr. Bo Li <bo@acme.com>,Bo,Li\n",  # the name columns' name: nothing dropped
    )
    with running_sandbox() as box:
        report = run(box, data, write(tmp_path / "m.yaml", NAMED_MAPPING))
        assert report.counts == {"imported": 5}
        people = {c["email"]: (c["first_name"], c["last_name"]) for c in inspect(box, "contacts")}
    assert people["jo@acme.com"] == ("Jo", "Smith")
    assert people["anna@weber.de"] == ("Anna", "Weber")
    assert people["kim@acme.com"] == ("Kim", "Lee")
    with (tmp_path / "results.csv").open(encoding="utf-8-sig", newline="") as handle:
        warnings = {row["email"]: row["warnings"] for row in csv.DictReader(handle)}
    said = "contact.first_name, contact.last_name (column 'Email'): {} dropped from the name {}"
    said += " written beside the address (an Octolane contact has no field for it)"
    assert warnings == {
        "jo@acme.com": said.format("title 'Dr.'", "'Dr. Jo Smith'"),
        "anna@weber.de": said.format("title 'Prof.'", "'Prof. Anna Weber'"),
        "kim@acme.com": said.format("suffix 'PhD'", "'Kim Lee PhD'"),
        "ann@acme.com": "",
        "bo@acme.com": "",
    }
