"""RateLimiter on a fake clock: pacing, the in-flight cap, Retry-After, adaptation.

Every test runs on a virtual-time event loop: whenever all tasks wait, the
clock jumps to the next timer, so "minutes" of pacing take milliseconds and
nothing sleeps for real.
"""

from __future__ import annotations

import asyncio
import math
import random
from typing import Any, TypeVar

import pytest
from fakeclock import FakeClock

from importer.send.limiter import LoopClock, RateLimiter

T = TypeVar("T")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


async def take_slots(limiter: RateLimiter, n: int, *, hold_s: float = 0.0) -> list[float]:
    """n requests through the limiter, each holding its slot hold_s; their start times."""
    starts: list[float] = []

    async def one() -> None:
        async with limiter.slot() as slot:
            starts.append(slot.sent_at)
            await limiter.clock.sleep(hold_s)
            limiter.on_success(sent_at=slot.sent_at)

    await asyncio.gather(*(one() for _ in range(n)))
    return starts


# ---- fixed rate, the cap, Retry-After ------------------------------------------


@pytest.mark.parametrize(("rate_per_min", "n"), [(600, 20), (60, 5), (3000, 100)])
def test_fixed_rate_spaces_request_starts(clock: FakeClock, rate_per_min: int, n: int) -> None:
    limiter = RateLimiter(concurrency=10, rate_per_min=rate_per_min, clock=clock)
    starts = clock.run(take_slots(limiter, n))
    interval = 60 / rate_per_min
    assert starts == pytest.approx([k * interval for k in range(n)])
    # n requests at rate R: the last starts after (n - 1) / R, so n of them fill n / R.
    assert clock.now_s + interval == pytest.approx(n / (rate_per_min / 60))


def test_fixed_rate_never_changes(clock: FakeClock) -> None:
    limiter = RateLimiter(rate_per_min=300, clock=clock)
    clock.run(take_slots(limiter, 50))
    limiter.on_rate_limited(5.0)
    limiter.on_failure()
    assert limiter.current_rate_per_min == 300
    assert limiter.ceiling_rate_per_min is None
    assert limiter.paused_until == pytest.approx(clock.now_s + 5.0)  # the pause still applies


def test_in_flight_never_exceeds_the_cap(clock: FakeClock) -> None:
    limiter = RateLimiter(concurrency=5, rate_per_min=1_000_000, clock=clock)
    peak = 0

    async def one() -> None:
        nonlocal peak
        async with limiter.slot():
            peak = max(peak, limiter.in_flight)
            await clock.sleep(1.0)

    async def main() -> None:
        await asyncio.gather(*(one() for _ in range(23)))

    clock.run(main())
    assert peak == 5
    assert clock.now_s == pytest.approx(5.0, abs=0.01)  # ceil(23 / 5) rounds of 1 s


def test_retry_after_holds_every_worker(clock: FakeClock) -> None:
    limiter = RateLimiter(concurrency=4, rate_per_min=600, clock=clock)
    starts: list[float] = []

    async def one(i: int) -> None:
        async with limiter.slot() as slot:
            starts.append(slot.sent_at)
            if i == 0:  # the first request is answered 429, Retry-After: 3
                limiter.on_rate_limited(3.0, sent_at=slot.sent_at)

    async def main() -> None:
        await asyncio.gather(*(one(i) for i in range(6)))

    clock.run(main())
    # The first went at 0; the others (one already sleeping for its 0.1 s turn)
    # all wait out the 3 s, then resume at the fixed pace.
    assert starts == pytest.approx([0.0, 3.0, 3.1, 3.2, 3.3, 3.4])


@pytest.mark.parametrize(
    ("retry_after_s", "expected_pause_s"),
    # a lone 429 without Retry-After pauses nobody: the rate answers it (see below)
    [(None, 0.0), (0.0, 0.0), (2.5, 2.5), (-4.0, 0.0), (10_000.0, 300.0)],
)
def test_pause_length(
    clock: FakeClock, retry_after_s: float | None, expected_pause_s: float
) -> None:
    limiter = RateLimiter(clock=clock)
    limiter.on_rate_limited(retry_after_s)
    assert limiter.paused_until == pytest.approx(expected_pause_s)


