"""The run journal (importer/run/journal.py): what it records, what it keeps, what it refuses."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from pydantic import SecretStr

from importer.errors import UsageError
from importer.plan import PlannedRequest
from importer.run.journal import Fingerprint, Journal, default_journal_path, target_identity
from importer.send.runner import RequestOutcome

PRINT = Fingerprint("in1", "leads.csv", "map1", "m.yaml", "https://x.test/v1 (key fingerprint a)")
ACCOUNT = PlannedRequest("account:acme.com", "accounts", {"domain": "acme.com"}, (2,))
NOTE = PlannedRequest("note:1", "notes", {"note": {"title": "t"}}, (2,))
KEYLESS = PlannedRequest("opportunity:p::Big", "opportunities", {"opportunity": {"name": "Big"}})


def outcome(request: PlannedRequest, status: str, **fields) -> RequestOutcome:
    return RequestOutcome(key=request.key, endpoint=request.endpoint, status=status, **fields)


def test_default_path_sits_beside_the_results():
    assert default_journal_path(Path("out/x.results.csv")) == Path("out/x.journal.sqlite")
    assert default_journal_path(Path("x.csv")) == Path("x.journal.sqlite")


def test_a_second_run_sees_the_first_runs_outcomes(tmp_path):
    path = tmp_path / "j.sqlite"
    first = Journal.open(path, PRINT)
    assert first.run == 1 and not first.previous
    assert first._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    first.record(outcome(ACCOUNT, "ok", ids={"company_id": "c1"}, http_status=200))
    first.finish("complete")
    first.close()

    second = Journal.open(path, PRINT)
    assert second.run == 2 and second.runs[1][2] == "complete"
    kept = second.earlier_outcomes([ACCOUNT])
    assert kept[ACCOUNT.key].status == "ok" and kept[ACCOUNT.key].ids == {"company_id": "c1"}
    assert kept[ACCOUNT.key].run == 1 and kept[ACCOUNT.key].message.startswith("run 1 (")
    second.close()


def test_what_is_kept_and_what_is_sent_again(tmp_path):
    journal = Journal.open(tmp_path / "j.sqlite", PRINT)
    refused = outcome(ACCOUNT, "failed", http_status=400, field_errors={"domain": "bad"})
    journal.record(refused)
    journal.record(outcome(NOTE, "unknown", message="no answer known: lost"))
    journal.sending(KEYLESS)  # and the process dies with it on the wire
    journal.close()

    again = Journal.open(tmp_path / "j.sqlite", PRINT)
    kept = again.earlier_outcomes([ACCOUNT, NOTE, KEYLESS])
    assert kept[ACCOUNT.key].status == "failed" and "--retry-failed" in kept[ACCOUNT.key].message
    assert kept[NOTE.key].status == "unknown" and "--retry-unknown" in kept[NOTE.key].message
    assert "ended while it was on the wire" in kept[KEYLESS.key].message
    assert again.earlier_outcomes([ACCOUNT], retry_failed=True) == {}
    # Lost answers stay in the list with --retry-unknown too: the sender looks each up
    # first and sends only those it does not find (or, with no lookup, all of them).
    retried = again.earlier_outcomes([NOTE, KEYLESS], retry_unknown=True)
    assert {o.status for o in retried.values()} == {"unknown"} and len(retried) == 2
    assert "unless a lookup finds it" in retried[NOTE.key].message
    again.close()


@pytest.mark.parametrize(
    ("status", "http_status", "fields"),
    [("failed", 500, {}), ("failed", None, {}), ("failed", 404, {}), ("not_sent", None, {})],
)
def test_failures_that_are_not_the_datas_are_not_kept(tmp_path, status, http_status, fields):
    journal = Journal.open(tmp_path / "j.sqlite", PRINT)
    journal.sending(NOTE)
    journal.record(outcome(NOTE, status, http_status=http_status, field_errors=fields))
    journal.close()
    again = Journal.open(tmp_path / "j.sqlite", PRINT)
    assert again.previous == {}  # the next run sends it again
    again.close()


def test_a_changed_import_is_refused_with_what_changed(tmp_path):
    path = tmp_path / "j.sqlite"
    journal = Journal.open(path, PRINT)
    journal.record(outcome(ACCOUNT, "ok", http_status=200))
    journal.close()
    changed = Fingerprint("in2", "leads.csv", "map2", "other.yaml", PRINT.target)
    with pytest.raises(UsageError) as refused:
        Journal.open(path, changed)
    said = str(refused.value)
    assert "the input file leads.csv has changed since" in said
    assert "the mapping is other.yaml, not m.yaml" in said
    assert "--fresh" in said and "--out" in said

    fresh = Journal.open(path, changed, fresh=True)
    assert fresh.set_aside is not None and fresh.set_aside.exists() and fresh.run == 1
    fresh.close()


def test_a_journal_with_nothing_that_reached_octolane_is_begun_anew(tmp_path):
    path = tmp_path / "j.sqlite"
    Journal.open(path, PRINT).close()  # a run that sent nothing
    other = Fingerprint("in1", "leads.csv", "map1", "m.yaml", "https://y.test/v1")
    journal = Journal.open(path, other)
    assert journal.run == 1 and journal.set_aside is None
    journal.close()


def test_a_file_that_is_not_a_journal_is_refused(tmp_path):
    path = tmp_path / "j.sqlite"
    path.write_bytes(b"not a database at all" * 100)
    with pytest.raises(UsageError, match="not a run journal this version can read"):
        Journal.open(path, PRINT)


def test_records_survive_kill_9(tmp_path):
    path = tmp_path / "j.sqlite"
    script = f"""
