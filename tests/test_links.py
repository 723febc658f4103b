"""Deals linked across export files: --with companies, contacts and contact roles."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from preset_cases import own_stages, stages_named
from test_import_e2e import inspect, settings, write

from importer.cli import cli
from importer.errors import MappingError, UsageError
from importer.map.stages import PipelineStage
from importer.run import run_import
from importer.sandbox import running_sandbox

DEALS = """
"Record ID","Deal Name","Deal Stage","Amount","Associated Contact","Associated Company IDs","Associated Contact IDs"
"9001","Northwind renewal","Closed won","1200.0","","7001","5001;5002"
"9002","Harbour pilot","Closed won","300.0","","7002","5003"
"9003","Ghost deal","Closed won","50.0","","7999",""
"9004","Solo deal","Closed won","80.0","","",""
"""
COMPANIES = """
"Record ID","Company name","Company Domain Name","Website URL"
"7001","Northwind","northwind-logistics.com",""
"7002","Harbour & Vale","","https://www.harbourvale.co.uk/"
"""
CONTACTS = """
"Record ID","First Name","Last Name","Email"
"5001","Ingrid","Haddad","ingrid@northwind-logistics.com"
"5002","Tom","Berg","tom@northwind-logistics.com"
"5003","Hannah","Rossi","hannah@harbourvale.co.uk"
"""


def results_of(path: Path) -> dict[str, dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return {row["row"]: row for row in csv.DictReader(handle)}


def hubspot_files(tmp_path: Path) -> tuple[Path, Path, Path]:
    return (
        write(tmp_path / "deals.csv", DEALS),
        write(tmp_path / "hubspot-companies.csv", COMPANIES),
        write(tmp_path / "hubspot-contacts.csv", CONTACTS),
    )


def test_hubspot_deals_get_their_companies_and_contacts_through_the_sandbox(tmp_path):
    deals, companies, contacts = hubspot_files(tmp_path)
    with running_sandbox() as box:
        env = {"OCTOLANE_API_KEY": box.api_key, "OCTOLANE_BASE_URL": box.base_url}
        args = [
            str(deals), "--mapping", "hubspot-deals", "--pipeline-id", box.pipeline_id,
            "--with", str(companies), "--with", f"contacts={contacts}",
            "--out", str(tmp_path / "r.csv"), "--failures", str(tmp_path / "f.csv"),
            "--requests", str(tmp_path / "q.jsonl"), "--quiet",
        ]  # fmt: skip
        result = CliRunner().invoke(cli, args, env=env)
        landed = {d["name"]: d for d in inspect(box, "opportunities")}
        people = {c["email"]: c for c in inspect(box, "contacts")}
    assert result.exit_code == 0, result.output
    assert landed["Northwind renewal"]["account_domain"] == "northwind-logistics.com"
    assert landed["Harbour pilot"]["account_domain"] == "harbourvale.co.uk"
    assert not landed["Solo deal"]["account_domain"]
    assert people["ingrid@northwind-logistics.com"]["first_name"] == "Ingrid"
    assert people["hannah@harbourvale.co.uk"]["last_name"] == "Rossi"
    bodies = {
        json.loads(line)["body"]["opportunity"]["name"]: json.loads(line)["body"]
        for line in (tmp_path / "q.jsonl").read_text(encoding="utf-8").splitlines()
        if json.loads(line)["endpoint"] == "opportunities"
    }
    related = bodies["Northwind renewal"]["related_objects"]
    assert related["primary_contact_email"] == "ingrid@northwind-logistics.com"
    assert related["additional_contact_emails"] == ["tom@northwind-logistics.com"]
    rows = results_of(tmp_path / "r.csv")
    # a key that points to no record is said on its row, with the key
    assert (
        "link company: Associated Company IDs '7999' is in no row of hubspot-companies.csv"
        in (rows["4"]["warnings"])
    )
    # A deal's other contacts are sent by e-mail only: the names the file gives them are
    # not, and the row says whose (the contacts export imported with its preset names them).
    assert not people["tom@northwind-logistics.com"].get("first_name")
    assert rows["2"]["warnings"] == (
        "link contacts: the deal sends its other linked people by Email alone, without their"
        " First Name and Last Name (tom@northwind-logistics.com: Tom Berg): they get them only"
        " where a row of their own, or hubspot-contacts.csv imported with its own preset,"
        " sends them"
    )
    assert "link contacts" not in rows["3"]["warnings"]  # one contact: nothing left out


def test_a_linked_file_needs_only_the_key_and_the_column_the_link_is_for(tmp_path):
    """A companies export saved without "Website URL" (the real schools export) still links
    by its "Company Domain Name"; it used to be refused as fitting no link."""
    deals, _, contacts = hubspot_files(tmp_path)
    companies = write(
        tmp_path / "hubspot-companies.csv",
        '"Record ID","Company Domain Name"\n"7001","northwind-logistics.com"\n',
    )
    out = tmp_path / "r.csv"
    report = run_import(
        deals, "hubspot-deals", dry_run=True, results_path=out, links=[companies, contacts],
        pipeline_id="00000000-0000-4000-8000-000000000001",
        stages=stages_named("Closed won"),
    )  # fmt: skip
    assert results_of(out)["2"]["domain"] == "northwind-logistics.com"
    assert (
        "link company: hubspot-companies.csv has no column 'Website URL'; it reads as empty"
        in report.mapping_warnings
    )
    # a column the link does not mark optional is still needed: Tasks' lead link wants a
    # Website, so a Contact export is not taken for the Lead export
    task = write(tmp_path / "Task.csv", "Id,Subject,Description,WhoId,AccountId\n"
                 "00T2,Call,hello,00QB,000000000000000AAA\n")  # fmt: skip
    people = write(tmp_path / "Contact.csv", "Id,Email,AccountId\n003A,jo@acme.com,\n")
    report = run_import(task, "salesforce-tasks", dry_run=True, links=[people],
                        results_path=tmp_path / "t.csv")  # fmt: skip
    assert any(w.startswith("link lead: no --with file") for w in report.mapping_warnings)


def test_a_linked_company_with_only_a_website_links_by_it(tmp_path):
    """A company whose "Company Domain Name" is empty links by its "Website URL" (the
    fallback column): it used to be dropped, and its deals and notes were invalid."""
    deals, _, contacts = hubspot_files(tmp_path)
    companies = write(
        tmp_path / "hubspot-companies.csv",
        '"Record ID","Company Domain Name","Website URL"\n'
        '"7001","","https://www.northwind-logistics.com/about"\n',
    )
    out = tmp_path / "r.csv"
    run_import(
        deals, "hubspot-deals", dry_run=True, results_path=out, links=[companies, contacts],
        pipeline_id="00000000-0000-4000-8000-000000000001",
        stages=stages_named("Closed won"),
    )  # fmt: skip
    assert results_of(out)["2"]["domain"] == "northwind-logistics.com"
    notes = write(
        tmp_path / "notes.csv",
        "Record ID,Activity date,Note body,Associated Company IDs\n"
        "2001,2024-03-08 11:00,Called about the renewal,7001\n",
    )
    run_import(notes, "hubspot-notes", dry_run=True, results_path=out, links=[companies])
    row = results_of(out)["2"]
    assert (row["status"], row["domain"]) == ("would_import", "northwind-logistics.com")


def test_a_uk_english_pipedrive_export_links_its_organisations(tmp_path):
    """Pipedrive writes "Organisation" for a UK-English account, in both files."""
    deals = write(
        tmp_path / "deals.csv",
        '"Deal - ID","Deal - Title","Deal - Organisation","Deal - Value"\n'
        '"1","Press upgrade","Technifold Ltd","900"\n',
    )
    orgs = write(
        tmp_path / "organisations.csv",
        '"Organisation - Name","Organisation - Website"\n"Technifold Ltd","technifold.co.uk"\n',
    )
    out = tmp_path / "r.csv"
    run_import(
        deals, "pipedrive-deals", dry_run=True, results_path=out, links=[orgs],
        pipeline_id="00000000-0000-4000-8000-000000000001",
    )  # fmt: skip
    assert results_of(out)["2"]["domain"] == "technifold.co.uk"


def test_without_the_files_the_preset_says_so_once(tmp_path):
    deals, _, _ = hubspot_files(tmp_path)
    report = run_import(
        deals, "hubspot-deals", dry_run=True, pipeline_id="00000000-0000-4000-8000-000000000001",
        stages=stages_named(["Closed won"]),
    )  # fmt: skip
    assert any(w.startswith("link company: no --with file") for w in report.mapping_warnings)
    assert report.counts == {"would_import": 4}


MAPPING = """
opportunity:
  name: Deal
