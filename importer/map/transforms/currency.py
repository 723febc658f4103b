"""Which currency an amount is in: a code or symbol in the cell, a currency column, a default.

Octolane stores a deal's value in US dollars (API.md §1.3). An amount in another
currency is converted with a rate the user gives, or withheld; it is never sent as
if it were dollars. This module only names currencies; the planner converts.

* A cell may carry an ISO 4217 code (``EUR 1.200``, ``1200 usd``) or a symbol
  (``€``, ``£``, ``R$``, ``₹``, ``zł``, ...). :func:`cell_currency` returns it as
  written: a code is settled, a symbol such as ``$`` or ``¥`` is settled later,
  since several currencies write it.
* A currency column (Salesforce ``CurrencyIsoCode``, Zoho ``Currency``, Pipedrive
  ``Deal - Currency of Value``) holds codes, names' symbols or, rarely, a symbol:
  :func:`currency_code` reads it.
* :func:`settle_currency` decides a row's currency from the cell, the column and the
  mapping's ``options.currency`` (the currency of amounts that say nothing; USD by
  default). A symbol several currencies write (``$``: USD, CAD, AUD, MXN, ...) means
  the stated currency when that writes it, else the symbol's usual one (``$`` USD,
  ``¥`` JPY); ``kr`` (SEK, NOK, DKK, ISK) needs a stated currency. A cell and a column
  that disagree (``€ 1.200`` in a ``USD`` row) settle nothing: the amount is withheld.
"""

from __future__ import annotations

from importer.map.transforms.cells import TransformError, clean_text, quote
from importer.map.transforms.money import ISO_CODES, amount_parts

__all__ = ["TARGET_CURRENCY", "cell_currency", "currency_code", "settle_currency"]

#: What Octolane's ``deal_size`` is in.
TARGET_CURRENCY = "USD"

# Symbol → (its usual currency or None, every currency that writes it).
_DOLLARS = frozenset(
    [
        "USD",
        "CAD",
        "AUD",
        "NZD",
        "SGD",
        "HKD",
        "MXN",
        "TWD",
        "COP",
        "CLP",
        "ARS",
        "UYU",
        "BSD",
        "BBD",
        "BZD",
        "BMD",
        "BND",
        "FJD",
        "GYD",
        "JMD",
        "KYD",
        "LRD",
        "NAD",
        "SBD",
        "SRD",
        "TTD",
        "XCD",
    ]
)
_SYMBOLS: dict[str, tuple[str | None, frozenset[str]]] = {
    "$": ("USD", _DOLLARS),
    "¥": ("JPY", frozenset({"JPY", "CNY"})),
    "kr": (None, frozenset({"SEK", "NOK", "DKK", "ISK"})),
    "rs": ("INR", frozenset({"INR", "PKR", "LKR", "NPR"})),
    "₨": ("INR", frozenset({"INR", "PKR", "LKR", "NPR"})),
    "﷼": (None, frozenset({"SAR", "QAR", "OMR", "YER", "IRR"})),
    "fr": ("CHF", frozenset({"CHF", "XAF", "XOF", "XPF"})),
}
_ONE: dict[str, str] = {
    "€": "EUR",
    "£": "GBP",
    "₹": "INR",
    "r$": "BRL",
    "j$": "JMD",
    "rd$": "DOP",
    "tt$": "TTD",
    "bz$": "BZD",
    "ec$": "XCD",
    "fj$": "FJD",
    "bds$": "BBD",
    "us$": "USD",
    "c$": "CAD",
    "ca$": "CAD",
    "a$": "AUD",
    "au$": "AUD",
    "nz$": "NZD",
    "hk$": "HKD",
    "s$": "SGD",
    "mx$": "MXN",
    "nt$": "TWD",
    "₩": "KRW",
    "₽": "RUB",
    "₺": "TRY",
    "₪": "ILS",
    "₫": "VND",
    "฿": "THB",
    "₱": "PHP",
    "₦": "NGN",
    "₴": "UAH",
    "₸": "KZT",
    "₡": "CRC",
    "₲": "PYG",
    "₵": "GHS",
    "zł": "PLN",
    "kč": "CZK",
    "ft": "HUF",
    "lei": "RON",
    "s/": "PEN",
    "r": "ZAR",
    # a dollar's code before its sign, as some exports write it ("CAD$100")
    **{f"{code.lower()}$": code for code in ("USD", "CAD", "AUD", "NZD", "HKD", "SGD", "MXN")},
}


