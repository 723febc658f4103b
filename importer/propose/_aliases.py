"""What CRM exports call each Octolane field, and how to recognise an export.

Two tables used by :mod:`importer.propose.proposal`:

* :data:`FIELD_ALIASES`: header names seen for each API field across systems and
  languages (HubSpot, Salesforce labels and API names, Pipedrive, Apollo, Close,
  Attio, Zoho, Sales Navigator tools, German/French/Spanish/Portuguese Excel).
  ``contact.full_name`` is a pseudo-field: one column split into first and last
  name.
* :data:`PRESET_SIGNATURES`: headers that only a given system writes (``A|B``:
  either spelling), used to
  tell presets apart when several would map the same columns (a Salesforce
  contacts report and a HubSpot contacts export both have "First Name",
  "Last Name", "Email").

Headers are compared after :func:`normalise_header`.
"""

from __future__ import annotations

import re

__all__ = ["FIELD_ALIASES", "PRESET_SIGNATURES", "normalise_header"]

_NON_WORD = re.compile(r"[^\w@#%]+")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")


def normalise_header(header: str) -> str:
    """Lower-case words of a header: ``"E-Mail_Address"`` → ``"e mail address"``.

    camelCase is split (``firstName`` → ``first name``) and punctuation,
    underscores and dashes become spaces.
    """
    text = _CAMEL.sub(" ", header.strip())
    return " ".join(_NON_WORD.sub(" ", text.replace("_", " ")).split()).casefold()


FIELD_ALIASES: dict[str, tuple[str, ...]] = {
    "contact.email": (
        "email",
        "e-mail",
        "email address",
        "e-mail address",
        "e-mail-adresse",
        "emailadresse",
        "mail",
        "work email",
        "business email",
        "primary email",
        "contact email",
        "email addresses",
        "person - email",
        "person - email - work",
        "primary_contact_primary_email",
        "evaboot email",
        "courriel",
        "adresse e-mail",
        "adresse email",
        "correo electrónico",
        "correo",
        "e-mail principal",
        "email (work)",
        "lead email",
        "emails",
    ),
    "contact.first_name": (
        "first name",
        "firstname",
        "first",
        "given name",
        "forename",
        "vorname",
        "prénom",
        "prenom",
        "nombre",
        "nome",
        "primary_contact_first_name",
        "contact first name",
    ),
    "contact.last_name": (
        "last name",
        "lastname",
        "last",
        "surname",
        "family name",
        "nachname",
        "nom",
        "nom de famille",
        "apellido",
        "apellidos",
        "sobrenome",
        "primary_contact_last_name",
        "contact last name",
    ),
    "contact.full_name": (
        "name",
        "full name",
        "fullname",
        "contact name",
        "person - name",
        "person name",
        "contact",
        "primary_contact_name",
        "lead name",
        "contact person",
        "prospect name",
        "nom complet",
        "nombre completo",
        "ansprechpartner",
    ),
    "account.domain": (
        "website",
        "website url",
        "company website",
        "domain",
        "domains",
        "company domain",
        "company domain name",
        "web",
        "url",
        "homepage",
        "web site",
        "webseite",
        "site web",
        "site",
        "sitio web",
        "organization - website",
        "organisation - website",
        "company url",
        "account website",
    ),
    "opportunity.name": (
        "deal name",
        "opportunity name",
        "deal",
        "opportunity",
        "deal title",
        "deal - title",
        "name of deal",
        "opportunity title",
        "deal_name",
        "auftrag",
        "affaire",
        "oportunidad",
    ),
    "opportunity.deal_size": (
        "amount",
        "deal amount",
        "deal value",
        "value",
        "deal - value",
        "opportunity amount",
        "deal size",
        "umsatz",
        "betrag",
        "auftragswert",
        "montant",
        "importe",
        "valor",
        "price",
        "contract value",
        "total value",
    ),
    "opportunity.close_date": (
        "close date",
        "closing date",
        "expected close date",
        "deal - expected close date",
        "closedate",
        "close_date",
        "abschlussdatum",
        "date de clôture",
        "fecha de cierre",
        "data de fechamento",
        "won date",
        "date_won",
    ),
    "opportunity.next_action_date": (
        "next activity date",
        "next action date",
        "next step date",
        "follow up date",
        "follow-up date",
        "next task date",
        "next_task_date",
        "wiedervorlage",
    ),
    "opportunity.stage": (
        "stage",
        "deal stage",
        "deal - stage",
        "stagename",
        "stage name",
        "opportunity stage",
        "pipeline stage",
        "sales stage",
        "status_label",
        "phase",
        "etapa",
        "étape",
    ),
    "opportunity.currency": (
        "currency",
        "currencyisocode",
        "currency code",
        "deal currency",
        "deal - currency",
        "deal - currency of value",
        "currency of value",
        "value_currency",
        "opportunity currency",
        "deal currency code",
        "währung",
        "devise",
        "moneda",
        "moeda",
    ),
    "opportunity.next_step": (
        "next step",
        "next steps",
        "nextstep",
        "nächster schritt",
        "prochaine étape",
    ),
    "opportunity.owner_email": (
        "owner email",
        "deal owner email",
        "opportunity owner email",
        "sales rep email",
        "owner e-mail",
    ),
    "note.content": (
        "notes",
        "note",
        "comments",
        "comment",
        "notiz",
        "notizen",
        "bemerkung",
        "remarks",
        "commentaire",
        "notas",
    ),
}

