"""Run: ``run_import`` strings the stages together for one :class:`ImportJob`.

``job`` holds what one run needs (frozen), ``target`` where it sends,
``pipeline`` the run itself: read → map → validate → plan → send → report.
"""

from typing import TYPE_CHECKING, Any

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

if TYPE_CHECKING:
    from importer.run._send import send_import


def __getattr__(name: str) -> Any:
    # asyncio, httpx and the sender load when something sends, not for a dry run.
    if name == "send_import":
        from importer.run._send import send_import

        return send_import
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
