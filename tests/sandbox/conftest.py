"""Fixtures for the sandbox tests: everything goes through real HTTP on loopback.

One sandbox serves the whole session; each test gets a fresh organisation (own
key, pipeline, data), which isolates tests without restarting the server.
Tests that turn knobs or behaviours start their own sandbox.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import httpx
import pytest
from sandbox_http import client_for

from importer.sandbox import OrgAccess, RunningSandbox, running_sandbox


@pytest.fixture(scope="session")
def sandbox() -> Iterator[RunningSandbox]:
    with running_sandbox() as running:
        yield running


@pytest.fixture
def org(sandbox: RunningSandbox) -> OrgAccess:
    return sandbox.add_org()


@pytest.fixture
def api(sandbox: RunningSandbox, org: OrgAccess) -> Iterator[httpx.Client]:
    with client_for(sandbox, org.api_key) as client:
        yield client


@pytest.fixture
def start_sandbox() -> Iterator[Callable[..., RunningSandbox]]:
    """Start a dedicated sandbox with settings; stopped when the test ends."""
    with ExitStack() as stack:

        def start(**settings: Any) -> RunningSandbox:
            return stack.enter_context(running_sandbox(**settings))

        yield start


@pytest.fixture
def own(start_sandbox: Callable[..., RunningSandbox]) -> Callable[..., tuple]:
    """``sandbox, client = own(**settings)``: a dedicated sandbox and a client for its demo org."""
    with ExitStack() as stack:

        def make(**settings: Any) -> tuple[RunningSandbox, httpx.Client]:
            running = start_sandbox(**settings)
            return running, stack.enter_context(client_for(running))

        yield make
