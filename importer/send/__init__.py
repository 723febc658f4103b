"""Send: the clients for the two targets (Inbound, public with bulk requests), the rate
limiter, and the concurrent runner with retries.

The names load on first use: the clients bring httpx, which a dry run never needs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from importer.send.client import InboundClient, OctolaneClient, check_base_url
    from importer.send.dispatch import send_plan
    from importer.send.limiter import RateLimiter
    from importer.send.public import PublicClient
    from importer.send.runner import RequestOutcome, RetryPolicy, SendReport

_WHERE = {
    "InboundClient": "client",
    "OctolaneClient": "client",
    "PublicClient": "public",
    "RateLimiter": "limiter",
    "RequestOutcome": "runner",
    "RetryPolicy": "runner",
    "SendReport": "runner",
    "check_base_url": "client",
    "send_plan": "dispatch",
}

__all__ = [
    "InboundClient",
    "OctolaneClient",
    "PublicClient",
    "RateLimiter",
    "RequestOutcome",
    "RetryPolicy",
    "SendReport",
    "check_base_url",
    "send_plan",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


def __dir__() -> list[str]:
    return __all__
