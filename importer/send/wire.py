"""HTTP/1.1 keep-alive connections through aiohttp, answering as httpx does.

:class:`AiohttpConnections` is the network under :class:`~importer.send.client.InboundClient`:
``request()`` returns an ``httpx.Response`` (status, headers, body) and raises the
``httpx`` exception that says what happened, so the client reads answers and failures
one way whatever carries them (an injected ``httpx`` transport in tests, this on the
network). aiohttp costs a quarter of httpx's CPU per request (0.4 against 2 ms on the
benchmark machine: ``benchmarks/bench_client.py``).

Whether the server may have seen the request decides whether a note is sent again, so
the mapping of aiohttp's errors is ours, not an adapter's, and errs on "sent":

* nothing can have been sent, the connection was never made: aiohttp's
  ``ConnectionTimeoutError`` (connect or wait for a free connection) ->
  ``httpx.ConnectTimeout``; ``ClientConnectorError`` (refused, DNS, TLS handshake or
  certificate, proxy unreachable) -> ``httpx.ConnectError``;
* everything else, once the connection is there, may come after bytes of the request
  went out: ``SocketTimeoutError`` and any other timeout -> ``httpx.ReadTimeout``; the
  server closed or reset the connection, or answered something that is not HTTP, or a
  body cut short or that does not decode -> ``httpx.RemoteProtocolError`` /
  ``httpx.ReadError``. aiohttp's own
  ``ServerDisconnectedError`` is one of these, never a connect error.

aiohttp repeats a request on a kept-alive connection that the server closed only for
idempotent methods (GET); a POST is never sent twice by it.
"""

from __future__ import annotations

import asyncio
import base64
import json as jsonlib
import ssl
import urllib.request
from collections.abc import Mapping
from typing import Any, NoReturn

import aiohttp
import httpx
from yarl import URL

__all__ = ["AiohttpConnections", "Answer", "as_httpx_error"]


