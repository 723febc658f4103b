"""Lost answers, reproducible: the sandbox writes a record and then answers a failure
(``fault_after_write``) or no answer at all (``drop_connection_after_write``), from
Python, at a seeded rate, and from the ``octolane-import sandbox`` command line.

Everything goes through real HTTP: an httpx client against a served sandbox, and the
sandbox's inspection endpoints to see what was stored.
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from importer.sandbox import RunningSandbox, SandboxSettings, running_sandbox
from importer.sandbox import cli as sandbox_cli

NOTE = {"note": {"title": "Called Jo", "content": "wants a demo"}, "account_domains": ["acme.com"]}
#: What httpx raises when the server closes the connection instead of answering: end of
#: file where the response should be, or a reset if the close raced the client's write.
DROPPED = (httpx.RemoteProtocolError, httpx.ReadError)


def client(url: str, api_key: str) -> httpx.Client:
    return httpx.Client(base_url=url, headers={"X-API-Key": api_key}, timeout=10, verify=False)


@contextmanager
def served(**settings: Any) -> Iterator[tuple[RunningSandbox, httpx.Client]]:
    with running_sandbox(**settings) as sandbox, client(sandbox.url, sandbox.api_key) as api:
        yield sandbox, api


def inspect(api: httpx.Client, kind: str) -> Any:
    response = api.get(f"/_sandbox/{kind}")
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    return data if kind == "stats" else data[kind]


def post(api: httpx.Client, endpoint: str, body: dict[str, Any]) -> int | str:
    """The status answered, or ``"dropped"`` when the connection closed unanswered."""
    try:
        return api.post(f"/v1/inbound/{endpoint}", json=body).status_code
    except httpx.TransportError as exc:
        assert isinstance(exc, DROPPED), f"not a dropped connection: {exc!r}"
        return "dropped"


# ---- dropped connections, on demand ------------------------------------------------------


def test_a_dropped_connection_after_the_write_raises_a_transport_error_and_keeps_the_note():
    with served() as (sandbox, api):
        sandbox.fail_next(1, endpoint="notes", after_write=True, drop_connection=True)

        contact = api.post("/v1/inbound/contacts", json={"email": "jo@acme.com"})
        with pytest.raises(httpx.TransportError) as lost:
            api.post("/v1/inbound/notes", json=NOTE)
        sent_again = api.post("/v1/inbound/notes", json=NOTE)

        notes = inspect(api, "notes")
        stats = inspect(api, "stats")

    assert contact.status_code == 200  # the rule is for notes only
    assert isinstance(lost.value, DROPPED)
    assert not isinstance(lost.value, httpx.HTTPStatusError)
    assert sent_again.status_code == 200  # the rule was used up
    assert [note["title"] for note in notes] == ["Called Jo", "Called Jo"]  # the lost one too
    assert stats["requests"]["notes"] == {"200": 1, "dropped": 1}
    assert stats["rejected"] == {"injected_fault": 1}


def test_a_dropped_connection_before_the_write_stores_nothing():
    with served() as (sandbox, api):
        sandbox.fail_next(2, endpoint="notes", drop_connection=True)

        outcomes = [post(api, "notes", NOTE) for _ in range(3)]

        assert outcomes == ["dropped", "dropped", 200]
        assert len(inspect(api, "notes")) == 1
        assert inspect(api, "stats")["requests"]["notes"] == {"200": 1, "dropped": 2}


def test_the_drop_knob_set_at_runtime_drops_every_injected_fault_after_its_write():
    with served() as (sandbox, api):
        sandbox.configure(failure_rate=1.0, drop_connection_after_write=True)

        outcomes = [post(api, "accounts", {"domain": f"acme{n}.com"}) for n in range(3)]
        stats = inspect(api, "stats")
        stored = inspect(api, "accounts")

    assert outcomes == ["dropped"] * 3
    assert sorted(account["domain"] for account in stored) == [
        "acme0.com",
        "acme1.com",
        "acme2.com",
    ]
    assert stats["knobs"]["drop_connection_after_write"] is True
    assert stats["requests"] == {"accounts": {"dropped": 3}}
    assert stats["rejected"] == {"injected_fault": 3}


# ---- a failure status after the write ---------------------------------------------------


def test_a_fault_after_write_answers_the_failure_status_and_keeps_the_record():
    with served(failure_rate=1.0, fault_after_write=True, failure_status=503) as (_, api):
        response = api.post("/v1/inbound/notes", json=NOTE)

        notes = inspect(api, "notes")
        stats = inspect(api, "stats")

    assert response.status_code == 503
    assert response.json() == {
        "success": False,
        "statusCode": 503,
        "message": "Service Unavailable",
    }
    assert response.headers["retry-after"] == "1"
    assert [note["title"] for note in notes] == ["Called Jo"]
    assert stats["requests"] == {"notes": {"503": 1}}
    assert stats["rejected"] == {"injected_fault": 1}


# ---- the seeded rate --------------------------------------------------------------------


def seeded_run(**knobs: Any) -> tuple[list[int | str], int, dict[str, Any]]:
    """20 contacts against a fresh sandbox: what each got, how many were stored, the stats."""
    with served(failure_rate=0.3, seed=7, **knobs) as (_, api):
        outcomes = [post(api, "contacts", {"email": f"c{n}@acme.com"}) for n in range(20)]
        return outcomes, len(inspect(api, "contacts")), inspect(api, "stats")


def test_the_seeded_rate_drops_the_same_requests_every_run_and_stores_them_all():
    first, stored, stats = seeded_run(drop_connection_after_write=True)
    second, _, _ = seeded_run(drop_connection_after_write=True)
    as_statuses, _, _ = seeded_run(fault_after_write=True)

    drops = first.count("dropped")
    assert 0 < drops < 20
    assert set(first) == {200, "dropped"}
    assert second == first  # same seed, same order: the same requests lose their answer
    # The drop only changes how a fault is answered, not which requests get one.
    assert [o == "dropped" for o in first] == [o == 500 for o in as_statuses]
    assert stored == 20  # every dropped request was written first
    assert stats["requests"] == {"contacts": {"200": 20 - drops, "dropped": drops}}
    assert stats["rejected"] == {"injected_fault": drops}


# ---- the command line ---------------------------------------------------------------------


def settings_from_flags(monkeypatch: pytest.MonkeyPatch, *flags: str) -> SandboxSettings:
    """The settings ``octolane-import sandbox FLAGS`` would serve, without serving them."""
    seen: list[SandboxSettings] = []
    monkeypatch.setattr(sandbox_cli, "run_sandbox", lambda settings, **_: seen.append(settings))
    monkeypatch.setattr(sandbox_cli.signal, "signal", lambda *_: None)
    result = CliRunner().invoke(sandbox_cli.sandbox_command, list(flags))
    assert result.exit_code == 0, result.output
    [settings] = seen
    return settings


def test_the_flags_set_the_knobs(monkeypatch: pytest.MonkeyPatch):
    after_write = settings_from_flags(
        monkeypatch, "--failure-rate", "0.3", "--fault-after-write", "--seed", "7"
    ).knobs
    dropping = settings_from_flags(
        monkeypatch, "--failure-rate", "0.3", "--drop-connection-after-write"
    ).knobs
    neither = settings_from_flags(
        monkeypatch, "--no-fault-after-write", "--no-drop-connection-after-write"
    ).knobs

    assert (after_write.failure_rate, after_write.seed) == (0.3, 7)
    assert (after_write.fault_after_write, after_write.drop_connection_after_write) == (
        True,
        False,
    )
    assert (dropping.fault_after_write, dropping.drop_connection_after_write) == (False, True)
    assert (neither.fault_after_write, neither.drop_connection_after_write) == (False, False)


@contextmanager
def sandbox_process(*flags: str, cwd: Path) -> Iterator[tuple[str, str, str]]:
    """``octolane-import sandbox --port 0 FLAGS`` as a process: (root URL, key, banner)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "importer", "sandbox", "--port", "0", *flags],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        banner = ""
        assert process.stdout is not None
        for line in process.stdout:
            banner += line
            if line.startswith("Press Ctrl+C"):
                break
        else:
            process.wait(10)
            raise AssertionError(f"no banner; stderr: {process.stderr and process.stderr.read()}")
        base_url = re.search(r"base URL\s+(\S+)", banner)
        key = re.search(r"API key\s+(\S+)", banner)
        assert base_url and key, banner
        yield base_url.group(1).removesuffix("/v1"), key.group(1), banner
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()


@pytest.mark.parametrize(
    ("flag", "answered"),
    [("--fault-after-write", 500), ("--drop-connection-after-write", "dropped")],
)
def test_the_command_line_reproduces_lost_answers(tmp_path: Path, flag: str, answered: Any):
    flags = ("--failure-rate", "1", flag, "--seed", "7")
    with sandbox_process(*flags, cwd=tmp_path) as (url, key, banner), client(url, key) as api:
        outcome = post(api, "accounts", {"domain": "acme.com"})
        stored = inspect(api, "accounts")
        stats = inspect(api, "stats")

    knob = flag.removeprefix("--").replace("-", "_")
    assert f"{knob}=True" in banner
    assert stats["knobs"][knob] is True
    assert outcome == answered
    assert [account["domain"] for account in stored] == ["acme.com"]  # written all the same
    assert stats["requests"] == {"accounts": {str(answered): 1}}
    assert stats["rejected"] == {"injected_fault": 1}