account:
  domain: {column: account.Website, required: false}
links:
  account:
    by: Account
    key: Account Name
    columns: [Website]
    match: name
"""


def test_a_name_two_records_carry_links_nothing_and_warns(tmp_path):
    deals = write(tmp_path / "deals.csv", "Deal,Account\nA,acme inc\nB,Beta\nC,Gamma\n")
    accounts = write(
        tmp_path / "accounts.csv",
        "Account Name,Website\nACME Inc,acme.com\nAcme  Inc,acme-corp.com\nBeta,beta.io\n",
    )
    report = run_import(
        deals, write(tmp_path / "m.yaml", MAPPING), dry_run=True, links=[accounts],
        pipeline_id="00000000-0000-4000-8000-000000000001", results_path=tmp_path / "r.csv",
    )  # fmt: skip
    rows = results_of(tmp_path / "r.csv")
    assert rows["2"]["domain"] == "" and rows["3"]["domain"] == "beta.io"
    assert (
        "'acme inc' matches 2 different rows of accounts.csv (Account Name)"
        in rows["2"]["warnings"]
    )
    assert "nothing was linked for it" in rows["2"]["warnings"]
    assert "'Gamma' is in no row of accounts.csv" in rows["4"]["warnings"]  # as written
    assert report.counts == {"would_import": 3}


def test_with_files_that_fit_no_link_or_no_mapping_are_refused(tmp_path):
    deals = write(tmp_path / "deals.csv", "Deal,Account\nA,acme\n")
    other = write(tmp_path / "other.csv", "Foo,Bar\n1,2\n")
    pid = "00000000-0000-4000-8000-000000000001"
    with pytest.raises(UsageError, match=r"no link of .* fits it"):
        run_import(deals, write(tmp_path / "m.yaml", MAPPING), dry_run=True, links=[other],
                   pipeline_id=pid)  # fmt: skip
    with pytest.raises(UsageError, match="the mapping has no link 'company'"):
        run_import(deals, tmp_path / "m.yaml", dry_run=True, links=[f"company={other}"],
                   pipeline_id=pid)  # fmt: skip
    plain = write(tmp_path / "p.yaml", "opportunity:\n  name: Deal\n")
    with pytest.raises(UsageError, match="declares no links"):
        run_import(deals, plain, dry_run=True, links=[other], pipeline_id=pid)
    later = MAPPING + "  first:\n    by: account.Website\n    key: x\n    columns: [y]\n"
    broken = later.replace("by: Account\n", "by: first.y\n")
    with pytest.raises(MappingError, match="comes later"):
        run_import(deals, write(tmp_path / "b.yaml", broken), dry_run=True, pipeline_id=pid)


REAL = Path(__file__).resolve().parents[2] / "shared" / "real-exports" / "salesforce"


@pytest.mark.skipif(not REAL.exists(), reason="the shared real exports are absent")
def test_salesforce_opportunities_link_to_accounts_and_contact_roles(tmp_path):
    opportunities = REAL / "data-export-Opportunity.csv"
    files = [
        REAL / f"data-export-{n}.csv" for n in ("Account", "Contact", "OpportunityContactRole")
    ]
    report = run_import(
        opportunities, "salesforce-opportunities", dry_run=True, links=files,
        pipeline_id="00000000-0000-4000-8000-000000000001",
        stages=own_stages(opportunities, "salesforce-opportunities"),
        requests_path=tmp_path / "q.jsonl", results_path=tmp_path / "r.csv",
    )  # fmt: skip
    linked = with_contact = 0
    for line in (tmp_path / "q.jsonl").read_text(encoding="utf-8").splitlines():
        request = json.loads(line)
        if request["endpoint"] == "opportunities":
            related = request["body"]["related_objects"]
            linked += len(request["rows"]) * bool(related.get("account_domain"))
            with_contact += len(request["rows"]) * bool(related.get("primary_contact_email"))
    # SOURCES.md: 78 of the 512 deals have an account with a website (79 rows: one repeats)
    assert linked >= 78 and with_contact == 2
    assert report.distinct["accounts"] > 0 and report.rows_read == 512
    assert not [w for w in report.mapping_warnings if w.startswith("link ")]


FIXTURES = Path(__file__).resolve().parent / "fixtures" / "exports"


@pytest.mark.parametrize(
    ("preset", "deals", "others"),
    [
        ("zoho-deals", "zoho/deals.csv", ["zoho/accounts.csv", "zoho/contacts.csv"]),
        ("pipedrive-deals", "pipedrive/deals.csv", ["pipedrive/organizations.csv", "pipedrive/people.csv"]),
    ],
)  # fmt: skip
def test_every_link_of_a_preset_finds_its_file(preset, deals, others, tmp_path):
    report = run_import(
        FIXTURES / deals, preset, dry_run=True, links=[FIXTURES / o for o in others],
        pipeline_id="00000000-0000-4000-8000-000000000001",
        stages=own_stages(FIXTURES / deals, preset), results_path=tmp_path / "r.csv",
    )  # fmt: skip
    assert not [w for w in report.mapping_warnings if w.startswith("link ")]
    assert report.rows_read > 0


def test_salesforce_tasks_become_notes_on_their_contacts(tmp_path):
    report = run_import(
        FIXTURES / "salesforce/Task.csv", "salesforce-tasks", dry_run=True,
        links=[FIXTURES / "salesforce/Contact.csv"], results_path=tmp_path / "r.csv",
        requests_path=tmp_path / "q.jsonl",
    )  # fmt: skip
    rows = results_of(tmp_path / "r.csv")
    # row 7 (the sixth task) has Salesforce's empty reference: nobody to attach it to
    assert rows["7"]["status"] == "invalid"
    assert report.counts["would_import"] >= 9
    notes = [
        json.loads(line)["body"]
        for line in (tmp_path / "q.jsonl").read_text(encoding="utf-8").splitlines()
        if json.loads(line)["endpoint"] == "notes"
    ]
    assert notes and all(n.get("contact_emails") or n.get("account_domains") for n in notes)
    # the empty reference and the other links' files are no broken keys
    assert not [r for r in rows.values() if "is in no row" in r["warnings"]]


def test_a_task_note_keeps_its_status_priority_due_date_and_paragraphs(tmp_path):
    """An Octolane note has no date or status: the task's go into its text, so two
    follow-ups with one subject and text on other days stay two notes, and a description's
    paragraphs are kept (a template collapses spaces within lines only)."""
    task = write(
        tmp_path / "Task.csv",
        "Id,WhoId,Subject,ActivityDate,Status,Priority,Description,AccountId\n"
        '00T1,003A,Follow up,2023-02-23,Completed,Normal,"Sent   the quote.\n\n\n\nCall back",\n'
        '00T2,003A,Follow up,2023-03-02,Open,High,"Sent   the quote.\n\n\n\nCall back",\n',
    )
    people = write(tmp_path / "Contact.csv", "Id,Email,AccountId\n003A,jo@acme.com,\n")
    report = run_import(task, "salesforce-tasks", dry_run=True, links=[people],
                        results_path=tmp_path / "r.csv", requests_path=tmp_path / "q.jsonl")  # fmt: skip
    assert report.counts == {"would_import": 2}
    notes = [
        json.loads(line)["body"]["note"]["content"]
        for line in (tmp_path / "q.jsonl").read_text(encoding="utf-8").splitlines()
        if json.loads(line)["endpoint"] == "notes"
    ]
    assert notes == [
        "Sent the quote.\n\nCall back\n\nSalesforce task: Completed, Normal priority, due 2023-02-23",
        "Sent the quote.\n\nCall back\n\nSalesforce task: Open, High priority, due 2023-03-02",
    ]


@pytest.mark.skipif(not REAL.exists(), reason="the shared real exports are absent")
def test_salesforce_real_tasks_link_to_contacts_leads_and_accounts(tmp_path):
    files = [REAL / f"data-export-{n}.csv" for n in ("Contact", "Lead", "Account")]
    report = run_import(
        REAL / "data-export-Task.csv", "salesforce-tasks", dry_run=True, links=files,
        results_path=tmp_path / "r.csv",
    )  # fmt: skip
    assert report.rows_read == 507
    assert report.counts["would_import"] + report.counts.get("duplicate", 0) >= 450
    assert report.distinct["notes"] >= 450


# ---- a whole export folder or zip ----------------------------------------------------


def test_a_salesforce_export_zip_imports_its_files_in_order_into_the_sandbox(tmp_path):
    import zipfile

    from importer.run import OctolaneTarget
    from importer.run.export import run_export

    archive = tmp_path / "WE_00D8a000000XXXX_1.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for name in ("Contact.csv", "Opportunity.csv", "Task.csv"):
            zipped.write(FIXTURES / "salesforce" / name, f"export/{name}")
        zipped.writestr("../evil/Lead.csv", "Id,Email,Website\n00Q1,x@evil.example,\n")
    with running_sandbox() as box:
        target = OctolaneTarget(settings(box))
        stages = own_stages(FIXTURES / "salesforce/Opportunity.csv", "salesforce-opportunities")
        report = run_export(
            archive, "salesforce-data-export", out_dir=tmp_path / "out", target=target,
            pipeline_id=box.pipeline_id, stages=stages,
        )  # fmt: skip
        notes = inspect(box, "notes")
        contacts = {c["email"] for c in inspect(box, "contacts")}
    names = [name for name, _ in report.parts]
    # accounts and people first, deals, then notes; the zip's "../evil" name lands nowhere
    assert names == ["Contact.csv", "Lead.csv", "Opportunity.csv", "Task.csv"]
    assert report.absent == ["Account.csv"]
    assert not (tmp_path / "evil").exists()
    for stem in ("Contact", "Opportunity", "Task"):
        assert (tmp_path / "out" / f"{stem}.results.csv").exists()
    task_report = dict(report.parts)["Task.csv"]
    assert task_report.counts.get("imported", 0) >= 9
    linked = [n for n in notes if n["contact_emails"]]
    assert linked and all(e in contacts for n in linked for e in n["contact_emails"])


def test_an_export_whose_deals_lack_a_pipeline_sends_nothing(tmp_path):
    # The deals part comes third: its missing pipeline must stop the export before the
    # contacts and leads before it are sent, not leave it half imported.
    from importer.run import OctolaneTarget
    from importer.run.export import run_export

    folder = tmp_path / "export"
    folder.mkdir()
    for name in ("Contact.csv", "Lead.csv", "Opportunity.csv", "Task.csv"):
        (folder / name).write_bytes((FIXTURES / "salesforce" / name).read_bytes())
    with running_sandbox() as box:
        target = OctolaneTarget(settings(box))
        with pytest.raises(UsageError, match=r"^Opportunity\.csv: .* maps deals, which need a"):
            run_export(folder, "salesforce-data-export", out_dir=tmp_path / "out", target=target)
        stats = inspect(box, "stats")
        contacts = inspect(box, "contacts")
    assert contacts == [] and not (tmp_path / "out" / "Contact.results.csv").exists()
    assert stats["total"] == 0, stats
    # the same export from the command line: exit 2, and the dry run says the same
    result = CliRunner().invoke(
        cli, [str(folder), "--mapping", "salesforce-data-export", "--dry-run",
              "--out", str(tmp_path / "dry")],
    )  # fmt: skip
    assert result.exit_code == 2
    assert "Opportunity.csv: " in result.output and "need a pipeline" in result.output
    assert not (tmp_path / "dry" / "Contact.results.csv").exists()


@pytest.mark.skipif(not REAL.exists(), reason="the shared real exports are absent")
def test_the_real_salesforce_export_folder_dry_runs_from_the_cli(tmp_path):
    import shutil

    # the shared folder also holds a Data Loader extract of Account: two exports in one
    # folder are refused (never guessed between), so the test takes the six of one export
    mixed = CliRunner().invoke(cli, [str(REAL), "--mapping", "salesforce-data-export", "--dry-run"])
    assert mixed.exit_code == 2 and "2 files could be the export's Account.csv" in mixed.output
    folder = tmp_path / "export"
    folder.mkdir()
    for path in REAL.glob("data-export-*.csv"):
        shutil.copy(path, folder / path.name)
    (folder / "._data-export-Account.csv").write_bytes(b"\x00\x05\x16\x07")  # macOS debris
    result = CliRunner().invoke(
        cli,
        [str(folder), "--mapping", "salesforce-data-export", "--dry-run", "--json",
         "--pipeline-id", "00000000-0000-4000-8000-000000000001", "--out", str(tmp_path / "o")],
    )  # fmt: skip
    data = json.loads(result.output)
    files = [Path(part["file"]).name for part in data["parts"]]
    assert files == [
        "data-export-Account.csv", "data-export-Contact.csv", "data-export-Lead.csv",
        "data-export-Opportunity.csv", "data-export-Task.csv",
    ]  # fmt: skip
    assert sum(data["counts"].values()) == 2002 + 96 + 35 + 512 + 507
    assert result.exit_code == data["exit_code"] == 1  # some rows are invalid


@pytest.mark.parametrize(
    ("extra", "said"),
    [
        (["--report", "r.html"], "--report is for one file"),
        (["--results-format", "xlsx"], "--results-format xlsx is for one file"),
    ],
)
def test_an_export_refuses_what_it_would_not_write(tmp_path, extra, said):
    """--report and --results-format xlsx were ignored for a folder without a word."""
    import shutil

    folder = tmp_path / "export"
    folder.mkdir()
    shutil.copy(FIXTURES / "salesforce" / "Contact.csv", folder / "Contact.csv")
    result = CliRunner().invoke(
        cli, [str(folder), "--mapping", "salesforce-data-export", "--dry-run", *extra]
    )
    assert result.exit_code == 2 and said in result.output, result.output


def test_an_export_into_the_sandbox_says_what_it_holds_once_after_the_last_file(tmp_path):
    """Each file's block printed the sandbox's final totals, as if that file had sent them."""
    import shutil

    folder = tmp_path / "export"
    folder.mkdir()
    for name in ("Contact.csv", "Lead.csv"):
        shutil.copy(FIXTURES / "salesforce" / name, folder / name)
    result = CliRunner().invoke(
        cli,
        [str(folder), "--mapping", "salesforce-data-export", "--sandbox",
         "--out", str(tmp_path / "o")],
    )  # fmt: skip
    assert result.output.count("in the sandbox now:") == 1, result.output
    last_block = result.output.split("Lead.csv:")[-1]
    assert "in the sandbox now:" in last_block


def test_a_folder_needs_an_export_preset(tmp_path):
    result = CliRunner().invoke(cli, [str(tmp_path), "--mapping", "hubspot", "--dry-run"])
    assert result.exit_code == 2 and "give an export preset" in result.output
    single = write(tmp_path / "a.csv", "Email\na@bc.com\n")
    result = CliRunner().invoke(cli, [str(single), "--mapping", "salesforce-data-export"])
    assert result.exit_code == 2 and "give its folder or .zip" in result.output


HUBSPOT = Path(__file__).parent / "fixtures" / "exports" / "hubspot"


def test_hubspot_notes_fixture_links_to_its_companies_and_contacts_through_the_sandbox(tmp_path):
    """The notes fixture's association ids are Record IDs of the companies and contacts
    fixtures: each note lands in Octolane linked to its company's domain and its
    contact's e-mail, as the linked records say (not the contact text of the notes file)."""
    with running_sandbox() as box:
        report = run_import(
            HUBSPOT / "notes.csv", "hubspot-notes", settings=settings(box),
            links=[HUBSPOT / "companies.csv", HUBSPOT / "contacts.csv"],
            results_path=tmp_path / "r.csv", requests_path=tmp_path / "q.jsonl",
        )  # fmt: skip
        notes = {n["note_id"]: n for n in inspect(box, "notes")}
        people = {c["email"]: c for c in inspect(box, "contacts")}
    assert report.counts == {"imported": 10, "partial": 1, "invalid": 1}
    assert len(notes) == 10
    links = {(tuple(n["account_domains"]), tuple(n["contact_emails"])) for n in notes.values()}
    assert (("oakridgecap.com",), ("priya.patel40@gmail.com",)) in links  # a linked company
    assert (("harbourvale.co.uk",), ("hannah.rossi@harbourvale.co.uk",)) in links  # by website
    assert (("kestrelrobotics.de",), ("liam.rossi@kestrelrobotics.de",)) in links
    # the contact's names come from the contacts file, not the notes file
    assert people["liam.rossi@kestrelrobotics.de"]["first_name"] == "Liam"
    rows = results_of(tmp_path / "r.csv")
    assert all("link company" not in rows[r]["warnings"] for r in ("2", "6", "13"))
    assert all("link contacts" not in rows[r]["warnings"] for r in ("2", "6", "13"))
    # a note whose company the links do not give goes under its contact's e-mail domain
    inferred = [r for r in rows.values() if r["warnings"].startswith("note: linked to ")]
    assert all(r["domain"] in r["warnings"] for r in inferred)


