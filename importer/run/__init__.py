"""Run: ``run_import`` strings the stages together for one :class:`ImportJob`.

``job`` holds what one run needs (frozen), ``target`` where it sends,
``pipeline`` the run itself: read → map → validate → plan → send → report.
"""

from importer.run._send import send_import
from importer.run.job import ImportJob, Outputs, ReadOptions
from importer.run.pipeline import run_import
from importer.run.target import ClientTarget, OctolaneTarget, Target, choose_target

__all__ = [
    "ClientTarget",
    "ImportJob",
    "OctolaneTarget",
    "Outputs",
    "ReadOptions",
    "Target",
    "choose_target",
    "run_import",
    "send_import",
]
