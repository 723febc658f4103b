"""Running the sandbox: blocking (:func:`run_sandbox`, the CLI) or in a background
thread (:func:`running_sandbox`, tests and ``--sandbox``).

Both bind the listening socket themselves before uvicorn starts, so the port
(0 = any free one) is known up front and clients can connect at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import uvicorn

from importer.sandbox.app import SandboxApp
from importer.sandbox.config import (
    DEMO_OWNER_EMAIL,
    DEMO_STAGES,
    Behaviour,
    Knobs,
    OrgConfig,
    SandboxConfigError,
    SandboxSettings,
    demo_org,
)
from importer.sandbox.directory import Directory
from importer.sandbox.faults import Faults
from importer.sandbox.store import Store

__all__ = [
    "OrgAccess",
    "RunningSandbox",
    "Sandbox",
    "demo_access",
    "run_sandbox",
    "running_sandbox",
]

_START_TIMEOUT_S = 10.0
_STOP_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class OrgAccess:
    """What a client needs to use one org: its key, first pipeline and that pipeline's stages."""

    org_id: str
    name: str
    api_key: str
    pipeline_id: str | None
    stage_ids: tuple[str, ...]
    stage_names: tuple[str, ...]
    members: tuple[str, ...]


def _access(org: OrgConfig) -> OrgAccess:
    pipeline = org.pipelines[0] if org.pipelines else None
    return OrgAccess(
        org_id=org.id or "",
        name=org.name,
        api_key=org.api_keys[0],
        pipeline_id=pipeline.id if pipeline else None,
        stage_ids=tuple(s.id or "" for s in pipeline.stages) if pipeline else (),
        stage_names=tuple(s.name for s in pipeline.stages) if pipeline else (),
        members=tuple(m.email for m in org.members),
    )


class Sandbox:
    """One sandbox's state and controls: storage, orgs, knobs and behaviour.

    Not serving by itself; :func:`running_sandbox` and :func:`run_sandbox` serve ``.app``.
    """

    def __init__(self, settings: SandboxSettings) -> None:
        self._settings = settings
        orgs = settings.all_orgs()
        if not orgs:
            raise SandboxConfigError(
                "the sandbox has no organisation: add one or keep the demo org"
            )
        self.orgs = [_access(org) for org in orgs]
        self.store = Store(settings.db_path)
        self.directory = Directory(orgs)
        self.faults = Faults(settings.knobs)
        self.app = SandboxApp(
            store=self.store,
            directory=self.directory,
            faults=self.faults,
            behaviour=settings.behaviour,
        )

    @property
    def settings(self) -> SandboxSettings:
        """The settings in force now (knobs and behaviour as last configured)."""
        return self._settings.model_copy(
            update={"knobs": self.faults.knobs, "behaviour": self.app.behaviour}
        )

    @property
    def knobs(self) -> Knobs:
        return self.faults.knobs

    @property
    def behaviour(self) -> Behaviour:
        return self.app.behaviour

    def configure(self, **changes: Any) -> None:
        """Change knobs and/or behaviours while running; unnamed ones keep their values.

        Example:
            >>> sandbox.configure(rate_limit_per_min=60, latency_ms=20, unknown_keys="reject")

        Raises:
            SandboxConfigError: an unknown name (the message lists the valid ones) or value.
        """
        knobs = {k: v for k, v in changes.items() if k in Knobs.model_fields}
        rules = {k: v for k, v in changes.items() if k in Behaviour.model_fields}
        unknown = changes.keys() - knobs.keys() - rules.keys()
        if unknown:
            valid = ", ".join([*Knobs.model_fields, *Behaviour.model_fields])
            raise SandboxConfigError(
                f"cannot configure {', '.join(sorted(unknown))}; valid: {valid}"
            )
        # Validate both before changing either, so a bad value changes nothing.
        behaviour = self.settings.with_overrides(**rules).behaviour if rules else None
        if knobs:
            self.faults.configure(**knobs)
        if behaviour is not None:
            self.app.set_behaviour(behaviour)

    def fail_next(
        self,
        count: int = 1,
        *,
        status: int = 500,
        endpoint: str | None = None,
        after_write: bool = False,
        drop_connection: bool = False,
    ) -> None:
        """Make the next ``count`` API requests (to ``endpoint`` if given) answer ``status``.

        With ``after_write`` the record is stored first (the answer is lost); with
        ``drop_connection`` there is no answer at all, the connection is closed instead.

        Example:
            >>> sandbox.fail_next(2, endpoint="notes", after_write=True, drop_connection=True)
        """
        self.faults.fail_next(
            count,
            status=status,
            endpoint=endpoint,
            after_write=after_write,
            drop_connection=drop_connection,
        )

    def reset_knobs(self) -> None:
        """All knobs off and pending ``fail_next`` rules dropped; data is kept."""
        self.faults.reset()

    def add_org(
        self,
        name: str | None = None,
        *,
        api_key: str | None = None,
        members: tuple[str, ...] = (DEMO_OWNER_EMAIL,),
        pipelines: list[dict[str, Any]] | None = None,
    ) -> OrgAccess:
        """Add an organisation while running (by default like the demo one, with a fresh key).

        Example:
            >>> org = sandbox.add_org("Globex")
            >>> headers = {"X-API-Key": org.api_key}
            >>> httpx.post(f"{sandbox.base_url}/inbound/accounts", headers=headers, json=...)
        """
        name = name or f"Org {uuid.uuid4().hex[:8]}"
        pipelines = pipelines or [{"name": "Sales", "stages": list(DEMO_STAGES)}]
        key = api_key or f"sandbox-key-{uuid.uuid4().hex}"
        try:
            org = OrgConfig.model_validate(
                {"name": name, "api_keys": [key], "members": list(members), "pipelines": pipelines}
            )
            self.directory.add(org)
        except ValueError as exc:  # pydantic's ValidationError is a ValueError
            raise SandboxConfigError(f"cannot add org {name!r}: {exc}") from exc
        access = _access(org)
        self.orgs.append(access)
        return access

    def close(self) -> None:
        self.store.close()


