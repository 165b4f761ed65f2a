"""Serve an ASGI app with uvicorn in its own thread, on an ephemeral loopback port.

Used for the hub under test and for the fakes of outside systems (shops,
providers), so every test talks real HTTP.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import uvicorn


class ThreadedServer:
    def __init__(self, app: Any, *, lifespan: str = "off", **config: Any) -> None:
        self.tls = "ssl_certfile" in config
        self.server = uvicorn.Server(uvicorn.Config(
            app, host="127.0.0.1", port=0, lifespan=lifespan, log_level="warning",
            access_log=False, **config))
        self.thread = threading.Thread(target=lambda: asyncio.run(self.server.serve()),
                                       daemon=True)
        self.url = ""

    def __enter__(self) -> ThreadedServer:
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the server did not start")
            time.sleep(0.01)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        self.url = f"{'https' if self.tls else 'http'}://127.0.0.1:{port}"
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)
