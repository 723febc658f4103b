"""The run journal: each request's outcome, on disk the moment it is known.

A real run records every request it sends in a SQLite database (WAL mode, one
transaction per outcome), beside the results file unless ``--journal`` says
where. A crash at any instant (``kill -9`` included) loses at most the requests
that were on the wire. A request that a repeat could duplicate (a note, a deal
without a company domain and a name) is marked ``sending`` before it goes out, so
that a crash while it is on the wire leaves it ``unknown``, never unsent.

The journal belongs to one import: a fingerprint of the input's bytes (and of the
files ``--with`` joins), the mapping as loaded (rates included) and the pipeline,
and the target (its base URL and a fingerprint of the API key: never the key).
Running the same import again continues it: requests with an outcome are not sent
again (failed ones only with ``retry_failed``; lost answers of notes and keyless
deals only with ``retry_unknown``), and their rows say which run did them. A
journal of another import is refused with what differs and what to do.

Tables::

    meta(name, value)                    fingerprint, schema version
    runs(id, started, ended, state)      state: running | complete | stopped
    requests(key, endpoint, state, run, ids, http_status, message, attempts, at)
                                         state: sending | ok | failed | unknown
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import json
import os
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from importer.errors import UsageError, refused_for_its_data
from importer.plan import PlannedRequest

if TYPE_CHECKING:  # asyncio: loaded when a run sends
    from importer.send.runner import RequestOutcome

__all__ = [
    "Fingerprint",
    "Journal",
    "JournalEntry",
    "combined_digest",
    "default_journal_path",
    "file_digest",
    "mismatch_message",
    "own_digest",
    "target_identity",
]

SCHEMA = 1
_SCHEMA_SQL = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY, started TEXT NOT NULL, ended TEXT, state TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS requests (
    key TEXT PRIMARY KEY, endpoint TEXT NOT NULL, state TEXT NOT NULL, run INTEGER NOT NULL,
    ids TEXT, http_status INTEGER, message TEXT, attempts INTEGER, at TEXT NOT NULL
);
"""


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """What makes two runs the same import (every part a digest or a name, no secret)."""

    input: str  # digest of the input's bytes and of the linked files'
    input_name: str
    mapping: str  # digest of the loaded mapping and the pipeline
    mapping_name: str
    target: str  # base URL and key fingerprint, or "the embedded sandbox"
    ephemeral: bool = False  # a target that is gone when the run ends
    #: The input's own digest, and the linked files' (``--with``) as ``name=digest``
    #: lines: which of them changed (journals before these have neither).
    input_own: str = ""
    links: str = ""

    def differences(self, recorded: Fingerprint) -> list[str]:
        """What differs from the journal's ``recorded`` fingerprint, in words."""
        found = []
        if self.input != recorded.input:
            same = self.input_name == recorded.input_name
            if same and self.input_own and self.input_own == recorded.input_own:
                found.append(_links_differ(self.links, recorded.links))
            else:
                found.append(
                    f"the input file {self.input_name} has changed since"
                    if same
                    else f"the input is {self.input_name}, not {recorded.input_name}"
                )
        if self.mapping != recorded.mapping:
            found.append(
                f"the mapping ({self.mapping_name}) or its rates or pipeline have changed"
                if self.mapping_name == recorded.mapping_name
                else f"the mapping is {self.mapping_name}, not {recorded.mapping_name}"
            )
        if self.target != recorded.target:
            found.append(f"the target is {self.target}, not {recorded.target}")
        return found


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """One request's last recorded outcome."""

    key: str
    endpoint: str
    state: str  # sending | ok | failed | unknown
    run: int
    ids: dict[str, str]
    http_status: int | None
    message: str
    attempts: int
    at: str


def default_journal_path(results: Path) -> Path:
    """``leads.results.csv`` → ``leads.journal.sqlite``, in the results file's folder."""
    name = results.name.removesuffix(".csv").removesuffix(".results")
    return results.with_name(f"{name}.journal.sqlite")


def file_digest(paths: Iterable[Path]) -> str:
    """A digest of the files' bytes, in order (read a megabyte at a time)."""
    return combined_digest([own_digest(path) for path in paths])


def own_digest(path: Path) -> bytes:
    """One file's SHA-256."""
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").digest()


def combined_digest(digests: Iterable[bytes]) -> str:
    """:func:`file_digest` of files whose own digests are ``digests``."""
    total = hashlib.sha256()
    for digest in digests:
        total.update(digest)
    return total.hexdigest()


