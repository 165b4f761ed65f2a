from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.hub_runner import RunningHub, config_text
from tests.smtp_capture import CaptureServer

FIXTURES = Path(__file__).parent / "fixtures"
# WooCommerce decodes HTML entities in the secret before signing (wp_specialchars_decode).
SECRET_AS_CONFIGURED = "s3cr&amp;et-Ünïcode"
SECRET_AS_SIGNED = "s3cr&et-Ünïcode"


def wc_sign(body: bytes, secret: str) -> str:
    """WooCommerce's WC_Webhook::generate_signature, given the already-decoded secret."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return copy.deepcopy(data)


def woo_store(extra_options: str = "") -> str:
    return f"""
[stores.woo]
platform = "woocommerce"
name = "Woo Shop"
from = "Woo Shop <shop@shop.example>"
admin_email = "owner@shop.example"
transport = "main"
locale = "en"

[stores.woo.options]
url = "https://shop.example"
webhook_secret = "{SECRET_AS_CONFIGURED}"
{extra_options}
"""


@pytest.fixture
def woo_hub(tmp_path: Path, smtp: CaptureServer) -> Iterator[RunningHub]:
    path = tmp_path / "tidings.toml"
    path.write_text(config_text(tmp_path, smtp.port, store=woo_store()), encoding="utf-8")
    with RunningHub(path) as running:
        yield running
