"""validate_batch: required fields sink the row, optional ones drop with a warning."""

from __future__ import annotations

from importer.map.spec import bind_mapping, parse_mapping
from importer.validate.rows import validate_batch

PIPE = "00000000-0000-4000-8000-000000000001"

DEALS = """
account:
  domain: {column: Website, transforms: [domain]}
contact:
  email: {column: Email, transforms: [email]}
  first_name: {column: Name, transforms: [first_name]}
  last_name: {column: Name, transforms: [last_name]}
opportunity:
  name: Deal
  deal_size: {column: Amount, transforms: [money]}
  close_date: {column: Close, transforms: [{date: {order: ymd}}]}
  owner_email: {column: Owner, transforms: [email]}
  stage_id: Stage
note:
  title: {value: Imported}
  content: {template: "Source: {Source}"}
"""
COLUMNS = ["Website", "Email", "Name", "Deal", "Amount", "Close", "Owner", "Stage", "Source"]


def verdicts(rows, text=DEALS):
    bound = bind_mapping(parse_mapping(text, source="m.yaml"), COLUMNS, rows)
    return validate_batch(bound, list(range(2, 2 + len(rows))), rows, pipeline_id=PIPE)


def test_a_full_row_becomes_every_payload():
    (v,) = verdicts(
        [
            [
                "https://www.acme.co.uk/about",
                "Jo <JO@acme.co.uk>",
                "Jo Smith",
                "Renewal",
                "$12,500.00",
                "2026-02-11",
                "owner@acme.co.uk",
                "",
                "Webinar",
            ],
        ]
    )
    assert v.valid and v.warnings == []
    assert v.account == {"domain": "acme.co.uk"}
    assert v.contact == {"email": "jo@acme.co.uk", "first_name": "Jo", "last_name": "Smith"}
    assert v.opportunity == {
        "pipeline_id": PIPE,
        "opportunity": {"name": "Renewal", "deal_size": 12500.0, "close_date": 1770768000000},
        "related_objects": {
            "account_domain": "acme.co.uk",
            "primary_contact_email": "jo@acme.co.uk",
            "owner_email": "owner@acme.co.uk",
        },
    }
    assert v.note == {
        "note": {"title": "Imported", "content": "Source: Webinar"},
        "account_domains": ["acme.co.uk"],
        "contact_emails": ["jo@acme.co.uk"],
    }


def test_every_bad_required_field_is_named_and_nothing_is_kept():
    (v,) = verdicts([["not a domain", "nobody", "", "", "", "", "", "", ""]])
    assert not v.valid
    assert [e.field for e in v.errors] == ["contact.email", "account.domain"]
    assert v.errors[0].source == "column 'Email'"
    assert "'nobody'" in v.errors[0].message
    assert v.contact is None and v.opportunity is None


def test_bad_optional_values_are_dropped_with_a_warning():
    (v,) = verdicts(
        [["acme.com", "jo@acme.com", "", "Renewal", "twelve", "someday", "nope", "stage-x", ""]]
    )
    assert v.valid
    assert v.opportunity["opportunity"] == {"name": "Renewal"}
    assert "owner_email" not in v.opportunity["related_objects"]
    fields = [w.split(" ")[0] for w in v.warnings]
    assert fields == [
        "opportunity.deal_size",
        "opportunity.close_date",
        "opportunity.owner_email",
        "opportunity.stage_id",
    ]
    assert v.warnings[-1].startswith(
        "opportunity.stage_id (column 'Stage'): 'stage-x' is not a stage id (a UUID)"
    )


def test_personal_domains_never_become_accounts():
    text = "contact:\n  email: Email\naccount:\n  domain: {column: Email, transforms: [domain]}\n"
    bound = bind_mapping(parse_mapping(text, source="m.yaml"), ["Email"])
    (v,) = validate_batch(bound, [2], [["sam@gmail.com"]])
    assert v.valid and v.account is None and v.domain is None
    assert v.contact == {"email": "sam@gmail.com"}
    assert v.warnings == ["gmail.com is a personal email domain: no account is sent for it"]


def test_a_company_row_with_only_a_personal_domain_is_skipped():
    bound = bind_mapping(
        parse_mapping("account:\n  domain: {column: D, transforms: [domain]}\n"), ["D"]
    )
    (v,) = validate_batch(bound, [2], [["https://gmail.com"]])
    assert v.valid and v.skipped.startswith("gmail.com is a personal email domain")


