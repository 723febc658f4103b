"""How a run reports progress: the :class:`Progress` protocol and a callback adapter.

The library never prints; a run tells a ``Progress`` what happens and the
caller shows it (the CLI's bar is :func:`importer.report.render.progress_bar`).

Example:
    >>> seen = []
    >>> progress = as_progress(lambda phase, done, failed: seen.append((phase, done)))
    >>> progress("read", 500, 0)
    >>> seen
    [('read', 500)]
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal, Protocol, runtime_checkable

__all__ = ["NO_PROGRESS", "Phase", "Progress", "ProgressCallback", "as_progress"]

Phase = Literal["read", "send"]
#: A plain callback: ``(phase, rows_done, rows_failed)``.
ProgressCallback = Callable[[Phase, int, int], None]


@runtime_checkable
class Progress(Protocol):
    """What a run tells its caller while it works."""

    def set_total(self, phase: Phase, total: int) -> None:
        """``phase`` will count up to ``total`` rows (known for sending, not for reading)."""

    def __call__(self, phase: Phase, done: int, failed: int) -> None:
        """``done`` rows of ``phase`` are through, ``failed`` of them failed."""

    def notice(self, message: str) -> None:
        """Something the person running the import should see now (e.g. "stopping ...")."""


class _Callback:
    """A plain callback as a :class:`Progress`: totals and notices are dropped."""

    def __init__(self, callback: ProgressCallback) -> None:
        self.callback = callback

    def set_total(self, phase: Phase, total: int) -> None:
        pass

    def __call__(self, phase: Phase, done: int, failed: int) -> None:
        self.callback(phase, done, failed)

    def notice(self, message: str) -> None:
        pass


class _Silent:
    def set_total(self, phase: Phase, total: int) -> None:
        pass

    def __call__(self, phase: Phase, done: int, failed: int) -> None:
        pass

    def notice(self, message: str) -> None:
        pass


#: A progress that shows nothing.
NO_PROGRESS: Progress = _Silent()


def as_progress(progress: Progress | ProgressCallback | None) -> Progress:
    """A :class:`Progress` as it is, a plain callback wrapped, ``None`` as :data:`NO_PROGRESS`."""
    if progress is None:
        return NO_PROGRESS
    if isinstance(progress, Progress):
        return progress
    return _Callback(progress)
