"""Results and failures files: one line per row, formulas neutralised."""

from __future__ import annotations

import csv
import os
import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st

from importer.report.results import (
    FAILURE_COLUMNS,
    RESULT_COLUMNS,
    RowResult,
    neutralise,
    read_results,
    write_failures,
    write_results,
)


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("=SUM(A1:A9)", "'=SUM(A1:A9)"),
        ("+1 555 0100", "'+1 555 0100"),
        ("-2+3", "'-2+3"),
        ("@cmd", "'@cmd"),
        ("\t=1", "'\t=1"),
        ("jo@acme.com", "jo@acme.com"),
        ("", ""),
        ("Acme = great", "Acme = great"),
    ],
)
def test_neutralise(cell, expected):
    assert neutralise(cell) == expected


def read(path):
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))


def test_results_file_has_one_line_per_row(tmp_path):
    path = tmp_path / "out" / "results.csv"
    results = [
        RowResult(2, "would_import", "acme.com", "jo@acme.com", records=("contact:jo@acme.com",)),
        RowResult(
            3,
            "invalid",
            message="contact.email (column 'Email'): is empty",
            error_fields=("contact.email",),
        ),
        RowResult(4, "duplicate", duplicate_of=2, warnings=("=danger", "second")),
    ]
    assert write_results(path, results) == 3
    lines = read(path)
    assert lines[0] == list(RESULT_COLUMNS)
    assert [[line[0], line[RESULT_COLUMNS.index("status")]] for line in lines[1:]] == [
        ["2", "would_import"],
        ["3", "invalid"],
        ["4", "duplicate"],
    ]
    assert lines[2][RESULT_COLUMNS.index("error_fields")] == "contact.email"
    assert lines[3][RESULT_COLUMNS.index("warnings")] == "'=danger | second"
    assert lines[3][RESULT_COLUMNS.index("duplicate_of")] == "2"


def test_failures_file_keeps_the_original_columns(tmp_path):
    path = tmp_path / "failures.csv"
    rows = [(2, ["jo@acme.com", "Jo"]), (3, ["", "=cmd|' /C calc'!A0"]), (4, ["al@xy.com", "Al"])]
    written = write_failures(
        path, ["Email", "First Name"], iter(rows), {3: "contact.email: is empty"}
    )
    assert written == 1
    assert read(path) == [
        ["Email", "First Name", *FAILURE_COLUMNS],
        ["", "'=cmd|' /C calc'!A0", "3", "contact.email: is empty"],
    ]


def test_a_failures_file_run_again_replaces_its_own_columns(tmp_path):
    """Re-running a failures file writes import_row and import_error once, for this run."""
    path = tmp_path / "failures-2.csv"
    columns = ["Email", "First Name", *FAILURE_COLUMNS]
    rows = [(2, ["jo@", "Jo", "7", "contact.email: bad"]), (3, ["al@xy.com", "Al", "9", "x"])]
    assert write_failures(path, columns, iter(rows), {2: "contact.email: still bad"}) == 1
    assert read(path) == [
        ["Email", "First Name", *FAILURE_COLUMNS],
        ["jo@", "Jo", "2", "contact.email: still bad"],
    ]


@pytest.mark.parametrize("cell", ["=SUM(A1:A9)", "+1 555 0100", "-2+3", "@cmd", "\t=1", "\r+1"])
def test_a_guarded_cell_reads_back_as_it_was(cell):
    """The writer's guard and the mapping reader's undoing of it share one set of characters."""
    from importer.map.spec import _cleaner
    from importer.map.transforms.cells import FORMULA_START, NULL_VALUES

    assert cell[0] in FORMULA_START
    clean = _cleaner(frozenset(NULL_VALUES))
    written = neutralise(cell)
    assert written == "'" + cell
    assert clean(written) == clean(cell) == cell.strip()


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("  N/A ", None),
        ("[NOT PROVIDED]", None),
        ("Undefined", None),
        ("'", "'"),
        ("'=", "="),
        ("none of them", "none of them"),
        ("Nora", "Nora"),
        ("111285.43", "111285.43"),
        ("  jo@acme.com ", "jo@acme.com"),
    ],
)
def test_the_cleaner_empties_placeholders_in_any_case_and_keeps_the_rest(cell, expected):
    from importer.map.spec import _cleaner
    from importer.map.transforms.cells import NULL_VALUES

    assert _cleaner(frozenset(NULL_VALUES))(cell) == expected


