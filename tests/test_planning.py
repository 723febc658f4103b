"""The planner: each entity once, no redundant request, dependency order, every row accounted for."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from importer.plan import Planner
from importer.validate.rows import FieldError, RowVerdict

PIPE = "00000000-0000-4000-8000-000000000001"


def contact_row(row, email, first=None, domain=None, *, account=True):
    domain = domain or email.split("@")[1]
    verdict = RowVerdict(row, domain=domain, email=email)
    verdict.contact = {"email": email, **({"first_name": first} if first else {})}
    if account:
        verdict.account = {"domain": domain}
    return verdict


def deal_row(row, domain, email, name, extra=()):
    verdict = RowVerdict(row, domain=domain, email=email)
    related = {"account_domain": domain, "primary_contact_email": email}
    if extra:
        related["additional_contact_emails"] = list(extra)
    verdict.opportunity = {
        "pipeline_id": PIPE,
        "opportunity": {"name": name},
        "related_objects": related,
    }
    return verdict


def plan_of(verdicts):
    planner = Planner(pipeline_id=PIPE)
    planner.add(verdicts)
    return planner, planner.finish()


def test_a_contact_create_covers_the_account_of_its_email_domain():
    _, plan = plan_of([contact_row(2, "jo@acme.com", "Jo"), contact_row(3, "al@acme.com", "Al")])
    assert [(r.endpoint, r.key) for r in plan.requests] == [
        ("contacts", "contact:jo@acme.com"),
        ("contacts", "contact:al@acme.com"),
    ]


def test_an_account_whose_domain_no_contact_covers_gets_its_own_create():
    _, plan = plan_of([contact_row(2, "jo@mail.acme.com", "Jo", domain="acme.com")])
    assert [r.key for r in plan.requests] == ["account:acme.com", "contact:jo@mail.acme.com"]
    assert plan.requests[0].rows == (2,)


def test_a_deal_covers_its_account_and_unnamed_contacts_but_not_named_ones():
    rows = [
        contact_row(2, "jo@acme.com", "Jo"),
        contact_row(3, "al@acme.com"),
        deal_row(2, "acme.com", "jo@acme.com", "Renewal", extra=["al@acme.com"]),
    ]
    _planner, plan = plan_of(rows)
    keys = [r.key for r in plan.requests]
    assert keys == ["contact:jo@acme.com", f"opportunity:{PIPE}:acme.com:renewal"]
    assert plan.requests[1].depends_on == ("contact:jo@acme.com",)


def test_the_same_row_twice_is_a_duplicate_sharing_its_requests():
    planner, plan = plan_of(
        [contact_row(2, "jo@acme.com", "Jo"), contact_row(3, "jo@acme.com", "Jo")]
    )
    first, second = planner.rows
    assert (first.status, second.status, second.duplicate_of) == ("would_import", "duplicate", 2)
    assert second.requests == first.requests == ("contact:jo@acme.com",)
    assert plan.requests[0].rows == (2, 3)


def test_conflicting_names_warn_and_the_first_value_is_sent():
    planner, plan = plan_of(
        [contact_row(2, "jo@acme.com", "Jo"), contact_row(5, "jo@acme.com", "Joanna")]
    )
    # Kept as a record, formatted when written.
    assert list(map(str, planner.rows[1].warnings or ())) == [
        "contact.first_name 'Joanna' differs from row 2's 'Jo'; row 2's value is sent"
    ]
    assert plan.requests[0].payload == {"email": "jo@acme.com", "first_name": "Jo"}


def test_a_later_row_fills_a_name_the_first_left_empty():
    _, plan = plan_of([contact_row(2, "jo@acme.com"), contact_row(3, "jo@acme.com", "Jo")])
    assert plan.requests[0].payload == {"email": "jo@acme.com", "first_name": "Jo"}


def test_the_same_deal_on_two_rows_is_one_request_with_both_contacts():
    rows = [
        deal_row(2, "acme.com", "jo@acme.com", "Renewal"),
        deal_row(3, "acme.com", "al@acme.com", "Renewal"),
    ]
    _planner, plan = plan_of(rows)
    assert len(plan.requests) == 1
    assert plan.requests[0].payload["related_objects"] == {
        "account_domain": "acme.com",
        "primary_contact_email": "jo@acme.com",
        "additional_contact_emails": ["al@acme.com"],
    }
    assert plan.requests[0].rows == (2, 3)


def test_a_note_depends_on_the_requests_that_ensure_its_links():
    verdict = contact_row(2, "jo@acme.com", "Jo")
    verdict.note = {
        "note": {"title": "Hi"},
        "account_domains": ["acme.com"],
        "contact_emails": ["jo@acme.com"],
    }
    _, plan = plan_of([verdict])
    note = plan.requests[-1]
    assert note.endpoint == "notes" and note.key.startswith("note:")
    assert note.depends_on == ("contact:jo@acme.com",)


def test_invalid_and_skipped_rows_plan_nothing_but_are_kept():
    bad = RowVerdict(2, errors=[FieldError("contact.email", "column 'Email'", "is empty")])
    skipped = RowVerdict(3, skipped="gmail.com is a personal email domain")
    planner, plan = plan_of([bad, skipped])
    assert plan.requests == []
    assert [(r.row, r.status) for r in planner.rows] == [(2, "invalid"), (3, "skipped")]
    assert planner.rows[0].message == "contact.email (column 'Email'): is empty"


# ---- properties ------------------------------------------------------------------

domains = st.sampled_from(["acme.com", "globex.io", "initech.co.uk", "umbrella.de"])
locals_ = st.sampled_from(["jo", "al", "sam", "kim"])
names = st.sampled_from([None, "Jo", "Al"])
deals = st.sampled_from([None, "Renewal", "Upsell"])


@st.composite
def verdicts(draw):
    rows = []
    for row in range(2, 2 + draw(st.integers(0, 25))):
        domain = draw(domains)
        # sometimes the address is at a subdomain: then no contact create covers the account
        host = draw(st.sampled_from([domain, domain, f"mail.{domain}"]))
        email = f"{draw(locals_)}@{host}"
        verdict = contact_row(row, email, draw(names), domain)
        deal = draw(deals)
        if deal:
            extra = draw(st.lists(locals_, max_size=2, unique=True))
            extra = [f"{e}@{domain}" for e in extra if f"{e}@{domain}" != email]
            verdict.opportunity = deal_row(row, domain, email, deal, extra).opportunity
        if draw(st.booleans()):
            verdict.note = {
                "note": {"title": "t"},
                "account_domains": [domain],
                "contact_emails": [email],
            }
        rows.append(verdict)
    return rows


def _rows_copy(rows):
    import copy

    return copy.deepcopy(rows)


@settings(max_examples=150, deadline=None)
@given(verdicts(), st.randoms())
def test_plan_invariants(rows, random):
    planner, plan = plan_of(_rows_copy(rows))
    keys = [r.key for r in plan.requests]
    # each entity planned at most once; each domain and email at most once per endpoint
    assert len(keys) == len(set(keys))
    emails = [r.payload["email"] for r in plan.requests if r.endpoint == "contacts"]
    assert len(emails) == len(set(emails))
    # every input row exactly once, in input order
    assert [r.row for r in planner.rows] == [v.row for v in rows]
    # dependencies come earlier in the plan
    position = {k: i for i, k in enumerate(keys)}
    for i, request in enumerate(plan.requests):
        assert all(position[d] < i for d in request.depends_on)
    # every entity a row feeds is ensured by a planned request, and a request's
    # rows are exactly the rows that depend on it
    for row in planner.rows:
        assert set(row.requests) <= set(keys)
    by_row = {r.row: r for r in planner.rows}
    for request in plan.requests:
        assert set(request.rows) == {r.row for r in planner.rows if request.key in r.requests}
        # a request waits only for requests its own rows depend on anyway, or (a deal)
        # for the creates of the named contacts its own payload lists
        own = set().union(*(by_row[r].requests for r in request.rows))
        if request.endpoint == "opportunities":
            related = request.payload["related_objects"]
            emails = [
                related["primary_contact_email"],
                *related.get("additional_contact_emails", []),
            ]
            own |= {f"contact:{e}" for e in emails}
        assert set(request.depends_on) <= own
    # the set of requests does not depend on row order
    shuffled = _rows_copy(rows)
    random.shuffle(shuffled)
    _, plan2 = plan_of(shuffled)
    assert sorted((r.endpoint, r.key) for r in plan2.requests) == sorted(
        (r.endpoint, r.key) for r in plan.requests
    )


def test_a_row_depends_on_its_own_contact_not_on_another_rows():
    # Both contacts' creates ensure acme.com; each row must depend only on its own.
    planner, plan = plan_of(
        [contact_row(2, "jo@acme.com", "Jo"), contact_row(3, "al@acme.com", "Al")]
    )
    assert planner.rows[0].requests == ("contact:jo@acme.com",)
    assert planner.rows[1].requests == ("contact:al@acme.com",)
    assert [r.rows for r in plan.requests] == [(2,), (3,)]


def test_a_deal_conflict_is_kept_as_data_and_shows_dates_as_dates() -> None:
    """Most rows of a deal-heavy file carry one: a small record, formatted when written."""
    from importer.plan import Mismatch

    day = 1_699_920_000_000  # 2023-11-14, midnight UTC
    first, later = (
        deal_row(2, "acme.com", None, "Renewal"),
        deal_row(3, "acme.com", None, "Renewal"),
    )
    first.opportunity["opportunity"].update(close_date=day, deal_size=10.0)
    later.opportunity["opportunity"].update(close_date=day + 86_400_000, deal_size=5.0)
    planner = Planner(pipeline_id=PIPE)
    planner.add([first, later])
    warnings = planner.rows[1].warnings or []
    assert [type(w) for w in warnings] == [Mismatch, Mismatch]
    assert [str(w) for w in warnings] == [
        "opportunity.close_date '2023-11-15' differs from row 2's '2023-11-14'; row 2's value is sent",
        "opportunity.deal_size 5.0 differs from row 2's 10.0; row 2's value is sent",
    ]


def test_a_row_is_a_duplicate_only_of_a_row_with_the_same_records():
    # Rows remember their identity on their last record; the other combinations of the
    # same records are told apart all the same.
    rows = [
        contact_row(2, "jo@acme.com", domain="acme.com"),
        contact_row(3, "jo@acme.com", domain="beta.com"),
        contact_row(4, "jo@acme.com", domain="acme.com"),
        contact_row(5, "jo@acme.com", account=False),
        contact_row(6, "jo@acme.com", domain="beta.com"),
        contact_row(7, "jo@acme.com", account=False),
        deal_row(8, "acme.com", "jo@acme.com", "Renewal"),
        deal_row(9, "acme.com", "jo@acme.com", "Renewal"),
    ]
    planner = Planner(pipeline_id=PIPE)
    plans = planner.add(rows)
    assert [(p.row, p.duplicate_of) for p in plans] == [
        (2, None), (3, None), (4, 2), (5, None), (6, 3), (7, 5), (8, None), (9, 8),
    ]  # fmt: skip
    assert [p.status for p in plans].count("duplicate") == 4
    assert planner.distinct() == {"accounts": 2, "contacts": 1, "opportunities": 1, "notes": 0}


def test_a_contact_kept_compactly_comes_back_whole_with_later_rows_filling_it():
    planner = Planner(pipeline_id=PIPE, keep_rows=False)
    first = RowVerdict(2, domain="acme.com", email="jo@acme.com")
    first.contact = {"email": "jo@acme.com", "last_name": "Li"}
    later = RowVerdict(3, domain="acme.com", email="jo@acme.com")
    later.contact = {"email": "jo@acme.com", "first_name": "Jo", "last_name": "Lee", "phone": "1"}
    plans = planner.add([first, later])
    # what row 3 fills in is said as well as what it disagrees on: "Jo Li" is no row's name
    assert [str(w) for w in plans[1].warnings] == [
        "contact.first_name 'Jo' fills in row 2's empty value: it is sent with row 2's record",
        "contact.last_name 'Lee' differs from row 2's 'Li'; row 2's value is sent",
        "contact.phone '1' fills in row 2's empty value: it is sent with row 2's record",
    ]
    assert plans[1].entities == ("contact:jo@acme.com",)  # built for the row, not kept
    (request,) = planner.finish(resolve_rows=False).requests
    assert request.payload == {
        "email": "jo@acme.com", "first_name": "Jo", "last_name": "Li", "phone": "1",
    }  # fmt: skip
    assert list(request.payload) == ["email", "first_name", "last_name", "phone"]


def test_a_mismatch_reads_the_same_whether_its_sent_value_was_formatted_before_or_not():
    from importer.plan import Mismatch, _shown

    def expected(field, value, first, sent):
        return (
            f"{field} {_shown(field, value)} differs from row {first}'s"
            f" {_shown(field, sent)}; row {first}'s value is sent"
        )

    cases = [
        ("opportunity.deal_size", 229510.85, 41, 78159.29),
        ("opportunity.deal_size", 1.0, 41, -0.0),
        ("opportunity.deal_size", 1.0, 41, 0.0),
        ("opportunity.deal_size", 1.0, 42, 5),
        ("opportunity.deal_size", 1.0, 42, 5.0),  # equal to 5, and read differently
        ("opportunity.deal_size", 2.0, 42, True),
        ("opportunity.close_date", 1738886400000, 41, 1704412800000),
        ("opportunity.close_date", 1738886400000, 41, 0),
        ("opportunity.custom_attributes", {"a": 1}, 3, {"a": 2}),  # unhashable
        ("contact.first_name", "Ines", 41, "Ivan"),
        ("contact.first_name", "Ines", 41, ""),
    ]
    for _ in range(2):  # the second time, from the texts kept
        for case in cases:
            assert str(Mismatch(*case)) == expected(*case)


def test_two_names_of_one_company_are_said_only_where_names_are_sent():
    """Two rows name one domain's company differently: on the public API (names sent)
    the later row says whose name is sent; on Inbound, which sends no name, neither is."""

    def company(row, name):
        verdict = RowVerdict(row, domain="ing.com")
        verdict.account = {"domain": "ing.com", "name": name}
        return verdict

    for names_sent in (True, False):
        planner = Planner(pipeline_id=PIPE, account_names=names_sent)
        first, later = planner.add([company(2, "ING Bank N.V."), company(3, "ING Netherlands")])
        said = [str(w) for w in later.warnings or ()]
        assert later.status == "duplicate" and first.warnings is None
        if names_sent:
            assert said == [
                "account.name 'ING Netherlands' differs from row 2's 'ING Bank N.V.';"
                " row 2's value is sent"
            ]
        else:
            assert said == []


def _covered_as_specified(planner: Planner) -> dict:
    """What the planner's ``_covered`` answers, read the plain way (the rule, not fast):
    a contact with no name is covered by the first deal naming it; an account by the
    first contact of its domain not so covered, else by the first deal at it."""
    deal_emails: dict = {}
    deal_domains: dict = {}
    for deal in planner._deals.values():
        related = deal.payload["related_objects"]
        for email in (
            related.get("primary_contact_email"),
            *related.get("additional_contact_emails", ()),
        ):
            if email:
                deal_emails.setdefault(email, deal.ident)
        if related.get("account_domain"):
            deal_domains.setdefault(related["account_domain"], deal.ident)
    covered, first_contact = {}, {}
    for email, entity in planner._contacts.items():
        by = None if entity.payload else deal_emails.get(email)
        if by is not None:
            covered[entity] = by
        else:
            first_contact.setdefault(email.rpartition("@")[2], entity)
    for domain, entity in planner._accounts.items():
        contact = first_contact.get(domain)
        by = "contact:" + contact.ident if contact else deal_domains.get(domain)
        if by is not None:
            covered[entity] = by
    return covered


_emails = st.sampled_from([f"{p}@{d}" for p in "abc" for d in ("x.com", "y.com", "z.com")])


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.tuples(st.just("contact"), _emails, st.sampled_from([None, "Jo"])),
            st.tuples(
                st.just("deal"),
                st.sampled_from(["x.com", "y.com", "w.com"]),
                st.one_of(st.none(), _emails),
                st.lists(_emails, max_size=2),
            ),
        ),
        max_size=14,
    )
)
def test_covered_records_and_deal_people_follow_their_rules(rows):
    verdicts = []
    for i, row in enumerate(rows, start=2):
        if row[0] == "contact":
            verdicts.append(contact_row(i, row[1], row[2]))
        else:
            _, domain, email, extra = row
            verdicts.append(deal_row(i, domain, email, "Renewal", extra=extra))
            if email is None:
                del verdicts[-1].opportunity["related_objects"]["primary_contact_email"]
    planner = Planner(pipeline_id=PIPE)
    planner.add(verdicts)
    assert planner._covered() == _covered_as_specified(planner)
    linked = {
        email
        for deal in planner._deals.values()
        for email in (
            deal.payload["related_objects"].get("primary_contact_email"),
            *deal.payload["related_objects"].get("additional_contact_emails", ()),
        )
        if email
    }
    assert planner.deal_people() == linked - set(planner._contacts)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["x.com", "y.com"]),
            st.sampled_from(["a", "b", "c", None]),
            st.sampled_from(["Renewal", "New", None]),
        ),
        max_size=16,
    )
)
def test_a_row_is_a_duplicate_of_the_first_row_with_its_records(rows):
    """However a row's identity is kept (on its last record, on the record it brought
    first, or in the table of the others), duplicate_of is the first row whose records
    are the same ones."""
    verdicts = []
    for i, (domain, person, deal) in enumerate(rows, start=2):
        email = f"{person}@{domain}" if person else None
        verdict = deal_row(i, domain, email, deal) if deal else RowVerdict(i, domain=domain)
        if not deal:
            verdict.email = email
        verdict.account = {"domain": domain}
        if email:
            verdict.contact = {"email": email}
        elif deal:
            del verdict.opportunity["related_objects"]["primary_contact_email"]
        verdicts.append(verdict)
    planner = Planner(pipeline_id=PIPE)
    plans = planner.add(verdicts)
    first_with: dict = {}
    for plan in plans:
        first = first_with.setdefault(plan.entities, plan.row)
        assert plan.duplicate_of == (None if first == plan.row else first), plan.entities
