"""``in_background``: a read-only check run in a low-priority process while the run goes on.

A dry run over an existing results file must read all of it first (does it hold a
real import's ids? :func:`importer.report.results.results_with_ids`): a second of a
million-row run in which nothing else could happen. Nothing a dry run writes is
visible before its end, so the check can run beside it, in a forked process at the
lowest priority: it takes the time the two busy processes leave idle (the start, while
the first rows are read, and the end, once they are all validated), and its verdict
is awaited before anything is written.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any, Generic, TypeVar

__all__ = ["Pending", "in_background"]

T = TypeVar("T")


class Pending(Generic[T]):
    """A call's result, made elsewhere or now: :meth:`result` waits for it (its exception
    raised here); :meth:`close` stops a call no one waits for."""

    def __init__(self, function: Callable[..., T], args: tuple[Any, ...]) -> None:
        self._value: tuple[str, Any] | None = None
        self._call = function, args
        self._process: Any = None
        self._receiver: Connection | None = None
        context = _fork_context()
        if context is None:  # no fork here (or threads that forking could deadlock): now
            self._value = _outcome(function, args)
            return
        receiver, sender = context.Pipe(duplex=False)
        self._process = context.Process(
            target=_run, args=(function, args, sender), name="octolane-import-check", daemon=True
        )
        self._process.start()
        sender.close()
        self._receiver = receiver

    def result(self) -> T:
        if self._value is None:
            assert self._receiver is not None
            try:
                self._value = self._receiver.recv()
            except EOFError:  # the process died (killed, out of memory): the call, here
                self._value = _outcome(*self._call)
            finally:
                self.close()
        kind, value = self._value
        if kind == "error":
            raise value
        return value

    def close(self) -> None:
        if self._receiver is not None:
            self._receiver.close()
            self._receiver = None
        if self._process is not None:
            if self._process.is_alive():
                self._process.terminate()
            self._process.join()
            self._process = None


def in_background(function: Callable[..., T], *args: Any) -> Pending[T]:
    """``function(*args)`` in a forked process of the lowest priority, where the platform
    forks; else called now. ``function`` must only read: its process shares nothing back
    but the result (or the exception) it returns."""
    return Pending(function, args)


def _fork_context() -> Any:
    if "fork" not in multiprocessing.get_all_start_methods() or threading.active_count() > 1:
        return None
    return multiprocessing.get_context("fork")


def _run(function: Callable[..., Any], args: tuple[Any, ...], sender: Connection) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the run's to handle: it stops this
    with contextlib.suppress(OSError):
        os.nice(19)
    try:
        sender.send(_outcome(function, args))
    except BaseException as exc:  # an unpicklable result or exception: said as text
        with contextlib.suppress(BaseException):  # (a pipe gone: the run is over)
            sender.send(("error", RuntimeError(f"the background check failed: {exc}")))
    finally:
        sender.close()


def _outcome(function: Callable[..., Any], args: tuple[Any, ...]) -> tuple[str, Any]:
    try:
        return "ok", function(*args)
    except Exception as exc:
        return "error", exc
