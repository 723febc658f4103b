"""A client for Octolane's public API (``https://api.octolane.com/v1``, API.md §2-3):
bulk creates of up to 100 records, and the reads that tell what a batch did.

It takes the same payloads as :class:`~importer.send.client.InboundClient` (the plan
is built once, for either target) and translates them where the APIs differ:
``opportunity.next_step`` is ``next_steps`` here, and deal dates are Unix *seconds*
(milliseconds on Inbound). :meth:`PublicClient.send_batch` posts a batch to
``/v1/{endpoint}/bulk`` and reads the answer whatever its shape, since the spec leaves
a bulk answer's ``data`` open (API.md §4, question 12):

* per-record results (a list, or a list under ``results``/``items``/...): each record
  gets its own outcome, by ``index`` where the items carry one, else by position;
* counts only (``{created, skipped, failed}``), or nothing: :class:`BatchAnswer` says
  so, and the sender asks :meth:`PublicClient.find_many` which records are there.

:meth:`find_many` looks records up in batches: accounts by domain and contacts by
e-mail through ``POST /v1/{accounts,contacts}/search`` with an ``in`` filter, deals by
name (and company) through ``POST /v1/opportunities/search``; notes, which the API
only lists by a text query, one by one through ``GET /v1/notes?q=``.

Example::

    async with PublicClient("sk_live_...") as client:
        answer = await client.send_batch("contacts", [{"email": "jo@acme.com"}])
        print(answer.items)
"""

from __future__ import annotations

from collections.abc import Collection, Container, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
from pydantic import BaseModel, SecretStr

from importer.api.endpoints import (
    BULK_PATHS,
    ID_FIELDS,
    RESPONSE_MODELS,
    Endpoint,
    deal_name_from_domain,
    to_inbound,
    to_public,
)
from importer.errors import ApiError
from importer.send.client import InboundClient, LookupUnavailable
from importer.send.lookup import AnyOf, Links, NoteText, note_links, note_text
from importer.settings import DEFAULT_API_URL

__all__ = [
    "BULK_PATHS",
    "BatchAnswer",
    "ItemResult",
    "PublicClient",
    "to_inbound",
    "to_public",
]

#: Item statuses that mean the record is there (created, found again, or a duplicate
#: of one that is).
_DONE = frozenset({"created", "resolved", "skipped", "duplicate", "exists", "ok", "success"})
_FAILED = frozenset({"failed", "error", "rejected", "invalid"})
_ITEM_LISTS = ("results", "items", "records", "data")
_COUNTS = ("created", "resolved", "skipped", "duplicates", "failed", "errors")
_SEARCH_LIMIT = 500
_SEARCH_PAGES = 20


@dataclass(frozen=True, slots=True)
class ItemResult:
    """What the answer says of one record of a batch: ``ok`` (with its ``id`` if given)
    or not, the item's own ``status`` word and, for a refused one, why."""

    ok: bool
    status: str = ""
    id: str | None = None
    message: str = ""
    field_errors: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class BatchAnswer:
    """A 2xx answer to a bulk create.

    ``items`` holds one :class:`ItemResult` per record, in the batch's order, when the
    answer gave per-record results; else ``None``, and ``counts`` holds the counts it
    gave (``{"created": 98, "failed": 2}``), or is empty when it gave nothing.
    """

    status: int
    items: list[ItemResult] | None
    counts: dict[str, int] = field(default_factory=dict)
    #: Records in the batch.
    size: int = 0

    @property
    def all_done(self) -> bool:
        """The counts alone prove every record is there: none failed, and those created,
        resolved or skipped add up to the whole batch (98 of 100 proves nothing of two)."""
        return (
            self.items is None
            and self.counts.get("failed", 0) == 0
            and self.counts.get("errors", 0) == 0
            and sum(self.counts.get(k, 0) for k in _COUNTS[:4]) == self.size > 0
        )


