"""Joins across export files: a deals export reads its companies, people and roles.

A mapping's ``links:`` say how a row of the input points into another export of the
same CRM (HubSpot ``Associated Company IDs`` → the companies export's ``Record ID``;
Salesforce ``AccountId`` → ``Account.csv``'s ``Id``). The files are given with
``--with FILE`` (or ``--with NAME=FILE``); each link takes the file whose header has
its key and columns, preferring one whose name holds the link's ``file`` word.

:class:`Linker` reads each linked file once, keeping only the key and the columns a
link brings in (a dictionary per link), then extends every batch of the input with
the virtual columns ``<link>.<column>``. A key that points to no row, or a name that
two different rows carry, is said on the input row (``problems``), never guessed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from importer.errors import MappingError, UsageError
from importer.map.spec import LinkSpec, MappingFile
from importer.read.source import open_source

__all__ = ["LinkFile", "Linker", "build_linker", "link_columns"]

#: A ``--with`` file: the link it is named for (``--with company=FILE``), or None.
LinkFile = tuple[str | None, Path]


def link_columns(mapping: MappingFile) -> list[str]:
    """The virtual columns the mapping's links add, in order (``company.Website``)."""
    return [f"{name}.{column}" for name, link in mapping.links.items() for column in link.columns]


def _loose(name: str) -> str:
    # (a UK-English Pipedrive account writes "Organisation - Name")
    return " ".join(name.split()).casefold().replace("organis", "organiz")


def _find(columns: Sequence[str], name: str) -> int | None:
    if name in columns:
        return columns.index(name)
    loose = [_loose(c) for c in columns]
    return loose.index(_loose(name)) if _loose(name) in loose else None


def _key(text: str, match: str) -> str:
    if match == "name":
        return " ".join(text.split()).casefold()
    key = text.strip()
    return salesforce_id(key) if match == "salesforce_id" else key


#: The letters of an 18-character Salesforce id's last three: each codes which of
#: five characters of the 15-character id are capitals (bit i: the i-th of the five).
_SF_SUFFIX = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"


