"""One company, one account; two companies, two accounts (issue 10, points 1 and 9).

A web host is cut back to its registered domain (or one label below a shared zone),
except where the file itself lists two or more different sites below that key: then the
key is a zone of this file and each site is an account of its own (``FileZones``).
"""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
import unicodedata
from collections import defaultdict
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from importer import run_import
from importer.map.presets import resolve_mapping_path
from importer.map.spec import load_mapping
from importer.map.transforms import build_transform
from importer.map.transforms.domains import FileZones, file_zones, web_host
from importer.read.source import open_source
from importer.validate.source import validated_source

REAL = Path(__file__).resolve().parents[2] / "shared" / "real-exports"
SCHOOLS = REAL / "hubspot" / "companies-export-view-schools.csv"
DOCTORS = REAL / "hubspot" / "contacts-export-doctors-it.xlsx"

COMPANIES = """
account:
  domain: {column: Website, transforms: [domain]}
"""


def accounts(hosts: list[str]) -> dict[str, str]:
    zones = FileZones.decided(hosts)
    return {host: zones.cut(host) for host in hosts}


# ---- the rule ------------------------------------------------------------------------


def test_two_sites_under_one_domain_are_two_accounts() -> None:
    assert file_zones(["hs.qcsd.org", "ms.qcsd.org"]) == {"qcsd.org"}
    assert accounts(["hs.qcsd.org", "ms.qcsd.org", "qcsd.org"]) == {
        "hs.qcsd.org": "hs.qcsd.org",
        "ms.qcsd.org": "ms.qcsd.org",
        "qcsd.org": "qcsd.org",
    }


@pytest.mark.parametrize("hosts", [["shop.acme.com"], ["https://www.shop.acme.com/"]])
def test_one_site_under_a_domain_is_cut_back(hosts) -> None:
    assert file_zones(map(web_host, hosts)) == frozenset()
    assert set(accounts(hosts).values()) == {"acme.com"}


@pytest.mark.parametrize(
    "hosts", [["shop.acme.com", "acme.com"], ["www.shop.acme.com", "https://acme.com/"]]
)
def test_a_site_beside_its_own_domain_is_an_account_of_its_own(hosts) -> None:
    """A district (qcsd.org) and its one school (hs.qcsd.org) that the file lists apart."""
    assert file_zones(map(web_host, hosts)) == {"acme.com"}
    assert accounts(hosts) == dict(zip(hosts, ["shop.acme.com", "acme.com"], strict=True))
    assert FileZones.decided(hosts).kept == {
        "shop.acme.com": "account.domain: shop.acme.com is kept whole (not cut to acme.com):"
        " this file has acme.com itself"
    }


def test_the_same_site_written_twice_is_one_site() -> None:
    hosts = ["https://www.shop.acme.com/", "shop.acme.com", "SHOP.acme.com/about"]
    assert set(accounts(hosts).values()) == {"acme.com"}


def test_a_district_under_a_static_zone_is_a_zone_of_this_file() -> None:
    """k12.ut.us is a static zone (davis.k12.ut.us is one district): its schools, that
    the file lists as different records, are different accounts."""
    hosts = ["adams.davis.k12.ut.us", "brown.davis.k12.ut.us", "davis.k12.ut.us"]
    assert file_zones(hosts) == {"davis.k12.ut.us"}
    assert accounts(hosts) == {h: h for h in hosts}
    # one school alone is cut back to its district, as before
    assert accounts(["adams.davis.k12.ut.us"]) == {"adams.davis.k12.ut.us": "davis.k12.ut.us"}


def test_the_rule_is_applied_until_no_key_has_two_sites() -> None:
    assert file_zones(["a.x.acme.com", "b.x.acme.com"]) == {"acme.com", "x.acme.com"}
    assert accounts(["a.x.acme.com", "b.x.acme.com"]) == {
        "a.x.acme.com": "a.x.acme.com",
        "b.x.acme.com": "b.x.acme.com",
    }
    # x.acme.com has one site below it: that one is cut back to x.acme.com
    assert accounts(["a.x.acme.com", "y.acme.com"]) == {
        "a.x.acme.com": "x.acme.com",
        "y.acme.com": "y.acme.com",
    }
    assert accounts(["a.x.acme.com", "x.acme.com"]) == {
        "a.x.acme.com": "a.x.acme.com",
        "x.acme.com": "x.acme.com",
    }


