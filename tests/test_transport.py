"""The client on the network (aiohttp) against real sockets that misbehave.

Whether a failed request may have reached the server decides whether a note is sent
again: ``TransportError.delivered`` must be True for anything that fails once the
connection is made (the server closed it, reset it, answered half or not at all in
time, answered something that is not HTTP), and may be False only where no connection
was made (refused, unreachable, connect timeout, a certificate that does not verify).
Each server here is a plain asyncio socket server that does one of those things.
"""

from __future__ import annotations

import asyncio
import gzip
import shutil
import socket
import ssl
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import stamina

from importer.errors import TransportError
from importer.plan import ImportPlan, PlannedRequest
from importer.send.client import InboundClient
from importer.send.limiter import RateLimiter
from importer.send.runner import RetryPolicy, send_plan

KEY = "sk_test_wire-Key-0a1b2c"
NOTE = {"note": {"title": "Call", "content": "Went well"}, "account_domains": ["acme.com"]}
OK_BODY = b'{"success":true,"data":{"note_id":"n1","title":"Call"}}'
OK = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (
    len(OK_BODY),
    OK_BODY,
)

Behaviour = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def read_request(reader: asyncio.StreamReader) -> bytes:
    """One whole request: the head, then Content-Length bytes of body."""
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return head + await reader.readexactly(length)


