"""E-mail addresses out of messy cells: one address, or every address in a multi-value cell.

Handles what CRM exports put in e-mail columns: ``mailto:`` links, display
names (``Jo Smith <jo@acme.com>``, HubSpot's ``Jo Smith (jo@acme.com)``),
Pipedrive's ``a@xy.com, b@xy.com`` and HubSpot's ``a@xy.com;b@xy.com`` cells,
stray trailing dots and quotes. The check is syntactic and cheap (a few string
operations and one regex on the common path): it refuses what is obviously not
an address, it does not ask DNS whether the domain takes mail.
"""

from __future__ import annotations

import functools
import re

import idna

from importer.map.transforms.cells import TransformError, clean_text, quote
from importer.map.transforms.domains import (
    email_domain,
    is_personal_domain,
    typed_twice,
    web_host,
)

__all__ = [
    "all_emails",
    "display_name",
    "filed_under",
    "first_email",
    "is_placeholder_domain",
    "unicode_form",
]

# Local part: dot-atom (no leading, trailing or double dot). Domain: two or more labels,
# each letters/digits with inner hyphens; the last is alphabetic (2+) or punycode.
_ATOM = r"[^\s@.\"(),:;<>|\[\]\\]+"
_LABEL = r"[^\W_](?:[\w-]{0,61}[^\W_])?"
_ADDRESS = re.compile(
    rf"{_ATOM}(?:\.{_ATOM})*@(?:{_LABEL}\.)+(?:[^\W\d_]{{2,63}}|xn--[a-z0-9-]{{1,59}})"
)
# Whitespace, list separators and the brackets/quotes around display names.
_SEPARATORS = re.compile(r"[\s,;|<>()\[\]\"]+")
_MAX_LENGTH = 254


def _address(token: str) -> str | None:
    """The address a token holds (lower-cased input), or None if it is not one."""
    token = token.strip("'`").rstrip(".")
    if token.startswith("mailto:"):
        token = token[7:].partition("?")[0]
    if len(token) <= _MAX_LENGTH and _ADDRESS.fullmatch(token):
        return token
    return None


def _parse(text: str) -> list[str]:
    cleaned = clean_text(text).lower()
    # Words beside an address are a display name only inside a bracketed form
    # ("Jo <jo@xy.com>", "Jo (jo@xy.com)"); "john smith@xy.com" is a broken address.
    named = any(bracket in cleaned for bracket in '<(["')
    addresses: list[str] = []
    for token in _SEPARATORS.split(cleaned):
        if "@" not in token:
            if token and not named:
                raise TransformError(f"{quote(text)} is not an email address")
            continue
        address = _address(token)
        if address is None:
            if token == cleaned:
                raise TransformError(f"{quote(text)} is not an email address")
            raise TransformError(f"{quote(token)} in {quote(text)} is not an email address")
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise TransformError(f"{quote(text)} is not an email address")
    return addresses


# Addresses that stand in for a missing one: "noemail@acme.com", "x@x.com", "a@example.com",
# and any address at a one-letter or all-x domain name ("i@a.com", "hr@xx.com").
_PLACEHOLDER_LOCAL = frozenset(
    {
        "noemail",
        "no-email",
        "no_email",
        "nomail",
        "none",
        "null",
        "unknown",
        "noone",
        "nobody",
        "na",
    }
)
_PLACEHOLDER_DOMAINS = frozenset({"example.com", "example.org", "example.net", "test.com"})


def _stored(address: str, text: str) -> str:
    """The address with an international domain in its IDNA form (what Octolane stores)."""
    local, _, domain = address.rpartition("@")
    if domain.isascii():
        return address
    try:
        return f"{local}@{idna.encode(domain, uts46=True).decode('ascii')}"
    except idna.IDNAError as exc:
        raise TransformError(
            f"{quote(text)} is not an email address: its domain has no IDNA form ({exc})"
        ) from None


def _placeholder_label(label: str) -> bool:
    return len(label) == 1 or not label.strip("x")  # a.com, x.com; xx.com, xxx.com


@functools.lru_cache(maxsize=4096)
def is_placeholder_domain(domain: str) -> bool:
    """True for a domain that stands in for a missing one: ``example.com``, ``test.com``,
    a one-letter or all-x name (``a.com``, ``xx.com``); it is never a company's.

    >>> is_placeholder_domain("a.com"), is_placeholder_domain("mail.xx.co.uk")
    (True, True)
    >>> is_placeholder_domain("acme.com"), is_placeholder_domain("x.acme.com")
    (False, False)
    """
    registered = email_domain("@" + domain) or domain
    return registered in _PLACEHOLDER_DOMAINS or _placeholder_label(registered.partition(".")[0])


@functools.lru_cache(maxsize=1 << 14)
def _registered_label(domain: str) -> tuple[str, bool]:
    """The name an e-mail domain was registered under ("a" of mail.a.com, "realtor" of
    e.mail.realtor.com), and whether the domain is a placeholder (example.com, a.com, xx.com)."""
    label = (email_domain("@" + domain) or domain).partition(".")[0]
    return label, domain in _PLACEHOLDER_DOMAINS or _placeholder_label(label)


def _real(address: str, text: str) -> str:
    """``address`` as Octolane stores it (an international domain in its IDNA form),
    unless it is a placeholder (TransformError says so)."""
    if not address.isascii():
        address = _stored(address, text)
    local, _, domain = address.partition("@")
    if len(local) > 64:
        raise TransformError(
            f"{quote(text)} is not an email address Octolane accepts: the part before the @"
            f" is {len(local)} characters long (at most 64)"
        )
    label, placeholder = _registered_label(domain)
    if (
        placeholder  # example.com; i@a.com, k@x.com, hr@xx.com
        or local in _PLACEHOLDER_LOCAL
        or local == label  # x@x.com, test@test.com
        # ie@aa.com, nw@ss.com (asked only of a local part short enough: a million
        # addresses' registered domains cost a third of a second)
        or (len(local) <= 2 and typed_twice(local, email_domain("@" + domain) or domain))
    ):
        raise TransformError(
            f"{quote(text)} is a placeholder address, not a person's: leave the cell empty"
            " or give the real address"
        )
    return address