class RunningSandbox:
    """What :func:`running_sandbox` yields: where the sandbox is and how to steer it.

    Attributes:
        url: ``http://127.0.0.1:PORT``; base_url: ``url + "/v1"`` (the client's base URL).
        api_key, pipeline_id, stage_ids, owner_email: the demo org's (first org's) access.
        control: the :class:`Sandbox` (``configure``, ``fail_next``, ``add_org`` ...),
            whose methods are also available here directly.
    """

    def __init__(self, control: Sandbox, host: str, port: int) -> None:
        self.control = control
        shown_host = f"[{host}]" if ":" in host else host
        self.port = port
        self.url = f"http://{shown_host}:{port}"
        self.base_url = f"{self.url}/v1"
        demo = control.orgs[0]
        self.demo = demo
        self.api_key = demo.api_key
        self.pipeline_id = demo.pipeline_id
        self.stage_ids = demo.stage_ids
        self.owner_email = demo.members[0] if demo.members else None

    @property
    def settings(self) -> SandboxSettings:
        return self.control.settings

    def configure(self, **changes: Any) -> None:
        """See :meth:`Sandbox.configure`."""
        self.control.configure(**changes)

    def fail_next(self, count: int = 1, **options: Any) -> None:
        """See :meth:`Sandbox.fail_next`."""
        self.control.fail_next(count, **options)

    def reset_knobs(self) -> None:
        self.control.reset_knobs()

    def add_org(self, name: str | None = None, **options: Any) -> OrgAccess:
        """See :meth:`Sandbox.add_org`."""
        return self.control.add_org(name, **options)

    def record_counts(self) -> dict[str, int]:
        """How many records of each object the demo org holds now (accounts, contacts, ...).

        The same figures as ``GET /_sandbox/stats`` gives under ``records``, read in-process.
        """
        return dict(self.control.store.counts(self.demo.org_id))

    def __repr__(self) -> str:
        return f"<RunningSandbox {self.base_url}>"


def demo_access() -> OrgAccess:
    """The demo org's key, pipeline and stages, as every fresh sandbox has them, without starting one.

    Example:
        >>> demo_access().api_key
        'sandbox-demo-key'
    """
    return _access(demo_org())


def _settings(
    settings: SandboxSettings | None, default_port: int, overrides: dict[str, Any]
) -> SandboxSettings:
    base = settings if settings is not None else SandboxSettings(port=default_port)
    return base.with_overrides(**overrides) if overrides else base


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on accepted sockets whose protocol
    # says TCP, and without it Nagle and delayed ACKs add ~40 ms to every answer.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise SandboxConfigError(f"cannot listen on {host}:{port}: {exc.strerror}") from exc
    return sock


