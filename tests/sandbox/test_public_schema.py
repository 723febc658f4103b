"""The sandbox's public endpoints against the public API's own OpenAPI spec (schemathesis).

For each operation the sandbox serves, Hypothesis generates requests from the vendored
spec (tests/fixtures/public-api-openapi.json, a copy of Octolane's) and each answer is
checked with schemathesis's ``not_a_server_error`` and ``response_schema_conformance``:
no 5xx, and every documented answer (200/201 bodies, 400/401/429 errors) has the
documented shape. ``status_code_conformance`` is left out on purpose: the sandbox
answers an unknown pipeline (or stage, or owner) with a 404, as the inbound API does,
and the public spec lists no 404 (API.md §2.1). A 404's body is not checked either:
the spec has no schema for it.

Two modes: ``positive`` requests follow the spec, and are *aimed* at the test's
organisation (its pipeline, stages, members, valid domains and e-mails), so writes
really happen and their 2xx answers are checked; ``negative`` requests break it, and
must still get a documented error, never a 5xx. Each test asserts that examples ran:
a check that generated nothing would pass without checking anything.

Slow-marked; CI (``CI`` set) runs fewer examples per operation.
"""

from __future__ import annotations

import hashlib
import os
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from importer.sandbox import OrgAccess, RunningSandbox

pytestmark = pytest.mark.slow

SPEC = Path(__file__).resolve().parents[1] / "fixtures" / "public-api-openapi.json"
EXAMPLES = 6 if os.environ.get("CI") else 15
MAX_SECONDS = 4_102_444_800
# Exactly the operations the sandbox serves; the spec has more (activities, fields ...).
OPERATIONS = (
    "GET /v1/accounts",
    "POST /v1/accounts",
    "POST /v1/accounts/bulk",
    "POST /v1/accounts/search",
    "GET /v1/contacts",
    "POST /v1/contacts",
    "POST /v1/contacts/bulk",
    "POST /v1/contacts/search",
    "GET /v1/opportunities",
    "POST /v1/opportunities",
    "POST /v1/opportunities/bulk",
    "POST /v1/opportunities/fast-bulk",
    "POST /v1/opportunities/search",
    "GET /v1/notes",
    "POST /v1/notes",
    "POST /v1/notes/bulk",
    "GET /v1/pipelines",
    "GET /v1/pipelines/{pipeline_id}/stages",
)
SCHEMA = schemathesis.openapi.from_path(SPEC)
CHECKS = [not_a_server_error, response_schema_conformance]


def _word(value: Any) -> str:
    return hashlib.blake2s(repr(value).encode(), digest_size=4).hexdigest()


class _Aim:
    """Turns a generated (positive) request into one the test's org can take."""

    def __init__(self, org: OrgAccess, owner_id: str) -> None:
        self.org, self.owner_id = org, owner_id
        self.fixed = {
            "pipeline_id": lambda v: org.pipeline_id,
            "pipeline_name": lambda v: "sales",
            "stage_id": lambda v: org.stage_ids[len(str(v)) % len(org.stage_ids)],
            "stage_name": lambda v: org.stage_names[len(str(v)) % len(org.stage_names)].upper(),
            "owner_email": lambda v: org.members[0],
            "owner_id": lambda v: owner_id,
            "domain": lambda v: f"d{_word(v)}.example.com",
            "account_domain": lambda v: f"d{_word(v)}.example.com",
            "email": lambda v: f"p{_word(v)}@example.com",
            "primary_contact_email": lambda v: f"p{_word(v)}@example.com",
            "deal_size": lambda v: abs(v) if isinstance(v, int | float) else v,
            "close_date": lambda v: v % MAX_SECONDS if isinstance(v, int) else v,
            "next_action_date": lambda v: v % MAX_SECONDS if isinstance(v, int) else v,
        }
        lists = {
            "account_domains": "domain",
            "additional_contact_emails": "email",
            "contact_emails": "email",
        }
        for key, each in lists.items():
            self.fixed[key] = lambda v, each=each: (
                [self.fixed[each](x) for x in v] if isinstance(v, list) else v
            )

    def __call__(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self(item) for item in value]
        if not isinstance(value, dict):
            return value
        aimed = {
            key: self.fixed[key](item) if key in self.fixed and item is not None else self(item)
            for key, item in value.items()
        }
        deal = aimed.get("opportunity")
        if isinstance(deal, dict) and not str(deal.get("name") or "").strip():
            # The sandbox needs a name or an account to derive one from (as inbound does).
            aimed["opportunity"] = {**deal, "name": f"Deal {_word(deal)}"}
        return aimed


@pytest.fixture(scope="module")
def session() -> Any:
    with requests.Session() as client:
        yield client


def test_every_operation_named_is_in_the_spec():
    labels = {op.ok().label for op in SCHEMA.get_all_operations()}
    assert set(OPERATIONS) <= labels, sorted(set(OPERATIONS) - labels)


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=str)
@pytest.mark.parametrize("label", OPERATIONS)
def test_the_sandbox_answers_as_the_spec_says(
    sandbox: RunningSandbox, org: OrgAccess, session: Any, label: str, mode: GenerationMode
):
    operation = SCHEMA.find_operation_by_label(label)
    assert operation is not None, label
    owner_id = session.get(f"{sandbox.url}/_sandbox/org", headers={"x-api-key": org.api_key})
    aim = _Aim(org, owner_id.json()["data"]["member_ids"][org.members[0]])
    statuses: Counter[int] = Counter()

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def check(case: Any) -> None:
        if mode == GenerationMode.POSITIVE:
            case.body = aim(case.body) if case.body is not None else case.body
            case.query = aim(case.query) if case.query else case.query
            if "pipeline_id" in (case.path_parameters or {}):
                case.path_parameters = {"pipeline_id": org.pipeline_id}
        headers = {"x-api-key": org.api_key}
        response = case.call(base_url=sandbox.url, session=session, headers=headers, timeout=10)
        statuses[response.status_code] += 1
        case.validate_response(response, checks=CHECKS)

    check()
    assert sum(statuses.values()) > 0, f"{label} ({mode}): no example ran"
    assert not statuses.keys() & {500, 502, 503}
    if mode == GenerationMode.POSITIVE:
        answered = sorted(statuses)
        assert any(200 <= status < 300 for status in statuses), (
            f"{label}: no aimed request succeeded, so no 2xx answer was checked ({answered})"
        )