def test_a_note_with_several_linked_people_is_linked_to_each(tmp_path):
    """A HubSpot note about two contacts: linked to both by e-mail (it was linked to the
    first alone), and the row says the second's name goes only with its own import."""
    notes = write(
        tmp_path / "notes.csv",
        "Record ID,Activity date,Note body,Associated Contact IDs\n"
        "2001,2024-03-08 11:00,Met both,11;12\n",
    )
    people = write(
        tmp_path / "contacts.csv",
        "Record ID,Email,First Name,Last Name\n11,bob@globex.com,Bob,Li\n12,cy@globex.com,Cy,Fu\n",
    )
    out = tmp_path / "r.csv"
    dry = run_import(notes, "hubspot-notes", dry_run=True, results_path=out, links=[people])
    warnings = results_of(out)["2"]["warnings"]
    assert (
        "link contacts: the note sends its other linked people by Email alone, without their"
        " First Name and Last Name (cy@globex.com: Cy Fu)"
    ) in warnings
    assert "alone; the others" not in warnings
    with running_sandbox() as box:
        real = run_import(
            notes, "hubspot-notes", settings=settings(box), results_path=tmp_path / "real.csv",
            links=[people],
        )  # fmt: skip
        [note] = inspect(box, "notes")
    assert dry.counts == {"would_import": 1} and real.counts == {"imported": 1}
    assert sorted(note["contact_emails"]) == ["bob@globex.com", "cy@globex.com"]


