"""Guess each column's Octolane field from its header and its values.

Used by :mod:`importer.propose.proposal`. A column's header is looked up in the alias
table (:mod:`importer.propose._aliases`), then matched fuzzily with rapidfuzz; its
sampled values are profiled (share of e-mail addresses, web sites, amounts,
dates; the decimal mark and the date order). The header proposes a field, the
values confirm or veto it, or place a column whose header says nothing (a
column of addresses is an e-mail column whatever it is called).

Pure functions; no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache

from rapidfuzz import fuzz, process

from importer.map.transforms import build_transform
from importer.map.transforms.cells import NULLIFY_VALUES, TransformError, clean_text
from importer.map.transforms.currency import currency_code
from importer.map.transforms.dates import date_parser, infer_date_order
from importer.map.transforms.domains import is_personal_domain
from importer.map.transforms.emails import first_email
from importer.map.transforms.money import ISO_CODES, parse_amount
from importer.propose._aliases import FIELD_ALIASES, normalise_header

__all__ = [
    "ColumnGuess",
    "ColumnProfile",
    "guess_columns",
    "header_currency",
    "normalise",
    "profile_values",
]

normalise = normalise_header
_to_domain = build_transform("domain")

# What the nullify transform empties, plus German exports' "k.a." (keine Angabe).
_NULLS = frozenset((*NULLIFY_VALUES, "k.a."))
_SITE = re.compile(
    r"(?i)^(?:https?://)?(?:www\d?\.)?(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,24}(?::\d+)?(?:/\S*)?$"
)
_SOCIAL = re.compile(
    r"(?i)(?:^|[/.])(?:linkedin|facebook|twitter|x|instagram|youtube|google)\.com(?:/|$)"
)
_PHONE = re.compile(r"^[+(']?[\d\s().'/-]{7,}$")
_PLAIN_NUMBER = re.compile(r"^[-+]?\d+(?:\.\d+)?$")
_LAST_MARK = re.compile(r"\d([.,])\d{1,2}(?!\d)\D*$")
_FUZZY_CUTOFF = 86
# Fields the values must support for a header match to stand.
_NEEDS = {
    "contact.email": "email",
    "opportunity.owner_email": "email",
    "account.domain": "site",
    "opportunity.deal_size": "amount",
    "opportunity.close_date": "date",
    "opportunity.next_action_date": "date",
}
_PRIORITY = tuple(FIELD_ALIASES)
# Headers that name the CRM's own people (the user's team), never a customer's.
_INTERNAL = re.compile(
    r"\b(?:owner|owners|user|users|partner|created by|creator|modified by|updated by"
    r"|assigned to|assignee|reps?|sales ?reps?|sales representative|salesperson|salesman"
    r"|saleswoman|sales person|account executive|account exec|ae|agent|sdr|bdr|csm"
    r"|account manager|customer success manager|success manager|vertriebsmitarbeiter"
    r"|kundenbetreuer|betreuer|vertreter|vendedor|vendeur)\b"
)
#: Headers that name someone beside the row's person (their manager or assistant, who
#: referred them): not the customer's own address either.
_BESIDE = re.compile(r"\b(?:manager|assistant|asst|referred by|referrer|reports to)\b")
#: A header naming record ids (``OpportunityId``, ``Account Name.id``, ``Associated
#: Company IDs``): its cells are keys into another export, never a name or a value.
_ID_HEADER = re.compile(r"(?:^|\s)ids?$")
_INTERNAL_NOTE = (
    "names the CRM's own people (owner, user, creator, sales rep): never proposed as a"
    " customer's contact or company"
)
_BESIDE_NOTE = (
    "names someone beside the row's person (a manager, an assistant, a referrer): never"
    " proposed as a customer's contact or company"
)


@dataclass(frozen=True, slots=True)
class ColumnProfile:
    """What a column's sampled values look like (shares of the non-empty values)."""

    filled: int
    email: float
    site: float
    amount: float
    date: float
    phone: float
    decimal_mark: str
    date_order: str | None
    date_problem: str | None


@dataclass(frozen=True, slots=True)
class ColumnGuess:
    """A column proposed for a field, with how sure and why."""

    column: str
    confidence: float
    reason: str
    decimal_mark: str = "."
    date_order: str = "auto"


@cache
def _alias_index() -> tuple[dict[str, tuple[str, str]], list[str]]:
    exact: dict[str, tuple[str, str]] = {}
    for key, aliases in FIELD_ALIASES.items():
        for alias in aliases:
            exact.setdefault(normalise(alias), (key, alias))
    return exact, list(exact)


