"""Validate: mapped rows → records the API accepts, or rejections naming row, column and fix.

:func:`validated_source` reads and validates a whole file, in a forked worker
process for big files, while the caller plans.
"""

from importer.validate.rows import FieldError, RowVerdict, validate_batch
from importer.validate.source import ValidatedSource, validated_source

__all__ = ["FieldError", "RowVerdict", "ValidatedSource", "validate_batch", "validated_source"]