class PublicClient(InboundClient):
    """The public API v1 over a pool of keep-alive connections, as :class:`InboundClient`.

    Args:
        api_key: the organization's key (sent as ``x-api-key``).
        base_url: the API's root, ``https://api.octolane.com`` by default (``/v1`` is
            added); plain ``http://`` only to a loopback host (the sandbox).
        batch_size: records per bulk request, 1-100.
        timeout_s, max_connections, transport: as for :class:`InboundClient`.
    """

    def __init__(
        self,
        api_key: str | SecretStr,
        *,
        base_url: str = DEFAULT_API_URL,
        batch_size: int = 100,
        timeout_s: float = 30.0,
        max_connections: int = 10,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        root = base_url.rstrip("/").removesuffix("/v1")
        super().__init__(
            api_key,
            base_url=f"{root}/v1",
            timeout_s=timeout_s,
            max_connections=max_connections,
            transport=transport,
            public_url=root,
        )
        if not 1 <= batch_size <= 100:
            raise ValueError(f"batch_size must be from 1 to 100, not {batch_size}")
        self.batch_size = batch_size
        #: HTTP reads made to look records up (counted in the run's summary).
        self.reads = 0

    def __repr__(self) -> str:
        return f"<PublicClient base_url={self.base_url!r} api_key=SecretStr('**********')>"

    def path(self, endpoint: Endpoint) -> str:
        """The bulk route of ``endpoint``, for messages and the request log."""
        return f"/v1/{BULK_PATHS[endpoint]}"

    async def send(self, endpoint: Endpoint, payload: Mapping[str, Any]) -> BaseModel:
        """One record, as a batch of one: its id, or the API's refusal as an ApiError."""
        answer = await self.send_batch(endpoint, [payload])
        item = answer.items[0] if answer.items else None
        if item is not None and not item.ok:
            raise ApiError(400, item.message or "refused", item.field_errors, endpoint=endpoint)
        found = item.id if item is not None else None
        if found is None:
            [model] = await self.find_many(endpoint, [payload])
            if model is None:
                raise ApiError(
                    answer.status, "accepted, but the record cannot be found", endpoint=endpoint
                )
            return model
        return RESPONSE_MODELS[endpoint].model_validate({ID_FIELDS[endpoint]: found})

    async def send_batch(
        self, endpoint: Endpoint, payloads: Sequence[Mapping[str, Any]]
    ) -> BatchAnswer:
        """POST the records to the bulk route; what the 2xx answer says of each.

        Raises:
            ApiError: not a 2xx (a 400 for the whole batch, a 413, a 429 ...).
            TransportError: no HTTP answer.
        """
        body = [to_public(endpoint, payload) for payload in payloads]
        response = await self._post_json(endpoint, BULK_PATHS[endpoint], body)
        return read_batch_answer(response.status_code, _json_or_none(response), len(body))

    def sent_body(self, endpoint: Endpoint, payloads: Sequence[Mapping[str, Any]]) -> Any:
        """What :meth:`send_batch` puts on the wire for these payloads (the request log)."""
        return [to_public(endpoint, payload) for payload in payloads]

    async def find_many(
        self,
        endpoint: Endpoint,
        payloads: Sequence[Mapping[str, Any]],
        *,
        taken: Container[str] = (),
        rivals: Mapping[NoteText, Collection[Links]] | None = None,
        exact: bool = False,
    ) -> list[BaseModel | None]:
        """Each record as it is in Octolane (a model with its id), or None: not there.
        A note is never another's (``taken``, ``rivals``: :meth:`InboundClient.find`; a
        note found for one payload is taken for the next).

        Raises:
            LookupUnavailable: the reads were refused or answered in an unreadable shape.
        """
        if endpoint == "accounts":
            keys = [str(p.get("domain") or "").lower() for p in payloads]
            found = await self._search_ids("accounts", "domain", keys)
            return [self._model(endpoint, found.get(k)) for k in keys]
        if endpoint == "contacts":
            keys = [str(p.get("email") or "").lower() for p in payloads]
            found = await self._search_ids("contacts", "email", keys)
            return [self._model(endpoint, found.get(k)) for k in keys]
        if endpoint == "opportunities":
            return await self._find_deals(payloads, taken)
        results: list[BaseModel | None] = []
        claimed: set[str] = set()
        if rivals is None:  # the payloads' own (a caller without the run's)
            own: dict[NoteText, set[Links]] = {}
            for payload in payloads:
                own.setdefault(note_text(payload), set()).add(note_links(payload))
            rivals = own
        for payload in payloads:
            self.reads += 1
            note = await self.find(
                "notes", payload, taken=AnyOf(taken, claimed), rivals=rivals, exact=exact
            )
            if note is not None:
                claimed.add(str(getattr(note, "note_id", "")))
            results.append(note)
        return results

    async def find(
        self,
        endpoint: Endpoint,
        payload: Mapping[str, Any],
        *,
        taken: Container[str] = (),
        rivals: Mapping[NoteText, Collection[Links]] | None = None,
        exact: bool = False,
    ) -> BaseModel | None:
        if endpoint == "notes":
            return await super().find(endpoint, payload, taken=taken, rivals=rivals, exact=exact)
        [found] = await self.find_many(endpoint, [payload])
        return found

    def _model(self, endpoint: Endpoint, found: str | None) -> BaseModel | None:
        if found is None:
            return None
        return RESPONSE_MODELS[endpoint].model_validate({ID_FIELDS[endpoint]: found})

    async def _search_ids(self, kind: str, field_name: str, keys: list[str]) -> dict[str, str]:
        """``{key: id}`` of the records whose ``field_name`` is one of ``keys``."""
        wanted = sorted({k for k in keys if k})
        found: dict[str, str] = {}
        if not wanted:
            return found
        body: dict[str, Any] = {
            "filters": [{"field": field_name, "operator": "in", "value": wanted}],
            "limit": _SEARCH_LIMIT,
        }
        for record in await self._search(kind, body):
            key, record_id = str(record.get(field_name) or "").lower(), record.get("id")
            if key in wanted and record_id and key not in found:
                found[key] = str(record_id)
        return found

    async def _search(self, kind: str, body: dict[str, Any]) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = []
        for _ in range(_SEARCH_PAGES):
            self.reads += 1
            data, page = await self._read("POST", f"/v1/{kind}/search", kind, json=body)
            records += page
            if not (data.get("has_more") and data.get("next_cursor")):
                return records
            body = {**body, "cursor": data["next_cursor"]}
        raise LookupUnavailable(f"more than {_SEARCH_PAGES * _SEARCH_LIMIT} {kind} match")

    async def holds_notes(self, beyond: int = 0) -> bool:
        """Whether the organization holds more than ``beyond`` notes (its reads counted)."""
        self.reads += 1 + beyond // 100
        return await super().holds_notes(beyond)

    async def holds_deals(self, pipeline_id: str) -> bool:
        """Whether the pipeline holds any deal (one read).

        Raises:
            LookupUnavailable: the read was refused or answered in an unreadable shape.
        """
        self.reads += 1
        body = {"pipeline_id": pipeline_id or None, "limit": 1}
        _data, records = await self._read("POST", "/v1/opportunities/search", "opportunities",
                                          json=body)  # fmt: skip
        return bool(records)

    async def _find_deals(
        self, payloads: Sequence[Mapping[str, Any]], taken: Container[str] = ()
    ) -> list[BaseModel | None]:
        """Deals by pipeline, name and company, in one search a batch (the public API's
        reads are 300 a minute and 100,000 a month): the deals of the payloads' names,
        each matched to the payload whose name it has (case and runs of spaces aside, as
        Octolane's inbound dedup compares them) and whose company it belongs to, or to
        one with no company where it has none. A record that names its company by id
        alone is resolved through the batch's domains (a second read, only then); one
        whose company stays unknown matches nothing. A deal is found for one payload at
        most, and never one of ``taken`` (the ids other rows got). A payload with no
        name finds nothing (the caller says it was not looked up)."""
        by_pipeline: dict[str, list[int]] = {}
        for i, payload in enumerate(payloads):
            if _deal_name(payload):
                by_pipeline.setdefault(str(payload.get("pipeline_id") or ""), []).append(i)
        results: list[BaseModel | None] = [None] * len(payloads)
        assigned: set[str] = set()
        for pipeline_id, indices in by_pipeline.items():
            # The filter compares names as written (the API does not say it folds case):
            # each name is asked in the spellings an export usually differs by.
            names = sorted({v for i in indices for v in _spellings(_deal_name(payloads[i]))})
            records = await self._search("opportunities", {
                "pipeline_id": pipeline_id or None,
                "filters": [{"field": "name", "operator": "in", "value": names}],
                "limit": _SEARCH_LIMIT,
            })  # fmt: skip
            by_account: dict[str, str] = {}
            account_ids: dict[str, str] | None = None  # (domain -> id, once searched)
            if any(r.get("account_id") and not r.get("account_domain") for r in records):
                domains = [_deal_domain(payloads[i]) for i in indices]
                account_ids = await self._search_ids("accounts", "domain", domains)
                by_account = {v: k for k, v in account_ids.items()}
            self._match_deals(payloads, indices, records, by_account, taken, assigned, results)
            # A deal stored in another spelling ("ACME Renewal" for "Acme renewal") is
            # found among its company's deals: a second search, only for the deals of a
            # company the first did not find (a re-import into a pipeline with deals).
            rest = [i for i in indices if results[i] is None and _deal_domain(payloads[i])]
            if rest:
                await self._deals_of_companies(
                    payloads, rest, pipeline_id, account_ids, taken, assigned, results
                )
        return results

    async def _deals_of_companies(
        self,
        payloads: Sequence[Mapping[str, Any]],
        indices: list[int],
        pipeline_id: str,
        account_ids: dict[str, str] | None,
        taken: Container[str],
        assigned: set[str],
        results: list[BaseModel | None],
    ) -> None:
        """The deals of the payloads' companies in the pipeline, matched by name (case and
        spaces aside). ``account_ids``: the companies' ids where the batch searched them
        already. A company with more deals than the reads allow is left to the search by
        name (a read that fails for now is raised: the batch waits)."""
        domains = [_deal_domain(payloads[i]) for i in indices]
        try:
            if account_ids is None:
                account_ids = await self._search_ids("accounts", "domain", domains)
            account_ids = {d: account_ids[d] for d in domains if d in account_ids}
            if not account_ids:
                return
            records = await self._search("opportunities", {
                "pipeline_id": pipeline_id or None,
                "filters": [
                    {"field": "account_id", "operator": "in",
                     "value": sorted(set(account_ids.values()))},
                ],
                "limit": _SEARCH_LIMIT,
            })  # fmt: skip
        except LookupUnavailable as exc:
            if exc.transient:
                raise
            return
        by_account = {v: k for k, v in account_ids.items()}
        self._match_deals(payloads, indices, records, by_account, taken, assigned, results)

    def _match_deals(
        self,
        payloads: Sequence[Mapping[str, Any]],
        indices: list[int],
        records: list[dict[str, Any]],
        by_account: Mapping[str, str],
        taken: Container[str],
        assigned: set[str],
        results: list[BaseModel | None],
    ) -> None:
        """Each payload's deal among ``records``: its name (case and spaces aside) at its
        company (by domain, or by id through ``by_account``), not taken by another."""
        for i in indices:
            if results[i] is not None:
                continue
            want, domain = _name_key(_deal_name(payloads[i])), _deal_domain(payloads[i])
            for record in records:
                found = str(record.get("id") or "")
                if not found or found in taken or found in assigned:
                    continue
                if _name_key(str(record.get("name") or "")) != want:
                    continue
                company = record.get("account_id")
                have = record.get("account_domain")
                if have is None and company:
                    have = by_account.get(str(company))
                    if have is None:
                        continue  # another company's deal, or one this cannot tell
                if str(have or "").lower() == domain:
                    results[i] = self._model("opportunities", found)
                    assigned.add(found)
                    break


def _deal_name(payload: Mapping[str, Any]) -> str:
    """The deal's name, or where it has none the name Octolane gives it (after its
    company's domain): what a search by name finds it by."""
    name = str((payload.get("opportunity") or {}).get("name") or "")
    domain = _deal_domain(payload)
    return name or (deal_name_from_domain(domain) if domain else "")


def _spellings(name: str) -> set[str]:
    """``name`` as written and in the spellings another export of it usually has (its
    spaces squeezed; lower, upper, title or sentence case): the search's ``in`` filter
    compares names exactly, and a deal found in any of them is matched by
    :func:`_name_key`.

    >>> sorted(_spellings("Acme  renewal"))
    ['ACME RENEWAL', 'Acme  renewal', 'Acme Renewal', 'Acme renewal', 'acme renewal']
    """
    squeezed = " ".join(name.split())
    return {
        name, squeezed, squeezed.lower(), squeezed.upper(), squeezed.title(),
        squeezed[:1].upper() + squeezed[1:].lower(),
    }  # fmt: skip


def _name_key(name: str) -> str:
    """A deal name as Octolane compares it: case and runs of spaces aside."""
    return " ".join(name.split()).casefold()


def _deal_domain(payload: Mapping[str, Any]) -> str:
    return str((payload.get("related_objects") or {}).get("account_domain") or "").lower()


def read_batch_answer(status: int, body: object, size: int) -> BatchAnswer:
    """What a 2xx answer to a bulk create of ``size`` records says of each.

    >>> read_batch_answer(201, {"data": {"created": 2, "failed": 0}}, 2).all_done
    True
    >>> [i.ok for i in read_batch_answer(200, {"data": [{"id": "a"}, {"error": "x"}]}, 2).items]
    [True, False]
    """
    data = body.get("data") if isinstance(body, dict) else None
    listed: object = data
    if isinstance(data, dict):
        listed = next((data[k] for k in _ITEM_LISTS if isinstance(data.get(k), list)), None)
    counts: dict[str, int] = {}
    if isinstance(data, dict):
        counts = {
            k: v for k, v in data.items()
            if k in _COUNTS and isinstance(v, int) and not isinstance(v, bool)
        }  # fmt: skip
    if isinstance(listed, list) and listed and all(isinstance(i, dict) for i in listed):
        items = _items(listed, size)
        if items is not None:
            return BatchAnswer(status, items, counts, size)
    return BatchAnswer(status, None, counts, size)


def _items(listed: list[dict[str, Any]], size: int) -> list[ItemResult] | None:
    """One result per record, or None when the list cannot be matched to the records
    (a wrong length, or indexes that do not cover the batch once)."""
    if all(isinstance(item.get("index"), int) for item in listed):
        by_index = {item["index"]: item for item in listed}
        if len(by_index) != len(listed) or set(by_index) != set(range(size)):
            return None
        ordered = [by_index[i] for i in range(size)]
    elif len(listed) == size:
        ordered = listed
    else:
        return None
    return [_item(item) for item in ordered]


def _item(item: dict[str, Any]) -> ItemResult:
    status = str(item.get("status") or "").lower()
    data = item.get("data")
    nested: dict[str, Any] = data if isinstance(data, dict) else {}
    found = item.get("id") or nested.get("id")
    for name in ID_FIELDS.values():
        found = found or item.get(name) or nested.get(name)
    errors = item.get("errors")
    message = item.get("message") or item.get("error") or ""
    failed = (
        status in _FAILED
        or item.get("success") is False
        or (bool(item.get("error") or errors) and status not in _DONE)
    )
    if failed:
        field_errors = (
            {str(k): str(v) for k, v in errors.items()} if isinstance(errors, dict) else {}
        )
        return ItemResult(False, status or "failed", None, str(message or "refused"), field_errors)
    return ItemResult(True, status or "created", str(found) if found else None)


def _json_or_none(response: httpx.Response) -> object:
    try:
        return response.json()
    except ValueError:
        return None
