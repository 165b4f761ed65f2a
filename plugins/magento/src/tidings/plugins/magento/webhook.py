"""Receive an Adobe Commerce Webhooks call: verify, parse, hand on. No business logic.

The module calls us *synchronously* inside checkout (platforms.md §2.3), so
once the caller is authenticated the answer is always HTTP 200
``{"op": "success"}``: an event Tidings refuses (no e-mail, a broken order)
is logged, never turned into an error that would block the customer's
order. Only a missing or wrong signature is refused (401): that caller is
not the shop, and the house rule is that every webhook is authenticated.

The signature (``x-adobe-commerce-webhook-signature``, base64) is RSA-SHA256
with the shop's key pair over the **base64 encoding of the body**, as in
Adobe's own verification code, checked with the configured PEM public key.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from starlette.requests import Request
from starlette.responses import JSONResponse

from tidings.core.errors import EventRejected
from tidings.plugins.magento.config import MagentoOptions
from tidings.plugins.magento.sync import observe_order

if TYPE_CHECKING:
    from tidings.core.hub import Hub

__all__ = ["HANDLED", "SIGNATURE_HEADER", "load_public_key", "receive", "verify"]

log = logging.getLogger(__name__)
SIGNATURE_HEADER = "x-adobe-commerce-webhook-signature"
HANDLED = ("sales_order_place_after", "sales_order_place_before")
SUCCESS = {"op": "success"}


def load_public_key(pem: str) -> rsa.RSAPublicKey:
    """The configured key; ``ValueError`` when it is not an RSA public key in PEM."""
    key = serialization.load_pem_public_key(pem.strip().encode())
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("the webhook public key is not an RSA key")
    return key


def verify(body: bytes, signature: str, public_key: rsa.RSAPublicKey) -> bool:
    try:
        raw = base64.b64decode(signature.strip(), validate=True)
        public_key.verify(raw, base64.b64encode(body), padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True


def _error(status: int, key: str, detail: str) -> JSONResponse:
    return JSONResponse({"error": key, "detail": detail}, status_code=status)


async def receive(request: Request) -> JSONResponse:
    """``POST /webhooks/magento/{store_id}``."""
    hub: Hub = request.app.state.hub
    store_id = request.path_params["store_id"]
    store = hub.settings.stores.get(store_id)
    if store is None or store.platform != "magento":
        return _error(404, "unknown_store", f"no Magento store {store_id!r} is configured")
    options = hub.options(store_id, MagentoOptions)
    if options.webhook_public_key is None:
        return _error(401, "webhooks_not_configured",
                      f"set stores.{store_id}.options.webhook_public_key to accept webhooks")
    body = await request.body()
    signature = request.headers.get(SIGNATURE_HEADER)
    if not signature:
        return _error(401, "missing_signature", f"the {SIGNATURE_HEADER} header is missing; "
                      "enable signing under Stores › Configuration › Adobe Services › Webhooks")
    try:
        key = load_public_key(options.webhook_public_key)
    except ValueError as exc:
        log.error("magento %s: webhook_public_key is unusable: %s", store_id, exc)
        return _error(401, "bad_public_key", "the configured webhook_public_key is unusable")
    if not verify(body, signature, key):
        return _error(401, "invalid_signature",
                      "the signature does not match the configured webhook_public_key")
    try:
        payload = json.loads(body)
        event = str(payload.get("eventName") or "").removeprefix("observer.")
        order = payload.get("data", {}).get("order")
    except (ValueError, AttributeError) as exc:
        log.warning("magento %s: unreadable webhook body ignored: %s", store_id, exc)
        return JSONResponse(SUCCESS)
    if event not in HANDLED or not isinstance(order, dict):
        log.info("magento %s: webhook %r carries no order Tidings uses", store_id, event)
        return JSONResponse(SUCCESS)
    order.setdefault("state", "new")  # a trimmed payload (webhooks.xml ``fields``) may lack it
    try:
        await observe_order(hub, store_id, order, source="webhook", placed=True)
    except EventRejected as exc:  # never block checkout over a mail
        log.warning("magento %s: webhook order %s not mailed: %s", store_id,
                    order.get("increment_id"), exc.detail)
    return JSONResponse(SUCCESS)