def target_identity(target: Any) -> tuple[str, bool]:
    """(what the journal calls the target, whether it is gone after the run).

    The base URL and a salted fingerprint of the API key (an organisation's key
    stands for the organisation); never the key itself.
    """
    if getattr(target, "ephemeral", False):
        return "the embedded sandbox", True
    settings = target.settings
    client = getattr(target, "client", None)
    base = str(getattr(client, "base_url", None) or settings.base_url).rstrip("/")
    if client is None and getattr(settings, "api", "inbound") == "public":
        base = f"{settings.public_api_url}/v1 (public API)"
    key = settings.api_key.get_secret_value() if settings.api_key is not None else ""
    if not key:
        return base, False
    digest = hashlib.sha256(b"octolane-import journal\0" + key.encode()).hexdigest()[:12]
    return f"{base} (key fingerprint {digest})", False


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


class Journal:
    """One import's journal, open for one run (:meth:`open`; :meth:`close` at the end)."""

    def __init__(self, path: Path, db: sqlite3.Connection, run: int, fingerprint: Fingerprint):
        self.path = path
        self._db = db
        self.run = run
        self.fingerprint = fingerprint
        #: Each request's outcome before this run, by key.
        self.previous: dict[str, JournalEntry] = {}
        #: Run number → (started, ended, state) of the runs before this one.
        self.runs: dict[int, tuple[str, str | None, str]] = {}
        #: Set when the journal was begun anew: what happened to the old one.
        self.set_aside: Path | None = None

    @classmethod
    def open(cls, path: Path, fingerprint: Fingerprint, *, fresh: bool = False) -> Journal:
        """Open (or create) the journal at ``path`` for a run of ``fingerprint``'s import.

        ``fresh``: set an existing journal aside (renamed, never deleted) and begin anew.
        A journal of an ephemeral target (the embedded sandbox, gone with its run) is
        set aside likewise: its records are of records that no longer exist.

        Raises:
            UsageError: the journal is of another import (what differs, what to do),
                or it cannot be read or written.
        """
        set_aside = None
        if path.exists():
            recorded = _read_fingerprint(path)
            if recorded is not None and recorded.ephemeral:
                _remove(path)  # its records were in a sandbox that is gone
            elif fresh or recorded is None or fingerprint.ephemeral:
                set_aside = _set_aside(path)
            elif differences := fingerprint.differences(recorded):
                if _reached(path):
                    raise UsageError(_mismatch(path, differences))
                _remove(path)  # nothing in it reached Octolane: nothing to continue
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))  # the user's alone
            db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")  # WAL: durable against a crash of ours
            db.executescript(_SCHEMA_SQL)
            for suffix in ("-wal", "-shm"):  # SQLite made them with the umask's mode
                extra = path.with_name(path.name + suffix)
                if extra.exists():
                    extra.chmod(0o600)
            meta = dict(db.execute("SELECT name, value FROM meta").fetchall())
            if not meta:
                values = {**_as_meta(fingerprint), "schema": str(SCHEMA), "created": _now()}
                db.executemany("INSERT INTO meta VALUES (?, ?)", values.items())
            run = db.execute(
                "INSERT INTO runs (started, state) VALUES (?, 'running')", (_now(),)
            ).lastrowid
        except sqlite3.Error as exc:
            raise UsageError(f"{path}: the run journal cannot be opened ({exc})") from exc
        assert run is not None
        journal = cls(path, db, run, fingerprint)
        journal.set_aside = set_aside
        journal.runs = {
            row[0]: (row[1], row[2], row[3])
            for row in db.execute("SELECT id, started, ended, state FROM runs WHERE id < ?", (run,))
        }
        for row in db.execute(
            "SELECT key, endpoint, state, run, ids, http_status, message, attempts, at"
            " FROM requests"
        ):
            entry = JournalEntry(
                row[0], row[1], row[2], row[3], json.loads(row[4] or "{}"), row[5],
                row[6] or "", row[7] or 0, row[8],
            )  # fmt: skip
            journal.previous[entry.key] = entry
        return journal

    @staticmethod
    def recorded(path: Path) -> Fingerprint | None:
        """The fingerprint the journal at ``path`` was begun with (None: no journal there,
        or one without a fingerprint).

        Raises:
            UsageError: the file is not a journal this version can read.
        """
        return _read_fingerprint(path) if path.exists() else None

    @staticmethod
    def reached(path: Path) -> bool:
        """Whether the journal at ``path`` records a request that may have reached Octolane
        (answered, or its answer lost): a run of another import must not replace it."""
        return path.exists() and _reached(path)

    # ---- this run's records -------------------------------------------------------

    def sending(self, request: PlannedRequest) -> None:
        """Mark a request a repeat could duplicate as on the wire (before it goes).

        An earlier run's lost answer (``unknown``, or ``sending`` from a run that died)
        keeps its row: if this send fails in a way that records nothing, the next run
        must still know that a copy may exist, and look it up rather than send it blind.
        """
        self._db.execute(
            "INSERT INTO requests (key, endpoint, state, run, at)"
            " VALUES (?, ?, 'sending', ?, ?) ON CONFLICT(key) DO UPDATE SET"
            " state = 'sending', run = excluded.run, at = excluded.at"
            " WHERE requests.state NOT IN ('unknown', 'sending')",
            (request.key, request.endpoint, self.run, _now()),
        )

    def record(self, outcome: RequestOutcome) -> None:
        """Record this run's outcome of a request it sent (one transaction: durable)."""
        if outcome.run is not None or outcome.blocked_by is not None:
            return  # an earlier run's, or never sent
        if outcome.status == "not_sent" or (
            outcome.status == "failed"
            and not refused_for_its_data(outcome.http_status, outcome.field_errors)
        ):
            # Never sent, answered only 429s, or failed for a reason the row does not
            # explain (a 5xx after every try, a wrong URL, no connection): nothing to
            # keep, the next run sends it again. No mark of a duplicable request's
            # either: it stays "sending" only if the process died with it on the wire.
            self._db.execute(
                "DELETE FROM requests WHERE key = ? AND state = 'sending' AND run = ?",
                (outcome.key, self.run),
            )
            return
        self._db.execute(
            "INSERT OR REPLACE INTO requests VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                outcome.key, outcome.endpoint, outcome.status, self.run,
                json.dumps(outcome.ids) if outcome.ids else None, outcome.http_status,
                outcome.message, outcome.attempts, _now(),
            ),
        )  # fmt: skip

    @property
    def held_notes(self) -> bool | None:
        """Whether the organization held any note when this import's first run asked
        (None: not asked yet). Notes this import sent since are in the journal, so a run
        that continues it need not look for copies where the answer was no."""
        row = self._db.execute("SELECT value FROM meta WHERE name = 'held_notes'").fetchone()
        return None if row is None else row[0] == "1"

    def note_held_notes(self, held: bool) -> None:
        """Keep the first run's answer to whether the organization held any note."""
        self._db.execute(
            "INSERT OR IGNORE INTO meta VALUES ('held_notes', ?)", ("1" if held else "0",)
        )

    def finish(self, state: str) -> None:
        """End this run: ``complete`` (every request has an outcome) or ``stopped``."""
        self._db.execute(
            "UPDATE runs SET ended = ?, state = ? WHERE id = ?", (_now(), state, self.run)
        )

    def close(self) -> None:
        self._db.close()

    # ---- what an earlier run did ------------------------------------------------------

    def earlier_outcomes(
        self,
        requests: Sequence[PlannedRequest],
        *,
        retry_failed: bool = False,
        retry_unknown: bool = False,
    ) -> dict[str, RequestOutcome]:
        """The outcomes earlier runs got that this run keeps (its requests are not sent).

        ``ok`` is kept always; ``failed`` unless ``retry_failed``; a lost answer
        (``unknown``, or ``sending`` when a run died with it on the wire) is kept, but for
        an account or a contact, which every API finds again (dropped: sent again). The
        sender knows which of the rest its API deduplicates (the Inbound API's deals with
        a company domain and a name): it sends those again, and looks the others up
        where it can and sends them if they are not found. ``retry_unknown`` only changes
        the advice of their message (the sender is told separately to send those no
        lookup settles).
        """
        kept: dict[str, RequestOutcome] = {}
        for request in requests:
            entry = self.previous.get(request.key) or self.previous.get(_older_key(request))
            if entry is None:
                continue
            when = self._when(entry.run)
            state = entry.state
            if state == "ok":
                outcome = _earlier(request, entry, "ok", f"run {entry.run} ({when})")
            elif state == "failed":
                if retry_failed:
                    continue
                outcome = _earlier(
                    request, entry, "failed",
                    f"{entry.message} (in run {entry.run}, {when}; --retry-failed sends it again)",
                )  # fmt: skip
            elif request.endpoint in ("accounts", "contacts"):
                continue  # found again by domain or e-mail on every API: sent again
            else:
                said = entry.message.removeprefix("no answer known: ").partition("; Octolane may")[
                    0
                ]
                what = (
                    f"run {entry.run} ({when}) ended while it was on the wire"
                    if state == "sending"
                    else f"in run {entry.run} ({when}): {said}"
                )
                advice = (
                    "--retry-unknown sends it again unless a lookup finds it"
                    if retry_unknown
                    else "It is not sent again, since a repeat could create a second one:"
                    " check in Octolane, then run the same command with --retry-unknown"
                    " to send it"
                )
                outcome = _earlier(
                    request, entry, "unknown",
                    f"no answer known: {what}; Octolane may have created it. {advice}",
                )  # fmt: skip
            kept[request.key] = outcome
        return kept

    def _when(self, run: int) -> str:
        started = self.runs.get(run, (None, None, None))[0]
        return started.replace("T", " ").replace("+00:00", " UTC") if started else "this run"