class AiohttpConnections:
    """Up to ``connections`` keep-alive connections, opened on the first request (an
    aiohttp session belongs to the running event loop).

    Args:
        base_url: relative request paths extend it (it ends with ``/``).
        timeout_s: connect (waiting for a free connection included) and read timeouts.
        connections: the most connections open at once.
        headers: sent with every request.
        tls: the TLS context for https URLs (verification on); None: aiohttp's default,
            which verifies as well.
    """

    #: Seconds an idle connection is kept: under common servers' keep-alive timeouts
    #: (uvicorn 5 s), so a connection the server is about to close is not reused.
    KEEPALIVE_S = 4.0

    def __init__(
        self,
        base_url: str,
        *,
        timeout_s: float,
        connections: int,
        headers: Mapping[str, str],
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.base_url = base_url
        self.timeout_s = timeout_s
        self.connections = connections
        self.headers = dict(headers)
        self.tls = tls
        self._session: aiohttp.ClientSession | None = None
        self._urls: dict[str, tuple[URL, _Proxy]] = {}

    def _open(self) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(
            limit=self.connections,
            limit_per_host=0,
            keepalive_timeout=self.KEEPALIVE_S,
            ssl=self.tls if self.tls is not None else True,
        )
        timeout = aiohttp.ClientTimeout(
            total=None,
            connect=self.timeout_s,
            sock_connect=self.timeout_s,
            sock_read=self.timeout_s,
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            timeout=timeout,
            headers=self.headers,
            # gzip and deflate (all we accept) decoded as the body is read.
            auto_decompress=True,
            # Proxies from HTTP(S)_PROXY / NO_PROXY are looked up once per URL (_url), not
            # by aiohttp in a thread for every request (trust_env: 0.2 ms a request).
            trust_env=False,
            cookie_jar=aiohttp.DummyCookieJar(),
        )
        return self._session

    def _url(self, url: str) -> tuple[URL, _Proxy]:
        """The URL for ``url`` (a path below the base URL, or absolute) and the proxy for
        it from the environment (``HTTPS_PROXY``, ``NO_PROXY`` ...), as httpx reads them."""
        found = self._urls.get(url)
        if found is None:
            absolute = url.startswith(("http://", "https://"))
            target = URL(url if absolute else self.base_url + url.lstrip("/"))
            found = self._urls[url] = (target, _env_proxy(target))
        return found

    async def request(
        self,
        method: str,
        url: str,
        *,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """Send one request; its answer, read whole.

        Raises:
            httpx.ConnectTimeout, httpx.ConnectError: nothing was sent.
            httpx.ReadTimeout, httpx.RemoteProtocolError, httpx.ReadError: the request
                may have reached the server; its answer did not come back whole.
        """
        session = self._session or self._open()
        target, (proxy, proxy_headers) = self._url(url)
        send_headers = dict(headers) if headers else {}
        if proxy_headers is not None and target.scheme == "http":
            # A plain-http request goes to the proxy whole: its credentials go with it (an
            # https one goes through a CONNECT tunnel, which carries proxy_headers).
            send_headers.update(proxy_headers)
            proxy_headers = None
        data = None
        if json is not None:
            # As httpx encodes json=: compact, UTF-8, no NaN.
            data = jsonlib.dumps(
                json, ensure_ascii=False, separators=(",", ":"), allow_nan=False
            ).encode("utf-8")
            send_headers["Content-Type"] = "application/json"
        try:
            async with session.request(
                method,
                target,
                data=data,
                headers=send_headers,
                params=params,
                proxy=proxy,
                proxy_headers=proxy_headers,
                allow_redirects=False,
            ) as answer:
                body = await answer.read()
                reason = (answer.reason or "").encode("ascii", "replace")
                return Answer(answer.status, answer.raw_headers, body, reason)
        except (aiohttp.ClientError, OSError) as exc:
            as_httpx_error(exc)

    async def aclose(self) -> None:
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()


_NO_STREAM = httpx.ByteStream(b"")


class Answer(httpx.Response):
    """An ``httpx.Response`` of a body aiohttp read (and decoded) whole.

    httpx's own ``Response(content=...)`` runs the body through its stream and decoder
    machinery again: 50 µs a response, a tenth of the CPU of a whole request.
    """

    def __init__(self, status: int, headers: Any, body: bytes, reason: bytes = b"") -> None:
        super().__init__(
            status, headers=headers, stream=_NO_STREAM, extensions={"reason_phrase": reason}
        )
        self._body = body

    @property
    def content(self) -> bytes:
        return self._body


_Proxy = tuple[URL | None, dict[str, str] | None]


def _env_proxy(url: URL) -> _Proxy:
    """The proxy the environment names for ``url`` (``HTTPS_PROXY``, ``ALL_PROXY``; none
    for a host in ``NO_PROXY``) and the headers that carry its credentials (aiohttp does
    not read them from the proxy's URL), or (None, None)."""
    host = url.raw_host or ""
    if not host or urllib.request.proxy_bypass(host):
        return None, None
    proxies = urllib.request.getproxies()
    found = proxies.get(url.scheme) or proxies.get("all")
    if not found:
        return None, None
    proxy = URL(found if "://" in found else f"http://{found}")
    if proxy.user is None:
        return proxy, None
    credentials = f"{proxy.user}:{proxy.password or ''}".encode()
    auth = "Basic " + base64.b64encode(credentials).decode("ascii")
    return proxy.with_user(None), {"Proxy-Authorization": auth}


def as_httpx_error(exc: BaseException) -> NoReturn:
    """Raise the ``httpx`` exception for an aiohttp (or socket) error: a connect error
    only where no connection was made, so nothing can have been sent."""
    text = str(exc) or type(exc).__name__
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        raise httpx.ConnectTimeout(text) from exc
    if isinstance(exc, aiohttp.ClientConnectorError):
        raise httpx.ConnectError(text) from exc
    if isinstance(exc, asyncio.TimeoutError):  # SocketTimeoutError and any other
        raise httpx.ReadTimeout(text) from exc
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        raise httpx.RemoteProtocolError(
            "Server disconnected without sending a complete response."
        ) from exc
    if isinstance(exc, OSError):  # ClientOSError: reset or broken while sending or reading
        raise httpx.ReadError(text) from exc
    # A body cut short or that does not decode, an answer that is not HTTP, a closed
    # connection: the request went out.
    raise httpx.RemoteProtocolError(text) from exc