def test_a_dry_run_keeps_no_rows_and_reads_its_results_back(tmp_path) -> None:
    """A dry run that writes its results keeps no row plans (memory does not grow with the
    file); ``report.results`` then reads the file back, and equals the kept rows' results."""
    from pathlib import Path

    from importer import run_import

    sample = Path(__file__).resolve().parents[1] / "sample_data" / "hubspot-contacts.csv"
    kept = run_import(
        sample, "hubspot", dry_run=True, results_path=tmp_path / "a.csv", keep_rows=True
    )
    lean = run_import(sample, "hubspot", dry_run=True, results_path=tmp_path / "b.csv")
    assert len(kept.rows) == kept.rows_read > 0 and lean.rows == []
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    from_memory, from_file = list(kept.results), list(lean.results)
    assert len(from_file) == lean.rows_read
    assert any(r.warnings for r in from_file) and any(r.error_fields for r in from_file)
    assert any(r.duplicate_of for r in from_file)
    assert from_file == from_memory


def test_read_results_restores_neutralised_cells(tmp_path) -> None:
    from importer.report.results import read_results

    path = tmp_path / "r.csv"
    row = RowResult(
        7,
        "would_import",
        "acme.com",
        "=jo@acme.com",
        warnings=("-1 is odd", "second"),
        records=("account:acme.com",),
    )
    write_results(path, [row])
    assert list(read_results(path)) == [row]


@pytest.mark.parametrize(
    "cells",
    [
        ["1", "would_import", "acme.com", "", ""],
        ["2", "a,b", "x"],
        ["3", 'say "hi"', ""],
        ["4", "line\nbreak", "cr\rhere"],
        ["5", "", "", ""],
        ["6", "Zoë – Münch ✓", "'=SUM(A1)"],
        [""],
        ["7", " padded ", "tab\there"],
    ],
)
def test_fast_csv_text_is_what_csv_writer_writes(cells) -> None:
    import io

    from importer.report.results import _csv_text

    expected = io.StringIO()
    csv.writer(expected).writerows([cells, cells])
    assert _csv_text([cells, cells]) == expected.getvalue()


@given(
    st.lists(st.text(alphabet=st.sampled_from(list(",\"\r\n a\tü\x00;'")), max_size=6), max_size=5)
)
def test_every_line_is_what_csv_writer_writes(cells) -> None:
    import io

    from importer.report.results import _csv_line

    expected = io.StringIO()
    csv.writer(expected).writerow(cells)
    assert _csv_line(cells) == expected.getvalue()


@pytest.mark.parametrize(
    ("source_id", "email", "warnings", "dup"),
    [
        ("", "jo@acme.com", None, None),
        ("=1+1", "-jo@acme.com", ["=cmd", "b"], 7),
        ("a,b", "jo@acme.com", ['say "hi"'], None),
        ("line\nbreak", "jo@acme.com", ["cr\rhere"], 3),
        ("\u00a0=SUM(A1)", "jo@acme.com", ["\u200b@x", "Zoë – Münch ✓"], None),
    ],
)
def test_a_plain_results_line_is_what_the_csv_writer_writes_of_its_cells(
    source_id, email, warnings, dup
) -> None:
    import io

    from importer.report.results import contact_account, duplicate_message, plain_line

    records = ("account:acme.com", f"contact:{email}", "opportunity:p:acme.com:=Deal, big")
    cells = [
        "12", neutralise(source_id), "would_import", "acme.com", neutralise(email),
        neutralise(contact_account(email, records)), "", "", "", "", "", "",
        duplicate_message(dup, records) if dup else "",
        neutralise(" | ".join(warnings)) if warnings else "",
        str(dup) if dup else "", neutralise(" ".join(records)),
    ]  # fmt: skip
    expected = io.StringIO()
    csv.writer(expected).writerow(cells)
    line, warned = plain_line(
        12, "would_import", "acme.com", email, records, dup, warnings, source_id
    )
    assert line == expected.getvalue() and warned == bool(warnings)


