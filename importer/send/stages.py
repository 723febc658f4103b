"""A pipeline's stages, read from Octolane's public API (``GET /v1/pipelines/{id}/stages``).

The one read a run makes before the file is read: stage names in a mapping are
resolved against it. The key travels in the ``x-api-key`` header only; no message
here holds it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from importer.errors import UsageError
from importer.map.stages import PipelineStage
from importer.settings import Settings

if TYPE_CHECKING:
    import httpx

__all__ = ["StagesUnavailable", "fetch_stages"]


class StagesUnavailable(Exception):
    """The stages could not be read; ``str(exc)`` says why, in a few words."""


def fetch_stages(
    settings: Settings, pipeline_id: str, *, transport: httpx.BaseTransport | None = None
) -> list[PipelineStage]:
    """The pipeline's active stages in order.

    Raises:
        StagesUnavailable: no key, the key may not read the public API, or the API
            cannot be reached or answers oddly.
        UsageError: the pipeline is not one of the key's organisation (404).
    """
    import httpx  # here: a run that reads no stages never loads it

    from importer.send.client import check_api_key, check_base_url

    if settings.api_key is None:
        raise StagesUnavailable("no API key")
    key = check_api_key(settings.api_key)  # the same checks as sending: the key travels here too
    root = check_base_url(settings.public_api_url)
    url = f"{root}/v1/pipelines/{pipeline_id}/stages"
    host = httpx.URL(url).host
    headers = {"x-api-key": key.get_secret_value(), "accept": "application/json"}
    try:
        with httpx.Client(timeout=settings.timeout_s, transport=transport) as client:
            response = client.get(url, headers=headers)
    except httpx.HTTPError as exc:
        raise StagesUnavailable(f"{host} could not be reached: {type(exc).__name__}") from None
    if response.status_code in (401, 403):
        raise StagesUnavailable(
            f"{host} answered {response.status_code}: the key may not read the public API"
        )
    if response.status_code == 404:
        raise UsageError(
            f"pipeline {pipeline_id} was not found at {host}: check --pipeline-id"
            " (`octolane-import stages` with no pipeline lists the pipelines)"
        )
    if response.status_code != 200:
        raise StagesUnavailable(f"{host} answered {response.status_code}")
    try:
        items: Any = response.json()["data"]["stages"]
        stages = [
            PipelineStage(str(item["stage_id"]), str(item["label"]), int(item["stage_order"]))
            for item in items
        ]
    except (ValueError, KeyError, TypeError):
        raise StagesUnavailable(f"{host} answered with no stage list") from None
    return sorted(stages, key=lambda stage: stage.order)
