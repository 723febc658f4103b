"""Full names split into first and last name."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from importer.map.transforms import TransformError, build_transform, names
from importer.map.transforms.names import dropped_titles, split_full_name

first_name = build_transform("first_name")
last_name = build_transform("last_name")


@pytest.mark.parametrize(
    ("value", "first", "last"),
    [
        # zoho/leads-export-br-industrial.csv "Lead Name" (First Name / Last Name columns beside)
        ("Pablo Menon", "Pablo", "Menon"),
        ("François Lambert", "François", "Lambert"),
        ("Rafael Marta Anand", "Rafael Marta", "Anand"),
        ("Zoé Friedman de Green", "Zoé Friedman", "de Green"),
        # pipedrive/people-export-uk-print.csv "Person - Name"
        ("Javier Barnes", "Javier", "Barnes"),
        ("Zoe", "Zoe", None),
        ("Sir/Madam", None, None),
        # hubspot/companies-export-view-schools.csv "Company owner"
        ("Elena Rossi (Deactivated User)", "Elena", "Rossi"),
        ("Bruno O'Torres", "Bruno", "O'Torres"),
        # hubspot/deals-export-all-properties-with-associations.csv "Associated Contact"
        ("Carmen Maddox (cmaddox@mtnskyumc.org)", "Carmen", "Maddox"),
        (
            "Fiona Shah (fiona@innovative-business.net);"
            "Rosa Olsen (rolsen@innovative-business.net)",
            "Fiona",
            "Shah",
        ),
        ("ucpvamuuwaykzoty@gmail.com;vp@alpharoofingusa.com", None, None),
    ],
)
def test_real_export_names(value, first, last):
    assert (first_name(value), last_name(value)) == (first, last)


@pytest.mark.parametrize(
    ("value", "first", "last"),
    [
        ("John Smith", "John", "Smith"),
        ("  John   Smith ", "John", "Smith"),
        ("Smith, John", "John", "Smith"),
        ("van der Berg, Jane", "Jane", "van der Berg"),
        ("Smith, Dr. John", "John", "Smith"),
        ("Smith, John, Jr.", "John", "Smith"),
        ("John Smith, Jr.", "John", "Smith"),
        ("Dr. Jane van der Berg", "Jane", "van der Berg"),
        ("Mr John Smith Jr.", "John", "Smith"),
        ("Prof. Dr. Hans Müller", "Hans", "Müller"),
        # a given name that is also a title, written without its dot: kept
        ("Hon Li", "Hon", "Li"),
        ("Hon. Li", None, "Li"),
        # two titles joined, and "The" before a title: the title is left out whole
        ("Mr. and Mrs. Smith", None, "Smith"),
        ("The Hon. John Smith", "John", "Smith"),
        ("Ludwig van Beethoven III", "Ludwig", "van Beethoven"),
        ("Jane Doe PhD", "Jane", "Doe"),
        ("Dick Van Dyke", "Dick", "Van Dyke"),
        ("Juan de la Cruz", "Juan", "de la Cruz"),
        ("Eva St. Clair", "Eva", "St. Clair"),
        ("José María García López", "José María", "García López"),  # double surname
        ("Ana María de la Cruz Pérez", "Ana María", "de la Cruz Pérez"),
        ("José Ortega y Gasset", "José", "Ortega y Gasset"),
        ("Sergei Gareth Watanabe", "Sergei Gareth", "Watanabe"),  # middle name stays first
        ("John F. Kennedy", "John F.", "Kennedy"),
        ("J.R.R. Tolkien", "J.R.R.", "Tolkien"),
        ("Mary-Jane Watson", "Mary-Jane", "Watson"),
        ('Robert "Bob" Smith', "Robert", "Smith"),
        ("Jo Smith <jo@acme.com>", "Jo", "Smith"),
        ("Madonna", "Madonna", None),
        ("Ms. Ana", None, "Ana"),  # an honorific and one word: "Mr Roax" is Mr. Roax
        ("Mr Roax", None, "Roax"),  # pipedrive/people-export-uk-print.csv
        ("hello@yourhyph, en.co.uk", None, None),  # a broken address names nobody (same file)
        ("Jo Smith, jo.smith@acme.com", "Jo", "Smith"),
        ("田中太郎", "田中太郎", None),  # no space: cannot split reliably, kept whole
        ("田中 太郎", "太郎", "田中"),  # with a space: family name first
        ("김 민준", "민준", "김"),
        ("jo@acme.com", None, None),
        ("Dr.", None, None),
        (",", None, None),
    ],
)
def test_split(value, first, last):
    assert split_full_name(value) == (first, last)


def test_none_and_empty_are_no_value():
    assert first_name(None) is None
    assert last_name("") is None


words = st.text(alphabet="abcdefghijklmnopqrstuvwxyzéü", min_size=1, max_size=10)


@given(st.lists(words, min_size=1, max_size=5))
def test_no_word_is_lost_or_invented(tokens):
    first, last = split_full_name(" ".join(tokens))
    kept = " ".join(part for part in (first, last) if part)
    assert set(kept.split()) <= set(tokens)
    # (a last name alone only after an honorific: "mr roax")
    assert first is not None or last is None or tokens[0] in names._HONORIFICS


@pytest.mark.parametrize(
    ("value", "dropped"),
    [
        ("Dr. Jane van der Berg", "title 'Dr.'"),
        ("John Smith, Jr.", "suffix 'Jr.'"),
        ("Jane Doe PhD", "suffix 'PhD'"),
        ("Martin Luther King III", "suffix 'III'"),
        ("Smith, Prof. John III", "title 'Prof.' and suffix 'III'"),
        ("Mr. and Mrs. Smith", "title 'Mr. and Mrs.'"),
        ("Jo Smith", None),
        ("Hon Li", None),  # a given name
        ("Smith Jr., John", None),  # the suffix stays in the last name
        ("Madonna", None),
    ],
)
def test_the_titles_a_split_drops_are_named(value, dropped):
    assert dropped_titles(value) == dropped


@given(st.lists(words | st.sampled_from(["dr", "Dr.", "mrs", "jr", "PhD", "iii"]), max_size=5))
def test_every_word_is_kept_or_said_dropped(tokens):
    """The split's first and last name and the row's warning hold every word of the name."""
    text = " ".join(tokens)
    first, last = split_full_name(text)
    kept = " ".join(part for part in (first, last) if part).split()
    said = dropped_titles(text) or ""
    assert all(token in kept or token in said for token in tokens)


@given(st.text(max_size=40))
def test_any_text_splits_without_error(text):
    first, last = split_full_name(text)
    assert first is None or first.strip() == first != ""
    assert last is None or last.strip() == last != ""


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("Alejandro @Peter Thaktos", "it holds '@Peter'"),
        ("ING. A VEIRAE / ING. S BANERJ", "it holds '/'"),
        ("Tariel Amarco Kata - Engeen", "a lone dash"),
        ("Murpah Lopung, i", "the one letter 'i'"),
        ("nirid@ups.co, m", "it holds 'nirid@ups.co'"),
        ("Acme, Inc.", "it names a company"),  # not first name 'Inc.', last name 'Acme'
        ("Northwind Logistics, S.A.", "it names a company"),
        ("Harbour, Pty Ltd", "it names a company"),
        ("Globex, S.A. de C.V.", "it names a company"),
        ("Acme, Co.", "it names a company"),
        ("Foo, GmbH & Co. KG", "it names a company"),
        ("Volvo, AB", "it names a company"),
        ("Nokia, Oyj", "it names a company"),
        ("Equinor, ASA", "it names a company"),
        ("Telefonica, S.L.", "it names a company"),
        ("Acme, Pvt. Ltd.", "it names a company"),
        ("Acme, L.P.", "it names a company"),
        ("Acme, PLLC", "it names a company"),
        ("Acme, Company", "it names a company"),
        ("Foo, sp. z o.o.", "it names a company"),
    ],
)
def test_a_name_the_split_would_change_is_refused_and_said(value, why):
    """The real Pipedrive people export has 35 such cells: the split dropped '@Peter',
    made two people one contact, or took 'i' for a first name, and nothing said so. The
    name is now left out of the contact with that reason (the row keeps its person)."""
    for part in (first_name, last_name):
        with pytest.raises(TransformError, match=why):
            part(value)


@pytest.mark.parametrize(
    "value",
    [
        "Sir/Madam Jo Smith",
        "Smith, J.",
        "Mary-Jane O'Neil",
        "Carmen Maddox (cm@x.org)",
        "Smith, Ab",
        "Inc, Jo",
        "Jansen, Ab",  # a given name, not Sweden's AB
        "Smith, S.",  # an initial, not the S. of S. de R.L.
        "Kim, Se",
        "García, Ana",
        "Lee, De",
    ],
)
def test_names_the_split_keeps_whole_are_split_as_ever(value):
    assert names.unsplittable(value) is None and (first_name(value) or last_name(value))


def test_a_title_the_split_drops_is_said_on_the_row_through_the_sandbox(tmp_path):
    """Pipedrive's "Person - Name" split into first and last name lost "Dr." and "PhD"
    without a word: the contact lands without them, and the row names what was dropped,
    once for the two fields."""
    import csv

    from test_import_e2e import inspect, settings, write

    from importer.run import run_import
    from importer.sandbox import running_sandbox

    data = write(
        tmp_path / "people.csv",
        "Person - Name,Person - Email - Work\n"
        "Dr. Jane Roe,jane@acme.com\nJo Smith PhD,jo@acme.com\nAl Li,al@acme.com\n",
    )
    with running_sandbox() as box:
        report = run_import(
            data, "pipedrive-people", settings=settings(box), results_path=tmp_path / "r.csv"
        )
        people = {c["email"]: (c["first_name"], c["last_name"]) for c in inspect(box, "contacts")}
    assert report.counts == {"imported": 3}
    assert people["jane@acme.com"] == ("Jane", "Roe")
    with (tmp_path / "r.csv").open(encoding="utf-8-sig", newline="") as handle:
        warnings = [row["warnings"] for row in csv.DictReader(handle)]
    assert warnings == [
        "contact.first_name, contact.last_name (column 'Person - Name'): title 'Dr.' dropped"
        " from the name 'Dr. Jane Roe' (an Octolane contact has no field for it)",
        "contact.first_name, contact.last_name (column 'Person - Name'): suffix 'PhD' dropped"
        " from the name 'Jo Smith PhD' (an Octolane contact has no field for it)",
        "",
    ]


@pytest.mark.parametrize(
    ("value", "only"),
    [
        ("Sir/Madam", True),
        ("Madam/Sir", True),
        ("Sir or Madam", True),
        ("SIR/MADAM", True),
        ("Mr.", True),
        ("Dear Sir/Madam", True),  # was first name 'Dear', last name 'Sir/Madam'
        ("Dear Sir or Madam", True),
        ("Sir / Madam", True),  # was refused: "it holds '/'"
        ("Attn: Sir/Madam", True),
        ("Sir/Madam Jo Smith", False),
        ("Dear Jo Smith", False),  # no title after it: the words are the name's
        ("Dr. Or Cohen", False),  # Or: a given name, not "Sir or Madam"'s
        ("Mr Roax", False),
        ("Jo Smith", False),
        ("", False),
    ],
)
def test_a_salutation_alone_is_no_name(value, only):
    """'Sir or Madam' was split into first name 'or', last name 'Madam'."""
    assert names.salutation_only(value) is only
    if only:
        assert split_full_name(value) == (None, None)


def test_a_salutation_placeholder_is_said_to_be_no_name_through_the_sandbox(tmp_path):
    """912 rows of the real Pipedrive people export are named 'Sir/Madam': their warning
    read as if a title had been cut from a name. It now says the cell holds no name."""
    import csv

    from test_import_e2e import inspect, settings, write

    from importer.run import run_import
    from importer.sandbox import running_sandbox

    data = write(
        tmp_path / "people.csv",
        "Person - Name,Person - Email - Work\n"
        "Sir/Madam,info@acme.com\nSir or Madam,sales@acme.com\nDr. Jane Roe,jane@acme.com\n",
    )
    with running_sandbox() as box:
        report = run_import(
            data, "pipedrive-people", settings=settings(box), results_path=tmp_path / "r.csv"
        )
        people = {c["email"]: (c["first_name"], c["last_name"]) for c in inspect(box, "contacts")}
    assert report.counts == {"imported": 3}
    assert people["info@acme.com"] == people["sales@acme.com"] == (None, None)
    with (tmp_path / "r.csv").open(encoding="utf-8-sig", newline="") as handle:
        warnings = [row["warnings"] for row in csv.DictReader(handle)]
    column = "contact.first_name, contact.last_name (column 'Person - Name')"
    assert warnings == [
        f"{column}: 'Sir/Madam' is a salutation placeholder, not a name: no name is sent from it",
        f"{column}: 'Sir or Madam' is a salutation placeholder, not a name: no name is sent"
        " from it",
        f"{column}: title 'Dr.' dropped from the name 'Dr. Jane Roe' (an Octolane contact has"
        " no field for it)",
    ]
