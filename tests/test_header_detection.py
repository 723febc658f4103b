"""A reader that finds the header: header row and delimiter chosen from the whole sample,
ragged rows taken as rows (never a reason to refuse the file); DOS ^Z endings; standard
input and named pipes read once into a private copy."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from csv_generator import generate

from importer.errors import ImporterError
from importer.read.source import open_source

CASES = 1000
SCRIPT = Path(sys.executable).with_name("octolane-import")


def test_header_and_delimiter_of_generated_exports(tmp_path):
    """The property: >= 99.5% read right; the rest refused naming the choice to make."""
    right, refused, wrong = 0, [], []
    for seed in range(CASES):
        case = generate(seed)
        path = tmp_path / f"case{seed}.csv"
        path.write_text(case.text, encoding="utf-8")
        try:
            with open_source(path) as source:
                info = source.info
                rows = sum(len(b.rows) for b in source.batches())
        except ImporterError as exc:
            refused.append((seed, str(exc)))
            continue
        if (info.delimiter, info.header_row, info.columns) == (
            case.delimiter, case.header_row, case.columns,
        ):  # fmt: skip
            right += 1
            assert rows >= 1
        else:
            wrong.append(seed)
    print(f"\n  {right} of {CASES} generated CSVs read right; refused {len(refused)},"
          f" misread {wrong}")  # fmt: skip
    assert right >= 0.995 * CASES
    for seed, message in refused:
        assert "--delimiter" in message or "--header-row" in message, (seed, message)


@pytest.mark.parametrize("seed", [3, 14, 15, 92, 65, 35])
def test_generated_exports_through_the_cli(tmp_path, seed):
    case = generate(seed)
    data = tmp_path / "export.csv"
    data.write_text(case.text, encoding="utf-8")
    mapping = tmp_path / "m.yaml"
    column = case.columns[0]
    mapping.write_text(f"note:\n  title: {{column: '{column}'}}\n", encoding="utf-8")
    result = subprocess.run(
        [SCRIPT, data, "-m", mapping, "--dry-run", "--out", tmp_path / "r.csv", "-q"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode in (0, 1), result.stderr
    delimiter = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}[case.delimiter]
    assert f"{delimiter}-delimited" in result.stdout
    with (tmp_path / "r.csv").open(encoding="utf-8-sig", newline="") as handle:
        lines = list(csv.DictReader(handle))
    assert lines and int(lines[0]["row"]) == case.header_row + 1


def test_a_ragged_row_is_a_row_finding_not_the_header(tmp_path):
    data = tmp_path / "people.csv"
    data.write_text("Email,Name\nann@acme.com,Doe, Ann\nbob@acme.com,Bob\n", encoding="utf-8")
    with open_source(data) as source:
        assert source.info.columns == ("Email", "Name")
        [batch] = list(source.batches())
    assert batch.rows == [["ann@acme.com", "Doe"], ["bob@acme.com", "Bob"]]
    assert batch.problems == {2: batch.problems[2]}
    assert "(beyond the header: ' Ann')" in batch.problems[2]


@pytest.mark.parametrize(
    ("text", "delimiter"),
    [
        # one-cell titles over a two-column table whose rows are mostly one cell: the
        # widest reading wins over a one-column one that would cut the rows
        (
            'Accounts (filtered)\r\nContacts report\r\nLinkedIn URL;Deal Name\r\n'
            'https://acme.com;"Müller; Chris"\r\nhttps://acme.com\r\n', ";",
        ),
        (
            'Salesforce export\nExport of all deals\nNotes,Contact ID\nok\nok\n'
            '"Met at the fair;\nfollow up"\n"line one\nline two",3.5\nok,675230807,x@y.com\n', ",",
        ),
    ],
)  # fmt: skip
def test_titles_over_a_table_of_short_rows(tmp_path, text, delimiter):
    data = tmp_path / "short.csv"
    data.write_text(text, encoding="utf-8")
    with open_source(data) as source:
        assert (source.info.delimiter, source.info.header_row) == (delimiter, 3)
        assert len(source.info.columns) == 2


@pytest.mark.parametrize(
    "text",
    [
        b"Email,Name\r\nann@acme.com,Ann\r\nbo@acme.com,Bo\r\n\x1a",
        b"Email,Name\nann@acme.com,Ann\nbo@acme.com,Bo\x1a",
        b"Email,Name\nann@acme.com,Ann\nbo@acme.com,Bo\n\x1a\x1a",
    ],
    ids=["after-the-last-line", "on-the-last-line", "twice"],
)
def test_a_dos_end_of_file_mark(tmp_path, text):
    data = tmp_path / "dos.csv"
    data.write_bytes(text)
    with open_source(data) as source:
        rows = [r for b in source.batches() for r in b.rows]
    assert rows == [["ann@acme.com", "Ann"], ["bo@acme.com", "Bo"]]


def test_a_small_file_with_a_stray_control_byte_is_text(tmp_path):
    data = tmp_path / "small.csv"
    data.write_bytes(b"Email,Name\nann@acme.com,A\x00nn\n")
    with open_source(data) as source:
        assert [r for b in source.batches() for r in b.rows] == [["ann@acme.com", "A\x00nn"]]
    data.write_bytes(b"\x00\x01\x02\x03\x04" + b"x" * 100)
    with pytest.raises(ImporterError, match="looks like a binary file"):
        open_source(data)


def private_tmp(tmp_path: Path) -> dict[str, str]:
    folder = tmp_path / "tmp"
    folder.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("OCTOLANE_")}
    return {**env, "TMPDIR": str(folder)}


SAMPLE = "Email,First Name,Last Name\nann@acme.com,Ann,Doe\nbo@beta.io,Bo,Roe\n"


def test_standard_input(tmp_path):
    env = private_tmp(tmp_path)
    result = subprocess.run(
        [SCRIPT, "-", "-m", "hubspot", "--dry-run"], input=SAMPLE, cwd=tmp_path, env=env,
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "stdin: 2 rows read" in result.stdout
    assert len((tmp_path / "stdin.results.csv").read_text().splitlines()) == 3
    assert os.listdir(tmp_path / "tmp") == []  # the private copy is gone
    proposed = subprocess.run(
        [SCRIPT, "map", "-"], input=SAMPLE, env=env, capture_output=True, text=True, timeout=60
    )
    assert proposed.returncode == 0, proposed.stderr
    assert proposed.stdout.startswith("# Proposed by `octolane-import map -`")
    assert "column: Email" in proposed.stdout
    written = subprocess.run(
        [SCRIPT, "map", "-", "-o", tmp_path / "m.yaml"], input=SAMPLE, env=env,
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert written.returncode == 0, written.stderr
    # the next command names the input as given, not the private copy (gone by then)
    assert written.stderr.endswith(
        f"then: octolane-import - --mapping {tmp_path / 'm.yaml'} --dry-run\n"
    ), written.stderr


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes")
def test_a_named_pipe(tmp_path):
    fifo = tmp_path / "leads.csv"
    os.mkfifo(fifo)

    def feed() -> None:
        with fifo.open("w", encoding="utf-8") as pipe:
            pipe.write(SAMPLE)

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    result = subprocess.run(
        [SCRIPT, fifo, "-m", "hubspot", "--dry-run", "--out", tmp_path / "r.csv"],
        env=private_tmp(tmp_path), capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    writer.join(5)
    assert result.returncode == 0, result.stderr
    assert "leads.csv: 2 rows read" in result.stdout
    assert len((tmp_path / "r.csv").read_text().splitlines()) == 3
