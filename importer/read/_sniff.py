"""Work out how to read an input file: format, text encoding, delimiter, header row.

Private helpers of :mod:`importer.read.source`; every decision here is made from the
file's bytes, never from its name alone, and every dead end is a
:class:`~importer.errors.SourceError` that names the file.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Literal

from importer.errors import SourceError, UsageError

MAX_CELL_CHARS = 10 * 1024 * 1024  # the csv module's default, 131,072, is below Salesforce's
SAMPLE_BYTES = 1 << 20  # read once at open: format, encoding and delimiter are judged on it
_SNIFF_CHARS = 256 * 1024  # text the delimiter and header are sniffed on
_SNIFF_RECORDS = 50
_SCAN_CHUNK_BYTES = 1 << 20
#: The longest line (bytes) a file may hold: a row of a million short cells fits.
MAX_LINE_BYTES = 16 << 20
_MAX_TITLE_ROWS = 10
DELIMITERS = ("\t", "|", ";", ",")  # on a tie, the one least likely inside a value wins

# Windows-1252 leaves five bytes undefined; like browsers (WHATWG "windows-1252"),
# decode them as the Latin-1 code points instead of failing, so cp1252 never fails.
CP1252_ERRORS = "octolane-cp1252"


def _cp1252_fallback(exc: UnicodeError) -> tuple[str | bytes, int]:
    if isinstance(exc, UnicodeEncodeError):  # the way back: those code points, as bytes
        undefined = exc.object[exc.start : exc.end]
        if all(ord(c) < 0x100 for c in undefined):
            return undefined.encode("latin-1"), exc.end
        raise exc
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    return exc.object[exc.start : exc.end].decode("latin-1"), exc.end


codecs.register_error(CP1252_ERRORS, _cp1252_fallback)

_BOMS = (  # UTF-32 first: its little-endian BOM starts with UTF-16's
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_OLE_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")
_BINARY_MAGIC = (b"%PDF-", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"\x1f\x8b", b"BZh9",
                 b"7z\xbc\xaf", b"Rar!", b"PAR1", b"SQLite format 3\x00", b"\x7fELF")  # fmt: skip
# Control bytes that do not occur in text; tab, LF, VT (FileMaker's in-cell break), FF, CR do.
_CONTROL_BYTES = bytes(b for b in range(32) if b not in (9, 10, 11, 12, 13))
_MARKUP = re.compile(r"\s*<(?:!doctype\s+html|html|table|\?xml)\b", re.IGNORECASE)
_SEP_LINE = re.compile(r'"?sep=(.)"?[ \t]*(?:\r\n|\r|\n|$)')
# What exports are written in when not UTF-8: Windows code pages, their ISO-8859
# twins, KOI8, Mac Roman (old Excel for Mac) and the East Asian multi-byte ones.
# DOS code pages are left out: on short samples they tie with cp1252 and win.
_LEGACY_CANDIDATES = [*(f"cp{n}" for n in range(1250, 1259)), "cp874", "iso8859_2", "iso8859_5",
                      "iso8859_7", "iso8859_15", "koi8_r", "koi8_u", "mac_roman", "cp932", "euc_jp",
                      "gb18030", "big5", "cp949"]  # fmt: skip
#: A letter of cp1250 (Polish ą ł ż, Slovak ľ, Czech ě ů) between two letters, where
#: cp1252 reads a sign no word holds ('D¹browski', 'Ma³gorzata', 'mo¿e') or a letter
#: Western words hardly hold there (ì, ù): a Central European file, not a Western one.
_CP1250_LETTERS = re.compile(
    rb"(?<=[A-Za-z\xc0-\xff])[\xa5\xb3\xb9\xbc\xbe\xbf\xec\xf9](?=[A-Za-z\xc0-\xff])"
)
#: A letter of ISO-8859-2 (A-Z and its accented letters): what "inside a word" means there.
_LATIN2_LETTER = rb"[A-Za-z\xa1\xa3\xa5\xa6\xa9-\xac\xae\xaf\xb1\xb3\xb5\xb6\xb9-\xbc\xbe-\xd6\xd8-\xf6\xf8-\xff]"
#: Hungarian ő ű Ő Ű (cp1250), which cp1252 reads õ û Õ Û, in a word ('Gergõ', 'Szõke',
#: 'Gyõr'). Not õ before e (Portuguese 'Simões', 'põe') nor û after a vowel (French
#: 'août', 'goût'): those are cp1252's own, and Hungarian hardly writes them so.
_HUNGARIAN_LETTERS = re.compile(
    rb"(?<=[A-Za-z\xc0-\xff])(?:\xf5(?!e)|(?<![aeiouAEIOU])\xfb|[\xd5\xdb])"
    rb"|(?<![A-Za-z\xc0-\xff])[\xd5\xdb\xf5\xfb](?=[A-Za-z\xc0-\xff])"
)
#: Hungarian's acute letters, which both code pages read alike: á é í ó ú.
_HUNGARIAN_ACUTE = re.compile(rb"[\xe1\xe9\xed\xf3\xfa\xc1\xc9\xcd\xd3\xda]")
#: Digraphs Hungarian writes in most names, and Estonian, Portuguese, French hardly.
_HUNGARIAN_DIGRAPHS = re.compile(rb"[Ss]z|[Zz]s|[Cc]s|[Gg]y|SZ|ZS|CS|GY")
#: Letters Hungarian does not write, as cp1252 reads them (à â ã ä å æ ç è ê ë ì î ï ð ñ
#: ò ô ø ù ý þ ÿ ß): an Estonian (ä), French (è à ç) or Portuguese (ã ç) file.
_NOT_HUNGARIAN = re.compile(
    rb"[\xe0\xe2-\xe8\xea-\xec\xee-\xf2\xf4\xf8\xf9\xfd-\xff\xdf"
    rb"\xc0\xc2-\xc8\xca-\xcc\xce-\xd2\xd4\xd8\xd9\xdd\xde]"
)
#: Romanian ş Ş ţ Ţ ă Ă (cp1250) as cp1252 reads them where no Western word does: º ª
#: inside a word or ª starting one ('Braºov', 'ªtefan'; not 'Nº 5', 'Dª Ana'), þ Þ
#: between letters ('Constanþa'; Icelandic writes þ at a word's start), ã Ã before a
#: consonant ('Stãnescu'; Portuguese writes ão, ãe, ãs).
_ROMANIAN_LETTERS = re.compile(
    rb"(?<=[A-Za-z\xc0-\xff])[\xaa\xba\xde\xfe](?=[A-Za-z\xc0-\xff])"
    rb"|(?<![A-Za-z\xc0-\xff])[\xaa\xba](?=[a-z\xe0-\xff])"
    rb"|[\xc3\xe3](?=[b-df-hj-np-rt-zB-DF-HJ-NP-RT-Z\xba\xfe])"
)
#: Western letters Romanian does not write, as cp1252 reads them (à å æ ç è ê ë ì ï ð ñ
#: ò õ ø ù ÿ): a Portuguese, French, Nordic or Icelandic file.
_NOT_ROMANIAN = re.compile(
    rb"[\xe0\xe5-\xe8\xea-\xec\xef-\xf2\xf5\xf8\xf9\xff"
    rb"\xc0\xc5-\xc8\xca-\xcc\xcf-\xd2\xd5\xd8\xd9]"
)
#: An ISO-8859-2 letter that cp1250 reads as a sign (Š ©, Ž ®, Ś ¦, Ź ¬, Ą ˇ, ą ±, ľ µ,
#: ś ¶, ť », Ť «), or ź as the capital Ľ, used as a letter: between letters, a capital
#: starting a word. 'Šťastný' reads '©»astný' in cp1250, 'Žižka' '®iľka'.
_LATIN2_SIGNS = re.compile(
    rb"(?<=%(L)s)[\xa1\xa6\xa9\xab\xac\xae\xb1\xb5\xb6\xbb](?=%(L)s)"
    rb"|(?<!%(L)s)[\xa1\xa6\xa9\xac\xae](?=[a-z\xb1\xb3\xb5\xb6\xb9-\xbc\xbe\xbf\xdf-\xfe])"
    rb"|(?<=[a-z\xdf-\xfe])\xbc(?=[a-z\xdf-\xfe])" % {b"L": _LATIN2_LETTER}
)
#: Czech š and ž in ISO-8859-2 are cp1250's Polish ą and Slovak ľ: only in a word that
#: also holds letters Polish does not write (á é í ú ý č ď ě ň ř ů: 'Tomáš', read
#: 'Tomáą'), or, for ž, letters Slovak does not write (ř ě ů: 'Růžena', read 'Růľena').
_LATIN2_WORDS = re.compile(
    rb"[\xe1\xe9\xed\xfa\xfd\xe8\xef\xec\xf2\xf8\xf9\xc1\xc9\xcd\xda\xdd\xc8\xcf\xcc\xd2\xd8\xd9]"
    rb"[A-Za-z\xc0-\xff]*\xb9|\xb9[A-Za-z\xc0-\xff]*"
    rb"[\xe1\xe9\xed\xfa\xfd\xe8\xef\xec\xf2\xf8\xf9\xc1\xc9\xcd\xda\xdd\xc8\xcf\xcc\xd2\xd8\xd9]"
    rb"|[\xec\xf8\xf9\xcc\xd8\xd9][A-Za-z\xc0-\xff]*\xbe|\xbe[A-Za-z\xc0-\xff]*[\xec\xf8\xf9\xcc\xd8\xd9]"
)
#: Bytes ISO-8859-2 reads as control characters and cp1250 as letters and marks (š ž
#: ś ť „ “ – €): ISO-8859-2 text does not hold them, so they count against it.
_C1_BYTES = re.compile(rb"[\x80-\x9f]")
#: A byte Latin-9 reads otherwise than ISO-8859-1, used as Latin-9 does: œ, š, ž inside
#: a word (after a letter, before a lower-case one), € before or after a number.
_LATIN9_USED = re.compile(
    rb"[A-Za-z\xc0-\xff][\xa6\xa8\xb4\xb8\xbc\xbd\xbe][a-z\xdf-\xff]"
    rb"|\xa4 ?[0-9]|[0-9] ?\xa4"
)
_NUMBER = re.compile(r"[+-]?[\d.,\s]+(?:[eE][+-]?\d+)?%?")
#: How a report's title line starts, or ends (a label and its colon).
_TITLE_WORDS = re.compile(
    r"(generated|report|exported|printed|run (on|by|date)|as of|filtered|created by|"
    r"prepared|downloaded|date range|period)\b|.*:\Z",
    re.IGNORECASE,
)


def binary_file_error(name: str) -> SourceError:
    return SourceError(f"{name}: looks like a binary file, not CSV or Excel")


# ---- format ---------------------------------------------------------------------


def detect_format(path: Path, head: bytes, name: str) -> Literal["csv", "xlsx", "xls", "ods"]:
    """The file's format from its first bytes; text files are ``csv`` (any delimiter)."""
    if head.startswith(b"PK\x03\x04"):
        return _zip_format(path, name)
    if head.startswith(_OLE_MAGIC):
        return "xls"  # also how password-protected .xlsx files are stored; calamine says which
    if head.startswith(_BINARY_MAGIC):
        raise binary_file_error(name)
    return "csv"


