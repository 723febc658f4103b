"""Dependencies point down the pipeline only: an import that points up fails here.

Each module of ``importer`` has a level (its stage); a module may import its own
stage and the stages below it. The sandbox stands apart: it imports only the
error tree and itself, and only the CLI may import it (lazily, at the command).
Imports are read with ``ast`` at any depth: in functions and under ``TYPE_CHECKING`` too.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "importer"

#: Stage of each top-level part of ``importer``, lowest first.
LEVELS = {
    "importer.errors": 0,
    "importer._gc": 0,
    "importer.settings": 1,
    "importer.api": 2,
    "importer.read": 3,
    "importer.map": 4,
    "importer.validate": 5,
    "importer.plan": 6,
    "importer.send": 7,
    "importer.report": 8,
    "importer.run": 9,
    "importer.propose": 9,
    "importer.cli": 10,
    "importer.__main__": 11,
}
SANDBOX = "importer.sandbox"
SANDBOX_MAY_IMPORT = ("importer.errors", SANDBOX)
# The package's own __init__ names the public API lazily (by string), importing errors only.
ROOT = "importer"


def stage_of(module: str) -> str | None:
    """``importer.map.transforms.money`` → ``importer.map``; the root and the sandbox are apart."""
    parts = module.split(".")
    if module == ROOT:
        return ROOT
    top = ".".join(parts[:2])
    return top if top in LEVELS or top == SANDBOX else None


def module_name(path: Path) -> str:
    relative = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(source: str, module: str) -> Iterator[tuple[int, str]]:
    """(line, imported module) for every ``importer`` import in ``source``, at any depth."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == ROOT:
                    yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module:
            base = node.module
            if node.level:  # relative: resolve against this module's package
                package = module.split(".")[: -node.level] or [ROOT]
                base = ".".join([*package, node.module])
            if base.split(".")[0] != ROOT:
                continue
            if base == ROOT:  # from importer import errors, run, ...
                for alias in node.names:
                    yield node.lineno, f"{ROOT}.{alias.name}"
            else:
                yield node.lineno, base


def violation(importer_module: str, imported: str) -> str | None:
    """Why ``importer_module`` may not import ``imported``, or ``None`` when it may."""
    here, there = stage_of(importer_module), stage_of(imported)
    if there is None or here == there:
        return None
    if here == SANDBOX:
        if not imported.startswith(SANDBOX_MAY_IMPORT):
            return "the sandbox imports only importer.errors and itself"
        return None
    if there == SANDBOX:
        return None if here == "importer.cli" else "only the CLI may import the sandbox"
    if here == ROOT:
        return None if there == "importer.errors" else "importer/__init__.py names the API lazily"
    if there == ROOT:
        return None
    assert here is not None, importer_module
    if LEVELS[there] > LEVELS[here] or (LEVELS[there] == LEVELS[here] and here != there):
        return f"{there} (level {LEVELS[there]}) is not below {here} (level {LEVELS[here]})"
    return None


def scan() -> tuple[list[str], int, int]:
    problems, modules, edges = [], 0, 0
    for path in sorted(PACKAGE.rglob("*.py")):
        module = module_name(path)
        modules += 1
        assert stage_of(module) is not None, f"{path}: no stage in LEVELS for {module}"
        for line, imported in imports_of(path.read_text(encoding="utf-8"), module):
            edges += 1
            why = violation(module, imported)
            if why:
                where = path.relative_to(PACKAGE.parent)
                problems.append(f"{where}:{line}: {module} imports {imported}: {why}")
    return problems, modules, edges


def test_dependencies_point_down_the_stages():
    problems, modules, edges = scan()
    assert modules >= 50 and edges >= 150, (modules, edges)  # the scan really read the package
    assert problems == []


@pytest.mark.parametrize(
    ("module", "source", "why"),
    [
        ("importer.read.source", "from importer.map.spec import MappingFile", "not below"),
        ("importer.plan", "def f():\n    import importer.send.client\n", "not below"),
        ("importer.run.pipeline", "from importer.sandbox import running_sandbox", "only the CLI"),
        ("importer.sandbox.app", "from importer.api.models import AccountPayload", "the sandbox"),
        ("importer.run.job", "from importer.propose import propose_mapping", "not below"),
        (
            "importer.map.spec",
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from importer.report import x\n",
            "not below",
        ),
        ("importer.send.runner", "from ..report import results", "not below"),
    ],
)
def test_an_import_that_points_up_is_caught(module, source, why):
    found = [violation(module, imported) for _, imported in imports_of(source, module)]
    assert found and all(f and why in f for f in found), found


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("importer.cli", "def f():\n    from importer.sandbox import running_sandbox\n"),
        ("importer.run.pipeline", "from importer.validate.source import validated_source"),
        ("importer.map.spec", "from importer.map.transforms.cells import NULL_VALUES"),
        ("importer.sandbox.config", "from importer.errors import UsageError"),
        ("importer", "from importer import errors as _errors"),
    ],
)
def test_an_import_that_points_down_passes(module, source):
    edges = list(imports_of(source, module))
    assert edges and all(violation(module, imported) is None for _, imported in edges)
