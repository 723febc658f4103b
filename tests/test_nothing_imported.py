"""A run that can import nothing fails loudly: exit 1, one sentence why, and what would work."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from importer import run_import
from importer.cli import cli, main  # noqa: F401  (main registers the sub-commands)

REAL = Path(__file__).resolve().parents[2] / "shared" / "real-exports"

ACCOUNTS_ONLY = """
options: {personal_domains: skip}
account:
  domain: {column: Email, transforms: [domain]}
"""


def write(path: Path, text: str) -> Path:
    path.write_text(text.lstrip(), encoding="utf-8")
    return path


def test_a_file_of_only_skipped_rows_exits_1_and_says_why(tmp_path: Path) -> None:
    data = write(tmp_path / "people.csv", "Email\nann@gmail.com\nbob@hotmail.com\n")
    mapping = write(tmp_path / "m.yaml", ACCOUNTS_ONLY)
    result = CliRunner().invoke(
        cli,
        [str(data), "--mapping", str(mapping), "--dry-run", "--out", str(tmp_path / "r.csv")],
        catch_exceptions=False,
    )
    assert result.exit_code == 1, result.output
    last = result.output.strip().splitlines()[-1]
    assert last.startswith("NOTHING IMPORTED: none of the 2 rows gives Octolane a record")
    assert "personal email domain" in last and "octolane-import map FILE" in last


def test_one_row_to_import_is_enough_for_exit_0(tmp_path: Path) -> None:
    data = write(tmp_path / "people.csv", "Email\nann@gmail.com\nbob@acme.com\n")
    mapping = write(tmp_path / "m.yaml", ACCOUNTS_ONLY)
    report = run_import(data, mapping, dry_run=True, results_path=tmp_path / "r.csv")
    assert report.counts == {"skipped": 1, "would_import": 1}
    assert report.nothing_imported is None and report.exit_code == 0


@pytest.mark.skipif(not REAL.exists(), reason="the shared real exports are not beside the repo")
def test_pipedrive_organisations_without_websites_exit_1_with_the_presets_advice(
    tmp_path: Path,
) -> None:
    """The issue's case: 6,856 rows, all skipped, once exit 0 with an empty failures file."""
    source = REAL / "pipedrive" / "organisations-export-uk-print.csv"
    result = CliRunner().invoke(
        cli,
        [
            str(source),
            "--mapping",
            "pipedrive-organizations",
            "--dry-run",
            "--json",
            "--out",
            str(tmp_path / "r.csv"),
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 1
    summary = json.loads(result.stdout)
    assert summary["counts"] == {"skipped": 6856} and summary["exit_code"] == 1
    said = summary["nothing_imported"]
    assert said.startswith("none of the 6,856 rows gives Octolane a record to create")
    assert "Website" in said and "--mapping pipedrive-people" in said
