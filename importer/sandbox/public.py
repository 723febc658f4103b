"""The public API's creates, bulk creates, lists and searches (API.md §2.2-2.4), on the
same store as the inbound endpoints.

:class:`PublicApi` holds the handlers; :func:`public_routes` says which route each
serves and its tally name. The gauntlet (key, limits, latency, injected faults) is
:class:`~importer.sandbox.app.SandboxApp`'s; here is what happens once a request is
through it:

- a create checks its body, resolves pipeline, stage and owner, may fail by injection
  (``fail_items_containing``, ``item_failure_rate``), then writes; it answers
  ``public_success_status`` with ``{"success", "message", "data"}``;
- a bulk create does that per item, then writes the good items in one transaction. With
  ``bulk_mode="all_or_nothing"`` one bad item makes the whole request a 400 naming each
  bad field as ``[index].field``, and nothing is written; with ``"partial"`` the bad
  items are ``failed`` in the answer (``bulk_response``: ``per_item``, ``summary`` or
  ``empty``);
- lists and searches are in :mod:`importer.sandbox.public_reads`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import astuple, dataclass
from typing import Any

from importer.sandbox.directory import OrgInfo, PipelineInfo
from importer.sandbox.public_checks import (
    PublicDeal,
    check_fast_bulk_opportunity,
    check_public_account,
    check_public_contact,
    check_public_note,
    check_public_opportunity,
)
from importer.sandbox.public_reads import (
    VALIDATION_FAILED,
    Answer,
    Host,
    Problem,
    PublicReads,
    Unresolved,
    ok,
    unresolved,
)
from importer.sandbox.store import DealWrite
from importer.sandbox.validation import InvalidBody

__all__ = [
    "MAX_BATCH",
    "Answer",
    "Problem",
    "PublicApi",
    "Unresolved",
    "ok",
    "public_routes",
    "unresolved",
]

Payload = dict[str, Any]
MAX_BATCH = 100
INJECTED = "Injected item failure"
_COUNTS = ("created", "resolved", "skipped", "failed")


# ---- creates ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Failure:
    message: str
    errors: dict[str, str]
    reason: str


@dataclass(frozen=True, slots=True)
class _Kind:
    """One object's create: check and resolve an item, then write it."""

    prepare: Callable[[OrgInfo, Any], Any]
    write: Callable[[OrgInfo, Any], tuple[str, Payload]]  # (status, record)
    one: str  # the single create's message
    many: str  # the bulk create's message


def _item_key(index: int, path: str) -> str:
    return f"[{index}]" if path == "body" else f"[{index}].{path}"


def bulk_data(results: list[Payload], shape: str) -> Payload | None:
    """A bulk create's ``data`` in the shape ``bulk_response`` names."""
    if shape == "empty":
        return None
    counts = {status: sum(r["status"] == status for r in results) for status in _COUNTS}
    return {"results": results, **counts} if shape == "per_item" else counts


