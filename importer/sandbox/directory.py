"""The running sandbox's organisations: which key belongs to which org, its pipelines,
stages and members.

Kept in memory (not in SQLite) because it comes from settings on every start;
the stored records only carry the org and pipeline ids, which are stable.
Orgs may be added while the server runs (from another thread): each entry is
built completely before one dict assignment publishes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from importer.sandbox.config import OrgConfig, member_id

__all__ = ["Directory", "OrgInfo", "PipelineInfo"]


@dataclass(frozen=True, slots=True)
class PipelineInfo:
    """A pipeline with its stages in order; ``stage_ids[0]`` is the default stage."""

    id: str
    name: str
    stage_ids: tuple[str, ...]
    stage_names: tuple[str, ...]

    def stage_name(self, stage_id: str | None) -> str | None:
        if stage_id in self.stage_ids:
            return self.stage_names[self.stage_ids.index(stage_id)]
        return None


@dataclass(frozen=True, slots=True)
class OrgInfo:
    """An organisation as the request handlers see it."""

    id: str
    name: str
    member_emails: frozenset[str]
    pipelines: dict[str, PipelineInfo]
    #: member id → e-mail: what a public ``related_objects.owner_id`` names.
    member_ids: dict[str, str]

    def describe(self) -> dict[str, Any]:
        """JSON-ready description for ``GET /_sandbox/org``."""
        return {
            "org_id": self.id,
            "name": self.name,
            "members": sorted(self.member_emails),
            "member_ids": {email: member for member, email in sorted(self.member_ids.items())},
            "pipelines": [
                {
                    "pipeline_id": p.id,
                    "name": p.name,
                    "stages": [
                        {"stage_id": sid, "name": name, "stage_order": order}
                        for order, (sid, name) in enumerate(
                            zip(p.stage_ids, p.stage_names, strict=True), start=1
                        )
                    ],
                }
                for p in self.pipelines.values()
            ],
        }


def _org_info(org: OrgConfig) -> OrgInfo:
    pipelines = {
        p.id: PipelineInfo(
            id=p.id,
            name=p.name,
            stage_ids=tuple(s.id for s in p.stages if s.id),
            stage_names=tuple(s.name for s in p.stages),
        )
        for p in org.pipelines
        if p.id
    }
    members = frozenset(m.email for m in org.members)
    ids = {member_id(org, email): email for email in members}
    return OrgInfo(
        id=org.id or "", name=org.name, member_emails=members, pipelines=pipelines, member_ids=ids
    )


class Directory:
    """API key → organisation, and org id → organisation."""

    def __init__(self, orgs: list[OrgConfig]) -> None:
        self._by_key: dict[str, OrgInfo] = {}
        self._by_id: dict[str, OrgInfo] = {}
        for org in orgs:
            self.add(org)

    def add(self, org: OrgConfig) -> OrgInfo:
        """Register (or replace) an org and its keys.

        Raises:
            ValueError: one of its keys already belongs to another org.
        """
        info = _org_info(org)
        for key in org.api_keys:
            owner = self._by_key.get(key)
            if owner is not None and owner.id != info.id:
                raise ValueError(f"API key {key[:4]}… already belongs to org {owner.name!r}")
        self._by_id[info.id] = info
        for key in org.api_keys:
            self._by_key[key] = info
        return info

    def org_for_key(self, api_key: str | None) -> OrgInfo | None:
        return self._by_key.get(api_key) if api_key else None

    def org(self, org_id: str) -> OrgInfo | None:
        return self._by_id.get(org_id)
