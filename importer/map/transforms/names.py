"""Split a full name into first and last name.

Rules, in order (every choice is a heuristic; CRMs keep no more structure):

* Only the first of several ``;``-joined names is used (HubSpot associations).
* Bracketed parts are dropped: ``Jo Smith (jo@acme.com)``, ``<jo@acme.com>``,
  ``(Deactivated User)``, a quoted nickname ``"Bob"``; so are bare addresses.
* ``Last, First`` is recognised by a comma, unless all that follows the comma
  is a suffix (``John Smith, Jr.``).
* Honorifics in front (``Mr``, ``Dr.``, ``Prof``, ``Sir/Madam`` ...) and
  suffixes at the end (``Jr.``, ``III``, ``PhD`` ...) are dropped.
* One word is a first name only (``Madonna``), unless an honorific came before it:
  ``Mr Roax`` is a family name.
* In a cell that holds an address, the address's pieces are no name (a broken
  ``hello@yourhyph, en.co.uk`` names nobody).
* Particles start the last name: ``Jane van der Berg`` → ``Jane`` / ``van der Berg``;
  ``Ortega y Gasset`` keeps its ``y``.
* Otherwise the last word is the last name, and earlier words the first name
  (``Sergei Gareth Watanabe`` → ``Sergei Gareth`` / ``Watanabe``), except with
  four or more words, where the last two are the last name: Spanish and
  Portuguese double surnames (``José María García López`` → ``José María`` /
  ``García López``).
* CJK names: written without a space (``田中太郎``) they cannot be split
  reliably (family names have one or two characters), so the whole name is the
  first name; written with a space (``田中 太郎``) the family name comes first.
"""

from __future__ import annotations

import functools
import re

from importer.map.transforms.cells import clean_text

__all__ = ["dropped_titles", "salutation_only", "split_full_name"]

_BRACKETED = re.compile(r"\([^)]*\)?|<[^>]*>?|\[[^\]]*\]?|\"[^\"]*\"|“[^”]*”")
_BRACKET = re.compile(r"[(<\[\"“]")
_HONORIFICS = frozenset(
    str.split(
        "mr mrs ms miss mx dr prof professor sir madam dame lady lord rev revd reverend fr "
        "father hon herr frau mme mlle sr sra srta sres dott dssa ing lic mag capt"
    )
)
#: Titles that are also given names, as written without a dot ("Hon Li": Hon is his name).
_GIVEN_TITLES = frozenset({"Hon", "HON"})
#: What joins two titles ("Mr. and Mrs.", "Sr. y Sra.", "Sir or Madam", "Sir / Madam").
_TITLE_JOINERS = frozenset({"and", "&", "y", "e", "et", "und", "i", "or", "/"})
#: What may come before a title and is no name ("The Hon. John Smith", "Dear Sir/Madam",
#: a letter's greeting where the name should be).
_BEFORE_TITLES = frozenset({"the", "dear", "attn", "attn:", "attention", "to"})
_SUFFIXES = frozenset(
    str.split("jr jnr sr snr ii iii iv phd md dds dmd esq cpa mba jd rn cfa pmp obe mbe cbe kc qc")
)
#: A company's legal form: after a comma (``Acme, Inc.``) the cell names a company.
_LEGAL_FORMS = frozenset(
    str.split(
        "inc incorporated llc llp ltd limited plc corp corporation gmbh ag kg sa sas sarl srl"
        " spa bv nv pty co company cos lp pllc pc pvt private oy oyj asa sl slu cv rl kgaa"
        " sro kft zrt doo aps bhd sdn kk ltda eirl snc ohg ug gbr bvba sprl pte jsc ooo"
        " pjsc tbk sab oo ggmbh sca scs"
    )
)
#: Forms that are also given names ("Ab", "As"): a form only in capitals ("Volvo, AB").
_CAPITAL_FORMS = frozenset({"ab", "as", "se"})
#: What joins a form's words ("S.A. de C.V.", "GmbH & Co. KG", "sp. z o.o."): no form alone.
_FORM_JOINERS = frozenset({"&", "and", "de", "z", "s", "sp", "y", "und", "cie"})
_PARTICLES = frozenset(
    str.split(
        "van von der den de del della delle dei degli di da das dos du la le lo ter ten te "
        "st saint bin binti bint ibn al el af av zu vom zum zur op het"
    )
)
_CONNECTORS = frozenset({"y", "i"})
_CJK = re.compile(r"^[\u1100-\u11ff\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff]+$")


