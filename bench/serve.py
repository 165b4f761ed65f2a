"""Start a server for the webhook benchmark, with the uvicorn settings of ``tidings serve``.

usage: serve.py hub CONFIG [--pause-worker]   the real hub (create_app), as ``tidings serve``
       serve.py nowrite CONFIG                the reference: the same hub app on a store
                                              that writes nothing (bench/nowrite.py)
       serve.py bare PORT                     the floor: a tiny Starlette app

The reference runs everything the hub runs for a delivery (routes, middleware,
signature check, mapping, validation, planning) except storage, so the ratio
is the cost of durable storage. The floor answers the same path after doing
only what any webhook receiver must (read the body, check the HMAC signature,
parse the JSON), without touching a database: no Tidings code at all.

``--pause-worker`` replaces the hub's delivery loop by a no-op (in this process
only; core is untouched), so the figure is ingest alone; without it the worker
delivers the accepted mails to the configured SMTP server at the same time.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import sys
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import WEBHOOK_SECRET
from nowrite import PAST, NoWriteStore


def bare_app() -> Starlette:
    key = WEBHOOK_SECRET.encode()

    async def receive(request: Request) -> JSONResponse:
        body = await request.body()
        sig = request.headers.get("x-wc-webhook-signature", "")
        good = base64.b64encode(hmac.new(key, body, hashlib.sha256).digest())
        if not hmac.compare_digest(good, sig.encode()):
            return JSONResponse({"error": "invalid_signature"}, status_code=401)
        payload = json.loads(body)
        return JSONResponse({"ok": True, "topic": request.headers.get("x-wc-webhook-topic"),
                             "id": payload.get("id")})

    return Starlette(routes=[Route("/webhooks/woocommerce/{store_id}", receive,
                                   methods=["POST"])])


def serve(app: object, host: str, port: int) -> None:
    # The same uvicorn.Config as `tidings serve` (core/src/tidings/core/cli.py), except the
    # log level: both servers log nothing per request (access_log=False) either way.
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, lifespan="on",  # type: ignore[arg-type]
                                           access_log=False, log_level="warning"))
    server.run()


def main() -> None:
    kind = sys.argv[1]
    if kind == "bare":
        serve(bare_app(), "127.0.0.1", int(sys.argv[2]))
        return
    from tidings.core.api import create_app
    from tidings.core.hub import Hub

    hub = Hub.from_config(Path(sys.argv[2]))
    if kind == "nowrite":
        seed = {("woocommerce", f"{store_id}:baseline"): PAST
                for store_id, store in hub.settings.stores.items()
                if store.platform == "woocommerce"}
        hub = Hub(hub.settings, hub.plugins, store=NoWriteStore(seed))
    if "--pause-worker" in sys.argv:
        async def idle() -> None:  # the worker's stop signal is a flag, not an event
            while not hub.worker._stopping:  # noqa: ASYNC110
                await asyncio.sleep(0.2)

        hub.worker.run = idle  # type: ignore[method-assign]
    serve(create_app(hub), hub.settings.server.host, hub.settings.server.port)


if __name__ == "__main__":
    main()