#: A currency a header names: in brackets (``Amount (EUR)``, ``Betrag (€)``), a sign
#: anywhere (``€ Value``), or an upper-case ISO code as a word (``Revenue in GBP``).
_BRACKETED = re.compile(r"[(\[]\s*([^()\[\]]{1,12}?)\s*[)\]]")
_SIGN = re.compile(r"(?i)(?:[a-z]{0,3}\$|[€£₹₩₽₺₪₫฿₱₦₴₸₡₲₵¥])")
_CODE_WORD = re.compile(r"\b[A-Z]{3}\b")
#: Signs several currencies write and no usual one settles.
_UNSETTLED = frozenset({"kr", "kr."})


def header_currency(header: str) -> tuple[str | None, str] | None:
    """(ISO code, as the header writes it) of the currency a header names, or None;
    the code is None where the sign is several currencies' (``kr``)."""
    found: list[str] = [m.group(1) for m in _BRACKETED.finditer(header)]
    found += [m.group(0) for m in _SIGN.finditer(header)]
    if not header.isupper():
        found += [w for w in _CODE_WORD.findall(header) if w in ISO_CODES]
    for written in found:
        if written.strip().casefold() in _UNSETTLED:
            return None, written.strip()
        try:
            return currency_code(written), written.strip()
        except TransformError:
            continue
    return None


def _without_currency(header: str) -> str:
    """The header without the currency it names (``Amount (EUR)``: ``Amount``)."""
    named = header_currency(header)
    if named is None:
        return header
    text = re.sub(r"(?i)[(\[]\s*(?:in\s*)?[)\]]", " ", header.replace(named[1], " "))
    return re.sub(r"(?i)\s+(?:in|en)\s*$", "", text.strip())


def header_candidate(header: str) -> tuple[str, float, str] | None:
    """(field, confidence, reason) the header alone suggests, or None; a currency the
    header names is left out of the match (``Amount (EUR)`` is an ``amount``)."""
    exact, names = _alias_index()
    norm = normalise(header)
    if norm not in exact and header_currency(header) is not None:
        norm = normalise(_without_currency(header)) or norm
    if norm in exact:
        key, alias = exact[norm]
        confidence = 0.75 if key == "contact.full_name" and norm == "name" else 0.95
        return key, confidence, f'header alias "{alias}"'
    found = process.extractOne(
        norm, names, scorer=fuzz.token_sort_ratio, score_cutoff=_FUZZY_CUTOFF
    )
    if found is None:
        return None
    name, score, _ = found
    key, alias = exact[name]
    return (
        key,
        round(0.55 + 0.3 * (score - _FUZZY_CUTOFF) / (100 - _FUZZY_CUTOFF), 2),
        (f'header like "{alias}" ({score:.0f}%)'),
    )


def _names_ids(header: str, reason: str) -> bool:
    """Whether ``header`` names record ids (``OpportunityId``) though the alias it matched
    (quoted in ``reason``) does not."""
    alias = reason.split('"')[1] if reason.count('"') >= 2 else ""
    return bool(_ID_HEADER.search(normalise(header))) and not _ID_HEADER.search(normalise(alias))


def _is(check: Callable[[str], object], value: str) -> bool:
    try:
        return check(value) is not None
    except ValueError:  # TransformError, or a parser tripping over a phone number
        return False


def profile_values(values: Sequence[str]) -> ColumnProfile:
    """Profile a column's sample (empty cells and placeholders ignored)."""
    filled = [v for v in (clean_text(x) for x in values) if v and v.casefold() not in _NULLS]
    n = len(filled) or 1
    share = lambda hits: round(hits / n, 3)  # noqa: E731
    email = sum(_is(first_email, v) for v in filled)
    site = sum(bool(_SITE.match(v)) and "@" not in v and not _SOCIAL.search(v) for v in filled)
    phone = sum(bool(_PHONE.match(v)) and sum(c.isdigit() for c in v) >= 7 for v in filled)
    dot = sum(_is(lambda v: parse_amount(v, "."), v) for v in filled)
    comma = sum(_is(lambda v: parse_amount(v, ","), v) for v in filled)
    mark = _decimal_mark(filled)
    order, problem = None, None
    try:
        order = infer_date_order(filled)
    except TransformError as exc:
        problem = str(exc)
    parse = date_parser(order=order or "auto")
    dates = 0 if problem else sum(_is(parse, v) for v in filled if not _PLAIN_NUMBER.match(v))
    return ColumnProfile(
        len(filled),
        share(email),
        share(site),
        share(max(dot, comma)),
        share(dates),
        share(phone),
        mark,
        order,
        problem,
    )


def _decimal_mark(values: Sequence[str]) -> str:
    """ "," when more amounts end in ",dd" than in ".dd" (``12.500,00 €``), else "."."""
    marks = [m.group(1) for m in map(_LAST_MARK.search, values) if m]
    return "," if marks.count(",") > marks.count(".") else "."


