"""``octolane-import sandbox`` as a user runs it: a real process, flags, banner, Ctrl+C."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from importer.sandbox.cli import sandbox_command


def start_cli(*flags: str, cwd: Path) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "importer.sandbox", "--port", "0", *flags],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    banner = ""
    for line in process.stdout:
        banner += line
        if line.startswith("Press Ctrl+C"):
            return process, banner
    process.wait()
    raise AssertionError(f"no banner; stderr: {process.stderr.read()}")


def stop_cli(process: subprocess.Popen, signum: int = signal.SIGINT) -> tuple[int, str]:
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=10)
    return process.returncode, stderr


def test_cli_serves_with_flags_prints_banner_and_stops_on_ctrl_c(tmp_path: Path):
    process, banner = start_cli(
        "--db",
        "s.db",
        "--rate-limit",
        "2",
        "--latency-ms",
        "1",
        "--api-key",
        "extra-key",
        "--member",
        "sales@demo.example",
        "--unknown-keys",
        "reject",
        cwd=tmp_path,
    )
    try:
        base_url = re.search(r"base URL\s+(\S+)", banner).group(1)
        key = re.search(r"API key\s+(\S+)", banner).group(1)
        pipeline_id = re.search(r"pipeline_id\s+(\S+)", banner).group(1)
        stage_ids = re.findall(r"^\s+([0-9a-f-]{36})\s+\w", banner, re.MULTILINE)
        with httpx.Client(base_url=base_url, headers={"X-API-Key": key}, verify=False) as api:
            codes = [
                api.post("/inbound/contacts", json={"email": f"c{n}@acme.com"}).status_code
                for n in range(3)
            ]
            org = api.get(
                base_url.removesuffix("/v1") + "/_sandbox/org", headers={"X-API-Key": "extra-key"}
            ).json()["data"]
    finally:
        returncode, stderr = stop_cli(process)

    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/v1", base_url)
    assert key == "sandbox-demo-key"
    assert org["pipelines"][0]["pipeline_id"] == pipeline_id
    assert stage_ids == [s["stage_id"] for s in org["pipelines"][0]["stages"]]
    assert org["members"] == ["owner@demo.example", "sales@demo.example"]
    assert codes == [200, 200, 429]
    assert "storage      s.db" in banner
    assert "knobs        rate_limit_per_min=2.0, latency_ms=1.0" in banner
    assert (tmp_path / "s.db").exists()
    assert returncode == 0
    assert "Sandbox stopped." in stderr
    assert "Traceback" not in stderr


def test_cli_stops_cleanly_on_sigterm_and_keeps_its_data(tmp_path: Path):
    process, banner = start_cli("--db", "s.db", cwd=tmp_path)
    base_url = re.search(r"base URL\s+(\S+)", banner).group(1)
    with httpx.Client(base_url=base_url, headers={"X-API-Key": "sandbox-demo-key"}) as api:
        created = api.post("/inbound/accounts", json={"domain": "acme.com"}).json()["data"]

    returncode, stderr = stop_cli(process, signal.SIGTERM)
    process, banner = start_cli("--db", "s.db", cwd=tmp_path)
    try:
        base_url = re.search(r"base URL\s+(\S+)", banner).group(1)
        with httpx.Client(base_url=base_url, headers={"X-API-Key": "sandbox-demo-key"}) as api:
            again = api.post("/inbound/accounts", json={"domain": "acme.com"}).json()["data"]
    finally:
        stop_cli(process)

    assert (returncode, "Sandbox stopped." in stderr) == (0, True)
    assert again == created


def test_help_documents_the_knobs():
    result = CliRunner().invoke(sandbox_command, ["--help"])

    assert result.exit_code == 0
    for flag in (
        "--db",
        "--config",
        "--rate-limit",
        "--concurrency-limit",
        "--latency-ms",
        "--jitter-ms",
        "--failure-rate",
        "--seed",
        "--unknown-keys",
        "--seconds-dates",
        "not part of Octolane's API",
    ):
        assert flag in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--failure-rate", "2"], "Invalid value for '--failure-rate': 2.0 is not in the range"),
        (["--unknown-keys", "maybe"], "Invalid value for '--unknown-keys'"),
        (
            ["--db", "/nonexistent/dir/s.db"],
            "Error: /nonexistent/dir/s.db: cannot open the sandbox database",
        ),
    ],
)
def test_bad_flags_exit_2_with_a_message(args, message):
    result = CliRunner().invoke(sandbox_command, args)

    assert result.exit_code == 2
    assert message in result.output


def test_bad_config_file_exits_2_naming_it(tmp_path: Path):
    path = tmp_path / "sandbox.yaml"
    path.write_text("knobs: {latency_ms: -1}", encoding="utf-8")

    result = CliRunner().invoke(sandbox_command, ["--config", str(path)])

    assert result.exit_code == 2
    assert f"Error: {path}: knobs.latency_ms: Input should be greater than or equal to 0" in (
        result.output
    )


def test_the_public_api_flags(tmp_path: Path):
    process, banner = start_cli(
        "--bulk-response", "summary", "--bulk-mode", "partial", cwd=tmp_path
    )
    try:
        base_url = re.search(r"base URL\s+(\S+)", banner).group(1)
        root = base_url.removesuffix("/v1")
        with httpx.Client(headers={"X-API-Key": "sandbox-demo-key"}, verify=False) as api:
            answer = api.post(
                f"{root}/v1/contacts/bulk",
                json=[{"email": "jo@acme.com"}, {"email": "not an address"}],
            )
            behaviour = api.get(f"{root}/_sandbox/stats").json()["data"]["behaviour"]
    finally:
        returncode, _ = stop_cli(process)
    assert returncode == 0
    assert (behaviour["bulk_response"], behaviour["bulk_mode"]) == ("summary", "partial")
    # partial: the good record written, the bad one counted; summary: counts only
    assert answer.status_code in (200, 201)
    data = answer.json()["data"]
    assert "results" not in data and data["created"] == 1 and data["failed"] == 1