def workbook_kind(name: str | Path) -> str:
    """What a workbook file is called in messages, by its name's extension."""
    return "OpenDocument spreadsheet" if str(name).lower().endswith(".ods") else "Excel workbook"


def _zip_format(path: Path, name: str) -> Literal["xlsx", "ods"]:
    try:
        with zipfile.ZipFile(path) as archive:
            members = set(archive.namelist())
            mimetype = archive.read("mimetype")[:100] if "mimetype" in members else b""
    except (zipfile.BadZipFile, OSError) as exc:
        raise SourceError(
            f"{name}: is not a valid {workbook_kind(name)} (damaged zip: {exc}): save it again"
            " from the program that made it, or export it as CSV"
        ) from exc
    if "xl/workbook.xml" in members:
        return "xlsx"
    if mimetype.strip() == b"application/vnd.oasis.opendocument.spreadsheet":
        return "ods"
    if "xl/workbook.bin" in members:
        raise SourceError(f"{name}: is an Excel binary workbook (.xlsb); save it as .xlsx or CSV")
    raise SourceError(
        f"{name}: is a zip archive, not CSV or Excel; unzip it and import a file inside"
    )


# ---- encoding -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DecodeFailure:
    """Where a file first fails to decode."""

    offset: int  # of the first undecodable byte
    byte: int
    non_ascii_before: bool  # whether decoded non-ASCII text precedes it