def test_missing_retry_after_pauses_a_streak_doubling_until_a_success(clock: FakeClock) -> None:
    limiter = RateLimiter(rate_per_min=60, clock=clock)
    pauses = []
    for _ in range(8):
        limiter.on_rate_limited(None)
        pauses.append(limiter.paused_until)
    # four in a row may be bad luck; the fifth means the server turns everything away
    assert pauses == [0.0, 0.0, 0.0, 0.0, 1.0, 2.0, 4.0, 8.0]
    limiter.on_success()
    for _ in range(5):
        limiter.on_rate_limited(None)
    assert limiter.paused_until == 8.0  # a fresh 1 s pause ends before the old one


def test_a_cancelled_waiter_gives_its_place_back(clock: FakeClock) -> None:
    limiter = RateLimiter(concurrency=1, rate_per_min=60, clock=clock)

    async def main() -> list[float]:
        first = await take_slots(limiter, 1)
        waiter = asyncio.create_task(take_slots(limiter, 1))  # due at t=1
        await clock.sleep(0.5)
        waiter.cancel()
        await asyncio.gather(waiter, return_exceptions=True)
        return first + await take_slots(limiter, 2)

    assert clock.run(main()) == pytest.approx([0.0, 1.0, 2.0])


def test_loop_clock_is_the_default() -> None:
    limiter = RateLimiter(concurrency=3, rate_per_min=6_000_000)  # 10 µs apart: no real wait
    assert isinstance(limiter.clock, LoopClock)
    starts = asyncio.run(take_slots(limiter, 3))
    assert starts == sorted(starts)
    assert limiter.clock.now() >= starts[-1]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"concurrency": 0}, "concurrency"), ({"rate_per_min": 0}, "rate_per_min")],
)
def test_invalid_settings(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RateLimiter(**kwargs)


# ---- adaptive rate ------------------------------------------------------------


def test_adaptive_starts_polite_and_rises_while_requests_succeed(clock: FakeClock) -> None:
    limiter = RateLimiter(concurrency=10, clock=clock)
    assert limiter.adaptive and limiter.current_rate_per_min == 100
    clock.run(take_slots(limiter, 60, hold_s=0.05))
    # Slow start: from 100/min to thousands within seconds, each step earned by a success.
    assert limiter.current_rate_per_min > 1_000
    assert clock.now_s < 6.0


def test_adaptive_does_not_rise_when_the_rate_is_not_used(clock: FakeClock) -> None:
    limiter = RateLimiter(clock=clock)

    async def trickle() -> None:
        for _ in range(20):  # one request every 10 s: never waits for the pace
            await take_slots(limiter, 1)
            await clock.sleep(10)
            rates.append(limiter.current_rate_per_min)

    rates: list[float] = []
    clock.run(trickle())
    # The first answer sets the pace (a run sends its first request alone); after it,
    # a rate nobody waits for never rises.
    assert rates[0] > 100
    assert set(rates[1:]) == {rates[0]}


def test_the_first_answers_set_the_pace(clock: FakeClock) -> None:
    # 50 ms a round trip, ten in flight: each answer adds one request per round trip
    # (20/s), up to what ten in flight can carry (200/s, and a quarter more).
    limiter = RateLimiter(concurrency=10, clock=clock)
    seen = []

    async def run() -> None:
        await take_slots(limiter, 1, hold_s=0.05)
        seen.append(limiter.current_rate_per_min)
        await take_slots(limiter, 8, hold_s=0.05)
        seen.append(clock.now_s)
        await take_slots(limiter, 200, hold_s=0.05)

    clock.run(run())
    assert seen[0] == pytest.approx(100 + 20 * 60)
    assert seen[1] < 0.3  # nine requests in under a third of a second
    assert limiter.current_rate_per_min == pytest.approx(1.25 * 10 / 0.05 * 60, rel=0.01)
    assert limiter.latency_s == pytest.approx(0.05)


def test_adaptive_cuts_on_429_once_per_overshoot(clock: FakeClock) -> None:
    limiter = RateLimiter(clock=clock)
    clock.run(take_slots(limiter, 40, hold_s=0.05))
    before = limiter.current_rate_per_min
    sent_before_the_cut = clock.now_s - 0.01

    limiter.on_rate_limited(1.0, sent_at=clock.now_s)
    assert limiter.ceiling_rate_per_min == pytest.approx(before)
    assert limiter.current_rate_per_min == pytest.approx(before * 0.5)  # first 429: halve

    # Other requests of the same overshoot (sent before the cut) pause but do not cut again.
    limiter.on_rate_limited(2.0, sent_at=sent_before_the_cut)
    assert limiter.current_rate_per_min == pytest.approx(before * 0.5)
    assert limiter.paused_until == pytest.approx(clock.now_s + 2.0)

    # A 429 for a request sent after the cut, soon after it: that cut was not enough.
    clock.now_s += 5
    limiter.on_rate_limited(1.0, sent_at=clock.now_s)
    assert limiter.ceiling_rate_per_min == pytest.approx(before * 0.5)
    assert limiter.current_rate_per_min == pytest.approx(before * 0.5 * 0.75)

    # Later: cut to 90% of the rate it happened at.
    clock.now_s += 30
    limiter.on_rate_limited(1.0, sent_at=clock.now_s)
    assert limiter.current_rate_per_min == pytest.approx(before * 0.5 * 0.75 * 0.9)


def test_adaptive_climbs_back_near_the_ceiling_then_creeps(clock: FakeClock) -> None:
    limiter = RateLimiter(concurrency=10, initial_rate_per_min=3000, clock=clock)
    limiter.on_rate_limited(0.0)  # first 429 at 3000/min: ceiling 3000, rate 1500
    clock.now_s = 60.0
    limiter.on_rate_limited(0.0, sent_at=clock.now_s)  # a minute later: ceiling 1500
    assert limiter.ceiling_rate_per_min == pytest.approx(1500)
    assert limiter.current_rate_per_min == pytest.approx(1350)

    clock.run(take_slots(limiter, 600, hold_s=0.05))  # ~25 s at ~1440/min
    # Back at the plateau (96% of the ceiling) within seconds, then only a slow creep.
    assert 1440 <= limiter.current_rate_per_min < 1500 * 1.02


def test_a_ceiling_outgrown_without_429_is_forgotten(clock: FakeClock) -> None:
    limiter = RateLimiter(concurrency=10, initial_rate_per_min=3000, clock=clock)
    limiter.on_rate_limited(0.0)  # ceiling 3000/min
    clock.run(take_slots(limiter, 6000, hold_s=0.05))  # about two minutes without a 429
    assert limiter.ceiling_rate_per_min is None
    assert limiter.current_rate_per_min > 3000 * 1.25


def test_min_rate_bounds_the_cuts(clock: FakeClock) -> None:
    limiter = RateLimiter(min_rate_per_min=30, clock=clock)
    for k in range(20):
        limiter.on_rate_limited(0.0, sent_at=float(k))
        clock.now_s += 1
    assert limiter.current_rate_per_min == 30


# ---- the benchmark's criterion, simulated ---------------------------------------


class TokenBucketServer:
    """Answers like a server limited to ``limit_per_min`` with a token bucket."""

    def __init__(self, clock: FakeClock, *, limit_per_min: float, burst: float, latency_s: float):
        self.clock, self.rate_per_s, self.burst = clock, limit_per_min / 60, burst
        self.latency_s, self.tokens, self.updated = latency_s, burst, 0.0
        self.accepted = self.limited = 0

    async def handle(self) -> float | None:
        """None for a 200, else the Retry-After of a 429 (whole seconds, as in HTTP)."""
        now = self.clock.now()
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate_per_s)
        self.updated = now
        retry_after_s = None
        if self.tokens >= 1:
            self.tokens -= 1
            self.accepted += 1
        else:
            self.limited += 1
            retry_after_s = float(math.ceil((1 - self.tokens) / self.rate_per_s))
        await self.clock.sleep(self.latency_s)
        return retry_after_s