# Headers distinctive of one preset's export (compared normalised). A preset
# matches on its mapped columns; these break ties between presets that map the
# same columns and raise confidence that the file is what the preset expects.
PRESET_SIGNATURES: dict[str, tuple[str, ...]] = {
    "hubspot": (
        "Record ID|Record ID - Contact",
        "Contact owner",
        "Lead Status|Contact type|Lifecycle Stage",
        "Create Date",
        "Associated Company|Company name|Company Name",
    ),
    "hubspot-companies": ("Record ID", "Company name", "Company owner", "Company Domain Name"),
    "hubspot-deals": ("Record ID", "Deal Stage", "Deal owner", "Pipeline", "Associated Contact"),
    "hubspot-notes": ("Record ID", "Note body", "Activity date", "Associated Contact IDs"),
    "salesforce-report-contacts": (
        "Contact Owner",
        "Account Name",
        "Mailing State/Province",
        "Mailing Zip/Postal Code",
        "Created Date",
    ),
    "salesforce-report-leads": ("Company / Account", "Create Date", "Lead Owner", "Lead Status"),
    "salesforce-report-accounts": (
        "Account Owner",
        "Billing State/Province",
        "Billing Zip/Postal Code",
        "Type",
    ),
    "salesforce-report-opportunities": (
        "Opportunity Owner",
        "Stage",
        "Fiscal Period",
        "Probability (%)",
    ),
    "salesforce-contacts": ("Id", "AccountId", "MailingCity", "OwnerId", "SystemModstamp"),
    "salesforce-leads": ("Id", "Company", "IsConverted", "OwnerId", "Status"),
    "salesforce-accounts": ("Id", "Name", "Industry", "AnnualRevenue"),
    "salesforce-opportunities": ("Id", "AccountId", "StageName", "IsClosed", "CurrencyIsoCode"),
    "salesforce-tasks": ("WhoId", "WhatId", "Subject", "ActivityDate", "AccountId"),
    "pipedrive-people": ("Person - Name", "Person - Labels", "Person - Phone - Work"),
    "pipedrive-organizations": (
        "Organization - Name|Organisation - Name",
        "Organization - Owner|Organisation - Owner",
        "Organization - People|Organisation - People",
    ),
    "pipedrive-deals": (
        "Deal - ID",
        "Deal - Title",
        "Deal - Stage",
        "Deal - Owner",
        "Deal - Currency",
    ),
    "apollo-people": (
        "Apollo Contact Id",
        "Email Status",
        "Person Linkedin Url",
        "Company Name for Emails",
    ),
    "apollo-accounts": ("Apollo Account Id", "Company Name for Emails", "Account Stage"),
    "close-leads": ("id", "display_name", "status_label", "primary_contact_name"),
    "close-opportunities": (
        "lead_id",
        "lead_name",
        "value_period",
        "value_formatted",
        "status_type",
    ),
    "attio-people": ("Record ID", "Email addresses", "Job title", "Primary location"),
    "attio-companies": ("Record ID", "Domains", "Categories", "Primary location"),
    "attio-deals": ("Record ID", "Deal stage", "Deal owner", "Associated company"),
    "zoho-contacts": ("Record Id", "Contact Owner.id", "Account Name.id", "Locked"),
    "zoho-leads": ("Record Id", "Lead Owner.id", "Lead Status", "Lead Name", "Is Converted"),
    "zoho-accounts": ("Record Id", "Account Owner.id", "Account Name", "Locked"),
    "zoho-deals": ("Record Id", "Deal Owner.id", "Closing Date", "Stage", "Probability (%)"),
    "sales-navigator-evaboot": (
        "Prospect Position",
        "Company Employee Count",
        "Sales Navigator URL",
    ),
    "sales-navigator-phantombuster": (
        "profileUrl",
        "vmid",
        "regularCompanyUrl",
        "linkedInProfileUrl",
    ),
}
