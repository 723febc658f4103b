"""Send a plan in batches through a bulk client (the public API: up to 100 records a request).

:class:`BulkRun` is :func:`~importer.send.runner.send_plan`'s worker pool for a client
with ``send_batch`` and ``find_many`` (:class:`~importer.send.public.PublicClient`). It
keeps the dependency order, the limiter, the journal hooks, the stop and the abort rules
of the one-record sender, and adds what batches need:

* **Batches** of one endpoint, up to ``batch_size`` ready requests, taken whole: a
  worker waits for a full batch while requests that could fill it are still waiting on
  others in flight.
* **Refusals isolated.** A batch refused as a whole (400, 422) is split in halves, and
  the halves again, until each refused record stands alone: one bad record costs its
  own row, not its 99 neighbours. A 413 (too large) splits it the same way. The extra
  requests are counted (``SendReport.split_requests``).
* **Outcomes per record, whatever the answer's shape.** Per-record results give each row
  its outcome (and id); an answer of counts only, or of nothing, is followed by lookups
  (``find_many``, paced by their own limiter, counted in ``lookups``) of the batch's
  records: a row is never ``ok`` because its batch got a 2xx while the items can differ.
  Only counts that prove every record is there (none failed) spare the lookup of notes,
  which have no id to find them by in batches: they are ``ok`` with no id.
* **No blind repeats.** A batch of notes or deals whose answer was lost (a 5xx, a timeout,
  a closed connection) is not sent again as it is: its records are looked up first and
  only the missing ones are sent. Accounts and contacts, which Octolane finds again by
  domain and e-mail, are simply sent again.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import heapq
import time
from collections import Counter, deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from pydantic import BaseModel

from importer.api.endpoints import ID_FIELDS, Endpoint
from importer.errors import (
    ApiError,
    AuthenticationError,
    RateLimitedError,
    ServerError,
    TransportError,
)
from importer.plan import ImportPlan, PlannedRequest
from importer.send.limiter import RateLimiter
from importer.send.lookup import AnyOf, LookupUnavailable
from importer.send.runner import (
    NOTE_THERE,
    NOTE_UNCHECKED,
    REFUSED,
    Attempt,
    RequestOutcome,
    RetryPolicy,
    _failure,
    _held_back,
    _ids,
    _maybe_written,
    _not_looked_up,
    _outcome,
    _Progress,
    _Run,
    _sent_again,
    _undecided,
    _unknown,
)

__all__ = ["BatchClient", "BulkRun"]

#: Endpoints a repeat cannot duplicate: Octolane finds the record again (API.md §2.2).
_REPEATABLE: frozenset[str] = frozenset({"accounts", "contacts"})
#: A deal sent with no lookup before (the row says why).
_UNCHECKED = "sent without a check for the same deal in Octolane"
#: A deal found by the lookup before its first send: not sent.
#: The fields of an account's or a contact's body beside its key.
_PROFILE = ("name", "first_name", "last_name", "job_title", "phone", "linkedin")
DEAL_THERE = (
    "already in Octolane: a deal of this name, company and pipeline was found by a lookup"
    " before sending, so it was not sent again (its amount, stage and dates are as"
    " Octolane has them)"
)


class BatchClient(Protocol):
    """What :class:`BulkRun` needs besides :class:`~importer.send.client.OctolaneClient`."""

    batch_size: int
    reads: int

    async def send_batch(
        self, endpoint: Endpoint, payloads: Sequence[Mapping[str, Any]]
    ) -> Any: ...

    async def find_many(
        self, endpoint: Endpoint, payloads: Sequence[Mapping[str, Any]], **context: Any
    ) -> list[BaseModel | None]: ...


@dataclass(slots=True)
class _Batch:
    """One worker's batch: its requests, and what is known of each so far."""

    endpoint: Endpoint
    indices: list[int]
    outcomes: dict[int, RequestOutcome] = field(default_factory=dict)
    #: The error behind an outcome (the abort counters read it).
    errors: dict[int, BaseException] = field(default_factory=dict)
    #: Sent, and the answer lost: if the run stops now, their outcome is ``unknown``.
    on_wire: set[int] = field(default_factory=set)
    attempts: Counter[int] = field(default_factory=Counter)
    waiting: bool = False  # waiting for a place or a pace: may be cancelled on a stop
    task: asyncio.Task[None] | None = None