def simulate(limiter: RateLimiter, server: TokenBucketServer, n: int) -> float:
    """Send n requests (each retried until accepted); the elapsed fake seconds."""
    todo = n

    async def worker() -> None:
        nonlocal todo
        while todo > 0:
            todo -= 1
            while True:
                async with limiter.slot() as slot:
                    retry_after_s = await server.handle()
                if retry_after_s is None:
                    limiter.on_success(sent_at=slot.sent_at)
                    break
                limiter.on_rate_limited(retry_after_s, sent_at=slot.sent_at)

    async def main() -> None:
        await asyncio.gather(*(worker() for _ in range(limiter.concurrency)))

    limiter.clock.run(main())  # type: ignore[attr-defined]
    return limiter.clock.now()


@pytest.mark.parametrize("burst", [5, 50, 500])
def test_adaptive_reaches_85_percent_of_the_limit_with_few_429s(
    clock: FakeClock, burst: int
) -> None:
    server = TokenBucketServer(clock, limit_per_min=3000, burst=burst, latency_s=0.05)
    limiter = RateLimiter(concurrency=10, clock=clock)
    elapsed_s = simulate(limiter, server, 5000)

    achieved = server.accepted / elapsed_s * 60 / 3000
    limited_share = server.limited / (server.accepted + server.limited)
    print(f"burst {burst}: {achieved:.1%} of the limit, {limited_share:.2%} answered 429")
    assert server.accepted == 5000
    assert achieved >= 0.85
    assert limited_share < 0.03