def test_an_email_address_gives_the_account_its_contact_is_filed_under() -> None:
    """``columns: [Website, Email]``: an address's account is its host without www., the
    account Octolane files its contact under, whatever the file's zones."""
    zones = FileZones.decided(["hs.qcsd.org", "ms.qcsd.org"])
    assert zones.cut("jo@hs.qcsd.org") == "hs.qcsd.org"
    assert zones.cut("jo@messages.spurams.com") == "messages.spurams.com"
    assert zones.cut("Jo@WWW.Acme.com") == "acme.com"
    assert zones.cut("https://hs.qcsd.org/contact") == "hs.qcsd.org"


def test_the_warning_names_the_domain_it_was_not_cut_to() -> None:
    zones = FileZones.decided(["hs.qcsd.org", "ms.qcsd.org", "es.qcsd.org", "shop.acme.com"])
    assert zones.kept["hs.qcsd.org"] == (
        "account.domain: hs.qcsd.org is kept whole (not cut to qcsd.org): this file has"
        " 2 other sites under qcsd.org"
    )
    assert set(zones.kept) == {"hs.qcsd.org", "ms.qcsd.org", "es.qcsd.org"}
    deeper = FileZones.decided(["a.x.acme.com", "y.acme.com"])
    assert deeper.kept["x.acme.com"] == (
        "account.domain: x.acme.com is an account of its own (not cut to acme.com): this file"
        " has 1 other site under acme.com"
    )


def test_the_file_is_scanned_only_when_a_host_below_its_key_is_met() -> None:
    scans: list[int] = []

    def scan() -> None:
        scans.append(1)
        for text in ("hs.qcsd.org", "ms.qcsd.org", "acme.com"):
            zones.cut(text)  # the pre-pass runs the values through the same transform

    zones = FileZones(scan)
    assert zones.cut("www.acme.com") == "acme.com"
    assert zones.cut("sf.k12.sd.us") == "sf.k12.sd.us"  # a static zone's site: its key
    assert zones.cut("jo@mail.acme.com") == "mail.acme.com"
    assert scans == []
    assert zones.cut("hs.qcsd.org") == "hs.qcsd.org"
    assert zones.cut("ms.qcsd.org") == "ms.qcsd.org"
    assert scans == [1]


@pytest.mark.parametrize(
    ("value", "account"),
    [
        # hubspot/contacts-export-doctors-it.xlsx: site builders the public suffix list's
        # private section misses (it has altervista.org, blogspot.com, wixsite.com)
        ("artepsiche.webnode.it", "artepsiche.webnode.it"),
        ("https://oscarhayein.jimdofree.com/", "oscarhayein.jimdofree.com"),
        ("amaradlindqvirsen.oneminutesite.it", "amaradlindqvirsen.oneminutesite.it"),
        ("elemmavarsen.docvadis.it", "elemmavarsen.docvadis.it"),
        ("daliar120.sg-host.com", "daliar120.sg-host.com"),
        ("osteopatiaportrsh.nwksite.com", "osteopatiaportrsh.nwksite.com"),
        ("cardiomalik.ilmiosito.net", "cardiomalik.ilmiosito.net"),
        ("shreikebaillton.vpsite.it", "shreikebaillton.vpsite.it"),
        ("ingridsullivter.spazioweb.it", "ingridsullivter.spazioweb.it"),
        ("fischtodermatologa.onweb.it", "fischtodermatologa.onweb.it"),
        ("questanottehofattounsogno.blogspot.it", "questanottehofattounsogno.blogspot.it"),
        ("nutrizionista-akira-rahmtel.bitrix24.site", "nutrizionista-akira-rahmtel.bitrix24.site"),
        ("x.altervista.org", "x.altervista.org"),  # the list's private section
        ("www.webnode.it", "webnode.it"),
        # hubspot/companies-export-view-schools.csv: the platform's servers are zones too
        ("guymon.ss8.sharpschool.com", "guymon.ss8.sharpschool.com"),
        ("ss8.sharpschool.com", "ss8.sharpschool.com"),
        ("bartowga.sites.thrillshare.com", "bartowga.sites.thrillshare.com"),
        ("www.thrillshare.com", "thrillshare.com"),
        ("osceola.schoolblocks.com", "osceola.schoolblocks.com"),
        ("alief.isd.tenet.edu", "alief.isd.tenet.edu"),
        ("staging8.paincenterlab.it", "paincenterlab.it"),  # a company's own subdomain
    ],
)
def test_site_builders_and_platforms(value, account) -> None:
    assert build_transform("domain")(value) == account


