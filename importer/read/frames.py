"""Rows already in memory — a pandas DataFrame, or any iterable of mappings — as an input.

``run_import(frame, "hubspot")`` imports a DataFrame with the same mapping file a
CSV export would use. The rows are written once to a CSV in a private temporary
folder and read from there like any file, so a DataFrame goes through exactly the
checks, journal and results a file does. Cells become text as a spreadsheet shows
them (the rules of the Excel reader): whole numbers without ``.0``, other numbers
in their shortest decimal form, dates ``YYYY-MM-DD``, datetimes
``YYYY-MM-DD HH:MM:SS``, booleans ``TRUE``/``FALSE``; ``None``, ``NaN``, ``NaT`` and
``pd.NA`` are empty cells. The DataFrame's index is not a column (``reset_index()``
makes it one). Mappings may have different keys: the columns are every key seen,
in the order first seen, and a mapping without a key has that cell empty.

pandas itself is optional: a DataFrame is recognised by its shape, and only the
caller who passes one needs pandas installed.
"""

from __future__ import annotations

import csv
import json
import math
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from importer.errors import UsageError
from importer.read._excel import cell_text

__all__ = ["FRAME_NAME", "is_rows_in_memory", "write_rows_in_memory"]

#: The name a DataFrame input goes by in messages and the results ("DataFrame: row 5 ...").
FRAME_NAME = "DataFrame.csv"


def is_rows_in_memory(value: object) -> bool:
    """A DataFrame, or an iterable of mappings (not a path, not text)."""
    if isinstance(value, (str, bytes, os.PathLike)):
        return False
    return _is_frame(value) or isinstance(value, Iterable)


def _is_frame(value: object) -> bool:
    return hasattr(value, "columns") and hasattr(value, "itertuples")


def write_rows_in_memory(value: Any, folder: Path) -> Path:
    """Write the rows as a CSV file in ``folder``; return its path.

    Raises:
        UsageError: the value holds no rows, or something that is not a mapping.
    """
    path = folder / FRAME_NAME
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    with open(os.open(path, flags, 0o600), "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        if _is_frame(value):
            columns = [_name(c) for c in value.columns]
            if not columns:
                raise UsageError("the DataFrame has no columns")
            writer.writerow(columns)
            for row in value.itertuples(index=False, name=None):
                writer.writerow([_text(v) for v in row])
        else:
            _write_mappings(value, writer, folder)
    return path


def _write_mappings(rows: Iterable[Any], writer: Any, folder: Path) -> None:
    """Mappings may bring new keys as they come: rows go to a scratch file first."""
    columns: dict[str, int] = {}
    scratch = folder / "rows.jsonl"
    count = 0
    with scratch.open("w", encoding="utf-8") as out:
        for count, row in enumerate(rows, 1):
            if not isinstance(row, Mapping):
                raise UsageError(
                    f"row {count} of the input is a {type(row).__name__}, not a mapping"
                    " (a dict of column -> value) or a DataFrame row"
                )
            cells: dict[int, str] = {}
            for key, value in row.items():
                position = columns.setdefault(_name(key), len(columns))
                cells[position] = _text(value)
            out.write(json.dumps(cells, ensure_ascii=False) + "\n")
    if not columns:
        raise UsageError("the input holds no rows" if not count else "the rows hold no columns")
    writer.writerow(list(columns))
    with scratch.open(encoding="utf-8") as lines:
        for line in lines:
            cells = {int(k): v for k, v in json.loads(line).items()}
            writer.writerow([cells.get(i, "") for i in range(len(columns))])
    scratch.unlink()


def _name(column: object) -> str:
    return column if isinstance(column, str) else cell_text(column)


def _text(value: object) -> str:
    """A cell as text; missing values (None, NaN, NaT, pd.NA) are empty."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if type(value).__module__ == "numpy" and hasattr(value, "item"):
        value = value.item()  # numpy scalars: their Python value
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return ""
    if type(value).__name__ in ("NAType", "NaTType"):
        return ""
    if hasattr(value, "to_pydatetime"):  # a pandas Timestamp
        value = value.to_pydatetime()
    return cell_text(value)
