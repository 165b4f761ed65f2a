"""Build the plugin manager: entry points, ``TIDINGS_LOAD_PLUGINS``, contract checks.

Our own plugins (the SMTP transport, the ``api`` and ``demo`` platforms, the
shop platforms) are found through the ``tidings`` entry-point group exactly
as a third-party one would be. ``TIDINGS_LOAD_PLUGINS`` limits loading to a
comma-separated list of entry-point names (empty means none).
"""

from __future__ import annotations

import inspect
import logging
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from types import ModuleType
from typing import Any

import pluggy
from pydantic import ValidationError

from tidings.core import hookspecs
from tidings.core.config import OptionValidator, describe_errors
from tidings.core.errors import ConfigProblem, PluginError
from tidings.core.platform import Platform
from tidings.core.transports.base import TransportType

__all__ = ["LoadedPlugin", "Plugins", "call_observers", "load_plugins"]

log = logging.getLogger(__name__)
ENTRY_POINT_GROUP = "tidings"
LOAD_ENV = "TIDINGS_LOAD_PLUGINS"
_SYNC_ONLY = ("resolve_locale", "template_context", "before_send")


@dataclass(frozen=True)
class LoadedPlugin:
    name: str
    module: str
    distribution: str | None
    version: str | None
    hooks: tuple[str, ...]


@dataclass
class Plugins:
    """The manager plus the registries its registration hooks filled."""

    pm: pluggy.PluginManager
    loaded: list[LoadedPlugin]
    platforms: dict[str, Platform] = field(default_factory=dict)
    transports: dict[str, TransportType] = field(default_factory=dict)

    def platform_validators(self) -> dict[str, OptionValidator]:
        return {name: _options_validator(p) for name, p in self.platforms.items()}

    def transport_validators(self) -> dict[str, OptionValidator]:
        return {name: t.validate for name, t in self.transports.items()}


def _options_validator(platform: Platform) -> OptionValidator:
    def check(path: str, raw: Mapping[str, Any]) -> list[ConfigProblem]:
        try:
            platform.options.model_validate(raw)
        except ValidationError as exc:
            return describe_errors(exc, prefix=path.split("."))
        return []

    return check


def _selected(eps: Iterable[EntryPoint]) -> list[EntryPoint]:
    wanted = os.environ.get(LOAD_ENV)
    if wanted is None:
        return list(eps)
    names = {n.strip() for n in wanted.split(",") if n.strip()}
    return [ep for ep in eps if ep.name in names]


def load_plugins(extra: Iterable[tuple[str, object]] = ()) -> Plugins:
    """Load entry-point plugins (and ``extra`` ones, for tests and embedding), then check them."""
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    loaded: list[LoadedPlugin] = []
    for ep in _selected(entry_points(group=ENTRY_POINT_GROUP)):
        try:
            module = ep.load()
        except Exception as exc:
            raise PluginError(f"plugin {ep.name!r} ({ep.value}) failed to import: {exc}") from exc
        _register(pm, module, ep.name)
        dist = ep.dist
        loaded.append(LoadedPlugin(ep.name, ep.value, dist.name if dist else None,
                                   dist.version if dist else None, _hooks_of(pm, module)))
    for name, plugin in extra:
        _register(pm, plugin, name)
        module_name = plugin.__name__ if isinstance(plugin, ModuleType) else type(plugin).__name__
        loaded.append(LoadedPlugin(name, module_name, None, None, _hooks_of(pm, plugin)))
    _check(pm)
    plugins = Plugins(pm, loaded)
    pm.hook.register_platforms(register=_registrar(plugins.platforms, "platform"))
    pm.hook.register_transports(register=_registrar(plugins.transports, "transport"))
    return plugins


def _register(pm: pluggy.PluginManager, plugin: object, name: str) -> None:
    try:
        pm.register(plugin, name=name)
    except (pluggy.PluginValidationError, ValueError) as exc:
        raise PluginError(f"plugin {name!r} was refused: {exc}") from exc


def _hooks_of(pm: pluggy.PluginManager, plugin: object) -> tuple[str, ...]:
    callers = pm.get_hookcallers(plugin) or []
    return tuple(sorted(c.name for c in callers))


def _check(pm: pluggy.PluginManager) -> None:
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        raise PluginError(f"plugin {pm.get_name(exc.plugin)!r}: {exc}") from exc
    for hook_name in _SYNC_ONLY:
        for impl in getattr(pm.hook, hook_name).get_hookimpls():
            if inspect.iscoroutinefunction(impl.function):
                raise PluginError(
                    f"plugin {impl.plugin_name!r} implements {hook_name} as 'async def'; "
                    f"{hook_name} must be a plain function")


def _registrar(registry: dict[str, Any], kind: str) -> Callable[[Any], None]:
    def register(item: Platform | TransportType) -> None:
        if item.name in registry:
            raise PluginError(f"two plugins register the {kind} {item.name!r}")
        registry[item.name] = item

    return register


async def call_observers(hook: pluggy.HookCaller, **kwargs: Any) -> None:
    """Call every implementation of an observer hook on its own, awaiting async ones.

    One plugin's failure is logged with its name and never reaches the others
    or the caller; pluggy alone would stop the whole broadcast at the first error.
    """
    for impl in reversed(hook.get_hookimpls()):
        try:
            result = impl.function(*(kwargs[arg] for arg in impl.argnames))
            if inspect.isawaitable(result):
                await result
        except Exception:
            log.exception("plugin %r failed in %s", impl.plugin_name, hook.name)