def test_an_export_that_stops_names_the_files_not_started_and_how_to_continue(
    tmp_path, monkeypatch
):
    """The first file's import stops (the key is refused): the files after it are not
    hidden, and the same command is printed to continue."""
    import shutil

    folder = tmp_path / "export"
    folder.mkdir()
    for name in ("Contact.csv", "Lead.csv", "Task.csv"):
        shutil.copy(FIXTURES / "salesforce" / name, folder / name)
    with running_sandbox() as box:
        args = [str(folder), "--mapping", "salesforce-data-export", "--base-url", box.base_url,
                "--out", str(tmp_path / "o"), "--fresh"]  # fmt: skip
        monkeypatch.setattr("sys.argv", ["octolane-import", *args])  # what is printed back
        result = CliRunner().invoke(cli, args, env={"OCTOLANE_API_KEY": "not-the-key"})
        said = CliRunner().invoke(cli, [*args, "--json"], env={"OCTOLANE_API_KEY": "nope"})
    assert result.exit_code == 3, result.output
    assert "NOT STARTED (the import of Contact.csv stopped first): Lead.csv, Task.csv" in (
        result.output
    )
    assert "to continue the export, run the same command again:" in result.output
    command = result.output.split("run the same command again:")[1]
    assert "--base-url" in command and "--fresh" not in command  # it would start again
    assert "not-the-key" not in result.output
    data = json.loads(said.stdout)
    assert data["not_started"] == ["Lead.csv", "Task.csv"] and data["continue_with"]