def test_account_domain_falls_back_to_the_email_domain():
    text = "contact:\n  email: E\naccount:\n  domain: {column: W, transforms: [domain], required: false}\n"
    bound = bind_mapping(parse_mapping(text), ["E", "W"])
    (v,) = validate_batch(bound, [2], [["jo@globex.io", ""]])
    assert v.account == {"domain": "globex.io"}


UNLINKED = "opportunity:\n  name: Deal\naccount:\n  domain: {column: D, required: false}\n"


def test_a_deal_with_nothing_to_attach_to_goes_alone_with_a_warning():
    bound = bind_mapping(parse_mapping(UNLINKED), ["Deal", "D"])
    (v,) = validate_batch(bound, [2], [["Big one", ""]], pipeline_id=PIPE)
    assert v.valid and v.opportunity["related_objects"] == {}
    assert v.opportunity["opportunity"] == {"name": "Big one"}
    assert v.warnings == [
        "opportunity: no company domain or contact email to link the deal to: it is imported "
        "as a deal without an account (options.unlinked_deals: reject refuses such rows)"
    ]


def test_unlinked_deals_reject_refuses_it():
    text = UNLINKED + "options:\n  unlinked_deals: reject\n"
    bound = bind_mapping(parse_mapping(text), ["Deal", "D"])
    (v,) = validate_batch(bound, [2], [["Big one", ""]], pipeline_id=PIPE)
    assert [str(e) for e in v.errors] == [
        "opportunity (row): has no company domain or contact email to attach the deal to "
        "(options.unlinked_deals: reject)"
    ]


def test_a_deal_with_neither_name_nor_domain_is_refused_as_the_server_would():
    text = (
        "contact:\n  email: E\n"
        "opportunity:\n  name: {column: Deal, required: false}\n  deal_size: Amount\n"
    )
    bound = bind_mapping(parse_mapping(text), ["E", "Deal", "Amount"])
    rows = [["jo@gmail.com", "", "300"], ["ann@gmail.com", "", ""]]
    v, empty = validate_batch(bound, [2, 3], rows, pipeline_id=PIPE)
    assert [str(e) for e in v.errors] == [
        "opportunity.name (row): is empty and the deal has no company domain: Octolane needs "
        "a name when related_objects.account_domain is not given"
    ]
    # a row none of whose deal cells holds anything has no deal to refuse: its person goes
    assert empty.valid and empty.opportunity is None and empty.contact is not None


def test_a_lookup_that_yields_text_for_an_amount_warns():
    text = (
        "account:\n  domain: D\n"
        "opportunity:\n  deal_size: {column: Size, transforms: [{lookup: {table: {big: lots}}}]}\n"
    )
    bound = bind_mapping(parse_mapping(text), ["D", "Size"])
    (v,) = validate_batch(bound, [2], [["acme.com", "big"]], pipeline_id=PIPE)
    assert v.valid and v.opportunity["opportunity"] == {}
    # the amount's natural transform (money) runs after the lookup and refuses the text
    assert v.warnings == [
        "opportunity.deal_size (column 'Size'): 'lots' is not an amount; the field was left out"
    ]


def test_a_cell_with_several_addresses_names_those_not_imported():
    rows = [
        ["acme.co", "jo@gmail.com, jo.smith@acme.co", "Jo", "Renewal", "", "", "", "", ""],
        ["acme.co", "ann@acme.co; ann@acme.co", "Ann", "", "", "", "", "", ""],
        ["acme.co", "li@acme.co", "Li", "", "", "", "", "", ""],
    ]
    mapping = DEALS.replace("  owner_email: {column: Owner, transforms: [email]}\n", "")
    first, same, one = verdicts(rows, mapping)
    assert first.contact["email"] == "jo@gmail.com"
    (said,) = [w for w in first.warnings if w.startswith("contact.email")]
    assert "the first, jo@gmail.com, is the contact's" in said
    assert "jo.smith@acme.co is not imported" in said
    # the same address twice loses nothing; one address says nothing
    assert not [w for w in same.warnings + one.warnings if w.startswith("contact.email")]
    # a deal that lists the cell's other addresses as its contacts loses none of them
    linked = mapping.replace(
        "  stage_id: Stage\n",
        "  stage_id: Stage\n  additional_contact_emails: {column: Email, transforms:"
        " [{email: {all: true}}]}\n",
    )
    (deal,) = verdicts(rows[:1], linked)
    assert not [w for w in deal.warnings if w.startswith("contact.email")]
    assert deal.opportunity["related_objects"]["additional_contact_emails"] == ["jo.smith@acme.co"]