def decode_errors(encoding: str) -> str:
    return CP1252_ERRORS if encoding == "cp1252" else "strict"


def resolve_encoding(path: Path, head: bytes, name: str, forced: str | None) -> str:
    """The codec to read ``path`` with, checked against the whole file (streamed).

    A BOM decides (UTF-8, UTF-16, UTF-32); else strict UTF-8, tried on the first
    MiB and then on the rest of the file; only if that fails is the encoding
    detected with charset-normalizer, preferring Windows-1252 among equally
    plausible Western code pages. ``forced`` (``--encoding``) skips detection.
    """
    if forced is None:
        return _detect_encoding(path, head, name)
    encoding = _forced_encoding(forced, head, name)
    if not encoding.startswith(("utf-16", "utf-32")) and looks_binary(head):
        raise binary_file_error(name)
    failure = first_decode_failure(path, encoding, name)
    if failure is not None:
        raise undecodable_error(path, head, name, encoding, failure)
    return encoding


_NOT_FILE_ENCODINGS = frozenset({"undefined", "punycode", "idna"})


def _forced_encoding(forced: str, head: bytes, name: str = "") -> str:
    try:
        info = codecs.lookup(forced)
    except LookupError as exc:
        raise UsageError(
            f"unknown encoding {forced!r}; use a name such as utf-8, cp1252, latin-1 or utf-16"
        ) from exc
    encoding = info.name
    # rot13, base64, zlib: not text; undefined, punycode, idna: text codecs, but not
    # of files (they refuse every byte, or read a host name's labels)
    if not getattr(info, "_is_text_encoding", True) or encoding in _NOT_FILE_ENCODINGS:
        raise UsageError(
            f"--encoding {forced!r} is not a text encoding; use a name such as utf-8,"
            " cp1252, latin-1 or utf-16"
        )
    if encoding == "utf-8" and head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if encoding in ("utf-16", "utf-32") and not any(head.startswith(b) for b, _ in _BOMS):
        # Python's utf-16 needs a byte-order mark to know the byte order: the text says it
        found = _utf16_without_bom(head) if encoding == "utf-16" else None
        if found is None:
            raise SourceError(
                f"{name}: cannot be read as {encoding}: it has no byte-order mark; pass"
                f" --encoding {encoding}-le or {encoding}-be (or leave --encoding out: it is"
                " detected)"
            )
        return found
    return encoding


