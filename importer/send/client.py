"""Async clients for Octolane's write endpoints.

:class:`OctolaneClient` is what sending needs from a target: one coroutine per
endpoint plus a generic :meth:`~OctolaneClient.send`. :class:`InboundClient`
implements it for the Inbound API v1 (API.md §1) over keep-alive connections
(aiohttp's on the network, :mod:`importer.send.wire`; an httpx transport a caller
gives, in tests); :class:`~importer.send.public.PublicClient` for the public API.

HTTP failures become the :mod:`importer.errors` tree where they enter::

    400, 413, 422 -> BadRequestError      401, 403 -> AuthenticationError
    404 -> NotFoundError                  429 -> RateLimitedError(retry_after_s=...)
    5xx -> ServerError                    any other status, or an unreadable body -> ApiError
    timeout / connection error -> TransportError (``delivered``: whether the
        request may have reached the server)

The API key is a ``SecretStr`` sent only in the ``X-API-Key`` header; it is not
in the client's repr, in any exception message (text the server echoes back is
scrubbed too) or in the HTTP libraries' logs (which show URLs only).

Example::

    async with InboundClient("sk_live_...") as client:
        created = await client.create_contact({"email": "jo@acme.com"})
        print(created.people_id)
"""

from __future__ import annotations

import asyncio
import email.utils
import ipaddress
import math
import re
import ssl
import time
from collections.abc import Collection, Container, Mapping
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Protocol, Self, TypeVar

import httpx
from pydantic import BaseModel, SecretStr, ValidationError

from importer.api.endpoints import ID_FIELDS, PATHS, RESPONSE_MODELS, Endpoint, to_inbound
from importer.api.models import AccountCreated, ContactCreated, NoteCreated, OpportunityCreated
from importer.errors import (
    ApiError,
    AuthenticationError,
    BadRequestError,
    NotFoundError,
    RateLimitedError,
    RequestTimeoutError,
    ServerError,
    TransportError,
    UsageError,
)
from importer.send.lookup import Links, LookupUnavailable, NoteText, note_links, note_text
from importer.send.wire import AiohttpConnections
from importer.settings import DEFAULT_BASE_URL

__all__ = [
    "InboundClient",
    "LookupUnavailable",
    "OctolaneClient",
    "check_api_key",
    "check_base_url",
    "parse_retry_after",
]

_LOOPBACK_NAMES = {"localhost"}
_LOOKUP_PAGES = 10
#: A lookup's read that meets a 429, a 5xx or no connection is tried again after these
#: waits (a Retry-After wins, up to the cap); after the last, the lookup is unavailable
#: for now (``transient``), and the lost answer stays unknown for a later run.
_READ_WAITS_S = (1.0, 2.0, 4.0)
_READ_WAIT_MAX_S = 30.0
_READS_DOWN_S = 60.0


def _for_now(status: int) -> bool:
    """Whether a read's answer is a refusal for now (408, 429, 5xx), worth a retry."""
    return status in (408, 429) or status >= 500


#: ``scheme://user:password@host``: credentials in a URL, never printed nor sent on.
_CREDENTIALS = re.compile(r"^[^/?#]*//[^/?#]*@")


_M = TypeVar("_M", bound=BaseModel)
_SNIPPET_CHARS = 120


class OctolaneClient(Protocol):
    """What sending needs from an Octolane target. Use it as an async context manager."""

    async def create_account(self, payload: Mapping[str, Any]) -> AccountCreated: ...

    async def create_contact(self, payload: Mapping[str, Any]) -> ContactCreated: ...

    async def create_opportunity(self, payload: Mapping[str, Any]) -> OpportunityCreated: ...

    async def create_note(self, payload: Mapping[str, Any]) -> NoteCreated: ...

    async def send(self, endpoint: Endpoint, payload: Mapping[str, Any]) -> BaseModel:
        """POST ``payload`` to ``endpoint``; return the parsed ``data`` or raise an ApiError."""
        ...

    async def aclose(self) -> None: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


