"""A virtual-time clock for the limiter and sender tests: no test sleeps for real."""

from __future__ import annotations

import asyncio
import selectors
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class FakeClock:
    """A :class:`~importer.send.limiter.Clock` on virtual time; ``run`` drives a coroutine.

    The event loop jumps to the next timer whenever every task waits.
    """

    def __init__(self) -> None:
        self.now_s = 0.0

    def now(self) -> float:
        return self.now_s

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        with asyncio.Runner(loop_factory=self._new_loop) as runner:
            return runner.run(coro)

    def _new_loop(self) -> asyncio.AbstractEventLoop:
        clock = self

        class Selector(selectors.DefaultSelector):  # type: ignore[misc,valid-type]
            def select(self, timeout: float | None = None) -> list[Any]:
                events = super().select(0)
                if not events:
                    if timeout is None:
                        raise RuntimeError("every task waits and no timer is set: deadlock")
                    clock.now_s += max(timeout, 0.0)  # nothing to do until the next timer
                return events

        class Loop(asyncio.SelectorEventLoop):
            def time(self) -> float:
                return clock.now_s

        return Loop(Selector())
