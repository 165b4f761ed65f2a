"""PrestaShop 1.7/8: webservice polling mapped to the catalogue. Hook implementations only."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import click

from tidings.core.hookspecs import hookimpl
from tidings.core.platform import Platform
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
    for store_id, store in hub.settings.stores.items():
        if store.platform != "prestashop":
            continue
        options = PrestaShopOptions.model_validate(store.options)
        if options.poll_interval:
            hub.spawn(run_poller(hub, store_id, options), name=f"prestashop-poll:{store_id}")