def test_fixed_rate_at_the_limit_gets_no_429(clock: FakeClock) -> None:
    server = TokenBucketServer(clock, limit_per_min=3000, burst=5, latency_s=0.05)
    limiter = RateLimiter(concurrency=10, rate_per_min=3000, clock=clock)
    elapsed_s = simulate(limiter, server, 1000)
    assert server.limited == 0
    assert elapsed_s == pytest.approx(1000 / 50, rel=0.01)


# ---- 429s without Retry-After: load shed at random, or a limit that says nothing --------


class SheddingServer(TokenBucketServer):
    """A token bucket (or none) that also turns away ``shed`` of all requests at random,
    with 429s that carry no Retry-After; ``says_when``: whether the bucket's 429s do."""

    def __init__(
        self, clock: FakeClock, *, shed: float, limit_per_min: float = 0.0, says_when: bool = True
    ) -> None:
        super().__init__(clock, limit_per_min=limit_per_min or 1.0, burst=5, latency_s=0.05)
        self.limit, self.shed, self.says_when = limit_per_min, shed, says_when
        self.rng = random.Random(7)

    async def handle_any(self) -> tuple[bool, float | None]:
        """(turned away, Retry-After)."""
        if self.limit:
            retry_after_s = await self.handle()
            if retry_after_s is not None:
                return True, retry_after_s if self.says_when else None
        else:
            await self.clock.sleep(self.latency_s)
        if self.rng.random() < self.shed:
            self.limited += 1
            self.accepted -= bool(self.limit)  # the bucket's token was spent for nothing
            return True, None
        self.accepted += not self.limit
        return False, None


def shed_simulation(limiter: RateLimiter, server: SheddingServer, n: int) -> tuple[float, float]:
    """Send n requests, each retried until accepted: (elapsed seconds, lowest rate/min)."""
    todo, lowest = n, limiter.current_rate_per_min

    async def worker() -> None:
        nonlocal todo, lowest
        while todo > 0:
            todo -= 1
            while True:
                async with limiter.slot() as slot:
                    limited, retry_after_s = await server.handle_any()
                if not limited:
                    limiter.on_success(sent_at=slot.sent_at)
                    break
                limiter.on_rate_limited(retry_after_s, sent_at=slot.sent_at)
                lowest = min(lowest, limiter.current_rate_per_min)

    async def main() -> None:
        await asyncio.gather(*(worker() for _ in range(limiter.concurrency)))

    limiter.clock.run(main())  # type: ignore[attr-defined]
    return limiter.clock.now(), lowest


def test_random_429s_without_retry_after_keep_half_the_throughput() -> None:
    healthy_s, _ = shed_simulation(
        RateLimiter(clock=(c := FakeClock())), SheddingServer(c, shed=0.0), 3000
    )
    shedding = SheddingServer(c2 := FakeClock(), shed=0.2)
    limiter = RateLimiter(clock=c2)
    shed_s, lowest = shed_simulation(limiter, shedding, 3000)
    print(f"healthy {healthy_s:.1f} s, 20% shed {shed_s:.1f} s: {healthy_s / shed_s:.0%}")
    assert shedding.limited > 500  # the path ran: about one answer in five was a 429
    assert healthy_s / shed_s >= 0.5  # it used to fall to 6/min: 3% of the throughput
    assert lowest >= 100  # the rate was never cut for them
    assert limiter.background_429_share == 0.0 or limiter.background_429_share < 0.3


def test_random_429s_do_not_end_the_fast_start() -> None:
    # A short import: the ramp is most of it. A fifth of the answers shed at random say
    # nothing of a limit, so the first answers still set the pace.
    healthy_s, _ = shed_simulation(
        RateLimiter(clock=(c := FakeClock())), SheddingServer(c, shed=0.0), 300
    )
    shedding = SheddingServer(c2 := FakeClock(), shed=0.2)
    shed_s, _ = shed_simulation(RateLimiter(clock=c2), shedding, 300)
    assert shedding.limited > 40  # the path ran
    assert healthy_s / shed_s >= 0.6