def test_a_rerun_with_other_linked_files_says_which_differ(tmp_path):
    """The journal is refused, and the message names the --with files, not the input."""
    sf = FIXTURES / "salesforce"
    with running_sandbox() as box:
        common = {"settings": settings(box), "results_path": tmp_path / "r.csv"}
        first = run_import(
            sf / "Task.csv", "salesforce-tasks", links=[sf / "Contact.csv"], **common
        )
        assert first.journal_path is not None  # the path ran: a journal was kept
        assert first.counts.get("imported"), first.counts
        with pytest.raises(UsageError) as refused:
            run_import(
                sf / "Task.csv", "salesforce-tasks", links=[sf / "Contact.csv", sf / "Lead.csv"],
                **common,
            )  # fmt: skip
    said = str(refused.value)
    assert "the linked files (--with) differ: " in said and "Lead.csv was not given before" in said
    assert "has changed since" not in said


def test_a_linked_person_with_no_email_is_said_not_linked(tmp_path):
    """A deal linked to a contact record with no e-mail cannot link that person (the API
    links people by e-mail): it was dropped from the deal without a word."""
    deals = write(tmp_path / "deals.csv", DEALS.replace('"5001;5002"', '"5004;5002"'))
    companies = write(tmp_path / "hubspot-companies.csv", COMPANIES)
    contacts = write(tmp_path / "hubspot-contacts.csv",
                     CONTACTS + '"5004","Zed","Zulu",""\n')  # fmt: skip
    run_import(deals, "hubspot-deals", dry_run=True, results_path=tmp_path / "r.csv",
               pipeline_id="00000000-0000-4000-8000-000000000001",
               links=[companies, ("contacts", contacts)], requests_path=tmp_path / "q.jsonl")  # fmt: skip
    rows = results_of(tmp_path / "r.csv")
    assert (
        "link contacts: Zed Zulu has no Email in hubspot-contacts.csv (Record ID), so the deal"
        " is not linked to that person" in rows["2"]["warnings"]
    )
    sent = (tmp_path / "q.jsonl").read_text(encoding="utf-8")
    assert '"email":"tom@northwind-logistics.com"' in sent  # the other is linked as ever
    assert "Zed" not in sent


