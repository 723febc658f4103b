"""One run at a time per output file: a second run that would write the same files refuses.

Each output (results, failures, requests, journal) gets a lock file beside it,
``.NAME.lock``, held with the operating system's file lock (``filelock``) for
the whole run and removed at its end. A lock dies with its process, so a run
killed with ``kill -9`` never leaves the files locked. The run that takes the
lock also removes what such a killed run left half-written (``NAME.partial``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from importer.errors import UsageError

__all__ = ["OutputsBusyError", "outputs_locked"]


class OutputsBusyError(UsageError):
    """Another run is writing one of this run's output files."""


@contextmanager
def outputs_locked(paths: Iterable[Path | None]) -> Iterator[None]:
    """Hold the lock of every path for the ``with`` block; refuse at once if one is held.

    Raises:
        OutputsBusyError: another octolane-import run holds one of the locks.
        UsageError: a lock cannot be created where the file is to be written.
    """
    with ExitStack() as held:
        for path in sorted({p.absolute() for p in paths if p is not None}):
            lock_path = path.with_name(f".{path.name}.lock")
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                held.enter_context(FileLock(lock_path, timeout=0, mode=0o600))
            except Timeout:
                raise OutputsBusyError(
                    f"{path} is being written by another octolane-import run: let it finish,"
                    " or give this run other files (--out, --failures)"
                ) from None
            except OSError as exc:
                raise UsageError(f"{path}: cannot write there: {exc.strerror or exc}") from exc
            held.callback(lock_path.unlink, missing_ok=True)  # (before the lock is let go)
            for leftover in (".partial", ".partial.amended"):  # a killed run's, never whole
                path.with_name(path.name + leftover).unlink(missing_ok=True)
        yield