def test_a_limit_without_retry_after_is_still_found() -> None:
    server = SheddingServer(clock := FakeClock(), shed=0.0, limit_per_min=3000, says_when=False)
    limiter = RateLimiter(clock=clock)
    elapsed_s, _ = shed_simulation(limiter, server, 3000)
    achieved = server.accepted / elapsed_s * 60 / 3000
    limited_share = server.limited / (server.accepted + server.limited)
    print(f"{achieved:.0%} of the limit, {limited_share:.0%} answered 429")
    assert achieved >= 0.85
    assert limited_share < 0.35
    assert limiter.ceiling_rate_per_min is not None  # the cuts were taken as a limit's


def test_a_limit_and_random_429s_together() -> None:
    server = SheddingServer(clock := FakeClock(), shed=0.2, limit_per_min=3000, says_when=False)
    elapsed_s, _ = shed_simulation(RateLimiter(clock=clock), server, 3000)
    assert server.accepted / elapsed_s * 60 / 3000 >= 0.5


def test_cuts_that_do_not_help_are_taken_back(clock: FakeClock) -> None:
    limiter = RateLimiter(rate_per_min=None, initial_rate_per_min=600, clock=clock)
    peak = 0.0  # the fast start runs until 429s pass the share of shed load
    for i in range(150):  # a steady 40% of 429s: above the share taken for shed load
        clock.now_s += 0.1
        if i % 5 < 2:
            limiter.on_rate_limited(None, sent_at=clock.now_s)
        else:
            limiter.on_success(sent_at=clock.now_s)
        peak = max(peak, limiter.current_rate_per_min)
    cut_to = limiter.current_rate_per_min
    assert cut_to < peak
    for i in range(400):  # the same 40% after the cuts: they are not about the rate
        clock.now_s += 0.1
        if i % 5 < 2:
            limiter.on_rate_limited(None, sent_at=clock.now_s)
        else:
            limiter.on_success(sent_at=clock.now_s)
    assert limiter.background_429_share == pytest.approx(0.4, abs=0.05)
    assert limiter.current_rate_per_min >= peak * 0.9


@pytest.mark.parametrize("floor", [30, 120])
def test_the_floor_is_never_crossed_and_is_reported(floor: int) -> None:
    # a server limited to 10/min: the limiter would go lower, the floor holds it
    server = SheddingServer(clock := FakeClock(), shed=0.0, limit_per_min=10)
    limiter = RateLimiter(min_rate_per_min=floor, clock=clock)
    _, lowest = shed_simulation(limiter, server, 60)
    assert lowest >= floor
    assert limiter.lowest_rate_per_min == floor
    assert limiter.floor_rate_per_min == floor
    assert limiter.floor_time_s() > 0  # it sat at the floor, and says how long


def test_an_import_through_a_sandbox_that_sheds_a_fifth_of_its_requests(tmp_path) -> None:
    from test_import_e2e import contacts_csv, inspect, run, settings, write

    from importer.sandbox import running_sandbox

    data = contacts_csv(tmp_path / "leads.csv", 150)
    mapping = write(
        tmp_path / "m.yaml", "contact:\n  email: {column: Email, transforms: [email]}\n"
    )
    with running_sandbox(
        failure_rate=0.2, failure_status=429, failure_retry_after=None, seed=3
    ) as box:
        report = run(box, data, mapping, settings=settings(box, rate_per_min=None))
        stats = inspect(box, "stats")
        landed = len(inspect(box, "contacts"))
    assert report.send is not None
    assert report.counts == {"imported": 150}
    assert landed == 150
    assert report.send.rate_limited >= 15  # the path ran: the sandbox shed about 1 in 5
    assert stats["rejected"]["injected_fault"] == report.send.rate_limited
    assert report.send.lowest_rate_per_min >= 100  # never cut for them
    assert report.send.at_floor_s == 0


@pytest.mark.parametrize(("rate_per_min", "peak"), [(600, 1), (6_000, 6), (600_000, 32)])
def test_in_flight_follows_the_rate_up_to_the_cap(
    clock: FakeClock, rate_per_min: int, peak: int
) -> None:
    # 50 ms a request: by Little's law rate x latency are in flight (10/s -> 0.5,
    # 100/s -> 5, and one more at the instant one ends as the next starts); the cap (32)
    # binds only where the rate needs more.
    limiter = RateLimiter(concurrency=32, rate_per_min=rate_per_min, clock=clock)
    clock.run(take_slots(limiter, 200, hold_s=0.05))
    assert limiter.peak_in_flight == peak
