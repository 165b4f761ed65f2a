"""``tidings prestashop check`` against the fake webservice: what the owner is told."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from tests.hub_runner import config_text
from tests.plugins.prestashop.fake_ps import KEY, FakePrestaShop
from tests.plugins.prestashop.test_poll import store_text
from tests.smtp_capture import free_port
from tidings.plugins.prestashop.check import register


@pytest.fixture
def fake() -> Iterator[FakePrestaShop]:
    with FakePrestaShop() as shop:
        yield shop


def run(tmp_path: Path, url: str, key: str = KEY) -> tuple[int, str]:
    path = tmp_path / "tidings.toml"
    path.write_text(config_text(tmp_path, free_port(),
                                store=store_text(url, poll=60).replace(KEY, key)),
                    encoding="utf-8")
    cli = click.Group()
    register(cli)
    result = CliRunner().invoke(cli, ["prestashop", "check", "--store", "ps",
                                      "--config", str(path)])
    return result.exit_code, " ".join(result.output.split())


def test_all_fine(tmp_path: Path, fake: FakePrestaShop) -> None:
    code, out = run(tmp_path, fake.url)
    assert code == 0, out
    assert "may read everything polling needs" in out and "All fine." in out


def test_missing_permissions_are_named(tmp_path: Path, fake: FakePrestaShop) -> None:
    fake.keys[KEY] -= {"order_slips", "languages", "addresses"}
    code, out = run(tmp_path, fake.url)
    assert code == 1
    assert "may not read (GET) 2 resource(s)" in out
    assert "languages — each customer's language" in out and "order_slips" in out
    assert "may not read addresses" in out  # a warning only


def test_wrong_key(tmp_path: Path, fake: FakePrestaShop) -> None:
    code, out = run(tmp_path, fake.url, key="Z" * 32)
    assert code == 1
    assert "refused the webservice key (HTTP 401)" in out
    assert "Invalid authentication key" in out and "Advanced Parameters → Webservice" in out


def test_webservice_off(tmp_path: Path, fake: FakePrestaShop) -> None:
    fake.enabled = False
    code, out = run(tmp_path, fake.url)
    assert code == 1 and "turned off (HTTP 503)" in out and "Enable PrestaShop" in out


def test_a_short_key_is_refused_by_the_config(tmp_path: Path, fake: FakePrestaShop) -> None:
    code, out = run(tmp_path, fake.url, key="short")
    assert code != 0 and "32" in out
