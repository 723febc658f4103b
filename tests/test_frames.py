"""DataFrames in and out: run_import takes a DataFrame (or mappings) with the same mapping
file a CSV would use, and ImportReport.to_pandas() gives the results back."""

from __future__ import annotations

import datetime as dt

import pytest
from test_import_e2e import inspect, settings, write

from importer import run_import
from importer.errors import UsageError
from importer.read.frames import write_rows_in_memory
from importer.sandbox import running_sandbox

pd = pytest.importorskip("pandas")
np = pytest.importorskip("numpy")

MAPPING = """
contact:
  email: {column: Email, transforms: [email]}
  first_name: First Name
  last_name: Last Name
"""


def frame():
    return pd.DataFrame(
        {
            "Email": ["ann@acme.com", "not-an-email", "bo@beta.io", None],
            "First Name": ["Ann", "Al", None, "Cy"],
            "Last Name": ["Doe", "Lee", "Roe", "Ray"],
            "Employees": [12, 40, 7, 3],
        }
    )


def test_cells_become_text_as_a_spreadsheet_shows_them(tmp_path):
    data = pd.DataFrame(
        {
            "int": [1, 2],
            "float": [2.5, np.nan],
            "big": [1e20, 0.1],
            "nullable": pd.array([7, None], dtype="Int64"),
            "when": [pd.Timestamp("2026-01-02 03:04:05"), pd.NaT],
            "day": [dt.date(2026, 5, 6), None],
            "flag": [True, False],
            "text": ["00501", ""],
        }
    )
    path = write_rows_in_memory(data, tmp_path)
    assert path.read_text(encoding="utf-8").splitlines() == [
        "int,float,big,nullable,when,day,flag,text",
        "1,2.5,100000000000000000000,7,2026-01-02 03:04:05,2026-05-06,TRUE,00501",
        "2,,0.1,,,,FALSE,",
    ]
    assert oct(path.stat().st_mode & 0o777) == "0o600"


def test_a_dataframe_dry_run_is_the_csv_dry_run(tmp_path):
    mapping = write(tmp_path / "m.yaml", MAPPING)
    data = frame()
    from_frame = run_import(data, mapping, dry_run=True)
    csv_file = tmp_path / "leads.csv"
    data.to_csv(csv_file, index=False)
    from_file = run_import(csv_file, mapping, dry_run=True)
    assert from_frame.counts == from_file.counts == {"would_import": 2, "invalid": 2}
    assert from_frame.source.path.name == "DataFrame.csv"
    frame_results = from_frame.to_pandas()
    file_results = from_file.to_pandas()
    assert list(frame_results["status"]) == list(file_results["status"])
    assert list(frame_results["message"].fillna("")) == list(file_results["message"].fillna(""))
    # the mapped input columns first, then the results; Employees is not mapped
    assert list(frame_results.columns[:5]) == ["row", "Email", "First Name", "Last Name",
                                               "source_id"]  # fmt: skip
    assert "Employees" not in frame_results.columns
    assert list(frame_results["row"]) == [2, 3, 4, 5]
    assert frame_results.loc[1, "Email"] == "not-an-email"
    assert "is not an email" in frame_results.loc[1, "message"]


def test_a_dataframe_lands_in_the_sandbox_and_comes_back_with_ids(tmp_path):
    mapping = write(tmp_path / "m.yaml", MAPPING)
    with running_sandbox() as box:
        report = run_import(frame(), mapping, settings=settings(box))
        people = {p["email"]: p["people_id"] for p in inspect(box, "contacts")}
    results = report.to_pandas()
    assert set(people) == {"ann@acme.com", "bo@beta.io"}
    imported = results[results["status"] == "imported"]
    assert dict(zip(imported["Email"], imported["people_id"], strict=True)) == people
    assert results["http_status"].dtype == "Int64"


def test_mappings_with_different_keys(tmp_path):
    mapping = write(tmp_path / "m.yaml", MAPPING)
    rows = [
        {"Email": "ann@acme.com", "First Name": "Ann"},
        {"Email": "bo@beta.io", "Last Name": "Roe", "Title": "CEO"},
    ]
    report = run_import(iter(rows), mapping, dry_run=True)
    assert report.counts == {"would_import": 2}
    assert report.source.columns == ("Email", "First Name", "Last Name", "Title")
    again = run_import(rows, mapping, dry_run=True).to_pandas()
    assert list(again["Last Name"].isna()) == [True, False]
    assert again.loc[1, "Last Name"] == "Roe"
    assert list(again["email"]) == ["ann@acme.com", "bo@beta.io"]


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([], "the input holds no rows"),
        (["ann@acme.com"], "row 1 of the input is a str, not a mapping"),
        (pd.DataFrame(), "the DataFrame has no columns"),
    ],
)
def test_rows_that_are_not_rows_are_refused(tmp_path, rows, message):
    with pytest.raises(UsageError, match=message):
        run_import(rows, write(tmp_path / "m.yaml", MAPPING), dry_run=True)
