"""A hub killed in the middle of a send loses nothing: the lease brings the message back."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from tests.core.api.test_events import event
from tests.hub_runner import API_KEY, config_text
from tests.smtp_capture import CaptureServer, free_port


@contextmanager
def hub_process(config: Path, smtp_port: int) -> Iterator[httpx.Client]:
    port = free_port()
    env = {**os.environ, "TIDINGS_SERVER__PORT": str(port),
           "TIDINGS_TRANSPORTS__MAIN__PORT": str(smtp_port)}
    proc = subprocess.Popen([sys.executable, "-m", "tidings.core", "serve", "-c", str(config)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10,
                          headers={"Authorization": f"Bearer {API_KEY}"})
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                client.get("/healthz")
                break
            except httpx.TransportError:
                assert proc.poll() is None and time.monotonic() < deadline, "hub did not start"
                time.sleep(0.05)
        client.proc = proc  # type: ignore[attr-defined]
        yield client
    finally:
        client.close()
        if proc.poll() is None:
            proc.terminate()
        proc.wait(timeout=15)


def wait_for(client: httpx.Client, message_id: int, status: str) -> dict[str, Any]:
    deadline = time.monotonic() + 20
    while True:
        found: dict[str, Any] = client.get(f"/api/v1/messages/{message_id}").json()
        if found["status"] == status:
            return found
        assert time.monotonic() < deadline, f"stayed {found['status']}"
        time.sleep(0.05)


def test_killed_mid_send_is_delivered_after_restart(tmp_path: Path) -> None:
    config = tmp_path / "tidings.toml"
    config.write_text(config_text(tmp_path, 25).replace("lease_seconds = 5", "lease_seconds = 2")
                      .replace("timeout = 5", "timeout = 60"))
    with CaptureServer() as stalling, CaptureServer() as healthy:
        stalling.handler.stall = 60
        with hub_process(config, stalling.port) as first:
            accepted = first.post("/api/v1/events", json=event())
            assert accepted.status_code == 202
            [message_id] = accepted.json()["message_ids"]
            assert stalling.handler.stalled.wait(10)
            assert first.get(f"/api/v1/messages/{message_id}").json()["status"] == "sending"
            first.proc.send_signal(signal.SIGKILL)  # type: ignore[attr-defined]
            first.proc.wait(timeout=10)  # type: ignore[attr-defined]
        with hub_process(config, healthy.port) as second:
            record = wait_for(second, message_id, "sent")
        assert [a["outcome"] for a in record["history"]] == ["lease_expired", "sent"]
        assert record["attempts"] == 2
        assert len(healthy.wait_for(1)) == 1