class _Server(uvicorn.Server):
    """uvicorn's server, stoppable from another thread without waiting for its 0.1 s tick."""

    _loop: asyncio.AbstractEventLoop | None = None
    _wake: asyncio.Event | None = None

    async def main_loop(self) -> None:
        self._loop, self._wake = asyncio.get_running_loop(), asyncio.Event()
        counter = 0
        while not await self.on_tick(counter):
            counter = (counter + 1) % 864_000
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), 0.1)

    def stop(self) -> None:
        """Ask the server to shut down (thread-safe)."""
        self.should_exit = True
        loop, wake = self._loop, self._wake
        if loop is not None and wake is not None:
            with contextlib.suppress(RuntimeError):  # the loop has already closed
                loop.call_soon_threadsafe(wake.set)


def _server(sandbox: Sandbox, *, log_level: str, access_log: bool, quiet: bool) -> _Server:
    # httptools is a dependency (h11 costs more per request than the sandbox's own work);
    # h11 stays the fallback where it is not installed. uvloop comes with the `fast` extra.
    fast_http = importlib.util.find_spec("httptools") is not None
    fast_loop = importlib.util.find_spec("uvloop") is not None
    config = uvicorn.Config(
        sandbox.app.asgi,
        http="httptools" if fast_http else "h11",
        loop="uvloop" if fast_loop else "asyncio",
        lifespan="off",
        access_log=access_log,
        log_level=log_level,
        # In-process: leave the host program's logging configuration alone.
        log_config=None if quiet else uvicorn.config.LOGGING_CONFIG,
        server_header=False,
        # Nothing here reads the client's address or scheme, so no proxy headers to apply.
        proxy_headers=False,
        timeout_graceful_shutdown=1,
    )
    return _Server(config)


@contextmanager
def running_sandbox(
    settings: SandboxSettings | None = None, /, **overrides: Any
) -> Iterator[RunningSandbox]:
    """Serve a sandbox on a free loopback port in a background thread.

    ``overrides`` are any setting, knob or behaviour name (``latency_ms=5``,
    ``db_path="s.db"``, ``unknown_keys="reject"``). Without settings the port is 0 (free).

    Example:
        >>> with running_sandbox(rate_limit_per_min=600) as sandbox:
        ...     httpx.post(f"{sandbox.base_url}/inbound/accounts",
        ...                headers={"X-API-Key": sandbox.api_key}, json={"domain": "acme.com"})

    Raises:
        SandboxConfigError: bad settings, or the port cannot be bound.
    """
    resolved = _settings(settings, 0, overrides)
    sandbox = Sandbox(resolved)
    try:
        sock = _bind(resolved.host, resolved.port)
    except SandboxConfigError:
        sandbox.close()
        raise
    server = _server(sandbox, log_level="warning", access_log=resolved.access_log, quiet=True)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="octolane-sandbox", daemon=True
    )
    try:
        port = sock.getsockname()[1]
        thread.start()
        deadline = time.monotonic() + _START_TIMEOUT_S
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise SandboxConfigError(f"the sandbox on {resolved.host}:{port} did not start")
            time.sleep(0.001)
        yield RunningSandbox(sandbox, resolved.host, port)
    finally:
        server.stop()
        if thread.is_alive():
            thread.join(_STOP_TIMEOUT_S)
        sock.close()
        sandbox.close()


def run_sandbox(
    settings: SandboxSettings | None = None,
    /,
    *,
    on_ready: Callable[[RunningSandbox], None] | None = None,
    **overrides: Any,
) -> None:
    """Serve a sandbox in this thread until Ctrl+C or SIGTERM (``octolane-import sandbox``).

    ``on_ready`` is called once the socket listens, with the same object
    :func:`running_sandbox` yields (e.g. to print the URL and demo key).
    """
    resolved = _settings(settings, 8787, overrides)
    sandbox = Sandbox(resolved)
    try:
        sock = _bind(resolved.host, resolved.port)
        running = RunningSandbox(sandbox, resolved.host, sock.getsockname()[1])
        log_level = "info" if resolved.access_log else "warning"
        server = _server(sandbox, log_level=log_level, access_log=resolved.access_log, quiet=False)
        if on_ready is not None:
            sock.listen(2048)  # accept connections (queued) from the moment we announce the URL
            on_ready(running)
        try:
            server.run(sockets=[sock])
        finally:
            sock.close()
    finally:
        sandbox.close()
