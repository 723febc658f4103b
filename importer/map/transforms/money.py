"""Amounts as CRMs and spreadsheets write them, to exact decimals.

Accepted, with or without a currency (a symbol or an ISO 4217 code, before or
after; it is dropped, never converted):

* thousands separators ``,`` ``.`` space, NBSP, narrow NBSP, ``'`` (Swiss) and
  Indian lakh grouping ``12,34,567``;
* a decimal mark given by the mapping (``.`` or ``,``), or ``auto``;
* negatives as ``-1,200``, ``1,200-``, ``−1200`` and accounting ``(1,200.00)``;
* scientific notation (Salesforce Data Loader: ``3.5E8``);
* a multiplier suffix: ``k`` thousand, ``m``/``mm``/``mn``/``mio`` million,
  ``b``/``bn`` billion, any case (so ``M`` is a million, not the Roman thousand);
* a lone dash (``-``, ``—``, ``$ -``, Excel's accounting zero) means no amount.

How one separator is read (``1,234`` / ``1.234`` / ``12,5``):

* when both ``.`` and ``,`` appear, the last one is the decimal mark, whatever
  the mapping says (``12.500,00`` can only be twelve thousand five hundred);
* a mark that appears more than once is a thousands separator (``1.234.567``);
* a single mark that is the configured decimal mark is decimal (``1.234`` with
  ``.`` is 1.234); a single other mark followed by exactly three digits is a
  thousands separator (``1,234`` with ``.`` is 1234); followed by other than
  three digits it is an error (``12,5`` with ``.``: set ``decimal_mark: ","``);
* with ``auto``, a single mark followed by three digits is ambiguous and an
  error; otherwise it is the decimal mark.

``strict=True`` (what a mapping's ``money`` transform uses, once the column's mark
is known) refuses a value that contradicts the mark instead of reading it another
way: ``1.234,50`` or ``1.234.567`` in a ``.`` column is an error, not a number.

A column's mark is decided from all of its sampled values by
:func:`decide_decimal_mark`, as a column's date order is: ``29.000,50`` or
``12,5`` say ``,``; ``$1,200.50`` or ``12.5`` say ``.``; a column whose only
separators are a ``.`` followed by exactly three digits (``29.000``, ``16.750``)
writes thousands with it, so its decimal mark is ``,``. A column that says both,
or a mapping whose ``decimal_mark`` the values contradict, is refused with two
example cells.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Literal

from importer.map.transforms.cells import TransformError, clean_text, quote

__all__ = [
    "ISO_CODES",
    "NUMBER_CELL",
    "PLAIN_AMOUNT",
    "ColumnMark",
    "DecimalMark",
    "amount_parts",
    "decide_decimal_mark",
    "parse_amount",
    "parse_dollars",
    "to_dollars",
]

DecimalMark = Literal[".", ",", "auto"]

ISO_CODES = frozenset(
    str.split(
        """AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN
        BWP BYN BZD CAD CDF CHF CLF CLP CNH CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR
        FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY
        KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU
        MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RMB RON
        RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND
        TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XOF XPF YER ZAR ZMW ZWL"""
    )
)
_CURRENCY = (
    r"(?:[A-Za-z]{3}|[A-Z]{1,3}\$|R\$|S/\.?|Rs\.?|kr\.?|Kč|zł|Ft|lei|Fr\.?|R|"
    r"[$€£¥₹₩₽₺₪₫฿₱₦₴₸₡₲₵₨﷼¤])"
)
_MULTIPLIERS = {"k": 3, "m": 6, "mm": 6, "mn": 6, "mio": 6, "b": 9, "bn": 9}
_AMOUNT = re.compile(
    rf"""(?P<open>\()?\s*(?P<sign1>[-+−])?\s*(?P<cur1>{_CURRENCY})?\s*(?P<open2>\()?\s*
    (?P<sign2>[-+−])?\s*
    (?P<number>\d[\d.,'’\s]*\d|\d|[.,]\d+)(?:[eE](?P<exp>[-+]?\d{{1,3}}))?
    \s*(?P<mult>(?i:k|mm|mn|mio|m|bn|b)(?![A-Za-z]))?
    \s*(?P<cur2>{_CURRENCY})?\s*(?P<sign3>-)?\s*(?P<close>\))?\s*(?P<close2>\))?""",
    re.VERBOSE,
)
_SEPARATOR = re.compile(r"([.,'’\s])")
# The common shapes per decimal mark ("45362.12", "$12,500.00", "12.500,00 €", "-1200"),
# read without the general grammar. Fractions of up to 2 digits need no rounding.
_SIMPLE = {
    ".": re.compile(r"(-?)[$€£]?([1-9]\d{0,2}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?"),
    ",": re.compile(
        r"(-?)[$€£]?([1-9]\d{0,2}(?:([. ])\d{3})(?:\3\d{3})*|\d+)(?:,(\d{1,2}))?(?: ?€)?"
    ),
    "auto": re.compile(r"(-?)[$€£]?(\d+)(?:[.,](\d{1,2}))?"),
}
_DASHES = frozenset("-–—−")
_CENT = Decimal("0.01")
_LIMIT = Decimal("1e15")


def amount_parts(text: str) -> list[str]:
    """The currency codes or symbols an amount cell writes, in order (``[]``: none)."""
    match = _AMOUNT.fullmatch(clean_text(text))
    if match is None:
        return []
    return [token for token in (match["cur1"], match["cur2"]) if token]


def _check_currency(token: str | None, text: str) -> None:
    is_code = token and token.isalpha() and len(token) == 3 and token.isascii()
    if is_code and token is not None and token.upper() not in ISO_CODES:
        raise TransformError(f"{quote(text)} is not an amount ({token!r} is not a currency)")


def _is_grouped(groups: list[str], separator: str) -> bool:
    """Thousands grouping: 1,234,567 (or Indian 12,34,567 with commas)."""
    head, rest = groups[0], groups[1:]
    if not rest:
        return True
    if head.startswith("0") or not all(g.isdigit() for g in groups):
        return False
    if 1 <= len(head) <= 3 and all(len(g) == 3 for g in rest):
        return True
    indian = len(head) <= 2 and all(len(g) == 2 for g in rest[:-1]) and len(rest[-1]) == 3
    return separator == "," and indian


def _decimal_index(
    separators: list[str], groups: list[str], mark: DecimalMark, text: str, strict: bool = False
) -> int:
    """Index of the separator that is the decimal mark, or -1 when there is none."""
    last = separators[-1]
    if last not in ".,":
        return -1
    if len(separators) > 1 and last not in separators[:-1]:
        if strict and mark != "auto" and last != mark:
            raise TransformError(_contradiction(text, mark, last))
        return len(separators) - 1  # mixed marks: the last one is decimal
    if separators.count(last) > 1:
        if strict and last == mark:
            raise TransformError(
                f"{quote(text)} repeats {mark!r}, the column's decimal mark, as a thousands"
                " separator"
            )
        return -1  # repeated: thousands
    if last == mark:
        return len(separators) - 1
    if len(groups[-1]) != 3 and mark == "auto":
        return len(separators) - 1
    if len(groups[-1]) == 3 and mark != "auto":
        return -1
    if mark == "auto":
        raise TransformError(
            f"{quote(text)} is ambiguous: {last!r} could be the decimal mark or a thousands "
            "separator; set decimal_mark: '.' or ',' in the mapping"
        )
    raise TransformError(
        f"{quote(text)} is not an amount with decimal mark {mark!r} "
        f"(if {last!r} is the decimal mark here, set decimal_mark: {last!r})"
    )


def _contradiction(text: str, mark: str, found: str) -> str:
    return (
        f"{quote(text)} is written with {found!r} as its decimal mark, but the column's"
        f" decimal mark is {mark!r}; fix the cell or the mapping's decimal_mark"
    )


def _canonical(
    number: str, mark: DecimalMark, scientific: bool, text: str, strict: bool = False
) -> str:
    """``number`` as plain digits with an optional ``.`` fraction."""
    parts = _SEPARATOR.split(number)
    groups, separators = parts[0::2], parts[1::2]
    if not separators:
        return number
    if scientific and len(separators) == 1 and separators[0] in ".,":
        return f"{groups[0] or '0'}.{groups[1]}"
    if _decimal_index(separators, groups, mark, text, strict) < 0:
        whole, thousands, fraction = groups, separators, None
    else:
        whole, thousands, fraction = groups[:-1], separators[:-1], groups[-1]
    if len(set(thousands)) > 1 or (thousands and not _is_grouped(whole, thousands[0])):
        raise TransformError(f"{quote(text)} is not an amount (misplaced separators)")
    integer = "".join(whole) or "0"
    return integer if fraction is None else f"{integer}.{fraction}"


def parse_amount(
    text: str, decimal_mark: DecimalMark = ".", *, strict: bool = False
) -> Decimal | None:
    """The exact amount in ``text``, or None for an empty cell or a lone dash.

    ``strict``: a value that writes another decimal mark than ``decimal_mark`` is an
    error (see the module docstring).

    Raises:
        TransformError: the text is not an amount, or its separator is ambiguous.

    >>> parse_amount("12.500,00 €"), parse_amount("(1,200.00)"), parse_amount("3.5E8")
    (Decimal('12500.00'), Decimal('-1200.00'), Decimal('3.5E+8'))
    """
    cleaned = clean_text(text)
    core = cleaned.strip(" $€£¤")
    if not core or set(core) <= _DASHES:
        return None
    if strict and decimal_mark != "auto":
        _refuse_thousands(text, decimal_mark)
    match = _AMOUNT.fullmatch(cleaned)
    if match is None or bool(match["open"] or match["open2"]) != bool(
        match["close"] or match["close2"]
    ):
        raise TransformError(f"{quote(text)} is not an amount")
    _check_currency(match["cur1"], text)
    _check_currency(match["cur2"], text)
    signs = [match[g] for g in ("sign1", "sign2", "sign3") if match[g]]
    negative = any(s != "+" for s in signs) or bool(match["open"] or match["open2"])
    if len(signs) > 1:
        raise TransformError(f"{quote(text)} is not an amount (more than one sign)")
    canonical = _canonical(match["number"], decimal_mark, bool(match["exp"]), text, strict)
    try:
        amount = Decimal(canonical)
    except InvalidOperation:
        raise TransformError(f"{quote(text)} is not an amount") from None
    if match["exp"]:
        amount = amount.scaleb(int(match["exp"]))
    if match["mult"]:
        amount = amount.scaleb(_MULTIPLIERS[match["mult"].lower()])
    if amount >= _LIMIT:
        raise TransformError(f"{quote(text)} is too large to be an amount")
    return -amount if negative else amount


def to_dollars(amount: Decimal, *, cents: bool = False, exact: bool = False) -> float:
    """An amount as the API's number: in units (not cents), rounded half-up to 2 decimals
    (``exact``: not rounded, a rate's every decimal kept)."""
    if cents:
        amount = amount / 100
    if exact:
        return float(amount) + 0.0
    return float(amount.quantize(_CENT, rounding=ROUND_HALF_UP)) + 0.0  # no -0.0


def parse_dollars(
    text: str,
    decimal_mark: DecimalMark = ".",
    *,
    cents: bool = False,
    strict: bool = False,
    exact: bool = False,
) -> float | None:
    """:func:`parse_amount` then :func:`to_dollars`, with a fast path for plain numbers.

    >>> parse_dollars("$12,500.00"), parse_dollars("12.500,00 €", ","), parse_dollars("-")
    (12500.0, 12500.0, None)
    """
    if strict and decimal_mark != "auto":
        _refuse_thousands(text, decimal_mark)
    simple = None if cents else _SIMPLE[decimal_mark].fullmatch(text)
    if simple:
        whole, fraction = simple[2], simple[simple.re.groups]
        if decimal_mark != "auto":  # drop the thousands separators
            whole = whole.replace(simple[3] if decimal_mark == "," and simple[3] else ",", "")
        # Correctly rounded either way: float() of the text equals float() of its Decimal.
        number = float(f"{whole}.{fraction}" if fraction else whole)
        return -number if simple[1] and number else number
    amount = parse_amount(text, decimal_mark, strict=strict)
    return None if amount is None else to_dollars(amount, cents=cents, exact=exact)


#: How a spreadsheet's number cell reads once it is text (importer.read's Excel reader: an
#: integer, or a float's shortest repr, whose decimals never end in 0; then a no-break
#: space and the currency its number format shows, if it shows one): a text cell
#: "29.000" is not one, and is read with its column's decimal mark.
NUMBER_CELL = re.compile(r"-?\d+(?:\.\d*[1-9])?(?:\u00a0[^\s\d]{1,4})?")
#: The plain amount cell, "45362.12": :func:`parse_dollars` reads it as ``float(cell)``
#: with "." (or an undecided mark), and it writes no currency.
PLAIN_AMOUNT = re.compile(r"[0-9]+(?:\.[0-9]{1,2})?")

# ---- a column's decimal mark ---------------------------------------------------------

ColumnMark = Literal[".", ","]
#: A column may hold a few cells written the other way (typed by hand, pasted): up to
#: this share they are refused one by one; above it the column cannot be trusted.
_STRAY_SHARE = 0.1
_OTHER: dict[str, ColumnMark] = {".": ",", ",": "."}


def _evidence(text: str) -> tuple[ColumnMark, bool] | None:
    """What one value says about its column's decimal mark: (mark, decisive), or None.

    ``decisive`` is False for a lone mark followed by exactly three digits
    (``29.000``): it reads as thousands, so it points at the other mark, weakly.
    """
    match = _AMOUNT.fullmatch(clean_text(text))
    if match is None or match["exp"]:
        return None
    number = match["number"]
    marks = [c for c in number if c in ".,"]
    if not marks:
        return None
    last = marks[-1]
    if len(set(marks)) == 2:
        return (last, True) if last not in marks[:-1] else None  # type: ignore[return-value]
    if len(marks) > 1:
        return _OTHER[last], True  # 1.234.567: repeated, so thousands
    head, _, tail = number.rpartition(last)
    head_digits = re.sub(r"\D", "", head.split()[-1] if head.split() else head)
    if len(tail) != 3 or not head_digits or head_digits.startswith("0") or len(head_digits) > 3:
        return last, True  # type: ignore[return-value]  # 12,5  0.125  1234.567
    return _OTHER[last], False


def _refuse_thousands(text: str, mark: ColumnMark) -> None:
    """Refuse a cell that a strict reading with ``mark`` would make 1,000 times smaller
    (``1.500`` with "." is 1.5, but is written as thousands are: see
    :func:`reads_as_thousands`). Cheap for the usual cell: only one with three digits
    after its last ``mark`` is looked at closely."""
    i = text.rfind(mark)
    if i < 0 or len(digits := text[i + 1 : i + 4]) != 3 or not digits.isdigit():
        return
    if text[i + 4 : i + 5].isdigit() or not reads_as_thousands(text, mark):
        return
    raise TransformError(
        f"{quote(text)} cannot be read one way: with the decimal mark {mark!r} it is a number"
        f" with three decimals, but it is written as thousands are (an amount 1,000 times"
        f" larger); write it without the {mark!r}, or with its decimals as the column's"
        " other cells write them"
    )


def reads_as_thousands(text: str, mark: ColumnMark) -> bool:
    """Whether ``text`` is written as thousands with ``mark`` (``1.500`` with "."): a lone
    ``mark`` and three digits after a number of one to three, which a column that
    writes ``mark`` as its decimal mark would read as a 1,000 times smaller amount.

    >>> reads_as_thousands("1.500", "."), reads_as_thousands("1.50", "."), reads_as_thousands("0.125", ".")
    (True, False, False)
    """
    return _evidence(text) == (_OTHER[mark], False)


def decide_decimal_mark(
    values: Iterable[str], given: DecimalMark = "auto"
) -> tuple[ColumnMark | None, str]:
    """A column's decimal mark from its values, and the cells that decided it.

    ``given`` is the mark the mapping states (``auto``: none). Returns
    ``(None, "")`` when no value has a separator that tells.

    The mark most decisive cells write wins; the few that write the other (up to a
    tenth) are left to fail one by one when parsed strictly.

    Raises:
        TransformError: more than a tenth of the cells write the other mark, or the
            values contradict ``given``; the message quotes two cells.

    >>> decide_decimal_mark(["29.000,50", "16.750"])
    (',', "'29.000,50', '16.750'")
    >>> decide_decimal_mark(["$1,200.50", "12"], ".")
    ('.', "'$1,200.50'")
    """
    seen: dict[tuple[ColumnMark, bool], list[str]] = {}
    counts: Counter[tuple[ColumnMark, bool]] = Counter()
    for text in values:
        said = _evidence(text)
        if said is not None:
            counts[said] += 1
            cells = seen.setdefault(said, [])
            if len(cells) < 2 and text not in cells:
                cells.append(text)
    decisive = any(decisive for _, decisive in counts)
    tally = {mark: n for (mark, strong), n in counts.items() if strong == decisive}
    if len(tally) == 2 and min(tally.values()) > _STRAY_SHARE * sum(tally.values()):
        dot, comma = seen[".", decisive][0], seen[",", decisive][0]
        if decisive:
            problem = (
                f"writes amounts with both decimal marks ({tally['.']} cells such as"
                f" {quote(dot)} with '.', {tally[',']} such as {quote(comma)} with ',')"
            )
        else:
            problem = (
                f"writes thousands with both marks ({tally[',']} cells such as {quote(dot)},"
                f" {tally['.']} such as {quote(comma)}), so its decimal mark cannot be decided"
            )
        raise TransformError(f"{problem}; make the column consistent or set decimal_mark")
    if not tally:
        return None, ""
    decided = max(tally, key=lambda mark: tally[mark])
    if decisive:
        # "29.000" cells in a column whose decisive cells say ".": read with "." they would
        # lose three zeros. A few may be decimals; many mean the column is not one thing.
        other = _OTHER[decided]
        weak = counts.get((other, False), 0)
        if weak > _STRAY_SHARE * (sum(tally.values()) + weak):
            cell = seen[other, False][0]
            raise TransformError(
                f"cannot be read one way: {tally[decided]} cells such as"
                f" {quote(seen[decided, True][0])} write {decided!r} as the decimal mark, but"
                f" {weak} such as {quote(cell)} read as thousands with it; make the column"
                " consistent or set decimal_mark"
            )
    examples = seen.get((decided, True), []) + seen.get((decided, False), [])
    shown = ", ".join(quote(cell) for cell in examples[:2])
    if given in ".," and given != decided:
        readings = []
        for cell in examples[:2]:
            try:
                amount = parse_amount(cell, given)
            except TransformError:
                readings.append(f"refuses {quote(cell)}")
            else:
                shown_amount = "nothing" if amount is None else f"{amount.normalize():f}"
                readings.append(f"reads {quote(cell)} as {shown_amount}")
        raise TransformError(
            f"the values contradict decimal_mark {given!r}: it {' and '.join(readings)}, but"
            f" the column writes {decided!r} as its decimal mark; set decimal_mark:"
            f" {decided!r} (or 'auto' to decide per column)"
        )
    return decided, shown
