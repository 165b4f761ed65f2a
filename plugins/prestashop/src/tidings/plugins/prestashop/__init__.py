"""PrestaShop 1.7/8: webservice polling mapped to the catalogue. Hook implementations only."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import click

from tidings.core.hookspecs import hookimpl
from tidings.core.platform import Platform
from tidings.core.polling import start_pollers
from tidings.plugins.prestashop import check
from tidings.plugins.prestashop.config import PrestaShopOptions
from tidings.plugins.prestashop.poll import run_poller

if TYPE_CHECKING:
    from tidings.core.hub import Hub


@hookimpl
def register_platforms(register: Callable[[Platform], None]) -> None:
    register(Platform(name="prestashop", title="PrestaShop", options=PrestaShopOptions))


@hookimpl
def register_commands(cli: click.Group) -> None:
    check.register(cli)


@hookimpl
async def startup(hub: Hub) -> None:
    await start_pollers(hub, "prestashop", PrestaShopOptions, run_poller)
