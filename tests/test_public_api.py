"""The public API: ``importer.__all__`` is exactly what resolves, and the stages export what they say."""

from __future__ import annotations

import importlib
import inspect

import pytest

import importer
from importer import errors

STAGES = [
    "importer.api",
    "importer.read",
    "importer.map",
    "importer.validate",
    "importer.send",
    "importer.run",
    "importer.propose",
]


def test_every_exported_name_resolves():
    assert importer.__all__ == sorted(importer.__all__)
    for name in importer.__all__:
        assert getattr(importer, name) is not None, name
    assert {"run_import", "ImportJob", "ImportReport", "load_mapping", "Settings"} <= set(
        importer.__all__
    )
    assert set(errors.__all__) <= set(importer.__all__)


def test_nothing_else_is_public():
    assert dir(importer) == importer.__all__
    with pytest.raises(AttributeError, match="has no attribute 'pipeline'"):
        _ = importer.pipeline
    # The module's own namespace holds no other public name that a user could reach.
    own = {n for n in vars(importer) if not n.startswith("_")}
    submodules = {
        n for n in own if inspect.ismodule(v := vars(importer)[n]) and v.__name__ == f"importer.{n}"
    }
    assert own - submodules <= set(importer.__all__)


@pytest.mark.parametrize("name", STAGES)
def test_each_stage_exports_what_it_lists(name):
    module = importlib.import_module(name)
    assert module.__all__, name
    for exported in module.__all__:
        assert hasattr(module, exported), f"{name}.{exported}"


def test_run_import_takes_a_job_or_plain_values(tmp_path, write_csv, write_mapping):
    leads = write_csv("Email\njo@acme.com\nann@globex.com\n")
    mapping = write_mapping("contact:\n  email: Email\n")
    job = importer.ImportJob.create(leads, mapping, dry_run=True)
    by_job = importer.run_import(job)
    by_values = importer.run_import(leads, mapping, dry_run=True)
    assert by_job.counts == by_values.counts == {"would_import": 2}
    with pytest.raises(importer.UsageError, match="needs a mapping"):
        importer.run_import(leads)
