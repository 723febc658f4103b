"""Validation in a worker process gives exactly what the one-process path gives."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

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


# Each run goes in a fresh process: the worker forks only a process without threads, and
# this test process may hold the session's sandbox thread (then the worker would be refused
# and "parallel" would quietly compare sequential with sequential).
FRESH_RUN = """
import json, sys
from importer import run_import
leads, mapping, out, fails, parallel = sys.argv[1:]
report = run_import(leads, mapping, dry_run=True, results_path=out, failures_path=fails,
                    parallel=parallel == "1", batch_rows=500)
print(json.dumps({"worker": report.validated_in_worker, "counts": report.counts,
                  "read": [report.rows_read, report.blank_rows],
                  "keys": [r.key for r in report.plan.requests]}))
"""


def run_fresh(leads: Path, mapping: Path, tmp_path: Path, parallel: bool) -> tuple:
    out, fails = tmp_path / f"results-{parallel}.csv", tmp_path / f"failures-{parallel}.csv"
    args = [str(p) for p in (leads, mapping, out, fails)] + ["1" if parallel else "0"]
    done = subprocess.run(
        [sys.executable, "-c", FRESH_RUN, *args], capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout), out.read_bytes(), fails.read_bytes()


def both_ways(data: Path, mapping: Path, tmp_path: Path) -> dict:
    """Run ``data`` in one process and with the worker: the same results, failures,
    counts, rows read and requests; the one-process run's summary."""
    seq, seq_out, seq_fail = run_fresh(data, mapping, tmp_path, parallel=False)
    par, par_out, par_fail = run_fresh(data, mapping, tmp_path, parallel=True)
    assert (seq["worker"], par["worker"]) == (False, True)  # the worker really ran
    assert seq_out == par_out and seq_fail == par_fail
    assert seq["counts"] == par["counts"] and seq["read"] == par["read"]
    assert seq["keys"] == par["keys"]
    return seq


def test_parallel_and_sequential_runs_agree(tmp_path, write_mapping):
    leads = make_leads(tmp_path / "leads.csv", 3_000)
    seq = both_ways(leads, write_mapping(MAPPING), tmp_path)
    assert seq["counts"]["partial"] == 31 and seq["read"] == [3_000, 1]


def test_the_worker_is_refused_while_another_thread_runs(tmp_path, write_mapping):
    """Forking a process with threads can deadlock: then the one-process path runs, and says so."""
    leads = make_leads(tmp_path / "leads.csv", 300)
    gate = threading.Event()
    other = threading.Thread(target=gate.wait, daemon=True)
    other.start()
    try:
        report = run_import(leads, write_mapping(MAPPING), dry_run=True, parallel=True)
    finally:
        gate.set()
        other.join()
    assert report.validated_in_worker is False
    assert report.counts == {"would_import": 296, "partial": 4}


SANDBOX_RUN = """
import json, sys
from contextlib import ExitStack
from importer import ImportJob, Settings, run_import
from importer.cli import _SandboxTarget
leads, mapping = sys.argv[1:]
with ExitStack() as stack:
    box = _SandboxTarget(stack, Settings())
    job = ImportJob.create(leads, mapping, parallel=True, target=box)
    report = run_import(job)
    print(json.dumps({"worker": report.validated_in_worker, "counts": report.counts,
                      "landed": box.running.record_counts()}))
"""


def test_the_worker_runs_under_sandbox_because_the_sandbox_starts_after_reading(
    tmp_path, write_mapping
):
    """--sandbox starts its server thread when sending begins, after the forked reader is done."""
    leads = make_leads(tmp_path / "leads.csv", 300)
    args = [str(leads), str(write_mapping(MAPPING))]
    done = subprocess.run(
        [sys.executable, "-c", SANDBOX_RUN, *args], capture_output=True, text=True, check=True
    )
    result = json.loads(done.stdout)
    assert result["worker"] is True
    assert result["counts"] == {"imported": 296, "partial": 4}
    assert result["landed"]["contacts"] == 296


