"""Docs that cannot drift: docs/cli.md's option tables are generated from the click commands.

``UPDATE_DOCS=1 .venv/bin/pytest tests/test_docs.py`` rewrites the generated part of
docs/cli.md; without it, the test fails when the tables and the commands disagree on an
option, its default, its choices or its help.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from importer.cli import cli

REPO = Path(__file__).resolve().parents[1]
CLI_DOC = REPO / "docs" / "cli.md"
BEGIN = "<!-- generated from the click commands by tests/test_docs.py: do not edit below -->"
END = "<!-- end of generated part -->"
COMMANDS = ("import", "map", "sandbox")


def commands() -> dict[str, click.Command]:
    ctx = click.Context(cli)
    found = {name: cli.get_command(ctx, name) for name in COMMANDS}
    assert all(found.values()), found
    return found  # type: ignore[return-value]


def cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def default_of(option: click.Option) -> str:
    """The default as the help states it, else click's own; "off" for a plain flag."""
    if option.required:
        return "required"
    shown = re.search(r"\[default: ([^\]]+)\]|\(default: ([^)]+)\)", option.help or "")
    if shown:
        return cell(shown.group(1) or shown.group(2))
    if option.is_flag:
        return "off"
    # click marks "no default" with None, () or (click 8.2+) a sentinel object.
    if option.default is not None and option.default != () and "UNSET" not in repr(option.default):
        return f"`{option.default}`"
    return "–"


def kind_of(option: click.Option) -> str:
    if option.is_flag:
        return "flag"
    if isinstance(option.type, click.Choice):
        return " \\| ".join(f"`{c}`" for c in option.type.choices)
    return option.type.name.upper() if option.type.name else "TEXT"


def reference() -> str:
    """The generated part of docs/cli.md: one table per command."""
    out = [BEGIN, ""]
    for name, command in commands().items():
        usage = command.collect_usage_pieces(click.Context(command))
        summary = cell((command.help or "").split("\n\n")[0])
        out += [f"## `octolane-import {name}`", "", summary, ""]
        out += [f"Usage: `octolane-import {name} {' '.join(usage)}`", ""]
        out += ["| Option | Takes | Default | Env | What it does |", "|---|---|---|---|---|"]
        for param in command.params:
            if not isinstance(param, click.Option) or param.hidden:
                continue
            flags = ", ".join(f"`{o}`" for o in [*param.opts, *param.secondary_opts])
            env = f"`{param.envvar}`" if isinstance(param.envvar, str) else ""
            row = [flags, kind_of(param), default_of(param), env, cell(param.help or "")]
            out.append("| " + " | ".join(row) + " |")
        out.append("")
    out.append(END)
    return "\n".join(out)


def test_cli_reference_matches_the_commands():
    text = CLI_DOC.read_text(encoding="utf-8")
    assert BEGIN in text and END in text, f"{CLI_DOC}: the generated part's markers are missing"
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    expected = reference()
    if os.environ.get("UPDATE_DOCS"):
        CLI_DOC.write_text(head + expected + tail, encoding="utf-8")
    documented = BEGIN + rest.split(END, 1)[0] + END
    assert documented == expected, (
        "docs/cli.md disagrees with the commands: run UPDATE_DOCS=1 .venv/bin/pytest tests/test_docs.py"
    )


@pytest.mark.parametrize("name", COMMANDS)
def test_every_option_is_in_its_command_section(name):
    command = commands()[name]
    text = CLI_DOC.read_text(encoding="utf-8")
    section = text.split(f"## `octolane-import {name}`", 1)[1].split("\n## ", 1)[0]
    options = [p for p in command.params if isinstance(p, click.Option) and not p.hidden]
    assert len(options) >= 3, name  # the walk really found the command's options
    for option in options:
        long = max(option.opts, key=len)
        row = next((line for line in section.splitlines() if f"`{long}`" in line), None)
        assert row is not None, f"octolane-import {name} {long} is not in docs/cli.md"
        assert default_of(option) in row, f"octolane-import {name} {long}: default differs"
        if isinstance(option.type, click.Choice):
            assert all(f"`{c}`" in row for c in option.type.choices), (name, long)


@pytest.mark.parametrize("args", [["--help"], *[[name, "--help"] for name in COMMANDS]])
def test_every_command_has_help(args):
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output


def test_readme_is_a_users_page():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 250
    assert "make demo" in readme and "make test" in readme
    for page in re.findall(r"\]\((docs/[^)#]+)", readme):
        assert (REPO / page).is_file(), page


def test_product_files_name_no_machine_path():
    """Presets, docs and code are read by users, who have neither our machines nor our test data."""
    pattern = re.compile(r"(/work/|/tmp/|/root/|/home/|\.\./shared|shared/real-exports)")
    files = [REPO / "README.md", *(REPO / "docs").glob("*.md"), *(REPO / "mappings").glob("*")]
    files += list((REPO / "importer").rglob("*.py"))
    assert len(files) > 80
    found = [
        f"{path.relative_to(REPO)}:{n}: {line.strip()}"
        for path in files
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if pattern.search(line)
    ]
    assert found == []
