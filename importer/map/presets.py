"""The bundled mapping presets: one YAML file per CRM export kind.

Presets live in the top-level ``mappings/`` directory of the repository, where
users look for them, and a wheel installs them as the package data of
``importer.bundled_mappings`` (pyproject.toml maps that package to ``mappings/``). :func:`resolve_mapping_path` lets ``--mapping hubspot`` or
``--mapping hubspot.yaml`` name a preset, while an existing file path always
wins, so a user's own ``hubspot.yaml`` in the current directory is used first.

Example:
    >>> resolve_mapping_path("hubspot").name
    'hubspot.yaml'
    >>> [p.name for p in list_presets()][:2]
    ['apollo-accounts', 'apollo-people']
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from importer.errors import MappingError

__all__ = ["PresetInfo", "list_presets", "load_yaml", "preset_dir", "resolve_mapping_path"]


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """The safe loader (libyaml's where PyYAML was built with it, as its wheels are: a
    tenth of the time) that refuses a key given twice in one block: YAML would keep the
    second silently, and a mapping's first ``email:`` or rate would be lost unseen."""

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, Any] = {}
            for key_node, _ in node.value:
                if not isinstance(key_node, yaml.ScalarNode) or key_node.tag.endswith(":merge"):
                    continue
                key = self.construct_object(key_node)  # (`yes:` and `Yes:` are one key, True)
                if key in seen:
                    first = seen[key]
                    same = first.value == key_node.value
                    what = (
                        f"{key_node.value!r} is given twice"
                        if same
                        else f"{first.value!r} and {key_node.value!r} are one key to YAML ({key!r})"
                    )
                    raise yaml.constructor.ConstructorError(
                        None,
                        None,
                        f"{what} in one block (lines {first.start_mark.line + 1} and"
                        f" {key_node.start_mark.line + 1}): YAML would keep only the second;"
                        + (" keep one" if same else " quote them to keep both"),
                        key_node.start_mark,
                    )
                seen[key] = key_node
        return super().construct_mapping(node, deep=deep)


_LOADER = _Loader


def load_yaml(text: str) -> Any:
    """``yaml.safe_load``, with libyaml where it is there.

    Raises:
        yaml.YAMLError: not YAML.
    """
    return yaml.load(text, Loader=_LOADER)  # a safe loader


_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True, slots=True)
class PresetInfo:
    """One bundled preset: its name (file stem), path and one-line description."""

    name: str
    path: Path
    description: str
    #: ``mapping`` (one file), or ``export`` (a whole export folder: its files in order).
    kind: str = "mapping"


def preset_dir() -> Path | None:
    """The directory holding the presets, or None when none is installed.

    An installed wheel carries them as ``importer/bundled_mappings`` (see
    pyproject.toml); a source checkout (and an editable install) reads
    ``<repo>/mappings``.
    """
    package = Path(__file__).resolve().parents[1]  # importer/
    candidates = [package / "bundled_mappings", package.parent / "mappings"]
    for candidate in candidates:
        if candidate.is_dir() and any(_preset_files(candidate)):
            return candidate
    return None


def _preset_files(directory: Path) -> list[Path]:
    files = [p for p in directory.iterdir() if p.suffix in _SUFFIXES and p.name[0] not in "_."]
    return sorted(files, key=lambda p: p.stem)


def list_presets(*, exports: bool = False) -> list[PresetInfo]:
    """Every bundled mapping preset (and export preset, with ``exports``), sorted by name,
    with its YAML ``description:``."""
    directory = preset_dir()
    if directory is None:
        return []
    found = [PresetInfo(p.stem, p, *_described(p)) for p in _preset_files(directory)]
    return [p for p in found if exports or p.kind == "mapping"]


@cache
def _described_cached(path: Path, mtime_ns: int) -> tuple[str, str]:
    try:
        data = load_yaml(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return "(unreadable preset)", "mapping"
    if not isinstance(data, dict):
        return "", "mapping"
    text = data.get("description")
    kind = "export" if "export" in data else "mapping"
    return (" ".join(str(text).split()) if text else ""), kind


def _described(path: Path) -> tuple[str, str]:
    return _described_cached(path, path.stat().st_mtime_ns)


def resolve_mapping_path(name_or_path: str | Path) -> Path:
    """Turn ``--mapping``'s value into a mapping file path.

    An existing file wins. Otherwise a bare name (``hubspot``) or a preset file
    name (``hubspot.yaml``) resolves to the bundled preset of that name.

    Raises:
        MappingError: neither a file nor a preset; the message lists the presets
            (closest matches first).
    """
    path = Path(name_or_path).expanduser()
    if path.is_file():
        return path
    if path.exists():
        raise MappingError(f"{path}: is not a file (give a mapping YAML file or a preset name)")
    # By file name only: reading every preset's description (30 YAML files) to find one
    # cost a quarter of a second of every run's start.
    directory = preset_dir()
    presets = {p.stem: p for p in _preset_files(directory)} if directory is not None else {}
    text = str(name_or_path)
    stem = Path(text).name
    for suffix in _SUFFIXES:
        stem = stem.removesuffix(suffix)
    # A name with a directory part is a path the user typed: never a preset.
    if len(Path(text).parts) == 1 and stem.lower() in presets:
        return presets[stem.lower()]
    raise MappingError(_unknown_message(text, presets))


def _unknown_message(text: str, presets: dict[str, Path]) -> str:
    if not presets:
        return f"{text}: no such mapping file (and no presets are installed)"
    stem = Path(text).name.split(".")[0].lower()
    close = [n for n in presets if n.startswith(stem + "-")]
    close += [
        n for n in difflib.get_close_matches(stem, presets, n=3, cutoff=0.6) if n not in close
    ]
    hint = f" Did you mean: {', '.join(close)}?" if close else ""
    return (
        f"{text}: no such mapping file or preset.{hint} "
        f"Presets: {', '.join(presets)} (octolane-import map --list describes them)"
    )
