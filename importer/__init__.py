"""octolane-import: move CRM exports into Octolane."""
