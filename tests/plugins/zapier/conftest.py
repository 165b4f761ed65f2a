from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.asgi_server import ThreadedServer
from tests.hub_runner import RunningHub, config_text
from tests.smtp_capture import CaptureServer
from tidings.plugins.zapier.routes import SERVICE

TOKEN = "zap-token-0123456789abcdef"
CATCH = "/zapier/catch/zap"


def zapier_store(extra_options: str = "", store_id: str = "zap") -> str:
    return f"""
[stores.{store_id}]
platform = "zapier"
name = "Zap Shop"
from = "Zap Shop <shop@shop.example>"
admin_email = "owner@shop.example"
transport = "main"
locale = "en"

[stores.{store_id}.options]
token = "{TOKEN}"
retry_base = 0.05
retry_max = 0.2
{extra_options}
"""


def write_config(tmp_path: Path, smtp: CaptureServer, store: str) -> Path:
    path = tmp_path / "tidings.toml"
    path.write_text(config_text(tmp_path, smtp.port, store=store), encoding="utf-8")
    return path


@pytest.fixture
def zap_hub(tmp_path: Path, smtp: CaptureServer) -> Iterator[RunningHub]:
    with RunningHub(write_config(tmp_path, smtp, zapier_store())) as running:
        yield running


def wait_until(check: Callable[[], bool], what: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def drained(hub: RunningHub) -> None:
    """Wait until the hub has no trigger delivery pending (delivered, dropped or unsubscribed)."""
    wait_until(lambda: not hub.hub.services[SERVICE].pending(), "the Zapier outbox to drain")


@dataclass
class Hit:
    path: str
    body: dict[str, Any]
    headers: dict[str, str]


@dataclass
class Receiver:
    """A stand-in for Zapier's hook URLs: records each POST, answers from a script."""

    answers: dict[str, list[int]] = field(default_factory=dict)  # per hook: first answers
    hits: list[Hit] = field(default_factory=list)
    lock: threading.Condition = field(default_factory=threading.Condition)
    url: str = ""

    async def _hook(self, request: Request) -> JSONResponse:
        body = json.loads(await request.body())
        with self.lock:
            self.hits.append(Hit(request.url.path, body, dict(request.headers)))
            script = self.answers.get(request.path_params["name"], [])
            status = script.pop(0) if script else 200
            self.lock.notify_all()
        return JSONResponse({"status": "success" if status == 200 else "nope"},
                            status_code=status)

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/hooks/catch/{name}", self._hook, methods=["POST"])])

    def target(self, name: str) -> str:
        return f"{self.url}/hooks/catch/{name}"

    def at(self, name: str) -> list[Hit]:
        with self.lock:
            return [h for h in self.hits if h.path == f"/hooks/catch/{name}"]

    def wait_for(self, name: str, count: int, timeout: float = 10) -> list[Hit]:
        deadline = time.monotonic() + timeout
        with self.lock:
            while len(self.at(name)) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"expected {count} POST(s) to {name}, "
                                         f"got {len(self.at(name))}")
                self.lock.wait(left)
            return self.at(name)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    recv = Receiver()
    with ThreadedServer(recv.app()) as server:
        recv.url = server.url
        yield recv


ORDER_FIELDS = {
    "type": "order.placed",
    "email": "ana@example.com",
    "name": "Ana García",
    "locale": "en",
    "order.number": "1001",
    "order.currency": "EUR",
    "order.total": "59.90",
    "order.items.0.name": "Linen shirt",
    "order.items.0.price": "49.90",
    "order.items.0.quantity": "1",
    "order.items.1.name": "Socks",
    "order.items.1.price": "10.00",
}


def order_event(number: str = "1001", store: str = "zap") -> dict[str, Any]:
    return {"store": store, "type": "order.placed",
            "recipient": {"email": "ana@example.com", "name": "Ana"},
            "data": {"order": {"number": number, "currency": "EUR", "total": "10.00",
                               "items": [{"name": "Socks", "price": "10.00"}]}}}
