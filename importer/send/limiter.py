"""Client-side pacing: one limiter shared by every worker.

:class:`RateLimiter` caps the requests in flight and spaces request starts to a
rate. The rate is fixed (``rate_per_min=N``) or, by default, *adaptive*: it
starts polite (100/min), rises while requests succeed, and backs off on a 429,
after which **every** worker waits the server's ``Retry-After`` before sending
again.

The adaptive rate is AIMD with a remembered ceiling:

* *slow start* (no 429 seen yet): each success adds a fixed step, so the rate
  grows exponentially in time (about ×2.7 per second: 100/min to 3,000/min in
  3.4 s);
* on a 429 the rate at which it happened becomes the *ceiling*; the rate is cut
  to 90% of it (to 50% on the first 429, whose overshoot is unknown, and to
  75% when the last cut, under 10 s ago, was not enough); the other requests
  of the same overshoot (sent before the cut) do not cut again;
* below the plateau (96% of the ceiling) the rate closes 30% of the gap per
  second; above it, it creeps up slowly (0.1% of the ceiling per second,
  doubling every 20 s without a 429), so 429s stay rare: each one costs a
  Retry-After pause for every worker;
* a rate 25% past the ceiling without a 429 forgets the ceiling (the server's
  limit went up) and slow start resumes.

Time comes from a :class:`Clock`, so tests drive the limiter on a fake clock
and never sleep for real.

Example::

    limiter = RateLimiter(concurrency=10)          # adaptive, from 100/min
    async with limiter.slot() as slot:
        try:
            await client.send(endpoint, payload)
        except RateLimitedError as exc:
            limiter.on_rate_limited(exc.retry_after_s, sent_at=slot.sent_at)
        else:
            limiter.on_success(sent_at=slot.sent_at)
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Protocol

__all__ = ["Clock", "LoopClock", "RateLimiter", "Slot"]


class Clock(Protocol):
    """Where the limiter reads the time and how it waits (seconds, monotonic)."""

    def now(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class LoopClock:
    """The running asyncio loop's clock: the default :class:`Clock`."""

    def now(self) -> float:
        try:
            return asyncio.get_running_loop().time()
        except RuntimeError:  # outside a loop: the loop clock is monotonic too
            return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


@dataclass(frozen=True, slots=True)
class Slot:
    """Permission to send one request now. ``sent_at`` is the clock time it was granted."""

    sent_at: float


