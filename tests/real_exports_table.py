"""What a real import of each shared real export lands in a fresh sandbox, as a markdown table.

For every data file under ``shared/real-exports`` (beside the repository), runs
``python -m importer FILE --mapping PRESET --sandbox --json`` with the file's shipped
preset: a real import, over HTTP, into a fresh embedded sandbox per file. The Salesforce
Data Export files that link (Opportunity, Task) get the same export's other files with
``--with``, as the ``salesforce-data-export`` preset gives them. Each file leaves its JSON
summary, its results file and its failures file in OUT_DIR::

    git worktree add ../before <old-commit>
    PYTHONPATH=../before python tests/real_exports_table.py run ../t-before
    python tests/real_exports_table.py run ../t-after
    python tests/real_exports_table.py table ../t-before ../t-after

``PYTHONPATH`` picks which ``importer`` runs (a commit, rather than a working tree others
are editing, needs a worktree of its own); the files and presets come from this script.
The sandbox limits no rate by default and the importer's adaptive pace reaches it in
seconds: all the files take about two minutes on two cores.
``table OUT`` prints one run; ``table BEFORE AFTER`` prints each number that differs as
``before → after``. Table columns:

- rows: rows read (the JSON summary's ``rows_read``);
- accounts, contacts, deals: the records in the run's fresh sandbox after it, that is what
  the run created or ensured (the summary's ``sandbox_records``; when the importer does not
  report them, the file is imported again into a sandbox started apart and its
  ``/_sandbox/stats`` inspection endpoint is read);
- imported ... failed: rows by status in the results file (checked against the summary's
  ``counts``); a status the importer does not have shows 0;
- exit: the importer's exit code.

An importer without ``--with`` imports the linking files without their links, and the
table marks them. Files run two at a time; the exit code is 0 unless the script itself fails.
"""

from __future__ import annotations

import csv
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REAL = Path(__file__).resolve().parents[2] / "shared" / "real-exports"
WORKERS = 2
TIMEOUT_S = 900
STATUSES = ("imported", "partial", "invalid", "duplicate", "merged", "skipped", "failed")
RECORDS = (("accounts", "accounts"), ("contacts", "contacts"), ("deals", "opportunities"))
VOLATILE = ("elapsed_s", "rows_per_s", "results_path", "failures_path")
SANDBOX_KEY = "sandbox-demo-key"  # every fresh sandbox's demo key (docs/sandbox.md)

SF = "salesforce/data-export-"


@dataclass(frozen=True)
class Case:
    """One real export: its path under REAL, its preset and the files it links with."""

    name: str
    preset: str | None
    links: tuple[str, ...] = ()
    note: str = ""


# The presets of tests/check_identical.py REAL_CASES and tests/test_presets.py, plus the
# files those leave out: the rest of the Salesforce Data Export (its preset's parts,
# mappings/salesforce-data-export.yaml) and the HubSpot XLSX that the hubspot preset
# refuses (test_hubspot_preset_refuses_a_contacts_export_without_email).
CASES = [
    Case("apollo/accounts-export-benelux-tech.csv", "apollo-accounts"),
    Case("apollo/contacts-export-2025-format-philanthropy.csv", "apollo-people"),
    Case("apollo/contacts-export-anz-logistics.csv", "apollo-people"),
    Case("apollo/contacts-export-india-finance.csv", "apollo-people"),
    Case("hubspot/companies-appraisal.csv", "hubspot-companies"),
    Case("hubspot/companies-export-view-schools.csv", "hubspot-companies"),
    Case("hubspot/contacts-export-all-contacts-au-textiles.csv", "hubspot"),
    Case("hubspot/contacts-export-all-properties.csv", "hubspot"),
    Case(
        "hubspot/contacts-export-doctors-it.xlsx",
        "hubspot",
        note="a HubSpot contacts export without an Email column: the preset refuses it",
    ),
    Case("hubspot/contacts-with-company-assoc-appraisal.csv", "hubspot"),
    Case("hubspot/deals-export-all-deals-solar.csv", "hubspot-deals"),
    Case("hubspot/deals-export-all-properties-with-associations.csv", "hubspot-deals"),
    Case("pipedrive/deals-export-custom-fields-nyc-offices.csv", "pipedrive-deals"),
    Case("pipedrive/organisations-export-uk-print.csv", "pipedrive-organizations"),
    Case("pipedrive/people-export-uk-print.csv", "pipedrive-people"),
    Case(f"{SF}Account.csv", "salesforce-accounts"),
    Case(f"{SF}Contact.csv", "salesforce-contacts"),
    Case(f"{SF}Lead.csv", "salesforce-leads"),
    Case(
        f"{SF}Opportunity.csv",
        "salesforce-opportunities",
        (f"{SF}Account.csv", f"{SF}Contact.csv", f"{SF}OpportunityContactRole.csv"),
    ),
    Case(
        f"{SF}OpportunityContactRole.csv",
        None,
        note="no preset of its own: the Opportunity run reads it with --with",
    ),
    Case(
        f"{SF}Task.csv",
        "salesforce-tasks",
        (f"{SF}Contact.csv", f"{SF}Lead.csv", f"{SF}Account.csv"),
    ),
    Case("salesforce/dataloader-extract-Account.csv", "salesforce-accounts"),
    Case("zoho/accounts-export-br-industrial.csv", "zoho-accounts"),
    Case("zoho/leads-export-br-industrial.csv", "zoho-leads"),
]


