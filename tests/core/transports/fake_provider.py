"""A stand-in provider API on real loopback HTTP: Starlette on uvicorn in a thread.

It records every request as it arrived (:class:`Seen`) and answers through a
handler that speaks the provider's wire format, or with an answer scripted
for the next request (a 429, a 500, a slow reply).
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

Answer = tuple[int, Any, dict[str, str]]


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip()

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> list[tuple[str, str]]:
        """multipart/form-data fields in order (python-multipart is not a dependency)."""
        head = f"Content-Type: {self.headers['content-type']}\r\n\r\n".encode()
        message = BytesParser(policy=HTTP).parsebytes(head + self.body)
        return [(str(part.get_param("name", header="content-disposition")),
                 part.get_payload(decode=True).decode())
                for part in message.iter_parts()]


@dataclass
class FakeProvider:
    handler: Callable[[Seen], Answer] = lambda seen: (404, {"message": "no handler"}, {})
    requests: list[Seen] = field(default_factory=list)
    scripted: deque[tuple[Answer, float]] = field(default_factory=deque)

    def answer_next(self, status: int, body: Any = None, headers: dict[str, str] | None = None,
                    *, delay: float = 0.0) -> None:
        self.scripted.append(((status, body, headers or {}), delay))

    def reset(self, handler: Callable[[Seen], Answer]) -> None:
        self.handler = handler
        self.requests.clear()
        self.scripted.clear()

    async def _endpoint(self, request: Request) -> Response:
        seen = Seen(request.method, request.url.path, dict(request.headers), await request.body())
        if request.url.query:
            seen.path += f"?{request.url.query}"
        self.requests.append(seen)
        if self.scripted:
            (status, body, headers), delay = self.scripted.popleft()
            await asyncio.sleep(delay)
        else:
            status, body, headers = self.handler(seen)
        content = b"" if body is None else json.dumps(body).encode()
        return Response(content, status_code=status, headers=headers,
                        media_type="application/json" if body is not None else None)

    def __enter__(self) -> FakeProvider:
        app = Starlette(routes=[Route("/{path:path}", self._endpoint,
                                      methods=["GET", "POST", "PUT", "DELETE"])])
        self._server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0,
                                                     log_level="warning", access_log=False,
                                                     lifespan="off"))
        self._thread = threading.Thread(target=lambda: asyncio.run(self._server.serve()),
                                        daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the fake provider did not start")
            time.sleep(0.01)
        port = self._server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
