"""Where a real run sends: Octolane itself, or a client the caller hands in.

A :class:`Target` is checked before the file is read (a missing key fails
fast) and connected only when sending starts, so a target that needs starting
(the CLI's in-process sandbox) starts after reading, when a forked reader is done.

Example:
    >>> target = choose_target(Settings(api_key="k"))
    >>> type(target).__name__
    'OctolaneTarget'
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from importer.errors import UsageError
from importer.map.stages import PipelineStage
from importer.send.stages import fetch_stages
from importer.settings import Settings

if TYPE_CHECKING:  # the clients load httpx: imported when a run connects
    from importer.send.client import OctolaneClient

__all__ = ["ClientTarget", "OctolaneTarget", "Target", "choose_target"]


class Target(Protocol):
    """What a run needs from where it sends."""

    @property
    def settings(self) -> Settings:
        """Concurrency, rate and timeout for sending (and the key and URL, where used)."""
        ...

    @property
    def default_pipeline_id(self) -> str | None:
        """A pipeline the target offers when neither the job, the mapping nor the
        environment names one (``None``: it offers none)."""
        ...

    def check(self) -> None:
        """Raise :class:`~importer.errors.UsageError` if a real run cannot send here."""
        ...

    def stages(self, pipeline_id: str) -> list[PipelineStage]:
        """The pipeline's stages in order.

        Raises:
            StagesUnavailable: they cannot be read here (the message says why).
        """
        ...

    def connect(self) -> AbstractAsyncContextManager[OctolaneClient]:
        """An open client for the run's requests, closed (or handed back) at the end."""
        ...


@dataclass(frozen=True, slots=True)
class OctolaneTarget:
    """Octolane at ``settings.base_url`` with ``settings.api_key``: its Inbound API, or
    with ``settings.api == "public"`` its public API at ``settings.public_api_url``."""

    settings: Settings
    default_pipeline_id: str | None = None

    def check(self) -> None:
        from importer.send.client import check_base_url

        if self.settings.api_key is None:
            raise UsageError(
                "no API key: set OCTOLANE_API_KEY or pass --api-key-file; or try --sandbox or --dry-run"
            )
        check_base_url(self.settings.base_url)

    def stages(self, pipeline_id: str) -> list[PipelineStage]:
        return fetch_stages(self.settings, pipeline_id)

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[OctolaneClient]:
        from importer.send.client import InboundClient
        from importer.send.public import PublicClient

        self.check()
        assert self.settings.api_key is not None  # check() said so
        settings = self.settings
        if settings.api == "public":
            async with PublicClient(
                self.settings.api_key,
                base_url=settings.public_api_url,
                batch_size=settings.batch_size,
                timeout_s=settings.timeout_s,
                max_connections=settings.concurrency,
            ) as public:
                yield public
            return
        async with InboundClient(
            self.settings.api_key,
            base_url=self.settings.base_url,
            timeout_s=self.settings.timeout_s,
            max_connections=self.settings.concurrency,
            public_url=self.settings.public_api_url,
        ) as client:
            yield client


@dataclass(frozen=True, slots=True)
class ClientTarget:
    """A client the caller made (another target, or a test double); the caller closes it."""

    client: OctolaneClient
    settings: Settings = field(default_factory=Settings)
    default_pipeline_id: str | None = None

    def check(self) -> None:
        pass

    def stages(self, pipeline_id: str) -> list[PipelineStage]:
        return fetch_stages(self.settings, pipeline_id)  # with the settings' key, if any

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[OctolaneClient]:
        yield self.client


def choose_target(settings: Settings | None = None, client: OctolaneClient | None = None) -> Target:
    """An injected client if given, else Octolane with ``settings`` (default: the environment)."""
    settings = settings or Settings.from_env()
    if client is not None:
        return ClientTarget(client, settings)
    return OctolaneTarget(settings)
