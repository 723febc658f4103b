""":func:`send_plan`: one record a request, or batches for a bulk client.

The one-record sender is :func:`importer.send.runner.send_plan`; a client with
``send_batch`` (:class:`~importer.send.public.PublicClient`) gets
:class:`~importer.send.bulk.BulkRun`, which sends up to its ``batch_size`` records a
request with the same ordering, pacing, retries and outcomes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from importer.plan import ImportPlan
from importer.send import runner
from importer.send.bulk import BulkRun
from importer.send.runner import SendReport

if TYPE_CHECKING:
    from importer.send.client import OctolaneClient

__all__ = ["send_plan"]


async def send_plan(plan: ImportPlan, client: OctolaneClient, **options: Any) -> SendReport:
    """Send every request of ``plan`` (see :func:`importer.send.runner.send_plan` for the
    options): in batches when ``client`` sends batches."""
    if callable(getattr(client, "send_batch", None)):
        options.setdefault("run_type", BulkRun)
    return await runner.send_plan(plan, client, **options)