def _older_key(request: PlannedRequest) -> str:
    """The key an earlier version gave ``request``, where it differs: a deal sent without
    a name was keyed with an empty name (``opportunity:<pipeline>:acme.com:``), and is
    now keyed by the name Octolane gives it. "" where there is none."""
    if request.endpoint != "opportunities":
        return ""
    payload = request.payload
    if (payload.get("opportunity") or {}).get("name"):
        return ""
    domain = (payload.get("related_objects") or {}).get("account_domain")
    return f"opportunity:{payload.get('pipeline_id') or ''}:{domain}:" if domain else ""


def _earlier(request: PlannedRequest, entry: JournalEntry, status: Any, message: str) -> Any:
    from importer.send.runner import RequestOutcome

    return RequestOutcome(
        key=request.key, endpoint=request.endpoint, status=status, ids=dict(entry.ids),
        http_status=entry.http_status, message=message, attempts=0, rows=request.rows,
        run=entry.run,
    )  # fmt: skip


def _reached(path: Path) -> bool:
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            found = db.execute(
                "SELECT 1 FROM requests WHERE state IN ('ok', 'unknown', 'sending') LIMIT 1"
            ).fetchone()
        finally:
            db.close()
    except sqlite3.Error:
        return True  # unreadable: assume the worst
    return found is not None