def salesforce_id(key: str) -> str:
    """A Salesforce id in its 18-character form, its capitals restored.

    Reports export the 15-character, case-sensitive form; Data Export and Data
    Loader the 18-character one, whose last three characters code the case of the
    first fifteen so that tools that ignore case still tell ids apart. Both forms of
    one record, in any case, come out the same; anything else is kept as it is.

    >>> salesforce_id("0068a00001JMUl0")
    '0068a00001JMUl0AAH'
    >>> salesforce_id("0068A00001JMUL0AAH"), salesforce_id("0068a00001jmul0aah")
    ('0068a00001JMUl0AAH', '0068a00001JMUl0AAH')
    """
    if not (key.isascii() and key.isalnum()):
        return key
    if len(key) == 15:
        suffix = ""
        for start in (0, 5, 10):
            chunk = key[start : start + 5]
            suffix += _SF_SUFFIX[sum(1 << i for i, c in enumerate(chunk) if "A" <= c <= "Z")]
        return key + suffix
    if len(key) != 18:
        return key
    suffix = key[15:].upper()
    if not all(c in _SF_SUFFIX for c in suffix):
        return key
    chars = []
    for i, c in enumerate(key[:15]):
        capital = _SF_SUFFIX.index(suffix[i // 5]) >> (i % 5) & 1
        if capital and not c.isalpha():
            return key  # the suffix codes a capital where there is none: not an id
        chars.append(c.upper() if capital else c.lower())
    return "".join(chars) + suffix


@dataclass(slots=True)
class _Table:
    """One link's side of a linked file: key → the rows' values of the link's columns."""

    name: str
    link: LinkSpec
    path: Path | None
    rows: dict[str, list[tuple[str, ...]]] = field(default_factory=dict)
    #: What the input's rows are: "deal" (linked to every linked person by e-mail),
    #: "note" (linked to its first linked person alone) or "note+" (a note linked to
    #: every linked person: the mapping has ``note.contact_emails``).
    record: str = "deal"
    #: The input column the mapping reads where the link's first column is empty
    #: (``columns: [contacts.Email, Associated Contact]``), if it names one.
    fallback: str | None = None

    @property
    def where(self) -> str:
        return f"{self.path.name if self.path else '(no file)'} ({self.link.key})"

    @property
    def of_people(self) -> bool:
        """Whether the link brings people's e-mail addresses (its first column's)."""
        return "mail" in self.link.columns[0].casefold()


@dataclass(slots=True)
class Linker:
    """Extends input rows with the columns of their linked rows."""

    tables: list[_Table]
    warnings: list[str]
    by: list[int] = field(default_factory=list)  # each link's key column in the extended row
    #: Each link's ``primary`` column in the input row (-1: none, or not in the input).
    primaries: list[int] = field(default_factory=list)
    #: Each link's fallback column in the input row (-1: none, or not in the input).
    fallbacks: list[int] = field(default_factory=list)

    def bind(self, columns: Sequence[str]) -> list[str]:
        """The input's columns plus the virtual ones; raises if a link's ``by`` is missing."""
        extended = list(columns)
        self.by, self.fallbacks, self.primaries = [], [], []
        for table in self.tables:
            at = _find(extended, table.link.by)
            if at is None and table.path is not None:
                raise MappingError(
                    f"links.{table.name}.by: column {table.link.by!r} is not in the input, so"
                    f" {table.path.name} cannot be linked (columns: {', '.join(columns)})"
                )
            self.by.append(-1 if at is None else at)
            named = table.link.match == "name"  # (a name is one key: there is no order)
            primary = (
                _find(columns, table.link.primary) if table.link.primary and not named else None
            )
            self.primaries.append(-1 if primary is None else primary)
            back = _find(columns, table.fallback) if table.fallback is not None else None
            self.fallbacks.append(-1 if back is None else back)
            extended += [f"{table.name}.{column}" for column in table.link.columns]
        return extended

    def extend(
        self, numbers: Sequence[int], rows: Sequence[list[str]]
    ) -> tuple[list[list[str]], dict[int, str]]:
        """Each row with its linked columns appended, and what a row's links could not find."""
        problems: dict[int, list[str]] = {}
        out = []
        for number, row in zip(numbers, rows, strict=True):
            row = list(row)
            for table, at, back, first in zip(
                self.tables, self.by, self.fallbacks, self.primaries, strict=True
            ):
                # (the row's own column backs a link of people only where it gives an
                # address: names alone link nobody)
                cell = row[back] if 0 <= back < len(row) else ""
                backed = "@" in cell if table.of_people else bool(cell.strip())
                text = row[at] if 0 <= at < len(row) else ""
                if 0 <= first < len(row) and row[first].strip():
                    text = _primary_first(text, row[first], table.link.separator)
                cells, problem = self._cells(table, text, backed)
                row += cells
                if problem:
                    problems.setdefault(number, []).append(problem)
            out.append(row)
        return out, {n: "; ".join(p) for n, p in problems.items()}

    def _cells(
        self, table: _Table, text: str, backed: bool = False
    ) -> tuple[list[str], str | None]:
        """The link's cells for a row whose key cell is ``text``, and what it could not
        find; ``backed``: the row's fallback column (:attr:`_Table.fallback`) is filled."""
        link = table.link
        width = len(link.columns)
        if table.path is None or not text.strip():
            return [""] * width, None
        # A name is a name, whatever it holds ("Smith; Jones LLP"); ids may be a list.
        parts = [text] if link.match == "name" else text.split(link.separator)
        written: dict[str, str] = {}  # each key as compared -> as the cell writes it
        for part in parts:
            key = _key(part, link.match)
            if key:
                written.setdefault(key, part.strip())
        keys = list(written)
        if link.key_prefix is not None:
            keys = [k for k in keys if k.startswith(link.key_prefix)]
        found: list[tuple[str, ...]] = []
        missing, ambiguous = [], []
        for key in keys:
            matches = table.rows.get(key)
            if not matches:
                missing.append(written[key])
            elif len(matches) > 1 and not link.many and len(set(matches)) > 1:
                ambiguous.append((written[key], len(matches)))
            else:
                found.extend(matches if link.many else matches[:1])
        # The first column brings every linked row's value (all the e-mails); the others
        # come from the first row that has one, so a name always belongs to the first
        # e-mail, never to another linked person. A company's other columns are its
        # fallbacks (a website where the domain is empty): a row with any value counts.
        people = width > 1 and "mail" in link.columns[0].casefold()  # e-mails, then names
        if missing and backed and not link.many:
            # Some of the row's people (or companies) are not in the file: what it has
            # would make a later one the first (the deal's primary contact, its company)
            # and leave the others out. The row's own column names them all, in order.
            shown = ", ".join(repr(k) for k in missing[:3]) + (" ..." if len(missing) > 3 else "")
            why = (
                f" (with only the others, a later one would come first and {shown} be lost)"
                if len(missing) < len(dict.fromkeys(keys))
                else ""
            )
            return [""] * width, (
                f"link {table.name}: {link.by} {shown} {'is' if len(missing) == 1 else 'are'}"
                f" in no row of {table.where}, so the row takes nothing from that file{why}:"
                f" its own column {table.fallback!r} is read instead"
            )
        found = list(dict.fromkeys(found))
        # A linked person with no e-mail cannot be linked (the API links people by it): said
        mailless = [v for v in found if not v[0] and any(v[1:])] if people else []
        found = [v for v in found if (v[0] if people else any(v))]
        if people:
            first = next((v for v in found if v[0]), None)
            leads = [v[0] for v in found]
        else:  # each company by its first value: its domain, else its website (in order,
            # so the primary company leads even where it has a website alone)
            first = found[0] if found else None
            leads = [next(c for c in v if c) for v in found]
        cells = [link.separator.join(dict.fromkeys(c for c in leads if c))]
        cells += [first[i] if first else "" for i in range(1, width)]
        problem = None
        if missing and not link.many:  # a row no contact role names is no broken key
            shown = ", ".join(repr(k) for k in missing[:3]) + (" ..." if len(missing) > 3 else "")
            problem = f"link {table.name}: {link.by} {shown} is in no row of {table.where}"
        if ambiguous:
            key, count = ambiguous[0]
            problem = (
                f"link {table.name}: {link.by} {key!r} matches {count} different rows of"
                f" {table.where}, so nothing was linked for it"
            )
        if mailless:
            named = "; ".join(" ".join(c for c in v[1:] if c) for v in mailless[:4])
            more = f" and {len(mailless) - 4} more" if len(mailless) > 4 else ""
            what = "note" if table.record in ("note", "note+") else "deal"
            said = (
                f"link {table.name}: {named}{more} {'has' if len(mailless) == 1 else 'have'} no"
                f" {link.columns[0]} in {table.where}, so the {what} is not linked to"
                f" {'them' if len(mailless) > 1 else 'that person'}"
            )
            problem = f"{problem}; {said}" if problem else said
        unsent = [v for v in found[1:] if any(v[1:])] if people else []
        if unsent:  # the other linked people's names, which no request carries: said
            named = "; ".join(f"{v[0]}: {' '.join(c for c in v[1:] if c)}" for v in unsent[:4])
            more = f" and {len(unsent) - 4} more" if len(unsent) > 4 else ""
            file = table.path.name if table.path else table.name
            said = (
                f"link {table.name}: the note is linked to its first linked person alone; the"
                f" others ({named}{more}) are not linked to it (import {file} with its own preset"
                " for the people)"
                if table.record == "note"
                else f"link {table.name}: the {'note' if table.record == 'note+' else 'deal'}"
                f" sends its other linked people by"
                f" {link.columns[0]} alone, without their {' and '.join(link.columns[1:])}"
                f" ({named}{more}): they get them only where a row of their own, or {file}"
                " imported with its own preset,"
                " sends them"
            )
            problem = f"{problem}; {said}" if problem else said
        return cells, problem


def _primary_first(text: str, primary: str, separator: str) -> str:
    """``text``'s keys with those of ``primary`` first (each once, the others in order).

    >>> _primary_first("11;12;13", "12", ";")
    '12;11;13'
    """
    keys = [k.strip() for k in text.split(separator) if k.strip()]
    first = [k.strip() for k in primary.split(separator) if k.strip()]
    return separator.join(dict.fromkeys([*first, *keys]))


def build_linker(mapping: MappingFile, files: Sequence[LinkFile]) -> Linker | None:
    """Read the linked files the mapping's links need; None when the mapping has no links.

    Linked files are read with detection (encoding, delimiter, header): the input's
    read options are the input's own.

    Raises:
        UsageError: a ``--with NAME=FILE`` names no link, two files fit one link, or a
            file fits no link.
        SourceError: a linked file cannot be read.
    """
    if not mapping.links:
        if files:
            raise UsageError(
                f"--with was given, but {mapping.source} declares no links: nothing would read"
                " the other files"
            )
        return None
    headers = {path: _header(path) for _, path in files}
    for given, path in files:
        if given is not None and given not in mapping.links:
            raise UsageError(
                f"--with {given}={path}: the mapping has no link {given!r}"
                f" (its links: {', '.join(mapping.links)})"
            )
    tables: list[_Table] = []
    warnings: list[str] = []
    used: set[Path] = set()
    for name, link in mapping.links.items():
        chosen = _choose(name, link, files, headers)
        if chosen is None:
            warnings.append(
                f"link {name}: no --with file has the columns"
                f" {', '.join(repr(c) for c in dict.fromkeys([link.key, *link.columns]))};"
                " its columns are empty"
            )
            tables.append(_Table(name, link, None))
            continue
        used.add(chosen)
        lacking = [c for c in link.optional_columns if _find(headers[chosen], c) is None]
        if lacking:
            warnings.append(
                f"link {name}: {chosen.name} has no column {', '.join(map(repr, lacking))};"
                " it reads as empty"
            )
        table = _read_table(name, link, chosen, headers[chosen], warnings)
        table.fallback = _fallback(mapping, f"{name}.{link.columns[0]}")
        if mapping.note is not None and mapping.opportunity is None:
            table.record = "note" if mapping.note.contact_emails is None else "note+"
        tables.append(table)
    unused = [str(path) for _, path in files if path not in used]
    if unused:
        raise UsageError(
            f"--with {', '.join(unused)}: no link of {mapping.source} fits it (its links need:"
            + "; ".join(
                f" {n}: {lk.key}, {', '.join(lk.columns)}" for n, lk in mapping.links.items()
            )
            + ")"
        )
    return Linker(tables, warnings)


def _fallback(mapping: MappingFile, column: str) -> str | None:
    """The input column a field reads after the linked ``column`` (``columns: [contacts.Email,
    Associated Contact]``): where every field that reads ``column`` has one, the first."""
    after: list[str] = []
    for _, spec in mapping.fields():
        listed = spec.columns or ()
        if column in listed:
            rest = [
                c
                for c in listed[listed.index(column) + 1 :]
                if "." not in c or c not in link_columns(mapping)
            ]
            if not rest:
                return None
            after.append(rest[0])
        elif column in spec.referenced_columns():
            return None  # read alone: the linked values are all it has
    return after[0] if after else None


def _header(path: Path) -> list[str]:
    with open_source(path, batch_rows=1) as source:
        return list(source.info.columns)


def _fits(link: LinkSpec, columns: Sequence[str]) -> bool:
    """The file has the link's key and columns, but those it may lack (optional_columns:
    a companies export without "Website URL"), which read as empty."""
    needed = (link.key, *(c for c in link.columns if c not in link.optional_columns))
    return all(_find(columns, c) is not None for c in needed)


def _choose(
    name: str, link: LinkSpec, files: Sequence[LinkFile], headers: Mapping[Path, list[str]]
) -> Path | None:
    named = [path for given, path in files if given == name]
    if named:
        path = named[-1]
        if not _fits(link, headers[path]):
            raise UsageError(
                f"--with {name}={path}: the file lacks the link's columns"
                f" ({', '.join([link.key, *link.columns])})"
            )
        return path
    fitting = [path for given, path in files if given is None and _fits(link, headers[path])]
    if len(fitting) > 1 and link.file:
        hinted = [p for p in fitting if link.file.casefold() in p.stem.casefold()]
        fitting = hinted or fitting
    if len(fitting) > 1:
        raise UsageError(
            f"link {name}: {', '.join(str(p) for p in fitting)} all fit; say which with"
            f" --with {name}=FILE"
        )
    return fitting[0] if fitting else None


def _read_table(
    name: str, link: LinkSpec, path: Path, header: list[str], warnings: list[str]
) -> _Table:
    """The linked file's rows by key; what the file as a whole says (a workbook's merged
    or hidden rows) goes to ``warnings``, its rows being no rows of the results."""
    table = _Table(name, link, path)
    at_key = _find(header, link.key)
    at = [_find(header, c) for c in link.columns]
    assert at_key is not None and at[0] is not None  # _choose checked
    flag = _find(header, link.primary_flag) if link.primary_flag else None
    deleted = _find(header, link.deleted_flag) if link.deleted_flag else None
    primaries: dict[str, int] = {}  # a key's primary rows, first in its list
    rows = table.rows
    with open_source(path) as source:
        warnings.extend(f"link {name}: {path.name}: {note}" for note in source.notes)
        for batch in source.batches():
            for row in batch.rows:
                if deleted is not None and row[deleted].strip().casefold() in _TRUE:
                    continue  # a deleted record (the recycle bin's): links nothing
                key = _key(row[at_key], link.match)
                if key:
                    values = tuple("" if i is None else row[i].strip() for i in at)
                    found = rows.setdefault(key, [])
                    if flag is not None and row[flag].strip().casefold() in _TRUE:
                        found.insert(primaries.get(key, 0), values)
                        primaries[key] = primaries.get(key, 0) + 1
                    else:
                        found.append(values)
    return table


_TRUE = frozenset({"true", "1", "yes", "y"})
