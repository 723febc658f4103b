"""``octolane-import sandbox``: serve the local Octolane emulator until Ctrl+C.

The command parses flags, calls :func:`importer.sandbox.run_sandbox` and prints
where the sandbox listens and the demo org's key, pipeline and stages. Every
flag is also a keyword of ``run_sandbox`` / ``running_sandbox``.
"""

from __future__ import annotations

import ipaddress
import signal
from typing import Any

import click

from importer.sandbox.config import Knobs, SandboxConfigError, SandboxSettings, load_settings
from importer.sandbox.server import RunningSandbox, run_sandbox

__all__ = ["sandbox_command"]

# flag name → setting name, for flags whose value is passed through unchanged.
_PASS_THROUGH = {
    "host": "host",
    "port": "port",
    "db": "db_path",
    "rate_limit": "rate_limit_per_min",
    "rate_burst": "rate_limit_burst",
    "concurrency_limit": "concurrency_limit",
    "latency_ms": "latency_ms",
    "jitter_ms": "jitter_ms",
    "failure_rate": "failure_rate",
    "failure_status": "failure_status",
    "failure_retry_after": "failure_retry_after",
    "fault_after_write": "fault_after_write",
    "drop_connection_after_write": "drop_connection_after_write",
    "seed": "seed",
    "max_body_bytes": "max_body_bytes",
    "freemail_accounts": "freemail_accounts",
    "unknown_keys": "unknown_keys",
    "seconds_dates": "seconds_dates",
    "repeated_deal_contacts": "repeated_deal_contacts",
    "repeated_deal_fields": "repeated_deal_fields",
    "notes_require_link": "notes_require_link",
    "unknown_owner_status": "unknown_owner_status",
    "unknown_stage_status": "unknown_stage_status",
    "bulk_response": "bulk_response",
    "bulk_mode": "bulk_mode",
    "rate_limit_scope": "rate_limit_scope",
    "access_log": "access_log",
}


def _banner(sandbox: RunningSandbox) -> str:
    settings = sandbox.settings
    storage = "in memory (lost on exit)" if settings.db_path == ":memory:" else settings.db_path
    demo = sandbox.demo
    lines = [
        "Octolane sandbox — a local emulator, not Octolane",
        f"  base URL     {sandbox.base_url}",
        f"  API key      {sandbox.api_key}   (header X-API-Key)",
        f"  pipeline_id  {sandbox.pipeline_id}",
        "  stage_ids",
        *(f"    {sid}  {name}" for sid, name in zip(demo.stage_ids, demo.stage_names, strict=True)),
        f"  owner email  {sandbox.owner_email}",
        f"  storage      {storage}",
        f"  inspect      {sandbox.url}/_sandbox/stats  (sandbox-only; same X-API-Key)",
    ]
    defaults = Knobs().model_dump()
    knobs = {k: v for k, v in settings.knobs.model_dump().items() if v != defaults[k]}
    if knobs:
        lines.append("  knobs        " + ", ".join(f"{k}={v}" for k, v in knobs.items()))
    lines.append("Press Ctrl+C to stop.")
    return "\n".join(lines)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@click.command("sandbox")
