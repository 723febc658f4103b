"""The sandbox: a local emulator of the Octolane Inbound API (real HTTP, SQLite, knobs).

Use it in-process::

    from importer.sandbox import running_sandbox

    with running_sandbox(latency_ms=5) as sandbox:
        httpx.post(f"{sandbox.base_url}/inbound/contacts",
                   headers={"X-API-Key": sandbox.api_key}, json={"email": "jo@acme.com"})
        sandbox.fail_next(3, status=500)      # make the server sick on demand

or from the shell: ``octolane-import sandbox --port 8787 --db sandbox.db``.
The ``/_sandbox/`` inspection endpoints are the sandbox's own, not Octolane's.
"""

from importer.sandbox.config import (
    DEMO_API_KEY,
    Behaviour,
    Knobs,
    OrgConfig,
    PipelineConfig,
    SandboxConfigError,
    SandboxSettings,
    load_settings,
)
from importer.sandbox.server import (
    OrgAccess,
    RunningSandbox,
    Sandbox,
    demo_access,
    run_sandbox,
    running_sandbox,
)

__all__ = [
    "DEMO_API_KEY",
    "Behaviour",
    "Knobs",
    "OrgAccess",
    "OrgConfig",
    "PipelineConfig",
    "RunningSandbox",
    "Sandbox",
    "SandboxConfigError",
    "SandboxSettings",
    "demo_access",
    "load_settings",
    "run_sandbox",
    "running_sandbox",
]
