"""``gc_paused``: the cyclic collector off while many long-lived, cycle-free objects are built.

Shared by reading (rows) and the run (the plan); it belongs to no one stage.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["gc_paused"]


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector (reference counting still frees everything).

    Rows, and the plan built from them, hold no reference cycles, but each
    collection would re-walk every one of them: ~30% of the reading time, and
    half of the planning time on a million rows.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            if not gc.get_freeze_count():
                # What was built while paused is long-lived: moved to the oldest generation
                # as it is (freeze, then unfreeze), so the first collection after the pause
                # does not walk all of it (half a second at 300,000 rows). Skipped when the
                # program froze objects of its own: unfreezing would release them.
                gc.freeze()
                gc.unfreeze()
            gc.enable()
