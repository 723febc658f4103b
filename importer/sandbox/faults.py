"""Knobs for the bad days: per-key rate limit and concurrency limit, latency with
jitter, a seeded failure rate and "fail the next N requests" (each failure answered
with a status, or with no answer at all: a dropped connection).

:class:`Faults` is the only stateful piece. The server's event loop calls it
per request while tests change it from their own thread, so every method takes
one short lock. The clock is injected so the token bucket is tested without
sleeping.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from importer.sandbox.config import Knobs, SandboxConfigError

__all__ = ["Faults", "Injected", "Rejection", "TokenBucket"]

Clock = Callable[[], float]


class TokenBucket:
    """``capacity`` tokens, refilled continuously at ``rate_per_s``.

    Example:
        >>> bucket = TokenBucket(rate_per_s=1.0, capacity=1, clock=lambda: 0.0)
        >>> bucket.take(), bucket.take()
        (0.0, 1.0)
    """

    __slots__ = ("_clock", "capacity", "rate_per_s", "tokens", "updated")

    def __init__(self, *, rate_per_s: float, capacity: int, clock: Clock) -> None:
        self.rate_per_s = rate_per_s
        self.capacity = capacity
        self.tokens = float(capacity)
        self._clock = clock
        self.updated = clock()

    def take(self) -> float:
        """Take a token: 0.0 if granted, else the seconds until one will be there."""
        now = self._clock()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate_per_s)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate_per_s


@dataclass(frozen=True, slots=True)
class Rejection:
    """A request turned away before any work: 429 with ``Retry-After``."""

    reason: str  # "rate_limited" or "concurrency_limited"
    retry_after_s: int


@dataclass(frozen=True, slots=True)
class Injected:
    """An injected failure; with ``after_write`` the request is processed first.

    With ``drop_connection`` there is no answer: the connection is closed instead of
    sending ``status``.
    """

    status: int
    after_write: bool
    drop_connection: bool = False
    retry_after_s: int | None = 1  # a 429's or 503's Retry-After; None: no header


@dataclass(slots=True)
class _FailNext:
    remaining: int
    status: int
    endpoint: str | None
    after_write: bool
    drop_connection: bool


class Faults:
    """Applies the knobs to API requests. One instance per running sandbox."""

    def __init__(self, knobs: Knobs | None = None, *, clock: Clock = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._pending: list[_FailNext] = []
        self._in_flight: dict[str, int] = {}
        self._apply(knobs or Knobs())

    def _apply(self, knobs: Knobs) -> None:
        self.knobs = knobs
        self._rng = random.Random(knobs.seed)
        # Items draw from their own sequence, so item failures never shift which requests fail.
        seed = knobs.seed
        self._item_rng = random.Random(None if seed is None else f"items/{seed}")
        self._buckets: dict[tuple[str, str], TokenBucket] = {}  # new limits start full

    @property
    def seed(self) -> int | None:
        return self.knobs.seed

    def configure(self, **changes: Any) -> Knobs:
        """Change some knobs (others keep their values); returns the new knobs.

        Raises:
            SandboxConfigError: an unknown knob or an invalid value.
        """
        unknown = changes.keys() - Knobs.model_fields.keys()
        if unknown:
            valid = ", ".join(Knobs.model_fields)
            raise SandboxConfigError(
                f"unknown knob(s) {', '.join(sorted(unknown))}; valid: {valid}"
            )
        with self._lock:
            try:
                knobs = Knobs.model_validate({**self.knobs.model_dump(), **changes})
            except ValidationError as exc:
                raise SandboxConfigError(f"invalid knob value: {exc.errors()[0]['msg']}") from exc
            self._apply(knobs)
        return knobs

    def fail_next(
        self,
        count: int,
        *,
        status: int = 500,
        endpoint: str | None = None,
        after_write: bool = False,
        drop_connection: bool = False,
    ) -> None:
        """Make the next ``count`` API requests (to ``endpoint``, if given) fail with ``status``.

        ``endpoint`` is ``"accounts"``, ``"contacts"``, ``"opportunities"`` or ``"notes"``
        (the inbound writes), or a public write such as ``"notes.bulk"`` or
        ``"opportunities.create"``, or a read named as such (``"notes_read"``,
        ``"opportunities_search"``: a rule without an endpoint never fails a read).
        With ``after_write`` the request is stored before the failure is returned. With
        ``drop_connection`` the failure is no answer at all: the connection is closed
        (after the write with ``after_write``, else before it).
        """
        if count < 1 or not 400 <= status <= 599:
            raise SandboxConfigError("fail_next needs count >= 1 and a 4xx/5xx status")
        with self._lock:
            self._pending.append(_FailNext(count, status, endpoint, after_write, drop_connection))

    def reset(self) -> None:
        """Back to no knobs at all; pending ``fail_next`` rules are dropped."""
        with self._lock:
            self._pending.clear()
            self._apply(Knobs())

    def admit(self, api_key: str, route: str = "") -> Rejection | bool:
        """Rate limit (per key, or per key and ``route`` with ``rate_limit_scope="route"``),
        then concurrency limit (per key).

        Returns a :class:`Rejection`, or whether a concurrency slot was taken (pass
        that to :meth:`release`).
        """
        knobs = self.knobs
        if not knobs.rate_limit_per_min and knobs.concurrency_limit is None:
            return False
        with self._lock:
            if knobs.rate_limit_per_min:
                scope = route if knobs.rate_limit_scope == "route" else ""
                wait_s = self._bucket((api_key, scope), knobs.rate_limit_per_min).take()
                if wait_s:
                    return Rejection("rate_limited", max(1, math.ceil(wait_s)))
            if knobs.concurrency_limit is None:
                return False
            in_flight = self._in_flight.get(api_key, 0)
            if in_flight >= knobs.concurrency_limit:
                return Rejection("concurrency_limited", 1)
            self._in_flight[api_key] = in_flight + 1
            return True

    def _bucket(self, scope: tuple[str, str], per_min: float) -> TokenBucket:
        bucket = self._buckets.get(scope)
        if bucket is None:
            burst = self.knobs.rate_limit_burst or max(1, int(per_min))
            bucket = TokenBucket(rate_per_s=per_min / 60, capacity=burst, clock=self._clock)
            self._buckets[scope] = bucket
        return bucket

    def release(self, api_key: str) -> None:
        """Give back the concurrency slot :meth:`admit` took."""
        with self._lock:
            self._in_flight[api_key] -= 1

    def delay_s(self) -> float:
        """Latency to add to this request: ``latency_ms + uniform(0, jitter_ms)``."""
        knobs = self.knobs
        if not knobs.latency_ms and not knobs.jitter_ms:
            return 0.0
        with self._lock:
            jitter = self._rng.uniform(0, knobs.jitter_ms) if knobs.jitter_ms else 0.0
        return (knobs.latency_ms + jitter) / 1000

    def item_fails(self, item_json: str) -> bool:
        """Whether a public create's item fails by injection: ``fail_items_containing``
        is in its JSON text, or the ``item_failure_rate`` draw (one per item, in order)."""
        knobs = self.knobs
        if not knobs.item_failure_rate and knobs.fail_items_containing is None:
            return False
        with self._lock:
            drawn = bool(knobs.item_failure_rate) and (
                self._item_rng.random() < knobs.item_failure_rate
            )
        marker = knobs.fail_items_containing
        return drawn or (marker is not None and marker in item_json)

    def injected(self, endpoint: str, *, read: bool = False) -> Injected | None:
        """The failure to inject for this request, if any (``fail_next`` rules first). A
        ``read`` fails only by a rule that names it; the random failures are the writes'."""
        if not self._pending and (read or not self.knobs.failure_rate):
            return None
        with self._lock:
            for rule in self._pending:
                if rule.endpoint == endpoint or (rule.endpoint is None and not read):
                    rule.remaining -= 1
                    if not rule.remaining:
                        self._pending.remove(rule)
                    return Injected(rule.status, rule.after_write, rule.drop_connection)
            if read:
                return None
            knobs = self.knobs
            if knobs.failure_rate and self._rng.random() < knobs.failure_rate:
                if knobs.drop_connection_after_write:
                    return Injected(knobs.failure_status, after_write=True, drop_connection=True)
                return Injected(
                    knobs.failure_status, knobs.fault_after_write,
                    retry_after_s=knobs.failure_retry_after,
                )  # fmt: skip
        return None
