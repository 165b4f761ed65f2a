from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.hub_runner import config_text
from tests.plugins.magento.fake_magento import FakeMagento, Integration
from tests.smtp_capture import CaptureServer
from tidings.core.hub import Hub
from tidings.plugins.magento.client import MagentoClient
from tidings.plugins.magento.config import MagentoOptions
from tidings.plugins.magento.poll import client_for

STORE = "mage"
CREDS = Integration("ck" + "a" * 30, "cs" + "b" * 30, "at" + "c" * 30, "as" + "d" * 30)
LOCALES = '{"1" = "en_US", "2" = "de_DE", "3" = "fr_FR"}'


def magento_store(url: str, *, poll_interval: float = 0, extra: str = "",
                  creds: Integration = CREDS) -> str:
    return f"""
[stores.{STORE}]
platform = "magento"
name = "Mage Shop"
from = "Mage Shop <shop@shop.example>"
admin_email = "owner@shop.example"
transport = "main"
locale = "en"

[stores.{STORE}.options]
url = "{url}"
consumer_key = "{creds.consumer_key}"
consumer_secret = "{creds.consumer_secret}"
access_token = "{creds.access_token}"
access_token_secret = "{creds.access_token_secret}"
poll_interval = {poll_interval}
locales = {LOCALES}
{extra}
"""


@pytest.fixture
def fake() -> Iterator[FakeMagento]:
    with FakeMagento() as shop:
        shop.add_integration(Integration(CREDS.consumer_key, CREDS.consumer_secret,
                                         CREDS.access_token, CREDS.access_token_secret))
        yield shop


@pytest.fixture
def options(fake: FakeMagento) -> MagentoOptions:
    return MagentoOptions.model_validate({
        "url": fake.url, "consumer_key": CREDS.consumer_key,
        "consumer_secret": CREDS.consumer_secret, "access_token": CREDS.access_token,
        "access_token_secret": CREDS.access_token_secret, "poll_interval": 60,
        "poll_overlap": 300, "page_size": 10,
        "locales": {1: "en_US", 2: "de_DE", 3: "fr_FR"}})


@pytest.fixture
async def client(options: MagentoOptions) -> AsyncIterator[MagentoClient]:
    async with client_for(options) as mage:
        yield mage


@pytest.fixture
async def hub(tmp_path: Path, smtp: CaptureServer, fake: FakeMagento) -> AsyncIterator[Hub]:
    """An in-process hub; poll_interval 0 in the file, the tests drive poll_once."""
    path = tmp_path / "tidings.toml"
    path.write_text(config_text(tmp_path, smtp.port, store=magento_store(
        fake.url, extra='webhook_public_key = "unused"')), encoding="utf-8")
    running = Hub.from_config(path)
    await running.start()
    try:
        yield running
    finally:
        await running.stop()
