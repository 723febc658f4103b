"""Each row's outcome: from its plan alone (a dry run) or with its requests' outcomes.

A row's status is the worst of its requests': ``failed`` if any failed (with
that request's HTTP status, message and field errors), ``unknown`` if one was
sent and its answer lost (the record may exist: not a failure to fix),
``not_sent`` if any was not sent, else ``imported`` (``already_imported`` when an
earlier run of the journal got every answer: its message names that run); a duplicate row keeps its status and shares the
ids; a ``partial`` row (some of its records rejected before sending) stays
``partial`` with the ids of the records that went. Ids come from the requests the row depends on. This module does no I/O:
:func:`tally_rows` hands the results to a :class:`~importer.report.results.ResultsSink`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING

from importer.api.endpoints import ID_FIELDS
from importer.errors import refused_for_its_data
from importer.plan import RowPlan
from importer.report.results import (
    ResultsSink,
    RowResult,
    duplicate_message,
    generic_reason,
    plain_line,
)

if TYPE_CHECKING:
    from importer.send.runner import RequestOutcome, SendReport

__all__ = ["RowsAsTheyComplete", "row_results", "tally_rows"]


def row_results(rows: Sequence[RowPlan], send: SendReport | None = None) -> Iterator[RowResult]:
    """Each row's line for the results file; with a send report, its real outcome."""
    outcomes = _outcomes(send)
    for plan in rows:
        yield _row_result(plan, send, outcomes)


def _outcomes(send: SendReport | None) -> Mapping[str, RequestOutcome]:
    return send.outcomes if send is not None else {}


def _row_result(
    plan: RowPlan,
    send: SendReport | None,
    outcomes: Mapping[str, RequestOutcome],
    *,
    applied: bool = False,
) -> RowResult:
    message = plan.message or (
        duplicate_message(plan.duplicate_of, plan.entities) if plan.duplicate_of else ""
    )
    result = RowResult(
        plan.row,
        plan.status,
        plan.domain,
        plan.email,
        message=message,
        warnings=tuple(map(str, plan.warnings)) if plan.warnings else (),
        duplicate_of=plan.duplicate_of,
        records=plan.entities,
        source_id=plan.source_id,
        left_out=plan.status == "partial",
    )
    if plan.errors:
        result.error_fields = tuple(dict.fromkeys(e.field for e in plan.errors))
    if (send is not None or applied) and plan.status in _OPEN:
        _apply_outcomes(result, plan, outcomes)
    return result


def _waiting(plan: RowPlan, outcomes: Mapping[str, RequestOutcome], unknown: RequestOutcome) -> str:
    """What of the row was not sent because it waits for ``unknown``'s lost answer (a
    note for its contact): said, or the row's "it" would read as its own record."""
    kinds = [
        key.partition(":")[0]
        for key in plan.requests
        if key != unknown.key and (key not in outcomes or outcomes[key].status == "not_sent")
    ]
    if not kinds:
        return ""
    what = " and ".join(dict.fromkeys(kinds))
    return f" ({unknown.key}); the row's {what} not sent: it waits for that answer"


_OPEN = ("would_import", "duplicate", "merged", "partial")
#: The open rows whose line says nothing a plan's message would (a merged row's does).
_PLAIN = ("would_import", "duplicate", "partial")