def test_a_contacts_export_without_one_of_a_deals_people_reads_the_deals_own_list(tmp_path):
    """A contacts export from a saved view may lack a deal's first contact: the people it
    has would make the second the deal's primary (and its company the deal's), and the
    first be lost. The row's own "Associated Contact" names them all, in order: it is read
    instead, and the row says why. A row whose own column is empty keeps what was found."""
    deals = write(tmp_path / "deals.csv", """
"Record ID","Deal Name","Deal Stage","Amount","Associated Contact","Associated Company IDs","Associated Contact IDs"
"9001","SFV renewal","Closed won","1200.0","Kevin Varga (kevin.v@sfvservices.com);Fabio Hansen (leon@wilshiremi.com)","","5001;5002"
"9002","Harbour pilot","Closed won","300.0","","","5001;5003"
""")  # fmt: skip
    contacts = write(tmp_path / "hubspot-contacts.csv", """
"Record ID","First Name","Last Name","Email"
"5002","Fabio","Hansen","leon@wilshiremi.com"
"5003","Hannah","Rossi","hannah@harbourvale.co.uk"
""")  # fmt: skip
    with running_sandbox() as box:
        report = run_import(
            deals, "hubspot-deals", settings=settings(box), pipeline_id=box.pipeline_id,
            results_path=tmp_path / "r.csv", links=[contacts],
        )  # fmt: skip
        landed = {d["name"]: d for d in inspect(box, "opportunities")}
        people = {c["email"]: c for c in inspect(box, "contacts")}
    assert report.counts == {"imported": 2}
    sfv = landed["SFV renewal"]
    assert sfv["account_domain"] == "sfvservices.com"  # not the second contact's company
    assert sfv["primary_contact_email"] == "kevin.v@sfvservices.com"
    assert people["kevin.v@sfvservices.com"]["first_name"] == "Kevin"
    rows = results_of(tmp_path / "r.csv")
    assert "its own column 'Associated Contact' is read instead" in rows["2"]["warnings"]
    # nothing to read instead: the people found are linked, and the missing key is said
    assert landed["Harbour pilot"]["primary_contact_email"] == "hannah@harbourvale.co.uk"
    assert "'5001' is in no row of hubspot-contacts.csv" in rows["3"]["warnings"]
    assert "read instead" not in rows["3"]["warnings"]


def test_a_deals_own_column_of_names_alone_does_not_replace_the_people_found(tmp_path):
    """The row's own "Associated Contact" stands in for the contacts file only where it
    gives addresses: names alone link nobody, so the people the file has are kept (the
    deal is filed with them), and a row whose only key is missing is worded for one."""
    deals = write(tmp_path / "deals.csv", """
"Record ID","Deal Name","Deal Stage","Amount","Associated Contact","Associated Company IDs","Associated Contact IDs"
"9001","SFV renewal","Closed won","1200.0","Kevin Varga;Fabio Hansen","","5001;5002"
"9002","Solo deal","Closed won","300.0","Hannah Rossi (hannah@harbourvale.co.uk)","","5009"
""")  # fmt: skip
    contacts = write(tmp_path / "hubspot-contacts.csv", """
"Record ID","First Name","Last Name","Email"
"5002","Fabio","Hansen","leon@wilshiremi.com"
""")  # fmt: skip
    run_import(
        deals, "hubspot-deals", dry_run=True, pipeline_id="00000000-0000-4000-8000-000000000001",
        results_path=tmp_path / "r.csv", requests_path=tmp_path / "q.jsonl", links=[contacts],
        stages=(PipelineStage("00000000-0000-4000-8000-0000000000aa", "Closed won", 1),),
    )  # fmt: skip
    rows = results_of(tmp_path / "r.csv")
    assert "read instead" not in rows["2"]["warnings"]
    assert "'5001' is in no row of hubspot-contacts.csv" in rows["2"]["warnings"]
    sent = [json.loads(line)["body"] for line in (tmp_path / "q.jsonl").read_text().splitlines()]
    deal = next(b for b in sent if b.get("opportunity", {}).get("name") == "SFV renewal")
    assert deal["related_objects"]["primary_contact_email"] == "leon@wilshiremi.com"
    solo = rows["3"]["warnings"]
    assert "'5009' is in no row of" in solo and "its own column 'Associated Contact'" in solo
    assert "a later one would come first" not in solo  # it has no other people
    solo_deal = next(b for b in sent if b.get("opportunity", {}).get("name") == "Solo deal")
    assert solo_deal["related_objects"]["primary_contact_email"] == "hannah@harbourvale.co.uk"


