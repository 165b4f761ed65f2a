"""``tidings woocommerce check`` against a fake shop: what the owner is told, in plain words."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from tests.plugins.woocommerce.fake_woo import FakeWoo, make_webhook
from tests.smtp_capture import free_port
from tidings.core.config import Settings
from tidings.core.hub import Hub
from tidings.plugins.woocommerce.check import (
    TOPICS,
    CheckLine,
    Level,
    check_store,
    delivery_url,
    register,
)
from tidings.plugins.woocommerce.client import WooClient
from tidings.plugins.woocommerce.config import WooOptions

KEY, SECRET = "ck_check", "cs_check"
HUB = "https://hub.example"
EXPECTED = f"{HUB}/webhooks/woocommerce/woo"


@pytest.fixture
def fake() -> Iterator[FakeWoo]:
    with FakeWoo() as shop:
        shop.add_key(KEY, SECRET)
        yield shop


def config(tmp_path: Path, url: str, *, key: str = KEY, secret: str = SECRET,
           webhook_secret: bool = True, poll: float = 300, public_url: bool = True) -> Path:
    options = [f'url = "{url}"', f'consumer_key = "{key}"', f'consumer_secret = "{secret}"',
               f"poll_interval = {poll}"]
    if webhook_secret:
        options.append('webhook_secret = "whsec"')
    path = tmp_path / "tidings.toml"
    path.write_text(f"""
[server]
port = 8123
{f'public_url = "{HUB}"' if public_url else ""}

[storage]
path = "{tmp_path / 'tidings.db'}"

[transports.main]
type = "smtp"
host = "127.0.0.1"
port = {free_port()}

[stores.woo]
platform = "woocommerce"
name = "Woo Shop"
from = "shop@shop.example"

