from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.hub_runner import RunningHub, config_text
from tests.smtp_capture import CaptureServer


@pytest.fixture(autouse=True)
def _only_our_plugins(monkeypatch: pytest.MonkeyPatch) -> None:
    # Tests see exactly the plugins this repository ships, whatever else is installed.
    monkeypatch.delenv("TIDINGS_LOAD_PLUGINS", raising=False)
    for name in list(os.environ):
        if name.startswith("TIDINGS_"):
            monkeypatch.delenv(name)


@pytest.fixture
def smtp() -> Iterator[CaptureServer]:
    with CaptureServer() as server:
        yield server


@pytest.fixture
def config_path(tmp_path: Path, smtp: CaptureServer) -> Path:
    path = tmp_path / "tidings.toml"
    path.write_text(config_text(tmp_path, smtp.port), encoding="utf-8")
    return path


@pytest.fixture
def hub(config_path: Path) -> Iterator[RunningHub]:
    with RunningHub(config_path) as running:
        yield running