class InboundClient:
    """The Inbound API v1 over a pool of keep-alive connections (:class:`_Pools`).

    Args:
        api_key: the organization's key (``--api-key`` / ``OCTOLANE_API_KEY``).
        base_url: ``https://enrich.octolane.com/v1`` by default; plain ``http://``
            is refused unless the host is loopback (the sandbox).
        timeout_s: connect, read, write and pool timeout, each.
        max_connections: the most connections open at once; match the sending concurrency.
        transport: an httpx transport to use instead of the network
            (``httpx.MockTransport`` in tests, an ASGI transport for the sandbox).
        public_url: the public API's root, where :meth:`find` looks a note up
            (``GET /v1/notes``, API.md §2.4); None: no lookups.

    Raises:
        UsageError: the key is empty or unsendable, or the URL is not acceptable.
    """

    def __init__(
        self,
        api_key: str | SecretStr,
        *,
        base_url: str = DEFAULT_BASE_URL,
        timeout_s: float = 30.0,
        max_connections: int = 10,
        transport: httpx.AsyncBaseTransport | None = None,
        public_url: str | None = None,
    ) -> None:
        self._api_key = check_api_key(api_key)
        self.base_url = check_base_url(base_url)
        #: The public API's root (``https://api.octolane.com``), for :meth:`find`; None: no
        #: lookups.
        self.public_url = check_base_url(public_url).rstrip("/") if public_url else None
        #: Why the public API's reads failed for now after every retry, and when: for a
        #: minute after, the other lookups are unavailable at once, not each waiting again.
        self._reads_down: str | None = None
        self._reads_down_at = 0.0
        if not timeout_s > 0:
            raise UsageError(f"the timeout must be a positive number of seconds, not {timeout_s}")
        if max_connections < 1:
            raise UsageError(f"max_connections must be at least 1, not {max_connections}")
        self.timeout_s = timeout_s
        self._http = _Pools(
            # A trailing slash makes relative paths extend the base path (/v1/...).
            base_url=self.base_url.rstrip("/") + "/",
            timeout_s=timeout_s,
            connections=max_connections,
            transport=transport,
            tls=any(url.startswith("https:") for url in (self.base_url, self.public_url or "")),
        )

    def __repr__(self) -> str:
        return f"<InboundClient base_url={self.base_url!r} api_key=SecretStr('**********')>"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    async def create_account(self, payload: Mapping[str, Any]) -> AccountCreated:
        """``POST /inbound/accounts``: create (or find) the company by domain."""
        return await self._post("accounts", payload, AccountCreated)

    async def create_contact(self, payload: Mapping[str, Any]) -> ContactCreated:
        """``POST /inbound/contacts``: create (or find) the person by email."""
        return await self._post("contacts", payload, ContactCreated)

    async def create_opportunity(self, payload: Mapping[str, Any]) -> OpportunityCreated:
        """``POST /inbound/opportunities``: create the deal (and its account and contacts)."""
        return await self._post("opportunities", payload, OpportunityCreated)

    async def create_note(self, payload: Mapping[str, Any]) -> NoteCreated:
        """``POST /inbound/notes``: create a note linked by domains and emails."""
        return await self._post("notes", payload, NoteCreated)

    async def send(self, endpoint: Endpoint, payload: Mapping[str, Any]) -> BaseModel:
        """POST ``payload`` to ``endpoint`` and return the parsed ``data``.

        Raises:
            ApiError: (a subclass for each status family) the API refused it.
            TransportError: no HTTP answer (timeout, refused or reset connection).
        """
        if endpoint not in PATHS:
            raise ValueError(f"unknown endpoint {endpoint!r} (expected one of {', '.join(PATHS)})")
        return await self._post(endpoint, payload, RESPONSE_MODELS[endpoint])

    async def find(
        self,
        endpoint: Endpoint,
        payload: Mapping[str, Any],
        *,
        taken: Container[str] = (),
        rivals: Mapping[NoteText, Collection[Links]] | None = None,
        exact: bool = False,
    ) -> BaseModel | None:
        """Look up the record a create with ``payload`` would have made, where a repeat of
        the create could make a second one (its answer was lost): the note with the same
        title and content, linked to at least the same domains and e-mails, through the
        public API's ``GET /v1/notes?q=``; a deal with no company domain, by its name in
        its pipeline through ``POST /v1/opportunities/search`` (API.md §2.4). None: there
        is none.

        A note is never another row's: ``taken`` are the ids other requests of the run
        got, ``rivals`` the links each note text of the run asks for. A note linked to
        exactly what it asks for is preferred; one linked to more is taken only where no
        other note of its text asks for exactly its links. ``exact``: only a note linked
        to exactly what it asks for (a check before a first send: a note linked to more
        is someone else's).

        Raises:
            LookupUnavailable: no lookup for this endpoint, no public API URL, or the
                public API refused or answered in a shape this version cannot read.
        """
        if self.public_url is None or endpoint not in ("notes", "opportunities"):
            raise LookupUnavailable(f"no lookup for {endpoint} here")
        if endpoint == "opportunities":
            return await self._find_deal(payload, taken)
        title, content = note_text(payload)
        own = note_links(payload)
        theirs = set((rivals or {}).get((title, content), ())) - {own}
        query = (content or title)[:100]
        wider: str | None = None  # a note linked to more than it asks for
        for page in range(1, _LOOKUP_PAGES + 1):
            params = {"q": query, "page": str(page), "limit": "100"}
            data, notes = await self._read("GET", "/v1/notes", "notes", params=params)
            for item in notes:
                found = item.get("note_id") or item.get("id")
                if not found or str(found) in taken or note_text(item) != (title, content):
                    continue
                links = note_links(item)
                if links == own:
                    return NoteCreated(note_id=str(found), title=title, content=content)
                if exact:
                    continue
                if own[0] <= links[0] and own[1] <= links[1] and links not in theirs:
                    wider = wider or str(found)
            if not data.get("has_more"):
                if wider is None:
                    return None
                return NoteCreated(note_id=wider, title=title, content=content)
        raise LookupUnavailable(
            f"more than {_LOOKUP_PAGES * 100} notes match; cannot tell", undecided=True
        )

    async def holds_notes(self, beyond: int = 0) -> bool:
        """Whether the organization holds more than ``beyond`` notes (one read,
        ``GET /v1/notes?limit=1``, for any; a page of 100 for each hundred beyond).

        Raises:
            LookupUnavailable: no public API URL, or the read was refused or unreadable.
        """
        if self.public_url is None:
            raise LookupUnavailable("no lookup for notes here")
        limit = 1 if beyond == 0 else 100
        seen = 0
        for page in range(1, beyond // limit + 2):
            params = {"page": str(page), "limit": str(limit)}
            data, notes = await self._read("GET", "/v1/notes", "notes", params=params)
            seen += len(notes)
            if seen > beyond:
                return True
            if not data.get("has_more") or not notes:
                return False
        return True

    async def _find_deal(
        self, payload: Mapping[str, Any], taken: Container[str] = ()
    ) -> OpportunityCreated | None:
        """The deal of the same name with no company in the same pipeline, through
        ``POST /v1/opportunities/search`` (a deal with a company domain needs no lookup:
        Octolane finds it again by domain, pipeline and name)."""
        name = str((payload.get("opportunity") or {}).get("name") or "")
        if not name or (payload.get("related_objects") or {}).get("account_domain"):
            raise LookupUnavailable("no name to look the deal up by")
        body: dict[str, Any] = {
            "pipeline_id": payload.get("pipeline_id"),
            "filters": [{"field": "name", "operator": "eq", "value": name}],
            "limit": 100,
        }
        for _ in range(_LOOKUP_PAGES):
            data, deals = await self._read(
                "POST", "/v1/opportunities/search", "opportunities", json=body
            )
            for item in deals:
                deal_id = item.get("id") or item.get("opportunity_id")
                if deal_id and str(deal_id) in taken:
                    continue  # another row's deal
                if item.get("name") == name and deal_id and not item.get("account_id"):
                    return OpportunityCreated(opportunity_id=str(deal_id), name=name)
            if not (data.get("has_more") and data.get("next_cursor")):
                return None
            body["cursor"] = data["next_cursor"]
        raise LookupUnavailable(f"more than {_LOOKUP_PAGES * 100} deals match; cannot tell")

    async def _read(
        self, method: str, path: str, kind: str, **request: Any
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """One page of a public API read: (``data``, its list of ``kind`` records).

        Raises:
            LookupUnavailable: no answer, or not a 200 with such a list.
        """
        if self._reads_down is not None:  # an earlier read used up its retries: no waits
            if time.monotonic() - self._reads_down_at < _READS_DOWN_S:
                raise LookupUnavailable(self._reads_down, transient=True)
            self._reads_down = None
        headers = {"X-API-Key": self._api_key.get_secret_value()}
        for wait_s in (*_READ_WAITS_S, None):
            try:
                response = await self._http.request(
                    method, f"{self.public_url}{path}", headers=headers, **request
                )
            except httpx.HTTPError as exc:
                if wait_s is not None:
                    await asyncio.sleep(wait_s)
                    continue
                self._reads_down = f"the public API could not be reached: {type(exc).__name__}"
                self._reads_down_at = time.monotonic()
                raise LookupUnavailable(self._reads_down, transient=True) from None
            if not _for_now(response.status_code) or wait_s is None:
                break
            told = parse_retry_after(
                response.headers.get("Retry-After"), date=response.headers.get("Date")
            )
            await asyncio.sleep(min(told if told is not None else wait_s, _READ_WAIT_MAX_S))
        body = _json_or_none(response)
        data = body.get("data") if isinstance(body, dict) else None
        records = data.get(kind) if isinstance(data, dict) else None
        if (
            response.status_code != 200
            or not isinstance(data, dict)
            or not isinstance(records, list)
        ):
            said = f"the public API answered {response.status_code} to {method} {path}"
            transient = _for_now(response.status_code)
            if transient:  # after every retry: the run's other lookups do not wait for it
                self._reads_down, self._reads_down_at = said, time.monotonic()
            raise LookupUnavailable(said, transient=transient)
        return data, [item for item in records if isinstance(item, dict)]

    async def _post(self, endpoint: Endpoint, payload: Mapping[str, Any], model: type[_M]) -> _M:
        response = await self._post_json(endpoint, PATHS[endpoint], self._body(endpoint, payload))
        return self._parse_success(endpoint, response, model)

    def _body(self, endpoint: Endpoint, payload: Mapping[str, Any]) -> dict[str, Any]:
        """The JSON body for ``payload``: without the fields only the public API takes."""
        return to_inbound(endpoint, payload)

    async def _post_json(self, endpoint: str, path: str, body: Any) -> httpx.Response:
        """POST ``body`` to ``path``; the 2xx response, or the error it is.

        Raises:
            ApiError: (a subclass for each status family) not a 2xx.
            TransportError: no HTTP answer (timeout, refused or reset connection).
        """
        headers = {"X-API-Key": self._api_key.get_secret_value()}
        try:
            response = await self._http.post(path, json=body, headers=headers)
        except httpx.TimeoutException as exc:
            kind = type(exc).__name__.removesuffix("Timeout").lower() or "request"
            raise TransportError(
                f"no answer from {self.base_url} within {self.timeout_s:g} s ({kind} timeout)",
                endpoint=endpoint,
                delivered=not isinstance(exc, _NOT_SENT),
            ) from exc
        except httpx.TransportError as exc:
            detail = self._scrub(str(exc)) or type(exc).__name__
            if isinstance(exc, _NOT_SENT):
                message = f"could not reach {self.base_url}: {detail}"
            else:
                message = f"the connection to {self.base_url} was lost before the answer: {detail}"
            raise TransportError(
                message, endpoint=endpoint, delivered=not isinstance(exc, _NOT_SENT)
            ) from exc
        if not response.is_success:
            raise self._error(endpoint, response)
        return response

    def _parse_success(self, endpoint: Endpoint, response: httpx.Response, model: type[_M]) -> _M:
        status = response.status_code
        body = _json_or_none(response)
        if not isinstance(body, dict):
            raise ApiError(
                status,
                f"the response is not a JSON object: {self._snippet(response)}",
                endpoint=endpoint,
            )
        if body.get("success") is False:
            raise ApiError(status, self._message(body, response), endpoint=endpoint)
        data = body.get("data")
        if not isinstance(data, dict):
            raise ApiError(
                status,
                f"the response has no 'data' object: {self._snippet(response)}",
                endpoint=endpoint,
            )
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            raise ApiError(
                status,
                f"the response's data lacks a usable {ID_FIELDS[endpoint]}: "
                f"{self._snippet(response)}",
                endpoint=endpoint,
            ) from exc

    def _error(self, endpoint: str, response: httpx.Response) -> ApiError:
        status = response.status_code
        body = _json_or_none(response)
        if isinstance(body, dict):
            message = self._message(body, response)
            field_errors = self._field_errors(body.get("errors"))
        else:
            message = f"{response.reason_phrase or 'error'} (body: {self._snippet(response)})"
            field_errors = {}
        if status == 429:
            retry_after_s = parse_retry_after(
                response.headers.get("Retry-After"), date=response.headers.get("Date")
            )
            return RateLimitedError(
                status, message, field_errors, endpoint=endpoint, retry_after_s=retry_after_s
            )
        cls = _error_class(status)
        error = cls(status, message, field_errors, endpoint=endpoint)
        # Not Octolane's error envelope ({"success": false, ...}): an HTML page, a proxy's
        # text, another server's JSON. Answered by something else than the API.
        error.foreign = not (isinstance(body, dict) and body.get("success") is False)
        return error

    def _message(self, body: dict[str, Any], response: httpx.Response) -> str:
        message = body.get("message")
        if isinstance(message, str) and message.strip():
            return self._scrub(message.strip())
        return response.reason_phrase or f"HTTP {response.status_code}"

    def _field_errors(self, errors: object) -> dict[str, str]:
        # Documented as {field: message}; a list of messages is tolerated.
        if isinstance(errors, dict):
            return {self._scrub(str(k)): self._scrub(_text(v)) for k, v in errors.items()}
        if isinstance(errors, list) and errors:
            return {"": self._scrub("; ".join(_text(e) for e in errors))}
        return {}

    def _snippet(self, response: httpx.Response) -> str:
        text = response.text.strip()
        if not text:
            return "(empty body)"
        cut = text[:_SNIPPET_CHARS] + ("…" if len(text) > _SNIPPET_CHARS else "")
        return repr(self._scrub(cut))

    def _scrub(self, text: str) -> str:
        # A server (or a proxy) may echo the key back; it must not reach our messages.
        key = self._api_key.get_secret_value()
        return re.sub(re.escape(key), "**********", text, flags=re.IGNORECASE) if key else text


_HEADERS = {"User-Agent": "octolane-import", "Accept": "application/json"}


class _Pools:
    """The client's keep-alive connections: aiohttp's on the network, httpx's for a
    transport a caller gives (``httpx.MockTransport``, an ASGI app in tests).

    Measured with ``benchmarks/bench_client.py`` at 64 in flight (50 ms latency, no
    server limit, the sandbox in its own process; the importer's CPU for the whole run,
    runner and limiter included; medians of 3 on a shared 2-core machine): httpx in one
    pool of 64 connections sent 107 requests/s at 9.4 ms of CPU a request (httpcore
    scans every connection of its pool per request, encode/httpcore#1035); in pools of
    :data:`POOL_CONNECTIONS`, 401/s at 1.8 ms (httpx's own cost per request); the
    ``httpx-aiohttp`` transport 680/s at 1.4 ms, but it reports a server that closed the
    connection as a connect timeout (not sent), so a note could go twice; aiohttp
    directly, with our own mapping of its errors and answers read without httpx's
    stream machinery (:mod:`importer.send.wire`), 1,154/s at 0.54 ms (32 in flight:
    581/s at 0.68 ms; 10: 191/s, 95.4% of the ceiling, where the sandbox answers one
    request alone in 51.7 ms).
    """

    #: Which sends on the network: ``"aiohttp"``, or ``"httpx"`` (pools of
    #: ``POOL_CONNECTIONS``: kept to compare them in the benchmark).
    BACKEND = "aiohttp"
    #: Connections per httpx pool: its CPU per request stays flat up to here.
    POOL_CONNECTIONS = 4

    def __init__(
        self,
        *,
        base_url: str,
        timeout_s: float,
        connections: int,
        transport: httpx.AsyncBaseTransport | None,
        tls: bool = True,
    ) -> None:
        self.timeout = httpx.Timeout(timeout_s)
        # One TLS context (building one reads the CA bundle: ~50 ms), none where every
        # URL is plain http (the sandbox on loopback).
        context = httpx.create_ssl_context() if tls and transport is None else None
        self.aio: AiohttpConnections | None = None
        self.clients: list[httpx.AsyncClient] = []
        if transport is None and self.BACKEND == "aiohttp":
            self.aio = AiohttpConnections(
                base_url,
                timeout_s=timeout_s,
                connections=connections,
                headers={**_HEADERS, "Accept-Encoding": "gzip, deflate"},
                tls=context,
            )
            return
        count = 1 if transport is not None else -(-connections // self.POOL_CONNECTIONS)
        size = -(-connections // count)
        verify: ssl.SSLContext | bool = context if context is not None else False
        self.clients = [
            httpx.AsyncClient(
                base_url=base_url,
                timeout=self.timeout,
                limits=httpx.Limits(max_connections=size, max_keepalive_connections=size),
                headers=_HEADERS,
                transport=transport,
                verify=verify,
            )
            for _ in range(count)
        ]
        self.busy = [0] * count

    async def request(self, method: str, url: str, **options: Any) -> httpx.Response:
        if self.aio is not None:
            return await self.aio.request(method, url, **options)
        busy = self.busy
        i = busy.index(min(busy)) if len(busy) > 1 else 0
        busy[i] += 1
        try:
            return await self.clients[i].request(method, url, **options)
        finally:
            busy[i] -= 1

    async def post(self, url: str, **options: Any) -> httpx.Response:
        return await self.request("POST", url, **options)

    async def aclose(self) -> None:
        if self.aio is not None:
            await self.aio.aclose()
        for client in self.clients:
            await client.aclose()


#: Transport errors that happen before a request is sent: the server cannot have seen it.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)


def parse_retry_after(value: str | None, *, date: str | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP date.

    An HTTP date is measured from the response's ``Date`` header when given (so
    a skewed local clock does not matter), else from the local clock. Returns
    ``None`` for a missing or unreadable value, never a negative number.

    >>> parse_retry_after("7")
    7.0
    >>> parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", date="Wed, 21 Oct 2015 07:28:00 GMT")
    30.0
    """
    if value is None or not value.strip():
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        when = _http_date(value)
        if when is None:
            return None
        now = _http_date(date) if date else None
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    return max(0.0, seconds) if math.isfinite(seconds) else None


def _http_date(value: str) -> datetime | None:
    try:
        when = email.utils.parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _error_class(status: int) -> type[ApiError]:
    if status in (400, 413, 422):
        return BadRequestError
    if status in (401, 403):
        return AuthenticationError
    if status == 404:
        return NotFoundError
    if 500 <= status <= 599:
        return ServerError
    if status == 408:
        return RequestTimeoutError
    return ApiError


def _json_or_none(response: httpx.Response) -> object:
    try:
        return response.json()
    except ValueError:  # JSONDecodeError and UnicodeDecodeError both derive from it
        return None


def _text(value: object) -> str:
    return value if isinstance(value, str) else str(value)


def check_api_key(api_key: str | SecretStr) -> SecretStr:
    raw = api_key.get_secret_value() if isinstance(api_key, SecretStr) else api_key
    key = raw.strip()
    if not key:
        raise UsageError("no API key: set OCTOLANE_API_KEY or pass --api-key-file")
    # httpx would reject such a header value with an error that quotes it.
    if not key.isascii() or not key.isprintable() or any(c.isspace() for c in key):
        raise UsageError(
            "the API key contains spaces, control or non-ASCII characters, so it cannot be "
            "sent in a header: check --api-key / OCTOLANE_API_KEY (copy it again from "
            "Settings → Integrations → API)"
        )
    return SecretStr(key)


def check_base_url(base_url: str) -> str:
    """The base URL, normalised; plain http only to a loopback host (the key travels with it).

    Raises:
        UsageError: not an http(s) URL, or http to another host.
    """
    hint = "e.g. https://enrich.octolane.com/v1"
    if _CREDENTIALS.search(base_url):  # said without the URL: it would print the password
        raise UsageError(
            "the base URL holds a user name or password (user:password@host): give the URL"
            " without them, and the API key in OCTOLANE_API_KEY or --api-key-file"
        )
    try:
        url = httpx.URL(base_url.strip())
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        raise UsageError(f"the base URL {base_url!r} is not a valid URL ({hint})") from exc
    if url.scheme not in ("http", "https") or not url.host:
        raise UsageError(f"the base URL {base_url!r} is not an http(s) URL ({hint})")
    if url.port is not None and not 1 <= url.port <= 65535:
        raise UsageError(
            f"the base URL {base_url!r}: its port {url.port} is not between 1 and 65535"
        )
    if url.scheme == "http" and not _is_loopback(url.host):
        raise UsageError(
            f"refusing to send the API key over plain http to {url.host}: use https:// "
            "(plain http is allowed only for localhost, 127.0.0.0/8 and ::1)"
        )
    return str(url.copy_with(query=None, fragment=None)).rstrip("/")


def _is_loopback(host: str) -> bool:
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
