"""The config file, as a shop owner meets it through the CLI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tidings.core.config import load_settings
from tidings.core.errors import ConfigError
from tidings.core.plugins import load_plugins


def tidings(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    import os

    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "tidings.core", *args], capture_output=True,
                          text=True, env=full_env, timeout=60)


BROKEN = """
[server]
port = "eighty"

[api]
keys = ["short"]

[transports.main]
type = "smtp"
host = "127.0.0.1"
security = "ssl"
username = "me"

[transports.pigeon]
type = "carrier-pigeon"

[stores.demo]
platform = "woocommerce-typo"
name = "Demo"
from = "not an address"
transport = ["main", "backup"]
locale = "xx_YY"
timezone = "Mars/Olympus"
colour = "red"

[stores.api]
platform = "api"
name = "API"
from = "shop@example.com"

[stores.api.options]
url = "https://example.com"
"""


def test_check_config_reports_every_problem_at_once(tmp_path: Path) -> None:
    path = tmp_path / "tidings.toml"
    path.write_text(BROKEN)
    result = tidings("check-config", "-c", str(path))
    assert result.returncode == 1
    report = result.stderr
    for expected in [
        "server.port: must be a whole number",
        "api.keys: every API key must be at least 16 characters long",
        "stores.demo.from: 'not an address' is not a valid email address",
        "stores.demo.locale: 'xx_YY' is not a locale",
        "stores.demo.timezone: 'Mars/Olympus' is not a time zone",
        "stores.demo.colour: is not a known setting",
        "transports.main.security: Input should be 'none', 'starttls' or 'tls' (got 'ssl')",
        "transports.pigeon.type: no transport plugin provides 'carrier-pigeon'",
        "stores.demo.platform: no plugin provides the platform 'woocommerce-typo'",
    ]:
        assert expected in report, f"missing {expected!r} in:\n{report}"


def test_cross_references_and_plugin_options_are_checked(tmp_path: Path) -> None:
    path = tmp_path / "tidings.toml"
    path.write_text(BROKEN.replace('port = "eighty"', "port = 8080")
                    .replace('keys = ["short"]', 'keys = ["a-long-enough-key-123"]')
                    .replace('from = "not an address"', 'from = "a@example.com"')
                    .replace('locale = "xx_YY"', 'locale = "fr"')
                    .replace('timezone = "Mars/Olympus"', 'timezone = "Europe/Paris"')
                    .replace('colour = "red"', "")
                    .replace('security = "ssl"', 'security = "tls"'))
    plugins = load_plugins()
    with pytest.raises(ConfigError) as info:
        load_settings(path, platforms=plugins.platform_validators(),
                      transports=plugins.transport_validators())
    report = str(info.value)
    for expected in [
        "transports.main: username and password must be given together",
        "transports.pigeon.type: no transport plugin provides 'carrier-pigeon'",
        "stores.demo.transport.1: names the transport 'backup', which is not defined",
        "stores.demo.platform: no plugin provides the platform 'woocommerce-typo'",
        "stores.api.options.url: is not a known setting",
    ]:
        assert expected in report, f"missing {expected!r} in:\n{report}"


def test_toml_syntax_error_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "tidings.toml"
    path.write_text("[server\nport = 1")
    result = tidings("check-config", "-c", str(path))
    assert result.returncode == 1 and "is not valid TOML" in result.stderr


def test_serve_refuses_an_invalid_file_with_the_same_report(tmp_path: Path) -> None:
    path = tmp_path / "tidings.toml"
    path.write_text(BROKEN)
    result = tidings("serve", "-c", str(path))
    assert result.returncode == 1
    assert "stores.demo.from: 'not an address' is not a valid email address" in result.stderr
    assert result.stderr == tidings("check-config", "-c", str(path)).stderr


def test_init_writes_a_valid_commented_example(tmp_path: Path) -> None:
    path = tmp_path / "tidings.toml"
    assert tidings("init", str(path)).returncode == 0
    text = path.read_text()
    assert text.count("#") > 20 and "[stores.demo]" in text
    checked = tidings("check-config", "-c", str(path))
    assert checked.returncode == 0, checked.stderr
    assert tidings("init", str(path)).returncode != 0  # never overwrites silently


def test_environment_overrides_the_file_and_fills_secrets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "tidings.toml"
    tidings("init", str(path))
    text = path.read_text().replace('security = "none"',
                                    'security = "none"\nusername = "me"\npassword = "${SMTP_PW}"')
    path.write_text(text)
    with pytest.raises(ConfigError, match=r"transports\.main\.password: refers to the "
                                          r"environment variable SMTP_PW, which is not set"):
        load_settings(path)
    monkeypatch.setenv("SMTP_PW", "s3cret")
    monkeypatch.setenv("TIDINGS_SERVER__PORT", "9123")
    monkeypatch.setenv("TIDINGS_TRANSPORTS__MAIN__HOST", "mail.example.com")
    settings = load_settings(path)
    assert settings.server.port == 9123
    assert settings.transports["main"].model_dump()["host"] == "mail.example.com"
    assert settings.transports["main"].model_dump()["password"] == "s3cret"
