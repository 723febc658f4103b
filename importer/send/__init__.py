"""Send: the client for a target, the rate limiter, and the concurrent runner with retries."""

from importer.send.client import InboundClient, OctolaneClient, check_base_url
from importer.send.limiter import RateLimiter
from importer.send.runner import RequestOutcome, RetryPolicy, SendReport, send_plan

__all__ = [
    "InboundClient",
    "OctolaneClient",
    "RateLimiter",
    "RequestOutcome",
    "RetryPolicy",
    "SendReport",
    "check_base_url",
    "send_plan",
]
