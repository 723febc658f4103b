"""`map` never proposes the user's own people or company as a customer's (issue 10, point 8)."""

from __future__ import annotations

from pathlib import Path

import pytest
from preset_cases import PIPELINE_ID

from importer.propose.proposal import propose_mapping
from importer.run import run_import


def write(path: Path, text: str) -> Path:
    path.write_text(text.lstrip(), encoding="utf-8")
    return path


def keys(proposal) -> dict[str, str]:
    return {f.key: f.spec.get("column") for f in proposal.fields}


def test_owner_and_creator_columns_are_not_proposed_as_customers(tmp_path: Path) -> None:
    data = write(
        tmp_path / "contacts.csv",
        """
Email,Contact Owner Email,Created By,Website
ann@acme.com,rep@mycrm.io,rep@mycrm.io,acme.com
bo@globex.com,rep@mycrm.io,lee@mycrm.io,globex.com
cy@initech.com,lee@mycrm.io,rep@mycrm.io,initech.com
""",
    )
    proposal = propose_mapping(data, use_presets=False)
    assert keys(proposal)["contact.email"] == "Email"
    assert "Contact Owner Email" not in str(proposal.fields)
    notes = dict(proposal.unplaced)
    assert "CRM's own people" in notes["Created By"]
    assert "CRM's own people" in notes["Contact Owner Email"]


def test_one_company_domain_on_every_row_is_refused_as_the_users_own(tmp_path: Path) -> None:
    data = write(
        tmp_path / "team.csv",
        """
Name,Company Website,Deal Name,Amount
Ann,https://mycompany.com,Renewal A,100
Bo,mycompany.com,Renewal B,200
Cy,www.mycompany.com,Renewal C,300
""",
    )
    proposal = propose_mapping(data, use_presets=False)
    assert "account.domain" not in keys(proposal)
    assert "own company" in dict(proposal.unplaced)["Company Website"]


def test_without_an_identity_column_map_says_so_and_still_proposes_the_deals(
    tmp_path: Path,
) -> None:
    data = write(
        tmp_path / "deals.csv",
        """
Deal Name,Amount,Close Date,Deal Owner
Renewal A,"1,200.00",2025-01-31,Ann Rep
Pilot B,950.50,2025-02-28,Bo Rep
""",
    )
    proposal = propose_mapping(data, use_presets=False)
    found = keys(proposal)
    assert found["opportunity.name"] == "Deal Name" and found["opportunity.deal_size"] == "Amount"
    assert not any(k.startswith(("contact.", "account.")) for k in found)
    assert "no column holds e-mail addresses or web sites" in proposal.yaml_text
    # and the proposal runs: the deals import as deals without an account
    mapping = write(tmp_path / "m.yaml", proposal.yaml_text)
    report = run_import(data, mapping, dry_run=True, pipeline_id=PIPELINE_ID)
    assert report.counts == {"would_import": 2} and report.planned == {"opportunities": 2}


def test_an_empty_column_is_never_proposed_for_an_identity_field(tmp_path: Path) -> None:
    # Zoho's "Account Site" (a branch name, empty in most exports) is like "account website"
    zoho = Path(__file__).parent / "fixtures" / "exports" / "zoho" / "accounts.csv"
    proposal = propose_mapping(zoho, use_presets=False)
    domain = next(f for f in proposal.fields if f.key == "account.domain")
    assert domain.spec == {"column": "Website", "transforms": ["domain"]}
    note = dict(proposal.unplaced)["Account Site"]
    assert note.startswith("header suggests account.domain but it is empty in all 10 sampled rows")
    # an empty "Email" leaves the contact out (the values say nothing), and says why
    data = write(
        tmp_path / "people.csv",
        """
Email,First Name,Website
,Ann,acme.com
,Bo,globex.com
""",
    )
    proposal = propose_mapping(data, use_presets=False)
    assert "contact.email" not in keys(proposal) and keys(proposal)["account.domain"] == "Website"
    assert "empty in all 2 sampled rows" in dict(proposal.unplaced)["Email"]


