"""``octolane-import map``: the proposed mapping for each fixture, for a file
no preset knows, and the pieces (header aliases, value profiles, scoring)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from preset_cases import FIXTURES, PARAMS, PIPELINE_ID, Case, fixture_stages, stages_named

from importer.errors import MappingError
from importer.map.presets import list_presets
from importer.map.spec import parse_mapping
from importer.propose._columns import header_candidate, normalise, profile_values
from importer.propose.proposal import PRESET_THRESHOLD, propose_mapping, score_presets
from importer.run import run_import


def dry_run_text(path: Path, yaml_text: str, tmp_path: Path):
    mapping = tmp_path / "proposed.yaml"
    mapping.write_text(yaml_text, encoding="utf-8")
    return run_import(path, mapping, dry_run=True, pipeline_id=PIPELINE_ID, stages=fixture_stages())


def outcome(report) -> tuple:
    return report.rows_read, report.counts, report.distinct


# ---- files a preset knows ---------------------------------------------------


@pytest.mark.parametrize("case", PARAMS)
def test_map_proposes_the_preset_and_it_dry_runs_the_same(case: Case, tmp_path: Path) -> None:
    proposal = propose_mapping(case.path)
    assert proposal.preset == case.preset
    assert proposal.matches[0].name == case.preset
    assert proposal.matches[0].score >= PRESET_THRESHOLD
    assert proposal.yaml_text.startswith(f"# Proposed by `octolane-import map {case.path.name}`")
    assert f"matches the preset\n# '{case.preset}' (score " in proposal.yaml_text
    assert proposal.needs_pipeline == (case.deals > 0)
    preset = run_import(
        case.path, case.preset, dry_run=True, pipeline_id=PIPELINE_ID, stages=fixture_stages()
    )
    assert outcome(dry_run_text(case.path, proposal.yaml_text, tmp_path)) == outcome(preset)


@pytest.mark.parametrize(
    "fixture",
    [
        "hubspot/contacts.csv",
        "salesforce/Contact.csv",
        # (not zoho/leads.csv: its preset reads the Website column, half of whose cells are
        # LinkedIn pages, so the columns alone propose the e-mail's domain instead)
        "sales-navigator/evaboot.csv",
    ],
)
def test_without_presets_the_columns_give_the_same_contacts(fixture: str, tmp_path: Path) -> None:
    path = FIXTURES / fixture
    preset = propose_mapping(path).preset
    proposal = propose_mapping(path, use_presets=False)
    assert proposal.preset is None
    keys = [f.key for f in proposal.fields]
    assert keys == ["contact.email", "contact.first_name", "contact.last_name", "account.domain"]
    by_columns = dry_run_text(path, proposal.yaml_text, tmp_path)
    by_preset = run_import(path, preset, dry_run=True)
    assert by_columns.counts == by_preset.counts
    assert by_columns.distinct["contacts"] == by_preset.distinct["contacts"]


# ---- a file no preset knows -------------------------------------------------

KUNDEN = FIXTURES / "unknown/kunden.csv"  # German Excel: ';', cp1252, "4.500,00 €", dd.mm.yyyy


def test_unknown_file_is_mapped_from_aliases_and_values(tmp_path: Path) -> None:
    proposal = propose_mapping(KUNDEN)
    assert proposal.preset is None
    fields = {f.key: f for f in proposal.fields}
    assert {k: f.spec for k, f in fields.items()} == {
        "contact.email": {"column": "E-Mail-Adresse", "transforms": ["email"]},
        "contact.first_name": {"column": "Vorname", "transforms": ["trim"]},
        "contact.last_name": {"column": "Nachname", "transforms": ["trim"]},
        "account.domain": {
            "columns": ["Webseite", "E-Mail-Adresse"],
            "transforms": ["domain"],
            "required": False,
        },
        "opportunity.name": {"column": "Auftrag", "transforms": ["trim"]},
        "opportunity.deal_size": {
            "column": "Umsatz",
            "transforms": [{"money": {"decimal_mark": ","}}],
        },
        "opportunity.close_date": {
            "column": "Abschlussdatum",
            "transforms": [{"date": {"order": "dmy"}}],
        },
        "note.title": {
            "column": "Notiz",
            "transforms": [{"lookup": {"table": {"Notiz": "Notiz"}, "default": "Notiz"}}],
            "required": False,
        },
        "note.content": {"column": "Notiz", "transforms": ["trim"]},
    }
    assert fields["contact.email"].reason == (
        'header alias "e-mail-adresse", 96% of the values are e-mail addresses'
    )
    assert proposal.needs_pipeline
    assert dict(proposal.unplaced) == {
        "Firma": "no Octolane field matched",
        "Telefon": "phone numbers (Octolane's Inbound API has no phone field)",
    }


def test_unknown_file_proposal_text_and_dry_run(tmp_path: Path) -> None:
    text = propose_mapping(KUNDEN).yaml_text
    assert "# No preset matched this header." in text
    assert "# Deals need a pipeline: --pipeline-id <uuid> or OCTOLANE_PIPELINE_ID." in text
    assert (
        "  email: {column: E-Mail-Adresse, transforms: [email]}  # 0.99 header alias "
        '"e-mail-adresse", 96% of the values are e-mail addresses\n'
    ) in text
    assert (
        "  deal_size: {column: Umsatz, transforms: [{money: {decimal_mark: ','}}]}  # 0.99" in text
    )
    assert text.endswith(
        "# Columns not mapped:\n#   Firma: no Octolane field matched\n"
        "#   Telefon: phone numbers (Octolane's Inbound API has no phone field)\n"
    )
    parse_mapping(text)
    report = dry_run_text(KUNDEN, text, tmp_path)
    assert report.counts == {"would_import": 24, "partial": 2}
    assert report.distinct == {"accounts": 10, "contacts": 23, "opportunities": 26, "notes": 5}
    deal = next(r for r in report.plan.requests if r.endpoint == "opportunities")
    # "55.000,00 €" on "17.02.2025": comma decimal mark, day first; euros, and no rate
    # given, so the amount is left out rather than sent as dollars
    assert dict(deal.payload)["opportunity"] == {
        "name": "Pilotprojekt 001",
        "close_date": 1739750400000,
    }
    results = tmp_path / "results.csv"
    mapping = tmp_path / "proposed.yaml"
    run_import(KUNDEN, mapping, dry_run=True, pipeline_id=PIPELINE_ID, results_path=results)
    assert "55,000.00 EUR was left out" in results.read_text(encoding="utf-8")


def test_dates_in_an_unclear_order_are_left_out_not_guessed(write_csv, tmp_path: Path) -> None:
    path = write_csv(
        """
        Deal Name,Work Email,Amount,Close Date
        Pilot,ann@acme.com,"$1,200.00",03/04/2025
        Renewal,bo@beta.io,$950,05/06/2025
        """
    )
    proposal = propose_mapping(path)
    keys = [f.key for f in proposal.fields]
    assert "opportunity.close_date" not in keys
    assert "opportunity.deal_size" in keys and "opportunity.name" in keys
    note = dict(proposal.unplaced)["Close Date"]
    assert note.startswith("header suggests opportunity.close_date but every date fits both")
    report = dry_run_text(path, proposal.yaml_text, tmp_path)
    assert report.counts == {"would_import": 2}


def test_a_file_with_nothing_to_map_is_an_error(write_csv) -> None:
    path = write_csv("Colour,Size\nred,12\nblue,9\n", name="things.csv")
    with pytest.raises(MappingError) as caught:
        propose_mapping(path)
    assert str(caught.value) == (
        "things.csv: could not match any column to an Octolane field (columns: Colour, Size);"
        " write the mapping by hand (docs/mapping.md describes the format)"
    )


def test_a_known_export_without_its_record_columns_says_what_to_do(write_csv) -> None:
    """Pipedrive's organisations export without "Website" (the UK-English real export):
    the preset that knows it says how to export again, not "write the mapping by hand"."""
    header = (
        '"Organisation - Name","Organisation - Labels","Organisation - People",'
        '"Organisation - Owner"\n'
    )
    path = write_csv(header + '"CPI Books UK","Customer","2","Dalris Adang"\n', name="orgs.csv")
    with pytest.raises(MappingError) as caught:
        propose_mapping(path)
    assert str(caught.value).startswith(
        "orgs.csv: this is the export the preset pipedrive-organizations reads, but it lacks"
        " Organization - Website / Organisation - Website, so no row would give Octolane a"
        " record to create. Pipedrive organisations carry a domain only in the Website column:"
        ' add "Website" to the Organizations list view and export again'
    )


def test_a_file_that_only_links_another_export_says_which_preset_joins_it(write_csv) -> None:
    """Salesforce's OpportunityContactRole holds ids alone: its OpportunityId is not a deal
    name, and the preset that joins it is named, with how to give it."""
    path = write_csv(
        "Id,OpportunityId,ContactId,Role,IsDeleted,CurrencyIsoCode\n"
        "00K1,0061U00000AbCdE,0031U00000XyZ12,,0,USD\n",
        name="data-export-OpportunityContactRole.csv",
    )
    with pytest.raises(MappingError) as caught:
        propose_mapping(path)
    said = str(caught.value)
    assert said.startswith(
        "data-export-OpportunityContactRole.csv: this file only links records of another"
        " export: the preset salesforce-opportunities joins it in as its 'roles' file (its"
        " OpportunityId matched to the main file's Id, bringing ContactId)"
    ), said
    assert (
        "--mapping salesforce-opportunities --with data-export-OpportunityContactRole.csv" in said
    )


def test_a_header_of_record_ids_is_never_a_name(write_csv) -> None:
    path = write_csv(
        "Email,OpportunityId,Account Name.id\njo@acme.com,0061U00000AbCdE,4876876000000624001\n"
    )
    proposal = propose_mapping(path)
    mapped = parse_mapping(proposal.yaml_text)
    assert mapped.opportunity is None
    assert mapped.account is None or mapped.account.name is None
    # e-mails under an "... ID" header are still e-mails: their values say so
    emails = write_csv("Contact Email ID,Name\njo@acme.com,Jo Smith\nal@beta.io,Al Li\n")
    mapped = parse_mapping(propose_mapping(emails).yaml_text)
    assert mapped.contact is not None and mapped.contact.email.column == "Contact Email ID"


def test_a_bare_name_in_a_file_of_deals_is_the_deal_name(write_csv, tmp_path: Path) -> None:
    """Salesforce's Opportunity.csv without its preset: "Name" names the deal (there is
    no e-mail column, and amounts, stages and close dates), and the deals dry-run."""
    path = write_csv(
        "Id,Name,StageName,Amount,CloseDate\n"
        "0061,Acme renewal,Prospecting,1200.50,2024-03-01\n"
        "0062,Globex pilot,Closed Won,300,2024-04-01\n",
        name="Opportunity.csv",
    )
    proposal = propose_mapping(path, use_presets=False)
    mapped = parse_mapping(proposal.yaml_text)
    assert mapped.opportunity is not None and mapped.opportunity.name.column == "Name"
    assert mapped.contact is None
    saved = tmp_path / "m.yaml"
    saved.write_text(proposal.yaml_text, encoding="utf-8")
    report = run_import(
        path, saved, dry_run=True, results_path=tmp_path / "r.csv",
        pipeline_id=PIPELINE_ID, stages=stages_named(["Prospecting", "Closed Won"]),
    )  # fmt: skip
    assert report.distinct["opportunities"] == 2, report.counts


def test_emails_under_any_header_are_found_by_their_values(write_csv, tmp_path: Path) -> None:
    path = write_csv("Kontakt,Ort\njo@acme.com,Berlin\nann@beta.io,Wien\nbo@gamma.de,Graz\n")
    proposal = propose_mapping(path)
    email = next(f for f in proposal.fields if f.key == "contact.email")
    assert email.spec == {"column": "Kontakt", "transforms": ["email"]}
    assert email.reason == "100% of the values are e-mail addresses"
    assert dry_run_text(path, proposal.yaml_text, tmp_path).counts == {"would_import": 3}


# ---- the pieces -------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "key"),
    [
        ("Email", "contact.email"),
        ("E-mail", "contact.email"),
        ("Email Address", "contact.email"),
        ("Person - Email - Work", "contact.email"),
        ("primary_contact_primary_email", "contact.email"),
        ("Work Email", "contact.email"),
        ("Evaboot Email", "contact.email"),
        ("Courriel", "contact.email"),
        ("firstName", "contact.first_name"),
        ("FirstName", "contact.first_name"),
        ("Prénom", "contact.first_name"),
        ("Nachname", "contact.last_name"),
        ("Person - Name", "contact.full_name"),
        ("Company Domain Name", "account.domain"),
        ("Website URL", "account.domain"),
        ("Deal - Value", "opportunity.deal_size"),
        ("CloseDate", "opportunity.close_date"),
        ("Deal - Expected close date", "opportunity.close_date"),
        ("Next step", "opportunity.next_step"),
        ("Emial Adress", "contact.email"),  # fuzzy
        ("Phone", None),
        ("Record ID", None),
    ],
)
def test_header_candidates(header: str, key: str | None) -> None:
    found = header_candidate(header)
    assert (found[0] if found else None) == key


def test_fuzzy_matches_say_so_and_score_lower() -> None:
    key, confidence, reason = header_candidate("Emial Adress")
    assert key == "contact.email"
    assert 0.55 <= confidence < 0.95
    assert reason.startswith('header like "email address" (')


@pytest.mark.parametrize(
    ("header", "normal"),
    [
        ("E-Mail_Address", "e mail address"),
        ("firstName", "first name"),
        ("Probability (%)", "probability %"),
    ],
)
def test_normalise(header: str, normal: str) -> None:
    assert normalise(header) == normal


@pytest.mark.parametrize(
    ("values", "mark"),
    [
        (["12.500,00 €", "4.500,00 €", "2.400,75 €"], ","),
        (["$12,500.00", "$950", "1,200.50"], "."),
        (["12,5", "7,25"], ","),
        (["3.5E8", "1000000.0"], "."),
    ],
)
def test_decimal_mark_from_values(values: list[str], mark: str) -> None:
    profile = profile_values(values)
    assert profile.decimal_mark == mark
    assert profile.amount == 1.0


@pytest.mark.parametrize(
    ("values", "order"),
    [
        (["14.03.2025", "01.02.2025"], "dmy"),
        (["4/28/2025", "1/2/2025"], "mdy"),
        (["2025-01-02"], "ymd"),
    ],
)
def test_date_order_from_values(values: list[str], order: str) -> None:
    profile = profile_values(values)
    assert (profile.date_order, profile.date) == (order, 1.0)


def test_profile_ignores_placeholders_and_social_links() -> None:
    profile = profile_values(["https://www.linkedin.com/company/acme/", "acme.com", "N/A", ""])
    assert profile.filled == 2
    assert profile.site == 0.5


def test_scores_tell_similar_exports_apart() -> None:
    zoho = [
        "Record Id",
        "Contact Owner.id",
        "Contact Owner",
        "First Name",
        "Last Name",
        "Account Name.id",
        "Account Name",
        "Email",
        "Title",
        "Secondary Email",
        "Locked",
    ]
    scores = {m.name: m.score for m in score_presets(zoho, list_presets())}
    assert scores["zoho-contacts"] == 1.0
    assert scores["salesforce-report-contacts"] < PRESET_THRESHOLD
    assert scores["hubspot"] < PRESET_THRESHOLD


def test_a_preset_missing_a_required_column_scores_zero() -> None:
    scores = {m.name: m for m in score_presets(["First Name", "Last Name"], list_presets())}
    assert scores["hubspot"].score == 0.0
    assert scores["hubspot"].missing == ("Website URL / Email", "Email")


def test_a_preset_that_fits_but_cannot_bind_is_named(write_csv, tmp_path: Path) -> None:
    # A Salesforce opportunities report whose dates all read both ways (3/4/2025).
    path = write_csv(
        """
        "Opportunity Owner","Account Name","Opportunity Name","Stage","Fiscal Period","Amount","Probability (%)","Close Date","Website","Email"
        "Grace Liu","Acme","Acme-Pilot","Prospecting","Q1-2025","1,200.00","10%","3/4/2025","www.acme.com","jo@acme.com"
        "Grace Liu","Beta","Beta-Upsell","Closed Won","Q2-2025","950.00","100%","5/6/2025","beta.io","bo@beta.io"
        """
    )
    proposal = propose_mapping(path)
    assert proposal.preset is None
    assert proposal.yaml_text.splitlines()[1].startswith(
        "# Not the preset: the preset salesforce-report-opportunities fits the header but cannot"
        " be used as is: "
    )
    assert "every date fits both day-first and month-first" in proposal.yaml_text.splitlines()[1]
    report = dry_run_text(path, proposal.yaml_text, tmp_path)
    assert report.counts == {"would_import": 2}


@pytest.mark.parametrize(
    ("header", "chosen"),
    [
        ("Record ID,First Name,Email,Associated Company ID", "Record ID"),
        ("Deal - ID,Deal - Title,Person - ID,Organization - ID,Deal - Value", "Deal - ID"),
        ("Account ID,Contact ID,Email", "Contact ID"),  # the row's own id, not its account's
        ("Email,First Name", None),
    ],
)
def test_a_proposal_names_the_source_id_column(tmp_path: Path, header: str, chosen: str | None):
    path = tmp_path / "export.csv"
    values = ",".join("jo@acme.com" if c == "Email" else "Jo" if "Name" in c else "17"
                      for c in header.split(","))  # fmt: skip
    path.write_text(f"{header}\n{values}\n", encoding="utf-8")
    proposal = propose_mapping(path)
    mapping = parse_mapping(proposal.yaml_text)
    assert mapping.source_id == chosen
    if chosen is not None:
        assert chosen not in dict(proposal.unplaced)
        report = run_import(
            path, mapping, dry_run=True, results_path=tmp_path / "r.csv",
            pipeline_id=PIPELINE_ID, stages=fixture_stages(),
        )  # fmt: skip
        assert report.rows_read == 1
        with (tmp_path / "r.csv").open(encoding="utf-8-sig", newline="") as handle:
            assert [r["source_id"] for r in csv.DictReader(handle)] == ["17"]


def test_a_column_of_pictures_is_never_proposed_as_the_company_domain(tmp_path: Path) -> None:
    """A deals export's picture links (Dropbox, S3) made every deal's company dropbox.com."""
    path = tmp_path / "deals.csv"
    path.write_text(
        "Deal - Title,Deal - Picture 6,Deal - Listing\n"
        + "".join(
            f"Office {i},https://www.brightoffices{i}.com/pic{i}.jpg,https://halsey{i}realty.com/\n"
            for i in range(12)
        ),
        encoding="utf-8",
    )
    keys = {f.key: f.spec for f in propose_mapping(path).fields}
    assert "account.domain" in keys  # the listings' sites are sites
    assert "Picture" not in str(keys["account.domain"])


def test_a_second_column_of_web_sites_fills_the_rows_the_first_leaves_empty(tmp_path: Path) -> None:
    """The doctors' HubSpot export: "Website URL" is filled on 1,465 rows and the doctor's own
    site column on 3,343; proposing only the first made 2,335 rows with a site invalid."""
    path = tmp_path / "doctors.csv"
    lines = ["Name,Website URL,Doctor's website URL"]
    lines += [f"Dr {i},,https://studio{i}-medico.it/" for i in range(8)]
    lines += [
        f"Dr {i},https://clinic{i}-roma.it,https://studio{i}-medico.it/" for i in range(8, 12)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    proposal = propose_mapping(path, use_presets=False)
    [domain] = [f for f in proposal.fields if f.key == "account.domain"]
    assert domain.spec["columns"] == ["Website URL", "Doctor's website URL"]
    report = dry_run_text(path, proposal.yaml_text, tmp_path)
    assert report.counts == {"would_import": 12}


def test_a_workbooks_amounts_are_proposed_as_its_import_reads_them(tmp_path: Path) -> None:
    """Number cells with three decimals ("1234.567") say nothing of a decimal mark in a
    workbook: the proposal is checked as the import binds it, and maps the amounts."""
    import openpyxl

    book = openpyxl.Workbook()
    book.active.append(["Deal Name", "Website", "Amount"])
    for i, amount in enumerate((1234.567, 29.125, 10.5)):
        book.active.append([f"Deal {i}", f"northwind{i}.com", amount])
    book.save(tmp_path / "deals.xlsx")
    proposal = propose_mapping(tmp_path / "deals.xlsx", use_presets=False)
    mapping = parse_mapping(proposal.yaml_text)
    assert mapping.opportunity is not None and mapping.opportunity.deal_size is not None
    assert mapping.opportunity.deal_size.column == "Amount"


def test_a_notes_column_is_the_notes_content_not_its_title_too(write_csv, tmp_path: Path) -> None:
    long = "Called twice; " * 30  # over a title's 255 characters
    path = write_csv(
        f"Email,Comments\njo@acme.com,{long}\nal@globex.com,\nbo@initech.com,Wants a demo\n"
    )
    proposal = propose_mapping(path, use_presets=False)
    specs = {f.key: f.spec for f in proposal.fields}
    assert specs["note.content"] == {"column": "Comments", "transforms": ["trim"]}
    assert specs["note.title"]["transforms"] != ["trim"]  # not the comment's text again
    report = dry_run_text(path, proposal.yaml_text, tmp_path)
    notes = [dict(r.payload)["note"] for r in report.plan.requests if r.endpoint == "notes"]
    assert notes == [
        {"title": "Comments", "content": long.strip()},
        {"title": "Comments", "content": "Wants a demo"},
    ]  # the row without a comment sends no note, and the long one is whole
    assert report.counts == {"would_import": 3}


@pytest.mark.parametrize(
    ("header", "code"),
    [("Deal Value (€)", "EUR"), ("Amount (EUR)", "EUR"), ("Betrag (€)", "EUR"),
     ("Umsatz in GBP", "GBP"), ("Value [£]", "GBP")],
)  # fmt: skip
def test_amounts_whose_header_names_a_currency_are_not_sent_as_dollars(
    write_csv, tmp_path: Path, header: str, code: str
) -> None:
    path = write_csv(f'Email,Deal Name,{header}\njo@acme.com,Pilot,"1200.50"\n')
    proposal = propose_mapping(path, use_presets=False)
    deal = next(f for f in proposal.fields if f.key == "opportunity.deal_size")
    assert deal.spec["column"] == header and f"amounts are in {code}" in deal.reason
    assert parse_mapping(proposal.yaml_text).options.currency == code

    def sent(yaml_text: str) -> dict:
        report = dry_run_text(path, yaml_text, tmp_path)
        request = next(r for r in report.plan.requests if r.endpoint == "opportunities")
        return dict(request.payload)["opportunity"]

    assert "deal_size" not in sent(proposal.yaml_text)  # no rate: left out, not dollars
    with_rate = proposal.yaml_text + f"currency_rates:\n  {code}: 2\n"
    assert sent(with_rate)["deal_size"] == 2401.0


def test_a_header_currency_no_code_settles_is_left_to_the_user(write_csv) -> None:
    path = write_csv('Email,Deal Name,Amount (kr)\njo@acme.com,Pilot,"1200"\n')
    text = propose_mapping(path, use_presets=False).yaml_text
    assert "  # currency: ?  # 'Amount (kr)' says 'kr', which several currencies write" in text
