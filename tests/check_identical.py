"""Prove a change did not change behaviour: the dry-run outputs of every case, byte for byte.

Runs ``python -m importer FILE --mapping PRESET --dry-run`` on every preset fixture
(``tests/preset_cases.py``), the three sample files and, when the shared real exports
are beside the repository, the real exports the presets are tested on. Each case
leaves its results file, its failures file and its JSON summary (less the timing) in
OUT_DIR. Run it once on the old code and once on the new, then compare::

    git worktree add /tmp/before <old-commit>
    PYTHONPATH=/tmp/before python tests/check_identical.py run /tmp/out-before
    python tests/check_identical.py run /tmp/out-after
    python tests/check_identical.py compare /tmp/out-before /tmp/out-after

``PYTHONPATH`` picks which ``importer`` runs; the cases come from this checkout.
The exit code is 1 when any file differs, listing each one.
"""

from __future__ import annotations

import filecmp
import json
import os
import subprocess
import sys
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
REAL = REPO.parent / "shared" / "real-exports"
PIPELINE_ID = "00000000-0000-4000-8000-000000000001"

SAMPLES = [
    ("hubspot", REPO / "sample_data" / "hubspot-contacts.csv"),
    ("pipedrive-people", REPO / "sample_data" / "pipedrive-people.csv"),
    ("salesforce-report-opportunities", REPO / "sample_data" / "salesforce-opportunities.csv"),
]

# The real exports that tests/test_presets.py runs its presets on.
REAL_CASES = [
    ("hubspot", "hubspot/contacts-export-all-contacts-au-textiles.csv"),
    ("hubspot", "hubspot/contacts-export-all-properties.csv"),
    ("hubspot", "hubspot/contacts-with-company-assoc-appraisal.csv"),
    ("hubspot-companies", "hubspot/companies-export-view-schools.csv"),
    ("hubspot-companies", "hubspot/companies-appraisal.csv"),
    ("hubspot-deals", "hubspot/deals-export-all-properties-with-associations.csv"),
    ("hubspot-deals", "hubspot/deals-export-all-deals-solar.csv"),
    ("salesforce-contacts", "salesforce/data-export-Contact.csv"),
    ("salesforce-leads", "salesforce/data-export-Lead.csv"),
    ("salesforce-opportunities", "salesforce/data-export-Opportunity.csv"),
    ("salesforce-accounts", "salesforce/dataloader-extract-Account.csv"),
    ("pipedrive-people", "pipedrive/people-export-uk-print.csv"),
    ("pipedrive-organizations", "pipedrive/organisations-export-uk-print.csv"),
    ("pipedrive-deals", "pipedrive/deals-export-custom-fields-nyc-offices.csv"),
    ("apollo-people", "apollo/contacts-export-india-finance.csv"),
    ("apollo-people", "apollo/contacts-export-anz-logistics.csv"),
    ("apollo-people", "apollo/contacts-export-2025-format-philanthropy.csv"),
    ("apollo-accounts", "apollo/accounts-export-benelux-tech.csv"),
    ("zoho-accounts", "zoho/accounts-export-br-industrial.csv"),
    ("zoho-leads", "zoho/leads-export-br-industrial.csv"),
]


def cases() -> list[tuple[str, Path]]:
    """(preset, file) for every case that exists on this machine."""
    sys.path.insert(0, str(HERE))
    from preset_cases import CASES

    found = [(c.preset, c.path) for c in CASES] + SAMPLES
    if REAL.is_dir():
        found += [(preset, REAL / name) for preset, name in REAL_CASES]
    return found


def run_case(preset: str, path: Path, out: Path) -> None:
    stem = f"{preset}--{path.parent.name}--{path.name}"
    command = [
        sys.executable,
        "-m",
        "importer",
        str(path),
        "--mapping",
        preset,
        "--dry-run",
        "--json",
        "--pipeline-id",
        PIPELINE_ID,
        "--out",
        str(out / f"{stem}.results.csv"),
        "--failures",
        str(out / f"{stem}.failures.csv"),
    ]
    done = subprocess.run(command, capture_output=True, text=True, cwd=out, env=os.environ.copy())
    summary = {"exit": done.returncode, "stderr": done.stderr.strip().splitlines()[-1:]}
    if done.stdout.strip():
        report = json.loads(done.stdout)
        for volatile in ("elapsed_s", "rows_per_s", "results_path", "failures_path"):
            report.pop(volatile, None)
        summary["report"] = report
    text = json.dumps(summary, indent=1, sort_keys=True)
    # The preset's path names the checkout it came from: keep its name only.
    folder = str(Path(summary.get("report", {}).get("mapping", "")).parent)
    if folder not in ("", "."):
        text = text.replace(folder + "/", "")
    (out / f"{stem}.summary.json").write_text(text)


def run(out: Path) -> int:
    out.mkdir(parents=True, exist_ok=True)
    found = cases()
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        list(pool.map(lambda case: run_case(*case, out), found))
    print(f"{len(found)} cases written to {out}")
    return 0


def compare(before: Path, after: Path) -> int:
    names = sorted({p.name for p in before.iterdir()} | {p.name for p in after.iterdir()})
    differ = [n for n in names if not _same(before / n, after / n)]
    for name in differ:
        print(f"differs: {name}")
    print(f"{len(names) - len(differ)} of {len(names)} files identical")
    return 1 if differ else 0


def _same(a: Path, b: Path) -> bool:
    if not (a.exists() and b.exists()):
        return False
    if a.suffix == ".xlsx":  # the same sheets; the workbook's own times are the run's
        return _parts(a) == _parts(b)
    return filecmp.cmp(a, b, shallow=False)


def _parts(workbook: Path) -> dict[str, bytes]:
    """A workbook's parts by name, less docProps/core.xml (its created and modified times)."""
    with zipfile.ZipFile(workbook) as archive:
        return {
            name: archive.read(name) for name in archive.namelist() if name != "docProps/core.xml"
        }


if __name__ == "__main__":
    verb, *folders = sys.argv[1:] or ["help"]
    if verb == "run" and len(folders) == 1:
        sys.exit(run(Path(folders[0]).resolve()))
    if verb == "compare" and len(folders) == 2:
        sys.exit(compare(Path(folders[0]), Path(folders[1])))
    sys.exit(__doc__)