REPS = """
Rep Email,Salesperson,Customer,Kontakt,Website
ann@mycrm.io,Ann Rep,Jo Smith,jo@acme.com,acme.com
ann@mycrm.io,Ann Rep,Al Jones,al@globex.com,globex.com
bo@mycrm.io,Bo Rep,Cy Black,cy@initech.co.uk,initech.co.uk
bo@mycrm.io,Bo Rep,Di Green,di@umbrella.com,umbrella.com
"""


def test_sales_rep_columns_are_never_proposed_as_customers(tmp_path: Path) -> None:
    data = write(tmp_path / "reps.csv", REPS)
    proposal = propose_mapping(data, use_presets=False)
    assert keys(proposal)["contact.email"] == "Kontakt"
    assert proposal.fields[-1].spec["columns"] == ["Website", "Kontakt"]  # account.domain
    notes = dict(proposal.unplaced)
    assert "CRM's own people" in notes["Rep Email"]
    # without the customer's column, the rep's address is still never the contact's
    alone = write(tmp_path / "alone.csv", REPS.replace(",Kontakt", "").replace(",jo@acme.com", "")
                  .replace(",al@globex.com", "").replace(",cy@initech.co.uk", "")
                  .replace(",di@umbrella.com", ""))  # fmt: skip
    proposal = propose_mapping(alone, use_presets=False)
    assert "contact.email" not in keys(proposal) and keys(proposal)["account.domain"] == "Website"


@pytest.mark.parametrize(
    "header",
    ["Account Manager Email", "AE Email", "Agent Email", "SDR", "BDR", "CSM", "Sales Rep",
     "Account Executive", "Referred By", "Assistant Email", "Manager Email"],
)  # fmt: skip
def test_a_header_naming_a_rep_or_someone_else_keeps_its_addresses_out(
    header: str, tmp_path: Path
) -> None:
    data = write(
        tmp_path / "people.csv",
        f"""
First Name,{header},Website
Jo,ann@partnerco.com,acme.com
Al,bo@helper.org,globex.com
""",
    )
    proposal = propose_mapping(data, use_presets=False)
    assert "contact.email" not in keys(proposal) and keys(proposal)["account.domain"] == "Website"
    assert "never proposed as a customer's contact or company" in dict(proposal.unplaced)[header]


@pytest.mark.parametrize(
    "header", ["Email", "Work Email", "Contact Email", "Email Address", "E-Mail-Adresse"]
)
def test_a_customers_email_header_is_still_proposed(header: str, tmp_path: Path) -> None:
    data = write(tmp_path / "people.csv", f"Job Title,{header}\nManager,jo@acme.com\n")
    assert keys(propose_mapping(data, use_presets=False))["contact.email"] == header


TEAM = """
First Name,Last Name,Handled,Website
Jo,Smith,ann@mycrm.io,acme.com
Al,Jones,ann@mycrm.io,globex.com
Cy,Black,bo@mycrm.io,initech.co.uk
Di,Green,bo@mycrm.io,umbrella.com
Ed,White,ann@mycrm.io,hooli.com
Flo,Brown,bo@mycrm.io,wayne.com
"""


def test_a_few_addresses_of_one_domain_on_rows_of_different_people_are_the_team(
    tmp_path: Path,
) -> None:
    proposal = propose_mapping(write(tmp_path / "team.csv", TEAM), use_presets=False)
    assert "contact.email" not in keys(proposal)
    assert keys(proposal)["account.domain"] == "Website"
    assert dict(proposal.unplaced)["Handled"].startswith(
        "2 addresses at mycrm.io on 6 rows of different people: most likely your own team"
    )


def test_a_customer_on_several_rows_keeps_their_address(tmp_path: Path) -> None:
    # one company's people, each on several rows (their deals): the same names repeat
    text = TEAM.replace("Al,Jones", "Jo,Smith").replace("Ed,White", "Jo,Smith")
    text = text.replace("Di,Green", "Cy,Black").replace("Flo,Brown", "Cy,Black")
    proposal = propose_mapping(write(tmp_path / "deals.csv", text), use_presets=False)
    assert keys(proposal)["contact.email"] == "Handled"
    # and people at a personal domain, or at several domains, are never a team
    for other in ("ann@gmail.com", "ann@other.io"):
        text = TEAM.replace("ann@mycrm.io", other)
        proposal = propose_mapping(write(tmp_path / "p.csv", text), use_presets=False)
        assert keys(proposal)["contact.email"] == "Handled"