class PublicApi(PublicReads):
    """The handlers of the public API's creates and bulk creates (and, inherited, its
    lists and searches)."""

    def __init__(self, host: Host) -> None:
        super().__init__(host)
        deal = self._prepare_deal
        self.kinds = {
            "accounts": _Kind(
                lambda org, body: check_public_account(body, host.behaviour),
                self._write_account,
                "Account was created or resolved",
                "Accounts were created or resolved",
            ),
            "contacts": _Kind(
                lambda org, body: check_public_contact(body, host.behaviour),
                self._write_contact,
                "Contact was created or resolved",
                "Contacts were created or resolved",
            ),
            "opportunities.create": _Kind(
                lambda org, body: deal(org, body, check_public_opportunity, "deal_dedup_create"),
                self._write_deal,
                "Opportunity was created",
                "",
            ),
            "opportunities.bulk": _Kind(
                lambda org, body: deal(org, body, check_public_opportunity, "deal_dedup_bulk"),
                self._write_deal,
                "",
                "Opportunities were created or skipped as duplicates",
            ),
            "opportunities.fast_bulk": _Kind(
                lambda org, body: deal(
                    org, body, check_fast_bulk_opportunity, "deal_dedup_fast_bulk"
                ),
                self._write_deal,
                "",
                "Opportunities were created or skipped as duplicates",
            ),
            "notes": _Kind(
                lambda org, body: check_public_note(body, host.behaviour),
                self._write_note,
                "Note was created",
                "Notes were created",
            ),
        }

    # ---- the request shapes ---------------------------------------------------------

    def single(self, kind: str) -> Callable[[OrgInfo, Any], Answer]:
        """The handler of a single create: its record as ``data``."""
        spec = self.kinds[kind]

        def create(org: OrgInfo, body: Any) -> Answer:
            if self.host.faults.item_fails(_text(body)):
                raise InvalidBody({"body": INJECTED}, message=INJECTED, reason="injected_fault")
            try:
                prepared = spec.prepare(org, body)
            except InvalidBody as exc:
                raise InvalidBody(exc.errors, message=VALIDATION_FAILED) from None
            with self.host.store.batch():
                _, record = spec.write(org, prepared)
            return Answer(self.host.behaviour.public_success_status, ok(spec.one, record))

        return create

    def bulk(self, kind: str) -> Callable[[OrgInfo, Any], Answer]:
        """The handler of a bulk create: 1-100 items, written in one transaction."""
        spec = self.kinds[kind]

        def create_many(org: OrgInfo, body: Any) -> Answer:
            if not isinstance(body, list) or not 1 <= len(body) <= MAX_BATCH:
                text = f"The body must be a JSON array of 1 to {MAX_BATCH} items"
                raise InvalidBody({"body": text}, message=VALIDATION_FAILED)
            rules = self.host.behaviour
            outcomes = [self._prepare(org, spec, item) for item in body]
            failures = {n: o for n, o in enumerate(outcomes) if isinstance(o, _Failure)}
            if failures and rules.bulk_mode == "all_or_nothing":
                errors = {
                    _item_key(n, path): text
                    for n, failure in failures.items()
                    for path, text in failure.errors.items()
                }
                injected = all(f.reason == "injected_fault" for f in failures.values())
                reason = "injected_fault" if injected else "invalid"
                raise InvalidBody(errors, message=VALIDATION_FAILED, reason=reason)
            results = self._write_all(org, spec, outcomes)
            data = bulk_data(results, rules.bulk_response)
            return Answer(rules.public_success_status, ok(spec.many, data))

        return create_many

    def _prepare(self, org: OrgInfo, spec: _Kind, item: Any) -> Any:
        """The item checked and resolved, or its :class:`_Failure`."""
        if self.host.faults.item_fails(_text(item)):
            return _Failure(INJECTED, {"body": INJECTED}, "injected_fault")
        try:
            return spec.prepare(org, item)
        except InvalidBody as exc:
            return _Failure(VALIDATION_FAILED, exc.errors, "invalid")
        except Unresolved as exc:
            return _Failure(exc.message, exc.errors, "not_found")

    def _write_all(self, org: OrgInfo, spec: _Kind, outcomes: list[Any]) -> list[Payload]:
        results: list[Payload] = []
        with self.host.store.batch():
            for n, outcome in enumerate(outcomes):
                if isinstance(outcome, _Failure):
                    message, errors = outcome.message, outcome.errors
                    failed = {"status": "failed", "id": None, "message": message, "errors": errors}
                    results.append({"index": n, **failed})
                else:
                    status, record = spec.write(org, outcome)
                    results.append({"index": n, "status": status, "id": record["id"]})
        return results

    # ---- each object ----------------------------------------------------------------

    def _write_account(self, org: OrgInfo, account: Any) -> tuple[str, Payload]:
        record, created = self.host.store.put_account(org.id, account.domain, account.name)
        return ("created" if created else "resolved"), record

    def _write_contact(self, org: OrgInfo, contact: Any) -> tuple[str, Payload]:
        host = self.host
        record, created = host.store.put_contact(
            org.id,
            host.linked(contact.email),
            contact.profile,
            host.behaviour.contact_names_on_repeat,
        )
        return ("created" if created else "resolved"), record

    def _prepare_deal(
        self, org: OrgInfo, body: Any, check: Callable[..., PublicDeal], dedup: str
    ) -> tuple[PublicDeal, DealWrite]:
        rules, linked = self.host.behaviour, self.host.linked
        deal = check(body, rules)
        pipeline_id, stage_id, owner = self._references(org, deal)
        return deal, DealWrite(
            pipeline_id=pipeline_id,
            name=deal.name,
            stage_id=stage_id,
            deal_size=deal.deal_size,
            close_date=deal.close_date,
            next_action_date=deal.next_action_date,
            next_step=deal.next_step,
            account_domain=deal.account.domain if deal.account else None,
            primary=linked(deal.primary.email) if deal.primary else None,
            additional=tuple(linked(c.email) for c in deal.additional),
            owner_email=owner,
            repeated_fields=rules.repeated_deal_fields,
            repeated_contacts=rules.repeated_deal_contacts,
            dedup=getattr(rules, dedup) == "domain_pipeline_name",
            custom_attributes=deal.custom_attributes,
        )

    def _write_deal(self, org: OrgInfo, prepared: Any) -> tuple[str, Payload]:
        deal, write = prepared
        store = self.host.store
        if deal.account is not None and deal.account.name:  # fast-bulk: a named account
            store.put_account(org.id, deal.account.domain, deal.account.name)
        for contact in (deal.primary, *deal.additional):  # fast-bulk: contacts with profiles
            if contact is not None and any(astuple(contact.profile)):
                self._write_contact(org, contact)
        record, created = store.put_opportunity(org.id, write)
        return ("created" if created else "skipped"), record

    def _write_note(self, org: OrgInfo, note: Any) -> tuple[str, Payload]:
        host = self.host
        created = host.store.create_note(
            org.id,
            note.title,
            note.content,
            note.account_domains,
            [host.linked(email) for email in note.contact_emails],
            create_records=host.behaviour.notes_create_records,
        )
        return "created", {"id": created["note_id"], "title": note.title, "content": note.content}

    def _references(self, org: OrgInfo, deal: PublicDeal) -> tuple[str, str, str | None]:
        """Pipeline, stage and owner e-mail of ``deal``; raises :class:`Unresolved`."""
        rules = self.host.behaviour
        problems: list[Problem] = []
        pipeline = _pipeline(org, deal, problems)
        stage_id = _stage(pipeline, deal, rules.unknown_stage_status, problems)
        owner = deal.owner_email
        status, field = rules.unknown_owner_status, "related_objects.owner_email"
        if owner is not None and owner not in org.member_emails:
            text = f"{owner} is not a member of this organization"
            problems.append(Problem(status, "Owner not found", field, text))
        if deal.owner_id is not None:
            by_id = org.member_ids.get(deal.owner_id)
            if by_id is None:
                text = f"{deal.owner_id} is not the id of a member of this organization"
                problems.append(Problem(status, "Owner not found", field[:-5] + "id", text))
            owner = owner or by_id
        if problems:
            raise unresolved(problems)
        assert pipeline is not None and stage_id is not None
        return pipeline.id, stage_id, owner


