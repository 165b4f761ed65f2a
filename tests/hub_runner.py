"""Run a real hub (uvicorn, worker, storage) in a background thread for tests.

Tests then talk to it over real HTTP on loopback, exactly as a shop would.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx

from tests.asgi_server import ThreadedServer
from tidings.core.api import create_app
from tidings.core.hub import Hub

API_KEY = "test-key-0123456789abcdef"


def config_text(tmp: Path, smtp_port: int, *, extra: str = "", store: str | None = None,
                delivery: str = "") -> str:
    """A config for tests: one API store delivering to a capture server on ``smtp_port``."""
    store = store if store is not None else """
[stores.shop]
platform = "api"
name = "Test Shop"
from = "Test Shop <shop@shop.example>"
admin_email = "owner@shop.example"
transport = "main"
locale = "en"
"""
    return f"""
[server]
host = "127.0.0.1"
port = 0
max_body_bytes = 65536

[storage]
path = "{tmp / 'tidings.db'}"

[api]
keys = ["{API_KEY}"]

[delivery]
backoff_base = 0.2
backoff_max = 1
poll_interval = 0.05
lease_seconds = 5
{delivery}

[transports.main]
type = "smtp"
host = "127.0.0.1"
port = {smtp_port}
security = "none"
timeout = 5
{store}
{extra}
"""


class RunningHub:
    def __init__(self, config_path: Path) -> None:
        self.hub = Hub.from_config(config_path)
        self._server = ThreadedServer(create_app(self.hub), lifespan="on")

    def __enter__(self) -> RunningHub:
        self.url = self._server.__enter__().url
        self.client = httpx.Client(base_url=self.url, timeout=10,
                                   headers={"Authorization": f"Bearer {API_KEY}"})
        return self

    def __exit__(self, *exc: object) -> None:
        self.client.close()
        self._server.__exit__(*exc)

    def post_event(self, body: dict[str, Any], **kw: Any) -> httpx.Response:
        return self.client.post("/api/v1/events", json=body, **kw)

    def wait_status(self, message_id: int, *states: str, timeout: float = 10) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            found: dict[str, Any] = self.client.get(f"/api/v1/messages/{message_id}").json()
            if found["status"] in states:
                return found
            if time.monotonic() > deadline:
                raise AssertionError(f"message {message_id} stayed {found['status']}: {found}")
            time.sleep(0.02)
