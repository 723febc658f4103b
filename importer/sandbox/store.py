"""SQLite storage for the sandbox: accounts, contacts, opportunities and notes per org.

In memory by default, a file (WAL) with ``--db``. All calls run on the server's
event-loop thread inside short transactions, so concurrent requests are
serialised; the UNIQUE constraints are the real guarantee against duplicate
accounts (org + domain) and contacts (org + email). Deals are matched on org +
pipeline + domain + deal name by a lookup, not a constraint: the public API's
creates may be set to make a new deal every time (``DealWrite.dedup``).

:meth:`Store.batch` runs several writes as one transaction (a bulk create), so a
batch is written whole or not at all.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

from importer.sandbox.config import SandboxConfigError
from importer.sandbox.validation import name_from_domain, name_key

__all__ = ["ContactProfile", "DealWrite", "LinkedContact", "Store"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS accounts (
    id TEXT PRIMARY KEY, org_id TEXT NOT NULL, domain TEXT NOT NULL, name TEXT NOT NULL,
    created_at INTEGER NOT NULL, UNIQUE (org_id, domain));
CREATE TABLE IF NOT EXISTS contacts (
    id TEXT PRIMARY KEY, org_id TEXT NOT NULL, email TEXT NOT NULL,
    first_name TEXT, last_name TEXT, account_id TEXT REFERENCES accounts (id),
    created_at INTEGER NOT NULL, job_title TEXT, phone TEXT, linkedin TEXT,
    UNIQUE (org_id, email));
CREATE TABLE IF NOT EXISTS opportunities (
    id TEXT PRIMARY KEY, org_id TEXT NOT NULL, pipeline_id TEXT NOT NULL,
    account_domain TEXT NOT NULL, name TEXT NOT NULL, name_key TEXT NOT NULL,
    account_id TEXT REFERENCES accounts (id), stage_id TEXT NOT NULL, amount NUMERIC,
    close_date INTEGER, next_action_date INTEGER, next_step TEXT, owner_email TEXT,
    primary_contact_id TEXT REFERENCES contacts (id),
    created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, custom_attributes TEXT);
CREATE TABLE IF NOT EXISTS opportunity_contacts (
    opportunity_id TEXT NOT NULL REFERENCES opportunities (id),
    contact_id TEXT NOT NULL REFERENCES contacts (id),
    PRIMARY KEY (opportunity_id, contact_id));
CREATE TABLE IF NOT EXISTS notes (
    id TEXT PRIMARY KEY, org_id TEXT NOT NULL, title TEXT NOT NULL, content TEXT,
    created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS note_links (
    note_id TEXT NOT NULL REFERENCES notes (id), kind TEXT NOT NULL, key TEXT NOT NULL,
    PRIMARY KEY (note_id, kind, key));
CREATE INDEX IF NOT EXISTS notes_by_org ON notes (org_id);
"""
# Columns added since the first release, for --db files made by it (table, column, type).
_ADDED_COLUMNS = (
    ("contacts", "job_title", "TEXT"),
    ("contacts", "phone", "TEXT"),
    ("contacts", "linkedin", "TEXT"),
    ("opportunities", "custom_attributes", "TEXT"),
)
_DEAL_KEY_INDEX = """CREATE INDEX IF NOT EXISTS opportunities_by_key
ON opportunities (org_id, pipeline_id, account_domain, name_key)"""

# An account is looked up first: most writes name one already stored, and a lookup costs
# a fraction of an upsert (which rewrites the row it finds). The write transaction around
# it means no other write comes between the lookup and the insert.
_FIND_ACCOUNT = "SELECT id, domain, name FROM accounts WHERE org_id = ? AND domain = ?"
_INSERT_ACCOUNT = """
INSERT INTO accounts (id, org_id, domain, name, created_at) VALUES (?, ?, ?, ?, ?)"""


def _on_repeat(column: str) -> str:
    """``column`` of a contact sent again, by the policy :repeat: (keep, fill or overwrite)."""
    return (
        f"{column} = CASE :repeat WHEN 'overwrite' THEN coalesce(excluded.{column}, {column})"
        f" WHEN 'fill' THEN coalesce({column}, excluded.{column}) ELSE {column} END"
    )