# ---- a whole file ----------------------------------------------------------------------


def results(path: Path) -> dict[int, dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return {int(r["row"]): r for r in csv.DictReader(handle)}


def test_a_dry_run_keeps_the_schools_of_one_district_apart(tmp_path, write_csv, write_mapping):
    leads = write_csv(
        """
        Company,Website
        Quakertown High School,https://hs.qcsd.org/
        Quakertown Middle School,www.ms.qcsd.org
        Quakertown District,qcsd.org
        Acme Shop,shop.acme.com
        Acme,https://www.acme.com
        Quakertown High School,hs.qcsd.org/athletics
        Someone,jo@ms.qcsd.org
        """,
        name="schools.csv",
    )
    out = tmp_path / "results.csv"
    report = run_import(leads, write_mapping(COMPANIES), dry_run=True, results_path=out)
    rows = results(out)
    assert {n: r["domain"] for n, r in rows.items()} == {
        2: "hs.qcsd.org",
        3: "ms.qcsd.org",
        4: "qcsd.org",
        5: "shop.acme.com",  # beside acme.com itself: the shop is a record of its own
        6: "acme.com",
        7: "hs.qcsd.org",
        8: "ms.qcsd.org",  # an e-mail address: the host its contact is filed under
    }
    assert report.planned["accounts"] == 5
    warning = (
        "account.domain: hs.qcsd.org is kept whole (not cut to qcsd.org): this file has"
        " 1 other site under qcsd.org"
    )
    assert rows[2]["warnings"] == rows[7]["warnings"] == warning
    assert "ms.qcsd.org is kept whole" in rows[3]["warnings"]
    assert rows[5]["warnings"] == (
        "account.domain: shop.acme.com is kept whole (not cut to acme.com): this file has"
        " acme.com itself"
    )
    assert not any(rows[n]["warnings"] for n in (4, 6))


def test_a_site_cut_to_its_domain_says_so(tmp_path, write_csv, write_mapping):
    """doe.sd.gov alone in a file is cut to sd.gov (the whole state government's domain):
    a change of the company's identity, so the row says it (hubspot schools export)."""
    leads = write_csv(
        """
        Website
        https://doe.sd.gov/contact
        www.acme.com
        WWW2.globex.com
        jo@mail.initech.com
        https://doe.sd.gov/
        """,
        name="sites.csv",
    )
    out = tmp_path / "results.csv"
    run_import(leads, write_mapping(COMPANIES), dry_run=True, results_path=out)
    rows = results(out)
    assert [rows[n]["domain"] for n in range(2, 7)] == [
        "sd.gov", "acme.com", "globex.com", "mail.initech.com", "sd.gov",
    ]  # fmt: skip
    said = (
        "account.domain: doe.sd.gov is cut to sd.gov, its company's domain: Octolane"
        " identifies a company by its domain, so every site under sd.gov is this one account"
    )
    assert rows[2]["warnings"] == rows[6]["warnings"] == said
    # www. is no site of its own, and an e-mail's host is its contact's to tell about
    assert not any(rows[n]["warnings"] for n in (3, 4, 5))
    # a split cell of one site (hubspot-deals' linked companies) says it too
    split = write_mapping(
        "account:\n  domain: {column: Website, transforms: [{split: {separators: [';']}},"
        " domain]}\n"
    )
    run_import(leads, split, dry_run=True, results_path=out)
    assert results(out)[2]["warnings"] == said


def test_a_limited_run_names_the_accounts_the_full_run_does(tmp_path, write_csv, write_mapping):
    """The whole file decides, whatever --limit validates: a trial run's accounts stay."""
    leads = write_csv("Website\nhs.qcsd.org\nacme.com\nms.qcsd.org\n", name="schools.csv")
    out = tmp_path / "results.csv"
    run_import(leads, write_mapping(COMPANIES), dry_run=True, results_path=out, limit=1)
    assert results(out)[2]["domain"] == "hs.qcsd.org"


FRESH_RUN = """
import sys
from importer import run_import
path, mapping, out, parallel = sys.argv[1:]
report = run_import(path, mapping, dry_run=True, results_path=out, parallel=parallel == "1",
                    batch_rows=500)
print(report.validated_in_worker)
"""


def test_the_worker_decides_as_the_one_process_path(tmp_path, write_mapping):
    """The zones are decided in whichever process validates; a host below its key is first
    met in a later batch, and its sibling sits near the end of the file."""
    lines = ["Company,Website"]
    for i in range(3_000):
        lines.append(f"Company {i % 300},https://www.company{i % 300}.com/")
    lines[1_200] = "Quakertown High,hs.qcsd.org"
    lines[2_950] = "Quakertown Middle,ms.qcsd.org"
    lines[2_000] = "Acme Shop,shop.acme.com"
    path = tmp_path / "companies.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    mapping = write_mapping(COMPANIES)
    outputs = {}
    for parallel in (False, True):
        out = tmp_path / f"results-{parallel}.csv"
        args = [str(path), str(mapping), str(out), "1" if parallel else "0"]
        done = subprocess.run(
            [sys.executable, "-c", FRESH_RUN, *args], capture_output=True, text=True, check=True
        )
        assert json.loads(done.stdout.strip().lower()) is parallel
        outputs[parallel] = out.read_bytes()
    assert outputs[False] == outputs[True]
    rows = results(tmp_path / "results-True.csv")
    assert rows[1_201]["domain"] == "hs.qcsd.org" and rows[2_951]["domain"] == "ms.qcsd.org"
    assert rows[2_001]["domain"] == "acme.com"


# ---- the property (point 9) --------------------------------------------------------------

_LABELS = st.sampled_from(["hs", "ms", "east", "west", "www", "shop"])
_KEYS = st.sampled_from(
    ["acme.com", "globex.co.uk", "qcsd.org", "davis.k12.ut.us", "k12.wv.us", "weebly.com"]
)
_HOSTS = st.builds(
    lambda labels, key: ".".join([*labels, key]), st.lists(_LABELS, max_size=3), _KEYS
)
_NAMES = st.sampled_from(["Acme", "Globex", "Quakertown High", "Quakertown Middle"])
_ROWS = st.lists(st.tuples(_HOSTS, _NAMES), min_size=1, max_size=30)


def shared_account_violations(rows: list[tuple[str, str, str]]) -> list[str]:
    """Pairs of rows (host, name, account) with different hosts and different names in one
    account, where a host cut to that account is not the only host of the file at or
    below it."""
    hosts = {host for host, _, _ in rows}
    below = defaultdict(set)
    for host in hosts:
        for account in {a for _, _, a in rows}:
            if host == account or host.endswith("." + account):
                below[account].add(host)
    found = []
    for i, (host1, name1, account1) in enumerate(rows):
        for host2, name2, account2 in rows[i + 1 :]:
            if account1 != account2 or host1 == host2 or name1 == name2:
                continue
            for host in {host1, host2} - {account1}:
                if below[account1] != {host}:  # the account's own host counts too
                    found.append(f"{host1} ({name1}) and {host2} ({name2}) in {account1}")
    return found


@given(_ROWS)
@settings(max_examples=300, deadline=None)
def test_no_two_companies_share_an_account_unless_cut_by_rule_one(rows) -> None:
    zones = FileZones.decided([host for host, _ in rows])
    cut = [(web_host(host), name, zones.cut(host)) for host, name in rows]
    assert not shared_account_violations(cut)  # type: ignore[arg-type]
    # the order of the file's rows decides nothing
    again = FileZones.decided([host for host, _ in reversed(rows)])
    assert all(
        again.cut(host) == account for (host, _), (_, _, account) in zip(rows, cut, strict=True)
    )


@given(_ROWS)
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_no_two_companies_share_a_planned_account(tmp_path, rows) -> None:
    """The same, end to end: a dry run plans the rows, its results file says their accounts."""
    path, out = tmp_path / "companies.csv", tmp_path / "results.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([("Company", "Website"), *((n, h) for h, n in rows)])
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(COMPANIES, encoding="utf-8")
    report = run_import(path, mapping, dry_run=True, results_path=out)
    lines = results(out)
    planned = [
        (web_host(host), name, lines[i + 2]["domain"])
        for i, (host, name) in enumerate(rows)
        if lines[i + 2]["domain"]
    ]
    assert len(planned) == len(rows)
    assert not shared_account_violations(planned)  # type: ignore[arg-type]
    assert report.planned["accounts"] == len({a for _, _, a in planned})


# ---- the real exports ----------------------------------------------------------------


def school_name(name: str) -> str:
    """A school's name without case, accents' forms, punctuation or extra spaces."""
    return " ".join(re.sub(r"\W+", " ", unicodedata.normalize("NFKC", name).casefold()).split())


def account_rows(path: Path, preset: str, name: str, site: str) -> dict[str, dict[str, set[str]]]:
    """Account domain -> the rows' hosts -> their (normalised) names."""
    source = validated_source(
        path,
        load_mapping(resolve_mapping_path(preset)),
        pipeline_id=None,
        read={},
        limit=None,
        batch_rows=5_000,
        parallel=False,
    )
    cells: dict[int, tuple[str, str]] = {}
    with open_source(path) as rows:
        at_name, at_site = rows.info.columns.index(name), rows.info.columns.index(site)
        for batch in rows.batches():
            for number, row in zip(batch.row_numbers, batch.rows, strict=True):
                cells[number] = row[at_name], row[at_site]
    found: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    try:
        for batch in source.batches:
            for verdict in batch:
                if verdict.domain and not verdict.errors:
                    school, website = cells[verdict.row]
                    found[verdict.domain][web_host(website) or ""].add(school_name(school))
    finally:
        source.close()
    return found


@pytest.mark.skipif(not SCHOOLS.exists(), reason="the shared real exports are not here")
def test_the_schools_export_holds_one_school_per_account() -> None:
    """Every account holds rows of one school, except where the export gives several schools
    the very same domain (brevardschools.org for 93 of them: no domain rule can part them;
    those rows warn, naming both names). 2866 accounts before the file's zones, 5406 with
    them, 5464 (one per host) when a district's own domain beside one school's site keeps
    them apart too; 5463 since an S3 bucket's host (core-docs.s3.amazonaws.com) is refused."""
    found = account_rows(SCHOOLS, "hubspot-companies", "Company name", "Company Domain Name")
    assert len(found) == 5463
    several = {a: hosts for a, hosts in found.items() if len(set().union(*hosts.values())) > 1}
    assert len(several) == 1882
    assert all(len(hosts) == 1 for hosts in found.values())  # one host each
    for district, schools in [
        ("qcsd.org", ("hs.qcsd.org", "sms.qcsd.org", "tes.qcsd.org")),
        ("davis.k12.ut.us", ("adelaide.davis.k12.ut.us", "antelope.davis.k12.ut.us")),
        ("fentressboe.com", ("chs.fentressboe.com", "phs.fentressboe.com")),
    ]:
        for school in schools:
            assert set(found[school]) == {school}, school  # its rows, and only its rows
        assert district not in found or not set(found[district]) & set(schools)


@pytest.mark.skipif(not DOCTORS.exists(), reason="the shared real exports are not here")
def test_the_doctors_on_site_builders_are_accounts_of_their_own(tmp_path) -> None:
    """The hubspot preset refuses this export (no Email column); its Website URL column
    gives companies through hubspot-companies: 1411 accounts when webnode.it and
    docvadis.it merged their doctors, 1415 when the site builders' subdomains were kept,
    1410 now that a page on a site builder's or a directory's own host names no company
    (8 doctors' pages on docvadis.it were one account, docvadis.it; two on 7link.it one)."""
    out = tmp_path / "results.csv"
    report = run_import(DOCTORS, "hubspot-companies", dry_run=True, results_path=out)
    assert report.planned["accounts"] == 1410
    rows = results(out)
    domains = {r["domain"] for r in rows.values()}
    assert not domains & {"webnode.it", "docvadis.it", "7link.it", "miodottore.it", "com.com"}
    assert {
        "dott-ssa-pilik-nowoom7.webnode.it",
        "enzoportan-osteopata.webnode.it",
        "elemmavarsen.docvadis.it",
    } <= domains
    for row in (1104, 1116, 2182, 2937, 3204, 3230, 3551, 3800):
        assert rows[row]["status"] == "invalid", row
        assert "is a page on docvadis.it, not the company's own web site" in rows[row]["message"]
    assert "a typo of a domain ending" in rows[4105]["message"]
