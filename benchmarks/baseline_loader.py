"""Baselines for the dry run: what a data engineer would write, or reach for, instead.

    python benchmarks/baseline_loader.py pandas-pydantic FILE.csv   # a per-row loader
    python benchmarks/baseline_loader.py frictionless FILE.csv      # `frictionless validate`

Each prints one JSON line: rows, elapsed_s, cpu_s, peak_rss (bytes), valid. The
pandas + pydantic loader reads the file with pandas (every column as text), then checks
each row's contact with a pydantic model (the e-mail's shape, the names' lengths, the
company domain's shape) and dedupes contacts by e-mail: the core of the importer's dry
run, without its transforms, warnings or results file. ``frictionless validate`` checks
the table's structure and inferred types, row by row, without any mapping.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from typing import Annotated

EMAIL = r"^[^@\s,;<>()\[\]\"]+@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)*\.[A-Za-z0-9\-]{2,}$"
DOMAIN = r"^([a-z0-9]([a-z0-9\-]{0,61}[a-z0-9])?\.)+[a-z0-9\-]{2,63}$"


def pandas_pydantic(path: str) -> tuple[int, int]:
    import pandas as pd
    from pydantic import BaseModel, StringConstraints, ValidationError

    class Contact(BaseModel):
        email: Annotated[str, StringConstraints(pattern=EMAIL, max_length=254)]
        first_name: Annotated[str, StringConstraints(max_length=255)] | None = None
        last_name: Annotated[str, StringConstraints(max_length=255)] | None = None
        domain: Annotated[str, StringConstraints(pattern=DOMAIN)] | None = None

    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame.columns = [str(c).replace(" ", "_") for c in frame.columns]
    seen: set[str] = set()
    valid = 0
    for row in frame.itertuples(index=False):
        record = row._asdict()
        email = str(record.get("Email", "")).strip().lower()
        domain = str(record.get("Company_Domain", "")).strip().lower() or None
        try:
            Contact(
                email=email,
                first_name=str(record.get("First_Name", "")).strip() or None,
                last_name=str(record.get("Last_Name", "")).strip() or None,
                domain=domain,
            )
        except ValidationError:
            continue
        valid += 1
        seen.add(email)
    return len(frame), valid


def frictionless_validate(path: str) -> tuple[int, int]:
    from frictionless import system, validate

    with system.use_context(trusted=True):  # an absolute path (`frictionless validate --trusted`)
        report = validate(path, limit_errors=1_000_000)
    task = report.tasks[0]
    rows = task.stats.get("rows") or 0
    return rows, rows - len({e.row_number for e in task.errors if getattr(e, "row_number", None)})


def main() -> None:
    kind, path = sys.argv[1], sys.argv[2]
    start, cpu = time.perf_counter(), time.process_time()
    rows, valid = {"pandas-pydantic": pandas_pydantic, "frictionless": frictionless_validate}[kind](
        path
    )
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"rows": rows, "elapsed_s": elapsed, "cpu_s": cpu, "peak_rss": peak,
                      "valid": valid}))  # fmt: skip


if __name__ == "__main__":
    main()
