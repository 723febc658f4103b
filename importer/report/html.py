"""The run report: one self-contained HTML page to look at (``--report FILE.html``).

It shows, from the results file and the rows as they were read:

* the outcome of every row, as a bar chart;
* the reasons rows were rejected or failed, with counts and up to five example
  rows each, with their values;
* the mapping: each Octolane field, the column(s) it reads, its transforms, how
  full those columns are, and sample values;
* the records planned per endpoint;
* the warnings, grouped by kind, with examples;
* for a real run, the requests per second over time, with the 429s and retries.

No network is needed to view it: the charts are inline SVG, the style inline CSS,
and there is no script at all. Every value from the file or from Octolane is
HTML-escaped. The numbers carry ``data-`` attributes (``data-status``,
``data-count``) so that a test can read them back from the page.
"""

from __future__ import annotations

import html
import os
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from importer.report.results import generic_reason, read_results
from importer.report.summary import ImportReport

if TYPE_CHECKING:
    from importer.send.runner import Attempt

__all__ = ["Timeline", "write_html_report"]

_FAILING = ("invalid", "failed", "partial", "unknown", "not_sent")
_COLORS = {
    "imported": "#2e7d32", "would_import": "#2e7d32", "already_imported": "#66bb6a",
    "duplicate": "#90a4ae", "merged": "#78909c", "skipped": "#b0bec5", "partial": "#f9a825",
    "invalid": "#c62828", "failed": "#c62828", "unknown": "#6a1b9a", "not_sent": "#ef6c00",
}  # fmt: skip
_EXAMPLES = 5


@dataclass
class Timeline:
    """Requests per second of a real run: answered, turned away (429) and retried."""

    start: float | None = None
    seconds: dict[int, list[int]] = field(default_factory=dict)  # second → [ok, 429, retry]

    def __call__(self, attempt: Attempt) -> None:
        at = attempt.at.timestamp()
        if self.start is None:
            self.start = at
        counts = self.seconds.setdefault(int(at - self.start), [0, 0, 0])
        counts[1 if attempt.status == 429 else 0] += 1
        counts[2] += attempt.attempt > 1


@dataclass
class _Reason:
    count: int = 0
    examples: list[tuple[int, str, list[str]]] = field(default_factory=list)


def write_html_report(
    path: Path,
    report: ImportReport,
    *,
    rows: Iterable[tuple[int, Sequence[str]]],
    fields: Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]],
    timeline: Timeline | None = None,
) -> None:
    """Write the page. ``rows`` are the input's rows as read (row number, cells), in
    order; ``fields`` maps each Octolane field to (its columns, its transforms)."""
    columns = list(report.source.columns)
    mapped = [c for c in columns if any(c in cols for cols, _ in fields.values())]
    groups = [cols for cols, _ in fields.values() if cols]
    at = {c: i for i, c in enumerate(columns)}
    filled: Counter[Any] = Counter()
    samples: dict[str, list[str]] = {c: [] for c in mapped}
    statuses: Counter[str] = Counter()
    # Rejected rows grouped as the summary groups them (its reasons, counts and example
    # rows); rows it does not group (unknown, not sent) by their message.
    reasons = {key: _Reason(count) for key, count in report.rejected_by_reason.items()}
    example_of: dict[int, list[str]] = {}
    for key, example_rows in report.rejected_examples.items():
        for row in example_rows:
            example_of.setdefault(row, []).append(key)
    grouped = ("invalid", "failed", "partial") if report.rejected_by_reason else ()
    warnings: dict[str, _Reason] = {}
    total = 0
    blank = [""] * len(columns)
    source = iter(rows)
    pending = next(source, None)
    for result in read_results(report.results_path) if report.results_path else ():
        total += 1
        statuses[result.status] += 1
        cells: Sequence[str] = blank
        while pending is not None and pending[0] <= result.row:  # both in input order
            _count(pending[1], mapped, at, filled, samples, groups)
            if pending[0] == result.row:
                cells = pending[1]
            pending = next(source, None)
        values = [str(cells[at[c]]) for c in mapped]
        message = result.message or result.status
        for key in example_of.get(result.row, ()):
            reasons[key].examples.append((result.row, message, values))
        if result.status in _FAILING and result.status not in grouped:
            _note(reasons, generic_reason(message), result.row, message, values)
        for warning in result.warnings:
            _note(warnings, generic_reason(warning), result.row, warning, values)
    while pending is not None:  # rows past the last result line (none, as a rule)
        _count(pending[1], mapped, at, filled, samples, groups)
        pending = next(source, None)
    page = _page(report, total, statuses, reasons, warnings, mapped, fields, filled, samples,
                 timeline)  # fmt: skip
    path.parent.mkdir(parents=True, exist_ok=True)
    # Customer data: readable by the user only (a new file; an existing one keeps its mode).
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with open(fd, "w", encoding="utf-8") as out:
        out.write(page)