def all_cases() -> list[Case]:
    """CASES, plus a preset-less row for any data file on disk that CASES does not name."""
    known = {case.name for case in CASES}
    on_disk = sorted(
        str(p.relative_to(REAL)) for p in REAL.glob("*/*") if p.is_file() and p.name[0] != "."
    )
    extra = [Case(name, None, note="not in this script's list") for name in on_disk]
    return CASES + [case for case in extra if case.name not in known]


def stem(case: Case) -> str:
    return case.name.replace("/", "--")


# ---- run ------------------------------------------------------------------------------


def environment() -> dict[str, str]:
    """This environment without OCTOLANE_* settings: the runs must not reach anything else."""
    return {k: v for k, v in os.environ.items() if not k.startswith("OCTOLANE_")}


def importer_facts(out: Path) -> dict[str, Any]:
    """Which importer runs (PYTHONPATH picks it), its commit, and whether it has --with."""
    where = subprocess.run(
        [sys.executable, "-c", "import importer; print(importer.__file__)"],
        capture_output=True, text=True, cwd=out, env=environment(), check=True,
    ).stdout.strip()  # fmt: skip
    checkout = Path(where).resolve().parents[1]
    commit = subprocess.run(
        ["git", "-C", str(checkout), "rev-parse", "--short", "HEAD"],
        capture_output=True, text=True, check=False,
    ).stdout.strip()  # fmt: skip
    changed = subprocess.run(
        ["git", "-C", str(checkout), "status", "--porcelain", "--untracked-files=no",
         "--", "importer", "mappings"],
        capture_output=True, text=True, check=False,
    ).stdout.splitlines()  # fmt: skip
    if commit and changed:  # a working tree with edits: the commit alone does not say what ran
        commit += f" + uncommitted edits to {len(changed)} files"
    helped = subprocess.run(
        [sys.executable, "-m", "importer", "import", "--help"],
        capture_output=True, text=True, cwd=out, env=environment(), check=False,
    ).stdout  # fmt: skip
    return {
        "importer": where,
        "checkout": str(checkout),
        "commit": commit or "?",
        "has_with": "--with" in helped,
        "has_sandbox": "--sandbox" in helped,
    }


def import_command(case: Case, out: Path, links: bool) -> list[str]:
    assert case.preset is not None
    command = [sys.executable, "-m", "importer", str(REAL / case.name), "--mapping", case.preset]
    for other in case.links if links else ():
        command += ["--with", str(REAL / other)]
    results, failures = (str(out / f"{stem(case)}.{kind}.csv") for kind in ("results", "failures"))
    return [*command, "--json", "--out", results, "--failures", failures]


def run_case(case: Case, out: Path, facts: dict[str, Any]) -> dict[str, Any]:
    """Import one file into a fresh sandbox; write and return its summary."""
    summary: dict[str, Any] = {"file": case.name, "preset": case.preset, "note": case.note}
    summary["links"] = list(case.links)
    summary["links_dropped"] = bool(case.links) and not facts["has_with"]
    if case.preset is None:
        summary["exit"] = None
        return _write(out, case, summary)
    command = import_command(case, out, links=facts["has_with"])
    records: dict[str, int] = {}
    started = time.monotonic()
    if facts["has_sandbox"]:
        done = _run([*command, "--sandbox"], out)
        report = _report(done.stdout)
        records_from = "summary"
        if report is not None and "sandbox_records" not in report:
            done, report, records = _run_apart(command, out)
            records_from = "inspection"
    else:
        done, report, records = _run_apart(command, out)
        records_from = "inspection"
    summary["wall_s"] = round(time.monotonic() - started, 1)
    summary["command"] = [
        Path(a).name if a.startswith(str(REAL)) or a.startswith(str(out)) else a
        for a in command[1:]
    ] + (["--sandbox"] if records_from == "summary" else ["(sandbox started apart)"])
    summary["exit"] = done.returncode
    tail = done.stderr.strip().splitlines()[-3:]
    summary["stderr_tail"] = [line.replace(facts["checkout"] + os.sep, "") for line in tail]
    if report is not None:
        if records_from == "summary":
            records = report.get("sandbox_records") or {}
        summary["records"] = records
        summary["records_from"] = records_from
        summary["rows"] = report.get("rows_read")
        summary["counts"] = report.get("counts") or {}
        for volatile in VOLATILE:
            report.pop(volatile, None)
        summary["report"] = report
    results = out / f"{stem(case)}.results.csv"
    if results.exists():
        summary["results_counts"] = _statuses(results)
    return _write(out, case, summary)