class RateLimiter:
    """Concurrency cap plus a fixed or adaptive request rate, shared by all workers.

    Args:
        concurrency: at most this many requests in flight (``--concurrency``).
        rate_per_min: a fixed rate (``--rate``); ``None`` (default) adapts.
        initial_rate_per_min: where the adaptive rate starts.
        min_rate_per_min / max_rate_per_min: bounds of the adaptive rate.
        max_pause_s: the longest ``Retry-After`` honoured (a far-off HTTP date is
            clamped to this).
        clock: time source; defaults to the running loop's clock.

    Request starts are spaced ``60 / rate`` seconds apart (no bursts), first
    come first served. A limiter belongs to the event loop that first uses it.
    """

    #: Slow start: req/s added per success; exponential in time, ×e (2.7) per second.
    SLOW_START_STEP = 1.0
    #: First 429 (from slow start): the overshoot is unknown, so halve.
    FIRST_CUT = 0.5
    #: Later 429s: cut to this fraction of the rate at which the 429 happened.
    CUT = 0.9
    #: A 429 within this many seconds of the last cut cuts to REPEAT_CUT instead.
    REPEAT_WINDOW_S = 10.0
    REPEAT_CUT = 0.75
    #: The rate climbs quickly back to this fraction of the ceiling...
    PLATEAU = 0.96
    #: ...closing this fraction of the gap per second,
    APPROACH_PER_S = 0.3
    #: then creeps on by this fraction of the ceiling per second,
    PROBE_PER_S = 0.001
    #: doubling the creep every this many seconds without a 429.
    PROBE_DOUBLING_S = 20.0
    #: A rate this far past the ceiling without a 429 forgets the ceiling.
    FORGET_CEILING = 1.25
    #: The rate only rises if some worker waited for pacing this recently:
    #: a sender that does not use its rate gets no evidence it may go faster.
    BUSY_WINDOW_S = 2.0
    #: Pause after a 429 without Retry-After; doubles per consecutive such 429.
    DEFAULT_PAUSE_S = 1.0

    def __init__(
        self,
        *,
        concurrency: int = 10,
        rate_per_min: float | None = None,
        initial_rate_per_min: float = 100.0,
        min_rate_per_min: float = 6.0,
        max_rate_per_min: float = 120_000.0,
        max_pause_s: float = 300.0,
        clock: Clock | None = None,
    ) -> None:
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, not {concurrency}")
        if rate_per_min is not None and not rate_per_min > 0:
            raise ValueError(f"rate_per_min must be positive, not {rate_per_min}")
        self.concurrency = concurrency
        self.adaptive = rate_per_min is None
        self.clock: Clock = clock or LoopClock()
        self._min_rate = min_rate_per_min / 60
        self._max_rate = max_rate_per_min / 60
        self._max_pause_s = max_pause_s
        start = initial_rate_per_min if rate_per_min is None else rate_per_min
        self._rate = start / 60  # requests per second
        self._ceiling: float | None = None
        self._semaphore = asyncio.Semaphore(concurrency)
        self._pace_lock = asyncio.Lock()
        self._last_start = -math.inf  # nominal start time of the last granted slot
        self._not_before = -math.inf  # Retry-After: nobody sends before this
        self._last_cut_at = -math.inf
        self._above_plateau_since: float | None = None
        self._last_paced_at = -math.inf
        self._pauses_in_a_row = 0
        self.in_flight = 0

    def __repr__(self) -> str:
        mode = "adaptive" if self.adaptive else "fixed"
        return (
            f"<RateLimiter {mode} {self.current_rate_per_min:.0f}/min "
            f"concurrency={self.concurrency} in_flight={self.in_flight}>"
        )

    @property
    def current_rate_per_min(self) -> float:
        """The request rate in force now, per minute."""
        return self._rate * 60

    @property
    def ceiling_rate_per_min(self) -> float | None:
        """The rate at which the last 429 happened (adaptive mode), per minute."""
        return None if self._ceiling is None else self._ceiling * 60

    @property
    def paused_until(self) -> float:
        """Clock time before which no request starts (the last ``Retry-After``)."""
        return self._not_before

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[Slot]:
        """Wait for a free in-flight place and for the pace, then hold the place.

        The place is released when the block exits, so the block should
        contain exactly one HTTP request.
        """
        async with self._semaphore:
            sent_at = await self._wait_turn()
            self.in_flight += 1
            try:
                yield Slot(sent_at)
            finally:
                self.in_flight -= 1

    async def _wait_turn(self) -> float:
        # One waiter at a time paces, re-reading the rate and the Retry-After
        # pause after every sleep: a rate change or a 429 that arrives while
        # it sleeps applies at once, and no reservation goes stale.
        async with self._pace_lock:
            slept = False
            while True:
                now = self.clock.now()
                interval = 1 / self._rate
                due = max(self._last_start + interval, self._not_before)
                if due <= now:
                    break
                slept = True
                self._last_paced_at = now
                await self.clock.sleep(due - now)
            # After a sleep, count from the due time, not the (slightly late)
            # wake-up, so loop latency does not erode the rate; an idle limiter
            # banks nothing: the next start is a full interval away.
            self._last_start = max(due, now - interval / 2) if slept else now
            return now

    def on_success(self, *, sent_at: float | None = None) -> None:
        """A request got a non-429 answer from the server: the rate may rise."""
        del sent_at  # part of the feedback signature; a success is a success
        self._pauses_in_a_row = 0
        now = self.clock.now()
        if not self.adaptive or now - self._last_paced_at > self.BUSY_WINDOW_S:
            return
        rate, ceiling = self._rate, self._ceiling
        if ceiling is None:
            rate += self.SLOW_START_STEP
        else:
            # Per-second growth divided by the rate gives a per-success step,
            # since successes arrive at about the rate.
            plateau = self.PLATEAU * ceiling
            if rate < plateau:
                growth_per_s = self.APPROACH_PER_S * (plateau - rate)
                self._above_plateau_since = None
            else:
                if self._above_plateau_since is None:
                    self._above_plateau_since = now
                above_s = now - self._above_plateau_since
                growth_per_s = self.PROBE_PER_S * ceiling * 2 ** (above_s / self.PROBE_DOUBLING_S)
            rate += max(growth_per_s, self.PROBE_PER_S * ceiling) / rate
            if rate > self.FORGET_CEILING * ceiling:
                self._ceiling = None
        self._rate = min(rate, self._max_rate)

    def on_rate_limited(
        self, retry_after_s: float | None = None, *, sent_at: float | None = None
    ) -> None:
        """A 429: pause every worker for ``retry_after_s`` and (adaptive) cut the rate.

        Args:
            retry_after_s: the server's Retry-After in seconds; ``None`` pauses
                ``DEFAULT_PAUSE_S``, doubling for each 429 in a row.
            sent_at: the request's :attr:`Slot.sent_at`. A request sent before
                the last cut was answered for the old rate, so it does not cut
                again: one overshoot, one cut.
        """
        now = self.clock.now()
        if retry_after_s is None:
            pause_s = self.DEFAULT_PAUSE_S * 2 ** min(self._pauses_in_a_row, 6)
        else:
            pause_s = retry_after_s
        pause_s = min(max(pause_s, 0.0), self._max_pause_s)
        self._pauses_in_a_row += 1
        self._not_before = max(self._not_before, now + pause_s)
        if not self.adaptive or (sent_at is not None and sent_at < self._last_cut_at):
            return
        if self._ceiling is None:
            factor = self.FIRST_CUT
        elif now - self._last_cut_at < self.REPEAT_WINDOW_S:
            factor = self.REPEAT_CUT  # the last cut was not enough: the ceiling is stale
        else:
            factor = self.CUT
        self._ceiling = self._rate
        self._rate = max(self._min_rate, self._rate * factor)
        self._last_cut_at = now
        self._above_plateau_since = None

    def on_failure(self, *, sent_at: float | None = None) -> None:
        """A request failed without a 429 (5xx, timeout): no rate change.

        Server errors and timeouts are retried with their own backoff; treating
        them as congestion would let a server that fails 20% of requests for
        unrelated reasons throttle the whole import to a crawl.
        """
        del sent_at
