"""The compact form of a regular row's verdict: what a big file's worker sends the planner.

Most rows of a big export are alike: a company that is the row's domain, a person who
is the row's e-mail, and a deal linked to both. Their verdicts' request bodies are
then implied by a few values, so the worker sends those values in one flat tuple
(:func:`compact`) instead of five dicts: the pipe carries and the planner loads, frees
and walks a third of the objects (a million-row deals file: seconds of the planner's
time, the run's critical path). The planner builds a body only for a record it meets
first, as the validator would have built it. Any other verdict (errors, a note, a
named company, a deal with other links) travels whole.

Layout (:data:`COMPACT_FIELDS`): the row number, its warnings (or None), its domain
and e-mail, whether it has an account (``{"domain": domain}``), its contact packed
(:func:`pack_contact`, or None), its deal's body (the ``opportunity`` part, or None)
and pipeline id, its source id, and its ``stage`` and ``amount`` as the verdict has
them, and the account Octolane files its contact under (its e-mail's host: the results'
``contact_account``, worked out here, where the process has time to spare). A deal's
``related_objects`` are its row's domain and e-mail (:func:`related_objects`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from operator import attrgetter
from typing import Any

from importer.map.transforms.emails import filed_under
from importer.validate.rows import RowVerdict, related_objects

__all__ = [
    "COMPACT_FIELDS",
    "CONTACT_FIELDS",
    "WHOLE_FIELDS",
    "compact",
    "compact_batch",
    "pack_contact",
    "related_objects",
    "unpack_contact",
]

#: The compact tuple's items, in order.
COMPACT_FIELDS = (
    "row", "warnings", "domain", "email", "account", "contact", "deal", "pipeline_id",
    "source_id", "stage", "amount", "filed",
)  # fmt: skip

#: A contact's fields after its email, in the order of its body (API.md §2.2).
CONTACT_FIELDS = ("first_name", "last_name", "job_title", "phone", "linkedin")


def pack_contact(contact: Mapping[str, Any]) -> tuple[Any, ...]:
    """A contact body without its email, as the values of :data:`CONTACT_FIELDS`
    (trailing Nones dropped): a third of a dict's memory, and a million contacts are kept.

    >>> pack_contact({"email": "jo@acme.com", "first_name": "Jo", "last_name": "Li"})
    ('Jo', 'Li')
    """
    n = len(contact)
    if n == 1:
        return ()
    if n == 3 and "first_name" in contact and "last_name" in contact:
        return (contact["first_name"], contact["last_name"])  # the common case
    values = tuple(map(contact.get, CONTACT_FIELDS))
    end = len(values)
    while end and values[end - 1] is None:
        end -= 1
    return values[:end]


def unpack_contact(email: str, packed: tuple[Any, ...]) -> dict[str, Any]:
    """The contact's body again (its fields in their usual order).

    >>> unpack_contact("jo@acme.com", ("Jo", None, "CEO"))
    {'email': 'jo@acme.com', 'first_name': 'Jo', 'job_title': 'CEO'}
    """
    body = {"email": email}
    body.update((f, v) for f, v in zip(CONTACT_FIELDS, packed, strict=False) if v is not None)
    return body


def compact(verdict: Any, pipeline_id: str | None) -> tuple[Any, ...] | None:
    """The verdict as a compact tuple (:data:`COMPACT_FIELDS`), or None where it is not a
    regular row: its bodies must be exactly what the tuple implies, or it travels whole."""
    (packed,) = compact_batch([WHOLE_FIELDS(verdict)], pipeline_id)
    return packed if len(packed) == len(COMPACT_FIELDS) else None


#: A verdict's fields, in their order (one C call).
WHOLE_FIELDS = attrgetter(*(f.name for f in fields(RowVerdict)))


def compact_batch(
    verdicts: list[tuple[Any, ...]], pipeline_id: str | None
) -> list[tuple[Any, ...]]:
    """Each verdict of a batch, given as its fields (:data:`WHOLE_FIELDS`), compact where
    it is a regular row, else as it is given.

    (A worker runs this on every row of a big file: one loop, each test as cheap as
    it can be.)
    """
    out: list[tuple[Any, ...]] = []
    append = out.append
    hosts: dict[str, str] = {}  # the batch's e-mail hosts -> their contacts' account
    for whole in verdicts:
        (
            row, errors, warnings, domain, email, account, contact, deal, note, skipped,
            stage, amount, source_id,
        ) = whole  # fmt: skip
        if errors or note is not None or skipped is not None:
            append(whole)
            continue
        if account is not None and (len(account) != 1 or account.get("domain") != domain):
            append(whole)  # a named company (the public API's)
            continue
        packed = filed = None
        if contact is not None:
            n = len(contact)
            if contact.get("email") != email:
                append(whole)
                continue
            if n == 3 and "first_name" in contact and "last_name" in contact:
                packed = (contact["first_name"], contact["last_name"])  # the common case
            else:
                packed = pack_contact(contact)
                if n != 1 + len(packed) - packed.count(None):
                    append(whole)  # a field the packed form does not hold
                    continue
            host = email.rpartition("@")[2]
            filed = hosts.get(host)
            if filed is None:
                filed = hosts[host] = filed_under(host)
        body = pipeline = None
        if deal is not None:
            pipeline, body = deal.get("pipeline_id"), deal.get("opportunity")
            related = deal.get("related_objects")
            if len(deal) != 3 or pipeline != pipeline_id or type(body) is not dict or not related:
                append(whole)
                continue
            # its links must be the row's company and person, in the order the validator
            # writes them (related_objects): other people or an owner make it travel whole
            if domain:
                if email:
                    if (
                        len(related) != 2
                        or related.get("primary_contact_email") != email
                        or next(iter(related)) != "account_domain"
                        or related.get("account_domain") != domain
                    ):
                        append(whole)
                        continue
                elif len(related) != 1 or related.get("account_domain") != domain:
                    append(whole)
                    continue
            elif not email or len(related) != 1 or related.get("primary_contact_email") != email:
                append(whole)
                continue
        append((
            row, warnings or None, domain, email, account is not None, packed, body, pipeline,
            source_id, stage, amount, "" if filed is None else filed,
        ))  # fmt: skip
    return out