[stores.woo.options]
{chr(10).join(options)}
""", encoding="utf-8")
    return path


def all_webhooks(fake: FakeWoo, url: str = EXPECTED) -> None:
    for i, topic in enumerate(TOPICS, start=1):
        fake.put_webhook(make_webhook(i, topic, url))


async def run_check(path: Path) -> list[CheckLine]:
    settings: Settings = Hub.from_config(path).settings
    options = WooOptions.model_validate(settings.stores["woo"].options)
    assert options.url and options.consumer_key and options.consumer_secret
    async with WooClient(options.url, options.consumer_key.get_secret_value(),
                         options.consumer_secret.get_secret_value()) as client:
        return await check_store(settings, "woo", options, client)


def levels(lines: list[CheckLine]) -> list[Level]:
    return [line.level for line in lines]


def text(lines: list[CheckLine], level: Level) -> str:
    return "\n".join(line.text for line in lines if line.level is level)


async def test_a_complete_setup_is_all_ok(fake: FakeWoo, tmp_path: Path) -> None:
    all_webhooks(fake)
    lines = await run_check(config(tmp_path, fake.url))
    assert set(levels(lines)) == {Level.OK}, lines
    said = text(lines, Level.OK)
    assert "REST keys work" in said and "OAuth 1.0a" in said
    assert f"deliver to {EXPECTED}: {', '.join(TOPICS)}" in said
    assert "Polling every 300 s" in said


def test_delivery_url_without_public_url_is_host_and_port(tmp_path: Path) -> None:
    settings = Hub.from_config(config(tmp_path, "https://shop.example",
                                      public_url=False)).settings
    assert delivery_url(settings, "woo") == "http://127.0.0.1:8123/webhooks/woocommerce/woo"


@pytest.mark.parametrize(("key", "secret", "said", "woo_said"), [
    (KEY, "cs_wrong", "consumer_secret does not belong to this consumer_key",
     "Invalid signature - provided signature does not match."),
    ("ck_wrong", SECRET, "does not know this consumer_key", "Consumer key is invalid."),
])
async def test_wrong_keys_are_named_plainly(fake: FakeWoo, tmp_path: Path, key: str,
                                            secret: str, said: str, woo_said: str) -> None:
    all_webhooks(fake)
    lines = await run_check(config(tmp_path, fake.url, key=key, secret=secret))
    failed = text(lines, Level.FAIL)
    assert said in failed and woo_said in failed
    assert "webhooks could not be checked" in failed


async def test_write_only_key_and_unprivileged_user(fake: FakeWoo, tmp_path: Path) -> None:
    fake.add_key("ck_w", "cs_w", permissions="write")
    lines = await run_check(config(tmp_path, fake.url, key="ck_w", secret="cs_w"))
    assert "set Permissions to Read" in text(lines, Level.FAIL)
    fake.add_key("ck_s", "cs_s", can_view=False)
    lines = await run_check(config(tmp_path, fake.url, key="ck_s", secret="cs_s"))
    assert "Administrator or Shop manager" in text(lines, Level.FAIL)


async def test_disabled_paused_and_missing_webhooks(fake: FakeWoo, tmp_path: Path) -> None:
    fake.put_webhook(make_webhook(1, "order.created", EXPECTED, status="disabled"))
    fake.put_webhook(make_webhook(2, "order.updated", EXPECTED, status="paused"))
    fake.put_webhook(make_webhook(3, "customer.created", EXPECTED))
    fake.put_webhook(make_webhook(4, "order.deleted", "https://old.example/webhooks/woocommerce/woo"))
    lines = await run_check(config(tmp_path, fake.url, poll=0))
    failed, warned = text(lines, Level.FAIL), text(lines, Level.WARN)
    assert "Webhook #1 'Tidings order.created' (order.created) is disabled" in failed
    assert "more than 5 failed deliveries" in failed and "set Status to Active" in failed
    assert "(order.updated) is paused" in failed
    assert "No webhook sends order.deleted, order.restored to the hub." in failed
    assert "Topic 'Order deleted', 'Order restored';" in failed
    assert f"Delivery URL {EXPECTED}" in failed
    assert "turn on polling" in failed
    assert "delivers to https://old.example/webhooks/woocommerce/woo, not to" in warned
    assert "Recommended: notes to customers" in warned
    assert "Polling is off" in warned
    assert "customer.created" in text(lines, Level.OK)


async def test_polling_turns_missing_topics_into_advice(fake: FakeWoo, tmp_path: Path) -> None:
    fake.put_webhook(make_webhook(1, "order.created", EXPECTED))
    lines = await run_check(config(tmp_path, fake.url, poll=120))
    assert Level.FAIL not in levels(lines)
    assert "Polling catches these changes within 120 s" in text(lines, Level.WARN)


async def test_webhooks_without_a_secret_are_refused(fake: FakeWoo, tmp_path: Path) -> None:
    all_webhooks(fake)
    lines = await run_check(config(tmp_path, fake.url, webhook_secret=False))
    assert "has no webhook_secret, so the hub refuses them" in text(lines, Level.FAIL)


async def test_an_unreachable_shop(tmp_path: Path) -> None:
    lines = await run_check(config(tmp_path, f"http://127.0.0.1:{free_port()}"))
    assert "could not be reached" in text(lines, Level.FAIL)
    assert "Polling every 300 s is configured but cannot work" in text(lines, Level.FAIL)


async def test_no_keys_cannot_be_checked(tmp_path: Path) -> None:
    settings = Hub.from_config(config(tmp_path, "https://shop.example")).settings
    options = WooOptions(webhook_secret="whsec")  # type: ignore[arg-type]
    lines = await check_store(settings, "woo", options, None)
    assert "No url and consumer_key" in text(lines, Level.FAIL)


# -- the command -----------------------------------------------------------------------------


def _wired() -> bool:
    done = subprocess.run([sys.executable, "-m", "tidings.core", "--help"], capture_output=True,
                          text=True, check=False)
    return "woocommerce" in done.stdout


def test_command_exit_codes_through_the_real_cli(fake: FakeWoo, tmp_path: Path) -> None:
    if not _wired():
        pytest.skip("the plugin's register_commands does not call check.register yet")
    all_webhooks(fake)
    good = config(tmp_path, fake.url)
    done = subprocess.run([sys.executable, "-m", "tidings.core", "woocommerce", "check",
                           "--store", "woo", "-c", str(good)], capture_output=True, text=True,
                          check=False, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.rstrip().endswith("All fine.")
    fake.webhooks[2]["status"] = "disabled"
    done = subprocess.run([sys.executable, "-m", "tidings.core", "woocommerce", "check",
                           "--store", "woo", "-c", str(good)], capture_output=True, text=True,
                          check=False, timeout=60)
    assert done.returncode == 1
    said = " ".join(done.stdout.split())
    assert "FAIL Webhook #2" in said and "(order.updated) is disabled" in said


def test_command_output_and_exit_codes(fake: FakeWoo, tmp_path: Path) -> None:
    @click.group()
    def cli() -> None:
        pass

    register(cli)
    runner = CliRunner()
    all_webhooks(fake)
    path = config(tmp_path, fake.url)
    good = runner.invoke(cli, ["woocommerce", "check", "--store", "woo", "-c", str(path)])
    assert good.exit_code == 0, good.output
    assert good.output.startswith(f"WooCommerce store 'woo' ({fake.url}):\n  ok    ")
    assert max(len(line) for line in good.output.splitlines()) <= 100
    assert good.output.rstrip().endswith("All fine.")

    bad = runner.invoke(cli, ["woocommerce", "check", "--store", "woo", "-c",
                              str(config(tmp_path, fake.url, secret="cs_nope"))])
    assert bad.exit_code == 1
    assert "FAIL  The consumer_secret does not belong" in bad.output
    assert "problem(s) to fix" in bad.output

    unknown = runner.invoke(cli, ["woocommerce", "check", "--store", "nope", "-c", str(path)])
    assert unknown.exit_code == 1
    assert "no WooCommerce store 'nope'" in unknown.output
