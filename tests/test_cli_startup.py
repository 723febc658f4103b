"""Start-up: `--version` and `--help` load click and the error tree, not the pipeline or the sandbox."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from importer.cli import _LAZY_COMMANDS, cli

HEAVY = ("httpx", "uvicorn", "starlette", "pydantic", "importer.sandbox", "importer.run", "tqdm")

LOADED_AFTER = """
import json, sys
from importer.cli import main
sys.argv = ["octolane-import", *sys.argv[1:]]
try:
    main()
except SystemExit:
    pass
print(json.dumps(sorted(sys.modules)), file=sys.stderr)
"""


@pytest.mark.parametrize(
    "args", [["--version"], ["--help"], ["import", "--help"], ["map", "--help"]]
)
def test_start_up_loads_nothing_heavy(args):
    done = subprocess.run(
        [sys.executable, "-c", LOADED_AFTER, *args], capture_output=True, text=True, check=True
    )
    modules = json.loads(done.stderr.strip().splitlines()[-1])
    assert "click" in modules and "importer.cli" in modules  # the path ran
    loaded = [m for m in modules if m.split(".")[0] in HEAVY or m.startswith(HEAVY)]
    assert loaded == [], f"octolane-import {' '.join(args)} loaded {loaded[:8]}"
    assert done.stdout.strip()


def test_the_lazy_sandbox_command_is_listed_with_its_own_help():
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    module, attribute, short_help = _LAZY_COMMANDS["sandbox"]
    assert f"sandbox {short_help}" in " ".join(result.output.split())
    real = getattr(__import__(module, fromlist=[attribute]), attribute)
    assert real.get_short_help_str(limit=80) == short_help  # the listed help cannot drift


def test_the_sandbox_command_loads_when_called():
    result = CliRunner().invoke(cli, ["sandbox", "--help"])
    assert result.exit_code == 0
    assert "--port" in result.output


def test_a_dry_run_loads_no_sender(tmp_path):
    # The dry run reads, validates and plans: the sender's asyncio, httpx and retries
    # are loaded only by a run that sends.
    data = tmp_path / "leads.csv"
    data.write_text("Email,First Name\njo@acme.com,Jo\n", encoding="utf-8")
    out = tmp_path / "leads.results.csv"
    done = subprocess.run(
        [sys.executable, "-c", LOADED_AFTER, str(data), "--mapping", "hubspot", "--dry-run",
         "--out", str(out)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    modules = json.loads(done.stderr.strip().splitlines()[-1])
    assert "importer.run.pipeline" in modules and out.exists()  # the dry run ran
    sender = ("asyncio", "httpx", "stamina", "importer.send.runner", "importer.run._send")
    assert [m for m in sender if m in modules] == []


FROZEN_AT_EXIT = """
import atexit, gc, sys
# registered first, so run last: after the command's own exit handlers
atexit.register(lambda: print("frozen", gc.get_freeze_count(), file=sys.stderr))
from importer.cli import main
sys.argv = ["octolane-import", *sys.argv[1:]]
main()
"""


def test_the_objects_of_a_run_are_frozen_at_exit_not_walked_by_a_last_collection(tmp_path):
    data = tmp_path / "leads.csv"
    data.write_text("Email\njo@acme.com\n", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-c", FROZEN_AT_EXIT, str(data), "--mapping", "hubspot", "--dry-run",
         "--out", str(tmp_path / "out.csv")],
        capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    frozen = int(done.stderr.split("frozen")[-1].split()[0])
    assert frozen > 10_000  # the interpreter's objects and the run's: none left to the collector