#: Fields that say who a row is: a column empty in the whole sample is never proposed
#: for them, since the header alone ("Account Site": Zoho's branch, not a web site) may
#: be wrong and the values cannot say otherwise.
_IDENTITY = frozenset({"contact.email", "account.domain"})


def _supported(key: str, profile: ColumnProfile, sampled: int) -> tuple[bool, str]:
    need = _NEEDS.get(key)
    if profile.filled == 0 and sampled and key in _IDENTITY:
        return False, (
            f"it is empty in all {sampled} sampled rows: an empty column is never proposed"
            " for a field that says who a row is"
        )
    if need is None or profile.filled == 0:
        return True, ""
    value = getattr(profile, need)
    if key.endswith("_date") and profile.date_problem:
        return False, profile.date_problem
    if need == "amount" and profile.date > 0.5:
        return False, "the values are dates"
    words = {"email": "e-mail addresses", "site": "web sites", "amount": "amounts", "date": "dates"}
    if value >= 0.6:
        return True, f", {value:.0%} of the values are {words[need]}"
    return False, f"only {value:.0%} of the values are {words[need]}"


def guess_columns(
    columns: Sequence[str], rows: Sequence[Sequence[str]]
) -> tuple[dict[str, ColumnGuess], list[tuple[str, str]]]:
    """The best column for each field, and the columns left over with a note each."""
    claims: list[tuple[float, int, str, ColumnGuess]] = []
    notes: dict[int, str] = {}
    profiles = []
    for index, column in enumerate(columns):
        profile = profile_values([row[index] for row in rows if index < len(row)])
        profiles.append(profile)
        candidate = header_candidate(column)
        internal = _internal_note(column)
        if candidate is not None and internal and candidate[0].startswith(("contact.", "account.")):
            notes[index] = internal
            continue
        if (
            candidate is not None
            and _NEEDS.get(candidate[0]) is None  # a text field: its values are not checked
            and _names_ids(column, candidate[2])
        ):
            notes[index] = (
                f"holds record ids (keys into another export), not {candidate[0]}: give"
                " that export with --with where a preset links it"
            )
            continue
        if candidate is not None:
            key, confidence, reason = candidate
            ok, why = _supported(key, profile, len(rows))
            if ok:
                claims.append(
                    (
                        min(0.99, confidence + (0.04 if why else 0)),
                        index,
                        key,
                        _guess(column, confidence, reason + why, profile),
                    )
                )
                continue
            notes[index] = f"header suggests {key} but {why}"
        by_value = _by_value(column, profile)
        if by_value is not None and internal:
            notes.setdefault(index, internal)
        elif by_value is not None:
            claims.append((by_value[0], index, by_value[1], by_value[2]))
    chosen: dict[str, ColumnGuess] = {}
    used: set[int] = set()
    for confidence, index, key, guess in sorted(
        claims, key=lambda c: (-c[0], c[1], _PRIORITY.index(c[2]))
    ):
        if key == "account.domain" and key in chosen and index not in used:
            key = SECOND_SITE  # a second web-site column: its rows' sites where the first is empty
        if key in chosen or index in used:
            if index not in used:
                notes.setdefault(index, f"also fits {key}; {chosen[key].column!r} was used")
            continue
        if key == "contact.email":
            team = _team_addresses(index, columns, rows)
            if team is not None:
                notes[index] = team
                continue
        if key in ("account.domain", SECOND_SITE):
            one = _one_domain([row[index] for row in rows if index < len(row)])
            if one is not None:
                notes[index] = (
                    f"every row of the sample has the company domain {one}: most likely your"
                    " own company, not your customers'; not proposed"
                )
                continue
        chosen[key] = ColumnGuess(
            guess.column, round(confidence, 2), guess.reason, guess.decimal_mark, guess.date_order
        )
        used.add(index)
    _name_of_deals(chosen)
    leftover = [
        (c, notes.get(i) or _describe(profiles[i])) for i, c in enumerate(columns) if i not in used
    ]
    return chosen, leftover


def _internal_note(column: str) -> str | None:
    """Why a header names someone other than the customer (a rep, an owner, a manager), or
    None: word by word, so "Email" or "Job Title" are not caught by "ae" or "manager"."""
    norm = normalise(column)
    if _INTERNAL.search(norm):
        return _INTERNAL_NOTE
    return _BESIDE_NOTE if _BESIDE.search(norm) else None


