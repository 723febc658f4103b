"""One settings object for a run: where to send, with which key, how fast.

Values come from keyword arguments (the CLI's flags) and fall back to the
environment: ``OCTOLANE_API_KEY``, ``OCTOLANE_BASE_URL``,
``OCTOLANE_PIPELINE_ID``, ``OCTOLANE_API``. The key is a :class:`~pydantic.SecretStr`: it
prints as ``**********`` and is only unwrapped by the client, for the
``X-API-Key`` header.
"""

from __future__ import annotations

import os
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from importer.errors import UsageError

__all__ = ["DEFAULT_API_URL", "DEFAULT_BASE_URL", "Settings"]

#: Octolane's Inbound API (API.md §1); ``--base-url`` / ``OCTOLANE_BASE_URL`` point elsewhere.
DEFAULT_BASE_URL = "https://enrich.octolane.com/v1"
#: Octolane's public API (API.md §2), read for a pipeline's stages; ``OCTOLANE_API_URL``.
DEFAULT_API_URL = "https://api.octolane.com"

ENV = {
    "api_key": "OCTOLANE_API_KEY",
    "base_url": "OCTOLANE_BASE_URL",
    "api_url": "OCTOLANE_API_URL",
    "pipeline_id": "OCTOLANE_PIPELINE_ID",
    "api": "OCTOLANE_API",
}


class Settings(BaseModel):
    """How a run talks to Octolane.

    Example:
        >>> Settings(api_key="k", concurrency=4).concurrency
        4
    """

    model_config = ConfigDict(extra="forbid", frozen=True)
    api_key: SecretStr | None = None
    base_url: str = DEFAULT_BASE_URL
    #: The public API's root; None: Octolane's, or the base URL's origin when the base URL
    #: is not Octolane's (a sandbox or a proxy serves both).
    api_url: str | None = None
    pipeline_id: str | None = None  # checked when a mapping with deals needs it
    concurrency: int = Field(default=10, ge=1, le=256)
    rate_per_min: float | None = Field(default=None, gt=0)
    #: The adaptive rate's floor: it never goes lower, whatever the server answers.
    min_rate_per_min: float = Field(default=30.0, gt=0)
    timeout_s: float = Field(default=30.0, gt=0)
    #: Where records go: ``inbound`` (one record a request, API.md §1) or ``public``
    #: (``https://api.octolane.com/v1``: bulk requests of up to ``batch_size`` records).
    api: Literal["inbound", "public"] = "inbound"
    #: Records per bulk request on the public API (its limit is 100).
    batch_size: int = Field(default=100, ge=1, le=100)
    #: The public API's reads (lookups of what a batch did) per minute: its documented
    #: quota is 300 a minute, shared by every read endpoint (API.md §2.7).
    read_rate_per_min: float = Field(default=300.0, gt=0)

    @property
    def public_api_url(self) -> str:
        """Where the public API's read endpoints are (``/v1/pipelines/...`` below it)."""
        if self.api_url:
            return self.api_url.rstrip("/")
        if self.base_url.rstrip("/") == DEFAULT_BASE_URL:
            return DEFAULT_API_URL
        parts = urlsplit(self.base_url)
        return f"{parts.scheme}://{parts.netloc}"

    @classmethod
    def from_env(cls, **given: Any) -> Settings:
        """Build settings from keyword values, falling back to ``OCTOLANE_*`` variables."""
        values = {k: v for k, v in given.items() if v is not None}
        for name, variable in ENV.items():
            if name not in values and os.environ.get(variable):
                values[name] = os.environ[variable]
        try:
            return cls(**values)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
                for e in exc.errors(include_url=False)
            )
            raise UsageError(f"invalid settings: {problems}") from exc
