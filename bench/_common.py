"""Shared helpers for the benchmarks: stats, ports, smtp-sink, configs, RSS."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
PY = sys.executable
QUICK = os.environ.get("BENCH_QUICK", "") not in ("", "0")
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
FIXTURE = Path("/work/shared/fixtures/woocommerce-order.json")
if not FIXTURE.exists():  # the fixture also lives in the repo's tests
    FIXTURE = ROOT / "tests/plugins/woocommerce/fixtures/woocommerce-order.json"

WEBHOOK_SECRET = "bench-secret-0123456789"


def stats(values: list[float]) -> dict[str, float]:
    return {"min": min(values), "median": statistics.median(values), "max": max(values)}


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    k = max(0, min(len(sorted_values) - 1, round(q / 100 * (len(sorted_values) - 1))))
    return sorted_values[k]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"nothing listens on 127.0.0.1:{port}") from None
            time.sleep(0.05)


def stop(proc: subprocess.Popen[Any], sig: int = signal.SIGTERM, timeout: float = 15.0) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(sig)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextlib.contextmanager
def smtp_sink(port: int | None = None) -> Iterator[int]:
    """postfix's smtp-sink on loopback; yields its port. Its -c counter goes to /dev/null."""
    exe = shutil.which("smtp-sink") or "/usr/sbin/smtp-sink"
    port = port or free_port()
    cmd = [exe]
    if os.geteuid() == 0:
        cmd += ["-u", "postfix"]
    cmd += ["-c", f"127.0.0.1:{port}", "1000"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port(port)
        yield port
    finally:
        stop(proc)


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def store_toml(store_id: str = "shop", platform: str = "api", options: str = "") -> str:
    """A realistic store: logo, URL and address, so the order mail is full-size."""
    return f"""
[stores.{store_id}]
platform = "{platform}"
name = "Northwind Outfitters"
from = "Northwind Outfitters <orders@northwind.example>"
reply_to = "Northwind Support <help@northwind.example>"
admin_email = "owner@northwind.example"
transport = "main"
locale = "en"
url = "https://shop.northwind.example"

[stores.{store_id}.branding]
logo_url = "https://shop.northwind.example/static/logo-email@2x.png"
colour = "#1f4e79"
address = "Northwind Outfitters GmbH\\nKastanienallee 12\\n10435 Berlin\\nGermany"
{options}
"""


def hub_toml(db: Path, smtp_port: int, *, store: str | None = None, concurrency: int = 10,
             pool_size: int = 4, http_port: int = 0, processes: int = 1) -> str:
    return f"""
[server]
host = "127.0.0.1"
port = {http_port}

[storage]
path = "{db}"

[delivery]
concurrency = {concurrency}
processes = {processes}
poll_interval = 0.05

[transports.main]
type = "smtp"
host = "127.0.0.1"
port = {smtp_port}
security = "none"
timeout = 30
pool_size = {pool_size}
local_hostname = "bench.localhost"
{store if store is not None else store_toml()}
"""


def emit(obj: dict[str, Any]) -> None:
    """Child benchmarks print one JSON line prefixed so the runner can find it."""
    print("BENCH_RESULT " + json.dumps(obj), flush=True)


def run_child(args: list[str], timeout: float = 900, env: dict[str, str] | None = None
              ) -> dict[str, Any]:
    full_env = {**os.environ, **(env or {})}
    proc = subprocess.run([PY, *args], capture_output=True, text=True, timeout=timeout,
                          cwd=ROOT, env=full_env, check=False)
    for line in proc.stdout.splitlines():
        if line.startswith("BENCH_RESULT "):
            return dict(json.loads(line[len("BENCH_RESULT "):]))
    raise RuntimeError(f"{' '.join(args)} failed (rc {proc.returncode}):\n"
                       f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