def _token(text: str) -> str:
    return clean_text(text).rstrip(".").casefold()


def _written(raw: str) -> str:
    token = _token(raw)
    if token in _ONE:
        return _ONE[token]
    if token in _SYMBOLS:
        return token
    if token.upper() in ISO_CODES:
        return token.upper()
    return "¤"  # a currency sign the importer does not know (J$, RD$ ...)


def cell_currency(text: str) -> str | None:
    """The currency an amount cell writes: a code, a shared symbol (``$``, ``¥``), ``¤``
    for a sign the importer does not know, ``!`` for two that disagree, or None.

    >>> cell_currency("€ 3.000"), cell_currency("1,200 usd"), cell_currency("$5"), cell_currency("12")
    ('EUR', 'USD', '$', None)
    >>> cell_currency("$5,000 CAD"), cell_currency("€ 5 USD"), cell_currency("XY$ 500")
    ('CAD', '!', '¤')
    """
    if text[:1].isdigit() and text[-1:].isdigit():
        return None  # "45362.12", "1.234,50": the common cell writes no currency
    tokens = [_written(t) for t in amount_parts(text)]
    if not tokens:
        return None
    if len(tokens) == 1 or tokens[0] == tokens[1]:
        return tokens[0]
    first, second = tokens
    for symbol, code in ((first, second), (second, first)):
        if symbol in _SYMBOLS and code in _SYMBOLS[symbol][1]:
            return code  # "$5,000 CAD": the code says which dollar
    return "!"


def currency_code(text: str) -> str:
    """A currency column's cell as an ISO 4217 code.

    Raises:
        TransformError: not a code or a symbol of one currency.

    >>> currency_code(" eur "), currency_code("R$"), currency_code("US Dollar")
    ('EUR', 'BRL', 'USD')
    """
    token = _token(text)
    if token.upper() in ISO_CODES:
        return token.upper()
    if token in _ONE:
        return _ONE[token]
    if token in _NAMES:
        return _NAMES[token]
    if token in _SYMBOLS and _SYMBOLS[token][0] is not None:
        return _SYMBOLS[token][0]  # type: ignore[return-value]
    raise TransformError(f"{quote(text)} is not a currency code such as USD or EUR")


_NAMES = {
    "us dollar": "USD",
    "us dollars": "USD",
    "dollar": "USD",
    "euro": "EUR",
    "euros": "EUR",
    "pound sterling": "GBP",
    "british pound": "GBP",
    "canadian dollar": "CAD",
    "australian dollar": "AUD",
    "indian rupee": "INR",
    "brazilian real": "BRL",
    "mexican peso": "MXN",
    "japanese yen": "JPY",
    "swiss franc": "CHF",
}


def settle_currency(
    written: str | None, stated: str | None, default: str
) -> tuple[str | None, str | None]:
    """(currency, None), or (None, why) when the row's currency cannot be known.

    ``written``: :func:`cell_currency` of the amount cell; ``stated``: the row's
    currency column (a code), or None; ``default``: ``options.currency``.

    >>> settle_currency("$", "CAD", "USD"), settle_currency("EUR", "USD", "USD")[1]
    (('CAD', None), 'the cell says EUR and the currency column says USD')
    """
    if written is None:
        return stated or default, None
    if written == "!":
        return None, "the cell names two different currencies"
    if written == "¤":
        if stated is not None:
            return stated, None
        return None, "the cell's currency sign names no currency the importer knows"
    if written in _SYMBOLS:
        usual, family = _SYMBOLS[written]
        for candidate in (stated, None if stated else default):
            if candidate is not None and candidate in family:
                return candidate, None
        if stated is not None:
            return None, f"the cell writes {written!r} and the currency column says {stated}"
        if usual is None:
            return None, f"{written!r} is written by several currencies; set options.currency"
        return usual, None
    if stated is not None and stated != written:
        return None, f"the cell says {written} and the currency column says {stated}"
    return written, None