_PROFILE = ("first_name", "last_name", "job_title", "phone", "linkedin")
# A contact is first inserted if new (most are): that insert returns nothing and stores
# what it was given, so the answer is the values sent. One sent again takes the upsert.
_INSERT_NEW_CONTACT = """
INSERT INTO contacts (id, org_id, email, first_name, last_name, job_title, phone, linkedin,
    account_id, created_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (org_id, email) DO NOTHING"""
# The usual inbound contact create in one statement (atomic on its own, no transaction to
# open): a new contact of an account already stored. It inserts nothing when the contact
# is stored already or its account is not: then the whole write is done in a transaction.
_INSERT_NEW_CONTACT_OF_ACCOUNT = """
INSERT INTO contacts (id, org_id, email, first_name, last_name, account_id, created_at)
SELECT ?, ?, ?, ?, ?, id, ? FROM accounts WHERE org_id = ? AND domain = ?
ON CONFLICT (org_id, email) DO NOTHING"""
_UPSERT_CONTACT = f"""
INSERT INTO contacts (id, org_id, email, first_name, last_name, job_title, phone, linkedin,
    account_id, created_at)
VALUES (:id, :org_id, :email, :first_name, :last_name, :job_title, :phone, :linkedin,
    :account_id, :created_at)
ON CONFLICT (org_id, email) DO UPDATE SET
    {", ".join(_on_repeat(c) for c in _PROFILE)},
    account_id = coalesce(account_id, excluded.account_id)
RETURNING id, email, first_name, last_name"""

_FIND_DEAL = """
SELECT id, name, amount, primary_contact_id FROM opportunities
WHERE org_id = ? AND pipeline_id = ? AND account_domain = ? AND name_key = ?
ORDER BY rowid LIMIT 1"""

# Deal fields stored under their request names (deal_size is stored as amount).
_DEAL_FIELDS = (
    "pipeline_id",
    "stage_id",
    "close_date",
    "next_action_date",
    "next_step",
    "owner_email",
)
_INSERT_DEAL = """
INSERT INTO opportunities (id, org_id, pipeline_id, account_domain, name, name_key, account_id,
    stage_id, amount, close_date, next_action_date, next_step, owner_email, primary_contact_id,
    created_at, updated_at, custom_attributes)
VALUES (:id, :org_id, :pipeline_id, :account_domain, :name, :name_key, :account_id, :stage_id,
    :amount, :close_date, :next_action_date, :next_step, :owner_email, :primary_contact_id,
    :created_at, :updated_at, :custom_attributes)"""

# Only the fields the re-send carries replace stored ones (repeated_deal_fields = update).
_UPDATE_DEAL = """
UPDATE opportunities SET stage_id = coalesce(:stage_id, stage_id),
    amount = coalesce(:amount, amount), close_date = coalesce(:close_date, close_date),
    next_action_date = coalesce(:next_action_date, next_action_date),
    next_step = coalesce(:next_step, next_step), owner_email = coalesce(:owner_email, owner_email),
    custom_attributes = coalesce(:custom_attributes, custom_attributes), updated_at = :updated_at
WHERE id = :id RETURNING id, name, amount"""


def _json_or_none(value: Mapping[str, Any] | None) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False)


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


_UUID4_CLEAR = ~((0xF000 << 64) | (0xC000 << 48))
_UUID4_SET = (0x4000 << 64) | (0x8000 << 48)


def _new_id() -> str:
    """A random (version 4) UUID as text: what ``str(uuid.uuid4())`` gives, at a third
    of its cost (no UUID object)."""
    n = int.from_bytes(os.urandom(16)) & _UUID4_CLEAR | _UUID4_SET
    h = f"{n:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


@dataclass(frozen=True, slots=True)
class LinkedContact:
    """A contact to ensure; ``account_domain`` is its email's company (None for freemail)."""

    email: str
    account_domain: str | None


@dataclass(frozen=True, slots=True)
class ContactProfile:
    """What a contact create may set besides its email (all optional)."""

    first_name: str | None = None
    last_name: str | None = None
    job_title: str | None = None
    phone: str | None = None
    linkedin: str | None = None