def _word(token: str) -> str:
    """A token as the honorific/suffix tables spell it: lower case, no dots or commas."""
    return token.lower().replace(".", "").strip(",")


def _is_honorific(token: str) -> bool:
    if "/" not in token:
        return _word(token) in _HONORIFICS
    return all(_word(part) in _HONORIFICS for part in token.split("/"))


def _drop_titles(tokens: list[str]) -> list[str]:
    start, end = _title_span(tokens)
    return tokens if (start, end) == (0, len(tokens)) else tokens[start:end]


def _title_span(tokens: list[str]) -> tuple[int, int]:
    """Where the name is among ``tokens``: the titles in front and suffixes behind it
    are outside ``tokens[start:end]``."""
    start, end = 0, len(tokens)
    if end == 2 and tokens[0] in _GIVEN_TITLES:  # "Hon Li": a given name, not "Hon."
        return start, end
    while start < end and (
        _is_honorific(tokens[start])
        or (  # "Mr. and Mrs. Smith": one title of two people; "The Hon. John Smith"; "Dear Sir"
            start < end - 1
            and tokens[start].lower() in (_TITLE_JOINERS if start else _BEFORE_TITLES)
            and _is_honorific(tokens[start + 1])
        )
    ):
        start += 1
    while end > start + 1 and _word(tokens[end - 1]) in _SUFFIXES:
        end -= 1
    return start, end


def _last_name_start(tokens: list[str]) -> int:
    count = len(tokens)
    for index in range(1, count - 1):
        word = tokens[index].lower().rstrip(".")
        if word in _PARTICLES:
            return index
        if tokens[index] in _CONNECTORS and index > 1:
            return index - 1
    return count - 2 if count >= 4 else count - 1


def _split_words(tokens: list[str]) -> tuple[str | None, str | None]:
    titled = bool(tokens) and _is_honorific(tokens[0])
    tokens = _drop_titles(tokens)
    if not tokens:
        return None, None
    if len(tokens) == 1:  # "Madonna"; but "Mr Roax" is Mr. Roax: a family name
        return (None, tokens[0]) if titled else (tokens[0], None)
    if not tokens[0].isascii() and all(_CJK.match(token) for token in tokens):
        return " ".join(tokens[1:]), tokens[0]
    start = _last_name_start(tokens)
    return " ".join(tokens[:start]), " ".join(tokens[start:])


def _tokens(text: str) -> list[str]:
    tokens = text.replace(",", " ").split()
    if "@" in text or not all(t.isalnum() for t in tokens):  # addresses, lone dashes or dots
        tokens = [t for t in tokens if "@" not in t and t.strip("-–—.'")]
        if "@" in text:  # a broken address's pieces are no name: "hello@yourhyph, en.co.uk"
            tokens = [t for t in tokens if not _HOST_PIECE.search(t)]
    return tokens


#: A dot between two letters or digits: a host name's piece (en.co.uk), not "J." or "St.".
_HOST_PIECE = re.compile(r"\w\.\w")


@functools.lru_cache(maxsize=1 << 16)
def unsplittable(text: str) -> str | None:
    """Why a full name cannot be split into first and last name without a guess that
    changes it, or None. A part in brackets, a title (``Dr``) and a second person after
    ``;`` are left out as documented; what is named here would be lost or misplaced
    unsaid: a word with an ``@`` (``Alejandro @Peter Thaktos``: the word would go), a
    ``/`` (two people: ``ING. A / ING. B``), a lone dash (``Kata - Engeen``: a name, then
    something else), a lower-case letter after a comma (``Lopung, i``) or a company's
    legal form after it (``Acme, Inc.``: a company, not Inc. Acme).

    >>> unsplittable("Alejandro @Peter Thaktos"), unsplittable("Smith, J."), unsplittable("Mary-Jane O'Neil")
    ("it holds '@Peter'", None, None)
    >>> unsplittable("Acme, Inc."), unsplittable("Smith, Jo")
    ("it names a company ('Inc.' after the comma)", None)
    >>> unsplittable("Globex, S.A. de C.V.") is not None, unsplittable("Jansen, Ab")
    (True, None)
    """
    text = clean_text(text).partition(";")[0]
    if _BRACKET.search(text):
        text = _BRACKETED.sub(" ", text)
    words = text.replace(",", " ").split()
    named = any("@" not in word and word.strip("-–—.'") for word in words)
    for word in words:
        if ("@" in word and named) or (
            "/" in word and not all(map(_is_honorific, word.split("/")))
        ):  # (addresses alone are no name to lose; "Sir/Madam" is a title, left out)
            return f"it holds {word!r}"
    if any(word in ("-", "–", "—") for word in words):
        return "it holds a lone dash: a name, then something else"
    family, comma, given = text.partition(",")
    after = given.strip().rstrip(".")
    if comma and len(after) == 1 and after.islower():
        return f"its part after the comma is the one letter {after!r}"
    if comma and family.strip() and _legal_form(given.split()):
        return f"it names a company ({given.strip()!r} after the comma)"
    return None


