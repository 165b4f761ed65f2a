"""The shell of ``tidings <platform> check``; a platform plugin supplies only its checks.

Every platform's check reads the config, finds the store, runs the plugin's
checks and prints plain-language lines the same way, so owners learn one
output and plugins write only what is specific to their shop.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from pydantic import BaseModel

from tidings.core.errors import ConfigError, PluginError

if TYPE_CHECKING:
    from tidings.core.hub import Hub

__all__ = ["CheckLine", "Level", "register_check"]


class Level(StrEnum):
    OK = "ok"
    WARN = "warn"  # works, but could lose or delay mail; advice
    FAIL = "FAIL"  # mail will not flow as configured


@dataclass(frozen=True)
class CheckLine:
    level: Level
    text: str


StoreChecks = Callable[["Hub", str, Any], Awaitable[list[CheckLine]]]
"""``(hub, store_id, options) -> lines``: the plugin's own checks for one store."""


def register_check(cli: click.Group, *, platform: str, title: str, options: type[BaseModel],
                   describe: Callable[[str, Any], str], checks: StoreChecks,
                   summary: str) -> None:
    """Add ``tidings <platform> check --store S`` (exit 1 when anything FAILs)."""
    from tidings.core.cli import config_option

    @cli.group(platform, help=f"{title} stores.")
    def group() -> None:
        pass

    @group.command("check", help=summary)
    @click.option("--store", "store_id", required=True, help="The store id in the config.")
    @config_option
    def check(store_id: str, config_path: Path) -> None:
        lines = asyncio.run(_run(config_path, store_id))
        for line in lines:
            click.echo(click.wrap_text(line.text, width=100, preserve_paragraphs=False,
                                       initial_indent=f"  {line.level.value:<5} ",
                                       subsequent_indent=" " * 8))
        failed = sum(line.level is Level.FAIL for line in lines)
        advice = sum(line.level is Level.WARN for line in lines)
        if failed:
            click.echo(f"{failed} problem(s) to fix"
                       + (f", {advice} suggestion(s)." if advice else "."))
            sys.exit(1)
        click.echo("All fine." + (f" {advice} suggestion(s) above." if advice else ""))

    async def _run(config_path: Path, store_id: str) -> list[CheckLine]:
        from tidings.core.hub import Hub

        try:
            hub = Hub.from_config(config_path)
        except (ConfigError, PluginError) as exc:
            raise click.ClickException(str(exc)) from exc
        store = hub.settings.stores.get(store_id)
        if store is None or store.platform != platform:
            known = ", ".join(sid for sid, s in hub.settings.stores.items()
                              if s.platform == platform) or "none"
            raise click.ClickException(f"no {title} store {store_id!r} in {config_path} "
                                       f"({title} stores: {known})")
        parsed = options.model_validate(store.options)
        click.echo(describe(store_id, parsed))
        return await checks(hub, store_id, parsed)