@dataclass(frozen=True, slots=True)
class DealWrite:
    """One validated opportunity create, references already resolved."""

    pipeline_id: str
    name: str | None
    stage_id: str
    deal_size: int | float | None
    close_date: int | None
    next_action_date: int | None
    next_step: str | None
    account_domain: str | None
    primary: LinkedContact | None
    additional: tuple[LinkedContact, ...]
    owner_email: str | None
    repeated_fields: Literal["keep", "update"]
    repeated_contacts: Literal["add", "replace"]
    #: Whether a deal with the same (pipeline, domain, name) is this one (the inbound rule).
    dedup: bool = True
    custom_attributes: Mapping[str, Any] | None = None


class Store:
    """The sandbox's records. Not thread-safe: use it from one thread at a time."""

    def __init__(self, path: str = ":memory:") -> None:
        self.path = path
        try:
            # Autocommit mode: transactions are opened explicitly around each request's writes.
            self._db = sqlite3.connect(
                path, isolation_level=None, check_same_thread=False, cached_statements=64
            )
            if path != ":memory:":
                self._db.execute("PRAGMA journal_mode = WAL")
                self._db.execute("PRAGMA synchronous = NORMAL")
            self._db.executescript(SCHEMA)
            self._migrate()
        except sqlite3.Error as exc:
            raise SandboxConfigError(f"{path}: cannot open the sandbox database ({exc})") from exc
        self._depth = 0

    def _migrate(self) -> None:
        """Bring a --db file made by an older sandbox up to this schema."""
        db = self._db
        for table, column, kind in _ADDED_COLUMNS:
            columns = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
            if column not in columns:
                db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
        (sql,) = db.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'opportunities'"
        ).fetchone()
        if "UNIQUE" in sql:  # deals were unique per key; a public create may now repeat one
            new_sql = SCHEMA.split("CREATE TABLE IF NOT EXISTS opportunities", 1)[1]
            new_sql = new_sql.split(";", 1)[0]
            db.executescript(
                f"""BEGIN; CREATE TABLE opportunities_new {new_sql};
                INSERT INTO opportunities_new SELECT {self._columns("opportunities")}
                    FROM opportunities;
                DROP TABLE opportunities; ALTER TABLE opportunities_new RENAME TO opportunities;
                COMMIT;"""
            )
        db.execute(_DEAL_KEY_INDEX)

    def _columns(self, table: str) -> str:
        return ", ".join(row[1] for row in self._db.execute(f"PRAGMA table_info({table})"))

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        db = self._db
        if self._depth:  # inside batch(): its transaction holds this write too
            yield db
            return
        db.execute("BEGIN IMMEDIATE")
        self._depth += 1
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        finally:
            self._depth -= 1
        db.execute("COMMIT")

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Run the writes inside as one transaction: all of them are kept, or none."""
        with self._transaction():
            yield

    # ---- writes ---------------------------------------------------------------

    def _account(
        self, db: sqlite3.Connection, org_id: str, domain: str, name: str | None = None
    ) -> tuple[str, str, str]:
        return self._put_account(db, org_id, domain, name)[0]

    def _put_account(
        self, db: sqlite3.Connection, org_id: str, domain: str, name: str | None = None
    ) -> tuple[tuple[str, str, str], bool]:
        """The account's ``(id, domain, name)``, stored if new, and whether it is new."""
        found = db.execute(_FIND_ACCOUNT, (org_id, domain)).fetchone()
        if found is not None:
            return found, False
        account_id, stored = _new_id(), name or name_from_domain(domain)
        db.execute(_INSERT_ACCOUNT, (account_id, org_id, domain, stored, _now_ms()))
        return (account_id, domain, stored), True

    def _contact(
        self,
        db: sqlite3.Connection,
        org_id: str,
        contact: LinkedContact,
        first_name: str | None = None,
        last_name: str | None = None,
        names_on_repeat: str = "keep",
        profile: ContactProfile | None = None,
    ) -> tuple[str, str, str | None, str | None]:
        account_id = None
        if contact.account_domain:
            account_id = self._account(db, org_id, contact.account_domain)[0]
        fields = profile or ContactProfile(first_name, last_name)
        new_id, email, created_at = _new_id(), contact.email, _now_ms()
        first, last = fields.first_name, fields.last_name
        new = (new_id, org_id, email, first, last, fields.job_title, fields.phone)
        if db.execute(
            _INSERT_NEW_CONTACT, (*new, fields.linkedin, account_id, created_at)
        ).rowcount:
            return new_id, email, first, last
        values = {name: getattr(fields, name) for name in _PROFILE}
        values.update(
            id=new_id,
            org_id=org_id,
            email=email,
            account_id=account_id,
            created_at=created_at,
            repeat=names_on_repeat,
        )
        return db.execute(_UPSERT_CONTACT, values).fetchone()

    def create_account(self, org_id: str, domain: str) -> dict[str, Any]:
        """Create the account for ``domain`` or return the existing one."""
        with self._transaction() as db:
            company_id, domain, name = self._account(db, org_id, domain)
        return {"company_id": company_id, "domain": domain, "name": name}

    def create_contact(
        self,
        org_id: str,
        contact: LinkedContact,
        first_name: str | None,
        last_name: str | None,
        names_on_repeat: Literal["keep", "fill", "overwrite"],
    ) -> dict[str, Any]:
        """Create the contact (and its email domain's account) or return the existing one."""
        domain = contact.account_domain
        if domain:
            people_id, email = _new_id(), contact.email
            new = (people_id, org_id, email, first_name, last_name, _now_ms(), org_id, domain)
            if self._db.execute(_INSERT_NEW_CONTACT_OF_ACCOUNT, new).rowcount:
                return {
                    "people_id": people_id,
                    "email": email,
                    "first_name": first_name,
                    "last_name": last_name,
                }
        with self._transaction() as db:
            people_id, email, first, last = self._contact(
                db, org_id, contact, first_name, last_name, names_on_repeat
            )
        return {"people_id": people_id, "email": email, "first_name": first, "last_name": last}

    def put_account(
        self, org_id: str, domain: str, name: str | None = None
    ) -> tuple[dict[str, Any], bool]:
        """The account for ``domain`` (``{"id", "domain", "name"}``) and whether it is new;
        ``name`` is stored on a new account (else derived from the domain)."""
        with self._transaction() as db:
            (account_id, domain, stored), new = self._put_account(db, org_id, domain, name)
        return {"id": account_id, "domain": domain, "name": stored}, new

    def put_contact(
        self,
        org_id: str,
        contact: LinkedContact,
        profile: ContactProfile,
        names_on_repeat: Literal["keep", "fill", "overwrite"],
    ) -> tuple[dict[str, Any], bool]:
        """The contact (``{"id", "email", "first_name", "last_name"}``, its e-mail domain's
        account ensured as by :meth:`create_contact`) and whether it is new; the profile
        of a contact sent again follows ``names_on_repeat``."""
        with self._transaction() as db:
            known = db.execute(
                "SELECT 1 FROM contacts WHERE org_id = ? AND email = ?", (org_id, contact.email)
            ).fetchone()
            people_id, email, first, last = self._contact(
                db, org_id, contact, names_on_repeat=names_on_repeat, profile=profile
            )
        record = {"id": people_id, "email": email, "first_name": first, "last_name": last}
        return record, known is None

    def put_opportunity(self, org_id: str, deal: DealWrite) -> tuple[dict[str, Any], bool]:
        """Write ``deal`` as :meth:`create_opportunity` does; the deal as
        ``{"id", "name", "pipeline_id", "stage_id", "account_id"}`` and whether it is new."""
        with self._transaction() as db:
            written, created = self._write_deal(db, org_id, deal)
            row = db.execute(
                "SELECT id, name, pipeline_id, stage_id, account_id FROM opportunities"
                " WHERE id = ?",
                (written["opportunity_id"],),
            ).fetchone()
        keys = ("id", "name", "pipeline_id", "stage_id", "account_id")
        return dict(zip(keys, row, strict=True)), created

    def create_opportunity(self, org_id: str, deal: DealWrite) -> dict[str, Any]:
        """Create the deal, or merge into the one with the same (domain, pipeline, name)."""
        with self._transaction() as db:
            return self._write_deal(db, org_id, deal)[0]

    def _write_deal(
        self, db: sqlite3.Connection, org_id: str, deal: DealWrite
    ) -> tuple[dict[str, Any], bool]:
        """The deal written (or merged into its twin) and whether it is new."""
        account_id = None
        if deal.account_domain:
            account_id = self._account(db, org_id, deal.account_domain)[0]
        primary_id = self._contact(db, org_id, deal.primary)[0] if deal.primary else None
        contact_ids = [self._contact(db, org_id, c)[0] for c in deal.additional]
        name = deal.name or name_from_domain(deal.account_domain or "")
        found = None
        if deal.dedup:
            key = (org_id, deal.pipeline_id, deal.account_domain or "", name_key(name))
            found = db.execute(_FIND_DEAL, key).fetchone()
        now = _now_ms()
        if found is None:
            row = self._insert_deal(db, org_id, deal, name, account_id, primary_id, now)
        else:
            row = self._merge_deal(db, deal, found, primary_id, now)
        if primary_id:
            contact_ids.insert(0, primary_id)
        db.executemany(
            "INSERT OR IGNORE INTO opportunity_contacts VALUES (?, ?)",
            [(row[0], cid) for cid in contact_ids],
        )
        return {"opportunity_id": row[0], "name": row[1], "amount": row[2]}, found is None

    def _insert_deal(
        self,
        db: sqlite3.Connection,
        org_id: str,
        deal: DealWrite,
        name: str,
        account_id: str | None,
        primary_id: str | None,
        now: int,
    ) -> Sequence[Any]:
        deal_id = _new_id()
        values = {
            **{f: getattr(deal, f) for f in _DEAL_FIELDS},
            "id": deal_id,
            "org_id": org_id,
            "account_domain": deal.account_domain or "",
            "name": name,
            "name_key": name_key(name),
            "account_id": account_id,
            "amount": deal.deal_size,
            "primary_contact_id": primary_id,
            "created_at": now,
            "updated_at": now,
            "custom_attributes": _json_or_none(deal.custom_attributes),
        }
        db.execute(_INSERT_DEAL, values)
        return (deal_id, name, deal.deal_size)

    def _merge_deal(
        self,
        db: sqlite3.Connection,
        deal: DealWrite,
        found: Sequence[Any],
        primary_id: str | None,
        now: int,
    ) -> Sequence[Any]:
        deal_id, _, _, old_primary = found
        if deal.repeated_contacts == "replace":
            db.execute("DELETE FROM opportunity_contacts WHERE opportunity_id = ?", (deal_id,))
            new_primary = primary_id
        else:
            new_primary = old_primary or primary_id
        db.execute(
            "UPDATE opportunities SET primary_contact_id = ?, updated_at = ? WHERE id = ?",
            (new_primary, now, deal_id),
        )
        if deal.repeated_fields == "update":
            values = {f: getattr(deal, f) for f in _DEAL_FIELDS}
            values.update(amount=deal.deal_size, updated_at=now, id=deal_id)
            values["custom_attributes"] = _json_or_none(deal.custom_attributes)
            return db.execute(_UPDATE_DEAL, values).fetchone()
        return found[:3]

    def create_note(
        self,
        org_id: str,
        title: str,
        content: str | None,
        account_domains: Sequence[str],
        contacts: Sequence[LinkedContact],
        *,
        create_records: bool,
    ) -> dict[str, Any]:
        """Always create a new note, linked by domain and email (records made if asked)."""
        note_id = _new_id()
        with self._transaction() as db:
            db.execute(
                "INSERT INTO notes (id, org_id, title, content, created_at) VALUES (?, ?, ?, ?, ?)",
                (note_id, org_id, title, content, _now_ms()),
            )
            if create_records:
                for domain in account_domains:
                    self._account(db, org_id, domain)
                for contact in contacts:
                    self._contact(db, org_id, contact)
            links = [(note_id, "account", d) for d in account_domains]
            links += [(note_id, "contact", c.email) for c in contacts]
            db.executemany("INSERT OR IGNORE INTO note_links VALUES (?, ?, ?)", links)
        return {"note_id": note_id, "title": title, "content": content}

    # ---- reads (inspection) -----------------------------------------------------

    def _rows(self, sql: str, params: Sequence[Any]) -> list[dict[str, Any]]:
        cursor = self._db.execute(sql, params)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor]

    def list_accounts(self, org_id: str, limit: int, offset: int) -> list[dict[str, Any]]:
        return self._rows(
            """SELECT a.id AS company_id, a.domain, a.name, a.created_at,
                      (SELECT count(*) FROM contacts c WHERE c.account_id = a.id) AS contact_count
               FROM accounts a WHERE a.org_id = ? ORDER BY a.rowid LIMIT ? OFFSET ?""",
            (org_id, limit, offset),
        )

    def list_contacts(self, org_id: str, limit: int, offset: int) -> list[dict[str, Any]]:
        rows = self._rows(
            """SELECT c.id AS people_id, c.email, c.first_name, c.last_name, c.created_at,
                      c.job_title, c.phone, c.linkedin,
                      a.id AS company_id, a.domain AS account_domain
               FROM contacts c LEFT JOIN accounts a ON a.id = c.account_id
               WHERE c.org_id = ? ORDER BY c.rowid LIMIT ? OFFSET ?""",
            (org_id, limit, offset),
        )
        for row in rows:
            company_id, domain = row.pop("company_id"), row.pop("account_domain")
            row["account"] = {"company_id": company_id, "domain": domain} if company_id else None
            for name in ("job_title", "phone", "linkedin"):  # shown only when stored
                if row[name] is None:
                    del row[name]
        return rows

    def list_opportunities(self, org_id: str, limit: int, offset: int) -> list[dict[str, Any]]:
        rows = self._rows(
            """SELECT o.id AS opportunity_id, o.name, o.amount, o.pipeline_id, o.stage_id,
                      nullif(o.account_domain, '') AS account_domain, o.account_id AS company_id,
                      p.email AS primary_contact_email, o.close_date, o.next_action_date,
                      o.next_step, o.owner_email, o.created_at, o.updated_at,
                      o.custom_attributes
               FROM opportunities o LEFT JOIN contacts p ON p.id = o.primary_contact_id
               WHERE o.org_id = ? ORDER BY o.rowid LIMIT ? OFFSET ?""",
            (org_id, limit, offset),
        )
        for row in rows:
            emails = self._db.execute(
                """SELECT c.email FROM opportunity_contacts l JOIN contacts c ON c.id = l.contact_id
                   WHERE l.opportunity_id = ? ORDER BY l.rowid""",
                (row["opportunity_id"],),
            )
            row["contact_emails"] = [email for (email,) in emails]
            attributes = row.pop("custom_attributes")  # shown only when stored
            if attributes is not None:
                row["custom_attributes"] = json.loads(attributes)
        return rows

    def list_notes(
        self, org_id: str, limit: int, offset: int, *, q: str | None = None
    ) -> list[dict[str, Any]]:
        """The org's notes in the order they were made, with their links; ``q``: only
        those whose title or content holds it (case-insensitive)."""
        where, params = "org_id = ?", [org_id]
        if q:
            pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            where += " AND (title LIKE ? ESCAPE '\\' OR content LIKE ? ESCAPE '\\')"
            params += [pattern, pattern]
        rows = self._rows(
            f"""SELECT id AS note_id, title, content, created_at FROM notes
               WHERE {where} ORDER BY rowid LIMIT ? OFFSET ?""",
            (*params, limit, offset),
        )
        for row in rows:
            links = self._db.execute(
                """SELECT l.kind, l.key, coalesce(a.id, c.id) FROM note_links l
                   LEFT JOIN accounts a ON l.kind = 'account' AND a.org_id = ?1 AND a.domain = l.key
                   LEFT JOIN contacts c ON l.kind = 'contact' AND c.org_id = ?1 AND c.email = l.key
                   WHERE l.note_id = ?2 ORDER BY l.rowid""",
                (org_id, row["note_id"]),
            ).fetchall()
            row["account_domains"] = [k for kind, k, _ in links if kind == "account"]
            row["contact_emails"] = [k for kind, k, _ in links if kind == "contact"]
            row["links"] = [
                {"kind": kind, "key": key, "id": record_id} for kind, key, record_id in links
            ]
        return rows

    def counts(self, org_id: str) -> dict[str, int]:
        """Number of records per object for one org."""
        return {
            table: self._db.execute(
                f"SELECT count(*) FROM {table} WHERE org_id = ?",
                (org_id,),
            ).fetchone()[0]
            for table in ("accounts", "contacts", "opportunities", "notes")
        }
