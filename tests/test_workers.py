"""Validation in a worker process gives exactly what the one-process path gives."""

from __future__ import annotations

import pytest

from importer import run_import
from importer.errors import MappingError, SourceError

MAPPING = """
contact:
  email: {column: Email, transforms: [email]}
  first_name: First Name
account:
  domain: {column: Website, transforms: [domain], required: false}
"""


def make_leads(path, rows):
    lines = ["Email,First Name,Website"]
    for i in range(rows):
        email = "" if i % 97 == 0 else f"person{i % 700}@company{i % 50}.com"
        lines.append(f"{email},Name{i % 700},https://www.company{i % 50}.com/about")
    lines.insert(40, ",,")  # a blank row
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_parallel_and_sequential_runs_agree(tmp_path, write_mapping):
    leads = make_leads(tmp_path / "leads.csv", 3_000)
    mapping = write_mapping(MAPPING)
    reports = {}
    for parallel in (False, True):
        out = tmp_path / f"results-{parallel}.csv"
        fails = tmp_path / f"failures-{parallel}.csv"
        report = run_import(
            leads,
            mapping,
            dry_run=True,
            results_path=out,
            failures_path=fails,
            parallel=parallel,
            batch_rows=500,
        )
        reports[parallel] = (report, out.read_bytes(), fails.read_bytes())
    (seq, seq_out, seq_fail), (par, par_out, par_fail) = reports[False], reports[True]
    assert seq_out == par_out and seq_fail == par_fail
    assert seq.counts == par.counts and seq.counts["invalid"] == 31
    assert (seq.rows_read, seq.blank_rows) == (par.rows_read, par.blank_rows) == (3_000, 1)
    assert [r.key for r in seq.plan.requests] == [r.key for r in par.plan.requests]


@pytest.mark.parametrize("parallel", [False, True])
def test_errors_in_the_worker_reach_the_caller(tmp_path, write_mapping, parallel):
    leads = make_leads(tmp_path / "leads.csv", 100)
    with pytest.raises(MappingError, match=r"column 'Emial' is not in leads\.csv"):
        run_import(
            leads, write_mapping("contact:\n  email: Emial\n"), dry_run=True, parallel=parallel
        )
    with pytest.raises(SourceError, match="no such file"):
        run_import(tmp_path / "nope.csv", write_mapping(MAPPING), dry_run=True, parallel=parallel)
