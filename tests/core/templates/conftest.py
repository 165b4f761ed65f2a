"""Shared fixtures: a realistic store and a fresh renderer per test."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tidings.core.config import StoreConfig
from tidings.core.templates import Renderer

StoreFactory = Callable[..., StoreConfig]


@pytest.fixture
def make_store() -> StoreFactory:
    """Build a validated StoreConfig, with keyword overrides."""

    def make(**overrides: Any) -> StoreConfig:
        fields: dict[str, Any] = {
            "platform": "demo",
            "name": "Northwind Supply",
            "from": "Northwind Supply <shop@example.com>",
            "reply_to": "help@example.com",
            "admin_email": "orders@example.com",
            "locale": "en",
            "timezone": "Europe/Berlin",
            "url": "https://shop.example.com",
            "branding": {"address": "Kastanienallee 1\n10435 Berlin"},
        }
        fields.update(overrides)
        return StoreConfig.model_validate(fields)

    return make


@pytest.fixture
def store(make_store: StoreFactory) -> StoreConfig:
    return make_store()


@pytest.fixture
def renderer() -> Renderer:
    return Renderer()


@pytest.fixture
def templates_dir(tmp_path: Path) -> Path:
    path = tmp_path / "templates"
    (path / "partials").mkdir(parents=True)
    return path
