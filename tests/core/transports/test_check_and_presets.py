"""`tidings transports check` and the SMTP presets, as an owner uses them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from tests.hub_runner import config_text
from tests.smtp_capture import CaptureServer, free_port
from tidings.core.transports.smtp import SmtpOptions


def check(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tidings.core", "transports", "check", "-c",
                           str(config), *args], capture_output=True, text=True, timeout=60)


def test_check_reports_each_transport(tmp_path: Path, smtp: CaptureServer) -> None:
    extra = f"""
[transports.down]
type = "smtp"
host = "127.0.0.1"
port = {free_port()}
security = "none"
timeout = 2
"""
    config = tmp_path / "tidings.toml"
    config.write_text(config_text(tmp_path, smtp.port, extra=extra))
    result = check(config)
    assert result.returncode == 1
    assert f"ok   main (smtp): connected to 127.0.0.1:{smtp.port}" in result.stdout
    assert "FAIL down (smtp): SMTP connection problem" in result.stdout
    assert check(config, "--transport", "main").returncode == 0
    assert check(config, "--transport", "nope").returncode == 2


@pytest.mark.parametrize(("options", "host", "port", "username"), [
    ({"preset": "sendgrid", "password": "SG.key"}, "smtp.sendgrid.net", 587, "apikey"),
    ({"preset": "postmark", "password": "token"}, "smtp.postmarkapp.com", 587, "token"),
    ({"preset": "ses", "region": "eu-west-1", "username": "AKIA", "password": "x"},
     "email-smtp.eu-west-1.amazonaws.com", 587, "AKIA"),
    ({"preset": "mailgun", "region": "eu", "username": "postmaster@mg.example.com",
      "password": "x"}, "smtp.eu.mailgun.org", 587, "postmaster@mg.example.com"),
    ({"preset": "sparkpost", "password": "k"}, "smtp.sparkpostmail.com", 587, "SMTP_Injection"),
    ({"preset": "sendgrid", "password": "k", "port": 2525}, "smtp.sendgrid.net", 2525, "apikey"),
])
def test_presets_fill_what_the_provider_documents(options: dict[str, object], host: str,
                                                  port: int, username: str) -> None:
    o = SmtpOptions.model_validate(options)
    assert (o.host, o.effective_port, o.security, o.username) == (host, port, "starttls",
                                                                  username)


def test_unknown_preset_and_missing_host_are_explained() -> None:
    with pytest.raises(ValidationError, match="'sendgrid'"):
        SmtpOptions.model_validate({"preset": "carrier-pigeon"})
    with pytest.raises(ValidationError, match="give host"):
        SmtpOptions.model_validate({"username": "a", "password": "b"})