def test_salesforce_ids_link_in_their_15_and_18_character_forms_through_the_sandbox(tmp_path):
    """A report's 15-character AccountId is Data Export's 18-character Account.Id, and an
    18-character id whose case a spreadsheet changed is still the same record."""
    from importer.validate.links import salesforce_id

    account, other = "0018a000020sAbC", "0018a000020sabc"  # two records: case tells them apart
    contact = "0038a000037JxYz"
    assert salesforce_id(account) != salesforce_id(other)
    opportunities = write(
        tmp_path / "Opportunity.csv",
        '"Id","AccountId","Name","StageName","Amount","CloseDate"\n'
        f'"0068a00001JMUl0","{account}","Kestrel renewal","Closed Won","100","2025-01-02"\n'
        f'"0068a00001JMUl1","{other}","Brightpath pilot","Closed Won","200","2025-01-03"\n'
        '"0068a00001JMUl2","0018a000020sZzZ","Lost deal","Closed Won","300","2025-01-04"\n',
    )
    accounts = write(
        tmp_path / "Account.csv",
        '"Id","Name","Website"\n'
        f'"{salesforce_id(account)}","Kestrel","kestrelrobotics.de"\n'
        f'"{salesforce_id(other)}","Brightpath","brightpath.io"\n',
    )
    roles = write(
        tmp_path / "OpportunityContactRole.csv",
        '"Id","OpportunityId","ContactId"\n'
        f'"00K8a00000YCF80EAH","{salesforce_id("0068a00001JMUl0").upper()}",'
        f'"{salesforce_id(contact).lower()}"\n',
    )
    contacts = write(
        tmp_path / "Contact.csv",
        '"Id","FirstName","LastName","Email"\n'
        f'"{salesforce_id(contact)}","Mei","Garcia","mei.garcia@kestrelrobotics.de"\n',
    )
    with running_sandbox() as box:
        env = {"OCTOLANE_API_KEY": box.api_key, "OCTOLANE_BASE_URL": box.base_url}
        args = [
            str(opportunities), "--mapping", "salesforce-opportunities",
            "--pipeline-id", box.pipeline_id,
            *(a for f in (accounts, roles, contacts) for a in ("--with", str(f))),
            "--out", str(tmp_path / "r.csv"), "--quiet",
        ]  # fmt: skip
        result = CliRunner().invoke(cli, args, env=env)
        landed = {d["name"]: d for d in inspect(box, "opportunities")}
    assert result.exit_code == 0, result.output
    assert landed["Kestrel renewal"]["account_domain"] == "kestrelrobotics.de"
    assert landed["Kestrel renewal"]["primary_contact_email"] == "mei.garcia@kestrelrobotics.de"
    assert landed["Brightpath pilot"]["account_domain"] == "brightpath.io"
    rows = results_of(tmp_path / "r.csv")
    assert not rows["2"]["warnings"] and not rows["3"]["warnings"]
    # a key that points to no record is quoted as the file writes it
    assert "AccountId '0018a000020sZzZ' is in no row of Account.csv" in rows["4"]["warnings"]


def test_a_deal_takes_its_primary_company_and_its_primary_contact_role_first(tmp_path):
    """HubSpot's 'Associated Company IDs (Primary)' and Salesforce's contact role
    'IsPrimary' say which linked record is the deal's own: not the file's first."""
    deals = write(
        tmp_path / "deals.csv",
        '"Record ID","Deal Name","Associated Company IDs","Associated Company IDs (Primary)"\n'
        '"101","Alpha","11;12","12"\n'
        '"102","Beta","11;12",""\n',
    )
    companies = write(
        tmp_path / "hubspot-companies.csv",
        '"Record ID","Company name","Company Domain Name"\n'
        '"11","Other Co","otherco.com"\n"12","Primary Co","primaryco.com"\n',
    )
    report = run_import(
        deals, "hubspot-deals", dry_run=True, links=[companies], stages=(),
        pipeline_id="00000000-0000-4000-8000-000000000001", results_path=tmp_path / "r.csv",
    )  # fmt: skip
    rows = results_of(tmp_path / "r.csv")
    assert rows["2"]["domain"] == "primaryco.com"  # the primary, said beside the other
    assert "the row names 2 companies (primaryco.com, otherco.com)" in rows["2"]["warnings"]
    assert rows["3"]["domain"] == "otherco.com"  # no primary named: the file's order
    assert report.rows_read == 2

    from importer.validate.links import salesforce_id

    opportunity = "0068a00001JMUl0"
    files = {
        "Opportunity.csv": '"Id","Name","Amount","CloseDate"\n'
        f'"{opportunity}","O1","100","2025-01-01"\n',
        "Contact.csv": '"Id","Email","FirstName","LastName"\n'
        '"0038a000037J0ggAAC","consult@partnerfirm.com","Pat","Partner"\n'
        '"0038a000037J0ghAAC","cfo@customerco.com","Cy","Customer"\n',
        "OpportunityContactRole.csv": '"Id","OpportunityId","ContactId","Role","IsPrimary"\n'
        f'"00K1","{salesforce_id(opportunity)}","0038a000037J0ggAAC","Influencer","false"\n'
        f'"00K2","{salesforce_id(opportunity)}","0038a000037J0ghAAC","Decision Maker","true"\n',
    }
    paths = {name: write(tmp_path / name, text) for name, text in files.items()}
    run_import(
        paths["Opportunity.csv"], "salesforce-opportunities", dry_run=True, stages=(),
        links=[paths["Contact.csv"], paths["OpportunityContactRole.csv"]],
        pipeline_id="00000000-0000-4000-8000-000000000001",
        results_path=tmp_path / "r2.csv", requests_path=tmp_path / "q.jsonl",
    )  # fmt: skip
    lines = (tmp_path / "q.jsonl").read_text(encoding="utf-8").splitlines()
    (body,) = [r["body"] for r in map(json.loads, lines) if r["endpoint"] == "opportunities"]
    assert body["related_objects"]["primary_contact_email"] == "cfo@customerco.com"
    assert body["related_objects"]["additional_contact_emails"] == ["consult@partnerfirm.com"]
    assert body["related_objects"]["account_domain"] == "customerco.com"


def test_a_primary_company_with_a_website_alone_is_still_the_deals_company(tmp_path):
    deals = write(
        tmp_path / "deals.csv",
        '"Record ID","Deal Name","Associated Company IDs","Associated Company IDs (Primary)"\n'
        '"1","D1","11;12","12"\n"2","D2","12;11",""\n',
    )
    companies = write(
        tmp_path / "hubspot-companies.csv",
        '"Record ID","Company name","Company Domain Name","Website URL"\n'
        '"11","Eleven","eleven.com",""\n"12","Twelve","","https://www.twelve.io/about"\n',
    )
    run_import(
        deals, "hubspot-deals", dry_run=True, links=[companies], stages=(),
        pipeline_id="00000000-0000-4000-8000-000000000001", results_path=tmp_path / "r.csv",
    )  # fmt: skip
    rows = results_of(tmp_path / "r.csv")
    assert rows["2"]["domain"] == rows["3"]["domain"] == "twelve.io"  # was eleven.com
    assert "the row names 2 companies (twelve.io, eleven.com)" in rows["2"]["warnings"]