def _text(item: Any) -> str:
    """An item's JSON text, compact, as ``fail_items_containing`` looks into it."""
    return json.dumps(item, ensure_ascii=False, separators=(",", ":"))


def _pipeline(org: OrgInfo, deal: PublicDeal, problems: list[Problem]) -> PipelineInfo | None:
    """By id, else by name (case-insensitive), else the org's first pipeline."""
    if deal.pipeline_id is not None:
        found = org.pipelines.get(deal.pipeline_id)
        field, text = "pipeline_id", f"Pipeline {deal.pipeline_id} not found"
    elif deal.pipeline_name is not None:
        names = {p.name.casefold(): p for p in org.pipelines.values()}
        found = names.get(deal.pipeline_name.casefold())
        field, text = "pipeline_name", f"Pipeline {deal.pipeline_name!r} not found"
    else:
        found = next(iter(org.pipelines.values()), None)
        field, text = "pipeline_id", "The organization has no pipeline"
    if found is None:
        problems.append(Problem(404, "Pipeline not found", field, text))
    return found


def _stage(
    pipeline: PipelineInfo | None, deal: PublicDeal, status: int, problems: list[Problem]
) -> str | None:
    """By id, else by label (case-insensitive), else the pipeline's first stage."""
    if pipeline is None:
        return None
    if deal.stage_id is not None:
        if deal.stage_id in pipeline.stage_ids:
            return deal.stage_id
        field = "opportunity.stage_id"
        text = f"Stage {deal.stage_id} is not a stage of pipeline {pipeline.id}"
    elif deal.stage_name is not None:
        labels = {
            n.casefold(): i for i, n in zip(pipeline.stage_ids, pipeline.stage_names, strict=True)
        }
        found = labels.get(deal.stage_name.casefold())
        if found is not None:
            return found
        field = "opportunity.stage_name"
        text = f"{deal.stage_name!r} is not a stage of pipeline {pipeline.id}"
    else:
        return pipeline.stage_ids[0]
    problems.append(Problem(status, "Stage not found", field, text))
    return None


def public_routes(
    api: PublicApi,
) -> list[tuple[str, str, str, Callable[[OrgInfo, Any], Any], bool]]:
    """``(method, path, tally name, handler, is a read)`` for each public route."""
    routes: list[tuple[str, str, str, Callable[[OrgInfo, Any], Any], bool]] = []
    for noun in ("accounts", "contacts", "notes"):
        routes.append(("POST", f"/v1/{noun}", f"{noun}.create", api.single(noun), False))
        routes.append(("POST", f"/v1/{noun}/bulk", f"{noun}.bulk", api.bulk(noun), False))
    deals = "/v1/opportunities"
    routes += [
        ("POST", deals, "opportunities.create", api.single("opportunities.create"), False),
        ("POST", f"{deals}/bulk", "opportunities.bulk", api.bulk("opportunities.bulk"), False),
        (
            "POST",
            f"{deals}/fast-bulk",
            "opportunities.fast_bulk",
            api.bulk("opportunities.fast_bulk"),
            False,
        ),
        ("GET", "/v1/accounts", "accounts.list", api.list_accounts, True),
        ("GET", "/v1/contacts", "contacts.list", api.list_contacts, True),
        ("GET", deals, "opportunities.list", api.list_opportunities, True),
        ("POST", "/v1/accounts/search", "accounts.search", api.search_accounts, True),
        ("POST", "/v1/contacts/search", "contacts.search", api.search_contacts, True),
        ("POST", f"{deals}/search", "opportunities_search", api.search_opportunities, True),
    ]
    return routes
