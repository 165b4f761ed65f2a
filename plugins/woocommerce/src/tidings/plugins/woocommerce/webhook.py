"""Receive a WooCommerce webhook delivery: verify, parse, hand on. No business logic.

The signature is WooCommerce's own (``WC_Webhook::generate_signature``):
base64 of HMAC-SHA256 over the exact body bytes, keyed with the secret after
``wp_specialchars_decode`` (which decodes only &amp; &lt; &gt; and quotes).
WooCommerce's creation ping is an unsigned form post ``webhook_id=N`` that
must get exactly 200.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from tidings.core.errors import EventRejected
from tidings.plugins.woocommerce.config import WooOptions
from tidings.plugins.woocommerce.sync import (
    observe_customer,
    observe_invoice,
    observe_note,
    observe_order,
)

if TYPE_CHECKING:
    from tidings.core.hub import Hub

__all__ = ["receive", "sign", "verify"]

_PING = re.compile(rb"^webhook_id=\d+$")
INVOICE = "action.tidings_order_invoice"  # sent by the companion WordPress plugin
HANDLED = ("order.created", "order.updated", "order.deleted", "order.restored",
           "customer.created", "action.woocommerce_new_customer_note", INVOICE)


# wp_specialchars_decode($secret, ENT_QUOTES) decodes exactly these, nothing else.
_WP_ENTITIES = re.compile(r"&(?:amp|#0?38|#x26|lt|#0?60|gt|#0?62|quot|#0?34|#x22|#0?39|#x27);",
                          re.IGNORECASE)
_WP_DECODED = {"amp": "&", "38": "&", "038": "&", "x26": "&", "lt": "<", "60": "<", "060": "<",
               "gt": ">", "62": ">", "062": ">", "quot": '"', "34": '"', "034": '"', "x22": '"',
               "39": "'", "039": "'", "x27": "'"}


def wp_specialchars_decode(value: str) -> str:
    return _WP_ENTITIES.sub(lambda m: _WP_DECODED[m.group(0)[1:-1].lower().lstrip("#")], value)


def sign(body: bytes, secret: str) -> str:
    key = wp_specialchars_decode(secret).encode("utf-8")
    return base64.b64encode(hmac.new(key, body, hashlib.sha256).digest()).decode("ascii")


def verify(body: bytes, signature: str, secret: str) -> bool:
    """Constant-time comparison, so the signature cannot be guessed byte by byte."""
    return hmac.compare_digest(sign(body, secret).encode("ascii"),
                               signature.strip().encode("ascii", "replace"))


def _error(status: int, key: str, detail: str) -> JSONResponse:
    return JSONResponse({"error": key, "detail": detail}, status_code=status)


async def receive(request: Request) -> JSONResponse:
    """``POST /webhooks/woocommerce/{store_id}``."""
    hub: Hub = request.app.state.hub
    store_id = request.path_params["store_id"]
    store = hub.settings.stores.get(store_id)
    if store is None or store.platform != "woocommerce":
        return _error(404, "unknown_store", f"no WooCommerce store {store_id!r} is configured")
    options = hub.options(store_id, WooOptions)
    body = await request.body()
    signature = request.headers.get("x-wc-webhook-signature")
    if signature is None and _PING.match(body.strip()):
        return JSONResponse({"ok": True, "detail": "ping received; Tidings is listening"})
    if options.webhook_secret is None:
        return _error(401, "webhooks_not_configured",
                      f"set stores.{store_id}.options.webhook_secret to accept webhooks")
    if not signature:
        return _error(401, "missing_signature", "the X-WC-Webhook-Signature header is missing")
    if not verify(body, signature, options.webhook_secret.get_secret_value()):
        return _error(401, "invalid_signature",
                      "the signature does not match; check the webhook's secret")
    topic = request.headers.get("x-wc-webhook-topic", "")
    if not topic:
        return _error(400, "missing_topic", "the X-WC-Webhook-Topic header is missing")
    try:
        payload = json.loads(body)
    except ValueError as exc:
        return _error(400, "malformed_json", f"the body is not valid JSON: {exc}")
    if not isinstance(payload, dict):
        return _error(422, "invalid_payload", "the body must be a JSON object")
    if topic not in HANDLED:
        return JSONResponse({"ok": True, "topic": topic, "events": [],
                             "detail": "topic not used by Tidings"})
    try:
        accepted = await _dispatch(hub, store_id, topic, payload)
    except EventRejected as exc:
        return _error(exc.status, exc.key, exc.detail)
    return JSONResponse({"ok": True, "topic": topic, "events": [
        {"event_id": a.event_id, "message_ids": a.message_ids, "duplicate": a.duplicate}
        for a in accepted]})


async def _dispatch(hub: Hub, store_id: str, topic: str, payload: Mapping[str, Any]) -> list[Any]:
    if topic in ("order.created", "order.updated", "order.restored"):
        return await observe_order(hub, store_id, payload, source="webhook",
                                   created=topic == "order.created")
    if topic == "order.deleted":
        return []  # WooCommerce mails nobody when an order is trashed
    if topic == "customer.created":
        return await observe_customer(hub, store_id, payload, source="webhook")
    arg = payload.get("arg")
    if topic == INVOICE:
        request_id = payload.get("request_id")
        if not isinstance(arg, Mapping) or not isinstance(request_id, str) or not request_id:
            raise EventRejected("invalid_payload",
                                "an invoice request needs arg (the order) and request_id")
        return await observe_invoice(hub, store_id, arg, request_id=request_id[:100],
                                     source="webhook")
    if not isinstance(arg, Mapping) or arg.get("order_id") is None or not arg.get("customer_note"):
        raise EventRejected("invalid_payload",
                            "a customer-note action needs arg.order_id and arg.customer_note")
    return await observe_note(hub, store_id, str(arg["order_id"]), str(arg["customer_note"]),
                              source="webhook")