def test_a_deleted_contact_role_or_contact_of_a_linked_file_links_nothing(tmp_path):
    """Salesforce's recycle bin in the --with files: a deleted contact role made its
    contact the deal's primary one, and a deleted contact was sent with the deal."""
    files = {
        "Opportunity.csv": '"Id","Name","Amount"\n"006000000000002AAA","Deal Two","2000"\n',
        "Contact.csv": '"Id","IsDeleted","FirstName","LastName","Email"\n'
        '"0030000000000x1AAA","0","Small","Ex","small@mixed.com"\n'
        '"0030000000000z9AAA","1","Deleted","Person","gone@upper.com"\n'
        '"0030000000000y5AAA","0","Live","One","live@upper.com"\n',
        "OpportunityContactRole.csv": '"Id","IsDeleted","OpportunityId","ContactId","IsPrimary"\n'
        '"00K000000000003AAA","1","006000000000002AAA","0030000000000x1AAA","true"\n'
        '"00K000000000004AAA","0","006000000000002AAA","0030000000000z9AAA","false"\n'
        '"00K000000000005AAA","0","006000000000002AAA","0030000000000y5AAA","false"\n',
    }
    paths = {name: write(tmp_path / name, text) for name, text in files.items()}
    run_import(
        paths["Opportunity.csv"], "salesforce-opportunities", dry_run=True, stages=(),
        links=[paths["Contact.csv"], paths["OpportunityContactRole.csv"]],
        pipeline_id="00000000-0000-4000-8000-000000000001",
        results_path=tmp_path / "r.csv", requests_path=tmp_path / "q.jsonl",
    )  # fmt: skip
    lines = (tmp_path / "q.jsonl").read_text(encoding="utf-8").splitlines()
    (body,) = [r["body"] for r in map(json.loads, lines) if r["endpoint"] == "opportunities"]
    related = body["related_objects"]
    assert related["primary_contact_email"] == "live@upper.com"
    assert "additional_contact_emails" not in related  # neither the deleted role's nor person
    assert "gone@upper.com" not in "\n".join(lines) and "small@mixed.com" not in "\n".join(lines)


def test_a_hubspot_note_with_no_date_is_imported_and_its_row_says_so(tmp_path):
    """An empty "Activity date" left the title template empty and the note was refused:
    an Octolane note has no date field, so it goes with a title saying it has none."""
    notes = write(
        tmp_path / "notes.csv",
        "Record ID,Activity date,Note body,Associated Contact\n"
        "2001,,Called about the renewal,Bob Li (bob@globex.com)\n"
        "2002,2024-03-08 11:00,Sent the quote,Bob Li (bob@globex.com)\n",
    )
    with running_sandbox() as box:
        report = run_import(
            notes, "hubspot-notes", settings=settings(box), results_path=tmp_path / "r.csv"
        )
        titles = sorted(n["title"] for n in inspect(box, "notes"))
    assert report.counts == {"imported": 2}
    assert titles == ["HubSpot note (no date)", "HubSpot note, 2024-03-08 11:00"]
    rows = results_of(tmp_path / "r.csv")
    assert (
        "note.title (template 'HubSpot note, {Activity date}'): column 'Activity date' is empty;"
        " the mapping's default 'HubSpot note (no date)' is sent"
    ) in rows["2"]["warnings"]
    assert "note.title" not in rows["3"]["warnings"]


def test_an_export_writes_each_files_requests_where_it_says(tmp_path):
    """--requests with an export folder said "an export writes each file's own in --out"
    and wrote none: each file's requests now go beside the given path, named after it."""
    import shutil

    folder = tmp_path / "export"
    folder.mkdir()
    for name in ("Contact.csv", "Lead.csv"):
        shutil.copy(FIXTURES / "salesforce" / name, folder / name)
    with running_sandbox() as box:
        env = {"OCTOLANE_API_KEY": box.api_key, "OCTOLANE_BASE_URL": box.base_url}
        result = CliRunner().invoke(
            cli,
            [str(folder), "--mapping", "salesforce-data-export", "--out", str(tmp_path / "o"),
             "--requests", str(tmp_path / "q.jsonl"), "--no-journal"],
            env=env,
        )  # fmt: skip
        people = {c["email"] for c in inspect(box, "contacts")}
    assert result.exit_code in (0, 1), result.output
    for name in ("Contact", "Lead"):
        path = tmp_path / f"q.{name}.jsonl"
        assert f"requests: {path}" in result.output
        sent = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
        emails = {r["body"]["email"] for r in sent if r["endpoint"] == "contacts"}
        assert emails and emails <= people
    assert not (tmp_path / "q.jsonl").exists()
    assert "each file's own" not in result.output


def test_a_second_contact_of_a_note_is_said_to_go_with_the_note(tmp_path):
    """The row said the note's second contact "is not imported" while the note was
    linked to it: the row now says it goes with the note alone, by e-mail."""
    notes = write(
        tmp_path / "notes.csv",
        "Record ID,Activity date,Note body,Associated Contact\n"
        "2001,2024-03-08 11:00,Met both,Bob Li (bob@globex.com);Cy Fu (cy@globex.com)\n",
    )
    with running_sandbox() as box:
        report = run_import(
            notes, "hubspot-notes", settings=settings(box), results_path=tmp_path / "r.csv"
        )
        [note] = inspect(box, "notes")
    assert report.counts == {"imported": 1}
    assert sorted(note["contact_emails"]) == ["bob@globex.com", "cy@globex.com"]
    warnings = results_of(tmp_path / "r.csv")["2"]["warnings"]
    assert "not imported" not in warnings
    assert (
        "the cell holds 2 addresses; the first, bob@globex.com, is the contact's, and"
        " cy@globex.com goes only with the note, linked by e-mail: no contact is sent for it"
        " (an Octolane contact has one e-mail address)"
    ) in warnings
