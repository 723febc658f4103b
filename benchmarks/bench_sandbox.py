"""Load test: contact creates per second the sandbox serves with no knobs set.

Starts ``python -m importer.sandbox`` as a separate process on a free loopback
port, drives ``POST /v1/inbound/contacts`` with unique emails over keep-alive
connections, prints requests/s and checks the sandbox stored what it answered.

The load generator must not be the bottleneck: wrk (``apt-get install wrk``)
with a small Lua script is used when present; otherwise several Python client
processes, each running lean raw-socket keep-alive connections.

    python benchmarks/bench_sandbox.py                     # 32 connections, 10 s
    python benchmarks/bench_sandbox.py --client python --connections 32 --duration 5

Exit status 1 if the rate is under ``--min-rps`` (default 1000) or any request failed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HOST = "127.0.0.1"
DEMO_KEY = "sandbox-demo-key"
PATH = "/v1/inbound/contacts"

LUA = """
local counter = 0
local headers = {["Content-Type"] = "application/json", ["X-API-Key"] = "%(key)s"}
local next_id = 0
function setup(thread)
  thread:set("tid", next_id)
  next_id = next_id + 1
end
function request()
  counter = counter + 1
  local body = '{"email":"%(run)s-' .. tid .. '-' .. counter .. '@company' .. (counter %% 500)
    .. '.example","first_name":"Bench","last_name":"User"}'
  return wrk.format("POST", "%(path)s", headers, body)
end
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def get_json(url: str) -> dict:
    request = urllib.request.Request(url, headers={"X-API-Key": DEMO_KEY})
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.load(response)


def start_sandbox(port: int, db: str | None) -> subprocess.Popen:
    command = [sys.executable, "-m", "importer.sandbox", "--host", HOST, "--port", str(port)]
    if db:
        command += ["--db", db]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the sandbox exited: {process.stderr.read().decode()}")
        try:
            get_json(f"http://{HOST}:{port}/_sandbox/health")
            return process
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise SystemExit("the sandbox did not start within 20 s")


def cpu_seconds(pid: int) -> float | None:
    """The process's CPU time so far (user + system), where /proc tells it (Linux)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def stop_sandbox(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGINT)
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


# ---- wrk -------------------------------------------------------------------------


def run_wrk(port: int, connections: int, duration_s: float, run: str, threads: int) -> tuple:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(LUA % {"key": DEMO_KEY, "run": run, "path": PATH})
    try:
        command = [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{duration_s:g}s",
            "--latency",
            "-s",
            script.name,
            f"http://{HOST}:{port}",
        ]
        output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(script.name)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    total = int(re.search(r"(\d+) requests in", output).group(1))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors = re.search(r"Socket errors:.*", output)
    return rps, total, int(bad.group(1)) if bad else 0, output, errors.group(0) if errors else ""


# ---- fallback: Python client processes ----------------------------------------------


async def _connection(port: int, run: str, worker: int, conn: int, stop_at: float) -> list[int]:
    reader, writer = await asyncio.open_connection(HOST, port)
    ok = bad = n = 0
    head = (
        f"POST {PATH} HTTP/1.1\r\nHost: {HOST}\r\nX-API-Key: {DEMO_KEY}\r\n"
        "Content-Type: application/json\r\n"
    ).encode()
    while time.monotonic() < stop_at:
        n += 1
        body = (
            f'{{"email":"{run}-{worker}-{conn}-{n}@company{n % 500}.example",'
            '"first_name":"Bench","last_name":"User"}'
        ).encode()
        writer.write(head + b"Content-Length: %d\r\n\r\n" % len(body) + body)
        status_headers = await reader.readuntil(b"\r\n\r\n")
        length = int(re.search(rb"(?i)content-length: (\d+)", status_headers).group(1))
        await reader.readexactly(length)
        if status_headers.startswith(b"HTTP/1.1 200"):
            ok += 1
        else:
            bad += 1
    writer.close()
    await writer.wait_closed()
    return [ok, bad]


def _client_process(port: int, run: str, worker: int, connections: int, stop_at: float, out):
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass

    async def main() -> list[list[int]]:
        jobs = [_connection(port, run, worker, c, stop_at) for c in range(connections)]
        return await asyncio.gather(*jobs)

    results = asyncio.run(main())
    out.put([sum(r[0] for r in results), sum(r[1] for r in results)])


def run_python(port: int, connections: int, duration_s: float, run: str, processes: int) -> tuple:
    queue: multiprocessing.Queue = multiprocessing.Queue()
    start = time.monotonic() + 0.5  # let every process connect before the clock starts
    stop_at = start + duration_s
    shares = [connections // processes + (i < connections % processes) for i in range(processes)]
    workers = [
        multiprocessing.Process(target=_client_process, args=(port, run, i, n, stop_at, queue))
        for i, n in enumerate(shares)
        if n
    ]
    for worker in workers:
        worker.start()
    counts = [queue.get() for _ in workers]
    for worker in workers:
        worker.join()
    ok, bad = sum(c[0] for c in counts), sum(c[1] for c in counts)
    elapsed = time.monotonic() - start
    summary = f"{len(workers)} client processes, {connections} connections"
    return (ok + bad) / elapsed, ok + bad, bad, summary, ""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of measured load")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of load first")
    parser.add_argument("--client", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument("--processes", type=int, default=2, help="Python client processes")
    parser.add_argument("--db", action="store_true", help="store in a temporary SQLite file")
    parser.add_argument("--min-rps", type=float, default=1000.0)
    args = parser.parse_args()

    client = args.client
    if client == "auto":
        client = "wrk" if shutil.which("wrk") else "python"

    def load(duration_s: float, run: str) -> tuple:
        if client == "wrk":
            return run_wrk(port, args.connections, duration_s, run, args.threads)
        return run_python(port, args.connections, duration_s, run, args.processes)

    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "bench.db") if args.db else None
        port = free_port()
        sandbox = start_sandbox(port, db)
        try:
            if args.warmup:
                load(args.warmup, "warmup")
            before = get_json(f"http://{HOST}:{port}/_sandbox/stats")["data"]
            cpu_before = cpu_seconds(sandbox.pid)
            rps, total, bad, detail, socket_errors = load(args.duration, "run")
            cpu_after = cpu_seconds(sandbox.pid)
            after = get_json(f"http://{HOST}:{port}/_sandbox/stats")["data"]
        finally:
            stop_sandbox(sandbox)

    stored = after["records"]["contacts"] - before["records"]["contacts"]
    answered_ok = after["requests"]["contacts"].get("200", 0) - before["requests"]["contacts"].get(
        "200", 0
    )
    print(detail.rstrip())
    print(f"client: {client}; connections: {args.connections}; duration: {args.duration:g} s")
    print(f"contact creates: {total} requests, {bad} non-200, {stored} contacts stored")
    if socket_errors:
        print(socket_errors)
    if cpu_before is not None and cpu_after is not None and total:
        # Steadier than requests/s on a busy machine: what each request cost the sandbox.
        per_request_us = (cpu_after - cpu_before) / total * 1e6
        print(f"sandbox CPU per request: {per_request_us:,.0f} us")
    print(f"requests/s: {rps:,.0f}")
    failed = bad or stored != answered_ok or rps < args.min_rps
    if failed:
        print(f"FAIL: need >= {args.min_rps:g} requests/s, no failures, every 200 stored")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
