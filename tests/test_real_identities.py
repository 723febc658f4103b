"""No invented companies on the real exports the issue names (issue 10, point 5): a
free-mail host is personal whether it is read whole or cut to its registered domain."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from importer import run_import

REAL = Path(__file__).resolve().parents[2] / "shared" / "real-exports"


def dry_run_rows(path: Path, preset: str, tmp_path: Path) -> dict[str, dict[str, str]]:
    if not path.exists():
        pytest.skip(f"{path} is not on this machine")
    run_import(path, preset, dry_run=True, results_path=tmp_path / "r.csv")
    with (tmp_path / "r.csv").open(encoding="utf-8-sig", newline="") as handle:
        return {row["row"]: row for row in csv.DictReader(handle)}


def records(rows: dict[str, dict[str, str]]) -> set[str]:
    return {r for row in rows.values() for r in row["records"].split()}


def test_internode_on_net_makes_no_on_net_account(tmp_path):
    rows = dry_run_rows(
        REAL / "hubspot" / "contacts-export-all-contacts-au-textiles.csv", "hubspot", tmp_path
    )
    row = rows["463"]
    assert row["email"].endswith("@internode.on.net")
    assert row["domain"] == "" and row["records"] == f"contact:{row['email']}"
    assert "internode.on.net is a personal email domain" in row["warnings"]
    assert "account:on.net" not in records(rows)


def test_regional_free_mail_makes_no_account(tmp_path):
    rows = dry_run_rows(
        REAL / "pipedrive" / "people-export-uk-print.csv", "pipedrive-people", tmp_path
    )
    at_aol = [row for row in rows.values() if row["email"].endswith("@aol.co.uk")]
    assert len(at_aol) >= 10  # the issue counted 14 people
    assert all(row["domain"] == "" and row["contact_account"] == "" for row in at_aol)
    assert not {"account:aol.co.uk", "account:btopenworld.com"} & records(rows)