def _apply_outcomes(
    result: RowResult, plan: RowPlan, outcomes: Mapping[str, RequestOutcome]
) -> None:
    failed: RequestOutcome | None = None
    not_sent: RequestOutcome | None = None
    unknown: RequestOutcome | None = None
    earlier: RequestOutcome | None = None  # an ok outcome of an earlier run (a journal's)
    fresh = False  # an ok outcome of this run
    said: list[str] = []
    for key in plan.requests:
        outcome = outcomes.get(key)
        if outcome is None or outcome.status == "not_sent":
            not_sent = not_sent or outcome
            continue
        if outcome.status == "failed":
            failed = failed or outcome
            continue
        if outcome.status == "unknown":
            unknown = unknown or outcome
            continue
        if outcome.run is None:
            fresh = True
            if outcome.message:  # e.g. found by a lookup after its answer was lost
                said.append(f"{outcome.endpoint}: {outcome.message}")
        elif earlier is None or outcome.run > (earlier.run or 0):
            earlier = outcome
        # A request for another record that ensures one of the row's (a contact create
        # ensures its e-mail's account) gives that other record's id: not the row's.
        if key not in plan.entities:
            continue
        id_name = ID_FIELDS[outcome.endpoint]
        if outcome.ids.get(id_name):
            if result.ids is None:
                result.ids = {}
            result.ids[id_name] = outcome.ids[id_name]
    left_out = f" (and {plan.message})" if plan.status == "partial" else ""
    if failed is not None:
        result.status, result.http_status = "failed", failed.http_status
        root = failed
        while root.blocked_by is not None and root.blocked_by in outcomes:
            root = outcomes[root.blocked_by]  # the request whose failure kept it back
        result.refused = refused_for_its_data(root.http_status, root.field_errors)
        result.error_fields = tuple(dict.fromkeys((*failed.field_errors, *result.error_fields)))
        result.message = failed.describe() + left_out
    elif unknown is not None:  # sent, its answer lost: never in the failures file
        result.status, result.http_status = "unknown", unknown.http_status
        result.message = unknown.describe() + _waiting(plan, outcomes, unknown) + left_out
    elif not_sent is not None or any(k not in outcomes for k in plan.requests):
        result.status = "not_sent"
        why = not_sent.message if not_sent is not None else ""
        result.message = (why or "not sent: the run stopped first") + left_out
    elif result.status == "would_import":
        if earlier is not None and not fresh:
            result.status = "already_imported"
            result.message = f"already imported by {earlier.message}"
        else:
            result.status = "imported"
            if said and not result.message:
                result.message = "; ".join(said)


class RowsAsTheyComplete:
    """Each row's result the moment its last request has an outcome, during a real run.

    ``write`` gets each row once: at :meth:`start` the rows with no request (invalid,
    skipped), then each other row when the outcome of every request it depends on is
    known (an earlier run's too). The results file written this way holds every row
    that is done should the process die; the run's end rewrites it in input order.
    """

    def __init__(self, rows: Sequence[RowPlan], write: Callable[[RowResult], None]) -> None:
        self._rows = rows
        self._write = write
        self._outcomes: dict[str, RequestOutcome] = {}
        self._waiting: dict[str, list[int]] = {}
        self._left: list[int] = [0] * len(rows)

    def start(self) -> None:
        for index, plan in enumerate(self._rows):
            keys = set(plan.requests) if plan.status in _OPEN else set()
            if not keys:
                self._write(_row_result(plan, None, {}, applied=True))
                continue
            self._left[index] = len(keys)
            for key in keys:
                self._waiting.setdefault(key, []).append(index)

    def __call__(self, outcome: RequestOutcome) -> None:
        self._outcomes[outcome.key] = outcome
        for index in self._waiting.pop(outcome.key, ()):
            self._left[index] -= 1
            if not self._left[index]:
                plan = self._rows[index]
                self._write(_row_result(plan, None, self._outcomes, applied=True))


def tally_rows(sink: ResultsSink, plans: Sequence[RowPlan], send: SendReport | None) -> None:
    """Give each row's result to the sink (the fast path for a dry run's plain rows)."""
    outcomes = _outcomes(send)
    lines: list[str] = []
    statuses: list[str] = []
    warned = 0
    for plan in plans:
        # A dry run's open rows carry no ids or errors: their lines need no RowResult,
        # warnings or not (a deal-heavy file warns on most rows). They go in one write.
        status = plan.status
        if send is None and not plan.errors and status in _PLAIN:
            line, warns = plain_line(
                plan.row, status, plan.domain, plan.email, plan.entities, plan.duplicate_of,
                plan.warnings, plan.source_id, plan.filed,
            )  # fmt: skip
            lines.append(line)
            statuses.append(status)
            warned += warns
            continue
        if lines:
            sink.add_plain_text("".join(lines), statuses, warned)
            lines, statuses, warned = [], [], 0
        result = _row_result(plan, send, outcomes)
        reasons = [f"{e.field}: {generic_reason(e.message)}" for e in plan.errors or ()]
        sink.add(result, reasons)
    if lines:
        sink.add_plain_text("".join(lines), statuses, warned)
