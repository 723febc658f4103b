"""InboundClient against httpx.MockTransport: requests, responses, every error path."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from importer.api.models import AccountCreated, ContactCreated, NoteCreated, OpportunityCreated
from importer.errors import (
    ApiError,
    AuthenticationError,
    BadRequestError,
    ImporterError,
    NotFoundError,
    RateLimitedError,
    ServerError,
    TransportError,
    UsageError,
)
from importer.send.client import InboundClient, parse_retry_after
from importer.settings import DEFAULT_BASE_URL

KEY = "sk_test_5ecret-Key-9f8e7d"
PIPELINE = "00000000-0000-4000-8000-000000000001"
Handler = Callable[[httpx.Request], httpx.Response]


def call(handler: Handler, endpoint: str = "accounts", payload: Any = None, **kwargs: Any) -> Any:
    """Send one request through an InboundClient whose transport is ``handler``."""

    async def main() -> Any:
        async with InboundClient(KEY, transport=httpx.MockTransport(handler), **kwargs) as client:
            return await client.send(endpoint, payload or {"domain": "acme.com"})  # type: ignore[arg-type]

    return asyncio.run(main())


def answer(status: int, body: Any = None, *, headers: dict[str, str] | None = None) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        if isinstance(body, str | bytes):
            return httpx.Response(status, content=body, headers=headers)
        return httpx.Response(status, json=body, headers=headers)

    return handler


def error_body(status: int, message: str, errors: dict[str, str] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"success": False, "statusCode": status, "message": message}
    if errors is not None:
        body["errors"] = errors
    return body


# ---- success ------------------------------------------------------------------

# The documented 200 examples (API.md §1.3-1.6).
SUCCESSES = [
    (
        "accounts",
        "create_account",
        {"domain": "acme.com"},
        {
            "company_id": "990e8400-e29b-41d4-a716-446655440000",
            "domain": "acme.com",
            "name": "Acme",
        },
        AccountCreated,
    ),
    (
        "contacts",
        "create_contact",
        {"email": "john@acme.com", "first_name": "John"},
        {"people_id": "aa0e8400-e29b-41d4-a716-446655440000", "email": "john@acme.com"},
        ContactCreated,
    ),
    (
        "opportunities",
        "create_opportunity",
        {"pipeline_id": PIPELINE, "opportunity": {"name": "Deal"}, "related_objects": {}},
        {"opportunity_id": "770e8400-e29b-41d4-a716-446655440000", "name": "Deal", "amount": 5e4},
        OpportunityCreated,
    ),
    (
        "notes",
        "create_note",
        {"note": {"title": "Hi"}, "account_domains": ["acme.com"]},
        {"note_id": "bb0e8400-e29b-41d4-a716-446655440000", "title": "Hi"},
        NoteCreated,
    ),
]


@pytest.mark.parametrize(("endpoint", "method", "payload", "data", "model"), SUCCESSES)
def test_each_endpoint_posts_json_and_parses_data(
    endpoint: str, method: str, payload: dict[str, Any], data: dict[str, Any], model: type
) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"success": True, "data": data, "message": "created"})

    async def main() -> tuple[Any, Any]:
        async with InboundClient(KEY, transport=httpx.MockTransport(handler)) as client:
            return await getattr(client, method)(payload), await client.send(endpoint, payload)

    typed, generic = asyncio.run(main())
    assert type(typed) is model and typed == generic
    assert typed.model_dump(exclude_none=True) == data
    request = seen[0]
    assert request.method == "POST"
    assert str(request.url) == f"https://enrich.octolane.com/v1/inbound/{endpoint}"
    assert request.headers["X-API-Key"] == KEY
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.content) == payload


def test_201_and_extra_fields_are_accepted() -> None:
    data = {"company_id": "c1", "created": True}
    result = call(answer(201, {"success": True, "data": data}))
    assert result.company_id == "c1"


@pytest.mark.parametrize(
    ("base_url", "expected"),
    [
        ("http://127.0.0.1:8765", "http://127.0.0.1:8765/inbound/accounts"),
        ("http://127.8.9.10:1/v1/", "http://127.8.9.10:1/v1/inbound/accounts"),
        ("http://localhost:8000/v1", "http://localhost:8000/v1/inbound/accounts"),
        ("http://[::1]:9000/v1", "http://[::1]:9000/v1/inbound/accounts"),
        ("https://octolane.example/api/v1", "https://octolane.example/api/v1/inbound/accounts"),
    ],
)
def test_base_url(base_url: str, expected: str) -> None:
    urls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        urls.append(str(request.url))
        return httpx.Response(200, json={"data": {"company_id": "c1"}})

    call(handler, base_url=base_url)
    assert urls == [expected]


def test_default_base_url_and_timeouts() -> None:
    client = InboundClient(SecretStr(KEY), timeout_s=7.5)
    assert client.base_url == DEFAULT_BASE_URL
    assert client._http.timeout == httpx.Timeout(7.5)
    asyncio.run(client.aclose())


@pytest.mark.parametrize(
    ("base_url", "message"),
    [
        ("http://enrich.octolane.com/v1", "refusing to send the API key over plain http to"),
        ("http://10.0.0.5:8000", "refusing to send the API key over plain http to 10.0.0.5"),
        ("http://localhost.evil.com", "refusing to send the API key over plain http"),
        ("ftp://enrich.octolane.com/v1", "is not an http(s) URL"),
        ("enrich.octolane.com/v1", "is not an http(s) URL"),
        ("https://", "is not an http(s) URL"),
    ],
)
def test_bad_base_url_is_refused(base_url: str, message: str) -> None:
    with pytest.raises(UsageError) as info:
        InboundClient(KEY, base_url=base_url)
    assert message in str(info.value)


@pytest.mark.parametrize("key", ["", "   ", SecretStr("")])
def test_missing_key_is_a_usage_error(key: str | SecretStr) -> None:
    with pytest.raises(UsageError, match="no API key: set OCTOLANE_API_KEY or pass --api-key-file"):
        InboundClient(key)


def test_surrounding_whitespace_is_trimmed_from_the_key() -> None:
    keys: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        keys.append(request.headers["X-API-Key"])
        return httpx.Response(200, json={"data": {"company_id": "c1"}})

    async def main() -> None:
        async with InboundClient(f"  {KEY}\n", transport=httpx.MockTransport(handler)) as client:
            await client.create_account({"domain": "acme.com"})

    asyncio.run(main())
    assert keys == [KEY]


@pytest.mark.parametrize("key", [f"{KEY} extra", f"{KEY}\nX-Evil: 1", f"{KEY}é"])
def test_unsendable_key_is_refused_without_echoing_it(key: str) -> None:
    with pytest.raises(UsageError) as info:
        InboundClient(key)
    assert "cannot be sent in a header" in str(info.value)
    assert KEY not in str(info.value)


def test_unknown_endpoint() -> None:
    with pytest.raises(ValueError, match="unknown endpoint 'deals'"):
        call(answer(200, {}), endpoint="deals")


# ---- error statuses -----------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequestError),
        (413, BadRequestError),
        (422, BadRequestError),
        (401, AuthenticationError),
        (403, AuthenticationError),
        (404, NotFoundError),
        (429, RateLimitedError),
        (500, ServerError),
        (502, ServerError),
        (503, ServerError),
        (409, ApiError),
        (418, ApiError),
        (301, ApiError),
    ],
)
def test_status_maps_to_error_class(status: int, cls: type[ApiError]) -> None:
    with pytest.raises(ApiError) as info:
        call(answer(status, error_body(status, "Something happened")))
    assert type(info.value) is cls
    assert info.value.status_code == status
    assert info.value.message == "Something happened"
    assert info.value.endpoint == "accounts"


def test_400_carries_the_field_errors() -> None:
    body = error_body(400, "Validation error", {"pipeline_id": "Pipeline id must be a valid uuid"})
    with pytest.raises(BadRequestError) as info:
        call(answer(400, body), endpoint="opportunities")
    assert info.value.field_errors == {"pipeline_id": "Pipeline id must be a valid uuid"}
    assert str(info.value) == (
        "opportunities: HTTP 400: Validation error (pipeline_id: Pipeline id must be a valid uuid)"
    )


def test_error_list_is_kept_as_one_message() -> None:
    body = {"message": "Validation error", "errors": ["domain is required", "bad"]}
    with pytest.raises(BadRequestError) as info:
        call(answer(400, body))
    assert info.value.field_errors == {"": "domain is required; bad"}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("<html><h1>502 Bad Gateway</h1></html>", "Bad Gateway (body: '<html><h1>502 Bad Gateway"),
        ("", "Bad Gateway (body: (empty body))"),
        ({"success": False}, "Bad Gateway"),
        ([1, 2], "Bad Gateway (body: '[1,2]')"),
    ],
)
def test_unreadable_error_body_still_gives_a_clear_error(body: Any, message: str) -> None:
    with pytest.raises(ServerError) as info:
        call(answer(502, body))
    assert info.value.message.startswith(message)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "<html>maintenance</html>",
            "the response is not a JSON object: '<html>maintenance</html>'",
        ),
        (b"\xff\xfe\x00garbage", "the response is not a JSON object"),
        ({"success": True}, "the response has no 'data' object"),
        ({"success": True, "data": [1]}, "the response has no 'data' object"),
        ({"success": True, "data": {"domain": "acme.com"}}, "data lacks a usable company_id"),
        ({"success": False, "message": "Nope"}, "Nope"),
        ("x" * 500, "the response is not a JSON object: 'xxx"),
    ],
)
def test_unexpected_success_body_is_an_api_error(body: Any, message: str) -> None:
    with pytest.raises(ApiError) as info:
        call(answer(200, body))
    assert type(info.value) is ApiError
    assert info.value.status_code == 200
    assert message in info.value.message
    assert len(info.value.message) < 200  # a snippet, not the whole body


@pytest.mark.parametrize(
    ("headers", "retry_after_s"),
    [
        ({"Retry-After": "7"}, 7.0),
        ({"Retry-After": "1.5"}, 1.5),
        (
            {
                "Retry-After": "Wed, 21 Oct 2015 07:28:30 GMT",
                "Date": "Wed, 21 Oct 2015 07:28:00 GMT",
            },
            30.0,
        ),
        ({"Retry-After": "soon"}, None),
        ({}, None),
    ],
)
def test_429_carries_retry_after(headers: dict[str, str], retry_after_s: float | None) -> None:
    with pytest.raises(RateLimitedError) as info:
        call(answer(429, error_body(429, "Too many requests"), headers=headers))
    assert info.value.retry_after_s == retry_after_s


def test_retry_after_http_date_without_a_date_header_uses_the_local_clock() -> None:
    when = datetime.now(UTC) + timedelta(seconds=90)
    seconds = parse_retry_after(format_datetime(when, usegmt=True))
    assert seconds is not None and 85 <= seconds <= 90


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0", 0.0),
        ("-5", 0.0),
        ("  12 ", 12.0),
        ("inf", None),
        ("nan", None),
        ("", None),
        (None, None),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),  # in the past
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value) == expected


# ---- transport errors ---------------------------------------------------------


@pytest.mark.parametrize(
    ("exc", "message"),
    [
        (httpx.ReadTimeout("timed out"), "accounts: no answer from https://enrich.octolane.com/v1 "
         "within 30 s (read timeout)"),
        (httpx.ConnectTimeout("timed out"), "within 30 s (connect timeout)"),
        (httpx.PoolTimeout("timed out"), "(pool timeout)"),
        (httpx.ConnectError("[Errno 111] Connection refused"), "accounts: could not reach "
         "https://enrich.octolane.com/v1: [Errno 111] Connection refused"),
        (httpx.RemoteProtocolError("Server disconnected"), "Server disconnected"),
        (httpx.ReadError(""), "the connection to https://enrich.octolane.com/v1 was lost before"
         " the answer: ReadError"),
    ],
)  # fmt: skip
def test_transport_failures_become_transport_error(exc: Exception, message: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc

    with pytest.raises(TransportError) as info:
        call(handler)
    assert message in str(info.value)
    assert info.value.__cause__ is exc


# ---- the key stays secret -----------------------------------------------------


def _echo_key(status: int) -> Handler:
    """A hostile server that echoes the key everywhere it can."""

    def handler(request: httpx.Request) -> httpx.Response:
        key = request.headers["X-API-Key"]
        if status == 200:
            return httpx.Response(200, text=f"<html>your key {key} is fine</html>")
        body = error_body(status, f"Invalid key {key}", {"X-API-Key": f"{key} is unknown"})
        return httpx.Response(status, json=body, headers={"Retry-After": "1"})

    return handler


def _raise_with_key(exc_type: type[httpx.HTTPError]) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc_type(f"failed while sending {request.headers['X-API-Key']}")

    return handler


SECRET_PATHS: list[Handler] = [
    *(_echo_key(status) for status in (200, 400, 401, 403, 404, 413, 429, 500, 503, 418)),
    answer(502, f"proxy error for {KEY}"),
    _raise_with_key(httpx.ConnectError),
    _raise_with_key(httpx.ReadTimeout),
    _raise_with_key(httpx.RemoteProtocolError),
]


@pytest.mark.parametrize("handler", SECRET_PATHS)
def test_the_key_never_appears_in_errors_reprs_or_logs(
    handler: Handler, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client = InboundClient(KEY, transport=httpx.MockTransport(handler))

    async def main() -> ImporterError:
        try:
            await client.create_account({"domain": "acme.com"})
        except ImporterError as exc:
            return exc
        finally:
            await client.aclose()
        raise AssertionError("no error raised")

    exc = asyncio.run(main())
    texts = [str(exc), repr(exc), repr(client), repr(vars(client)), repr(exc.args), caplog.text]
    if isinstance(exc, ApiError):
        texts += [exc.message, repr(exc.field_errors)]
    for text in texts:
        assert KEY not in text
    assert "**********" in repr(client)


def test_usage_errors_do_not_echo_the_key() -> None:
    with pytest.raises(UsageError) as info:
        InboundClient(KEY, base_url="http://example.com")
    assert KEY not in str(info.value) and KEY not in repr(info.value)
