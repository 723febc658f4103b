"""The CLI's dry-run: summary, results file, exit codes, one-line errors for bad input."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from importer.cli import cli, main  # noqa: F401  (main registers the sub-commands)
from importer.report.results import RESULT_COLUMNS

MAPPING = """
contact:
  email: {column: Email, transforms: [email]}
  first_name: First Name
  last_name: Last Name
account:
  domain: {column: Website, transforms: [domain], required: false, optional_column: true}
"""

LEADS = """
Email,First Name,Last Name,Website
jo@acme.com,Jo,Smith,https://www.acme.com
al@acme.com,Al,Jones,acme.com
bad-address,Bo,Brown,globex.com
,Cy,Black,initech.co.uk
JO@ACME.COM,Jo,Smith,acme.com
sam@gmail.com,Sam,Green,
"""


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def files(write_csv, write_mapping):
    return write_csv(LEADS), write_mapping(MAPPING)


def results_of(path):
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def test_dry_run_writes_every_row_and_exits_1_on_rejected_rows(files, tmp_path):
    leads, mapping = files
    out, failures = tmp_path / "r.csv", tmp_path / "f.csv"
    result = run(
        leads, "--mapping", mapping, "--dry-run", "--out", out, "--failures", failures, "-q"
    )
    assert result.exit_code == 1, result.output
    rows = results_of(out)
    assert [(r["row"], r["status"]) for r in rows] == [
        ("2", "would_import"),
        ("3", "would_import"),
        ("4", "partial"),  # the person is rejected, the company goes
        ("5", "partial"),
        ("6", "duplicate"),
        ("7", "would_import"),
    ]
    assert rows[2]["error_fields"] == "contact.email"
    assert "'bad-address'" in rows[2]["message"]
    assert rows[2]["records"] == "account:globex.com"
    assert rows[3]["message"] == (
        "the contact is left out: contact.email (column 'Email'): is empty: Octolane"
        " identifies people by email address; the company goes ahead"
    )
    assert rows[4]["message"] == (
        "duplicate of row 2: the same account:acme.com and contact:jo@acme.com"
    )
    assert rows[4]["duplicate_of"] == "2"
    assert rows[5]["domain"] == "" and rows[5]["email"] == "sam@gmail.com"
    assert list(rows[0]) == list(RESULT_COLUMNS)
    fixed = results_of(failures)
    assert [f["Email"] for f in fixed] == ["bad-address", ""]
    assert (
        "rows read" in result.output and "planned requests: accounts 2, contacts 3" in result.output
    )


def test_json_summary(files, tmp_path):
    leads, mapping = files
    result = run(leads, "-m", mapping, "--dry-run", "--json", "--out", tmp_path / "r.csv")
    data = json.loads(result.output)
    assert data["counts"] == {"would_import": 3, "partial": 2, "duplicate": 1}
    assert data["planned_requests"] == {"accounts": 2, "contacts": 3}
    assert data["rows_read"] == 6
    assert data["exit_code"] == 1


def test_all_valid_exits_0(write_csv, write_mapping, tmp_path):
    leads = write_csv("Email,First Name,Last Name\njo@acme.com,Jo,Smith\n")
    mapping = write_mapping("contact:\n  email: Email\n")
    result = run(
        leads,
        "-m",
        mapping,
        "--dry-run",
        "-q",
        "--out",
        tmp_path / "r.csv",
        "--failures",
        tmp_path / "f.csv",
    )
    assert result.exit_code == 0, result.output


def test_no_key_and_no_sandbox_is_a_one_line_usage_error(files, tmp_path, monkeypatch):
    monkeypatch.delenv("OCTOLANE_API_KEY", raising=False)
    leads, mapping = files
    result = run(leads, "-m", mapping, "--out", tmp_path / "r.csv")
    assert result.exit_code == 2
    assert result.output.strip() == (
        "error: no API key: set OCTOLANE_API_KEY or pass --api-key-file; or try --sandbox or --dry-run"
    )


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: d / "missing.csv", "missing.csv: no such file"),
        (lambda d: _write(d / "empty.csv", b""), "empty.csv: the file is empty"),
        (
            lambda d: _write(d / "header.csv", b"Email,First Name\n"),
            "header.csv: the file has a header row but no data rows",
        ),
        (lambda d: _write(d / "binary.csv", bytes(range(256)) * 8), "binary.csv:"),
    ],
)
def test_bad_files_get_a_one_line_error_and_exit_2(tmp_path, write_mapping, make, message):
    mapping = write_mapping("contact:\n  email: Email\n")
    result = run(make(tmp_path), "-m", mapping, "--dry-run", "--out", tmp_path / "r.csv")
    assert result.exit_code == 2
    assert result.output.startswith(f"error: {tmp_path / message}")
    assert len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "r.csv").exists()


@pytest.mark.parametrize(
    ("mapping_text", "message"),
    [
        (
            "contact:\n  email: Emial\n",
            "contact.email: column 'Emial' is not in leads.csv (columns: Email, First Name, Last Name, Website)",
        ),
        ("contact: [\n", "invalid YAML"),
        (
            "contact:\n  email: {column: Email, transforms: [shout]}\n",
            "contact.email.transforms[0]: unknown transform 'shout'",
        ),
    ],
)
def test_bad_mappings_get_a_one_line_error_and_exit_2(
    files, write_mapping, tmp_path, mapping_text, message
):
    leads, _ = files
    mapping = write_mapping(mapping_text, "bad.yaml")
    result = run(leads, "-m", mapping, "--dry-run", "--out", tmp_path / "r.csv")
    assert result.exit_code == 2
    assert message in result.output
    assert result.output.startswith(f"error: {mapping}")
    assert len(result.output.strip().splitlines()) == 1


def test_deals_without_a_pipeline_is_a_usage_error(write_csv, write_mapping, tmp_path, monkeypatch):
    monkeypatch.delenv("OCTOLANE_PIPELINE_ID", raising=False)
    leads = write_csv("Domain,Deal\nacme.com,Renewal\n")
    mapping = write_mapping("opportunity:\n  name: Deal\naccount:\n  domain: Domain\n")
    result = run(leads, "-m", mapping, "--dry-run", "--out", tmp_path / "r.csv")
    assert result.exit_code == 2
    assert "maps deals, which need a pipeline: pass --pipeline-id" in result.output


def _write(path, data):
    path.write_bytes(data)
    return path


def test_an_output_that_cannot_be_written_fails_before_any_row(files, tmp_path):
    leads, mapping = files
    result = run(leads, "-m", mapping, "--sandbox", "--out", tmp_path)
    assert result.exit_code == 2
    assert (
        result.output.strip() == f"error: {tmp_path}: is a folder; give a file name for the output"
    )


def test_no_partial_results_file_is_left_behind(write_csv, write_mapping, tmp_path):
    # the second batch's row is undecodable: the run stops with exit 2 and no results file
    leads = tmp_path / "leads.csv"
    leads.write_bytes(b"Email\n" + b"jo@acme.com\n" * 3 + "jö@acme.com\n".encode("cp1252"))
    mapping = write_mapping("contact:\n  email: Email\n")
    out = tmp_path / "r.csv"
    result = run(leads, "-m", mapping, "--dry-run", "--encoding", "utf-8", "--out", out)
    assert result.exit_code == 2, result.output
    assert not out.exists() and not (tmp_path / "r.csv.partial").exists()


def test_a_failures_file_imports_again_with_the_same_mapping(write_csv, write_mapping, tmp_path):
    # an amount like -500 is written as '-500 (formula guard) and read back as -500
    leads = write_csv("Website,Deal,Amount\nacme.com,Renewal,-500\n,Orphan,-20\n")
    mapping = write_mapping(
        "account:\n  domain: {column: Website, required: false}\n"
        "opportunity:\n  name: Deal\n  deal_size: Amount\n"
        "options:\n  pipeline_id: 00000000-0000-4000-8000-000000000001\n"
        "  unlinked_deals: reject\n"  # the orphan deal is refused, then fixed
    )
    failures = tmp_path / "f.csv"
    run(
        leads, "-m", mapping, "--dry-run", "-q", "--out", tmp_path / "r.csv", "--failures", failures
    )
    assert "'-20" in failures.read_text(encoding="utf-8-sig")
    fixed = failures.read_text(encoding="utf-8-sig").replace(",Orphan,", "globex.com,Orphan,")
    failures.write_text(fixed, encoding="utf-8-sig")
    result = run(failures, "-m", mapping, "--dry-run", "--json", "--out", tmp_path / "r2.csv")
    assert json.loads(result.output)["counts"] == {"would_import": 1}
    (row,) = results_of(tmp_path / "r2.csv")
    # the amount came back as -20 (refused by the API's deal_size >= 0), not as text
    assert "-20.0" in row["warnings"] and "not an amount" not in row["warnings"]


def test_map_writes_a_mapping_that_dry_runs(tmp_path):
    kunden = Path(__file__).parent / "fixtures" / "exports" / "unknown" / "kunden.csv"
    out = tmp_path / "kunden.yaml"
    result = run("map", kunden, "-o", out)
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert text.endswith("\n") and "E-Mail-Adresse" in text
    result = run(
        kunden,
        "-m",
        out,
        "--dry-run",
        "--json",
        "--out",
        tmp_path / "r.csv",
        "--pipeline-id",
        "00000000-0000-4000-8000-000000000001",
    )
    assert result.exit_code in (0, 1), result.output
    assert json.loads(result.output)["rows_read"] > 0


def test_map_list_names_every_preset():
    result = run("map", "--list")
    assert result.exit_code == 0
    names = [line.split()[0] for line in result.output.splitlines()]
    assert "hubspot" in names and len(names) == 30  # 29 mappings and one whole-export preset