class _Halted(Exception):
    """The run is stopping: what is left of the batch is not sent."""


class BulkRun(_Run):
    """:func:`~importer.send.runner.send_plan` for a bulk client (see the module's doc)."""

    def __init__(
        self,
        plan: ImportPlan,
        client: Any,
        limiter: RateLimiter,
        policy: RetryPolicy,
        on_outcome: Callable[[RequestOutcome], None] | None,
        stop: asyncio.Event | None,
        *,
        read_limiter: RateLimiter | None = None,
    ) -> None:
        super().__init__(plan, client, limiter, policy, on_outcome, stop)
        self.bulk: BatchClient = client
        self.batch_size = max(1, int(getattr(client, "batch_size", 100)))
        if read_limiter is not None:
            self.read_limiter = read_limiter
        self.batches: list[_Batch] = []
        #: Why the deals are sent unchecked, once a lookup proved impossible (a 403).
        self.deal_checks_off: str | None = None
        #: Whether each pipeline held a deal when the run began (asked once).
        self.held_deals: dict[str, bool] = {}
        self.held_lock = asyncio.Lock()
        self.taken: set[int] = set()
        self.left: Counter[str] = Counter()
        self.ready_by: Counter[str] = Counter()
        self.bulk_requests = 0
        self.split_requests = 0

    # ---- choosing batches -------------------------------------------------------

    async def execute(self) -> Any:
        self.left = Counter(
            r.endpoint for i, r in enumerate(self.requests) if i not in self.outcomes
        )
        self.ready_by = Counter(self.requests[i].endpoint for i in self.ready)
        report = await super().execute()
        report.bulk_requests = self.bulk_requests
        report.split_requests = self.split_requests
        report.lookups = self.bulk.reads
        return report

    def _record(self, i: int, outcome: RequestOutcome) -> None:
        if i not in self.taken and i not in self.outcomes and self.left:
            self.left[self.requests[i].endpoint] -= 1
        super()._record(i, outcome)

    def _release_dependants(self, i: int) -> None:
        for j in self.dependants[i]:
            self.waiting_on[j] -= 1
            if self.waiting_on[j] == 0 and j not in self.outcomes:
                heapq.heappush(self.ready, j)
                self.ready_by[self.requests[j].endpoint] += 1

    def _halt_now(self, reason: str) -> None:
        super()._halt_now(reason)
        for batch in self.batches:
            if batch.waiting and batch.task is not None:
                batch.task.cancel()

    async def _next_batch(self) -> list[int] | None:
        async with self.changed:
            while True:
                if self._halting():
                    return None
                alone = not self.first_answered or self.systematic_count > 0
                if self.ready and not (alone and self.active):
                    endpoint = self.requests[self.ready[0]].endpoint
                    ready = self.ready_by[endpoint]
                    # A short batch only when nothing in flight can fill it.
                    if ready >= self.batch_size or ready >= self.left[endpoint] or not self.active:
                        take = min(ready, self.batch_size)
                        batch = [heapq.heappop(self.ready) for _ in range(take)]
                        self.ready_by[endpoint] -= take
                        self.left[endpoint] -= take
                        self.taken.update(batch)
                        return batch
                if not self.active:
                    return None
                await self.changed.wait()

    async def _work(self) -> None:
        while (indices := await self._next_batch()) is not None:
            batch = _Batch(self.requests[indices[0]].endpoint, indices)
            for i in indices:
                self.active[i] = _Progress()
            self.batches.append(batch)
            batch.task = asyncio.create_task(self._send_batch(batch))
            try:
                await asyncio.wait([batch.task])
            except asyncio.CancelledError:
                batch.task.cancel()
                await asyncio.gather(batch.task, return_exceptions=True)
                raise
            self.batches.remove(batch)
            error = None if batch.task.cancelled() else batch.task.exception()
            if error is not None and not isinstance(error, _Halted):
                raise error  # a bug, not a row's problem
            await self._settle_batch(batch)
            for i in indices:
                del self.active[i]
            async with self.changed:
                self.changed.notify_all()

    def repeatable(self, request: PlannedRequest) -> bool:
        """The public API's bulk routes find accounts and contacts again, not deals."""
        return request.endpoint in _REPEATABLE

    async def _settle_batch(self, batch: _Batch) -> None:
        counted: set[int] = set()  # one HTTP request's error counts once, not per record
        for i in batch.indices:
            outcome = batch.outcomes.get(i)
            request = self.requests[i]
            if outcome is None:
                if i in batch.on_wire:
                    error = TransportError("the run stopped before the answer came")
                    outcome = _failure(request, error, batch.attempts[i], note="run stopped")
                    outcome = _unknown(outcome, request.endpoint in _REPEATABLE)
                elif request.key in self.verify and not batch.attempts[i]:
                    # an earlier run's lost answer, not yet settled: Octolane may hold it
                    why = self.halt_reason or "the run stopped"
                    outcome = _not_looked_up(self.verify[request.key], why)
                else:
                    why = self.halt_reason or "the run stopped"
                    outcome = _outcome(
                        request, "not_sent", message=f"not sent: {why}",
                        attempts=batch.attempts[i],
                    )  # fmt: skip
            self._record(i, outcome)
            cause = batch.errors.get(i)
            first = cause is None or id(cause) not in counted
            if cause is not None:
                counted.add(id(cause))
            await self._after(i, outcome, cause, count=first)

    # ---- sending one batch ------------------------------------------------------

    async def _send_batch(self, batch: _Batch) -> None:
        endpoint = batch.endpoint
        todo = list(batch.indices)
        earlier = [i for i in todo if self.requests[i].key in self.verify]
        if earlier:  # looked up first; those not found are sent with the rest
            todo = sorted({*todo} - {*earlier} | {*await self._verify(batch, earlier)})
        if endpoint == "opportunities" and todo:
            todo = await self._not_there(batch, todo, set(earlier))
        if endpoint == "notes" and todo:
            todo = await self._notes_not_there(batch, todo, set(earlier))
        if endpoint not in _REPEATABLE and self.on_send is not None:
            for i in todo:  # no deal is found again on this API's bulk route
                self.on_send(self.requests[i])
        queue: deque[tuple[list[int], bool]] = deque([(todo, False)] if todo else [])
        while queue:
            sub, split = queue.popleft()
            if self._halting():
                raise _Halted
            try:
                answer = await self._post(batch, sub, split)
            except (ServerError, TransportError) as exc:
                if endpoint in _REPEATABLE or not _maybe_written(exc):
                    self._fail(batch, sub, exc)
                    continue
                missing = await self._look_after_loss(batch, sub, exc)
                if missing and max(batch.attempts[i] for i in missing) < self.policy.attempts:
                    queue.appendleft((missing, split))  # only what is not there
                elif missing:
                    self._fail(batch, missing, exc)
                continue
            except ApiError as exc:
                if exc.status_code in (400, 413, 422) and len(sub) > 1:
                    half = len(sub) // 2
                    queue.appendleft((sub[half:], True))
                    queue.appendleft((sub[:half], True))
                    continue
                self._fail(batch, sub, exc)
                continue
            await self._read_answer(batch, sub, answer)

    async def _post(self, batch: _Batch, sub: list[int], split: bool) -> Any:
        """One bulk request of ``sub``, retried on 429 (after the pause) and, for accounts
        and contacts, on 5xx and transport errors (with backoff)."""
        state = _Progress(repeatable=batch.endpoint in _REPEATABLE)
        payloads = [self.requests[i].payload for i in sub]
        return await self._retried(
            state, lambda: self._attempt_batch(batch, sub, payloads, state, split)
        )

    async def _attempt_batch(
        self,
        batch: _Batch,
        sub: list[int],
        payloads: list[Mapping[str, Any]],
        state: _Progress,
        split: bool,
    ) -> Any:
        batch.waiting = True
        try:
            slot_cm = self.limiter.slot()
            slot = await slot_cm.__aenter__()
        except asyncio.CancelledError:
            raise _Halted from None
        finally:
            batch.waiting = False
        try:
            if self._halting():
                raise _Halted
            state.attempts += 1
            self.sent += 1
            self.bulk_requests += 1
            self.split_requests += int(split)
            self.retries += int(state.attempts > 1)
            for i in sub:
                batch.attempts[i] += 1
            batch.on_wire.update(sub)
            started = time.monotonic()
            try:
                answer = await self._sent_batch(batch, sub, payloads, state.attempts, started)
            except RateLimitedError as exc:
                batch.on_wire.difference_update(sub)
                self.rate_limited += 1
                state.rate_limited += 1
                self.limiter.on_rate_limited(exc.retry_after_s, sent_at=slot.sent_at)
                await self._key_accepted()
                raise
            except (ServerError, TransportError) as exc:
                if not _maybe_written(exc):
                    batch.on_wire.difference_update(sub)
                self.server_errors += int(isinstance(exc, ServerError))
                self.transport_errors += int(isinstance(exc, TransportError))
                state.failures += 1
                self.limiter.on_failure(sent_at=slot.sent_at)
                self._count_systematic(self._stand_in(batch, sub), exc)
                if isinstance(exc, ServerError):
                    await self._key_accepted()
                raise
            except ApiError as exc:
                batch.on_wire.difference_update(sub)
                self.limiter.on_success(sent_at=slot.sent_at)
                if isinstance(exc, AuthenticationError):
                    self._halt_now(REFUSED.format(status=exc.status_code))
                else:
                    self._count_systematic(self._stand_in(batch, sub), exc)
                    await self._key_accepted()
                raise
            self.limiter.on_success(sent_at=slot.sent_at)
            self.systematic, self.systematic_count = None, 0
            await self._key_accepted()
            return answer
        finally:
            await slot_cm.__aexit__(None, None, None)

    def _stand_in(self, batch: _Batch, sub: list[int]) -> PlannedRequest:
        """A request standing for a batch (the request log, -v, the abort message)."""
        first = self.requests[sub[0]]
        rows = tuple(r for i in sub for r in self.requests[i].rows)
        return PlannedRequest(
            key=f"batch:{first.key}+{len(sub) - 1}", endpoint=batch.endpoint,
            payload={"records": [self.requests[i].payload for i in sub]}, rows=rows,
        )  # fmt: skip

    async def _sent_batch(
        self,
        batch: _Batch,
        sub: list[int],
        payloads: list[Mapping[str, Any]],
        attempt: int,
        started: float,
    ) -> Any:
        if self.on_attempt is None:
            return await self.bulk.send_batch(batch.endpoint, payloads)
        at = datetime.datetime.now(datetime.UTC)
        body = getattr(self.client, "sent_body", lambda e, p: list(p))(batch.endpoint, payloads)
        path = getattr(self.client, "path", lambda e: e)(batch.endpoint)
        stand_in = self._stand_in(batch, sub)

        def tell(status: int | None, answer: dict[str, Any]) -> None:
            assert self.on_attempt is not None
            self.on_attempt(
                Attempt(at, stand_in, attempt, status, time.monotonic() - started, answer,
                        path=path, body=body)
            )  # fmt: skip

        try:
            answer = await self.bulk.send_batch(batch.endpoint, payloads)
        except ApiError as exc:
            said: dict[str, Any] = {"success": False, "message": exc.message}
            if exc.field_errors:
                said["errors"] = exc.field_errors
            tell(exc.status_code, said)
            raise
        except TransportError as exc:
            tell(None, {"error": str(exc)})
            raise
        items = answer.items
        summary: dict[str, Any] = {"success": True, "counts": answer.counts}
        if items is not None:
            summary["results"] = [dataclasses.asdict(item) for item in items]
        tell(answer.status, summary)
        return answer

    # ---- what the answer says ---------------------------------------------------

    async def _read_answer(self, batch: _Batch, sub: list[int], answer: Any) -> None:
        endpoint = batch.endpoint
        batch.on_wire.difference_update(sub)
        status = answer.status
        if answer.items is not None:
            need_ids: list[int] = []
            for i, item in zip(sub, answer.items, strict=True):
                if not item.ok:
                    message = f"refused in a batch of {len(sub)}: {item.message}"
                    batch.outcomes[i] = _outcome(
                        self.requests[i], "failed", http_status=400, message=message,
                        field_errors=item.field_errors, attempts=batch.attempts[i],
                    )  # fmt: skip
                elif item.id:
                    self._ok(batch, i, {ID_FIELDS[endpoint]: item.id}, status, item.status)
                else:
                    need_ids.append(i)
            if need_ids:
                await self._resolve(batch, need_ids, status, certain=True)
            return
        if answer.all_done and endpoint == "notes":
            for i in sub:
                self._ok(batch, i, {}, status, "created (the answer gives no note ids)")
            return
        await self._resolve(batch, sub, status, certain=answer.all_done)

    async def _resolve(self, batch: _Batch, sub: list[int], status: int, *, certain: bool) -> None:
        """Ids (and, unless ``certain``, the outcome) of records the answer did not give
        one by one: looked up; one not found failed, since the batch was answered."""
        try:
            found = await self._lookup(batch, sub)
        except LookupUnavailable as exc:
            for i in sub:
                if certain:
                    self._ok(batch, i, {}, status, f"created (no id: {exc})")
                else:
                    outcome = _outcome(
                        self.requests[i], "unknown", http_status=status,
                        attempts=batch.attempts[i],
                        message=f"the batch was accepted, but its answer gives no result per"
                        f" record and the lookup failed ({exc}): check in Octolane",
                    )  # fmt: skip
                    batch.outcomes[i] = outcome
            return
        for i, model in zip(sub, found, strict=True):
            if model is not None:
                how = "created" if certain else "found by a lookup after the batch"
                self._ok(batch, i, _ids(model), status, how)
            elif certain:
                self._ok(batch, i, {}, status, "created (not found by the lookup of its id)")
            else:
                batch.outcomes[i] = _outcome(
                    self.requests[i], "failed", http_status=status, attempts=batch.attempts[i],
                    message="the batch was accepted, but this record is not in Octolane"
                    " (the answer gives no result per record)",
                )  # fmt: skip

    def _ok(self, batch: _Batch, i: int, ids: dict[str, str], status: int, how: str) -> None:
        message = "" if how in ("created", "resolved", "") else how
        if how == "resolved":  # the record was there: what of this file's values?
            payload = self.requests[i].payload
            given = [f for f in _PROFILE if payload.get(f) is not None]
            if given:
                message = (
                    "already in Octolane (the answer says 'resolved'): Octolane keeps the"
                    f" record it has, and may keep its own {', '.join(given)} rather than"
                    " this file's (check the record)"
                )
        again = self.again.get(self.requests[i].key)
        if again and not message.startswith("found in Octolane"):
            message = f"{again}; {message}" if message else again
        batch.outcomes[i] = _outcome(
            self.requests[i], "ok", ids=ids, http_status=status, attempts=batch.attempts[i],
            message=message,
        )  # fmt: skip

    def _fail(self, batch: _Batch, sub: list[int], error: ApiError | TransportError) -> None:
        repeat = batch.endpoint in _REPEATABLE
        alone = len(sub) == 1 and isinstance(error, ApiError)
        if isinstance(error, ApiError) and alone and error.field_errors:
            # "[0].email": the item's place in a batch of one, not the row's
            error = type(error)(
                error.status_code, error.message, _own_fields(error.field_errors),
                endpoint=error.endpoint,
            )  # fmt: skip
        for i in sub:
            request = self.requests[i]
            if alone and batch.attempts[i] > 1 and len(batch.indices) > 1:
                note = f"sent alone after its batch of {len(batch.indices)} was refused whole"
                outcome = dataclasses.replace(
                    _failure(request, error, 1, note=note), attempts=batch.attempts[i]
                )
            else:
                outcome = _failure(request, error, batch.attempts[i])
            written = isinstance(error, TransportError) and error.delivered
            if written or (_maybe_written(error) and not repeat):
                outcome = _unknown(outcome, repeat)
            else:
                batch.on_wire.discard(i)
            batch.outcomes[i] = outcome
            batch.errors[i] = error
        batch.on_wire.difference_update(sub)

    async def _lookup(
        self, batch: _Batch, sub: list[int], *, exact: bool = False
    ) -> list[BaseModel | None]:
        payloads = [self.requests[i].payload for i in sub]
        batch.waiting = True
        try:
            async with self.read_limiter.slot():
                batch.waiting = False
                if self._halting():
                    raise _Halted
                if batch.endpoint in _REPEATABLE:
                    return await self.bulk.find_many(batch.endpoint, payloads)
                claimed = {  # this batch's own answers are not recorded yet
                    v for o in batch.outcomes.values() if o.status == "ok" for v in o.ids.values()
                }
                context = self.lookup_context(batch.endpoint, [self.requests[i] for i in sub])
                context["taken"] = AnyOf(context["taken"], claimed)
                if exact:
                    context["exact"] = True
                return await self.bulk.find_many(batch.endpoint, payloads, **context)
        except asyncio.CancelledError:
            raise _Halted from None
        finally:
            batch.waiting = False

    async def _look_after_loss(
        self, batch: _Batch, sub: list[int], error: ServerError | TransportError
    ) -> list[int]:
        """The records of a batch whose answer was lost that are not in Octolane (sent
        again); those that are get their outcome. No lookup: all stay ``unknown``."""
        try:
            found = await self._lookup(batch, sub)
        except LookupUnavailable:
            self._fail(batch, sub, error)
            return []
        missing = []
        for i, model in zip(sub, found, strict=True):
            if model is not None:
                self._ok(batch, i, _ids(model), 200,
                         f"its answer was lost ({error}); found in Octolane by a lookup")  # fmt: skip
            else:
                missing.append(i)
        batch.on_wire.difference_update(sub)
        return missing

    async def _not_there(self, batch: _Batch, todo: list[int], looked: set[int]) -> list[int]:
        """The deals of ``todo`` to send: those not in Octolane yet. This API's bulk route
        creates a deal every time it is sent, so each deal with a name is looked up
        before its first send (by name, one search a batch, and none at all where the
        pipeline held no deal when the run began): a deal an earlier import made
        (another results file, ``--fresh``) is found, not made twice. A search that fails for now (429, 5xx, no answer) sends none of them:
        they are ``not_sent`` and the same command checks again. One that cannot be
        made (no read scope, an answer this version cannot read) sends them, each row
        saying it was not checked. (``looked``: just looked up, not again.)"""
        ask = [i for i in todo if i not in looked and self._deal_named(i)]
        for i in todo:
            if i not in looked and i not in ask:
                self.again.setdefault(self.requests[i].key, _UNCHECKED + " (it has no name)")
        if not ask:
            return todo
        pipelines = {str(self.requests[i].payload.get("pipeline_id") or "") for i in ask}
        held = await self._held(batch, pipelines)
        if self.deal_checks_off is not None:
            for i in ask:
                self.again.setdefault(self.requests[i].key, self.deal_checks_off)
            return todo
        if not held:
            return todo  # no deal was there when the run began: none to find
        try:
            found = await self._lookup(batch, ask)
        except LookupUnavailable as exc:
            if exc.transient:
                for i in ask:
                    batch.outcomes[i] = _outcome(
                        self.requests[i], "not_sent", attempts=batch.attempts[i],
                        message=f"not sent: the check for the same deal in Octolane failed"
                        f" for now ({exc}); the same command checks again, then sends it",
                    )  # fmt: skip
                held_back = set(ask)
                return [i for i in todo if i not in held_back]
            self.deal_checks_off = f"{_UNCHECKED} (no lookup: {exc})"
            for i in ask:
                self.again.setdefault(self.requests[i].key, self.deal_checks_off)
            return todo
        there = set()
        for i, model in zip(ask, found, strict=True):
            if model is not None:
                there.add(i)
                self._ok(batch, i, _ids(model), 200, DEAL_THERE)
        return [i for i in todo if i not in there]

    async def _notes_not_there(self, batch: _Batch, todo: list[int], looked: set[int]) -> list[int]:
        """The notes of ``todo`` to send: those Octolane does not hold yet. A note is
        created every time it is sent, so each is looked up before its first send (one
        read a note, each paced as a read), unless the organization held no note when
        the run began (asked once): an earlier import's note (another results file,
        ``--fresh``) is found, not made twice. A check that fails for now holds the rest
        of the batch back (``not_sent``: the same command checks again); one that cannot
        be made sends them, each row saying it was not checked. (``looked``: just looked
        up, not again.)"""
        ask = [i for i in todo if i not in looked]
        if not ask:
            return todo
        held = True
        if self.note_checks_off is None:
            batch.waiting = True
            try:
                held = await self._holds_notes()
            except asyncio.CancelledError:
                raise _Halted from None
            finally:
                batch.waiting = False
        there: set[int] = set()  # found, or held back: not sent now

        def hold(j: int, message: str) -> None:
            batch.outcomes[j] = _outcome(
                self.requests[j], "not_sent", attempts=batch.attempts[j], message=message
            )
            there.add(j)

        checked = 0
        for i in ask:
            if self.note_checks_off is not None or not held:
                break  # (none held when the run began: none to find)
            try:
                [model] = await self._lookup(batch, [i], exact=True)
            except LookupUnavailable as exc:
                if exc.transient:
                    for j in ask[checked:]:
                        hold(j, _held_back(exc))
                    break
                if not exc.undecided:  # no read is possible: the rest go unchecked
                    self.note_checks_off = f"{NOTE_UNCHECKED} (no lookup: {exc})"
                    break
                if self.retry_unknown:
                    self.again[self.requests[i].key] = f"{NOTE_UNCHECKED} ({exc}; --retry-unknown)"
                else:
                    hold(i, _undecided(exc))
                model = None
            checked += 1
            if model is not None:
                there.add(i)
                self._ok(batch, i, _ids(model), 200, NOTE_THERE)
        if self.note_checks_off is not None:
            for j in ask[checked:]:
                self.again.setdefault(self.requests[j].key, self.note_checks_off)
        return [i for i in todo if i not in there]

    async def _held(self, batch: _Batch, pipelines: set[str]) -> bool:
        """Whether any of the pipelines held a deal before this run sent one: asked once
        a pipeline (every deals batch waits for that answer before it sends), so a first
        import into an empty pipeline costs one read, not one a batch. A pipeline that
        cannot be asked counts as holding deals (each batch is checked)."""
        batch.waiting = True
        try:
            async with self.held_lock:  # the other batches wait for the first's answer
                for pipeline in sorted(pipelines - self.held_deals.keys()):
                    self.held_deals[pipeline] = await self._holds(pipeline)
        except asyncio.CancelledError:
            raise _Halted from None
        finally:
            batch.waiting = False
        return any(self.held_deals[p] for p in pipelines)

    async def _holds(self, pipeline: str) -> bool:
        ask = getattr(self.bulk, "holds_deals", None)
        if ask is None:
            return True
        try:
            async with self.read_limiter.slot():
                return bool(await ask(pipeline))
        except LookupUnavailable as exc:
            if not exc.transient:  # no read is possible: no batch asks again
                self.deal_checks_off = f"{_UNCHECKED} (no lookup: {exc})"
            return True

    def _deal_named(self, i: int) -> bool:
        """Whether the deal can be searched by name: its own, or the one Octolane gives
        a deal of a company sent without one (after the company's domain)."""
        payload = self.requests[i].payload
        body, related = payload.get("opportunity") or {}, payload.get("related_objects") or {}
        return bool(body.get("name") or related.get("account_domain"))

    async def _verify(self, batch: _Batch, earlier: list[int]) -> list[int]:
        """Requests an earlier run lost the answer of: those found are done, the others
        are sent. One whose lookup fails keeps its outcome; with ``retry_unknown`` it is
        sent, unless the lookup failed only for now (a 429, a 5xx): never sent blind
        where a later run could look."""
        found: list[tuple[int, BaseModel | None]] = []
        failures: dict[int, LookupUnavailable] = {}
        try:
            found = list(zip(earlier, await self._lookup(batch, earlier), strict=True))
        except LookupUnavailable as exc:
            if len(earlier) == 1 or exc.transient:  # (reads down: the others' would fail too)
                failures = dict.fromkeys(earlier, exc)
            else:  # one record's refused read must not discard the others' answers
                for i in earlier:
                    try:
                        found += zip([i], await self._lookup(batch, [i]), strict=True)
                    except LookupUnavailable as one:
                        failures[i] = one
        missing = []
        for i, failed in failures.items():
            was = self.verify[self.requests[i].key]
            if self.retry_unknown and not failed.transient:
                self.again[was.key] = _sent_again(was, f"no lookup: {failed}")
                missing.append(i)
            else:
                batch.outcomes[i] = dataclasses.replace(
                    was, message=f"{was.message} (no lookup: {failed.said()})"
                )
        for i, model in found:
            if model is None:
                missing.append(i)
                self.again[self.requests[i].key] = _sent_again(
                    self.verify[self.requests[i].key], "a lookup did not find it"
                )
                continue
            run = self.verify[self.requests[i].key].run
            self._ok(batch, i, _ids(model), 200,
                     f"found in Octolane by a lookup (the answer was lost in run {run})")  # fmt: skip
        return sorted(missing)


def _own_fields(errors: Mapping[str, str]) -> dict[str, str]:
    """Field errors of a batch of one without the item's place (``[0].email`` -> ``email``)."""
    own = {}
    for key, text in errors.items():
        _place, dot, rest = key.partition("].")
        own[rest if key.startswith("[") and dot else key.strip("[]0123456789") or "record"] = text
    return own
