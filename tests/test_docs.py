"""Docs that cannot drift: the reference pages are checked against the code.

docs/cli.md's option tables are generated from the click commands (in the spirit of
sqlite-utils' cog-checked docs). ``UPDATE_DOCS=1 .venv/bin/pytest tests/test_docs.py``
rewrites the generated part; without it, the tests fail when a table and its command
disagree on an option, its default, its choices, its environment variable or its help,
naming the command and the option. Other tests check that the README stays a user's
page, that links between the pages resolve, and that the pages list every preset,
transform, mapping option, results column, row status and sandbox setting the code has.
"""

from __future__ import annotations

import difflib
import os
import re
import typing
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from pydantic import BaseModel

from importer.cli import cli

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
README = REPO / "README.md"
CLI_DOC = DOCS / "cli.md"
BEGIN = "<!-- generated from the click commands by tests/test_docs.py: do not edit below -->"
END = "<!-- end of generated part -->"
#: The subcommands; "" is the top-level ``octolane-import`` itself.
COMMANDS = ("import", "map", "sandbox", "stages")
COLUMNS = ("Option", "Takes", "Default", "Env", "What it does")


# ---- the click command tree ------------------------------------------------------------


def commands() -> dict[str, click.Command]:
    """The top-level command and each subcommand, by name (some are loaded lazily)."""
    ctx = click.Context(cli)
    found: dict[str, click.Command | None] = {"": cli}
    found.update({name: cli.get_command(ctx, name) for name in COMMANDS})
    missing = [name for name, command in found.items() if command is None]
    assert not missing, f"octolane-import has no command {missing}"
    assert sorted(cli.list_commands(ctx)) == sorted(COMMANDS), "a command is not documented"
    return found  # type: ignore[return-value]


def title(name: str) -> str:
    return f"octolane-import {name}".strip()


def options_of(command: click.Command) -> list[click.Option]:
    return [p for p in command.params if isinstance(p, click.Option) and not p.hidden]


def long_flag(option: click.Option) -> str:
    return max(option.opts, key=len)


def cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def default_of(option: click.Option) -> str:
    """The default as ``--help`` shows it: click's own (show_default), else as the help states it."""
    if option.required:
        return "required"
    if isinstance(option.show_default, str):
        return cell(option.show_default)
    if option.show_default and option.default is not None:
        return f"`{option.default}`"
    shown = re.search(r"\[default: ([^\]]+)\]|\(default: ([^)]+)\)", option.help or "")
    if shown:
        return cell(shown.group(1) or shown.group(2))
    if option.is_flag:
        return "on" if option.default is True else "off"
    # click marks "no default" with None, () or (click 8.2+) an UNSET sentinel.
    if option.default not in (None, ()) and "UNSET" not in repr(option.default):
        return f"`{option.default}`"
    return "–"


def _bound(value: float | None, is_open: bool, strict: str, loose: str) -> str:
    return f"{strict if is_open else loose} {value}"


def kind_of(option: click.Option) -> str:
    """What the option takes: flag, each choice, or a type with its range."""
    if option.is_flag:
        kind = "flag"
    elif isinstance(option.type, click.Choice):
        kind = " \\| ".join(f"`{c}`" for c in option.type.choices)
    else:
        kind = (option.type.name or "text").upper()
        if isinstance(option.type, click.IntRange | click.FloatRange):
            kind = "INTEGER" if isinstance(option.type, click.IntRange) else "FLOAT"
            low, high = option.type.min, option.type.max
            if low is not None and high is not None:
                kind += f" {low}–{high}"
            elif low is not None:
                kind += " " + _bound(low, option.type.min_open, ">", "≥")
            elif high is not None:
                kind += " " + _bound(high, option.type.max_open, "<", "≤")
    return kind + (", repeatable" if option.multiple else "")


def row_of(option: click.Option) -> list[str]:
    flags = ", ".join(f"`{o}`" for o in [*option.opts, *option.secondary_opts])
    env = f"`{option.envvar}`" if isinstance(option.envvar, str) else ""
    return [flags, kind_of(option), default_of(option), env, cell(option.help or "")]