def _legal_form(tokens: list[str]) -> bool:
    """Whether ``tokens`` are a company's legal form (``Inc.``, ``S.A. de C.V.``,
    ``AB``; not ``Ab``, a given name), every one of them."""
    forms = 0
    for token in tokens:
        word = _word(token)
        if word in _LEGAL_FORMS or (word in _CAPITAL_FORMS and token.strip(".,").isupper()):
            forms += 1
        elif word not in _FORM_JOINERS:
            return False
    return forms > 0


@functools.lru_cache(maxsize=1 << 16)
def dropped_titles(text: str) -> str | None:
    """What :func:`split_full_name` leaves out of the name as a title or a suffix, said
    for the row (an Octolane contact has no field for either), or None.

    >>> dropped_titles("Dr. Jane van der Berg"), dropped_titles("John Smith, Jr.")
    ("title 'Dr.'", "suffix 'Jr.'")
    >>> dropped_titles("Smith, Prof. John III"), dropped_titles("Jo Smith")
    ("title 'Prof.' and suffix 'III'", None)
    """
    text = _first_name_text(text)
    family, comma, given = text.partition(",")
    tokens = _tokens(text)
    given_tokens = _tokens(given)
    if (
        comma
        and not all(_word(t) in _SUFFIXES for t in given_tokens)
        and _drop_titles(given_tokens)
        and _tokens(family)
    ):
        tokens = given_tokens  # (split_full_name's "Last, First": its titles are here)
    start, end = _title_span(tokens)
    said = []
    if start:
        said.append(f"title {' '.join(tokens[:start])!r}")
    if end < len(tokens):
        said.append(f"suffix {' '.join(tokens[end:])!r}")
    return " and ".join(said) or None


def salutation_only(text: str) -> bool:
    """Whether the name is titles alone, a salutation where a name should be: Pipedrive
    writes 'Sir/Madam' for a person it has no name of. Nothing of it is a name.

    >>> salutation_only("Sir/Madam"), salutation_only("Sir or Madam"), salutation_only("Mr.")
    (True, True, True)
    >>> salutation_only("Dr. Jo Smith"), salutation_only("Mr Roax"), salutation_only("")
    (False, False, False)
    """
    tokens = _tokens(_first_name_text(text))
    return bool(tokens) and _title_span(tokens)[0] == len(tokens)


def _first_name_text(text: str) -> str:
    """The first of a cell's ``;``-joined names, its bracketed parts left out."""
    text = clean_text(text).partition(";")[0]
    return _BRACKETED.sub(" ", text) if _BRACKET.search(text) else text


def split_full_name(text: str) -> tuple[str | None, str | None]:
    """``(first_name, last_name)`` of a full name; either may be None.

    >>> split_full_name("Dr. Jane van der Berg")
    ('Jane', 'van der Berg')
    >>> split_full_name("Smith, John")
    ('John', 'Smith')
    >>> split_full_name("Carmen Maddox (cmaddox@mtnskyumc.org);Teresa Jones (t@xy.com)")
    ('Carmen', 'Maddox')
    """
    text = clean_text(text).partition(";")[0]
    if _BRACKET.search(text):
        text = _BRACKETED.sub(" ", text)
    family, comma, given = text.partition(",")
    if comma and not all(_word(t) in _SUFFIXES for t in _tokens(given)):
        given_tokens = _drop_titles(_tokens(given))
        family_tokens = _tokens(family)
        if given_tokens and family_tokens:
            return " ".join(given_tokens), " ".join(family_tokens)
    return _split_words(_tokens(text))
