"""The sandbox's reads of the public API, over real HTTP on loopback.

``GET /v1/pipelines/{id}/stages`` and ``GET /v1/pipelines`` answer in the public
API's envelope; they share the inbound endpoints' key check, limits, latency and
tally, but not their injected failures.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from importer.sandbox import RunningSandbox, running_sandbox
from importer.sandbox.config import DEMO_STAGES

UNKNOWN_PIPELINE = "99999999-9999-4999-8999-999999999999"


@pytest.fixture(scope="module")
def box() -> Iterator[RunningSandbox]:
    with running_sandbox() as running:
        yield running


def get(box: RunningSandbox, path: str, key: str | None = None) -> httpx.Response:
    headers = {} if key is None else {"x-api-key": key}
    return httpx.get(f"{box.url}{path}", headers=headers, timeout=10)


def stats(box: RunningSandbox, key: str) -> dict[str, Any]:
    response = get(box, "/_sandbox/stats", key)
    assert response.status_code == 200, response.text
    return response.json()["data"]


def stages_path(pipeline_id: str | None) -> str:
    return f"/v1/pipelines/{pipeline_id}/stages"


def test_stages_of_the_demo_pipeline_in_order(box):
    response = get(box, stages_path(box.pipeline_id), box.api_key)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["success"] is True
    assert body["message"] == "Pipeline stages were returned"
    stages = body["data"]["stages"]
    assert [s["label"] for s in stages] == list(DEMO_STAGES)
    assert [s["stage_id"] for s in stages] == list(box.stage_ids)
    assert [s["stage_order"] for s in stages] == [1, 2, 3, 4, 5]
    assert [s["is_default"] for s in stages] == [True, False, False, False, False]
    assert all(s["pipeline_id"] == box.pipeline_id for s in stages)
    assert all(s["is_active"] is True and s["stage_type"] == "default" for s in stages)
    assert set(stages[0]) == {
        "stage_id",
        "pipeline_id",
        "label",
        "stage_order",
        "is_active",
        "is_default",
        "stage_type",
    }


def test_the_header_name_and_the_pipeline_id_are_case_insensitive(box):
    assert box.pipeline_id is not None
    response = httpx.get(
        f"{box.url}{stages_path(box.pipeline_id.upper())}",
        headers={"X-API-KEY": box.api_key},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    assert response.json()["data"]["stages"][0]["pipeline_id"] == box.pipeline_id


@pytest.mark.parametrize("key", [None, "not-a-key"])
def test_no_key_or_an_unknown_key_is_a_401(box, key):
    for path in (stages_path(box.pipeline_id), "/v1/pipelines"):
        response = get(box, path, key)
        assert response.status_code == 401, response.text
        body = response.json()
        assert body["success"] is False
        assert body["statusCode"] == 401
        assert body["message"]
        assert "data" not in body


@pytest.mark.parametrize("pipeline_id", [UNKNOWN_PIPELINE, "not-a-uuid"])
def test_a_pipeline_the_org_does_not_have_is_a_404_naming_it(box, pipeline_id):
    response = get(box, stages_path(pipeline_id), box.api_key)
    assert response.status_code == 404, response.text
    body = response.json()
    assert body["success"] is False
    assert body["statusCode"] == 404
    assert pipeline_id in body["message"]


def test_another_orgs_pipeline_is_a_404(box):
    other = box.add_org("Globex", pipelines=[{"name": "Enterprise", "stages": ["Discovery"]}])
    response = get(box, stages_path(other.pipeline_id), box.api_key)
    assert response.status_code == 404, response.text
    response = get(box, stages_path(other.pipeline_id), other.api_key)
    assert [s["label"] for s in response.json()["data"]["stages"]] == ["Discovery"]


def test_pipelines_lists_the_demo_pipeline_with_its_stages(box):
    response = get(box, "/v1/pipelines", box.api_key)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["success"] is True
    assert body["message"] == "Pipelines were returned"
    pipelines = body["data"]["pipelines"]
    assert [(p["pipeline_id"], p["name"]) for p in pipelines] == [(box.pipeline_id, "Sales")]
    one = get(box, stages_path(box.pipeline_id), box.api_key).json()["data"]["stages"]
    assert pipelines[0]["stages"] == one


def write_account(box):
    """One Inbound write (an account create), as the importer sends it."""
    return httpx.post(
        f"{box.base_url}/inbound/accounts",
        headers={"x-api-key": box.api_key},
        json={"domain": "acme.com"},
        timeout=10,
    )


def test_a_key_the_public_api_refuses_gets_401_there_but_may_still_write():
    with running_sandbox(public_api=False) as box:
        for path in (stages_path(box.pipeline_id), "/v1/pipelines"):
            response = get(box, path, box.api_key)
            assert response.status_code == 401, response.text
            assert response.json()["statusCode"] == 401
        write = write_account(box)
        assert write.status_code == 200, write.text
        box.configure(public_api=True)
        assert get(box, "/v1/pipelines", box.api_key).status_code == 200
        tally = stats(box, box.api_key)
    assert tally["requests"]["stages"] == {"401": 1}
    assert tally["requests"]["pipelines"] == {"200": 1, "401": 1}
    assert tally["rejected"] == {"unauthenticated": 2}


def test_the_tally_counts_the_reads():
    with running_sandbox() as box:
        key = box.api_key
        get(box, stages_path(box.pipeline_id), key)
        get(box, stages_path(box.pipeline_id), key)
        get(box, stages_path(UNKNOWN_PIPELINE), key)
        get(box, "/v1/pipelines", key)
        get(box, "/v1/pipelines", "not-a-key")
        tally = stats(box, key)
    assert tally["requests"]["stages"] == {"200": 2, "404": 1}
    assert tally["requests"]["pipelines"] == {"200": 1}
    assert tally["total"] == 4
    assert tally["rejected"] == {"not_found": 1}
    assert tally["unauthenticated"]["requests"] == {"pipelines": {"401": 1}}


def test_reads_meet_the_rate_limit_but_not_injected_failures():
    with running_sandbox(rate_limit_per_min=1, rate_limit_burst=2) as box:
        box.fail_next(1, status=503)
        first = get(box, stages_path(box.pipeline_id), box.api_key)
        assert first.status_code == 200, first.text  # the fail_next rule is left for a write
        assert get(box, "/v1/pipelines", box.api_key).status_code == 200
        limited = get(box, "/v1/pipelines", box.api_key)
        assert limited.status_code == 429, limited.text
        assert int(limited.headers["retry-after"]) >= 1
        box.configure(rate_limit_per_min=None)
        write = write_account(box)
        assert write.status_code == 503, write.text
        tally = stats(box, box.api_key)
    assert tally["rejected"] == {"rate_limited": 1, "injected_fault": 1}