def reference() -> str:
    """The generated part of docs/cli.md: one section and one table per command."""
    out = [BEGIN, ""]
    for name, command in commands().items():
        usage = " ".join(command.collect_usage_pieces(click.Context(command)))
        out += [f"## `{title(name)}`", "", cell((command.help or "").split("\n\n")[0]), ""]
        out += [f"Usage: `{title(name)} {usage}`", ""]
        out += ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
        out += ["| " + " | ".join(row_of(option)) + " |" for option in options_of(command)]
        out.append("")
    out.append(END)
    return "\n".join(out)


# ---- docs/cli.md as written -------------------------------------------------------------


def split_row(line: str) -> list[str]:
    """The cells of a Markdown table row; ``\\|`` is a pipe inside a cell."""
    return [c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]


def documented(name: str) -> dict[str, dict[str, str]]:
    """The rows of a command's table in docs/cli.md, by each flag in their first cell."""
    text = CLI_DOC.read_text(encoding="utf-8")
    heading = f"\n## `{title(name)}`\n"
    assert heading in text, f"docs/cli.md has no section '## `{title(name)}`'"
    section = text.split(heading, 1)[1].split("\n## ", 1)[0].split(END, 1)[0]
    rows: dict[str, dict[str, str]] = {}
    for line in section.splitlines():
        cells = split_row(line) if line.startswith("| `") else []
        if cells:
            assert len(cells) == len(COLUMNS), f"docs/cli.md, {title(name)}: bad row {line!r}"
            for flag in re.findall(r"`(-[^`]+)`", cells[0]):
                rows[flag] = dict(zip(COLUMNS, cells, strict=True))
    return rows


def test_cli_reference_is_generated_from_the_commands():
    text = CLI_DOC.read_text(encoding="utf-8")
    assert BEGIN in text and END in text, f"{CLI_DOC}: the generated part's markers are missing"
    head, rest = text.split(BEGIN, 1)
    written, tail = rest.split(END, 1)
    expected = reference()
    if os.environ.get("UPDATE_DOCS"):
        CLI_DOC.write_text(head + expected + tail, encoding="utf-8")
        written = expected.removeprefix(BEGIN).removesuffix(END)
    diff = difflib.unified_diff(
        expected.splitlines(), (BEGIN + written + END).splitlines(), "commands", "docs/cli.md", n=0
    )
    changes = "\n".join(list(diff)[:40])
    assert not changes, (
        "docs/cli.md disagrees with the commands (UPDATE_DOCS=1 .venv/bin/pytest "
        f"tests/test_docs.py rewrites it):\n{changes}"
    )


@pytest.mark.parametrize("name", ["", *COMMANDS], ids=lambda n: n or "octolane-import")
def test_every_option_is_documented_under_its_command(name):
    command = commands()[name]
    rows = documented(name)
    options = options_of(command)
    assert options, f"{title(name)}: no options found, so nothing was checked"
    checked = 0
    for option in options:
        where = f"{title(name)} {long_flag(option)}"
        row = rows.get(long_flag(option))
        assert row is not None, f"{where} is not in docs/cli.md under '## `{title(name)}`'"
        if option.show_default or isinstance(option.type, click.Choice) or option.required:
            checked += 1
        assert row["Default"] == default_of(option), (
            f"{where}: docs/cli.md says the default is {row['Default']!r}, "
            f"the command says {default_of(option)!r}"
        )
        if isinstance(option.type, click.Choice):
            written = re.findall(r"`([^`]+)`", row["Takes"])
            assert written == list(option.type.choices), (
                f"{where}: docs/cli.md lists the choices {written}, "
                f"the command takes {list(option.type.choices)}"
            )
        assert row["Takes"] == kind_of(option), (
            f"{where}: docs/cli.md says it takes {row['Takes']!r}"
        )
        env = f"`{option.envvar}`" if isinstance(option.envvar, str) else ""
        assert row["Env"] == env, f"{where}: docs/cli.md gives the environment {row['Env']!r}"
        assert row["What it does"] == cell(option.help or ""), f"{where}: the help differs"
    flags = {flag for option in options for flag in [*option.opts, *option.secondary_opts]}
    stale = sorted(set(rows) - flags)
    assert not stale, f"{title(name)}: docs/cli.md documents options it does not have: {stale}"
    if name in ("import", "sandbox"):  # these have options with a shown default or choices
        assert checked > 0, f"{title(name)}: no default or choice was compared"


