"""A record Octolane holds already keeps its own values: the row says which, and what
the file had, instead of a bare `imported` (through real HTTP into the sandbox)."""

from __future__ import annotations

from test_import_e2e import inspect, results_of, settings, write

from importer.run import run_import
from importer.sandbox import running_sandbox

DEALS = "options:\n  pipeline_id: {pid}\naccount:\n  domain: Website\nopportunity:\n  name: Deal\n  deal_size: Amount\n"


def _rows(path):
    return {r["row"]: r for r in results_of(path)}


def test_an_existing_contact_and_deal_keep_their_values_and_the_rows_say_so(tmp_path):
    first = write(
        tmp_path / "a.csv",
        "Record ID,First Name,Last Name,Email\n1,Ann,Lee,ann@acme.com\n3,Cy,,cy@acme.com\n",
    )
    again = write(
        tmp_path / "b.csv",
        "Record ID,First Name,Last Name,Email\n1,Anna,Leigh,ann@acme.com\n2,Bo,Ng,bo@acme.com\n"
        "3,Cy,Lo,cy@acme.com\n",
    )
    with running_sandbox() as box:
        options = {"settings": settings(box)}
        run_import(first, "hubspot", results_path=tmp_path / "r1.csv", **options)
        run_import(again, "hubspot", results_path=tmp_path / "r2.csv", **options)
        mapping = write(tmp_path / "m.yaml", DEALS.format(pid=box.pipeline_id))
        deal = "Website,Deal,Amount\nacme.com,Renewal,{}\n"
        run_import(write(tmp_path / "d1.csv", deal.format(100)), mapping,
                   results_path=tmp_path / "r3.csv", **options)  # fmt: skip
        run_import(write(tmp_path / "d2.csv", deal.format(250)), mapping,
                   results_path=tmp_path / "r4.csv", **options)  # fmt: skip
        people = {c["email"]: c for c in inspect(box, "contacts")}
        (stored,) = inspect(box, "opportunities")
    assert people["ann@acme.com"]["first_name"] == "Ann"  # what the sandbox keeps
    rows = _rows(tmp_path / "r2.csv")
    assert rows["2"]["status"] == "imported"
    assert rows["2"]["message"] == (
        "contacts: already in Octolane with other values, which it keeps: first_name 'Ann'"
        " (this file: 'Anna'), last_name 'Lee' (this file: 'Leigh')"
    )
    assert rows["3"]["message"] == ""  # a new contact: nothing to say
    # a value the stored record lacks is not filled in by the create either: said too
    assert rows["4"]["message"] == (
        "contacts: already in Octolane with other values, which it keeps: last_name empty"
        " (this file: 'Lo')"
    )
    assert stored["amount"] == 100
    assert (
        "opportunity.deal_size 100.0 (this file: 250.0)"
        in _rows(tmp_path / "r4.csv")["2"]["message"]
    )


def test_a_resolved_account_of_the_public_api_says_its_name_may_be_octolanes(tmp_path):
    people = write(
        tmp_path / "a.csv", "Record ID,First Name,Last Name,Email\n1,Ann,Lee,ann@acme.com\n"
    )
    companies = write(
        tmp_path / "c.csv",
        "Record ID,Company name,Company Domain Name,Website URL\n10,Acme Corporation,acme.com,\n",
    )
    with running_sandbox() as box:
        run_import(people, "hubspot", results_path=tmp_path / "r1.csv", settings=settings(box))
        run_import(
            companies, "hubspot-companies", results_path=tmp_path / "r2.csv",
            settings=settings(box, api="public"),
        )  # fmt: skip
    row = _rows(tmp_path / "r2.csv")["2"]
    assert row["status"] == "imported"
    assert "already in Octolane (the answer says 'resolved')" in row["message"]
    assert "may keep its own name rather than this file's" in row["message"]
