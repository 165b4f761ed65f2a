"""Adobe Commerce Webhooks into a real hub: RSA signatures, and checkout never blocked."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from tests.hub_runner import RunningHub, config_text
from tests.plugins.magento.fake_magento import make_order
from tests.smtp_capture import CaptureServer

KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PEM = KEY.public_key().public_bytes(serialization.Encoding.PEM,
                                    serialization.PublicFormat.SubjectPublicKeyInfo).decode()
URL = "/webhooks/magento/mage"


def sign(body: bytes, key: rsa.RSAPrivateKey = KEY) -> str:
    """Adobe's signer: RSA-SHA256 over base64(body), the signature itself base64."""
    return base64.b64encode(key.sign(base64.b64encode(body), padding.PKCS1v15(),
                                     hashes.SHA256())).decode()


@pytest.fixture
def hub(tmp_path: Path, smtp: CaptureServer) -> Iterator[RunningHub]:
    store = f'''
[stores.mage]
platform = "magento"
name = "Mage Shop"
from = "shop@shop.example"
admin_email = "owner@shop.example"
transport = "main"

[stores.mage.options]
url = "https://shop.example"
webhook_public_key = """{PEM}"""
locales = {{"2" = "de_DE"}}
'''
    path = tmp_path / "tidings.toml"
    path.write_text(config_text(tmp_path, smtp.port, store=store), encoding="utf-8")
    with RunningHub(path) as running:
        yield running


def envelope(order: dict[str, Any]) -> bytes:
    order = {k: v for k, v in order.items() if k != "entity_id"}  # "before": not saved yet
    return json.dumps({"eventName": "observer.sales_order_place_before",
                       "data": {"order": order}, "subject": []}).encode()


def test_a_signed_order_is_mailed_once_and_answered_success(
        hub: RunningHub, smtp: CaptureServer) -> None:
    body = envelope(make_order(9, created=datetime.now(UTC), store_id=2,
                               email="kunde@example.de"))
    headers = {"x-adobe-commerce-webhook-signature": sign(body)}
    for _ in range(2):  # Commerce retries nothing, but a replay must not mail twice
        answer = hub.client.post(URL, content=body, headers=headers)
        assert (answer.status_code, answer.json()) == (200, {"op": "success"})
    mails = smtp.wait_for(2)
    assert sorted(m.rcpt_tos[0] for m in mails) == ["kunde@example.de", "owner@shop.example"]
    german = next(m for m in mails if m.rcpt_tos == ["kunde@example.de"])
    assert "Bestellung" in str(german.message["Subject"])


def test_bad_or_missing_signatures_are_refused(hub: RunningHub) -> None:
    body = envelope(make_order(9, created=datetime(2024, 1, 1, tzinfo=UTC)))
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    for headers in ({}, {"x-adobe-commerce-webhook-signature": sign(body, other)},
                    {"x-adobe-commerce-webhook-signature": sign(body + b" ")}):
        assert hub.client.post(URL, content=body, headers=headers).status_code == 401


def test_an_order_tidings_refuses_still_lets_checkout_go_on(hub: RunningHub) -> None:
    order = make_order(9, created=datetime(2024, 1, 1, tzinfo=UTC))
    order["customer_email"] = None
    order["billing_address"]["email"] = None
    body = envelope(order)
    answer = hub.client.post(URL, content=body,
                             headers={"x-adobe-commerce-webhook-signature": sign(body)})
    assert (answer.status_code, answer.json()) == (200, {"op": "success"})
