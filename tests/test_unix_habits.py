"""Unix habits: --version, options from OCTOLANE_* variables (listed in --help), and shell
completion for bash, zsh and fish through the console script itself."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from importer.cli import cli

SCRIPT = Path(sys.executable).with_name("octolane-import")
SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "hubspot-contacts.csv"


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OCTOLANE_", "_OCTOLANE"))}
    return {**env, **extra}


def test_version():
    result = subprocess.run([SCRIPT, "--version"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    assert result.stdout.strip().endswith(version("octolane-import"))


def test_every_environment_variable_of_import_is_in_its_help():
    command = cli.commands["import"]
    variables = {p.envvar for p in command.params if isinstance(p, click.Option) and p.envvar}
    assert len(variables) >= 9
    shown = CliRunner().invoke(cli, ["import", "--help"]).output
    listed = set(re.findall(r"OCTOLANE_[A-Z_]+", shown.partition("Environment variables")[2]))
    assert variables <= listed, variables - listed


def test_options_come_from_the_environment(tmp_path):
    out = tmp_path / "r.csv"
    env = clean_env(
        OCTOLANE_MAPPING="hubspot", OCTOLANE_QUIET="1", OCTOLANE_CONCURRENCY="0",
    )  # fmt: skip
    refused = subprocess.run(
        [SCRIPT, str(SAMPLE), "--dry-run", "--out", str(out)],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    # the value came from the variable: click names it when it is out of range
    assert refused.returncode == 2
    assert "Invalid value for '--concurrency'" in refused.stderr
    assert "0 is not in the range 1<=x<=256" in refused.stderr

    env["OCTOLANE_CONCURRENCY"] = "4"
    done = subprocess.run(
        [SCRIPT, str(SAMPLE), "--dry-run", "--out", str(out)],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr  # the sample has bad rows on purpose
    assert "hubspot.yaml" in done.stdout  # the mapping came from OCTOLANE_MAPPING
    assert "\r" not in done.stderr  # OCTOLANE_QUIET: no progress bar
    # a flag on the command line wins over the variable
    flagged = subprocess.run(
        [SCRIPT, str(SAMPLE), "--dry-run", "--out", str(out), "-m", "no-such-preset"],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert flagged.returncode == 2
    assert "no-such-preset" in flagged.stderr


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_the_completion_script_for_each_shell(shell):
    result = subprocess.run(
        [SCRIPT], env=clean_env(_OCTOLANE_IMPORT_COMPLETE=f"{shell}_source"),
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0
    assert "_OCTOLANE_IMPORT_COMPLETE" in result.stdout
    assert f"{shell}_complete" in result.stdout


@pytest.mark.parametrize(
    ("words", "cword", "expected"),
    [
        ("octolane-import ma", 1, "map"),
        ("octolane-import import leads.csv --dry", 3, "--dry-run"),
        ("octolane-import import leads.csv --conc", 3, "--concurrency"),
    ],
)
def test_completion_answers(words, cword, expected):
    result = subprocess.run(
        [SCRIPT],
        env=clean_env(
            _OCTOLANE_IMPORT_COMPLETE="bash_complete", COMP_WORDS=words, COMP_CWORD=str(cword)
        ),
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0
    assert f"plain,{expected}" in result.stdout.splitlines()