def test_a_cell_with_several_web_sites_names_those_not_imported():
    # hubspot/contacts-export-doctors-it.xlsx: "http://www.gabrieladally.it; www.adallygabriel.it"
    cells = [
        "http://www.gabrieladally.it; www.adallygabriel.it",
        "http://www.oculista-estetica.it - www.blefaro.it",
        "https://www.acme.co.uk/about",
    ]
    rows = [[c, "", "", "", "", "", "", "", ""] for c in cells]
    two, dash, one = verdicts(rows, "account:\n  domain: {column: Website, transforms: [domain]}\n")
    assert two.account == {"domain": "gabrieladally.it"}
    assert two.warnings == [
        "account.domain (column 'Website'): the cell names 2 web sites; the first,"
        " gabrieladally.it, is the account's, and adallygabriel.it is not imported"
    ]
    assert "blefaro.it is not imported" in dash.warnings[0]
    assert one.warnings == []


def test_a_deal_linked_through_its_contacts_e_mail_says_so():
    # hubspot/deals-export-all-properties-with-associations.csv row 45: its company's id
    # is in no companies file given, so the deal goes to its contact's company by e-mail
    rows = [
        ["", "jay@agilitec.com", "Jay", "Howard Law - Voice Agent", "", "", "", "", ""],
        [
            "howardlaw.com",
            "jay@agilitec.com",
            "Jay",
            "Howard Law - Voice Agent",
            "",
            "",
            "",
            "",
            "",
        ],
    ]
    mapping = DEALS.replace(
        "  domain: {column: Website, transforms: [domain]}",
        "  domain: {column: Website, transforms: [domain], required: false}",
    ).replace("opportunity:\n", "options:\n  account_domain_from_email: true\nopportunity:\n", 1)
    inferred, given = verdicts(rows, mapping)
    assert inferred.opportunity["related_objects"]["account_domain"] == "agilitec.com"
    assert (
        "opportunity: linked to agilitec.com, the domain of its contact's e-mail"
        " (jay@agilitec.com): the row gives no company domain (column 'Website' is empty)"
    ) in inferred.warnings
    assert given.opportunity["related_objects"]["account_domain"] == "howardlaw.com"
    assert not [w for w in given.warnings if w.startswith("opportunity: linked")]


def test_only_cells_with_other_web_sites_say_so():
    mapping = "account:\n  domain: {column: Website, transforms: [domain]}\n"
    many = "; ".join(f"www.site{n}.it" for n in range(7))
    cells = [
        "http://acme.com/index.php?lang=en,fr.de",  # a query's comma parts no sites
        "jo@gmail.com, jo@acme.co",  # e-mail cells: the contact's to tell about
        "a.com; b.com",  # the first makes no account: told as a placeholder instead
        many,
    ]
    query, emails, placeholder, seven = verdicts([[c] + [""] * 8 for c in cells], mapping)
    assert not [w for w in query.warnings + emails.warnings if "web sites" in w]
    assert not [w for w in placeholder.warnings if "web sites" in w]
    (said,) = [w for w in seven.warnings if "web sites" in w]
    assert "the cell names 7 web sites; the first, site0.it, is the account's" in said
    assert "site1.it, site2.it, site3.it, site4.it and 2 more are not imported" in said


def test_a_deal_with_only_an_owner_or_other_contacts_is_still_a_deal():
    text = (
        "options:\n  account_domain_from_email: true\n"
        "contact:\n  email: E\n"
        "opportunity:\n  name: {column: Deal, required: false}\n"
        "  owner_email: {column: Owner, transforms: [email], required: false}\n"
        "  additional_contact_emails: {column: Other, transforms: [{email: {all: true}}]}\n"
    )
    bound = bind_mapping(parse_mapping(text), ["E", "Deal", "Owner", "Other"])
    rows = [
        ["bob@initech.com", "", "rep@initech.com", ""],
        ["li@hooli.com", "", "", "cc@hooli.com"],
        ["mo@umbrella.com", "", "", ""],
    ]
    owner, other, none = validate_batch(bound, [2, 3, 4], rows, pipeline_id=PIPE)
    assert owner.opportunity["related_objects"]["owner_email"] == "rep@initech.com"
    assert other.opportunity["related_objects"]["additional_contact_emails"] == ["cc@hooli.com"]
    assert none.opportunity is None


