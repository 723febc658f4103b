"""Send an :class:`~importer.plan.ImportPlan`: concurrent, paced, retried, ordered.

:func:`send_plan` runs workers that take *ready* requests (all dependencies
succeeded) in plan order, pace them through the shared
:class:`~importer.send.limiter.RateLimiter` and retry them with ``stamina``. Each
request ends with exactly one :class:`RequestOutcome`, passed to ``on_outcome``
as soon as it is final; nothing raises for a row.

* 2xx: ``ok``, with the ids from the response.
* 400, 404, other 4xx: ``failed`` at once with the API's message and field
  errors; its dependants fail too, naming it (``blocked_by``), unsent.
* 429, 5xx, timeouts, connection errors: retried with exponential backoff and
  jitter, bounded by :class:`RetryPolicy`. After a 429 the limiter's shared
  ``Retry-After`` pause is the wait; no backoff is added on top.
* A lost answer (a read timeout or a connection closed after the request went
  out, or a 5xx, which may come after the write): the server may have acted on
  it. A request Octolane deduplicates (an account, a contact, a deal with a
  company domain and a name) is retried, since a repeat finds the same record;
  a note, or a deal without that key, is not: a repeat could create a second
  one. Either ends ``unknown`` (not ``failed``) if no answer says what happened.
* 401/403, too many server failures in a row, or the same answer that no row
  explains (a redirect, a 404 or 410 on the route, a page that is not the API's,
  no connection) on several requests in a row: the run aborts; ``stop`` set
  (Ctrl-C): it stops. Nothing new is sent, requests on the wire finish, the
  rest are ``not_sent``.

The first request is sent alone, the others once it has an answer other than
401/403: a wrong key costs exactly one request, not one per worker.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import heapq
import inspect
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import stamina
from pydantic import BaseModel

from importer.api.endpoints import PATHS, Endpoint
from importer.errors import (
    ApiError,
    AuthenticationError,
    RateLimitedError,
    RequestTimeoutError,
    ServerError,
    TransportError,
)
from importer.plan import ImportPlan, PlannedRequest
from importer.send.limiter import RateLimiter
from importer.send.lookup import Links, LookupUnavailable, note_links, note_text

if TYPE_CHECKING:  # the clients load httpx: a dry run needs none of it
    from importer.send.client import OctolaneClient

__all__ = [
    "STATUSES",
    "Attempt",
    "RequestOutcome",
    "RetryPolicy",
    "SendReport",
    "repeatable",
    "send_plan",
]

_T = TypeVar("_T")
Status = Literal["ok", "failed", "unknown", "not_sent"]
STATUSES: tuple[Status, ...] = ("ok", "failed", "unknown", "not_sent")
STOPPED = "the run was stopped (Ctrl-C or SIGTERM)"
#: The public API's documented read quota, shared by its read endpoints (API.md §2.7).
READ_RATE_PER_MIN = 300.0
#: A note found in Octolane before its first send (an earlier import made it).
NOTE_THERE = (
    "already in Octolane: a note with this title, content and links was found by a lookup"
    " before sending, so it was not sent again"
)
#: A note sent where Octolane could not be asked whether it holds it already.
NOTE_UNCHECKED = "sent without a check for the same note in Octolane"
REFUSED = "the API key was refused (HTTP {status}): check --api-key / OCTOLANE_API_KEY"


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryPolicy:
    """How hard to try: bounded in attempts and in time.

    Attributes:
        attempts: tries per request (first included) on 5xx, timeouts and
            connection errors.
        rate_limited_attempts: 429 answers one request may get before it fails.
            Counted apart from ``attempts``: a 429 is pacing, not a failure.
        timeout_s: total time one request may take, waits included; no retry
            starts after it.
        wait_initial_s, wait_max_s, wait_jitter_s, wait_exp_base: the backoff
            before retry *n* is ``min(wait_max_s, wait_initial_s * wait_exp_base **
            (n - 1) + uniform(0, wait_jitter_s))``: 0.5-1.5 s, 1-2 s, 2-3 s, 4-5 s.
        max_failures_in_a_row: abort the run when this many requests in a row
            (in the order they finish) failed with a 5xx or a transport error
            after all their retries. Any request answered with something else
            than a 5xx (a success, a 400, a 404) resets the count; 429s neither
            count nor reset.
        systematic_in_a_row: abort the run when this many attempts in a row got
            the same answer that no row explains: a redirect, a 404/405/410 naming
            no field, an answer not in Octolane's format (an HTML page), or no
            connection at all. While such answers come, one request is sent at a time.
    """

    attempts: int = 5
    rate_limited_attempts: int = 20
    timeout_s: float = 300.0
    wait_initial_s: float = 0.5
    wait_max_s: float = 30.0
    wait_jitter_s: float = 1.0
    wait_exp_base: float = 2.0
    max_failures_in_a_row: int = 10
    systematic_in_a_row: int = 5


@dataclass(frozen=True, slots=True)
class RequestOutcome:
    """The final result of one planned request.

    ``status`` is ``ok``, ``failed`` (also when a failed dependency kept it
    from being sent: ``blocked_by`` names that request), ``unknown`` (sent, and its
    answer lost: the record may or may not exist) or ``not_sent`` (the run
    stopped first). ``ids`` come from the response (``{"people_id": ...}``);
    ``http_status`` is the last status (``None``: no answer); ``message`` is the
    API's message, the error, or why it was not sent; ``attempts`` counts its
    HTTP requests; ``rows`` are the plan's rows for it. ``run`` is the earlier run
    (of a journal) whose outcome this is, ``None`` for this run's.
    """

    key: str
    endpoint: Endpoint
    status: Status
    ids: dict[str, str] = field(default_factory=dict)
    http_status: int | None = None
    message: str = ""
    field_errors: dict[str, str] = field(default_factory=dict)
    attempts: int = 0
    blocked_by: str | None = None
    rows: tuple[int, ...] = ()
    run: int | None = None

    def describe(self) -> str:
        """``HTTP 400: Validation error (domain: ...)`` or the message alone."""
        text = f"HTTP {self.http_status}: {self.message}" if self.http_status else self.message
        if self.field_errors:
            text += " (" + "; ".join(f"{k}: {v}" for k, v in self.field_errors.items()) + ")"
        return text


@dataclass(slots=True)
class SendReport:
    """What :func:`send_plan` did.

    ``counts`` has every status of :data:`STATUSES`; ``by_endpoint`` maps each
    endpoint of the plan to such counts. ``requests_sent`` counts HTTP attempts,
    so it equals the requests that were sent at least once plus ``retries``.
    """

    outcomes: dict[str, RequestOutcome]
    counts: dict[Status, int]
    by_endpoint: dict[str, dict[str, int]]
    requests_sent: int
    retries: int
    rate_limited: int
    server_errors: int
    transport_errors: int
    elapsed_s: float
    aborted: str | None
    rate_per_min: float
    #: Lookups of records whose create's answer was lost (:meth:`InboundClient.find`).
    lookups: int = 0
    #: The adaptive rate's floor (``--min-rate``), the lowest rate it set, and how long
    #: it sat at the floor (seconds): the summary says so when it did.
    floor_rate_per_min: float = 0.0
    lowest_rate_per_min: float = 0.0
    at_floor_s: float = 0.0
    #: Bulk requests sent (the public API), and how many of them were halves of a batch
    #: refused whole, sent to isolate the records it refused.
    bulk_requests: int = 0
    split_requests: int = 0
    #: The most requests in flight at once (the cap is ``--concurrency``).
    peak_in_flight: int = 0

    @property
    def requests_per_s(self) -> float:
        return self.requests_sent / self.elapsed_s if self.elapsed_s > 0 else 0.0


@dataclass(frozen=True, slots=True)
class Attempt:
    """One HTTP attempt: when, which request, which try, the status (None: no answer),
    how long it took, and the answer (Octolane's envelope, or the transport error)."""

    at: datetime.datetime
    request: PlannedRequest
    attempt: int
    status: int | None
    seconds: float
    answer: dict[str, Any]
    #: The route (below the base URL) and the body sent, where they are not the
    #: request's own (a batch: ``request`` stands for its records).
    path: str = ""
    body: Any = None


async def send_plan(
    plan: ImportPlan,
    client: OctolaneClient,
    *,
    limiter: RateLimiter,
    retry: RetryPolicy = RetryPolicy(),
    on_outcome: Callable[[RequestOutcome], None] | None = None,
    stop: asyncio.Event | None = None,
    done: Mapping[str, RequestOutcome] | None = None,
    on_send: Callable[[PlannedRequest], None] | None = None,
    on_attempt: Callable[[Attempt], None] | None = None,
    run_type: type[_Run] | None = None,
    retry_unknown: bool = False,
    read_limiter: RateLimiter | None = None,
    held_notes: bool | None = None,
    on_held_notes: Callable[[bool], None] | None = None,
) -> SendReport:
    """Send every request of ``plan`` through ``client``; never raises for a request.

    Args:
        plan: requests in dependency order (each ``depends_on`` key earlier).
        client: the target, e.g. :class:`~importer.send.client.InboundClient`.
        limiter: pacing and concurrency cap; ``limiter.concurrency`` in flight.
        retry: attempts, backoff and the abort threshold.
        on_outcome: called once per request, as soon as its outcome is final.
            An exception it raises ends the run and propagates.
        stop: set it (e.g. on Ctrl-C) to stop sending; requests on the wire
            finish, the rest become ``not_sent``.
        done: outcomes an earlier run got (a journal's), by key: those requests are
            not sent; an ``ok`` one releases its dependants, any other blocks them. A
            lost answer (``unknown``) is looked up first where the client can: found,
            it is ``ok``; not found, it is sent.
        on_send: called before the first attempt of a request that :func:`repeatable`
            says a repeat could duplicate (a journal marks it, so that a crash while it
            is on the wire leaves it ``unknown``, not unsent).
        on_attempt: called after each HTTP attempt with what was sent and answered
            (:class:`Attempt`: the ``--log`` file and ``-v``).
        run_type: the worker pool (:class:`~importer.send.bulk.BulkRun` sends batches;
            :func:`importer.send.send_plan` picks it for a bulk client).
        retry_unknown: send the lost answers of ``done`` that no lookup can settle
            (without it they keep their outcome). Those a lookup finds are never sent.
        read_limiter: the pace of lookups (the public API's reads: 300 a minute unless
            given), apart from the writes'.
        held_notes: whether the organization held any note when this import began (an
            earlier run's answer, kept by the journal; None: ask before the first note).
            Where it held none, no note is looked up before its first send.
        on_held_notes: hears the answer when this run asks (the journal keeps it).

    Raises:
        ValueError: the plan repeats a key or depends on a key not listed before.

    Example::

        async with InboundClient(key) as client:
            report = await send_plan(plan, client, limiter=RateLimiter())
        print(report.counts, report.aborted)
    """
    run = (run_type or _Run)(plan, client, limiter, retry, on_outcome, stop)
    run.on_send = on_send
    run.on_attempt = on_attempt
    run.retry_unknown = retry_unknown
    run.held_notes, run.on_held_notes = held_notes, on_held_notes
    if read_limiter is not None:
        run.read_limiter = read_limiter
    if done:
        run.preload(done)
    return await run.execute()


def repeatable(request: PlannedRequest) -> bool:
    """Whether sending ``request`` again cannot create a second record: Octolane finds
    accounts by domain, contacts by e-mail and deals by company domain, pipeline and
    name (API.md §1.7); notes, and deals without a domain or a name, have no such key."""
    endpoint = request.endpoint
    if endpoint in ("accounts", "contacts"):
        return True
    if endpoint == "opportunities":
        payload = request.payload
        related = payload.get("related_objects") or {}
        body = payload.get("opportunity") or {}
        return bool(related.get("account_domain") and body.get("name"))
    return False


class _StillUnknown(Exception):
    """An earlier run's lost answer that no lookup can settle: its outcome stays."""

    def __init__(self, outcome: RequestOutcome, why: str) -> None:
        super().__init__(why)
        self.outcome, self.why = outcome, why


class _NotChecked(Exception):
    """A note whose check for an earlier import's copy failed: it waits (its message is
    the row's)."""


def _held_back(error: LookupUnavailable) -> str:
    return (
        f"not sent: the check for the same note in Octolane failed for now ({error}); the"
        " same command checks again, then sends it"
    )


def _undecided(error: LookupUnavailable) -> str:
    return (
        f"not sent: the check for the same note in Octolane cannot tell ({error}): check in"
        " Octolane whether it is there, then run the same command with --retry-unknown to"
        " send it"
    )


class _Halted(Exception):
    """Raised inside an attempt that must not start: the run is stopping."""


@dataclass(slots=True)
class _Progress:
    attempts: int = 0
    failures: int = 0  # 5xx and transport errors
    rate_limited: int = 0
    on_wire: bool = False
    last_error: ApiError | TransportError | None = None
    task: asyncio.Task[BaseModel] | None = None
    repeatable: bool = True
    lookups: int = 0  # lookups of a record whose create's answer was lost
    found: str | None = None  # how a lookup found the record (the outcome's message)


class _Run:
    """One send_plan call: the dependency graph, the worker pool and the counters."""

    def __init__(
        self,
        plan: ImportPlan,
        client: OctolaneClient,
        limiter: RateLimiter,
        policy: RetryPolicy,
        on_outcome: Callable[[RequestOutcome], None] | None,
        stop: asyncio.Event | None,
    ) -> None:
        self.client, self.limiter, self.policy = client, limiter, policy
        self.on_outcome, self.stop = on_outcome, stop
        self.requests = list(plan.requests)
        self.index: dict[str, int] = {}
        self.waiting_on: list[int] = []
        self.dependants: list[list[int]] = [[] for _ in self.requests]
        for i, request in enumerate(self.requests):
            if request.key in self.index:
                raise ValueError(f"the plan lists {request.key!r} twice")
            deps = set(request.depends_on)
            for dep in deps:
                if dep not in self.index:
                    raise ValueError(f"{request.key!r} depends on {dep!r}, not listed before it")
                self.dependants[self.index[dep]].append(i)
            self.index[request.key] = i
            self.waiting_on.append(len(deps))
        self.ready = [i for i, n in enumerate(self.waiting_on) if n == 0]  # a heap: plan order
        self.outcomes: dict[int, RequestOutcome] = {}
        self.active: dict[int, _Progress] = {}
        self.changed = asyncio.Condition()
        self.first_answered = False
        self.halt_reason: str | None = None
        self.failures_in_a_row = 0
        #: The answer no row explains that the last attempts got, and how many in a row.
        self.systematic: tuple[str, str] | None = None
        self.systematic_count = 0
        self.on_send: Callable[[PlannedRequest], None] | None = None
        self.on_attempt: Callable[[Attempt], None] | None = None
        #: Looks a record up (:meth:`InboundClient.find`), where the client can.
        self.finder: Callable[..., Awaitable[BaseModel | None]] | None = getattr(
            client, "find", None
        )
        #: Whether the finder takes what it must not match (``taken``, ``rivals``).
        self._finder_context = self.finder is not None and _takes_context(self.finder)
        #: The note and deal ids this run's requests (and the journal's earlier runs)
        #: got: a lookup never gives one to another row.
        self.claimed: set[str] = set()
        #: Each note text's link sets (how many of the run's notes ask for each).
        self._by_text: dict[tuple[str, str | None], Counter[Links]] | None = None
        #: Requests an earlier run lost the answer of: looked up before they are sent.
        self.verify: dict[str, RequestOutcome] = {}
        #: The lookups' pace: the public API's reads have their own quota (API.md §2.7).
        self.read_limiter = RateLimiter(
            concurrency=limiter.concurrency, rate_per_min=READ_RATE_PER_MIN, clock=limiter.clock
        )
        #: Send those no lookup can settle all the same (``--retry-unknown``).
        self.retry_unknown = False
        #: Why a request an earlier run lost the answer of is sent again, by key: its
        #: ``ok`` outcome says so.
        self.again: dict[str, str] = {}
        #: Whether the organization held a note when the run began (asked once, before the
        #: first note's send): None until asked. An empty one holds no earlier import's.
        self.held_notes: bool | None = None
        self.on_held_notes: Callable[[bool], None] | None = None
        #: The notes earlier runs of this import made (or may have: answers lost).
        self.made_notes = 0
        self._notes_asked_now = False
        self.notes_asked = asyncio.Lock()
        #: Why notes are sent unchecked, once a check proved impossible (no read access).
        self.note_checks_off: str | None = None
        self.sent = self.retries = self.rate_limited = self.server_errors = 0
        self.transport_errors = 0
        self.lookups = 0

    def preload(self, done: Mapping[str, RequestOutcome]) -> None:
        """Outcomes an earlier run got: not sent again; they release or block dependants."""
        self.made_notes = sum(
            1 for o in done.values() if o.endpoint == "notes" and o.status in ("ok", "unknown")
        )
        for i, request in enumerate(self.requests):
            outcome = done.get(request.key)
            if outcome is None or i in self.outcomes:
                continue
            if outcome.status == "unknown" and self.repeatable(request):
                continue  # this API finds it again: sent again, safely
            if outcome.status == "unknown" and self.finder is not None:
                self.verify[request.key] = outcome  # looked up first, then sent if absent
                continue
            if outcome.status == "unknown" and self.retry_unknown:
                self.again[request.key] = _sent_again(outcome, "this target has no lookup")
                continue
            self._record(i, outcome)
            if outcome.status == "ok":
                self._release_dependants(i)
            else:
                self._block_dependants(i, outcome)
        self.ready = [i for i in self.ready if i not in self.outcomes]
        heapq.heapify(self.ready)

    def repeatable(self, request: PlannedRequest) -> bool:
        """Whether this API finds ``request``'s record again when it is sent again."""
        return repeatable(request)

    async def execute(self) -> SendReport:
        started = self.limiter.clock.now()
        watcher = asyncio.create_task(self._watch_stop()) if self.stop else None
        # More workers than in-flight places: a worker sleeping in a 5xx backoff
        # must not leave a place idle. The limiter's semaphore enforces the cap.
        workers = [asyncio.create_task(self._work()) for _ in range(2 * self.limiter.concurrency)]
        try:
            await asyncio.gather(*workers)
        finally:
            for task in [*workers, watcher]:
                if task is not None:
                    task.cancel()
            await asyncio.gather(*workers, *([watcher] if watcher else []), return_exceptions=True)
        for i, request in enumerate(self.requests):
            if i not in self.outcomes:  # only after a halt: every request is otherwise final
                reason = self.halt_reason or "its dependencies never completed"
                earlier = self.verify.get(request.key)
                if earlier is not None:  # still a lost answer: Octolane may hold it
                    self._record(i, _not_looked_up(earlier, reason))
                    continue
                self._record(i, _outcome(request, "not_sent", message=f"not sent: {reason}"))
        return self._report(self.limiter.clock.now() - started)

    async def _watch_stop(self) -> None:
        assert self.stop is not None
        await self.stop.wait()
        await self._halt(STOPPED)

    def _halting(self) -> bool:
        # Read the event too, not only the watcher's verdict: a request must not
        # start in the moment between stop.set() and the watcher running.
        if self.halt_reason is None and self.stop is not None and self.stop.is_set():
            self._halt_now(STOPPED)
        return self.halt_reason is not None

    def _halt_now(self, reason: str) -> None:
        if self.halt_reason is None:
            self.halt_reason = reason
        for progress in self.active.values():
            # Only waiting requests are cancelled: one on the wire finishes.
            if not progress.on_wire and progress.task is not None:
                progress.task.cancel()

    async def _halt(self, reason: str) -> None:
        self._halt_now(reason)
        async with self.changed:  # wake idle workers so they leave
            self.changed.notify_all()

    async def _next(self) -> int | None:
        async with self.changed:
            while True:
                if self._halting():
                    return None
                # One at a time until the key is known good, and while answers no row
                # explains come (a wrong base URL): it costs a few requests, not a file's.
                alone = not self.first_answered or self.systematic_count > 0
                if self.ready and not (alone and self.active):
                    return heapq.heappop(self.ready)
                if not self.active:
                    return None  # nothing ready, nothing running: all done
                await self.changed.wait()

    async def _work(self) -> None:
        while (i := await self._next()) is not None:
            progress = _Progress()
            self.active[i] = progress
            progress.task = asyncio.create_task(self._send(self.requests[i], progress))
            try:
                # wait() does not raise when the task is cancelled by _halt.
                await asyncio.wait([progress.task])
            except asyncio.CancelledError:  # the run itself is being torn down
                progress.task.cancel()
                await asyncio.gather(progress.task, return_exceptions=True)
                raise
            await self._settle(i, progress)
            # Only now, with its dependants released, may idle workers see it gone.
            del self.active[i]
            async with self.changed:
                self.changed.notify_all()

    async def _send(self, request: PlannedRequest, progress: _Progress) -> BaseModel:
        progress.repeatable = repeatable(request)
        earlier = self.verify.get(request.key)
        if earlier is not None:
            # An earlier run lost its answer: is the record there? Sent only if not.
            try:
                found = await self._look(request, progress)
            except LookupUnavailable as exc:
                if exc.transient or not self.retry_unknown:
                    # a lookup that failed for now is no licence to send blind
                    raise _StillUnknown(earlier, exc.said()) from None
                self.again[request.key] = _sent_again(earlier, f"no lookup: {exc}")
            else:
                if found is not None:
                    progress.found = (
                        f"found in Octolane by a lookup (the answer was lost in run {earlier.run})"
                    )
                    return found
                self.again[request.key] = _sent_again(earlier, "a lookup did not find it")
        elif request.endpoint == "notes" and self.finder is not None:
            found = await self._check_note(request, progress)
            if found is not None:
                progress.found = NOTE_THERE
                return found
        if not progress.repeatable and self.on_send is not None:
            self.on_send(request)
        while True:
            try:
                return await self._tries(request, progress)
            except (ServerError, TransportError) as exc:
                if (
                    progress.repeatable
                    or not _maybe_written(exc)
                    or self.finder is None
                    or progress.failures >= self.policy.attempts
                    or self._halting()
                ):
                    raise
                try:
                    found = await self._look(request, progress)
                except LookupUnavailable:
                    raise exc from None
                if found is not None:
                    progress.found = f"its answer was lost ({exc}); found in Octolane by a lookup"
                    return found
                # Not there: sending it again cannot make a second one.

    async def _check_note(self, request: PlannedRequest, progress: _Progress) -> BaseModel | None:
        """The note as an earlier import made it, if Octolane holds it: a note is created
        every time it is sent (API.md §1.6), so a re-import that the journal does not
        cover (``--fresh``, another results file, ``--no-journal``) would make it twice.
        Each note is looked up before its first send, unless the organization held no
        note when the run began (asked once). A check that fails for now holds the note
        back (``not_sent``: the same command checks again); one that cannot be made (no
        read access) sends it, and its row says so."""
        if not self._finder_context:  # a caller's client whose find() cannot be told
            return None  # what other rows got, nor to match exactly: no check
        if self.note_checks_off is None and await self._holds_notes():
            try:
                return await self._look(request, progress, exact=True)
            except LookupUnavailable as exc:
                if exc.transient:
                    raise _NotChecked(_held_back(exc)) from None
                if not exc.undecided:
                    self.note_checks_off = f"{NOTE_UNCHECKED} (no lookup: {exc})"
                elif not self.retry_unknown:
                    raise _NotChecked(_undecided(exc)) from None
                else:
                    self.again[request.key] = f"{NOTE_UNCHECKED} ({exc}; --retry-unknown)"
                    return None
        if self.note_checks_off is not None:
            self.again.setdefault(request.key, self.note_checks_off)
        return None

    async def _holds_notes(self) -> bool:
        """Whether the organization held any note before this import sent one (asked once a
        run: see :meth:`_check_note`)."""
        async with self.notes_asked:  # the other notes wait for the first's answer
            if not self._notes_asked_now and self.held_notes is not True:
                # Asked once a run. Where this import's first run found none, a run that
                # continues it asks whether any note is there beyond the ones it made
                # (another import may have made some since).
                self._notes_asked_now = True
                first = self.held_notes is None
                ask = getattr(self.client, "holds_notes", None)
                if ask is None:
                    self.held_notes = True
                    return True
                try:
                    async with self.read_limiter.slot():
                        beyond = 0 if first else self.made_notes
                        self.lookups += 1 + beyond // 100  # (reads of the public API)
                        self.held_notes = bool(await ask(beyond) if beyond else await ask())
                    if first and self.on_held_notes is not None:
                        self.on_held_notes(self.held_notes)
                except LookupUnavailable as exc:
                    if not exc.transient:  # no read is possible: no note asks again
                        self.note_checks_off = f"{NOTE_UNCHECKED} (no lookup: {exc})"
                    self.held_notes = True  # (for now: each note's own check fails alike)
        return self.held_notes is not False

    async def _look(
        self, request: PlannedRequest, progress: _Progress, *, exact: bool = False
    ) -> BaseModel | None:
        assert self.finder is not None
        if self._halting():
            raise _Halted
        progress.lookups += 1
        async with self.read_limiter.slot():
            self.lookups += 1
            if not self._finder_context:  # a caller's client with the older find()
                return await self.finder(request.endpoint, request.payload)
            context = self.lookup_context(request.endpoint, [request])
            if exact:
                context["exact"] = True
            return await self.finder(request.endpoint, request.payload, **context)

    def lookup_context(
        self, endpoint: Endpoint, requests: Sequence[PlannedRequest]
    ) -> dict[str, Any]:
        """What a lookup must not take: the ids other rows got (``taken``, the run's set
        itself, not a copy), and for notes the links the run's notes of the same texts
        ask for (``rivals``: a note linked to exactly what another asks for is that
        one's), each text's worked out once."""
        if endpoint != "notes":
            return {"taken": self.claimed}
        if self._by_text is None:
            self._by_text = {}
            for request in self.requests:
                if request.endpoint == "notes":
                    links = self._by_text.setdefault(note_text(request.payload), Counter())
                    links[note_links(request.payload)] += 1
        return {"taken": self.claimed, "rivals": self._by_text}

    async def _retried(self, progress: _Progress, attempt: Callable[[], Awaitable[_T]]) -> _T:
        """``attempt()``, retried by :meth:`_retrying`'s rules.

        The first try runs outside stamina: most succeed, and a retry loop costs more CPU
        per request than the rest of the runner (0.1 ms). A first try that fails enters
        the loop as its first attempt (the loop re-raises it), so the waits, the bounds
        and stamina's testing switch are the same as if the loop had run it."""
        started = time.monotonic()
        try:
            return await attempt()
        except Exception as exc:
            first: Exception | None = exc
        async for retry in self._retrying(progress, spent_s=time.monotonic() - started):
            with retry:
                if first is not None:
                    failed, first = first, None
                    raise failed
                return await attempt()
        raise AssertionError("unreachable: stamina re-raises the last error")

    def _retrying(self, progress: _Progress, *, spent_s: float = 0.0) -> Any:
        """stamina's retry loop (a _RetryContextIterator) for one request (or batch) with
        ``progress``'s counters: 429s after the limiter's pause, 5xx and transport errors
        with backoff, unless the request is not repeatable and may have been written (it
        is looked up first). ``spent_s``: time the first try took (the timeout counts it)."""
        policy = self.policy

        def retry_on(exc: Exception) -> bool | float:
            if self._halting():
                return False
            if isinstance(exc, RateLimitedError):
                # The limiter already holds every worker until Retry-After.
                return 0.0 if progress.rate_limited < policy.rate_limited_attempts else False
            if isinstance(exc, ServerError | TransportError):
                if not progress.repeatable and _maybe_written(exc):
                    return False  # a second note (or keyless deal) is worse than none:
                    # it is looked up first, where it can be
                return progress.failures < policy.attempts  # True: stamina's backoff
            return False

        return stamina.retry_context(
            on=retry_on,
            attempts=policy.attempts + policy.rate_limited_attempts,
            timeout=max(policy.timeout_s - spent_s, 0.001),
            wait_initial=policy.wait_initial_s,
            wait_max=policy.wait_max_s,
            wait_jitter=policy.wait_jitter_s,
            wait_exp_base=policy.wait_exp_base,
        )

    async def _tries(self, request: PlannedRequest, progress: _Progress) -> BaseModel:
        return await self._retried(progress, lambda: self._attempt(request, progress))

    async def _attempt(self, request: PlannedRequest, progress: _Progress) -> BaseModel:
        if self._halting():
            raise _Halted
        async with self.limiter.slot() as slot:
            if self._halting():
                raise _Halted
            progress.on_wire = True
            progress.attempts += 1
            self.sent += 1
            self.retries += int(progress.attempts > 1)
            started = time.monotonic()
            try:
                data = await self._sent(request, progress.attempts, started)
            except RateLimitedError as exc:
                self.rate_limited += 1
                progress.rate_limited += 1
                progress.last_error = exc
                self.limiter.on_rate_limited(exc.retry_after_s, sent_at=slot.sent_at)
                await self._key_accepted()
                raise
            except (ServerError, TransportError) as exc:
                self.server_errors += int(isinstance(exc, ServerError))
                self.transport_errors += int(isinstance(exc, TransportError))
                progress.failures += 1
                progress.last_error = exc
                self.limiter.on_failure(sent_at=slot.sent_at)
                self._count_systematic(request, exc)
                if isinstance(exc, ServerError):
                    await self._key_accepted()
                raise
            except ApiError as exc:
                progress.last_error = exc
                self.limiter.on_success(sent_at=slot.sent_at)  # answered, just not 2xx
                if isinstance(exc, AuthenticationError):
                    # Halt before this slot frees up: no waiter may take it and send.
                    self._halt_now(REFUSED.format(status=exc.status_code))
                else:
                    self._count_systematic(request, exc)
                    await self._key_accepted()
                raise
            finally:
                progress.on_wire = False
            self.limiter.on_success(sent_at=slot.sent_at)
            self.systematic, self.systematic_count = None, 0
            await self._key_accepted()
            return data

    async def _sent(self, request: PlannedRequest, attempt: int, started: float) -> BaseModel:
        """The client's send, told to ``on_attempt`` (status, time, both bodies)."""
        if self.on_attempt is None:
            return await self.client.send(request.endpoint, request.payload)
        at = datetime.datetime.now(datetime.UTC)
        try:
            data = await self.client.send(request.endpoint, request.payload)
        except ApiError as exc:
            answer: dict[str, Any] = {"success": False, "message": exc.message}
            if exc.field_errors:
                answer["errors"] = exc.field_errors
            self.on_attempt(Attempt(at, request, attempt, exc.status_code,
                                    time.monotonic() - started, answer))  # fmt: skip
            raise
        except TransportError as exc:
            self.on_attempt(Attempt(at, request, attempt, None, time.monotonic() - started,
                                    {"error": str(exc)}))  # fmt: skip
            raise
        answer = {"success": True, "data": data.model_dump(mode="json", exclude_none=True)}
        self.on_attempt(Attempt(at, request, attempt, 200, time.monotonic() - started, answer))
        return data

    def _count_systematic(self, request: PlannedRequest, error: ApiError | TransportError) -> None:
        """Count an answer no row explains; after ``systematic_in_a_row`` of the same, halt."""
        what = _systematic(error)
        if what is None:
            self.systematic, self.systematic_count = None, 0
            return
        if what != self.systematic:
            self.systematic, self.systematic_count = what, 0
        self.systematic_count += 1
        if self.systematic_count >= self.policy.systematic_in_a_row:
            base = str(getattr(self.client, "base_url", "")).rstrip("/")
            url = f"{base}/{PATHS.get(request.endpoint, request.endpoint).lstrip('/')}"
            self._halt_now(
                f"{self.systematic_count} requests in a row got {what[0]} from {url}"
                f" ({what[1]}): no row explains that; check --base-url (Octolane's Inbound"
                " API is https://enrich.octolane.com/v1) and the network, then run the same"
                " command again"
            )

    async def _key_accepted(self) -> None:
        """An answer other than 401/403: the key works, so the other workers may start.

        (They wait for the first request's first answer, not for its retries: a 500
        or a 429 on it says nothing against the key.)
        """
        if not self.first_answered:
            self.first_answered = True
            async with self.changed:
                self.changed.notify_all()

    async def _settle(self, i: int, progress: _Progress) -> None:
        request, task = self.requests[i], progress.task
        assert task is not None
        error = None if task.cancelled() else task.exception()
        halted = task.cancelled() or isinstance(error, _Halted)
        last = progress.last_error
        earlier = self.verify.get(request.key)
        if isinstance(error, _NotChecked):
            outcome = _outcome(request, "not_sent", attempts=progress.attempts, message=str(error))
        elif isinstance(error, _StillUnknown):
            outcome = dataclasses.replace(
                error.outcome, message=f"{error.outcome.message} (no lookup: {error.why})"
            )
        elif halted and earlier is not None and progress.attempts == 0:
            outcome = _not_looked_up(earlier, self.halt_reason or STOPPED)
        elif halted and (last is None or isinstance(last, RateLimitedError)):
            outcome = _outcome(
                request, "not_sent", message=f"not sent: {self.halt_reason}",
                attempts=progress.attempts,
            )  # fmt: skip
        elif halted:
            assert last is not None  # the first branch took the None case
            outcome = _failure(request, last, progress.attempts, note="not retried: run stopped")
            if _lost(last, progress.repeatable):
                outcome = _unknown(outcome, progress.repeatable)
        elif isinstance(error, ApiError | TransportError):
            outcome = _failure(request, error, progress.attempts)
            if _lost(error, progress.repeatable):
                outcome = _unknown(outcome, progress.repeatable)
        elif error is not None:
            raise error  # a bug in the client, not a row's problem: let it show
        else:
            # The Inbound API answers every success with 200 (API.md §1.2).
            said = progress.found or self.again.get(request.key, "")
            kept = _kept(request, task.result())
            outcome = _outcome(
                request, "ok", ids=_ids(task.result()), http_status=200,
                attempts=progress.attempts,
                message=f"{said}; {kept}" if said and kept else said or kept,
            )  # fmt: skip
        self._record(i, outcome)
        await self._after(i, outcome, None if halted else error)

    async def _after(
        self, i: int, outcome: RequestOutcome, error: BaseException | None, *, count: bool = True
    ) -> None:
        """Release or block the request's dependants; halt on a refused key or a run of
        failures. ``count``: whether the error counts towards that run (a batch's records
        share one HTTP request's error: it counts once)."""
        self.first_answered = True
        if not count:
            pass
        elif isinstance(error, AuthenticationError):
            await self._halt(REFUSED.format(status=error.status_code))
        elif isinstance(error, ServerError | TransportError):
            self.failures_in_a_row += 1
            if self.failures_in_a_row >= self.policy.max_failures_in_a_row:
                await self._halt(
                    f"the server failed {self.failures_in_a_row} requests in a row "
                    f"(last: {outcome.describe()}); stopping rather than hammering it"
                )
        elif not isinstance(error, RateLimitedError):
            self.failures_in_a_row = 0
        if self.halt_reason is None:
            if outcome.status == "ok":
                self._release_dependants(i)
            else:
                self._block_dependants(i, outcome)

    def _release_dependants(self, i: int) -> None:
        for j in self.dependants[i]:
            self.waiting_on[j] -= 1
            if self.waiting_on[j] == 0 and j not in self.outcomes:
                heapq.heappush(self.ready, j)

    def _block_dependants(self, i: int, failed: RequestOutcome) -> None:
        what = "has no known outcome" if failed.status == "unknown" else "failed"
        message = f"not sent: {failed.endpoint} request {failed.key} {what} ({failed.describe()})"
        stack = list(self.dependants[i])
        while stack:
            j = stack.pop()
            if j in self.outcomes:
                continue
            request = self.requests[j]
            # Waiting on a lost answer is not a failure: it is sent once that is settled.
            status: Status = "not_sent" if failed.status == "unknown" else "failed"
            self._record(j, _outcome(request, status, message=message, blocked_by=failed.key))
            stack.extend(self.dependants[j])

    def _record(self, i: int, outcome: RequestOutcome) -> None:
        self.outcomes[i] = outcome
        if outcome.status == "ok" and outcome.endpoint in ("notes", "opportunities"):
            self.claimed.update(outcome.ids.values())
        if self.on_outcome is not None:
            self.on_outcome(outcome)

    def _report(self, elapsed_s: float) -> SendReport:
        outcomes = {self.requests[i].key: self.outcomes[i] for i in range(len(self.requests))}
        counts = dict.fromkeys(STATUSES, 0)
        by_endpoint: dict[str, dict[str, int]] = {}
        for outcome in outcomes.values():
            counts[outcome.status] += 1
            per = by_endpoint.setdefault(outcome.endpoint, dict.fromkeys(STATUSES, 0))
            per[outcome.status] += 1
        return SendReport(
            outcomes=outcomes, counts=counts, by_endpoint=by_endpoint, requests_sent=self.sent,
            retries=self.retries, rate_limited=self.rate_limited,
            server_errors=self.server_errors, transport_errors=self.transport_errors,
            elapsed_s=elapsed_s, aborted=self.halt_reason,
            rate_per_min=self.limiter.current_rate_per_min, lookups=self.lookups,
            floor_rate_per_min=self.limiter.floor_rate_per_min,
            lowest_rate_per_min=self.limiter.lowest_rate_per_min,
            at_floor_s=self.limiter.floor_time_s() if self.limiter.adaptive else 0.0,
            peak_in_flight=self.limiter.peak_in_flight,
        )  # fmt: skip


def _outcome(request: PlannedRequest, status: Status, **fields: Any) -> RequestOutcome:
    return RequestOutcome(
        key=request.key, endpoint=request.endpoint, status=status, rows=request.rows, **fields
    )


def _failure(
    request: PlannedRequest, error: ApiError | TransportError, attempts: int, *, note: str = ""
) -> RequestOutcome:
    if isinstance(error, ApiError):
        status, message, fields = error.status_code, error.message, error.field_errors
    else:
        status, fields = None, {}
        message = str(error).removeprefix(f"{request.endpoint}: ")
    notes = [f"after {attempts} attempts"] if attempts > 1 else []
    notes += [note] if note else []
    if notes:
        message += f" ({', '.join(notes)})"
    return _outcome(
        request, "failed", http_status=status, message=message,
        field_errors=dict(fields), attempts=attempts,
    )  # fmt: skip


def _takes_context(finder: Callable[..., Any]) -> bool:
    """Whether ``finder`` takes ``taken`` and ``rivals`` (a client written for an older
    version may not: it is called as it was)."""
    try:
        parameters = inspect.signature(finder).parameters.values()
    except (TypeError, ValueError):
        return False
    names = {p.name for p in parameters}
    return {"taken", "rivals"} <= names or any(p.kind is p.VAR_KEYWORD for p in parameters)


def _maybe_written(error: BaseException) -> bool:
    """Whether the server may have acted on the request: its answer was lost after it went
    out, or it answered 5xx (which may come after the write; a 408 says it did not act)."""
    if isinstance(error, TransportError):
        return error.delivered
    return isinstance(error, ServerError) and not isinstance(error, RequestTimeoutError)


def _lost(error: BaseException, repeatable: bool) -> bool:
    """Whether a request that ended with ``error`` may exist all the same: its answer was
    lost after it went out; or a 5xx answered a request a repeat could not have fixed up
    (a note: the 5xx may come after the write). A repeatable request's 5xx after all its
    tries is ``failed``: no tried repeat found a record."""
    if isinstance(error, TransportError):
        return error.delivered
    return _maybe_written(error) and not repeatable


def _unknown(outcome: RequestOutcome, repeatable: bool) -> RequestOutcome:
    """A failure that may have created the record, said as such."""
    if repeatable:
        advice = (
            "Octolane may have created it; running the same command again sends it again,"
            " which finds the same record rather than making a second"
        )
    else:
        advice = (
            f"Octolane may have created the {_RECORD[outcome.endpoint]}; it is not sent again,"
            " since a repeat could create a second one: check in Octolane, then run the same"
            " command with --retry-unknown to send it"
        )
    return dataclasses.replace(
        outcome, status="unknown", message=f"no answer known: {outcome.message}; {advice}"
    )


def _not_looked_up(earlier: RequestOutcome, reason: str) -> RequestOutcome:
    """An earlier run's lost answer that this run stopped before settling: still unknown."""
    return dataclasses.replace(earlier, message=f"{earlier.message} (not looked up: {reason})")


def _sent_again(earlier: RequestOutcome, why: str) -> str:
    """What the row of a request sent again after an earlier run lost its answer says."""
    return f"sent again ({why}; its answer was lost in run {earlier.run})"


_RECORD = {"accounts": "account", "contacts": "contact", "opportunities": "deal", "notes": "note"}


def _systematic(error: ApiError | TransportError) -> tuple[str, str] | None:
    """(what, detail) of an answer that no row explains, or None for a row's own failure."""
    if isinstance(error, TransportError):
        return None if error.delivered else ("no connection", str(error).partition(": ")[2])
    status = error.status_code
    if isinstance(error, RateLimitedError):
        return None
    if 300 <= status < 400 or error.foreign:
        return (f"HTTP {status}", error.message[:200])
    if status in (404, 405, 410) and not error.field_errors:
        return (f"HTTP {status}", error.message[:200])
    return None


#: The fields an answer gives back that a request sent (endpoint → (answer, body path)).
_ECHOED = {
    "contacts": (("first_name", ("first_name",)), ("last_name", ("last_name",))),
    "accounts": (("name", ("name",)),),
    "opportunities": (("amount", ("opportunity", "deal_size")),),
}


def _kept(request: PlannedRequest, data: BaseModel) -> str:
    """What the answer says Octolane holds otherwise than the request sent: a record that
    was there already keeps its own values ("Ann Lee" stays where the file says "Anna
    Leigh"), and the row must say so. "" where all agree, or the answer does not say."""
    differing = []
    for name, path in _ECHOED.get(request.endpoint, ()):
        if name not in data.model_fields_set:
            continue  # the answer does not say
        held = getattr(data, name, None)
        sent: Any = request.payload
        for part in path:
            sent = sent.get(part) if isinstance(sent, Mapping) else None
        if sent is None or held == sent:
            continue
        shown = path[-1] if request.endpoint != "opportunities" else "opportunity.deal_size"
        differing.append(f"{shown} {'empty' if held is None else repr(held)} (this file: {sent!r})")
    if not differing:
        return ""
    return "already in Octolane with other values, which it keeps: " + ", ".join(differing)


def _ids(data: BaseModel) -> dict[str, str]:
    # company_id, people_id, opportunity_id, note_id: whatever ids the target returned.
    return {
        name: str(value)
        for name, value in data.model_dump().items()
        if name.endswith("_id") and isinstance(value, str | int) and value != ""
    }
