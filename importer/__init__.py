"""octolane-import: move CRM exports (CSV, TSV, XLSX) into Octolane.

The public API::

    from importer import run_import

    report = run_import("leads.csv", "hubspot", dry_run=True, results_path="results.csv")
    print(report.counts, report.planned)

or, with every option in one frozen object::

    from importer import ImportJob, run_import

    job = ImportJob.create("leads.csv", "hubspot", dry_run=True)
    report = run_import(job)

Names are imported lazily, so ``import importer`` (or any one stage) does not
load the whole pipeline.
"""

import importlib as _importlib
from typing import Any as _Any

from importer import errors as _errors  # light: no third-party imports

_EXPORTS = {
    "run_import": "importer.run",
    "ImportJob": "importer.run",
    "Outputs": "importer.run",
    "ReadOptions": "importer.run",
    "Target": "importer.run",
    "OctolaneTarget": "importer.run",
    "ClientTarget": "importer.run",
    "ImportReport": "importer.report.summary",
    "Progress": "importer.report.progress",
    "load_mapping": "importer.map",
    "MappingFile": "importer.map",
    "Settings": "importer.settings",
    **{name: "importer.errors" for name in _errors.__all__},
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> _Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'importer' has no attribute {name!r}")
    return getattr(_importlib.import_module(module), name)


def __dir__() -> list[str]:
    return __all__