def test_the_sandbox_help_states_the_sandbox_defaults():
    """The sandbox's flags state their defaults in words; they must be the settings' own."""
    from importer.sandbox import Behaviour, Knobs, SandboxSettings

    settings = {
        **SandboxSettings().model_dump(exclude={"knobs", "behaviour"}),
        **Knobs().model_dump(),
        **Behaviour().model_dump(),
    }
    renamed = {
        "db": "db_path",
        "rate_limit": "rate_limit_per_min",
        "rate_burst": "rate_limit_burst",
    }
    words = {"in memory": ":memory:", "one minute's worth": None, "no": False, "allowed": False}
    compared = 0
    for option in options_of(commands()["sandbox"]):
        shown = re.search(r"\[default: ([^\]]+)\]", option.help or "")
        if not shown:
            continue
        setting = renamed.get(option.name or "", option.name or "")
        assert setting in settings, f"octolane-import sandbox {long_flag(option)}: no setting"
        stated = words.get(shown.group(1), shown.group(1))
        actual = settings[setting]
        assert stated == actual or str(stated) == str(actual), (
            f"octolane-import sandbox {long_flag(option)}: the help says the default is "
            f"{shown.group(1)!r}, the sandbox's is {actual!r}"
        )
        compared += 1
    assert compared >= 5


@pytest.mark.parametrize("args", [["--help"], *[[name, "--help"] for name in COMMANDS]])
def test_every_command_has_help(args):
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, f"octolane-import {' '.join(args)}: exit {result.exit_code}"
    assert "Usage:" in result.output


# ---- the README and the links -----------------------------------------------------------


def test_readme_is_a_users_page():
    readme = README.read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 250, "README.md is a user's page: move reference to docs/"
    assert "make demo" in readme and "make test" in readme
    for code in ("0", "1", "2", "3"):
        assert re.search(rf"^\| {code} \| ", readme, re.M), f"README.md: exit code {code}"


def slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.S)
    found = set(re.findall(r'<a id="([^"]+)"', text))
    seen: dict[str, int] = {}
    for heading in re.findall(r"^#+ (.+)$", text, re.M):
        base = slug(heading)
        found.add(base if base not in seen else f"{base}-{seen[base]}")
        seen[base] = seen.get(base, 0) + 1
    return found


def pages() -> list[Path]:
    readmes = [REPO / "mappings" / "README.md", REPO / "sample_data" / "README.md"]
    return [README, *sorted(DOCS.glob("*.md")), *readmes]


@pytest.mark.parametrize("page", pages(), ids=lambda p: str(p.relative_to(REPO)))
def test_links_resolve(page):
    text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.S)
    links = re.findall(r"\]\(([^)\s]+)\)", text)
    for link in links:
        if re.match(r"[a-z]+:", link):
            continue
        target, _, anchor = link.partition("#")
        path = (page.parent / target).resolve() if target else page
        where = f"{page.relative_to(REPO)}: link {link!r}"
        assert path.exists(), f"{where}: no such file"
        if anchor and path.suffix == ".md":
            assert anchor in anchors(path), f"{where}: no such heading"


def test_product_files_name_no_machine_path():
    """Presets, docs and code are read by users, who have neither our machines nor our test data."""
    pattern = re.compile(r"(/work/|/tmp/|/root/|/home/|\.\./shared|shared/real-exports)")
    files = [*pages(), *(REPO / "mappings").glob("*")]
    files += list((REPO / "importer").rglob("*.py"))
    assert len(files) > 80
    found = [
        f"{path.relative_to(REPO)}:{n}: {line.strip()}"
        for path in files
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if pattern.search(line)
    ]
    assert found == []


# ---- what the pages list, against the code ----------------------------------------------


def table_keys(page: Path, heading: str) -> list[str]:
    """The backticked names in the first column of the first table under ``heading``."""
    text = "\n" + page.read_text(encoding="utf-8")
    assert f"\n{heading}\n" in text, f"{page.relative_to(REPO)}: no heading {heading!r}"
    section = text.split(f"\n{heading}\n", 1)[1]
    lines = section.split("\n#", 1)[0].splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("|"))
    keys: list[str] = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        keys += re.findall(r"`([^`]+)`", split_row(line)[0])
    return keys