@click.option("--host", default=None, help="Address to bind.  [default: 127.0.0.1]")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=None,
    help="Port; 0 picks a free one.  [default: 8787]",
)
@click.option(
    "--db",
    type=click.Path(dir_okay=False),
    default=None,
    help="SQLite file that keeps the data across restarts.  [default: in memory]",
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="YAML/JSON file with orgs, keys, pipelines, members, knobs.",
)
@click.option("--api-key", "api_keys", multiple=True, help="Extra key for the demo org (repeat).")
@click.option(
    "--member",
    "members",
    multiple=True,
    help="Extra member (owner) email for the demo org (repeat).",
)
@click.option(
    "--rate-limit",
    type=click.FloatRange(min=0),
    default=None,
    help="Requests per minute per key (token bucket); 0 = off.",
)
@click.option(
    "--rate-burst",
    type=click.IntRange(min=1),
    default=None,
    help="Token bucket size.  [default: one minute's worth]",
)
@click.option(
    "--concurrency-limit",
    type=click.IntRange(min=1),
    default=None,
    help="Requests in flight per key before a 429.",
)
@click.option(
    "--latency-ms", type=click.FloatRange(min=0), default=None, help="Added to every API request."
)
@click.option(
    "--jitter-ms",
    type=click.FloatRange(min=0),
    default=None,
    help="Random extra latency, uniform in [0, N].",
)
@click.option(
    "--failure-rate",
    type=click.FloatRange(0, 1),
    default=None,
    help="Share of API requests answered with --failure-status.",
)
@click.option(
    "--failure-status",
    type=click.IntRange(400, 599),
    default=None,
    help="Status of injected failures.  [default: 500]",
)
@click.option(
    "--failure-retry-after",
    metavar="SECONDS|none",
    default=None,
    help="Retry-After of injected 429 and 503 answers, or 'none' for no header (a server"
    " shedding load).  [default: 1]",
)
@click.option(
    "--fault-after-write/--no-fault-after-write",
    default=None,
    help="Injected failures come after the write: the record is stored, its answer "
    "is the failure status.  [default: no]",
)
@click.option(
    "--drop-connection-after-write/--no-drop-connection-after-write",
    default=None,
    help="Injected failures come after the write and close the connection with no "
    "answer at all.  [default: no]",
)
@click.option("--seed", type=int, default=None, help="Seed for failures and jitter.")
@click.option(
    "--max-body-bytes",
    type=click.IntRange(min=1),
    default=None,
    help="Larger bodies get a 413.  [default: 1048576]",
)
@click.option(
    "--freemail-accounts/--no-freemail-accounts",
    default=None,
    help="Create accounts for gmail.com etc. on contact creates.  [default: no]",
)
@click.option(
    "--unknown-keys",
    type=click.Choice(["ignore", "reject"]),
    default=None,
    help="Unknown body keys: ignored or a 400.  [default: ignore]",
)
@click.option(
    "--seconds-dates",
    type=click.Choice(["reject", "accept"]),
    default=None,
    help="Dates that look like Unix seconds: a 400 or stored.  [default: reject]",
)
@click.option(
    "--repeated-deal-contacts",
    type=click.Choice(["add", "replace"]),
    default=None,
    help="A deal sent again adds its contacts or replaces them.  [default: add]",
)
@click.option(
    "--repeated-deal-fields",
    type=click.Choice(["keep", "update"]),
    default=None,
    help="A deal sent again keeps or updates amount, stage, dates.  [default: keep]",
)
@click.option(
    "--notes-require-link/--notes-allow-unlinked",
    default=None,
    help="A note with no domains and no emails is a 400.  [default: allowed]",
)
@click.option(
    "--unknown-owner-status",
    type=click.Choice(["400", "404"]),
    default=None,
    help="Status for an owner_email that is not a member.  [default: 404]",
)
@click.option(
    "--unknown-stage-status",
    type=click.Choice(["400", "404"]),
    default=None,
    help="Status for a stage_id not in the pipeline.  [default: 404]",
)
@click.option(
    "--bulk-response",
    type=click.Choice(["per_item", "summary", "empty"]),
    default=None,
    help="What a public bulk create answers: a result per record, counts, or no data."
    "  [default: per_item]",
)
@click.option(
    "--bulk-mode",
    type=click.Choice(["all_or_nothing", "partial"]),
    default=None,
    help="A public bulk create with a bad record: refused whole (400), or the others"
    " written.  [default: all_or_nothing]",
)
@click.option(
    "--rate-limit-scope",
    type=click.Choice(["key", "route"]),
    default=None,
    help="One --rate-limit bucket per key, or per key and route (the public API's"
    " per-route 429s).  [default: key]",
)
@click.option("--access-log/--no-access-log", default=None, help="Log every request.")
def sandbox_command(
    config_path: str | None, api_keys: tuple[str, ...], members: tuple[str, ...], **flags: Any
) -> None:
    """Serve a local emulator of the Octolane API (for demos and tests).

    It answers the Inbound API's POST /v1/inbound/{accounts,contacts,opportunities,notes}
    and the public API's creates, bulk creates, lists and searches (/v1/accounts/bulk,
    ...) like Octolane does, stores what it gets in SQLite, and lists it under
    /_sandbox/ (sandbox-only endpoints, not part of Octolane's API). Settings without a
    flag here go in a --config file (docs/sandbox.md).

    \b
    Example:
      octolane-import sandbox --port 8787 --db sandbox.db --rate-limit 600
    """
    overrides = {_PASS_THROUGH[k]: v for k, v in flags.items() if v is not None}
    if "failure_retry_after" in overrides:
        overrides["failure_retry_after"] = _retry_after(overrides["failure_retry_after"])
    for name in ("unknown_owner_status", "unknown_stage_status"):
        if name in overrides:
            overrides[name] = int(overrides[name])
    try:
        settings = load_settings(config_path) if config_path else SandboxSettings()
        if api_keys:
            overrides["extra_api_keys"] = (*settings.extra_api_keys, *api_keys)
        if members:
            overrides["extra_members"] = (*settings.extra_members, *members)
        settings = settings.with_overrides(**overrides)
        if not _is_loopback(settings.host):
            click.echo(
                f"warning: binding {settings.host}: the sandbox has no real security; "
                "anyone who can reach it can use the demo key",
                err=True,
            )
        # SIGTERM ends the sandbox as cleanly as Ctrl+C (uvicorn re-raises it after shutdown).
        signal.signal(signal.SIGTERM, _interrupt)
        run_sandbox(settings, on_ready=lambda sandbox: click.echo(_banner(sandbox)))
    except SandboxConfigError as exc:
        raise click.UsageError(str(exc)) from exc
    except KeyboardInterrupt:
        pass  # uvicorn has already shut down cleanly; Ctrl+C is the normal way out
    click.echo("Sandbox stopped.", err=True)


def _retry_after(text: str) -> int | None:
    if text.strip().lower() == "none":
        return None
    if not text.strip().isdigit():
        raise click.BadParameter(
            f"{text!r} is not a number of seconds or 'none'", param_hint="--failure-retry-after"
        )
    return int(text)