def _as_meta(fingerprint: Fingerprint) -> dict[str, str]:
    values = dataclasses.asdict(fingerprint)
    values["ephemeral"] = "1" if fingerprint.ephemeral else ""
    return {f"fingerprint.{k}": str(v) for k, v in values.items()}


def _read_fingerprint(path: Path) -> Fingerprint | None:
    """The fingerprint a journal was begun with, or None if it is not a journal."""
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            meta: Mapping[str, str] = dict(db.execute("SELECT name, value FROM meta").fetchall())
        finally:
            db.close()
    except sqlite3.Error as exc:
        raise UsageError(
            f"{path}: not a run journal this version can read ({exc}); give another path"
            " with --journal, or move it away"
        ) from exc
    fields = dataclasses.fields(Fingerprint)
    needed = [f.name for f in fields if f.default is dataclasses.MISSING]
    if not all(f"fingerprint.{n}" in meta for n in needed):
        return None
    values: dict[str, Any] = {
        f.name: meta[f"fingerprint.{f.name}"] for f in fields if f"fingerprint.{f.name}" in meta
    }
    values.setdefault("ephemeral", "")
    values["ephemeral"] = bool(values["ephemeral"])
    return Fingerprint(**values)


def _links_differ(now: str, before: str) -> str:
    """How the linked files (``--with``) of two runs differ, in words."""
    have = dict(line.rsplit("=", 1) for line in now.splitlines() if "=" in line)
    had = dict(line.rsplit("=", 1) for line in before.splitlines() if "=" in line)
    said = [f"{name} was not given before" for name in have if name not in had]
    said += [f"{name} was given before and is not now" for name in had if name not in have]
    said += [
        f"{name} has changed since" for name in have if name in had and have[name] != had[name]
    ]
    return "the linked files (--with) differ: " + ("; ".join(said) or "their order changed")


def _set_aside(path: Path) -> Path:
    """Rename a journal (and its WAL files) out of the way; returns its new name."""
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%S")
    aside = path.with_name(f"{path.stem}-{stamp}{path.suffix}")
    n = 1
    while aside.exists():
        n += 1
        aside = path.with_name(f"{path.stem}-{stamp}-{n}{path.suffix}")
    for suffix in ("-wal", "-shm"):
        extra = path.with_name(path.name + suffix)
        if extra.exists():
            extra.rename(aside.with_name(aside.name + suffix))
    path.rename(aside)
    return aside


def _remove(path: Path) -> None:
    for name in (path.name + "-wal", path.name + "-shm", path.name):
        path.with_name(name).unlink(missing_ok=True)


def _mismatch(path: Path, differences: list[str]) -> str:
    return mismatch_message(path, differences)


def mismatch_message(path: Path, differences: Sequence[str]) -> str:
    """Why the journal at ``path`` is not this import's, and the ways on."""
    return (
        f"{path} is the journal of another import: {'; '.join(differences)}. To continue that"
        " import, run it with the same file, mapping and target. To import this as a new"
        " run, give another results file with --out (its journal goes beside it), or pass"
        " --fresh --force to set the old journal aside (kept under another name) and"
        " replace the results file. Accounts, contacts and deals already sent are found"
        " again by Octolane, and notes are looked up before they are sent (where the"
        " public API can be read; where it cannot, they would be created a second time)."
    )