@pytest.mark.parametrize("hider", ["\u00a0", "\ufeff", "\u200b", "\u2060", "\u00a0\u200b"])
@pytest.mark.parametrize("start", ["=", "+", "-", "@"])
def test_a_formula_behind_invisible_characters_is_neutralised_and_restored(hider, start, tmp_path):
    payload = f'{hider}{start}HYPERLINK("http://x.test")'
    assert neutralise(payload) == "'" + payload
    path = tmp_path / "r.csv"
    write_results(path, [RowResult(2, "would_import", message=payload)])
    assert [r.message for r in read_results(path)] == [payload]  # round trip
    assert neutralise("\u00a0plain") == "\u00a0plain"


def test_the_first_line_with_an_id_is_found_after_short_and_empty_lines(tmp_path) -> None:
    from importer.report.results import _without_ids, results_with_ids

    width = len(RESULT_COLUMNS)
    people = RESULT_COLUMNS.index("people_id")
    deal = RESULT_COLUMNS.index("opportunity_id")

    def line(row, **ids):
        cells = [str(row), "", "imported"] + [""] * (width - 3)
        for position, value in ids.items():
            cells[int(position)] = value
        return cells

    def written(name, lines):
        path = tmp_path / name
        with path.open("w", encoding="utf-8-sig", newline="") as handle:
            csv.writer(handle).writerows([list(RESULT_COLUMNS), *lines])
        return path

    plain = [line(n) for n in range(2, 500)]
    assert results_with_ids(written("none.csv", plain)) is None
    assert _without_ids(tmp_path / "none.csv")  # decided by the fast pass
    quoted = written("quoted.csv", [*plain, ["500", "a,b", "would_import"] + [""] * (width - 3)])
    assert not _without_ids(quoted) and results_with_ids(quoted) is None  # the exact reading
    found = written("deal.csv", [*plain, line(500, **{str(deal): "u-1"})])
    assert results_with_ids(found) == (500, "opportunity_id") and not _without_ids(found)
    # a file saved with lone carriage returns as line ends is one line to the fast pass
    lone = tmp_path / "lone-cr.csv"
    with lone.open("w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle, lineterminator="\r").writerows(
            [list(RESULT_COLUMNS), line(2), line(3, **{str(people): "p-9"})]
        )
    assert not _without_ids(lone) and results_with_ids(lone) == (3, "people_id")
    # a named pipe is read once, by the exact reading
    fifo = tmp_path / "results.fifo"
    os.mkfifo(fifo)

    def feed() -> None:
        with fifo.open("w", encoding="utf-8", newline="") as handle:
            csv.writer(handle).writerows(
                [list(RESULT_COLUMNS), line(2), line(3, **{str(people): "p-7"})]
            )

    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    assert results_with_ids(fifo) == (3, "people_id")
    feeder.join(timeout=10)
    # a line cut short (a hand-edited file) is read one at a time, and is read
    short = ["3", "", "imported", "", "", "", "", "p-1"]
    assert len(short) == people + 1
    assert results_with_ids(written("short.csv", [line(2), short, line(4)])) == (3, "people_id")
    assert results_with_ids(written("cut.csv", [line(2), ["3", ""], line(4)])) is None


def test_a_reason_groups_values_whatever_quotes_their_repr_takes():
    """A stage label with an apostrophe is written "…" by repr: it was cut at the
    apostrophe ('UWS | Colum'…' (W59th)') and not grouped with the others."""
    from importer.report.results import generic_reason

    said = [
        generic_reason(f"opportunity.stage: {label!r} has no Octolane stage")
        for label in ("UWS | Columbus's (W59th-W110th)", "Won")
    ]
    assert said == ["opportunity.stage: '…' has no Octolane stage"] * 2
