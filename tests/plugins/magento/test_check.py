"""``tidings magento check`` against the fake shop: what the owner is told, in plain words."""

from __future__ import annotations

from pathlib import Path

import click
from click.testing import CliRunner

from tests.plugins.magento.conftest import CREDS, magento_store
from tests.plugins.magento.fake_magento import ACL, FakeMagento, Integration
from tests.smtp_capture import free_port
from tidings.plugins.magento.check import register


def run(tmp_path: Path, store: str) -> tuple[int, str]:
    path = tmp_path / "tidings.toml"
    path.write_text(f"""
[storage]
path = "{tmp_path / 'tidings.db'}"

[transports.main]
type = "smtp"
host = "127.0.0.1"
port = {free_port()}
{store}
""", encoding="utf-8")
    cli = click.Group()
    register(cli)
    result = CliRunner().invoke(cli, ["magento", "check", "--store", "mage",
                                      "--config", str(path)])
    return result.exit_code, " ".join(result.output.split())


def test_all_fine(tmp_path: Path, fake: FakeMagento) -> None:
    code, out = run(tmp_path, magento_store(fake.url, poll_interval=60))
    assert code == 0, out
    assert "Can read orders (0) with OAuth 1.0a (HMAC-SHA256)" in out and "All fine." in out


def test_wrong_secret_is_explained(tmp_path: Path, fake: FakeMagento) -> None:
    wrong = Integration(CREDS.consumer_key, "nope", CREDS.access_token, CREDS.access_token_secret)
    code, out = run(tmp_path, magento_store(fake.url, poll_interval=60, creds=wrong))
    assert code == 1
    assert "rejected the OAuth signature" in out
    assert "The signature is invalid. Verify and try again." in out
    assert "cannot work until the problems above are fixed" in out


def test_a_missing_permission_names_what_to_tick(tmp_path: Path, fake: FakeMagento) -> None:
    fake.integrations[CREDS.consumer_key].resources.discard(ACL["creditmemos"])
    code, out = run(tmp_path, magento_store(fake.url, poll_interval=60))
    assert code == 1
    assert "Can read invoices" in out and "Can read customers" in out
    assert "Cannot read credit memos" in out
    assert "'Sales › Operations › Credit Memos', Magento_Sales::sales_creditmemo" in out
    assert "Reauthorize" in out


def test_a_refused_bearer_token_mentions_2_4_4(tmp_path: Path, fake: FakeMagento) -> None:
    store = magento_store(fake.url, poll_interval=60)
    store = "\n".join(line for line in store.splitlines()
                      if not line.startswith(("consumer_", "access_token")))
    code, out = run(tmp_path, store + '\nbearer_token = "integration-token"\n')
    assert code == 1
    assert "since Magento 2.4.4" in out and "standalone Bearer tokens" in out
