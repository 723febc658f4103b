"""Map: the mapping file (its spec and binding to a file's columns), the presets, and transforms.

A mapping says which column feeds which Octolane field and through which
transforms (:mod:`importer.map.transforms`). This stage does no I/O beyond
reading the mapping YAML itself.
"""

from importer.map.presets import list_presets, resolve_mapping_path
from importer.map.spec import BoundMapping, MappingFile, bind_mapping, load_mapping, parse_mapping

__all__ = [
    "BoundMapping",
    "MappingFile",
    "bind_mapping",
    "list_presets",
    "load_mapping",
    "parse_mapping",
    "resolve_mapping_path",
]