def test_a_company_name_is_the_same_wherever_its_rows_fall_in_a_batch():
    # two rows of one company in one batch: the first without a name, the second with
    # one; the name was dropped (the batch shared the first row's body), now it is sent
    from importer.plan import Planner

    text = "account:\n  domain: D\n  name: {column: Company, required: false}\n"
    bound = bind_mapping(parse_mapping(text), ["D", "Company"])
    rows = [["acme.com", ""], ["acme.com", "Acme Inc"], ["acme.com", "Acme Corp"]]
    planner = Planner(keep_rows=False)
    plans = planner.add(validate_batch(bound, [2, 3, 4], rows))
    (request,) = planner.finish(resolve_rows=False).requests
    assert request.payload == {"domain": "acme.com", "name": "Acme Inc"}
    assert [str(w) for w in plans[1].warnings] == [
        "account.name 'Acme Inc' fills in row 2's empty value: it is sent with row 2's record"
    ]
    assert [str(w) for w in plans[2].warnings] == [
        "account.name 'Acme Corp' differs from row 2's 'Acme Inc'; row 2's value is sent"
    ]


def test_the_cells_with_two_parts_are_found_in_one_scan_of_the_batch():
    from importer.validate.rows import (
        _INNER_SEPARATOR,
        _SEPARATOR_CHARS,
        _TWO_ADDRESSES,
        _cells_matching,
    )

    cells = ["", "a.it; b.it", " x.com ", "a@x.com", "", "c.it d.it", "e@x.com,f@y.com"]
    assert _cells_matching(cells, _INNER_SEPARATOR, _SEPARATOR_CHARS) == [1, 5, 6]
    assert _cells_matching(cells, _TWO_ADDRESSES) == [6]
    assert _cells_matching(["a.com", " b.com "], _INNER_SEPARATOR, _SEPARATOR_CHARS) == []
    assert _cells_matching([], _TWO_ADDRESSES) == []


def test_an_address_at_no_top_level_domain_warns():
    """pipedrive/people-export-uk-print.csv: midbefegut@aol.coma and …@pillarsupport.or were
    imported without a word, and the server made accounts aol.coma and pillarsupport.or."""
    bound = bind_mapping(parse_mapping("contact:\n  email: Email\n", source="m.yaml"), ["Email"])
    bad, good, idn = validate_batch(
        bound, [2, 3, 4], [["midbefegut@aol.coma"], ["jo@acme.com"], ["ivan@пример.рф"]]
    )
    assert bad.warnings == [
        "contact.email: midbefegut@aol.coma ends in .coma, which is no top-level domain:"
        " a typo? The address cannot receive mail; correct the cell"
    ]
    assert bad.contact == {"email": "midbefegut@aol.coma"}  # still imported: the user decides
    assert good.warnings == [] and not any("top-level" in w for w in idn.warnings)


def test_a_batch_read_again_is_not_read_twice_and_its_reader_answers_copies():
    """The totals-row finder reads a slice's amounts after validation read them: the
    reader answers from the last batch it read (the same rows object), with copies."""
    text = "opportunity:\n  name: Deal\n  deal_size: {column: Amount, transforms: [money]}\n"
    rows = [["A", "1,200.50"], ["B", "oops"], ["C", "3"]]
    bound = bind_mapping(parse_mapping(text, source="m.yaml"), ["Deal", "Amount"], rows)
    reader = bound.readers["opportunity.deal_size"]
    calls = []
    chain = reader.chain
    reader.chain = lambda value: calls.append(value) or chain(value)
    reader._cache.clear()
    first = reader.read(rows)
    assert first[0] == [1200.5, None, 3.0] and set(first[1]) == {1}
    first[0][0] = "changed by its caller"
    parsed = len(calls)
    assert parsed >= 2
    again = reader.read(rows)
    assert len(calls) == parsed  # no cell parsed again
    assert again[0] == [1200.5, None, 3.0] and again[1] == first[1]
    reader._cache.clear()
    reader.read([list(r) for r in rows])  # equal rows, another batch: read
    assert len(calls) == 2 * parsed
