"""Propose: ``octolane-import map FILE`` — guess a mapping from headers and values, or pick a preset."""

from importer.propose.proposal import FieldProposal, PresetMatch, Proposal, propose_mapping

__all__ = ["FieldProposal", "PresetMatch", "Proposal", "propose_mapping"]
