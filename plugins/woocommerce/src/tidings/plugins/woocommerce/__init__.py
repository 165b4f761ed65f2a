"""WooCommerce: webhooks and REST polling mapped to the catalogue. Hook implementations only."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import click
from starlette.routing import BaseRoute, Route

from tidings.core.hookspecs import hookimpl
from tidings.core.platform import Platform
from tidings.core.polling import start_pollers
from tidings.plugins.woocommerce import check
from tidings.plugins.woocommerce.config import WooOptions
from tidings.plugins.woocommerce.poll import run_poller
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
    await start_pollers(hub, "woocommerce", WooOptions, run_poller)