def _name_of_deals(chosen: dict[str, ColumnGuess]) -> None:
    """A bare "Name" in a file of deals (amounts, stages, close dates) and of no people
    (no e-mail column) is the deal's name, not a person's (Salesforce's Opportunity)."""
    named = chosen.get("contact.full_name")
    deals = [k for k in chosen if k.startswith("opportunity.")]
    if (
        named is None
        or normalise(named.column) != "name"
        or "opportunity.name" in chosen
        or "contact.email" in chosen
        or len(deals) < 2
    ):
        return
    del chosen["contact.full_name"]
    chosen["opportunity.name"] = ColumnGuess(
        named.column,
        0.7,
        f'header "{named.column}" in a file of deals ({len(deals)} deal columns, no e-mail'
        " column): the deal's name",
        named.decimal_mark,
        named.date_order,
    )


_NAME_KEYS = ("contact.first_name", "contact.last_name", "contact.full_name")


def _team_addresses(
    index: int, columns: Sequence[str], rows: Sequence[Sequence[str]]
) -> str | None:
    """Why the e-mail column at ``index`` is the user's own team, or None.

    A team's column (a rep per row, whatever its header) holds a few addresses, all at
    one company domain, each repeated on rows of different people. A customer who comes
    back on several rows keeps their name, so that alone never counts; without a name
    column nothing is said. Conservative: 6 filled rows at least, at most a third as
    many addresses as rows, and most addresses under two names or more.
    """
    named = [
        i
        for i, c in enumerate(columns)
        if i != index
        and not _internal_note(c)
        and (found := header_candidate(c)) is not None
        and found[0] in _NAME_KEYS
    ]
    if not named:
        return None
    names: dict[str, set[str]] = {}
    filled = 0
    for row in rows:
        cell = clean_text(row[index]) if index < len(row) else ""
        if not cell or cell.casefold() in _NULLS:
            continue
        try:
            address = first_email(cell)
        except ValueError:
            return None  # not all addresses: not a team's column to speak of
        filled += 1
        name = " ".join(" ".join(row[i] for i in named if i < len(row)).split()).casefold()
        names.setdefault(address.casefold(), set()).update([name] if name else [])
    domains = {a.rpartition("@")[2] for a in names}
    if filled < 6 or len(domains) != 1 or len(names) * 3 > filled:
        return None
    (domain,) = domains
    if is_personal_domain(domain):
        return None
    shared = sum(len(people) >= 2 for people in names.values())
    if shared * 2 < len(names):
        return None
    return (
        f"{len(names)} addresses at {domain} on {filled} rows of different people: most"
        " likely your own team (a rep per row), not your customers; not proposed as"
        " contact.email"
    )


#: The guess of a second column of web sites (``account.domain`` reads both, in order).
SECOND_SITE = "account.domain+"


def _one_domain(values: Sequence[str]) -> str | None:
    """The domain every filled value of a sample shares (3 or more values), or None."""
    found = set()
    for value in values:
        value = clean_text(value)
        if not value or value.casefold() in _NULLS:
            continue
        try:
            found.add(_to_domain(value))
        except TransformError:
            return None
    filled = sum(1 for v in values if clean_text(v) and clean_text(v).casefold() not in _NULLS)
    return next(iter(found)) if len(found) == 1 and filled >= 3 else None


def _guess(column: str, confidence: float, reason: str, profile: ColumnProfile) -> ColumnGuess:
    return ColumnGuess(
        column, confidence, reason, profile.decimal_mark, profile.date_order or "auto"
    )


#: Headers of columns whose links are files (a deal's pictures), never a company's site.
_FILE_HEADER = re.compile(
    r"\b(pictures?|images?|photos?|logos?|avatars?|attachments?|files?|documents?|pdfs?)\b"
)


def _by_value(column: str, profile: ColumnProfile) -> tuple[float, str, ColumnGuess] | None:
    if profile.filled == 0:
        return None
    if profile.email >= 0.8:
        confidence = round(0.55 + 0.3 * profile.email, 2)
        reason = f"{profile.email:.0%} of the values are e-mail addresses"
        return confidence, "contact.email", _guess(column, confidence, reason, profile)
    if profile.site >= 0.8 and not _FILE_HEADER.search(normalise(column)):
        confidence = round(0.5 + 0.3 * profile.site, 2)
        reason = f"{profile.site:.0%} of the values are web sites"
        return confidence, "account.domain", _guess(column, confidence, reason, profile)
    return None


def _describe(profile: ColumnProfile) -> str:
    if profile.filled == 0:
        return "empty in the sample"
    if profile.date_problem:
        return f"dates whose order is unclear: {profile.date_problem}"
    if profile.date >= 0.8:
        return f"dates ({profile.date_order or 'year first'}); no Octolane field matched the header"
    if profile.phone >= 0.8:
        return "phone numbers (Octolane's Inbound API has no phone field)"
    if profile.email >= 0.8:
        return "e-mail addresses (another column was used)"
    if profile.amount >= 0.8:
        return (
            f"numbers/amounts (decimal mark {profile.decimal_mark!r}); no field matched the header"
        )
    return "no Octolane field matched"
