"""The dry run predicts the server: every preset fixture, dry run then real run into the sandbox.

Every row the dry run calls ``would_import`` (or ``duplicate``) must be ``imported``
(or ``duplicate``) for real, and every row it refuses must stay refused: whatever
the server would refuse, the dry run refuses first.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from preset_cases import FIXTURE_STAGE_LABELS, PARAMS, Case

from importer.run import run_import
from importer.sandbox import RunningSandbox, running_sandbox
from importer.settings import Settings

PREDICTED = {"would_import": "imported", "duplicate": "duplicate"}


@pytest.fixture(scope="module")
def box():
    with running_sandbox() as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def org(box: RunningSandbox):
    """An org whose pipeline has a stage for every label the fixtures use: deals land in
    their own stages, resolved by name from the sandbox's public stages endpoint."""
    return box.add_org(
        "Fixtures", pipelines=[{"name": "Fixtures", "stages": list(FIXTURE_STAGE_LABELS)}]
    )


def statuses(path: Path) -> dict[str, str]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return {row["row"]: row["status"] for row in csv.DictReader(handle)}


@pytest.mark.parametrize("case", PARAMS)
def test_every_row_the_dry_run_accepts_is_imported(case: Case, box: RunningSandbox, org, tmp_path):
    settings = Settings(
        api_key=org.api_key, base_url=box.base_url, concurrency=8, rate_per_min=60_000
    )
    options = {"pipeline_id": org.pipeline_id, "settings": settings}
    dry = run_import(
        case.path, case.preset, dry_run=True, results_path=tmp_path / "dry.csv", **options
    )
    real = run_import(case.path, case.preset, results_path=tmp_path / "real.csv", **options)

    predicted, happened = statuses(tmp_path / "dry.csv"), statuses(tmp_path / "real.csv")
    assert predicted.keys() == happened.keys() and len(predicted) == case.read
    assert real.send is not None and real.send.requests_sent >= sum(real.planned.values())
    assert sum(real.planned.values()) > 0 or case.ok == 0  # the path ran, where it could
    wrong = {
        row: (said, happened[row])
        for row, said in predicted.items()
        if PREDICTED.get(said, said) != happened[row]
    }
    assert wrong == {}, f"{case.preset} on {case.fixture}: rows whose dry run was wrong: {wrong}"
    assert dry.counts == case.counts
