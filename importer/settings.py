"""One settings object for a run: where to send, with which key, how fast.

Values come from keyword arguments (the CLI's flags) and fall back to the
environment: ``OCTOLANE_API_KEY``, ``OCTOLANE_BASE_URL``,
``OCTOLANE_PIPELINE_ID``. The key is a :class:`~pydantic.SecretStr`: it
prints as ``**********`` and is only unwrapped by the client, for the
``X-API-Key`` header.
"""

from __future__ import annotations

import os
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from importer.errors import UsageError

__all__ = ["DEFAULT_BASE_URL", "Settings"]

#: Octolane's Inbound API (API.md §1); ``--base-url`` / ``OCTOLANE_BASE_URL`` point elsewhere.
DEFAULT_BASE_URL = "https://enrich.octolane.com/v1"

ENV = {
    "api_key": "OCTOLANE_API_KEY",
    "base_url": "OCTOLANE_BASE_URL",
    "pipeline_id": "OCTOLANE_PIPELINE_ID",
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
    pipeline_id: str | None = None  # checked when a mapping with deals needs it
    concurrency: int = Field(default=10, ge=1, le=256)
    rate_per_min: float | None = Field(default=None, gt=0)
    timeout_s: float = Field(default=30.0, gt=0)

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