def test_presets_page_lists_every_preset():
    from importer.map.presets import list_presets

    names = [p.name for p in list_presets()]
    listed = table_keys(DOCS / "presets.md", "# Presets and `map`")
    assert sorted(listed) == sorted(names), (
        f"docs/presets.md's table lacks {sorted(set(names) - set(listed))}, "
        f"and lists presets that do not exist: {sorted(set(listed) - set(names))}"
    )
    for page in (README, DOCS / "presets.md"):
        for count in re.findall(r"(\d+) presets", page.read_text(encoding="utf-8")):
            assert int(count) == len(names), f"{page.name} says {count} presets, not {len(names)}"


def test_transforms_page_lists_every_transform():
    from importer.map.transforms import TRANSFORM_NAMES

    listed = table_keys(DOCS / "transforms.md", "# Transforms")
    assert sorted(listed) == sorted(TRANSFORM_NAMES), (
        f"docs/transforms.md's table lacks {sorted(set(TRANSFORM_NAMES) - set(listed))}, "
        f"and lists transforms that do not exist: {sorted(set(listed) - set(TRANSFORM_NAMES))}"
    )


def model_in(annotation: object) -> type[BaseModel]:
    """The pydantic model in a field's annotation (``Options``, ``AccountSpec | None``)."""
    candidates = (*typing.get_args(annotation), annotation)
    return next(m for m in candidates if isinstance(m, type) and issubclass(m, BaseModel))


def test_mapping_page_lists_every_option_with_its_default():
    from importer.map.spec import MappingFile

    model = model_in(MappingFile.model_fields["options"].annotation)
    page = DOCS / "mapping.md"
    listed = table_keys(page, "## Options")
    assert set(model.model_fields) <= set(listed), (
        f"docs/mapping.md's options table lacks {sorted(set(model.model_fields) - set(listed))}"
    )
    text = page.read_text(encoding="utf-8").split("\n## Options\n", 1)[1].split("\n## ", 1)[0]
    for name, field in model.model_fields.items():
        row = next(line for line in text.splitlines() if line.startswith(f"| `{name}` |"))
        default = split_row(row)[1]
        values = field.default if isinstance(field.default, tuple) else (field.default,)
        for value in values:
            word = {True: "true", False: "false", None: "none"}.get(value, str(value))
            assert word in default, f"docs/mapping.md: options.{name} defaults to {value!r}"


def test_mapping_page_lists_every_object_and_field():
    from importer.map.spec import MappingFile

    text = (DOCS / "mapping.md").read_text(encoding="utf-8")
    section = text.split("\n## Objects and fields\n", 1)[1].split("\n## ", 1)[0]
    rows = {
        split_row(r)[0].strip("`"): split_row(r)[1] for r in section.splitlines() if r[:3] == "| `"
    }
    objects = {"account", "contact", "opportunity", "note"}
    assert set(rows) == objects, "docs/mapping.md's objects table"
    for name in objects:
        model = model_in(MappingFile.model_fields[name].annotation)
        documented_fields = re.findall(r"`([^`]+)`", rows[name])
        assert documented_fields == list(model.model_fields), f"docs/mapping.md: {name}'s fields"


def test_readme_names_every_results_column_and_status():
    from importer.report import render
    from importer.report.results import FAILURE_COLUMNS, RESULT_COLUMNS

    columns = table_keys(README, "### The results file")
    assert columns == list(RESULT_COLUMNS), "README.md's results columns differ from the code's"
    text = README.read_text(encoding="utf-8")
    statuses = render._STATUS_ORDER  # every row status, in the summary's order
    assert len(statuses) >= 7
    for status in statuses:
        assert f"\n| `{status}` | " in text, f"README.md's status table lacks {status}"
    for column in FAILURE_COLUMNS:
        assert f"`{column}`" in text.split("### The failures file", 1)[1], column


def test_sandbox_page_names_every_setting():
    from importer.sandbox import Behaviour, Knobs, SandboxSettings

    text = (DOCS / "sandbox.md").read_text(encoding="utf-8")
    names = [*SandboxSettings.model_fields, *Knobs.model_fields, *Behaviour.model_fields]
    missing = [name for name in names if f"`{name}" not in text]
    assert not missing, f"docs/sandbox.md does not describe the settings {missing}"
