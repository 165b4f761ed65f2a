"""``POST /zapier/catch/<store>``: what a "Webhooks by Zapier" action sends. No business logic.

Zapier does not sign requests, so the Zap carries the store's ``token`` as an
``X-Tidings-Token`` header or a ``?token=`` query parameter, compared in
constant time. The body is form-encoded or JSON (the action's "Payload Type");
:func:`tidings.plugins.zapier.mapping.map_catch` turns its fields into an event.
"""

from __future__ import annotations

import hmac
import json
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse

from tidings.core.errors import EventRejected
from tidings.plugins.zapier.config import ZapierOptions
from tidings.plugins.zapier.mapping import InvalidCatch, flatten, map_catch

if TYPE_CHECKING:
    from tidings.core.hub import Hub

__all__ = ["catch", "read_fields", "token_matches"]


def _error(status: int, key: str, detail: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": key, "detail": detail, **extra}, status_code=status)


def token_matches(presented: str, expected: str) -> bool:
    return hmac.compare_digest(presented.strip().encode(), expected.encode())


class _BadBody(ValueError):
    def __init__(self, status: int, key: str, detail: str) -> None:
        self.status, self.key, self.detail = status, key, detail
        super().__init__(detail)


def read_fields(content_type: str, body: bytes) -> list[tuple[str, Any]]:
    """The body's fields as (dotted name, value) pairs, from JSON or a form."""
    kind = content_type.split(";")[0].strip().lower()
    text = body.decode("utf-8", errors="replace")
    if kind == "application/json" or kind.endswith("+json") or (
            not kind and text.lstrip().startswith("{")):
        try:
            document = json.loads(text) if text.strip() else {}
        except ValueError as exc:
            raise _BadBody(400, "malformed_json", f"the body is not valid JSON: {exc}") from exc
        if not isinstance(document, dict):
            raise _BadBody(422, "invalid_payload", "the JSON body must be an object of fields")
        return flatten(document)
    if kind in ("", "application/x-www-form-urlencoded", "text/plain"):
        return parse_qsl(text, keep_blank_values=True)
    raise _BadBody(415, "unsupported_payload",
                   f"cannot read {kind!r}; set the Zapier action's Payload Type to Form or JSON")


async def catch(request: Request) -> JSONResponse:
    hub: Hub = request.app.state.hub
    store_id = request.path_params["store_id"]
    store = hub.settings.stores.get(store_id)
    if store is None or store.platform != "zapier":
        return _error(404, "unknown_store", f"no Zapier store {store_id!r} is configured")
    presented = request.headers.get("x-tidings-token") or request.query_params.get("token")
    if not presented:
        return _error(401, "missing_token", "send the store's token as an X-Tidings-Token "
                      "header or a ?token= query parameter")
    token = ZapierOptions.model_validate(store.options).token.get_secret_value()
    if not token_matches(presented, token):
        return _error(401, "invalid_token",
                      f"the token does not match stores.{store_id}.options.token")
    try:
        fields = read_fields(request.headers.get("content-type", ""), await request.body())
        event = map_catch(fields)
    except _BadBody as exc:
        return _error(exc.status, exc.key, exc.detail)
    except InvalidCatch as exc:
        return _error(422, "invalid_fields", str(exc), problems=[
            {"path": p.path, "reason": p.reason} for p in exc.problems])
    try:
        result = await hub.accept(store_id, event.type, event.recipient, event.data,
                                  idempotency_key=event.idempotency_key, source="zapier")
    except EventRejected as exc:
        return _error(exc.status, exc.key, exc.detail)
    return JSONResponse({"ok": True, "event_id": result.event_id,
                         "message_ids": result.message_ids, "duplicate": result.duplicate},
                        status_code=200 if result.duplicate else 202)