@pytest.mark.parametrize("parallel", [False, True])
def test_errors_in_the_worker_reach_the_caller(tmp_path, write_mapping, parallel):
    leads = make_leads(tmp_path / "leads.csv", 100)
    with pytest.raises(MappingError, match=r"column 'Emial' is not in leads\.csv"):
        run_import(
            leads, write_mapping("contact:\n  email: Emial\n"), dry_run=True, parallel=parallel
        )
    with pytest.raises(SourceError, match="no such file"):
        run_import(tmp_path / "nope.csv", write_mapping(MAPPING), dry_run=True, parallel=parallel)


def test_a_batch_goes_through_the_pipe_marshalled_unless_a_value_is_not_plain():
    import marshal

    from importer.validate.rows import FieldError, RowVerdict
    from importer.validate.source import _pack, _unmarshal, _unpack

    clean = RowVerdict(2, domain="acme.com", email="jo@acme.com")
    clean.contact = {"email": "jo@acme.com", "first_name": "Jo"}
    clean.opportunity = {"opportunity": {"deal_size": 1.5, "close_date": 1}, "x": [True]}
    rejected = RowVerdict(3, errors=[FieldError("contact.email", "column 'Email'", "is empty")])
    regular = RowVerdict(4, domain="acme.com", email="al@acme.com", stage=("Won", "Won"))
    regular.account, regular.contact = {"domain": "acme.com"}, {"email": "al@acme.com"}
    regular.opportunity = {
        "pipeline_id": "p1",
        "opportunity": {"name": "Renewal"},
        "related_objects": {"account_domain": "acme.com", "primary_contact_email": "al@acme.com"},
    }
    kind, data, errors, counts = _pack([clean, rejected, regular], "p1")
    assert kind == "batch-m" and errors == [1]
    assert counts[0] == {("Won", "Won"): 1}  # the stages are counted as they are packed
    clean_back, rejected_back, compact = _unmarshal(data, errors)
    assert [clean_back, rejected_back] == [clean, rejected]  # the FieldError comes back whole
    # the regular row travels compact: its values, not its five dicts
    assert compact == (
        4, None, "acme.com", "al@acme.com", True, (), {"name": "Renewal"}, "p1", "", ("Won", "Won"),
        None, "acme.com",
    )  # fmt: skip
    odd = RowVerdict(4, warnings=[marshal])  # no value of ours is one; if it were: pickled
    kind, data, _ = _pack([odd], None)
    assert kind == "batch" and _unpack(data) == [odd]


def test_rows_with_and_without_rejected_fields_cross_the_pipe_whole(tmp_path, write_mapping):
    # the first 2,000 rows have no rejected field, the rest have some (their FieldErrors
    # go as texts and come back whole): in one run, against the one-process path
    leads = make_leads(tmp_path / "leads.csv", 3_000)
    lines = leads.read_text(encoding="utf-8").splitlines()
    lines = [line if i > 2000 or not line.startswith(",N") else "x" + line
             for i, line in enumerate(lines)]  # fmt: skip
    lines = [line.replace("x,", "fixed@company1.com,", 1) for line in lines]
    leads.write_text("\n".join(lines) + "\n", encoding="utf-8")
    seq = both_ways(leads, write_mapping(MAPPING), tmp_path)
    assert 0 < seq["counts"]["partial"] < 31  # rejected fields only in the later batches


DEALS_MAPPING = """
options:
  pipeline_id: 00000000-0000-4000-8000-000000000001
contact:
  email: {column: Email, transforms: [email]}
  first_name: {column: First Name, transforms: [trim]}
  last_name: {column: Last Name, transforms: [trim]}
  job_title: {column: Title, required: false}
account:
  domain: {column: Website, transforms: [domain], required: false}
opportunity:
  name: {column: Deal, transforms: [trim], required: false}
  deal_size: {column: Amount, transforms: [money], required: false}
  close_date: {column: Close, transforms: [date], required: false}
"""


