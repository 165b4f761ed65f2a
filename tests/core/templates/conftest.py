"""Shared fixtures: a realistic store and a fresh renderer per test."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tidings.core.config import Branding, MailAddress, StoreConfig
from tidings.core.templates import Renderer

StoreFactory = Callable[..., StoreConfig]


@pytest.fixture
def make_store() -> StoreFactory:
    """Build a StoreConfig; built with model_construct so these tests need no config parsing."""

    def make(**overrides: Any) -> StoreConfig:
        fields: dict[str, Any] = {
            "platform": "demo",
            "name": "Northwind Supply",
            "from_": MailAddress(email="shop@example.com", name="Northwind Supply"),
            "reply_to": MailAddress(email="help@example.com"),
            "admin_email": MailAddress(email="orders@example.com"),
            "transport": "main",
            "locale": "en",
            "timezone": "Europe/Berlin",
            "url": "https://shop.example.com",
            "templates_dir": None,
            "branding": Branding(address="Kastanienallee 1\n10435 Berlin"),
            "options": {},
        }
        fields.update(overrides)
        return StoreConfig.model_construct(**fields)

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
