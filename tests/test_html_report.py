"""The run report: one self-contained HTML page whose numbers are the results file's,
with every value escaped, rendered in headless Chromium without a script error."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest
from test_import_e2e import results_of, run, settings, write

from importer.run import run_import
from importer.sandbox import running_sandbox

MAPPING = """
contact:
  email: {column: Email, transforms: [email]}
  first_name: First Name
"""
HOSTILE = "<script>alert('x')</script>"


def data_file(tmp_path: Path) -> Path:
    lines = ["Email,First Name"]
    lines += [f"p{i}@company{i}.com,P{i}" for i in range(30)]
    lines += ["not-an-email,Al", f"no-email-here,{HOSTILE}", "bo@gmail.com,Bo", ",Empty"]
    lines += ["p1@company1.com,Again"]
    return write(tmp_path / "leads.csv", "\n".join(lines) + "\n")


def numbers(page: str, attribute: str) -> dict[str, int]:
    return {k: int(v) for k, v in re.findall(rf'{attribute}="([^"]*)" data-count="(\d+)"', page)}


def check_against_results(page: str, results_csv: Path) -> None:
    results = results_of(results_csv)
    assert numbers(page, "data-status") == dict(Counter(r["status"] for r in results))
    assert f'data-total="{len(results)}"' in page
    failing = sum(1 for r in results if r["status"] in ("invalid", "failed", "partial"))
    assert sum(int(n) for n in re.findall(r'data-reason-count="(\d+)"', page)) == failing


def test_a_dry_run_report(tmp_path):
    report = run_import(data_file(tmp_path), write(tmp_path / "m.yaml", MAPPING), dry_run=True,
                        results_path=tmp_path / "r.csv", failures_path=tmp_path / "f.csv",
                        report_path=tmp_path / "report.html")  # fmt: skip
    assert report.report_path == tmp_path / "report.html"
    page = report.report_path.read_text(encoding="utf-8")
    check_against_results(page, tmp_path / "r.csv")
    assert "<script" not in page and "http" not in page.split("</style>")[0]  # no CDN
    assert HOSTILE not in page and "&lt;script&gt;alert(" in page  # shown, escaped
    assert "not-an-email" in page  # the example row, with its values
    assert re.search(r"data-warning-count=\"\d+\"", page)  # warnings, grouped
    assert re.search(r"<code>contact.email</code></td><td>Email</td><td>email</td>", page)
    assert 'data-planned="contacts">' in page
    assert (tmp_path / "report.html").stat().st_mode & 0o077 == 0


def test_the_fill_of_a_field_counts_rows_with_any_of_its_columns(tmp_path):
    """A field read from two columns is filled where either is (it showed the larger
    column's share), and one read from a linked file says so (it showed 0%)."""
    data = write(tmp_path / "d.csv", "Work,Home,Who\na@acme.com,,1\n,b@beta.io,2\n,,3\n,,4\n")
    people = write(tmp_path / "p.csv", "Id,Website\n1,acme.com\n")
    mapping = write(
        tmp_path / "m.yaml",
        """
contact:
  email: {columns: [Work, Home], transforms: [email]}
note:
  title: {value: Call}
  content: {column: Who}
links:
  person: {by: Who, key: Id, columns: [Website]}
account:
  domain: {column: person.Website, transforms: [domain], required: false}
""",
    )
    report = run_import(data, mapping, dry_run=True, results_path=tmp_path / "r.csv",
                        links=[people], report_path=tmp_path / "report.html")  # fmt: skip
    page = report.report_path.read_text(encoding="utf-8")
    assert re.search(r"<code>contact.email</code></td><td>Work, Home</td>.*?<td class=n>50%", page)
    assert re.search(r"<code>account.domain</code></td>.*?from a linked file", page)


def test_a_real_run_report_charts_the_requests(tmp_path):
    with running_sandbox() as box:
        box.fail_next(3, status=429)  # turned away, retried after the Retry-After
        report = run(box, data_file(tmp_path), write(tmp_path / "m.yaml", MAPPING),
                     settings=settings(box),
                     report_path=tmp_path / "report.html")  # fmt: skip
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    check_against_results(page, tmp_path / "results.csv")
    assert report.send is not None and report.send.rate_limited > 0
    assert f'data-rate-limited="{report.send.rate_limited}"' in page
    assert f'data-retries="{report.send.retries}"' in page
    assert "Requests per second" in page


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(
    CHROMIUM is None,
    reason="Chromium is not installed (Debian: apt-get install chromium; .ci/run installs it)",
)
def test_the_report_in_headless_chromium(tmp_path):
    run_import(data_file(tmp_path), write(tmp_path / "m.yaml", MAPPING), dry_run=True,
               results_path=tmp_path / "r.csv", report_path=tmp_path / "report.html")  # fmt: skip
    browser = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr",
               f"--user-data-dir={tmp_path / 'profile'}"]  # fmt: skip
    shown = subprocess.run(
        [*browser, "--dump-dom", (tmp_path / "report.html").as_uri()],
        capture_output=True, text=True, timeout=90,
    )  # fmt: skip
    assert shown.returncode == 0, shown.stderr[-2000:]
    dom = shown.stdout
    assert "Rows by outcome" in dom  # the page the browser built, not the file's text
    assert "Uncaught" not in shown.stderr and "SyntaxError" not in shown.stderr
    check_against_results(dom, tmp_path / "r.csv")
    shot = tmp_path / "report.png"
    subprocess.run([*browser, "--window-size=1200,1600", f"--screenshot={shot}",
                    (tmp_path / "report.html").as_uri()],
                   capture_output=True, timeout=90, check=True)  # fmt: skip
    assert shot.stat().st_size > 10_000  # it drew something


def test_the_reasons_are_grouped_as_the_summary_groups_them(tmp_path):
    """A partial row's reason ("the contact is left out: ... is not an email address")
    was a group of its own on the page, while the summary counted it with the invalid
    rows of the same reason: the page now shows the summary's groups and counts."""
    import html

    sample = Path(__file__).resolve().parents[1] / "sample_data" / "hubspot-contacts.csv"
    report = run_import(sample, "hubspot", dry_run=True, results_path=tmp_path / "r.csv",
                        report_path=tmp_path / "report.html")  # fmt: skip
    assert report.counts["partial"] == 1  # the path ran: a partial row with a reason
    page = report.report_path.read_text(encoding="utf-8")
    shown = {
        html.unescape(key): int(count)
        for key, count in re.findall(r'<td>([^<]*)</td><td class=n data-reason-count="(\d+)"', page)
    }
    assert shown == report.rejected_by_reason
    assert "yusufrossi@@harborfield.com" in page  # the partial row, as an example