def make_deals(path: Path, rows: int) -> Path:
    """Deals that repeat with other amounts (and another spelling of their name), people
    named on some rows only, rows with no company (unlinked deals of one name), no e-mail,
    a personal address, bad cells."""
    lines = ["Email,First Name,Last Name,Title,Website,Deal,Amount,Close"]
    for i in range(rows):
        company = f"company{i % 40}.com" if i % 11 else ""
        email = "" if i % 13 == 0 else f"p{i % 300}@company{i % 40}.com"
        if i % 17 == 0:
            email = f"p{i % 300}@gmail.com"
        first = "" if i % 5 == 0 else f"Name{i % 7}"
        title = "CEO" if i % 9 == 0 else ""
        deal = "" if i % 23 == 0 else f"Deal {i % 60}" if (i // 120) % 2 else f"DEAL  {i % 60}"
        amount = "oops" if i % 101 == 0 else f"{(i * 37) % 5000}.5"
        close = f"2024-0{1 + i % 9}-1{i % 10}"
        lines.append(f"{email},{first},Last{i % 3},{title},{company},{deal},{amount},{close}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_the_planner_plans_a_compact_verdict_as_the_whole_one(tmp_path):
    """The worker sends a regular row's verdict compact; planned, it is the whole one."""
    import copy

    from importer.map.spec import load_mapping
    from importer.plan import Planner
    from importer.report.results import contact_account
    from importer.validate.compact import compact
    from importer.validate.source import validated_source

    deals = make_deals(tmp_path / "deals.csv", 2_000)
    mapping_path = tmp_path / "deals.yaml"
    mapping_path.write_text(DEALS_MAPPING, encoding="utf-8")
    mapping = load_mapping(mapping_path)
    pipeline = mapping.options.pipeline_id
    source = validated_source(
        deals, mapping, pipeline_id=pipeline, read={}, limit=None, batch_rows=500,
        parallel=False,
    )  # fmt: skip
    batches = list(source.batches)
    source.close()
    # (the planner takes a verdict's warnings list as its row's: each plan gets its own)
    compacted = [[compact(v, pipeline) or v for v in batch] for batch in copy.deepcopy(batches)]
    share = sum(type(v) is tuple for b in compacted for v in b) / sum(map(len, batches))
    assert 0.5 < share < 1  # most rows travel compact, and some whole
    plans = []
    compact_rows = {v[0] for batch in compacted for v in batch if type(v) is tuple}
    for given in (batches, compacted):
        planner = Planner(pipeline_id=pipeline)
        planned = [p for batch in given for p in planner.add(batch)]
        rows = [
            (p.row, p.status, p.domain, p.email, p.entities, p.duplicate_of, p.message,
             [str(w) for w in p.warnings or ()],
             # the contact's account: the worker's (compact), or worked out from the plan
             p.filed if p.filed is not None else contact_account(p.email, p.entities))
            for p in planned
        ]  # fmt: skip
        plan = planner.finish()
        plans.append(
            (rows, [(r.key, dict(r.payload), r.rows, r.depends_on) for r in plan.requests])
        )
    assert plans[0] == plans[1]
    # a compact row's contact account is the worker's: the planner passes it on
    assert all(p.filed is not None for p in planned if p.row in compact_rows)
    statuses = {row[1] for row in plans[0][0]}
    assert {"would_import", "duplicate", "partial"} <= statuses
    warned = " ".join(w for row in plans[0][0] for w in row[7])
    # the paths the compact form takes: a deal's values that differ, a person's name filled
    # in, another person joining a deal, and deals with no company of one name
    for said in ("differs from row", "fills in row", "is sent as another contact", "no company"):
        assert said in warned


def test_deals_cross_the_pipe_compact_and_plan_as_in_one_process(tmp_path, write_mapping):
    seq = both_ways(
        make_deals(tmp_path / "deals.csv", 3_000), write_mapping(DEALS_MAPPING), tmp_path
    )
    assert seq["counts"]["duplicate"] > 100 and seq["counts"]["partial"] > 10


@pytest.mark.parametrize(
    ("change", "compacts"),
    [
        (lambda v: None, True),
        (lambda v: v.opportunity["related_objects"].update(owner_email="rep@us.com"), False),
        (
            lambda v: v.opportunity["related_objects"].update(
                additional_contact_emails=["b@a.com"]
            ),
            False,
        ),
        (
            lambda v: v.opportunity.update(
                related_objects={
                    "primary_contact_email": "jo@acme.com",
                    "account_domain": "acme.com",
                }
            ),
            False,
        ),
        (lambda v: v.opportunity["related_objects"].pop("primary_contact_email"), False),
        (lambda v: v.opportunity.update(pipeline_id="other"), False),
        (lambda v: v.account.update(name="Acme"), False),
        (lambda v: v.contact.update(email="al@acme.com"), False),
        (lambda v: v.contact.update(title="CEO"), False),  # a field packing would lose
        (lambda v: v.contact.update(job_title="CEO"), True),
        (lambda v: setattr(v, "note", {"title": "Call"}), False),
        (lambda v: setattr(v, "skipped", "why"), False),
        (lambda v: setattr(v, "opportunity", None), True),
        (lambda v: setattr(v, "account", None), True),
    ],
)
def test_only_a_row_whose_bodies_its_values_imply_travels_compact(change, compacts):
    from importer.plan import Planner
    from importer.validate.compact import compact
    from importer.validate.rows import RowVerdict

    def verdict() -> RowVerdict:
        v = RowVerdict(7, domain="acme.com", email="jo@acme.com", warnings=["w"])
        v.account, v.contact = {"domain": "acme.com"}, {"email": "jo@acme.com", "first_name": "Jo"}
        v.opportunity = {
            "pipeline_id": "p1",
            "opportunity": {"name": "Renewal", "deal_size": 10.0},
            "related_objects": {
                "account_domain": "acme.com",
                "primary_contact_email": "jo@acme.com",
            },
        }
        change(v)
        return v

    small = compact(verdict(), "p1")
    assert (small is not None) is compacts
    if small is not None:  # planned, the compact form is the whole verdict
        requests = []
        for given in (verdict(), small):
            planner = Planner(pipeline_id="p1")
            planner.add([given])
            requests.append([(r.key, r.payload) for r in planner.finish().requests])
        assert requests[0] == requests[1]


SANDBOX_DEALS_RUN = """
import json, sys
from contextlib import ExitStack
from importer import ImportJob, Settings, run_import
from importer.cli import _SandboxTarget
deals, mapping = sys.argv[1:]
with ExitStack() as stack:
    box = _SandboxTarget(stack, Settings())  # (its pipeline: the mapping names none)
    dry = run_import(ImportJob.create(deals, mapping, parallel=True, dry_run=True, target=box))
    report = run_import(ImportJob.create(deals, mapping, parallel=True, target=box))
    print(json.dumps({"worker": [dry.validated_in_worker, report.validated_in_worker],
                      "dry": dry.counts, "counts": report.counts, "planned": report.planned,
                      "landed": box.running.record_counts()}))
"""


def test_compact_deals_are_sent_whole_through_real_http(tmp_path, write_mapping):
    """A real run whose worker sends compact verdicts: every deal, person and company the
    plan names lands in the sandbox, and every row the dry run said goes is imported."""
    deals = make_deals(tmp_path / "deals.csv", 400)
    mapping = DEALS_MAPPING.replace(
        "options:\n  pipeline_id: 00000000-0000-4000-8000-000000000001\n", ""
    )
    args = [str(deals), str(write_mapping(mapping))]
    done = subprocess.run(
        [sys.executable, "-c", SANDBOX_DEALS_RUN, *args], capture_output=True, text=True, check=True
    )
    result = json.loads(done.stdout)
    assert result["worker"] == [True, True]  # both runs read through the worker
    dry, real = result["dry"], result["counts"]
    assert real["imported"] == dry["would_import"] + dry.get("duplicate", 0) > 200
    assert "failed" not in real and real.get("partial") == dry.get("partial")
    landed = result["landed"]
    assert landed["opportunities"] == result["planned"]["opportunities"] > 20
    assert landed["contacts"] >= result["planned"]["contacts"] > 100