import os, signal
from pathlib import Path
from importer.run.journal import Fingerprint, Journal
from importer.send.runner import RequestOutcome
j = Journal.open(Path({str(path)!r}), Fingerprint("in1", "leads.csv", "map1", "m.yaml", {PRINT.target!r}))
for i in range(50):
    j.record(RequestOutcome(key=f"contact:{{i}}", endpoint="contacts", status="ok", http_status=200))
os.kill(os.getpid(), signal.SIGKILL)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == -9, done.stderr
    journal = Journal.open(path, PRINT)
    assert len(journal.previous) == 50 and journal.runs[1][2] == "running"
    journal.close()


def test_the_key_is_never_in_the_journal(tmp_path):
    key = "sk_live_Journal_SECRET_123"
    target = SimpleNamespace(
        settings=SimpleNamespace(base_url="https://x.test/v1", api_key=SecretStr(key))
    )
    where, ephemeral = target_identity(target)
    assert key not in where and "key fingerprint" in where and not ephemeral
    path = tmp_path / "j.sqlite"
    journal = Journal.open(path, Fingerprint("i", "a.csv", "m", "m.yaml", where))
    journal.record(outcome(ACCOUNT, "ok", http_status=200))
    journal.close()
    sqlite3.connect(path).execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    assert key.encode() not in path.read_bytes()


def test_an_unnamed_deal_an_older_version_keyed_is_still_known(tmp_path):
    """A deal sent without a name was keyed with an empty name; it is now keyed by the
    name Octolane gives it (after its company). A journal an older version wrote still
    knows it: not sent again (on the public API's bulk route it would be a second deal)."""
    payload = {"pipeline_id": "p", "opportunity": {"next_step": "Call"},
               "related_objects": {"account_domain": "co0.com"}}  # fmt: skip
    older = PlannedRequest("opportunity:p:co0.com:", "opportunities", payload, (2,))
    now = PlannedRequest("opportunity:p:co0.com:co0", "opportunities", payload, (2,))
    path = tmp_path / "j.sqlite"
    first = Journal.open(path, PRINT)
    first.record(outcome(older, "ok", ids={"opportunity_id": "d1"}, http_status=200))
    first.close()
    again = Journal.open(path, PRINT)
    kept = again.earlier_outcomes([now])
    assert kept[now.key].status == "ok" and kept[now.key].ids == {"opportunity_id": "d1"}
    named = PlannedRequest("opportunity:p:co0.com:co0", "opportunities",
                           {**payload, "opportunity": {"name": "Co0"}}, (2,))  # fmt: skip
    assert again.earlier_outcomes([named]) == {}  # a named deal was never keyed so
    again.close()