def _detect_encoding(path: Path, head: bytes, name: str) -> str:
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            return _checked(path, head, name, encoding)
    utf16 = _utf16_without_bom(head)
    if utf16:
        return _checked(path, head, name, utf16)
    if looks_binary(head):
        raise binary_file_error(name)
    if head.isascii() and len(head) < SAMPLE_BYTES:
        return "utf-8"  # the whole file is ASCII
    failure = first_decode_failure(path, "utf-8", name)
    if failure is None:
        return "utf-8"
    if failure.non_ascii_before:
        raise _mixed_encoding_error(path, head, name, failure)
    guess = guess_legacy_encoding(path, head, failure.offset)
    if guess is None:
        raise SourceError(
            f"{name}: is not UTF-8 and its encoding could not be detected; "
            "pass it with --encoding (e.g. --encoding cp1252)"
        )
    return _checked(path, head, name, guess)


#: Code pages whose text a UTF-8 accent turns into mojibake ('Ã©'), not into words.
WESTERN = frozenset({"cp1252", "latin-1", "iso8859-1", "iso8859-15", "cp850", "mac-roman"})
#: A UTF-8 letter of Latin-1 and Latin Extended-A (é: C3 A9): in a Western code page
#: 'Ã', 'Ä' or 'Å' followed by a symbol or a quote mark, which text almost never writes.
_UTF8_LETTER = re.compile(rb"[\xc3-\xc5][\x80-\xbf]")


#: A UTF-8 encoded character of two to four bytes.
_UTF8_SEQUENCE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)


def utf8_mojibake(path: Path, encoding: str) -> re.Pattern[str] | None:
    """Where a file read in a Western code page also holds UTF-8 accented letters (a
    row pasted in from elsewhere): the pattern that finds them in its decoded text
    ('Ã©' for 'é'), else None (the file is read as it is)."""
    if encoding not in WESTERN or utf8_letters_at(path) is None:
        return None
    errors = decode_errors(encoding)
    leads = b"\xc3\xc4\xc5".decode(encoding, errors)
    follows = bytes(range(0x80, 0xC0)).decode(encoding, errors)
    return re.compile(f"[{re.escape(leads)}][{re.escape(follows)}]")


def utf8_letters_at(path: Path) -> int | None:
    """The offset of the file's first UTF-8 encoded accented letter, if any (streamed)."""
    offset, tail = 0, b""
    with path.open("rb") as f:
        while chunk := f.read(_SCAN_CHUNK_BYTES):
            text = tail + chunk
            found = _UTF8_LETTER.search(text)
            if found is not None:
                return offset - len(tail) + found.start()
            tail, offset = text[-1:], offset + len(chunk)
    return None


def _checked(path: Path, head: bytes, name: str, encoding: str) -> str:
    failure = first_decode_failure(path, encoding, name)
    if failure is not None:
        raise undecodable_error(path, head, name, encoding, failure)
    return encoding


