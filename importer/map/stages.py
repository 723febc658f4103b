"""Deal stages: the CRM's stage labels → Octolane stage ids, decided before any row is read.

A mapping reads the CRM's stage column into ``opportunity.stage`` and says where
each label goes in its ``stages:`` table, by Octolane stage id or by stage name::

    opportunity:
      stage: Deal Stage
    stages:
      Appointment Scheduled: Lead
      Closed Won: 3f1c5a8e-....
    options:
      unmapped_stages: error      # or: first, or a stage name or id

A label not in the table goes to the pipeline's stage of the same name, compared
without case or extra spaces ("Closed Won" ↔ "closed  won"; punctuation counts). A
label with neither, or an empty cell (``"": Lead`` in the table sends those), is
handled as ``options.unmapped_stages`` says: ``error`` (default) leaves its rows'
deals out (``partial``); ``first`` sends the deal without a stage, so Octolane puts it in
the pipeline's first stage, with a warning on each row; a stage name or id sends
it there, with a warning on each row.

Names need the pipeline's stages (``GET /v1/pipelines/{id}/stages`` on the public
API, fetched by the run). When they cannot be read, ids still work, and a name in
the mapping is an error that says why. This module does no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from importer.api.models import UUID_PATTERN
from importer.errors import MappingError

__all__ = ["PipelineStage", "StageTable", "build_stage_table", "propose_stages", "stage_key"]

_UUID = re.compile(UUID_PATTERN)


@dataclass(frozen=True, slots=True)
class PipelineStage:
    """One stage of an Octolane pipeline, as ``GET /v1/pipelines/{id}/stages`` lists it."""

    id: str
    label: str
    order: int


def stage_key(label: str) -> str:
    """A label compared without case or extra spaces (punctuation and emoji count).

    >>> stage_key("Closed Won") == stage_key(" closed  won "), stage_key("Won 🎉") == stage_key("Won")
    (True, False)
    """
    return " ".join(label.split()).casefold()


@dataclass(frozen=True, slots=True)
class StageOutcome:
    """Where one source label goes: a stage id (None: the pipeline's first stage), the
    stage's name as shown, and a warning or error for its rows."""

    stage_id: str | None
    shown: str
    warning: str | None = None
    error: str | None = None


@dataclass(slots=True)
class StageTable:
    """Label → outcome, for every label a run meets; built once per run."""

    table: dict[str, StageOutcome]
    unmapped: StageOutcome | None  # None: an unmapped label is an error
    names_known: bool
    _met: dict[str, StageOutcome] = field(default_factory=dict)
    by_key: dict[str, PipelineStage] = field(default_factory=dict)
    by_id: dict[str, PipelineStage] = field(default_factory=dict)

    def resolve(self, label: str) -> StageOutcome:
        """The outcome for ``label`` (memoised: a column repeats a handful of labels)."""
        met = self._met.get(label)
        if met is None:
            met = self._met[label] = self._resolve(label)
        return met

    def _resolve(self, label: str) -> StageOutcome:
        key = stage_key(label)
        if key in self.table:
            return self.table[key]
        stage = self.by_key.get(key)
        if stage is not None:
            return StageOutcome(stage.id, stage.label)
        if _UUID.fullmatch(label.strip()):
            known = self.by_id.get(label.strip().lower())
            if known is not None or not self.names_known:
                return StageOutcome(label.strip().lower(), known.label if known else label.strip())
            return StageOutcome(None, "—", error=f"{label!r} is not a stage id of the pipeline")
        said = f"{label!r} has no Octolane stage" if key else "the stage cell is empty"
        if self.unmapped is None:
            why = "" if self.names_known else " (the stages of the pipeline were not read)"
            return StageOutcome(
                None,
                "—",
                error=f"{said}{why}: add {'it' if key else _EMPTY} to the stages: table of"
                " the mapping (`octolane-import stages` lists them) or set"
                " options.unmapped_stages",
            )
        to = self.unmapped
        where = "the pipeline's first stage" if to.stage_id is None else f"stage {to.shown!r}"
        return StageOutcome(
            to.stage_id,
            to.shown,
            warning=f"opportunity.stage: {said + ' of its own' if key else said}: the deal"
            f" goes to {where} (options.unmapped_stages)",
        )


_EMPTY = '""'  # (an empty label, as the stages: table writes it)


def build_stage_table(
    stages_table: Mapping[str, str],
    unmapped: str,
    pipeline: Sequence[PipelineStage] | None,
    *,
    source: str = "<mapping>",
    unavailable: str = "",
) -> StageTable:
    """The run's stage table from the mapping's ``stages:`` and the pipeline's stages.

    ``pipeline`` is None when the stages could not be read (``unavailable`` says why).

    Raises:
        MappingError: a stage name that is not a stage of the pipeline (the message lists
            them), or a name where the pipeline's stages could not be read.
    """
    by_key = {stage_key(s.label): s for s in pipeline or ()}
    by_id = {s.id.lower(): s for s in pipeline or ()}

    def target(where: str, value: str) -> StageOutcome:
        text = str(value).strip()
        if _UUID.fullmatch(text):
            stage = by_id.get(text.lower())
            if pipeline is not None and stage is None:
                raise MappingError(
                    f"{source}: {where}: {text} is not a stage of the pipeline"
                    f" (its stages: {_listed(pipeline)})"
                )
            return StageOutcome(text.lower(), stage.label if stage else text)
        if pipeline is None:
            raise MappingError(
                f"{source}: {where}: the stage name {text!r} needs the pipeline's stages,"
                f" which could not be read ({unavailable or 'no API key'}); give the stage's"
                " id instead (`octolane-import stages` lists them)"
            )
        stage = by_key.get(stage_key(text))
        if stage is None:
            raise MappingError(
                f"{source}: {where}: {text!r} is not a stage of the pipeline"
                f" (its stages: {_listed(pipeline)})"
            )
        return StageOutcome(stage.id, stage.label)

    table = {
        stage_key(label): target(f"stages.{label}", value) for label, value in stages_table.items()
    }
    if unmapped == "error":
        fallback = None
    elif unmapped == "first":
        fallback = StageOutcome(None, "(first stage)")
    else:
        fallback = target("options.unmapped_stages", unmapped)
    return StageTable(table, fallback, pipeline is not None, by_key=by_key, by_id=by_id)


def _listed(pipeline: Sequence[PipelineStage]) -> str:
    return ", ".join(repr(s.label) for s in pipeline) or "none"


def propose_stages(
    labels: Iterable[str], pipeline: Sequence[PipelineStage] | None
) -> dict[str, str | None]:
    """A ``stages:`` table for the labels met: each to the same-named stage, else None.

    A status label (``won``, ``lost``: Pipedrive's closed deals) goes to the one stage
    whose name has that word, where exactly one has it.

    >>> propose_stages(["Closed Won", "Demo"], [PipelineStage("x", "Closed won", 1)])
    {'Closed Won': 'Closed won', 'Demo': None}
    >>> propose_stages(["won", "lost"], [PipelineStage("x", "Closed won", 1)])
    {'won': 'Closed won', 'lost': None}
    """
    by_key = {stage_key(s.label): s for s in pipeline or ()}
    proposal: dict[str, str | None] = {}
    for label in labels:
        if label in proposal:
            continue
        stage = by_key.get(stage_key(label))
        if stage is None and stage_key(label) in _STATUSES:
            having = [s for k, s in by_key.items() if stage_key(label) in re.findall(r"\w+", k)]
            stage = having[0] if len(having) == 1 else None
        proposal[label] = stage.label if stage else None
    return proposal


_STATUSES = frozenset({"won", "lost"})
