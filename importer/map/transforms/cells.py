"""What every value transform shares: the error it raises and how cell text is cleaned.

Kept apart from :mod:`importer.map.transforms` so that the value parsers
(:mod:`importer.map.transforms.dates`, :mod:`importer.map.transforms.money`, :mod:`importer.map.transforms.domains`, ...) can
raise :class:`TransformError` without importing the registry.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Sequence
from typing import Any

__all__ = [
    "FORMULA_HIDERS",
    "FORMULA_START",
    "NULLIFY_VALUES",
    "NULL_VALUES",
    "TransformError",
    "clean_text",
    "formula_like",
    "hidden_characters",
    "memoise",
    "quote",
]

#: Placeholders that mean "no value" in every column: the default of the mapping's
#: ``options.null_values``, applied to each cell before any transform.
NULL_VALUES = ("null", "none", "n/a", "#n/a", "[not provided]", "undefined")
#: What the ``nullify`` transform also empties by default, in the columns a mapping names
#: for it: there a lone ``-`` or ``na`` is a placeholder, while file-wide it may be data.
NULLIFY_VALUES = (*NULL_VALUES, "na", "-", "—")
#: First characters that make a spreadsheet run a cell as a formula. The results and
#: failures files prefix such cells with an apostrophe; reading a failures file back
#: takes the apostrophe off again, so a re-import round-trips.
FORMULA_START = frozenset("=+-@\t\r")
#: Invisible characters a spreadsheet may skip before a formula's first character.
FORMULA_HIDERS = "\u00a0\ufeff\u200b\u200c\u200d\u2060\u202f\u2007"


def formula_like(text: str) -> bool:
    """Whether a spreadsheet could run ``text`` as a formula: it starts with one of
    :data:`FORMULA_START`, or does after invisible characters (NBSP, BOM, zero-width)."""
    if not text:
        return False
    if text[0] in FORMULA_START:
        return True
    return text[0] in FORMULA_HIDERS and text.lstrip(FORMULA_HIDERS)[:1] in FORMULA_START


#: Characters that never belong in a CRM value and change what a reader sees: C0 and C1
#: control characters other than tab and line breaks (NUL, ESC, DOS ^Z, ...) and the
#: bidirectional embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069), which
#: can show ``moc.emca@nna`` as ``ann@acme.com``.
_HIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def hidden_characters(values: Sequence[str | None]) -> dict[int, tuple[str, str]]:
    """The values holding hidden characters: index -> (the value without them, what was found).

    One scan of the whole batch at C speed when there are none (the usual case).

    >>> hidden_characters(["Ann", "A\\x00nn", None])
    {1: ('Ann', 'U+0000 (a control character)')}
    """
    try:
        joined = "".join(values)  # type: ignore[arg-type]
    except TypeError:  # some are None
        joined = "".join(filter(None, values))
    if joined.isascii():
        if not joined.encode("ascii").translate(None, _PLAIN_ASCII):
            return {}
    elif not _HIDDEN.search(joined):
        return {}
    found: dict[int, tuple[str, str]] = {}
    for i, value in enumerate(values):
        if value and not value.isprintable() and (chars := _HIDDEN.findall(value)):
            names = [_character(c) for c in dict.fromkeys(chars)]
            found[i] = (_HIDDEN.sub("", value), ", ".join(names))
    return found


_PLAIN_ASCII = bytes(range(0x20, 0x7F)) + b"\t\n\r"  # what is left of ASCII is hidden


def _character(char: str) -> str:
    name = unicodedata.name(char, "")
    return f"U+{ord(char):04X} ({name or 'a control character'})"


# Every character Python's str.isspace() accepts (NBSP, narrow NBSP, ideographic space, ...)
# plus invisible format characters that spreadsheets and web copy-paste leave behind.
_WHITESPACE = "".join(chr(c) for c in range(0x3001) if chr(c).isspace())
_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
_STRIPPED = _WHITESPACE + _INVISIBLE + "\u2066\u2067\u2068\u2069"
# Removed anywhere in the text: they never carry meaning in CRM data. Zero-width (non-)joiners
# are kept inside the text because Persian, Indic scripts and emoji need them.
_REMOVED_INSIDE = ("\u200b", "\u2060", "\ufeff", "\u00ad", "\u200e", "\u200f")


class TransformError(ValueError):
    """A value cannot be transformed; the message quotes it and says why.

    Example:
        >>> raise TransformError("'12,5,0' is not an amount")
        Traceback (most recent call last):
        ...
        importer.map.transforms.cells.TransformError: '12,5,0' is not an amount
    """


def clean_text(text: str) -> str:
    """Strip whitespace (NBSP included) and invisible characters from both ends.

    Zero-width spaces, BOMs, soft hyphens and direction marks are also removed
    from inside the text. Internal runs of spaces are kept as they are.

    >>> clean_text("\\u00a0 Acme\\u200b Corp \\ufeff")
    'Acme Corp'
    """
    text = text.strip(_STRIPPED)
    if not text.isascii():
        for char in _REMOVED_INSIDE:
            if char in text:
                text = text.replace(char, "")
    return text


def quote(value: object, limit: int = 80) -> str:
    """The value as a message quotes it: repr, cut to ``limit`` characters."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 4] + "...'"


class _Failure:
    """A cached "cannot transform" answer (a fresh error is raised each time)."""

    __slots__ = ("message",)

    def __init__(self, message: str) -> None:
        self.message = message


def memoise(parse: Callable[[str], Any], maxsize: int = 1 << 16) -> Callable[[str], Any]:
    """An LRU-cached ``parse`` that remembers its TransformErrors as well as its results.

    Values repeat across a million rows (the same domain, date or amount), and so
    do bad values; both cost one dictionary lookup after the first time.
    """

    @functools.lru_cache(maxsize=maxsize)
    def cached(text: str) -> Any:
        try:
            return parse(text)
        except TransformError as exc:
            return _Failure(str(exc))

    def call(text: str) -> Any:
        result = cached(text)
        if type(result) is _Failure:
            raise TransformError(result.message)
        return result

    call.cache_info = cached.cache_info  # type: ignore[attr-defined]
    call.__doc__ = parse.__doc__
    return call
