"""The sandbox's record ids are random version-4 UUIDs in their canonical text form."""

from __future__ import annotations

import uuid

from importer.sandbox.store import _new_id


def test_ids_are_canonical_random_version_4_uuids():
    ids = [_new_id() for _ in range(2000)]

    parsed = [uuid.UUID(text) for text in ids]

    assert all(u.version == 4 and u.variant == uuid.RFC_4122 for u in parsed)
    assert [str(u) for u in parsed] == ids
    assert len(set(ids)) == len(ids)
