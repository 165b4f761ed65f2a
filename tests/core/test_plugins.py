"""The plugin loader and its contract checks."""

from __future__ import annotations

import asyncio
import inspect
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from tidings.core import hookspecs
from tidings.core.errors import PluginError
from tidings.core.hookspecs import hookimpl
from tidings.core.plugins import call_observers, load_plugins

ROOT = Path(__file__).resolve().parents[2]
DOCS = (ROOT / "docs" / "plugins.md").read_text(encoding="utf-8")


def hook_specs() -> list[Any]:
    return [f for name, f in vars(hookspecs).items()
            if callable(f) and hasattr(f, "tidings_spec")]


def test_hooks_exist() -> None:
    assert len(hook_specs()) >= 9


@pytest.mark.parametrize("spec", hook_specs(), ids=lambda f: f.__name__)
def test_every_hook_is_documented_and_typed(spec: Any) -> None:
    args = ", ".join(inspect.signature(spec).parameters)
    assert f"### {spec.__name__}({args})" in DOCS, f"docs/plugins.md lacks {spec.__name__}"
    assert spec.__doc__ and spec.__doc__.strip(), f"{spec.__name__} has no docstring"
    hints = inspect.get_annotations(spec)
    assert "return" in hints and all(p in hints for p in inspect.signature(spec).parameters)


def test_documented_hooks_all_exist() -> None:
    documented = set(re.findall(r"^### (\w+)\(", DOCS, flags=re.M))
    assert documented == {f.__name__ for f in hook_specs()}


def test_our_plugins_come_through_entry_points() -> None:
    loaded = load_plugins()
    names = {p.name for p in loaded.loaded}
    assert {"smtp", "api", "demo"} <= names
    assert all(p.distribution == "tidings" for p in loaded.loaded)
    assert {"api", "demo"} <= set(loaded.platforms)
    assert "smtp" in loaded.transports


def test_load_plugins_env_limits_loading(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIDINGS_LOAD_PLUGINS", "smtp")
    loaded = load_plugins()
    assert [p.name for p in loaded.loaded] == ["smtp"]
    assert loaded.platforms == {}
    monkeypatch.setenv("TIDINGS_LOAD_PLUGINS", "")
    assert load_plugins().loaded == []


def test_unknown_hook_name_is_refused() -> None:
    class Typo:
        @hookimpl
        def handel_event(self) -> None:
            pass

    with pytest.raises(PluginError, match="handel_event"):
        load_plugins(extra=[("typo", Typo())])


def test_async_first_result_hook_is_refused() -> None:
    class AsyncLocale:
        @hookimpl
        async def resolve_locale(self, store_id: str) -> str:
            return "fr"

    with pytest.raises(PluginError, match="resolve_locale must be a plain function"):
        load_plugins(extra=[("async_locale", AsyncLocale())])


def test_duplicate_platform_is_refused() -> None:
    from tidings.core.platform import Platform
    from tidings.core.platforms.api import ApiOptions

    class Clash:
        @hookimpl
        def register_platforms(self, register: Any) -> None:
            register(Platform("api", "Another API", ApiOptions))

    with pytest.raises(PluginError, match="two plugins register the platform 'api'"):
        load_plugins(extra=[("clash", Clash())])


def test_failing_observer_does_not_stop_the_others(caplog: pytest.LogCaptureFixture) -> None:
    seen: list[str] = []

    class Broken:
        @hookimpl
        async def after_send(self, report: Any) -> None:
            raise RuntimeError("boom")

    class First:
        @hookimpl
        def after_send(self, report: Any) -> None:
            seen.append("sync")

    class Last:
        @hookimpl
        async def after_send(self, report: Any) -> None:
            seen.append("async")

    loaded = load_plugins(extra=[("first", First()), ("broken", Broken()), ("last", Last())])
    asyncio.run(call_observers(loaded.pm.hook.after_send, hub=None, report=SimpleNamespace()))
    assert sorted(seen) == ["async", "sync"]
    assert "plugin 'broken' failed in after_send" in caplog.text


def test_tidings_plugins_command_lists_them() -> None:
    out = subprocess.run([sys.executable, "-m", "tidings.core", "plugins", "--json"],
                         capture_output=True, text=True, check=True).stdout
    import json

    listing = json.loads(out)
    assert {"smtp", "api", "demo"} <= {p["name"] for p in listing["plugins"]}
    assert "smtp" in listing["transports"]