def _utf16_without_bom(head: bytes) -> str | None:
    """UTF-16 text without a BOM: NUL in every other byte (mostly ASCII text)."""
    sample = head[: 64 * 1024 // 2 * 2]
    if len(sample) < 4:
        return None
    even_nuls, odd_nuls, half = sample[0::2].count(0), sample[1::2].count(0), len(sample) // 2
    if odd_nuls > 0.6 * half and even_nuls < 0.05 * half:
        return "utf-16-le"
    if even_nuls > 0.6 * half and odd_nuls < 0.05 * half:
        return "utf-16-be"
    return None


def long_line_error(name: str, line: int) -> SourceError:
    return SourceError(
        f"{name}: line {line:,} is longer than {MAX_LINE_BYTES // 2**20} MiB with no"
        " line break: this is not a CSV export, or its line breaks were lost;"
        " open it in a text editor to check"
    )


def looks_like_text(head: bytes, name: str) -> bool:
    """Whether a file starting with ``head`` is read as text (not a workbook).

    Raises:
        SourceError: it is neither: a binary file.
    """
    if head.startswith((b"PK\x03\x04", _OLE_MAGIC)):
        return False
    if head.startswith(_BINARY_MAGIC):
        raise binary_file_error(name)
    if any(head.startswith(bom) for bom, _ in _BOMS) or _utf16_without_bom(head):
        return True
    if looks_binary(head):
        raise binary_file_error(name)
    return True


def looks_binary(sample: bytes) -> bool:
    """More than 1% control bytes (NUL, ...), and more than a few: not text, whatever its
    encoding. DOS's end-of-file mark (^Z) at the end does not count."""
    sample = sample.rstrip(b"\x1a")
    controls = len(sample) - len(sample.translate(None, _CONTROL_BYTES))
    return controls * 100 > len(sample) and controls > 3


def first_decode_failure(path: Path, encoding: str, name: str) -> DecodeFailure | None:
    """Stream the file through a strict decoder; where it first fails, if anywhere.

    Raises:
        SourceError: a line longer than :data:`MAX_LINE_BYTES` (no line break in it):
            reading it would cost its size in memory, and no export writes one.
    """
    decoder = codecs.getincrementaldecoder(encoding)(decode_errors(encoding))
    consumed, non_ascii = 0, False
    since_break, lines = 0, 1  # bytes since the last line break; the line they are in
    with path.open("rb") as f:
        while True:
            chunk = f.read(_SCAN_CHUNK_BYTES)
            breaks = [i for i in (chunk.find(b"\n"), chunk.find(b"\r")) if i >= 0]
            if since_break + (min(breaks) if breaks else len(chunk)) > MAX_LINE_BYTES:
                raise long_line_error(name, lines)
            if breaks:
                lines += chunk.count(b"\n") or chunk.count(b"\r")
                since_break = len(chunk) - 1 - max(chunk.rfind(b"\n"), chunk.rfind(b"\r"))
            else:
                since_break += len(chunk)
            try:
                decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as exc:
                # exc.object is the decoder's pending bytes followed by this chunk
                offset = consumed + len(chunk) - len(exc.object) + exc.start
                before = non_ascii or not exc.object[: exc.start].isascii()
                return DecodeFailure(offset, exc.object[exc.start], before)
            if not chunk:
                return None
            non_ascii = non_ascii or not chunk.isascii()
            consumed += len(chunk)


def guess_legacy_encoding(path: Path, head: bytes, offset: int) -> str | None:
    """Detect a non-UTF-8 encoding from the sample plus the bytes around ``offset``."""
    window = b"" if head.isascii() else head
    if offset >= len(head) - 1024:
        with path.open("rb") as f:
            f.seek(max(0, offset - 16 * 1024))
            window += f.read(64 * 1024)
    import charset_normalizer  # only for a file that is not UTF-8: it costs ~10 ms to load

    # UTF-8 letters pasted into the file ('é' as C3 A9) are not the code page's text:
    # read in, they make cp1252's 'Ã©' look like cp1250's 'Ă©' (read back: utf8_mojibake)
    window = _UTF8_SEQUENCE.sub(b" ", window)
    matches = charset_normalizer.from_bytes(window, cp_isolation=_LEGACY_CANDIDATES)
    best = matches.best()
    if best is None or best.encoding.startswith("utf"):
        return None
    # Short Western text fits cp1250/cp1252/cp1257... equally well; prefer cp1252.
    near_best = [m for m in matches if m.chaos <= best.chaos + 0.01]
    if any("cp1252" in m.could_be_from_charset for m in near_best):
        central = any("cp1250" in m.could_be_from_charset for m in near_best)
        if central and (
            len(_CP1250_LETTERS.findall(window)) >= 2  # 'D¹browski': Dąbrowski
            or _hungarian(window)  # 'Gergõ', 'Szõke': Gergő, Szőke
            or _romanian(window)  # 'Braºov', 'Stãnescu': Braşov, Stănescu
        ):
            return _cp1250_or_latin2(window)
        return "cp1252"
    if not best.coherence and any(m.coherence for m in near_best):
        # A reading in which no language's words are seen (ISO-8859-1 with a C1 byte read
        # as Farsi) yields to an about as clean one in which some are (French).
        best = max(near_best, key=lambda m: m.coherence)
    name = codecs.lookup(best.encoding).name
    if name == "cp1250":
        return _cp1250_or_latin2(window)
    if name == "iso8859-15" and not _LATIN9_USED.search(window):
        # Latin-9 and ISO-8859-1 differ in eight characters (€ for ¤, œ for ½, Š for ¦ …):
        # a Latin-9 reading only where the file uses one of them as Latin-9 does (a
        # letter inside a word, € beside a number). Salesforce writes ISO-8859-1, whose
        # C1 bytes (0x81, 0x8D) keep cp1252 out of the detector's choice: read as cp1252,
        # they fall back to ISO-8859-1's code points (CP1252_ERRORS).
        return "cp1252"
    return name


def _hungarian(window: bytes) -> bool:
    """Whether cp1252's õ and û in the window's words are Hungarian ő and ű (cp1250).

    Portuguese ('Simões'), Estonian ('Õun', 'Tõnis') and French ('sûr') write them too,
    so the text around must look Hungarian, on counts (one name proves nothing): its
    acute letters (á é í ó ú, read alike by both code pages; Estonian has none) at least
    a third as many as the hits, and with its digraphs (sz, zs, cs, gy: 'Szőke', 'Győr',
    'Kovács') at least as many; the letters it does not write (ä, ã, ç, è ...: Estonian,
    Portuguese, French) under a quarter as many.
    """
    found = _HUNGARIAN_LETTERS.findall(window)
    hits = len(found)
    if hits < 2 or not any(c in (b"\xf5", b"\xd5") for c in found):
        return False  # û alone is French ('Brûlée') as often: Hungarian writes ő ten times more
    acute = len(_HUNGARIAN_ACUTE.findall(window))
    digraphs = len(_HUNGARIAN_DIGRAPHS.findall(window))
    return (
        acute * 3 >= hits
        and acute + digraphs >= hits
        and len(_NOT_HUNGARIAN.findall(window)) * 4 < hits
    )


def _romanian(window: bytes) -> bool:
    """Whether the window holds Romanian ş ţ ă as cp1250 writes them (º þ ã in cp1252,
    where no Western word has them), more than twice as often as Western letters
    Romanian does not write."""
    hits = len(_ROMANIAN_LETTERS.findall(window))
    return hits >= 2 and hits > 2 * len(_NOT_ROMANIAN.findall(window))


def _cp1250_or_latin2(window: bytes) -> str:
    """cp1250, or ISO-8859-2 where the window uses its letters as cp1250 would not.

    The two differ in a dozen letters: Czech, Slovak and Polish text in ISO-8859-2,
    read as cp1250, has signs inside its words ('©»astný' for Šťastný, '®iľka' for
    Žižka) and Polish ą or Slovak ľ in Czech words ('Tomáą' for Tomáš). Bytes 0x80
    to 0x9F (cp1250's š ž ś ť and quotes) are control characters in ISO-8859-2: a
    file that uses them is cp1250's, so they count against it.
    """
    hits = len(_LATIN2_SIGNS.findall(window)) + len(_LATIN2_WORDS.findall(window))
    if hits >= 2 and hits > 2 * len(_C1_BYTES.findall(window)):
        return "iso8859-2"
    return "cp1250"


def _mixed_encoding_error(
    path: Path, head: bytes, name: str, failure: DecodeFailure
) -> SourceError:
    row = row_at_offset(path, "utf-8", failure.offset, sniff_from=head)
    return SourceError(
        f"{name}: row {row} is not valid UTF-8 (byte 0x{failure.byte:02X} at offset "
        f"{failure.offset:,}) although the text before it is; the file mixes encodings. "
        "Re-save it as UTF-8, or pass --encoding (e.g. --encoding cp1252)"
    )


def undecodable_error(
    path: Path,
    head: bytes,
    name: str,
    encoding: str,
    failure: DecodeFailure,
    delimiter: str | None = None,
) -> SourceError:
    """``row N cannot be decoded as ENC (...)``, with a suggested ``--encoding``."""
    row = row_at_offset(path, encoding, failure.offset, delimiter=delimiter, sniff_from=head)
    guess = (
        None
        if encoding.startswith(("utf-16", "utf-32"))
        else guess_legacy_encoding(path, head, failure.offset)
    )
    hint = f"try --encoding {guess}" if guess and guess != encoding else "pass the right --encoding"
    return SourceError(
        f"{name}: row {row} cannot be decoded as {encoding} (byte 0x{failure.byte:02X} "
        f"at offset {failure.offset:,}); {hint}"
    )


def row_at_offset(
    path: Path, encoding: str, offset: int, *, delimiter: str | None = None, sniff_from: bytes = b""
) -> int:
    """The spreadsheet row number of the CSV record holding byte ``offset``.

    The delimiter matters for where quoted cells start; if not given it is
    sniffed from ``sniff_from`` (the file's first bytes).
    """
    if delimiter is None:
        text = decode_sample(sniff_from[:offset], encoding, final=False, errors="replace")
        delimiter = sniff_delimiter(split_sep_line(text)[1], truncated=True)
    with (
        path.open("rb") as f,
        io.TextIOWrapper(
            io.BufferedReader(PrefixReader(f, offset)), encoding, errors="replace", newline=""
        ) as prefix,
    ):
        # A marker glued to the prefix's end joins the record that holds the offset,
        # or starts a new one if the offset is at a record's start.
        return sum(1 for _ in csv.reader(_with_marker(prefix), delimiter=delimiter))


class PrefixReader(io.RawIOBase):
    """The first ``limit`` bytes of a file, as a raw stream."""

    def __init__(self, f: io.BufferedReader, limit: int) -> None:
        self._f, self._left = f, limit

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self._f.read(min(len(buffer), self._left))
        buffer[: len(data)] = data
        self._left -= len(data)
        return len(data)


def _with_marker(lines: Iterable[str]) -> Iterator[str]:
    last = ""
    for line in lines:
        if last:
            yield last
        last = line
    yield last + "X"


def decode_sample(head: bytes, encoding: str, *, final: bool, errors: str = "strict") -> str:
    """Decode the sample; a character cut at its end is left out unless ``final``."""
    if errors == "strict":
        errors = decode_errors(encoding)
    text = codecs.getincrementaldecoder(encoding)(errors).decode(head, final=final)
    return text.removeprefix("\ufeff")


def check_markup(text: str, name: str) -> None:
    """HTML/XML saved under a .xls/.csv name (old CRM "Excel" exports) is not CSV."""
    if _MARKUP.match(text[:200]):
        raise SourceError(
            f"{name}: is an HTML or XML document, not CSV or Excel; "
            "open it in Excel and save it as CSV or .xlsx"
        )


# ---- delimiter ------------------------------------------------------------------


def allow_long_cells() -> None:
    """Raise the csv module's (process-wide) cell size limit to ``MAX_CELL_CHARS``."""
    if csv.field_size_limit() < MAX_CELL_CHARS:
        csv.field_size_limit(MAX_CELL_CHARS)


def split_sep_line(text: str) -> tuple[str | None, str]:
    """Excel's ``sep=;`` first line: (its delimiter, the text after it)."""
    match = _SEP_LINE.match(text)
    if match is None:
        return None, text
    return match.group(1), text[match.end() :]


def sniff_delimiter(text: str, *, truncated: bool, prefer_tab: bool = False) -> str:
    """The delimiter among ``, ; tab |`` that splits the first records most consistently.

    Each candidate parses the first records with the csv module (so quoted cells
    are respected). The best gives the same column count (>= 2) in >= 90% of
    the records, splits the first record (the header, unless title lines sit
    above it), and gives the most columns; ties go to the steadier, then to
    the one least likely inside a value: tab, ``|``, ``;``, ``,``. A file no
    candidate splits has one column: ``,`` (tab for ``.tsv``).
    """
    allow_long_cells()
    scores = {}
    for rank, delimiter in enumerate(reversed(DELIMITERS)):
        reader = csv.reader(io.StringIO(text[:_SNIFF_CHARS], newline=""), delimiter=delimiter)
        records = [r for r in islice(reader, _SNIFF_RECORDS) if r]
        if truncated and len(records) > 1:
            records.pop()  # may be cut short
        if not records:
            continue
        split = [n for n in map(len, records) if n >= 2]
        if not split:
            continue
        # the width most split records share (ragged rows and titles do not count against
        # a delimiter: they are rows, not the file), and how many records it splits at all
        width, hits = max(Counter(split).items(), key=lambda item: (item[1], item[0]))
        steady, covered = hits / len(records), len(split) / len(records)
        scores[delimiter] = (steady >= 0.9, covered >= 0.5, steady + covered, width, rank)
    if not scores:
        return "\t" if prefer_tab else ","
    return max(scores, key=scores.__getitem__)


# ---- header row -----------------------------------------------------------------


def is_filled(cell: object) -> bool:
    """A cell with a value: any non-text value, or text that is not just whitespace."""
    return not isinstance(cell, str) or bool(cell.strip())


def find_header_index(rows: Sequence[Sequence[object]]) -> int | None:
    """Index of the header among the first rows: after blank rows and title rows.

    The header is the first filled row that is not a title. A title row (a report
    name, "Generated: <date>", "Exported by: Jo") has one or two filled cells, the
    first in the first column, and is narrower than the rows below it: fewer cells,
    or fewer filled cells, than most of them have (the rows below are the whole
    sample, so a ragged row here and there changes nothing). Where the widths agree
    (a two-column file), a title is told by its words: it ends with a colon, or
    starts like a report's line (Generated, Report, Exported, Printed, As of, ...).
    At most ``_MAX_TITLE_ROWS`` rows are skipped. ``None`` if every row is blank.
    """
    filled = [i for i, row in enumerate(rows) if any(map(is_filled, row))]
    if not filled:
        return None
    for k, index in enumerate(filled[: _MAX_TITLE_ROWS + 1]):
        below = [rows[i] for i in filled[k + 1 :]]
        if not below or not _is_title(rows[index], below):
            # titles are skipped only for a row that reads as a header (mostly distinct
            # text, not numbers or e-mail addresses): else the first row is the header
            found = index if k == 0 or _looks_like_header(rows[index]) else filled[0]
            return _wider_header(rows, filled, found)
    return filled[0]


def _wider_header(rows: Sequence[Sequence[object]], filled: list[int], found: int) -> int:
    """A one-cell header over rows with more filled cells would cut them: where one-cell
    title lines are followed by a row that reads as a header of two or more cells, that
    row is the header (a file of mostly short rows can hide the table's width)."""
    if sum(map(is_filled, rows[found])) != 1 or not any(
        sum(map(is_filled, rows[i])) >= 2 for i in filled if i > found
    ):
        return found
    for index in filled[filled.index(found) + 1 : _MAX_TITLE_ROWS + 1]:
        row = rows[index]
        if sum(map(is_filled, row)) >= 2:
            return index if _looks_like_header(row) else found
        if not is_filled(row[0]):
            return found
    return found


def _is_title(row: Sequence[object], below: Sequence[Sequence[object]]) -> bool:
    cells = sum(map(is_filled, row))
    if cells > 2 or not is_filled(row[0]):
        return False
    width = _most_common([len(r) for r in below], len(row))
    fill = _most_common([sum(map(is_filled, r)) for r in below], cells)
    if len(row) < width or cells * 2 <= fill:
        return True
    return any(isinstance(c, str) and _TITLE_WORDS.match(c.strip()) for c in row if is_filled(c))


def _looks_like_header(row: Sequence[object]) -> bool:
    cells = [c for c in row if is_filled(c)]
    texts = [
        c.strip()
        for c in cells
        if isinstance(c, str) and not _NUMBER.fullmatch(c.strip()) and "@" not in c
    ]
    return len(texts) >= 0.8 * len(cells) and len(set(texts)) >= 0.8 * len(cells)


def _most_common(values: list[int], prefer: int) -> int:
    """The most frequent value; ``prefer`` where it ties for first."""
    counts = Counter(values)
    top = max(counts.values())
    return prefer if counts.get(prefer) == top else max(v for v, n in counts.items() if n == top)


def column_names(cells: Sequence[str]) -> tuple[str, ...]:
    """Header cells stripped (whitespace, BOM); empty ones ``Column N``; repeats ``Name (2)``."""
    bases = [
        c.strip().strip("\ufeff\u200b").strip() or f"Column {i}" for i, c in enumerate(cells, 1)
    ]
    taken = set(bases)  # a repeat's new name must not take a real header's name
    names: list[str] = []
    seen: set[str] = set()
    last: dict[str, int] = {}  # the number a base's latest repeat got: linear in repeats
    for base in bases:
        name, n = base, 1
        if name in seen:
            n = last.get(base, 1)
            while name in seen or name in taken:
                n += 1
                name = f"{base} ({n})"
            last[base] = n
        seen.add(name)
        names.append(name)
    return tuple(names)
