"""Client-side pacing: one limiter shared by every worker.

:class:`RateLimiter` caps the requests in flight and spaces request starts to a
rate. The rate is fixed (``rate_per_min=N``) or, by default, *adaptive*: it
starts polite (100/min), rises while requests succeed, and backs off on a 429,
after which **every** worker waits the server's ``Retry-After`` before sending
again.

The adaptive rate is AIMD with a remembered ceiling:

* *fast start* (until a limit speaks: a 429 with ``Retry-After``, or 429s without one
  past what load shed at random explains): the first answers set the pace. Each success
  adds one request per round trip (``1 / latency`` requests per second, from the
  answer's own latency): one more request in flight per answer, as TCP's slow start
  adds a segment per acknowledgement, so the rate grows ×2.7 per round trip: at 50 ms
  a round trip it passes 3,000/min after three answers, and a small file against a
  fast server goes out at once;
* *slow start* (after a limit spoke, while no ceiling is known: it was forgotten, or
  its cuts were taken back): each success adds a fixed step, so the rate grows
  exponentially in time (about ×2.7 per second);
* before any ceiling is known the rate stays within 1.25 times what the requests in
  flight can carry (``concurrency / latency``): a rate no request can use says
  nothing, and a cut from it would cut nothing;
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

A 429 *without* ``Retry-After`` may be a limit that says nothing, or load shed at
random (a gateway turning away a fifth of all requests whatever the rate): cutting
the rate for those only slows the import, and they used to drive it to its floor.
So such a 429 is retried and, alone, changes nothing: no pause for every worker
(only a streak of five in a row, no success between, pauses them, 1 s doubling),
and no cut while the share of 429s over the last 100 answers stays at or under 35%
(or 1.5 times the background share plus 5 points, once one is known). Above that,
the rate is cut, held still, and the cut judged on the next 60 answers to requests
sent after it: if the share halved, it was a limit, and pacing goes on as under
one; if not, the rate is cut again, down to a quarter of where it was; if the share
still has not moved, the 429s are not about the rate: the cuts are taken back and
their share becomes the *background*, which later 429s must exceed to count.

The adaptive rate never goes below its floor (``min_rate_per_min``, 30/min by
default, ``--min-rate``); ``lowest_rate_per_min`` and :meth:`floor_time_s` say how
low it went and how long it sat at the floor, and the run's summary says so.

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
from collections import deque
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
    #: Fast start: at most this many req/s added per success (no latency is taken as
    #: shorter than 5 ms: a clock's resolution, a server on the same machine).
    FAST_START_MAX_STEP = 200.0
    #: Before a ceiling is known, the rate stays within this many times what the
    #: requests in flight can carry at the measured latency.
    IN_FLIGHT_HEADROOM = 1.25
    #: The longest a pacing waiter sleeps before it looks at the rate again.
    PACE_STEP_S = 0.05
    #: Weight of the newest answer in the latency's moving average.
    LATENCY_WEIGHT = 0.2
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
    #: Pause after a streak of 429s without Retry-After; doubles per further 429 in a row.
    DEFAULT_PAUSE_S = 1.0
    #: 429s without Retry-After in a row (no success between) before every worker pauses:
    #: a lone one is answered by the rate, a streak means the server turns everything away.
    PAUSE_AFTER_IN_A_ROW = 5
    #: The answers the share of 429s is measured over, and the fewest it is judged on.
    WINDOW = 100
    MIN_SAMPLE = 100
    #: Up to this share, 429s without Retry-After are taken for load shed at random (retried,
    #: no cut): a rate limit that says no Retry-After turns away more as the rate overshoots.
    SHED_SHARE = 0.35
    #: Answers before 429s without Retry-After can end the fast start (their share then
    #: above ``SHED_SHARE``): fewer would let random shedding end it by chance.
    FAST_SHED_SAMPLE = 10
    #: Answers to requests sent after a cut before the cut is judged.
    VERIFY_AFTER = 60
    #: A cut that left at least this share of its 429s did not help: the rate is cut again,
    #: down to this fraction of where it was; if still no help, the 429s are background.
    UNHELPED = 0.5
    JUDGE_DOWN_TO = 0.25

    def __init__(
        self,
        *,
        concurrency: int = 10,
        rate_per_min: float | None = None,
        initial_rate_per_min: float = 100.0,
        min_rate_per_min: float = 30.0,
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
        start = (
            max(initial_rate_per_min, min_rate_per_min) if rate_per_min is None else rate_per_min
        )
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
        #: Fast start: on until a limit speaks (adaptive only); the first answer raises
        #: the rate though nobody waited (a run sends its first request alone).
        self._fast = self.adaptive
        self._first_answer = True
        #: The answers' latency, a moving average (seconds; None: none measured yet).
        self.latency_s: float | None = None
        self.in_flight = 0
        #: The most requests in flight at once: pacing keeps it near rate x latency
        #: (Little's law), so ``concurrency`` is a cap, reached only when the rate needs it.
        self.peak_in_flight = 0
        # 429s without Retry-After: the share of recent answers, the share that cutting
        # the rate did not remove (background: a server that sheds load at random), and
        # the cut being judged (the rate before it, the share that caused it, what came
        # back for requests sent after it).
        self._recent: deque[bool] = deque(maxlen=self.WINDOW)
        self._recent_429s = 0
        self.background_429_share = 0.0
        self._judging: tuple[float, float | None, float] | None = None
        self._since_cut = [0, 0]  # answers, 429s (to requests sent after the last cut)
        #: The lowest rate the limiter set, and how long it sat at its floor (seconds).
        self.lowest_rate_per_min = self._rate * 60
        self.at_floor_s = 0.0
        self._at_floor_since: float | None = None

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
    def floor_rate_per_min(self) -> float:
        """The adaptive rate never goes below this (``--min-rate``), per minute."""
        return self._min_rate * 60

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
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
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
                # In steps of at most PACE_STEP_S: a rate that rises meanwhile (the first
                # answers of a run) applies to this waiter too, not after a slow start's wait.
                await self.clock.sleep(min(due - now, self.PACE_STEP_S))
            # After a sleep, count from the due time, not the (slightly late)
            # wake-up, so loop latency does not erode the rate; an idle limiter
            # banks nothing: the next start is a full interval away.
            self._last_start = max(due, now - interval / 2) if slept else now
            return now

    def on_success(self, *, sent_at: float | None = None) -> None:
        """A request got a non-429 answer from the server: the rate may rise."""
        self._pauses_in_a_row = 0
        now = self.clock.now()
        self._answered(False, sent_at, now)
        latency = now - sent_at if sent_at is not None else None
        if latency is not None:
            weight = self.LATENCY_WEIGHT if self.latency_s is not None else 1.0
            self.latency_s = (1 - weight) * (self.latency_s or 0.0) + weight * latency
        first, self._first_answer = self._first_answer, False
        if (
            not self.adaptive
            or (now - self._last_paced_at > self.BUSY_WINDOW_S and not first)
            or self._judging is not None  # a cut being judged: the rate holds still
        ):
            return
        rate, ceiling = self._rate, self._ceiling
        if ceiling is None:
            if self._fast and latency is not None:
                per_trip = 1 / latency if latency > 0 else math.inf
                rate += min(self.FAST_START_MAX_STEP, max(self.SLOW_START_STEP, per_trip))
            else:
                rate += self.SLOW_START_STEP
            if self.latency_s:  # what the requests in flight can carry, and some room
                carried = self.concurrency / max(self.latency_s, 1 / self.FAST_START_MAX_STEP)
                rate = max(self._rate, min(rate, self.IN_FLIGHT_HEADROOM * carried))
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
        self._set_rate(min(rate, self._max_rate), now)

    def _set_rate(self, rate: float, now: float) -> None:
        self._rate = rate
        self.lowest_rate_per_min = min(self.lowest_rate_per_min, rate * 60)
        at_floor = self.adaptive and rate <= self._min_rate
        if at_floor and self._at_floor_since is None:
            self._at_floor_since = now
        elif not at_floor and self._at_floor_since is not None:
            self.at_floor_s += now - self._at_floor_since
            self._at_floor_since = None

    def floor_time_s(self) -> float:
        """How long the rate has sat at its floor so far (seconds)."""
        running = 0.0 if self._at_floor_since is None else self.clock.now() - self._at_floor_since
        return self.at_floor_s + running

    def _answered(self, limited: bool, sent_at: float | None, now: float) -> None:
        """Count an answer; judge the last cut once enough answers to later requests came."""
        if len(self._recent) == self.WINDOW:
            self._recent_429s -= self._recent[0]
        self._recent.append(limited)
        self._recent_429s += limited
        share = self.recent_429_share
        if len(self._recent) == self.WINDOW and share < self.background_429_share / 2:
            self.background_429_share = share  # the server sheds much less now
        if self._judging is None or (sent_at is not None and sent_at < self._last_cut_at):
            return
        self._since_cut[0] += 1
        self._since_cut[1] += limited
        answers, limited_after = self._since_cut
        if answers < self.VERIFY_AFTER:
            return
        rate_before, ceiling_before, share_at_cut = self._judging
        share_after = limited_after / answers
        if share_after < self.UNHELPED * share_at_cut:
            self._judging = None  # the cut helped: a rate limit, paced as one from now on
        elif self._rate > rate_before * self.JUDGE_DOWN_TO and self._rate > self._min_rate:
            # Not yet: perhaps the rate is still above the limit. Cut again, judge again.
            self._set_rate(max(self._min_rate, self._rate * self.FIRST_CUT), now)
            self._last_cut_at = now
            self._since_cut = [0, 0]
        else:
            # A quarter of the rate and as many 429s: they are not about the rate. Take the
            # cuts back, and from now on count only 429s above this share.
            self._judging = None
            self.background_429_share = max(self.background_429_share, share_after)
            self._ceiling = ceiling_before
            self._set_rate(max(self._rate, rate_before), now)

    @property
    def recent_429_share(self) -> float:
        """The share of the last answers (up to ``WINDOW``) that were 429s."""
        return self._recent_429s / len(self._recent) if self._recent else 0.0

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
        self._answered(True, sent_at, now)
        self._pauses_in_a_row += 1
        if retry_after_s is None:
            streak = self._pauses_in_a_row - self.PAUSE_AFTER_IN_A_ROW
            pause_s = self.DEFAULT_PAUSE_S * 2 ** min(streak, 6) if streak >= 0 else 0.0
        else:
            pause_s = retry_after_s
        pause_s = min(max(pause_s, 0.0), self._max_pause_s)
        self._not_before = max(self._not_before, now + pause_s)
        if not self.adaptive or (sent_at is not None and sent_at < self._last_cut_at):
            return
        if retry_after_s is None:
            # Without Retry-After a 429 may be load shed at random: it cuts only when 429s
            # are more common than the background, and not while a cut is being judged.
            share, background = self.recent_429_share, self.background_429_share
            if self._fast and len(self._recent) >= self.FAST_SHED_SAMPLE:
                # The fast start goes on through load shed at random, not past a limit.
                self._fast = share <= max(self.SHED_SHARE, background * 1.5 + 0.05)
            if (
                self._judging is not None
                or len(self._recent) < self.MIN_SAMPLE
                or share <= max(self.SHED_SHARE, background * 1.5 + 0.05)
            ):
                return
            self._judging = (self._rate, self._ceiling, self.recent_429_share)
            self._since_cut = [0, 0]
        # A limit spoke (a Retry-After, or more 429s than load shed at random): the first
        # answers no longer set the pace. Load shed at random leaves the fast start on.
        self._fast = False
        if self._ceiling is None:
            factor = self.FIRST_CUT
        elif now - self._last_cut_at < self.REPEAT_WINDOW_S:
            factor = self.REPEAT_CUT  # the last cut was not enough: the ceiling is stale
        else:
            factor = self.CUT
        self._ceiling = self._rate
        self._set_rate(max(self._min_rate, self._rate * factor), now)
        self._last_cut_at = now
        self._above_plateau_since = None

    def on_failure(self, *, sent_at: float | None = None) -> None:
        """A request failed without a 429 (5xx, timeout): no rate change.

        Server errors and timeouts are retried with their own backoff; treating
        them as congestion would let a server that fails 20% of requests for
        unrelated reasons throttle the whole import to a crawl.
        """
        del sent_at