def _count(cells: Sequence[str], mapped: list[str], at: Mapping[str, int], filled: Counter[Any],
           samples: dict[str, list[str]], groups: list[tuple[str, ...]]) -> None:  # fmt: skip
    """Count the row's filled columns, and (as ``(columns,)`` tuples) the fields any of
    whose columns it fills: a field read from several columns is as filled as that."""
    have = set()
    for column in mapped:
        value = str(cells[at[column]]).strip()
        if value:
            have.add(column)
            filled[column] += 1
            if len(samples[column]) < 3 and value not in samples[column]:
                samples[column].append(value)
    for group in groups:
        if not have.isdisjoint(group):
            filled[group] += 1


def _note(into: dict[str, _Reason], key: str, row: int, message: str, values: list[str]) -> None:
    reason = into.setdefault(key, _Reason())
    reason.count += 1
    if len(reason.examples) < _EXAMPLES:
        reason.examples.append((row, message, values))


# ---- the page -----------------------------------------------------------------------

_e = html.escape
_CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;
max-width:1100px;color:#222;padding:0 1rem}
h1{font-size:1.5rem;margin-bottom:.2rem}h2{font-size:1.15rem;margin-top:2rem;
border-bottom:1px solid #ddd;padding-bottom:.2rem}
.meta{color:#555}table{border-collapse:collapse;width:100%;margin:.5rem 0}
th,td{border:1px solid #ddd;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f5f5f5}td.n{text-align:right;font-variant-numeric:tabular-nums}
.ex{font-size:12px;color:#444}.ex td{border-color:#eee}code{font-size:12px}
.bad{color:#c62828;font-weight:600}.ok{color:#2e7d32;font-weight:600}
"""


def _page(
    report: ImportReport,
    total: int,
    statuses: Counter[str],
    reasons: dict[str, _Reason],
    warnings: dict[str, _Reason],
    mapped: list[str],
    fields: Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]],
    filled: Counter[Any],
    samples: dict[str, list[str]],
    timeline: Timeline | None,
) -> str:
    kind = "dry run: nothing sent" if report.dry_run else "import"
    verdict = (
        '<span class="ok">every row fine</span>' if report.exit_code == 0
        else f'<span class="bad">exit code {report.exit_code}</span>'
    )  # fmt: skip
    parts = [
        "<!doctype html><html lang=en><head><meta charset=utf-8>",
        f"<title>octolane-import report: {_e(report.source.path.name)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>{_e(report.source.path.name)}</h1>",
        f"<p class=meta>{kind}, mapping {_e(Path(str(report.mapping)).name)}; "
        f'<span data-total="{total}">{total:,}</span> rows, {report.elapsed_s:.1f} s; {verdict}</p>',
        "<h2>Rows by outcome</h2>",
        _bars(statuses, total),
        "<h2>Why rows were rejected or failed</h2>",
        _reasons(reasons, mapped, "No row was rejected.", "data-reason"),
        "<h2>The mapping</h2>",
        _mapping(fields, filled, samples, total),
        "<h2>Records planned</h2>",
        _planned(report),
    ]
    if timeline is not None and timeline.seconds:
        parts += ["<h2>Requests per second</h2>", _timeline(timeline)]
    parts += [
        "<h2>Warnings</h2>",
        _reasons(warnings, mapped, "No warnings.", "data-warning"),
        "</body></html>",
    ]
    return "\n".join(parts)


def _bars(statuses: Counter[str], total: int) -> str:
    if not statuses:
        return "<p>No rows.</p>"
    width, row_h = 640, 26
    items = statuses.most_common()
    height = row_h * len(items) + 10
    top = max(n for _, n in items)
    out = [f'<svg role=img aria-label="rows by outcome" width="{width + 260}" height="{height}"'
           ' xmlns="http://www.w3.org/2000/svg">']  # fmt: skip
    for i, (status, n) in enumerate(items):
        y = 5 + i * row_h
        w = max(2, round(width * n / top))
        share = n / total if total else 0
        out.append(
            f'<text x="0" y="{y + 17}" font-size="13">{_e(status)}</text>'
            f'<rect x="130" y="{y + 3}" width="{w}" height="{row_h - 8}" rx="3"'
            f' fill="{_COLORS.get(status, "#546e7a")}"/>'
            f'<text x="{136 + w}" y="{y + 17}" font-size="13" data-status="{_e(status)}"'
            f' data-count="{n}">{n:,} ({share:.0%})</text>'
        )
    out.append("</svg>")
    return "".join(out)


def _reasons(reasons: dict[str, _Reason], mapped: list[str], none: str, attr: str) -> str:
    if not reasons:
        return f"<p>{none}</p>"
    out = ["<table><tr><th>reason</th><th>rows</th></tr>"]
    for key, reason in sorted(reasons.items(), key=lambda kv: -kv[1].count):
        out.append(f'<tr><td>{_e(key)}</td><td class=n {attr}-count="{reason.count}">'
                   f"{reason.count:,}</td></tr>")  # fmt: skip
        rows = "".join(
            f"<tr><td>row {row}</td><td>{_e(message)}</td>"
            + "".join(f"<td>{_e(v)}</td>" for v in values) + "</tr>"
            for row, message, values in reason.examples
        )  # fmt: skip
        heads = "".join(f"<th>{_e(c)}</th>" for c in mapped)
        out.append(f"<tr><td colspan=2><table class=ex><tr><th>row</th><th>message</th>{heads}"
                   f"</tr>{rows}</table></td></tr>")  # fmt: skip
    out.append("</table>")
    return "".join(out)


def _mapping(fields: Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]],
             filled: Counter[Any], samples: dict[str, list[str]], total: int) -> str:  # fmt: skip
    out = ["<table><tr><th>Octolane field</th><th>column</th><th>transforms</th>"
           "<th>filled</th><th>sample values</th></tr>"]  # fmt: skip
    for key, (columns, transforms) in fields.items():
        share = "–"
        if total and columns:
            linked = [c for c in columns if c not in samples]  # (contact.Email: not the input's)
            if len(linked) == len(columns):
                share = "from a linked file"
            else:
                share = f"{filled[columns] / total:.0%}" + (" + linked" if linked else "")
        seen = [v for c in columns for v in samples.get(c, [])][:3]
        out.append(
            f"<tr><td><code>{_e(key)}</code></td><td>{_e(', '.join(columns)) or '–'}</td>"
            f"<td>{_e(', '.join(transforms)) or '–'}</td><td class=n>{share}</td>"
            f"<td>{'; '.join(_e(v) for v in seen)}</td></tr>"
        )
    out.append("</table>")
    return "".join(out)


def _planned(report: ImportReport) -> str:
    cells = "".join(
        f'<tr><td>{_e(endpoint)}</td><td class=n data-planned="{_e(endpoint)}">{n:,}</td>'
        f"<td class=n>{report.distinct.get(endpoint, 0):,}</td></tr>"
        for endpoint, n in report.planned.items()
    )
    return ("<table><tr><th>endpoint</th><th>requests</th><th>distinct records</th></tr>"
            f"{cells}</table>")  # fmt: skip


def _timeline(timeline: Timeline) -> str:
    last = max(timeline.seconds)
    width, height = 900, 180
    step = width / (last + 1)
    top = max(sum(v[:2]) for v in timeline.seconds.values()) or 1
    out = [f'<svg role=img aria-label="requests per second" width="{width}" height="{height + 30}"'
           ' xmlns="http://www.w3.org/2000/svg">']  # fmt: skip
    limited = retried = 0
    for second, (ok, refused, again) in sorted(timeline.seconds.items()):
        x = second * step
        h_ok, h_429 = height * ok / top, height * refused / top
        out.append(f'<rect x="{x:.1f}" y="{height - h_ok:.1f}" width="{max(step - 1, 1):.1f}"'
                   f' height="{h_ok:.1f}" fill="#2e7d32"/>')  # fmt: skip
        if refused:
            out.append(f'<rect x="{x:.1f}" y="{height - h_ok - h_429:.1f}"'
                       f' width="{max(step - 1, 1):.1f}" height="{h_429:.1f}" fill="#c62828"/>')  # fmt: skip
        if again:
            out.append(f'<circle cx="{x + step / 2:.1f}" cy="{height + 8}" r="3" fill="#ef6c00"/>')
        limited, retried = limited + refused, retried + again
    out.append(f'<text x="0" y="{height + 26}" font-size="12">0 s</text>'
               f'<text x="{width - 40}" y="{height + 26}" font-size="12">{last + 1} s</text></svg>')  # fmt: skip
    return "".join(out) + (
        f'<p class=meta>green: answered; red: 429 (<span data-rate-limited="{limited}">'
        f"{limited:,}</span>); orange dots: seconds with retries (<span data-retries="
        f'"{retried}">{retried:,}</span> retried attempts); up to {top:,} requests a second.</p>'
    )
