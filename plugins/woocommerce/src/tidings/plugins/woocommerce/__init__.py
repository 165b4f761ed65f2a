"""WooCommerce: webhooks and REST polling mapped to the catalogue. Hook implementations only."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import click
from starlette.routing import BaseRoute, Route

from tidings.core.hookspecs import hookimpl
from tidings.core.platform import Platform
from tidings.plugins.woocommerce import check
from tidings.plugins.woocommerce.config import WooOptions
from tidings.plugins.woocommerce.poll import run_poller
from tidings.plugins.woocommerce.sync import baseline
from tidings.plugins.woocommerce.webhook import receive

if TYPE_CHECKING:
    from tidings.core.hub import Hub


@hookimpl
def register_platforms(register: Callable[[Platform], None]) -> None:
    register(Platform(name="woocommerce", title="WooCommerce", options=WooOptions))


@hookimpl
def register_routes(register: Callable[[BaseRoute], None], hub: Hub) -> None:
    register(Route("/webhooks/woocommerce/{store_id}", receive, methods=["POST"]))


@hookimpl
def register_commands(cli: click.Group) -> None:
    check.register(cli)


@hookimpl
async def startup(hub: Hub) -> None:
    for store_id, store in hub.settings.stores.items():
        if store.platform != "woocommerce":
            continue
        await baseline(hub, store_id)  # from now on, unseen orders are new orders
        options = WooOptions.model_validate(store.options)
        if options.poll_interval:
            hub.spawn(run_poller(hub, store_id, options), name=f"woocommerce-poll:{store_id}")
