"""`tidings init` + `tidings serve` as a newcomer runs them (what `make run` does)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.smtp_capture import free_port
from tidings.core.events import CATALOGUE


@pytest.fixture
def demo_hub(tmp_path: Path) -> Iterator[tuple[str, str]]:
    config = tmp_path / "tidings.toml"
    subprocess.run([sys.executable, "-m", "tidings.core", "init", str(config)], check=True,
                   capture_output=True)
    key = re.search(r'keys = \["([^"]+)"\]', config.read_text())
    assert key
    http_port, smtp_port = free_port(), free_port()
    env = {**os.environ, "TIDINGS_SERVER__PORT": str(http_port),
           "TIDINGS_INBOX__PORT": str(smtp_port),
           "TIDINGS_TRANSPORTS__MAIN__PORT": str(smtp_port),
           "TIDINGS_STORAGE__PATH": str(tmp_path / "var" / "tidings.db")}
    proc = subprocess.Popen([sys.executable, "-m", "tidings.core", "serve", "-c", str(config)],
                            env=env, cwd=tmp_path, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{http_port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                out = proc.stdout.read().decode() if proc.stdout else ""
                raise AssertionError(f"hub did not start:\n{out}")
            time.sleep(0.1)
        yield url, key.group(1)
    finally:
        proc.terminate()
        proc.wait(timeout=15)
        if proc.stdout:
            proc.stdout.close()


def test_demo_shows_every_event_in_the_inbox(demo_hub: tuple[str, str]) -> None:
    url, key = demo_hub
    expected = len(CATALOGUE) + 3  # and the shipping mail in three more languages
    deadline = time.monotonic() + 60
    while True:
        inbox = httpx.get(f"{url}/inbox/api/messages").json()
        if inbox["total"] >= expected or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert inbox["total"] == expected
    log = httpx.get(f"{url}/api/v1/messages", params={"limit": 100},
                    headers={"Authorization": f"Bearer {key}"}).json()["messages"]
    assert {m["status"] for m in log} == {"sent"}
    assert {m["template"] for m in log} == set(CATALOGUE)
    subjects = {m["subject"] for m in inbox["messages"]}
    assert len(subjects) >= len(CATALOGUE)
    page = httpx.get(f"{url}/inbox", follow_redirects=True)
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]


def test_preview_writes_html_and_text(tmp_path: Path) -> None:
    config = tmp_path / "tidings.toml"
    subprocess.run([sys.executable, "-m", "tidings.core", "init", str(config)], check=True,
                   capture_output=True)
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, "-m", "tidings.core", "preview", "order.placed", "-c", str(config),
         "--locale", "fr", "--out", str(out)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    files = sorted(p.name for p in out.iterdir())
    assert files == ["order.placed.fr.html", "order.placed.fr.txt"]
    assert "subject:" in result.stdout
    text = (out / "order.placed.fr.txt").read_text()
    assert "€" in text


def test_preview_with_own_data_and_bad_data(tmp_path: Path) -> None:
    config = tmp_path / "tidings.toml"
    subprocess.run([sys.executable, "-m", "tidings.core", "init", str(config)], check=True,
                   capture_output=True)
    good = tmp_path / "reset.json"
    good.write_text('{"recipient": {"email": "zoe@example.com", "name": "Zoé", "locale": "de"},'
                    ' "data": {"reset_url": "https://shop.example/reset?key=abc"}}')
    result = subprocess.run(
        [sys.executable, "-m", "tidings.core", "preview", "account.password_reset", "-c",
         str(config), "--data", str(good), "--out", str(tmp_path / "o")],
        capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    text = (tmp_path / "o" / "account.password_reset.de.txt").read_text()
    assert "https://shop.example/reset?key=abc" in text and "Zoé" in text
    bad = tmp_path / "bad.json"
    bad.write_text('{"order": {"number": "1"}}')
    result = subprocess.run(
        [sys.executable, "-m", "tidings.core", "preview", "order.paid", "-c", str(config),
         "--data", str(bad)], capture_output=True, text=True)
    assert result.returncode != 0
    assert "order.currency" in result.stderr and "order.total" in result.stderr
