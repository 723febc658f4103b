"""The public API as a target (``--api public``), end to end through real HTTP to the sandbox.

The same file and mapping go to the Inbound target and to the public target, each into
a fresh sandbox, for every answer shape (per_item, summary, empty) and batch mode
(all_or_nothing, partial): the sandboxes must end holding the same records. Then the
paths the issue names: three bad records among a hundred, a notes batch whose answer
is lost, per-route 429s, and the fields only the public API takes.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from test_import_e2e import inspect, invoke, results_of, run, settings, write

from importer.sandbox import RunningSandbox, running_sandbox

MAPPING = """
contact:
  email: {column: Email, transforms: [email]}
  first_name: First Name
  last_name: Last Name
account:
  domain: {column: Website, transforms: [domain]}
opportunity:
  name: Deal
  deal_size: {column: Amount, transforms: [money]}
  close_date: {column: Close, transforms: [date]}
  next_step: {column: Next, required: false}
note:
  title: {value: Imported from the CRM}
  content: {template: "Status: {Status}"}
"""


def deals_csv(path: Path, count: int, *, bad: set[int] = frozenset()) -> Path:  # type: ignore[assignment]
    """``count`` people at ``count // 3`` companies, each row with a deal and a note;
    rows in ``bad`` carry the sandbox's item-failure marker in their last name."""
    lines = ["Email,First Name,Last Name,Website,Deal,Amount,Close,Next,Status"]
    for i in range(count):
        company = f"co{i // 3}.com"
        last = f"BADITEM{i}" if i in bad else f"Last{i}"
        lines.append(
            f"p{i}@{company},First{i},{last},https://{company},Deal {i},{1000 + i},"
            f"2025-0{1 + i % 9}-1{i % 10},Call {i},S{i % 4}"
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def state(box: RunningSandbox) -> dict[str, Any]:
    """What the sandbox holds, without ids and times: comparable across sandboxes."""
    accounts = sorted(a["domain"] for a in inspect(box, "accounts"))
    contacts = sorted(
        (c["email"], c["first_name"], c["last_name"]) for c in inspect(box, "contacts")
    )
    deals = sorted(
        (d["name"], d["account_domain"], d["amount"], d["close_date"], d["next_step"],
         d["stage_id"])
        for d in inspect(box, "opportunities")
    )  # fmt: skip
    notes = sorted((n["title"], n["content"]) for n in inspect(box, "notes"))
    return {"accounts": accounts, "contacts": contacts, "deals": deals, "notes": notes}


def public(box: RunningSandbox, **options: Any):
    return settings(box, api="public", **options)


@pytest.fixture(scope="module")
def inbound_state(tmp_path_factory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("inbound")
    data, mapping = deals_csv(folder / "deals.csv", 30), write(folder / "m.yaml", MAPPING)
    with running_sandbox() as box:
        report = run(box, data, mapping, pipeline_id=box.pipeline_id)
        assert report.counts == {"imported": 30}
        assert report.send.bulk_requests == 0  # one record a request
        return state(box)


@pytest.mark.parametrize("mode", ["all_or_nothing", "partial"])
@pytest.mark.parametrize("shape", ["per_item", "summary", "empty"])
def test_both_targets_land_the_same_records(tmp_path, inbound_state, shape, mode):
    data, mapping = deals_csv(tmp_path / "deals.csv", 30), write(tmp_path / "m.yaml", MAPPING)
    with running_sandbox(bulk_response=shape, bulk_mode=mode) as box:
        report = run(box, data, mapping, pipeline_id=box.pipeline_id, settings=public(box))
        assert report.counts == {"imported": 30}
        assert state(box) == inbound_state
        stats = inspect(box, "stats")
    send = report.send
    # Batches, not records: 30 contacts (which ensure their 10 accounts), 30 deals and
    # 30 notes -> 3 requests, where the Inbound target sends 90.
    assert send.bulk_requests == send.requests_sent == 3
    bulk = {k: v for k, v in stats["requests"].items() if k.endswith("bulk")}
    assert sum(sum(v.values()) for v in bulk.values()) == 3
    if shape == "per_item":
        assert send.lookups == 2  # the deals' search and the notes' before their first send
    else:  # ids (and, for "empty", outcomes) come from lookups, counted
        assert send.lookups > 0
        reads = sum(
            sum(v.values()) for k, v in stats["requests"].items()
            if k.endswith(("search", "list", "notes_read"))
        )  # fmt: skip
        assert reads == send.lookups
    rows = results_of(tmp_path / "results.csv")
    if shape != "empty":  # an empty answer gives no note ids, and notes cannot be searched
        assert all(r["people_id"] and r["opportunity_id"] for r in rows)


@pytest.mark.parametrize("mode", ["all_or_nothing", "partial"])
def test_three_bad_records_among_a_hundred(tmp_path, mode):
    mapping = write(tmp_path / "m.yaml", "contact:\n  email: Email\n  last_name: Last Name\n")
    lines = ["Email,Last Name"] + [
        f"p{i}@co{i}.com,{'BADITEM' if i in (5, 48, 91) else 'Ok'}{i}" for i in range(100)
    ]
    data = write(tmp_path / "c.csv", "\n".join(lines) + "\n")
    with running_sandbox(bulk_mode=mode, fail_items_containing="BADITEM") as box:
        report = run(box, data, mapping, settings=public(box))
        landed = {c["email"] for c in inspect(box, "contacts")}
    assert report.counts == {"imported": 97, "failed": 3}
    assert landed == {f"p{i}@co{i}.com" for i in range(100) if i not in (5, 48, 91)}
    failed = [r for r in results_of(tmp_path / "results.csv") if r["status"] == "failed"]
    assert [r["row"] for r in failed] == ["7", "50", "93"]
    assert all("Injected item failure" in r["message"] for r in failed)
    if mode == "all_or_nothing":
        assert all("batch of 100 was refused whole" in r["message"] for r in failed)
    send = report.send
    if mode == "partial":
        assert send.requests_sent == 1 and send.split_requests == 0
    else:  # halves until each bad record stands alone: extra requests, counted
        assert send.split_requests > 0
        assert send.requests_sent == 1 + send.split_requests
        assert send.requests_sent <= 1 + 3 * 2 * 7


@pytest.mark.parametrize(
    ("fault", "written"),
    [
        ({"after_write": True}, True),  # written, then a 500
        ({"after_write": True, "drop_connection": True}, True),  # written, then no answer
        ({"drop_connection": True}, False),  # no answer, nothing written
    ],
)
def test_a_lost_answer_on_a_notes_batch_is_looked_up_not_repeated(tmp_path, fault, written):
    mapping = write(tmp_path / "m.yaml", MAPPING)
    data = deals_csv(tmp_path / "deals.csv", 12)
    with running_sandbox() as box:
        box.fail_next(1, endpoint="notes.bulk", **fault)
        report = run(box, data, mapping, pipeline_id=box.pipeline_id, settings=public(box))
        notes = inspect(box, "notes")
        stats = inspect(box, "stats")
    assert report.counts == {"imported": 12}
    assert len(notes) == 12  # each note once, whatever happened to the first answer
    # one GET /v1/notes?q= per note, before any repeat (and the deals' search and the
    # notes' "any notes?" before their first send)
    assert report.send.lookups == 12 + 2
    messages = [o.message for o in report.send.outcomes.values() if o.endpoint == "notes"]
    sent = sum(stats["requests"]["notes.bulk"].values())
    if written:  # found: not sent again
        assert all("found in Octolane by a lookup" in m for m in messages)
        assert sent == 1
    else:  # not there: sent again, once
        assert not any(messages)
        assert sent == 2


def test_the_limiter_under_per_route_429s(tmp_path):
    mapping = write(tmp_path / "m.yaml", MAPPING)
    data = deals_csv(tmp_path / "deals.csv", 450)
    with running_sandbox(
        rate_limit_scope="route", rate_limit_per_min=120, rate_limit_burst=2
    ) as box:
        report = run(
            box, data, mapping, pipeline_id=box.pipeline_id,
            settings=public(box, rate_per_min=None, concurrency=4),
        )  # fmt: skip
        stats = inspect(box, "stats")
        notes = inspect(box, "notes")
    assert report.counts == {"imported": 450}
    assert len(notes) == 450
    assert report.send.rate_limited == stats["rejected"].get("rate_limited", 0) > 0


def test_fields_only_the_public_api_takes(tmp_path):
    mapping = write(tmp_path / "m.yaml", """
contact:
  email: Email
  job_title: Title
  phone: Phone
  linkedin: LinkedIn
opportunity:
  name: Deal
  stage_name: Stage
  custom_attributes:
    source_id: {column: Id}
""")  # fmt: skip
    with running_sandbox() as box:
        stage = box.demo.stage_names[-1]
        data = write(tmp_path / "c.csv", "Email,Title,Phone,LinkedIn,Deal,Stage,Id\n"
                     f"jo@acme.com,CTO,+1 555 0100,https://linkedin.com/in/jo,Big,{stage},D-1\n"
                     "al@acme.com,,,,Small,Nope,D-2\n")  # fmt: skip
        # The dry run refuses the stage the pipeline does not have, as the server would.
        dry = run(box, data, mapping, pipeline_id=box.pipeline_id, settings=public(box),
                  dry_run=True)  # fmt: skip
        assert dry.counts == {"would_import": 1, "partial": 1}
        report = run(box, data, mapping, pipeline_id=box.pipeline_id, settings=public(box))
        contact = next(c for c in inspect(box, "contacts") if c["email"] == "jo@acme.com")
        [deal] = inspect(box, "opportunities")
    assert report.counts == {"imported": 1, "partial": 1}
    assert (contact["job_title"], contact["phone"]) == ("CTO", "+1 555 0100")
    assert contact["linkedin"] == "https://linkedin.com/in/jo"
    assert deal["stage_name"] == stage and deal["custom_attributes"] == {"source_id": "D-1"}
    # The Inbound target sends none of them, and says so once.
    (tmp_path / "inbound").mkdir()
    data = data.rename(tmp_path / "inbound" / data.name)
    with running_sandbox() as box:
        report = run(box, data, mapping, pipeline_id=box.pipeline_id)
        contact = next(c for c in inspect(box, "contacts") if c["email"] == "jo@acme.com")
    assert report.counts == {"imported": 1, "partial": 1}
    assert contact.get("job_title") is None
    said = [w for w in report.mapping_warnings if "not sent" in w]
    assert len(said) == 1 and "contact.job_title" in said[0] and "--api public" in said[0]


def test_a_stage_name_matched_with_other_spaces_is_sent_as_the_pipelines(tmp_path):
    """The dry run matched "Closed  won" (two spaces) to a stage, the server did not: 164
    rows failed after 614 requests. What the dry run matched is what is sent, and said."""
    mapping = write(tmp_path / "m.yaml", """
contact:
  email: Email
opportunity:
  name: Deal
  stage_name: Stage
""")  # fmt: skip
    with running_sandbox() as box:
        stage = box.demo.stage_names[-1]
        spaced = "  " + stage.upper().replace(" ", "   ") + " "
        data = write(tmp_path / "c.csv", f"Email,Deal,Stage\njo@acme.com,Big,{spaced}\n")
        dry = run(box, data, mapping, pipeline_id=box.pipeline_id, settings=public(box),
                  dry_run=True)  # fmt: skip
        report = run(box, data, mapping, pipeline_id=box.pipeline_id, settings=public(box))
        [deal] = inspect(box, "opportunities")
    assert dry.counts == {"would_import": 1} and report.counts == {"imported": 1}
    assert deal["stage_name"] == stage
    said = results_of(tmp_path / "results.csv")[0]["warnings"]
    assert f"is sent as {stage!r}, the pipeline's stage of that name" in said


def test_a_named_account_gets_its_own_create_on_the_public_api(tmp_path):
    """A contact create makes its e-mail's account bare: a company name from the file would
    be replaced by one the server derives from the domain. A named account is sent itself."""
    mapping = write(tmp_path / "m.yaml", """
contact:
  email: Email
account:
  domain: {column: Website, transforms: [domain]}
  name: Company
""")  # fmt: skip
    data = write(tmp_path / "c.csv", "Email,Website,Company\n"
                 "jo@pvalueresearch.com,pvalueresearch.com,Pure Value Advisory Services\n"
                 "al@dnsadvisors.com,dnsadvisors.com,\n")  # fmt: skip
    with running_sandbox() as box:
        report = run(box, data, mapping, settings=public(box))
        names = {a["domain"]: a["name"] for a in inspect(box, "accounts")}
    assert report.counts == {"imported": 2}
    assert report.plan.by_endpoint()["accounts"] == 1  # the named one; the other is ensured
    # the row depends on its account's create (a failed one fails it) and gets its id
    assert "account:pvalueresearch.com" in report.rows[0].requests
    assert results_of(tmp_path / "results.csv")[0]["company_id"]
    assert names["pvalueresearch.com"] == "Pure Value Advisory Services"
    assert names["dnsadvisors.com"] == "Dnsadvisors"  # no name in the file: the server's
    # The Inbound API takes no account name: its contact creates ensure both accounts.
    with running_sandbox() as box:
        (tmp_path / "in").mkdir()
        report = run(box, data.rename(tmp_path / "in" / "c.csv"), mapping)
    assert report.plan.by_endpoint().get("accounts", 0) == 0


def test_a_named_account_lands_named_when_its_create_is_retried(tmp_path):
    """The contacts went while the named accounts' bulk create was being retried: each
    contact create made its account bare first, and 18 of 21 real Apollo names were lost,
    every row "imported". A contact (and a deal) now waits for its named account's create."""
    mapping = write(tmp_path / "m.yaml", """
options:
  pipeline_id: PIPELINE
contact:
  email: Email
  first_name: First
account:
  domain: {column: Website, transforms: [domain]}
  name: Company
opportunity:
  name: Deal
""")  # fmt: skip
    rows = "".join(f"p{i}@firm{i}.com,P{i},firm{i}.com,Firm Number {i} Ltd,Deal {i}\n"
                   for i in range(6))  # fmt: skip
    data = write(tmp_path / "c.csv", "Email,First,Website,Company,Deal\n" + rows)
    with running_sandbox() as box:
        mapping.write_text(mapping.read_text().replace("PIPELINE", box.pipeline_id))
        box.fail_next(1, status=503, endpoint="accounts.bulk")
        report = run(box, data, mapping, settings=public(box))
        names = {a["domain"]: a["name"] for a in inspect(box, "accounts")}
        tally = inspect(box, "stats")["requests"].get("accounts.bulk", {})
        assert sum(tally.values()) >= 2, tally  # the failed create was retried
    assert report.counts == {"imported": 6}
    assert names == {f"firm{i}.com": f"Firm Number {i} Ltd" for i in range(6)}
    contact = next(r for r in report.plan.requests if r.endpoint == "contacts")
    deal = next(r for r in report.plan.requests if r.endpoint == "opportunities")
    assert contact.depends_on == ("account:firm0.com",)
    assert "account:firm0.com" in deal.depends_on


def test_the_command_line_with_api_public(tmp_path):
    mapping = write(tmp_path / "m.yaml", MAPPING)
    data = deals_csv(tmp_path / "deals.csv", 9)
    result = invoke(data, "--mapping", mapping, "--sandbox", "--api", "public",
                    "--out", tmp_path / "r.csv")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "bulk requests" in result.output
    assert {r["status"] for r in results_of(tmp_path / "r.csv")} == {"imported"}


def test_a_dry_run_plans_the_same_for_both_targets(tmp_path):
    mapping = write(tmp_path / "m.yaml", MAPPING)
    data = deals_csv(tmp_path / "deals.csv", 9)
    said = {}
    for api in ("inbound", "public"):
        result = invoke(data, "--mapping", mapping, "--dry-run", "--api", api, "--json",
                        "--pipeline-id", "22222222-2222-4222-8222-222222222222",
                        "--out", tmp_path / f"{api}.csv")  # fmt: skip
        assert result.exit_code == 0, result.output
        said[api] = results_of(tmp_path / f"{api}.csv")
    assert said["inbound"] == said["public"]
    assert {r["status"] for r in said["public"]} == {"would_import"}


def test_a_lost_notes_batch_that_no_lookup_settles_is_settled_by_the_next_run(
    tmp_path, monkeypatch
):
    from importer.send.client import LookupUnavailable
    from importer.send.public import PublicClient

    mapping = write(tmp_path / "m.yaml", MAPPING)
    data = deals_csv(tmp_path / "deals.csv", 6)

    async def unavailable(self, endpoint, payload, **context):
        raise LookupUnavailable("reads refused")

    with running_sandbox() as box:
        box.fail_next(1, endpoint="notes.bulk", after_write=True, drop_connection=True)
        with monkeypatch.context() as patch:
            patch.setattr(PublicClient, "find", unavailable)
            first = run(box, data, mapping, pipeline_id=box.pipeline_id, settings=public(box))
        assert first.counts == {"unknown": 6}  # written, but nothing says so: not sent again
        assert len(inspect(box, "notes")) == 6
        # The same command again: the journal's unknown notes are looked up, found, done.
        second = run(box, data, mapping, pipeline_id=box.pipeline_id, settings=public(box))
        notes = inspect(box, "notes")
    assert second.counts == {"imported": 6}
    assert len(notes) == 6  # none twice
    found = [o.message for o in second.send.outcomes.values() if o.endpoint == "notes"]
    assert all("found in Octolane by a lookup (the answer was lost in run 1)" in m for m in found)
    assert second.send.requests_sent == 0  # nothing else was sent: the rest was done


KEYLESS = """
opportunity:
  name: Deal
  deal_size: {column: Amount, transforms: [money]}
"""


def test_deals_imported_again_are_found_not_made_twice(tmp_path):
    """The public bulk route creates a deal every time: a second import of the same
    deals (--fresh, or another results file) looks each up before sending. Two source
    deals of one name stay two, and neither takes the other's."""
    data = deals_csv(tmp_path / "deals.csv", 9)
    mapping = write(tmp_path / "m.yaml", MAPPING)
    (tmp_path / "k").mkdir()
    keyless = write(
        tmp_path / "k" / "keyless.csv", "Deal,Amount\nSolar A,10\nSolar A,20\nSolar B,30\n"
    )
    keyless_map = write(tmp_path / "k" / "k.yaml", KEYLESS)
    with running_sandbox() as box:
        first = run(box, data, mapping, pipeline_id=box.pipeline_id, settings=public(box))
        assert first.counts == {"imported": 9}
        run(box, keyless, keyless_map, pipeline_id=box.pipeline_id, settings=public(box))
        deals = {d["opportunity_id"] for d in inspect(box, "opportunities")}
        assert len(deals) == 11  # the two Solar A are planned as one (said on both rows)

        reads = inspect(box, "stats")["requests"].get("opportunities_search", {})
        again = run(
            box,
            data,
            mapping,
            pipeline_id=box.pipeline_id,
            settings=public(box),
            fresh=True,
            force=True,
        )
        assert again.counts == {"imported": 9}
        assert {d["opportunity_id"] for d in inspect(box, "opportunities")} == deals
        rows = results_of(tmp_path / "results.csv")
        assert all("already in Octolane: a deal of this name" in r["message"] for r in rows)
        assert {r["opportunity_id"] for r in rows} <= deals
        after = inspect(box, "stats")["requests"]["opportunities_search"]
        assert sum(after.values()) > sum(reads.values())  # the path ran: deals were searched

        again = run(
            box, keyless, keyless_map, pipeline_id=box.pipeline_id, settings=public(box),
            fresh=True, force=True,
        )  # fmt: skip
        assert {d["opportunity_id"] for d in inspect(box, "opportunities")} == deals
        rows = results_of(tmp_path / "k" / "results.csv")
        assert len({r["opportunity_id"] for r in rows}) == 2

        # Two deals of one name in Octolane, two rows asking: one each, none shared.
        async def find_two() -> list[Any]:
            from importer.send.public import PublicClient

            payload = {
                "pipeline_id": box.pipeline_id, "opportunity": {"name": "Solar A"},
                "related_objects": {},
            }  # fmt: skip
            async with PublicClient(box.api_key, base_url=box.url + "/v1") as client:
                await client.send_batch("opportunities", [payload])
                return await client.find_many("opportunities", [payload, payload, payload])

        one, two, three = asyncio.run(find_two())
        assert one.opportunity_id != two.opportunity_id and three is None


def test_deal_checks_never_take_another_companys_deal(tmp_path):
    """A deal already in Octolane is found by its company and name; a deal with no
    company is never matched to a company's deal of its name."""
    mapping = write(tmp_path / "m.yaml", "account:\n  domain: {column: Website, transforms: "
                    "[domain], required: false}\nopportunity:\n  name: Deal\n")  # fmt: skip
    data = write(tmp_path / "d.csv", "Website,Deal\nacme.com,Acme Renewal\nglobex.com,Renewal\n")
    with running_sandbox() as box:
        run(box, data, mapping, pipeline_id=box.pipeline_id, settings=public(box))
        write(data, "Website,Deal\nacme.com,Acme Renewal\n,Renewal\n")
        again = run(box, data, mapping, pipeline_id=box.pipeline_id, settings=public(box),
                    fresh=True, force=True)  # fmt: skip
        deals = sorted(
            (d["name"], d["account_domain"] or "") for d in inspect(box, "opportunities")
        )
    assert deals == [("Acme Renewal", "acme.com"), ("Renewal", ""), ("Renewal", "globex.com")]
    rows = results_of(tmp_path / "results.csv")
    assert "already in Octolane" in rows[0]["message"]
    assert "already in Octolane" not in rows[1]["message"]
    assert again.counts == {"imported": 2}


def _reimported(tmp_path: Path, first: str, second: str) -> tuple[Any, list[str], dict]:
    """Deals imported on the public API from ``first``, then (--fresh) from ``second``:
    the second run's report, the deals' names, and the deal searches' answers."""
    mapping = write(tmp_path / "m.yaml", "account:\n  domain: {column: Website, transforms: "
                    "[domain], required: false}\nopportunity:\n  name: Deal\n")  # fmt: skip
    data = write(tmp_path / "d.csv", first)
    with running_sandbox() as box:
        run(box, data, mapping, pipeline_id=box.pipeline_id, settings=public(box))
        write(data, second)
        again = run(box, data, mapping, pipeline_id=box.pipeline_id, settings=public(box),
                    fresh=True, force=True)  # fmt: skip
        deals = sorted(d["name"] for d in inspect(box, "opportunities"))
        searched = inspect(box, "stats")["requests"]["opportunities_search"]
    return again, deals, searched


def test_a_deal_spelled_in_another_case_is_found_not_made_twice(tmp_path):
    """The search filter compares names exactly: a re-import from an export that spells
    the deal's name in another case still finds it."""
    again, deals, searched = _reimported(
        tmp_path,
        "Website,Deal\nacme.com,Acme renewal\nglobex.com,Q3 Pilot\n",
        "Website,Deal\nacme.com,ACME RENEWAL\nglobex.com,q3 pilot\n",
    )
    assert deals == ["Acme renewal", "Q3 Pilot"]
    assert sum(searched.values()) >= 2  # the path ran: the second run searched
    rows = results_of(tmp_path / "results.csv")
    assert all("already in Octolane" in r["message"] for r in rows)
    assert again.counts == {"imported": 2}


def test_a_deal_spelled_in_a_case_no_search_asks_for_is_found_among_its_companys(tmp_path):
    """'ACME renewal' is none of the five spellings the name search asks for ('Acme
    Renewal' written, squeezed, lower, upper, title, sentence case): the deal is found
    among its company's deals, by a second search, and not made twice."""
    again, deals, searched = _reimported(
        tmp_path,
        "Website,Deal\nacme.com,ACME renewal\nglobex.com,Q3 pilot\n",
        "Website,Deal\nacme.com,Acme Renewal\nglobex.com,Q3 Pilot X\n",
    )
    assert deals == ["ACME renewal", "Q3 Pilot X", "Q3 pilot"]  # another deal: made
    assert sum(searched.values()) >= 3  # the path ran: by name, then by company
    rows = results_of(tmp_path / "results.csv")
    assert "already in Octolane" in rows[0]["message"]
    assert "already in Octolane" not in rows[1]["message"]
    assert again.counts == {"imported": 2}


def test_an_unnamed_deal_imported_again_is_found_by_the_name_octolane_gave_it(tmp_path):
    """A deal sent without a name is named after its company's domain: a re-import
    (--fresh) searches for that name, and finds it, where it sent it again unchecked."""
    mapping = write(tmp_path / "m.yaml", "account:\n  domain: {column: Website, transforms: "
                    "[domain], required: false}\nopportunity:\n  name: {column: Deal, "
                    "required: false}\n  next_step: Next\n")  # fmt: skip
    data = write(tmp_path / "d.csv", "Website,Deal,Next\ngamma.org,,Call\nacme-labs.co.uk,,Mail\n")
    with running_sandbox() as box:
        run(box, data, mapping, pipeline_id=box.pipeline_id, settings=public(box))
        again = run(box, data, mapping, pipeline_id=box.pipeline_id, settings=public(box),
                    fresh=True, force=True)  # fmt: skip
        deals = sorted(d["name"] for d in inspect(box, "opportunities"))
    assert deals == ["Acme Labs", "Gamma"]
    rows = results_of(tmp_path / "results.csv")
    assert all("already in Octolane" in r["message"] for r in rows)
    assert again.counts == {"imported": 2}


def test_a_deal_check_that_fails_for_now_sends_no_deal_and_the_next_run_does(tmp_path, monkeypatch):
    from importer.send import client

    monkeypatch.setattr(client, "_READ_WAITS_S", (0.01,))
    monkeypatch.setattr(client, "_READ_WAIT_MAX_S", 0.01)
    mapping = write(tmp_path / "m.yaml", MAPPING)
    data = deals_csv(tmp_path / "deals.csv", 6)
    with running_sandbox() as box:
        run(box, data, mapping, pipeline_id=box.pipeline_id, settings=public(box))
        box.fail_next(100, endpoint="accounts.search", status=503)
        box.fail_next(100, endpoint="opportunities_search", status=503)
        again = run(box, data, mapping, pipeline_id=box.pipeline_id, settings=public(box),
                    fresh=True, force=True)  # fmt: skip
        assert len(inspect(box, "opportunities")) == 6  # none sent blind
        deals = [o for o in again.send.outcomes.values() if o.endpoint == "opportunities"]
        assert {o.status for o in deals} == {"not_sent"}
        assert all("the same command checks again" in o.message for o in deals)
        box.reset_knobs()
        last = run(box, data, mapping, pipeline_id=box.pipeline_id, settings=public(box))
        assert len(inspect(box, "opportunities")) == 6
        deals = [o for o in last.send.outcomes.values() if o.endpoint == "opportunities"]
        assert {o.status for o in deals} == {"ok"}
        assert all("already in Octolane" in o.message for o in deals)


def test_a_deal_check_refused_for_good_is_said_on_each_row_and_asked_once(tmp_path):
    mapping = write(tmp_path / "m.yaml", MAPPING)
    data = deals_csv(tmp_path / "deals.csv", 6)
    with running_sandbox() as box:
        box.fail_next(100, endpoint="opportunities_search", status=403)
        report = run(box, data, mapping, pipeline_id=box.pipeline_id,
                     settings=public(box, batch_size=1, concurrency=1))  # fmt: skip
        searches = inspect(box, "stats")["requests"]["opportunities_search"]
    assert report.counts == {"imported": 6}
    assert searches == {"403": 1}  # remembered: no batch asked again
    rows = results_of(tmp_path / "results.csv")
    assert all("sent without a check for the same deal in Octolane" in r["message"] for r in rows)


def test_a_deal_whose_company_is_named_by_id_alone_is_matched_by_that_company(monkeypatch):
    """A search answer may name a deal's company by ``account_id`` alone: the batch's
    companies are then looked up by domain, and a deal of another company, or of one
    that cannot be told, is never taken for a payload (least of all one with no company)."""
    from importer.send.public import PublicClient

    real_search = PublicClient._search

    async def without_domains(self, kind, body):
        records = await real_search(self, kind, body)
        return [{k: v for k, v in r.items() if k != "account_domain"} for r in records]

    monkeypatch.setattr(PublicClient, "_search", without_domains)
    with running_sandbox() as box:

        def deal(name: str, domain: str | None) -> dict[str, Any]:
            related = {"account_domain": domain} if domain else {}
            return {"pipeline_id": box.pipeline_id, "opportunity": {"name": name},
                    "related_objects": related}  # fmt: skip

        async def go() -> list[Any]:
            async with PublicClient(box.api_key, base_url=box.url + "/v1") as client:
                await client.send_batch("opportunities", [deal("Renewal", "globex.com")])
                await client.send_batch("opportunities", [deal("Renewal", "acme.com")])
                return await client.find_many("opportunities", [
                    deal("Renewal", None), deal("Renewal", "acme.com"),
                    deal("Renewal", "initech.com"),
                ])  # fmt: skip

        keyless, acme, initech = asyncio.run(go())
        acme_deal = next(
            d for d in inspect(box, "opportunities") if d["account_domain"] == "acme.com"
        )
        searches = inspect(box, "stats")["requests"]["accounts.search"]
    assert keyless is None and initech is None
    assert acme.opportunity_id == acme_deal["opportunity_id"]
    assert sum(searches.values()) == 1  # the path ran: the companies were looked up


def test_a_first_import_into_an_empty_pipeline_asks_once_not_once_a_batch(tmp_path):
    """The reads are 300 a minute and 100,000 a month: a pipeline that held no deal when
    the run began has none to find, so one read settles every batch; the second import
    of the same deals checks each batch, and finds them all."""
    mapping = write(tmp_path / "m.yaml", MAPPING)
    data = deals_csv(tmp_path / "deals.csv", 30)

    def searches(box: RunningSandbox) -> int:
        return sum(inspect(box, "stats")["requests"].get("opportunities_search", {}).values())

    with running_sandbox() as box:
        first = run(box, data, mapping, pipeline_id=box.pipeline_id,
                    settings=public(box, batch_size=10))  # fmt: skip
        assert first.counts == {"imported": 30} and searches(box) == 1
        again = run(box, data, mapping, pipeline_id=box.pipeline_id,
                    settings=public(box, batch_size=10), fresh=True, force=True)  # fmt: skip
        assert searches(box) == 1 + 1 + 3  # is the pipeline empty; then each batch
        assert len(inspect(box, "opportunities")) == 30
    deals = [o for o in again.send.outcomes.values() if o.endpoint == "opportunities"]
    assert all("already in Octolane" in o.message for o in deals)
    from importer.report.render import render_summary

    assert "lookups (reads of the public API: after lost answers, for batches that gave no" in (
        render_summary(again)
    )


def test_an_unnamed_deals_lost_answer_is_looked_up_by_the_name_it_got(tmp_path):
    """A deal of a company sent without a name whose batch's answer was lost: the lookup
    found nothing for a deal with no name, so each was sent again (60 rows, 70 deals).
    It is searched by the name Octolane gave it, and found."""
    mapping = write(tmp_path / "m.yaml", "account:\n  domain: {column: Website, transforms: "
                    "[domain], required: false}\nopportunity:\n  name: {column: Deal, "
                    "required: false}\n  next_step: Next\n")  # fmt: skip
    rows = "".join(f"co{i}.com,,Call {i}\n" for i in range(6))
    data = write(tmp_path / "d.csv", "Website,Deal,Next\n" + rows)
    with running_sandbox() as box:
        box.fail_next(1, endpoint="opportunities.bulk", after_write=True, drop_connection=True)
        report = run(box, data, mapping, pipeline_id=box.pipeline_id,
                     settings=public(box, batch_size=3))  # fmt: skip
        deals = inspect(box, "opportunities")
        assert sum(inspect(box, "stats")["requests"]["opportunities.bulk"].values()) == 2
    assert len(deals) == 6 and report.counts == {"imported": 6}
    found = [r for r in results_of(tmp_path / "results.csv") if "found in Octolane" in r["message"]]
    assert len(found) == 3  # the lost batch's, by lookup