class Server:
    """A socket server on loopback that answers every connection with ``behaviour``."""

    def __init__(self, behaviour: Behaviour) -> None:
        self.behaviour = behaviour
        self.requests: list[bytes] = []
        self.connections = 0
        self.handlers: set[asyncio.Task[Any]] = set()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        task = asyncio.current_task()
        assert task is not None
        self.handlers.add(task)
        try:
            await self.behaviour(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()


@asynccontextmanager
async def serving(
    behaviour: Behaviour, tls: ssl.SSLContext | None = None
) -> AsyncIterator[tuple[Server, str]]:
    server = Server(behaviour)
    listener = await asyncio.start_server(server.handle, "127.0.0.1", 0, ssl=tls)
    port = listener.sockets[0].getsockname()[1]
    try:
        yield server, f"{'https' if tls else 'http'}://127.0.0.1:{port}/v1"
    finally:
        listener.close()
        # Each handler ends once its client has closed the connection.
        pending = [task for task in server.handlers if task is not asyncio.current_task()]
        if pending:
            await asyncio.wait(pending, timeout=6)


def recorded(server: Server, then: Behaviour) -> Behaviour:
    async def behaviour(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        server.requests.append(await read_request(reader))
        await then(reader, writer)

    return behaviour


async def close(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Close without a byte of answer."""


async def reset(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Close with a TCP reset (SO_LINGER 0), as a crashed proxy does."""
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    writer.transport.abort()


def writes(data: bytes) -> Behaviour:
    async def behaviour(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(data)
        await writer.drain()

    return behaviour


async def slow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """No answer: wait until the client gives up and closes (or 5 s)."""
    await asyncio.wait_for(reader.read(), 5)


async def send_note(base_url: str, **options: Any) -> Any:
    async with InboundClient(KEY, base_url=base_url, **options) as client:
        return await client.create_note(NOTE)


def failure(base_url_or_behaviour: Behaviour, *, read_first: bool = True, **options: Any) -> Any:
    """(the TransportError, the server) of one note sent to a server behaving so."""

    async def main() -> tuple[TransportError, Server]:
        holder: list[Server] = []

        async def behaviour(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            then = base_url_or_behaviour
            await (recorded(holder[0], then) if read_first else then)(reader, writer)

        async with serving(behaviour) as (server, base_url):
            holder.append(server)
            with pytest.raises(TransportError) as info:
                await send_note(base_url, **options)
            return info.value, server

    return asyncio.run(main())


# ---- after the connection is made: delivered ---------------------------------------


@pytest.mark.parametrize(
    ("behaviour", "read_first", "message"),
    [
        (close, False, "was lost before the answer"),  # accepted, closed before reading
        (close, True, "was lost before the answer"),  # read the request, closed
        (reset, True, "was lost before the answer"),  # read it, reset the connection
        (writes(b"HTTP/1.1 2"), True, "was lost before the answer"),  # half a status line
        (
            writes(b'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{"success": tr'),
            True,
            "was lost before the answer",
        ),  # half a body
        (writes(b"SSH-2.0-OpenSSH_9.6\r\n\r\n"), True, "was lost before the answer"),  # not HTTP
        (slow, True, "no answer from http://127.0.0.1"),  # no answer in time
    ],
    ids=["accept-close", "read-close", "reset", "half-status", "half-body", "not-http", "slow"],
)
def test_a_failure_after_connecting_is_delivered(
    behaviour: Behaviour, read_first: bool, message: str
) -> None:
    error, server = failure(behaviour, read_first=read_first, timeout_s=0.5)
    assert error.delivered is True
    assert message in str(error)
    assert server.connections == 1  # and aiohttp did not send the POST again itself
    assert len(server.requests) == int(read_first)
    if behaviour is slow:
        assert "(read timeout)" in str(error)


def test_an_answer_that_echoes_the_key_is_scrubbed() -> None:
    error, _ = failure(lambda r, w: writes(f"HTTP/1.1 {KEY}\r\n\r\n".encode())(r, w))
    assert error.delivered is True
    assert KEY not in str(error) and KEY not in repr(error)


def test_a_gzipped_answer_is_read() -> None:
    body = gzip.compress(b'{"success":true,"data":{"note_id":"n7","title":"Call"}}')
    head = f"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: {len(body)}\r\n\r\n"

    async def main() -> Any:
        holder: list[Server] = []

        async def behaviour(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await recorded(holder[0], writes(head.encode() + body))(reader, writer)

        async with serving(behaviour) as (server, base_url):
            holder.append(server)
            created = await send_note(base_url)
            return created, server.requests[0]

    created, request = asyncio.run(main())
    assert created.note_id == "n7"
    assert b"accept-encoding: gzip, deflate" in request.lower()


def test_a_body_that_does_not_decode_is_delivered() -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 9\r\n\r\n"
    error, _ = failure(writes(head + b"not gzip!"))
    assert error.delivered is True


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_a_proxy_from_the_environment_is_used_with_its_credentials(
    monkeypatch: pytest.MonkeyPatch, scheme: str
) -> None:
    """HTTP(S)_PROXY with user:password@, as httpx honoured it: a plain-http request goes to
    the proxy whole (absolute URL), an https one asks it for a tunnel (CONNECT); both carry
    the proxy's credentials, and neither goes straight to the server named in the URL."""
    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)

    async def main() -> bytes:
        holder: list[Server] = []

        async def behaviour(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            # The plain request is answered; the tunnel is refused (closed), which is enough.
            then = writes(OK) if scheme == "http" else close
            await recorded(holder[0], then)(reader, writer)

        async with serving(behaviour) as (server, proxy_url):
            holder.append(server)
            proxy = proxy_url.removesuffix("/v1").replace("http://", "http://jo:s3cret@")
            monkeypatch.setenv(f"{scheme.upper()}_PROXY", proxy)
            with socket.socket() as sock:  # a port nothing listens on: only the proxy answers
                sock.bind(("127.0.0.1", 0))
                port = sock.getsockname()[1]
            try:
                await send_note(f"{scheme}://127.0.0.1:{port}/v1")
            except TransportError:
                assert scheme == "https"
            return server.requests[0]

    request = asyncio.run(main())
    first = b"POST http://127.0.0.1:" if scheme == "http" else b"CONNECT 127.0.0.1:"
    assert request.startswith(first)
    head = dict(
        (name.strip().lower(), value.strip())
        for name, _, value in (line.partition(b":") for line in request.split(b"\r\n")[1:])
    )
    assert head[b"proxy-authorization"] == b"Basic am86czNjcmV0"  # jo:s3cret
    assert KEY.encode() not in request or scheme == "http"  # the tunnel's request: no key


# ---- no connection: not delivered --------------------------------------------------


def test_a_refused_connection_is_not_delivered() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(TransportError) as info:
        asyncio.run(send_note(f"http://127.0.0.1:{port}/v1"))
    assert info.value.delivered is False
    assert "could not reach http://127.0.0.1" in str(info.value)


def test_a_connect_timeout_is_not_delivered() -> None:
    """A listener whose accept queue is full drops further SYNs: the connect hangs."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    try:
        for _ in range(4):  # fill the accept queue (never accepted)
            filler = socket.socket()
            filler.setblocking(False)
            filler.connect_ex(("127.0.0.1", port))
            fillers.append(filler)
        with pytest.raises(TransportError) as info:
            asyncio.run(send_note(f"http://127.0.0.1:{port}/v1", timeout_s=0.5))
    finally:
        for filler in fillers:
            filler.close()
        listener.close()
    assert info.value.delivered is False
    assert "(connect timeout)" in str(info.value)


def self_signed(folder: Path) -> ssl.SSLContext:
    if shutil.which("openssl") is None:
        pytest.skip("no openssl command to make a certificate with")
    key, cert = folder / "key.pem", folder / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


def test_https_verifies_the_certificate(tmp_path: Path) -> None:
    """A certificate no authority signed: refused before the request is written."""
    tls = self_signed(tmp_path)

    async def main() -> tuple[TransportError, Server]:
        holder: list[Server] = []

        async def behaviour(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await recorded(holder[0], writes(OK))(reader, writer)

        async with serving(behaviour, tls) as (server, base_url):
            holder.append(server)
            with pytest.raises(TransportError) as info:
                await send_note(base_url)
            return info.value, server

    error, server = asyncio.run(main())
    assert error.delivered is False
    assert "certificate" in str(error).lower()
    assert server.requests == []


# ---- what sending does with it -----------------------------------------------------


def test_a_note_whose_answer_is_lost_is_sent_once_and_unknown() -> None:
    """A note the server read and never answered may exist: it is not sent again (a
    repeat could make a second note); an account (found again by domain) is retried."""
    plan = ImportPlan(
        [
            PlannedRequest(key="note:1", endpoint="notes", payload=NOTE, rows=(1,)),
            PlannedRequest(key="account:a", endpoint="accounts", payload={"domain": "a.com"}),
        ]
    )

    async def main() -> tuple[Any, Server]:
        holder: list[Server] = []

        async def behaviour(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await recorded(holder[0], close)(reader, writer)

        async with serving(behaviour) as (server, base_url):
            holder.append(server)
            async with InboundClient(KEY, base_url=base_url) as client:
                report = await send_plan(
                    plan,
                    client,
                    limiter=RateLimiter(concurrency=1, rate_per_min=60_000),
                    retry=RetryPolicy(attempts=3, max_failures_in_a_row=100),
                )
            return report, server

    with stamina.set_testing(True, attempts=1000, cap=True):
        report, server = asyncio.run(main())
    assert report.outcomes["note:1"].status == "unknown"
    assert report.outcomes["note:1"].attempts == 1
    assert report.outcomes["account:a"].attempts == 3
    notes = [r for r in server.requests if b"/inbound/notes" in r]
    assert len(notes) == 1
    assert len(server.requests) == 4
