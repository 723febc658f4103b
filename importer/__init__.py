"""octolane-import: move CRM exports (CSV, TSV, XLSX) into Octolane.

The public API::

    from importer import run_import, load_mapping

    report = run_import("leads.csv", "hubspot", dry_run=True, results_path="results.csv")
    print(report.counts, report.planned)

Names are imported lazily, so ``import importer.sandbox`` (or any one stage)
does not load the whole pipeline.
"""

from __future__ import annotations

import importlib
from typing import Any

from importer import errors  # light: no third-party imports

_EXPORTS = {
    "run_import": "importer.run.pipeline",
    "ImportReport": "importer.run.pipeline",
    "ReadOptions": "importer.run.pipeline",
    "load_mapping": "importer.map.spec",
    "MappingFile": "importer.map.spec",
    "Settings": "importer.settings",
    **{name: "importer.errors" for name in errors.__all__},
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'importer' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return __all__