def first_email(text: str) -> str:
    """The first address in a cell, lower-cased.

    Every part of the cell that contains ``@`` must be a valid address, so a typo
    next to a good address is reported rather than silently skipped.

    Raises:
        TransformError: the cell holds no address, or a malformed one.

    >>> first_email(" Jo Smith <Jo.Smith@Acme.com>; ann@acme.com ")
    'jo.smith@acme.com'
    """
    plain = text.strip().lower()
    if len(plain) <= _MAX_LENGTH and _ADDRESS.fullmatch(plain):
        return _real(plain, text)  # the common case: one clean address
    return _real(_parse(text)[0], text)


def all_emails(text: str) -> list[str]:
    """Every address in a cell, lower-cased, without repeats, in cell order.

    >>> all_emails("a@xy.com, B@xy.com, a@xy.com")
    ['a@xy.com', 'b@xy.com']
    """
    plain = text.strip().lower()
    if len(plain) <= _MAX_LENGTH and _ADDRESS.fullmatch(plain):
        return [_real(plain, text)]
    return [_real(address, text) for address in _parse(text)]


# The cell's first item with a name beside its address: ``Jo Smith <jo@xy.com>``,
# ``"Smith, Jo" <jo@xy.com>``, ``Jo Smith (jo@xy.com)``, or ``jo@xy.com (Jo Smith)``.
_NAME_FIRST = re.compile(
    r'\s*(?:"(?P<quoted>[^"]*)"|(?P<plain>[^"<>()@;,]*?))\s*[<(]\s*(?:mailto:)?'
    r"(?P<address>[^\s<>()@;,]+@[^\s<>();,]+?)\s*[>)]"
)
#: "Smith, Jo <jo@xy.com>" (Outlook's way), the cell's one address: the comma is the name's.
_NAME_COMMA = re.compile(
    r"\s*(?P<plain>[^\"<>()@;,]+,[^\"<>()@;,]+?)\s*<\s*(?:mailto:)?"
    r"(?P<address>[^\s<>()@;,]+@[^\s<>();,]+?)\s*>\s*"
)
_NAME_AFTER = re.compile(
    r'\s*(?:mailto:)?(?P<address>[^\s<>()@;,"]+@[^\s<>();,"]+?)\s*\((?P<plain>[^()@]*)\)'
)


def display_name(text: str) -> str | None:
    """The name written beside a cell's first address, or None.

    Only the first address's own name counts: in ``a@xy.com; Bo (bo@xy.com)`` the
    first address has none.

    >>> display_name("Carmen Maddox (cmaddox@mtnskyumc.org);Teresa Jones (t@xy.com)")
    'Carmen Maddox'
    >>> display_name('"Smith, Jo" <JO@xy.com>'), display_name("jo@xy.com (Jo Smith)")
    ('Smith, Jo', 'Jo Smith')
    >>> display_name("Smith, Jo <jo@xy.com>"), display_name("Smith, Jo <jo@xy.com>, Bo <bo@xy.com>")
    ('Smith, Jo', None)
    >>> display_name("jo@xy.com; Bo Li <bo@xy.com>") is None
    True
    """
    if "<" not in text and "(" not in text:
        return None
    try:
        first = first_email(text)
    except TransformError:
        return None
    cleaned = clean_text(text)
    for pattern in (_NAME_FIRST, _NAME_AFTER, _NAME_COMMA):
        match = pattern.fullmatch(cleaned) if pattern is _NAME_COMMA else pattern.match(cleaned)
        found = _address(match["address"].lower()) if match is not None else None
        if match is None or found is None or _stored(found, text) != first:
            continue
        name = " ".join((match.groupdict().get("quoted") or match["plain"] or "").split())
        return name if name and "@" not in name else None
    return None


def unicode_form(address: str) -> str | None:
    """The address with its domain as people write it, where the IDNA form differs.

    >>> unicode_form("jo@xn--bcher-kva.de"), unicode_form("jo@acme.com")
    ('jo@bücher.de', None)
    """
    local, _, domain = address.rpartition("@")
    if "xn--" not in domain:
        return None
    try:
        shown = idna.decode(domain)
    except idna.IDNAError:
        return None
    return f"{local}@{shown}" if shown != domain else None


def email_account(email: str) -> str | None:
    """The account an e-mail address's contact is filed under, personal or not: its host
    without ``www.`` (:func:`filed_under`), or None when it has none. (Remembered by
    host, not by address: a file's addresses are mostly distinct, its hosts few.)

    >>> email_account("jo@www.Acme.com"), email_account("jo@mail.acme.com")
    ('acme.com', 'mail.acme.com')
    """
    host = email.rpartition("@")[2]
    return _host_account(host) if host else None


@functools.lru_cache(maxsize=1 << 14)
def _host_account(host: str) -> str | None:
    return web_host(host)


@functools.lru_cache(maxsize=1 << 16)
def filed_under(host: str) -> str:
    """The account Octolane files a contact of this e-mail host under: the host without
    ``www.`` (API.md §1.3: the account of the e-mail's domain; the sandbox's reading), or
    "" for a personal domain (none).

    >>> filed_under("mail.acme.com"), filed_under("www.acme.com"), filed_under("gmail.com")
    ('mail.acme.com', 'acme.com', '')
    """
    host = web_host(host) or host
    return "" if is_personal_domain(host) else host