def _run(command: list[str], out: Path, env: dict[str, str] | None = None) -> Any:
    try:
        return subprocess.run(
            command, capture_output=True, text=True, cwd=out, env=env or environment(),
            timeout=TIMEOUT_S, check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired as exc:
        return subprocess.CompletedProcess(command, -1, "", f"timed out after {exc.timeout} s")


def _report(stdout: str) -> dict[str, Any] | None:
    try:
        data = json.loads(stdout)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _run_apart(command: list[str], out: Path) -> tuple[Any, dict[str, Any] | None, dict[str, int]]:
    """Import into a sandbox served by its own process; read its records from /_sandbox/stats."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "importer.sandbox", "--port", str(port)],
        cwd=out, env=environment(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        org = _until_up(url)["data"]
        env = environment() | {
            "OCTOLANE_API_KEY": SANDBOX_KEY,
            "OCTOLANE_BASE_URL": url + "/v1",
            "OCTOLANE_PIPELINE_ID": org["pipelines"][0]["pipeline_id"],
        }
        done = _run(command, out, env)
        records = _get(url, "/_sandbox/stats")["data"]["records"]
    finally:
        server.terminate()
        server.wait(timeout=30)
    return done, _report(done.stdout), records


def _until_up(url: str) -> dict[str, Any]:
    for _ in range(200):
        try:
            return _get(url, "/_sandbox/org")
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"the sandbox at {url} did not start")


def _get(url: str, path: str) -> dict[str, Any]:
    request = urllib.request.Request(url + path, headers={"X-API-Key": SANDBOX_KEY})
    with urllib.request.urlopen(request, timeout=10) as answer:
        data: dict[str, Any] = json.load(answer)
    return data


def _statuses(results: Path) -> dict[str, int]:
    counts: dict[str, int] = {}
    with results.open(encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle):
            counts[row["status"]] = counts.get(row["status"], 0) + 1
    return counts


def _write(out: Path, case: Case, summary: dict[str, Any]) -> dict[str, Any]:
    text = json.dumps(summary, indent=1, sort_keys=True, ensure_ascii=False)
    (out / f"{stem(case)}.json").write_text(text + "\n", encoding="utf-8")
    return summary


def run(out: Path) -> int:
    out.mkdir(parents=True, exist_ok=True)
    if not REAL.is_dir():
        sys.exit(f"no real exports at {REAL}")
    facts = importer_facts(out)
    cases = all_cases()
    # biggest first, so that the two workers finish together
    order = sorted(cases, key=lambda c: -(REAL / c.name).stat().st_size)
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        list(pool.map(lambda case: run_case(case, out, facts), order))
    facts["wall_s"] = round(time.monotonic() - started, 1)
    facts["files"] = [stem(case) for case in cases]
    (out / "meta.json").write_text(json.dumps(facts, indent=1) + "\n", encoding="utf-8")
    print(f"{len(cases)} files run in {facts['wall_s']} s with {facts['importer']}; see {out}")
    return 0


# ---- table ----------------------------------------------------------------------------

HEADER = ("file", "preset", "rows", *(n for n, _ in RECORDS), *STATUSES, "exit")


def load(out: Path) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    meta = json.loads((out / "meta.json").read_text(encoding="utf-8"))
    runs = {
        name: json.loads((out / f"{name}.json").read_text(encoding="utf-8"))
        for name in meta["files"]
    }
    return meta, runs


def cells(summary: dict[str, Any]) -> dict[str, Any]:
    """The table's values for one run of one file (None where there is nothing to show)."""
    statuses = summary.get("results_counts", summary.get("counts"))
    records = summary.get("records")
    values: dict[str, Any] = {"rows": summary.get("rows"), "exit": summary.get("exit")}
    for column, key in RECORDS:
        values[column] = None if records is None else records.get(key, 0)
    for status in STATUSES:
        values[status] = None if statuses is None else statuses.get(status, 0)
    return values


def cell(before: Any, after: Any, numeric: bool = True) -> str:
    def show(value: Any) -> str:
        if value is None:
            return "—"
        return f"{value:,}" if numeric and isinstance(value, int) else str(value)

    if before == after:
        return show(after)
    return f"{show(before)} → {show(after)}"


def table(folders: list[Path]) -> int:
    loaded = [load(folder) for folder in folders]
    metas = [meta for meta, _ in loaded]
    names = list(dict.fromkeys(n for meta in metas for n in meta["files"]))
    print("| " + " | ".join(HEADER) + " |")
    print("|---|---|" + "---:|" * (len(HEADER) - 2))
    notes: list[str] = []
    for name in names:
        runs = [found.get(name, {}) for _, found in loaded]
        first, last = runs[0], runs[-1]
        preset = last.get("preset") or first.get("preset")
        label = f"`{preset}`" if preset else "— ¹"
        links = last.get("links") or first.get("links")
        if links:
            dropped = [r.get("links_dropped") for r in runs]
            marks = " → ".join("no --with ³" if d else "--with ²" for d in dropped)
            label += f" ({marks if len(set(dropped)) > 1 else marks.split(' → ')[0]})"
        values = [cells(r) for r in runs]
        row = [f"{Path(name.replace('--', '/'))}", label]
        row += [cell(values[0][c], values[-1][c]) for c in HEADER[2:]]
        print("| " + " | ".join(row) + " |")
        notes += _other_numbers(name, runs, len(folders))
    print()
    _footnotes(metas, loaded, notes)
    return 0


def _other_numbers(name: str, runs: list[dict[str, Any]], n: int) -> list[str]:
    """What the table has no column for: notes landed, other statuses, stage refusals, errors.

    A line both runs would say is said once.
    """
    shown = name.replace("--", "/")
    said = [f"{shown}: {runs[-1]['note']}"] if runs[-1].get("note") else []
    per_run = [_remarks(run) for run in runs]
    labels = ["before", "after"] if n == 2 else [""]
    for k, remarks in enumerate(per_run):
        for remark in remarks:
            if n == 2 and all(remark in other for other in per_run):
                if k == 0:
                    said.append(f"{shown}: {remark}")
            else:
                said.append(
                    f"{shown} ({labels[k]}): {remark}" if labels[k] else f"{shown}: {remark}"
                )
    return said


def _remarks(run: dict[str, Any]) -> list[str]:
    remarks = []
    records = run.get("records") or {}
    if records.get("notes"):
        remarks.append(f"{records['notes']:,} notes in the sandbox")
    if run.get("records_from") == "inspection":
        remarks.append("records read from /_sandbox/stats")
    statuses = run.get("results_counts", run.get("counts")) or {}
    others = {k: v for k, v in statuses.items() if k not in STATUSES}
    if others:
        remarks.append(f"other statuses {others}")
    if "results_counts" in run and run.get("counts") not in (None, run["results_counts"]):
        remarks.append(f"results file {run['results_counts']} but summary {run['counts']}")
    reasons = (run.get("report") or {}).get("rejected_by_reason") or {}
    stages = sum(v for k, v in reasons.items() if "has no Octolane stage" in k)
    if stages:
        remarks.append(
            f"{stages:,} rows have a stage the sandbox's demo pipeline lacks"
            " (the deal is refused: the row is invalid, or partial where it goes ahead without it)"
        )
    if run.get("exit") not in (0, 1, None):
        remarks.append(f"exit {run['exit']}: {' '.join(run.get('stderr_tail', []))}")
    return remarks


def _footnotes(metas: list[dict[str, Any]], loaded: list[Any], notes: list[str]) -> None:
    froms = {r.get("records_from") for _, runs in loaded for r in runs.values()} - {None}
    where = {
        "summary": "the JSON summary's `sandbox_records` (the fresh sandbox's records after it)",
        "inspection": "the sandbox's `/_sandbox/stats` inspection endpoint",
    }
    runs = "; ".join(f"{m['commit']} ({m['importer']}): {m['wall_s']} s" for m in metas)
    print(f"Runs: {runs}. Each file: a real import, `--sandbox --json`, into a fresh sandbox.")
    print(
        "rows: the summary's `rows_read`. accounts, contacts, deals: "
        + ", or ".join(where[f] for f in sorted(froms))
        + ". imported … failed: rows by status in the results file (the summary's `counts`"
        " agree unless said below); a status an importer does not have shows 0."
        " —: no summary (the run stopped before importing; see its exit)."
    )
    print()
    print(
        "¹ no preset of its own: the Opportunity run reads it with `--with`"
        " (as the salesforce-data-export preset does); nothing is run for it."
    )
    print(
        "² `--with` the same export's files: Opportunity with Account, Contact and"
        " OpportunityContactRole; Task with Contact, Lead and Account."
    )
    if any(r.get("links_dropped") for _, runs in loaded for r in runs.values()):
        print("³ this importer has no `--with`: imported without its links.")
    for line in notes:
        print(f"- {line}")


if __name__ == "__main__":
    verb, *folders = sys.argv[1:] or ["help"]
    if verb == "run" and len(folders) == 1:
        sys.exit(run(Path(folders[0]).resolve()))
    if verb == "table" and len(folders) in (1, 2):
        sys.exit(table([Path(f) for f in folders]))
    sys.exit(__doc__)
