"""Each preset with its fixture export and the exact dry-run outcome (shared by
test_presets.py and test_proposal.py).

The fixtures are written by tests/fixtures/exports/make_fixtures.py; every one
has the problems real exports have, so the counts below are not all "ok":
a row without an e-mail and one with a malformed e-mail (invalid, or partial where
the row's company still goes), the same
person again in capitals, under another record id (merged: one Octolane contact), freemail people (contacts without an
account), a company without a domain, a deal with no contact, an amount nobody
can read (a warning: the deal goes without it).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "exports"
PIPELINE_ID = "00000000-0000-4000-8000-000000000001"


@dataclass(frozen=True)
class Case:
    preset: str
    fixture: str
    read: int
    ok: int  # would_import
    invalid: int
    duplicate: int
    skipped: int
    contacts: int
    accounts: int
    deals: int
    partial: int = 0  # some of the row's records go, some are rejected
    merged: int = 0  # another source record with the same Octolane records

    @property
    def path(self) -> Path:
        return FIXTURES / self.fixture

    @property
    def counts(self) -> dict[str, int]:
        counts = {
            "would_import": self.ok,
            "partial": self.partial,
            "invalid": self.invalid,
            "duplicate": self.duplicate,
            "merged": self.merged,
            "skipped": self.skipped,
        }
        return {k: v for k, v in counts.items() if v}


def case(preset: str, fixture: str, **numbers: int) -> Case:
    return Case(preset, fixture, **numbers)


# fmt: off
CASES = [
    case("hubspot", "hubspot/contacts.csv", read=27, ok=24, invalid=2, duplicate=0, merged=1, skipped=0, contacts=24, accounts=8, deals=0),
    case("hubspot", "hubspot/contacts.xlsx", read=27, ok=24, invalid=2, duplicate=0, merged=1, skipped=0, contacts=24, accounts=8, deals=0),
    case("hubspot-companies", "hubspot/companies.csv", read=13, ok=10, invalid=1, duplicate=0, merged=1, skipped=1, contacts=0, accounts=10, deals=0),
    # a note with no body is refused; one with no contact and no company has nobody to belong to
    case("hubspot-notes", "hubspot/notes.csv", read=12, ok=10, invalid=1, duplicate=0, skipped=0, contacts=10, accounts=6, deals=0, partial=1),
    case("hubspot-deals", "hubspot/deals.csv", read=17, ok=16, invalid=0, duplicate=0, merged=1, skipped=0, contacts=15, accounts=5, deals=14),
    case("salesforce-report-contacts", "salesforce/contacts-report.csv", read=25, ok=20, invalid=2, duplicate=1, skipped=2, contacts=20, accounts=9, deals=0),
    case("salesforce-report-leads", "salesforce/leads-report.csv", read=23, ok=18, invalid=1, duplicate=1, skipped=2, contacts=18, accounts=8, deals=0, partial=1),
    case("salesforce-report-accounts", "salesforce/accounts-report.csv", read=13, ok=9, invalid=1, duplicate=1, skipped=2, contacts=0, accounts=9, deals=0),
    case("salesforce-report-opportunities", "salesforce/opportunities-report.csv", read=16, ok=14, invalid=0, duplicate=0, skipped=2, contacts=13, accounts=7, deals=14),
    case("salesforce-contacts", "salesforce/Contact.csv", read=23, ok=20, invalid=2, duplicate=0, merged=1, skipped=0, contacts=20, accounts=9, deals=0),
    case("salesforce-leads", "salesforce/Lead.csv", read=19, ok=16, invalid=0, duplicate=0, merged=1, skipped=0, contacts=16, accounts=10, deals=0, partial=2),
    case("salesforce-accounts", "salesforce/extract-Account.csv", read=11, ok=10, invalid=0, duplicate=0, skipped=1, contacts=0, accounts=10, deals=0),
    # notes need links: on its own, no task says whom it is about (test_links gives the files)
    case("salesforce-tasks", "salesforce/Task.csv", read=12, ok=0, invalid=12, duplicate=0, skipped=0, contacts=0, accounts=0, deals=0),
    case("salesforce-opportunities", "salesforce/Opportunity.csv", read=15, ok=15, invalid=0, duplicate=0, skipped=0, contacts=0, accounts=10, deals=15),
    case("pipedrive-people", "pipedrive/people.csv", read=27, ok=24, invalid=2, duplicate=1, skipped=0, contacts=24, accounts=9, deals=0),
    case("pipedrive-organizations", "pipedrive/organizations.csv", read=10, ok=8, invalid=2, duplicate=0, skipped=0, contacts=0, accounts=8, deals=0),
    case("pipedrive-deals", "pipedrive/deals.csv", read=14, ok=14, invalid=0, duplicate=0, skipped=0, contacts=13, accounts=8, deals=14),
    case("apollo-people", "apollo/people.csv", read=25, ok=22, invalid=0, duplicate=0, merged=1, skipped=0, contacts=22, accounts=10, deals=0, partial=2),
    case("apollo-accounts", "apollo/accounts.csv", read=11, ok=9, invalid=1, duplicate=1, skipped=0, contacts=0, accounts=9, deals=0),
    case("close-leads", "close/leads.csv", read=25, ok=22, invalid=1, duplicate=0, merged=1, skipped=0, contacts=22, accounts=10, deals=0, partial=1),
    case("close-opportunities", "close/opportunities.csv", read=15, ok=15, invalid=0, duplicate=0, skipped=0, contacts=14, accounts=8, deals=15),
    case("attio-people", "attio/people.csv", read=25, ok=22, invalid=2, duplicate=0, merged=1, skipped=0, contacts=22, accounts=9, deals=0),
    case("attio-companies", "attio/companies.csv", read=11, ok=10, invalid=1, duplicate=0, skipped=0, contacts=0, accounts=10, deals=0),
    case("attio-deals", "attio/deals.csv", read=14, ok=14, invalid=0, duplicate=0, skipped=0, contacts=13, accounts=7, deals=14),
    case("zoho-contacts", "zoho/contacts.csv", read=23, ok=20, invalid=2, duplicate=0, merged=1, skipped=0, contacts=20, accounts=9, deals=0),
    case("zoho-leads", "zoho/leads.csv", read=19, ok=16, invalid=1, partial=1, duplicate=0, merged=1, skipped=0, contacts=16, accounts=8, deals=0),
    case("zoho-accounts", "zoho/accounts.csv", read=10, ok=8, invalid=2, duplicate=0, skipped=0, contacts=0, accounts=8, deals=0),
    case("zoho-deals", "zoho/deals.csv", read=14, ok=14, invalid=0, duplicate=0, skipped=0, contacts=13, accounts=5, deals=14),
    case("sales-navigator-evaboot", "sales-navigator/evaboot.csv", read=27, ok=24, invalid=0, duplicate=0, merged=1, skipped=0, contacts=24, accounts=9, deals=0, partial=2),
    case("sales-navigator-phantombuster", "sales-navigator/phantombuster.csv", read=23, ok=20, invalid=2, duplicate=0, merged=1, skipped=0, contacts=20, accounts=8, deals=0),
]
# fmt: on

PARAMS = [pytest.param(c, id=f"{c.preset}:{c.fixture}") for c in CASES]


# The stages of the pipeline the preset tests import into: every stage label the
# fixtures use, so a deal's stage is resolved by name (the sandbox has its own five).
FIXTURE_STAGE_LABELS = (
    "Appointment scheduled", "Qualified to buy", "Presentation scheduled", "Contract sent",
    "Closed won", "Closed lost", "Prospecting", "Qualification", "Negotiation/Review",
    "Proposal Made", "Negotiations Started", "Lead", "Qualified", "Active", "Won", "Won 🎉",
    "Lost", "Bad Fit", "In Progress", "Potential",
)  # fmt: skip


def stages_named(labels):
    """A pipeline whose stages carry these labels, in this order (ids derived from them)."""
    import uuid

    from importer.map.stages import PipelineStage

    space = uuid.UUID("0b6c9a52-41f3-4d3e-9a57-6f1e1c2d3b4a")
    return tuple(
        PipelineStage(str(uuid.uuid5(space, label)), label, order)
        for order, label in enumerate(labels, 1)
    )


def fixture_stages():
    return stages_named(FIXTURE_STAGE_LABELS)


def own_stages(path, preset):
    """The pipeline a migration recreates: one stage per label the file's stage column holds."""
    from importer.map.presets import resolve_mapping_path
    from importer.map.spec import load_mapping
    from importer.read.source import open_source

    mapping = load_mapping(resolve_mapping_path(preset))
    spec = mapping.opportunity.stage if mapping.opportunity else None
    if spec is None:
        return ()
    labels = {}
    with open_source(path) as source:
        if spec.column not in source.info.columns:
            return ()
        at = source.info.columns.index(spec.column)
        for batch in source.batches():
            for row in batch.rows:
                if row[at].strip():
                    labels[row[at].strip()] = None
    return stages_named(labels)
