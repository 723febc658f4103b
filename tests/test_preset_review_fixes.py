"""Presets on the columns real exports write (a review's findings): PhantomBuster's
Dropcontact address, older Evaboot exports, a personal address before a work one, and
the company names lead and deal exports carry."""

from __future__ import annotations

import json
from pathlib import Path

from test_import_e2e import results_of, write

from importer.run import run_import


def _sent(path: Path) -> list[dict]:
    return [json.loads(line)["body"] for line in path.read_text(encoding="utf-8").splitlines()]


def test_phantombuster_reads_the_address_dropcontact_found(tmp_path):
    data = write(
        tmp_path / "pb.csv",
        """
profileUrl,firstName,lastName,companyName,mail,mailFromDropcontact
https://www.linkedin.com/sales/lead/ACwAA1,Lena,Fischer,Vertexa GmbH,lena@vertexa.de,
https://www.linkedin.com/sales/lead/ACwAA3,Jan,de Vries,Polder BV,,jan.devries@polder.nl
""",
    )
    report = run_import(data, "sales-navigator-phantombuster", dry_run=True,
                        results_path=tmp_path / "r.csv", requests_path=tmp_path / "q.jsonl")  # fmt: skip
    assert report.counts == {"would_import": 2}
    emails = {b.get("email") for b in _sent(tmp_path / "q.jsonl")}
    assert "jan.devries@polder.nl" in emails
    only_dropcontact = write(
        tmp_path / "pb2.csv",
        """
profileUrl,firstName,lastName,companyName,mailFromDropcontact
https://www.linkedin.com/sales/lead/ACwAA3,Jan,de Vries,Polder BV,jan.devries@polder.nl
""",
    )
    report = run_import(only_dropcontact, "sales-navigator-phantombuster", dry_run=True,
                        results_path=tmp_path / "r2.csv")  # fmt: skip
    assert report.counts == {"would_import": 1}


def test_evaboot_reads_older_exports_evaboot_email(tmp_path):
    data = tmp_path / "evaboot.csv"
    text = (
        "First Name\tLast Name\tCompany Name\tEvaboot Email\tEmail Status\tLinkedIn URL\n"
        "Lena\tFischer\tVertexa GmbH\tlena@vertexa.de\tsafe\thttps://www.linkedin.com/in/lf\n"
        "Jan\tVries\tPolder\t\t\thttps://www.linkedin.com/in/jv\n"
    )
    data.write_bytes(text.encode("utf-16"))
    report = run_import(data, "sales-navigator-evaboot", dry_run=True,
                        results_path=tmp_path / "r.csv")  # fmt: skip
    assert report.counts == {"would_import": 1, "invalid": 1}
    rows = {r["row"]: r for r in results_of(tmp_path / "r.csv")}
    assert rows["2"]["email"] == "lena@vertexa.de" and rows["2"]["domain"] == "vertexa.de"


def test_a_personal_address_first_does_not_lose_the_work_addresss_company(tmp_path):
    data = write(
        tmp_path / "zoho.csv",
        """
First Name,Last Name,Email,Secondary Email
Lena,Fischer,lena.private@gmail.com,lena.fischer@vertexa.de
Jo,Lee,jo@acme.com,jo@gmail.com
Sam,Ray,sam@gmail.com,
""",
    )
    run_import(data, "zoho-contacts", dry_run=True, results_path=tmp_path / "r.csv",
               requests_path=tmp_path / "q.jsonl")  # fmt: skip
    rows = {r["row"]: r for r in results_of(tmp_path / "r.csv")}
    assert rows["2"]["domain"] == "vertexa.de"
    assert "files lena.private@gmail.com under no account" in rows["2"]["warnings"]
    assert rows["3"]["domain"] == "acme.com" and rows["4"]["domain"] == ""
    assert {"domain": "vertexa.de"} in _sent(tmp_path / "q.jsonl")


def test_lead_and_deal_presets_map_the_company_name(tmp_path):
    from importer.map.presets import resolve_mapping_path
    from importer.map.spec import load_mapping

    expected = {
        "close-leads": "display_name",
        "zoho-leads": "Company",
        "zoho-deals": "Account Name",
        "sales-navigator-evaboot": "Company Name",
        "sales-navigator-phantombuster": "companyName",
        "pipedrive-deals": "Deal - Organization",
    }
    for preset, column in expected.items():
        mapping = load_mapping(resolve_mapping_path(preset))
        assert mapping.account is not None and mapping.account.name is not None, preset
        assert column in mapping.account.name.referenced_columns(), preset


def test_attio_a_personal_address_first_in_the_cell_keeps_the_work_ones_company(tmp_path):
    data = write(
        tmp_path / "attio.csv",
        """
Record ID,Name,Email addresses,Company
p1,Aisha Garcia,"aisha.private@gmail.com, aisha.garcia@sorensen-maritime.dk",Sorensen
p2,Bo Li,"bo@gmail.com, bo@acme.com, li@globex.com",Acme
""",
    )
    run_import(data, "attio-people", dry_run=True, results_path=tmp_path / "r.csv")
    rows = {r["row"]: r for r in results_of(tmp_path / "r.csv")}
    assert rows["2"]["domain"] == "sorensen-maritime.dk"
    assert rows["2"]["email"] == "aisha.private@gmail.com"
    assert rows["3"]["domain"] == ""  # two companies' addresses: neither is guessed


def test_close_opportunities_take_their_company_from_the_leads_export(tmp_path):
    opportunities = write(
        tmp_path / "opportunities.csv",
        """
id,lead_id,lead_name,status_label,value,value_currency,value_formatted,contact_name
oppo_1,lead_A,Kestrel Robotics,Won,480000,USD,"$4,800",Lukas Kowalski
oppo_2,lead_A,Kestrel Robotics,Active,1250000,USD,"$12,500",Lukas Kowalski
oppo_3,lead_B,Tidewater Foods,Active,90000,USD,$900,
oppo_4,lead_Z,Nowhere Ltd,Active,1000,USD,$10,
""",
    )
    leads = write(
        tmp_path / "close-leads.csv",
        """
id,display_name,url,primary_contact_primary_email
lead_A,Kestrel Robotics,https://kestrel-robotics.de,lukas@kestrel-robotics.de
lead_B,Tidewater Foods,,kwame@tidewaterfoods.com.au
""",
    )
    mapping = write(
        tmp_path / "m.yaml", "extends: close-opportunities\noptions: {unmapped_stages: first}\n"
    )
    run_import(opportunities, mapping, dry_run=True, links=[leads], results_path=tmp_path / "r.csv",
               requests_path=tmp_path / "q.jsonl", pipeline_id="00000000-0000-4000-8000-000000000001")  # fmt: skip
    deals = {
        b["opportunity"]["name"]: b["related_objects"]
        for b in _sent(tmp_path / "q.jsonl")
        if "opportunity" in b
    }
    assert deals["Kestrel Robotics – Won $4,800"] == {"account_domain": "kestrel-robotics.de"}
    assert deals["Kestrel Robotics – Active $12,500"] == {"account_domain": "kestrel-robotics.de"}
    assert deals["Tidewater Foods – Active $900"] == {"account_domain": "tidewaterfoods.com.au"}
    rows = {r["row"]: r for r in results_of(tmp_path / "r.csv")}
    assert "'lead_Z' is in no row of close-leads.csv" in rows["5"]["warnings"]
