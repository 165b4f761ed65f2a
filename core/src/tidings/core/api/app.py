"""The ASGI app factory.

FastAPI over Starlette: the request models we already have become the
OpenAPI document at ``/docs`` for free, while webhook routes from plugins stay
plain Starlette routes that read the raw body their signatures are made over.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.routing import BaseRoute, Mount

from tidings.core.api.limits import BodySizeLimit
from tidings.core.api.routes import router
from tidings.core.config import describe_errors
from tidings.core.errors import EventRejected
from tidings.core.hub import Hub

__all__ = ["create_app"]


def create_app(hub: Hub, *, manage_hub: bool = True) -> FastAPI:
    """Build the app; with ``manage_hub`` its lifespan starts and stops the hub."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if manage_hub:
            await hub.start()
        try:
            yield
        finally:
            if manage_hub:
                await hub.stop()

    app = FastAPI(title="Tidings", version="0.1.0", lifespan=lifespan,
                  description="Transactional email for online shops.")
    app.state.hub = hub
    app.include_router(router)
    extra: list[BaseRoute] = []
    hub.plugins.pm.hook.register_routes(register=extra.append, hub=hub)
    app.router.routes.extend(extra)
    if hub.inbox is not None:
        app.router.routes.append(Mount("/inbox", routes=hub.inbox.routes()))
    app.add_exception_handler(EventRejected, _rejected)
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_middleware(BodySizeLimit, max_bytes=hub.settings.server.max_body_bytes)
    return app


async def _rejected(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, EventRejected)
    return JSONResponse({"error": exc.key, "detail": exc.detail}, status_code=exc.status)


async def _invalid(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors: list[Any] = list(exc.errors())
    broken = [e for e in errors if e.get("type") == "json_invalid"]
    if broken:
        ctx = broken[0].get("ctx", {})
        return JSONResponse({"error": "malformed_json",
                             "detail": f"the body is not valid JSON: {ctx.get('error', '')}"},
                            status_code=400)
    problems = [{"path": p.path.removeprefix("body.").removeprefix("body"), "reason": p.reason}
                for p in describe_errors(errors)]
    summary = "; ".join(f"{p['path']}: {p['reason']}" for p in problems)
    return JSONResponse({"error": "invalid_request", "detail": summary, "problems": problems},
                        status_code=422)


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    body = exc.detail if isinstance(exc.detail, dict) else {"error": "http_error",
                                                           "detail": exc.detail}
    return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)
