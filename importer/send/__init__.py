"""Send: the clients for the two targets (Inbound, public with bulk requests), the rate limiter, and the concurrent runner with retries."""

from importer.send.client import InboundClient, OctolaneClient, check_base_url
from importer.send.dispatch import send_plan
from importer.send.limiter import RateLimiter
from importer.send.public import PublicClient
from importer.send.runner import RequestOutcome, RetryPolicy, SendReport

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
