"""REST polling: the safety net under WooCommerce webhooks, which are never retried.

One poll reads the orders modified since a persisted cursor (minus an overlap
for modifications saved late) and the accounts above a persisted customer id,
and hands each to :mod:`~tidings.plugins.woocommerce.sync`, which mails every
transition once however often an order is seen. A cursor moves only after
every page was handled, so a failure part-way re-reads the same window.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from contextlib import aclosing
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from tidings.core.errors import EventRejected
from tidings.core.polling import poll_forever
from tidings.core.store.base import Accepted
from tidings.plugins.woocommerce.client import WooClient, WooError
from tidings.plugins.woocommerce.config import WooOptions
from tidings.plugins.woocommerce.mapping import parse_gmt
from tidings.plugins.woocommerce.sync import NAMESPACE, baseline, observe_customer, observe_order

if TYPE_CHECKING:
    from tidings.core.hub import Hub

__all__ = ["PollReport", "customer_cursor_key", "orders_cursor_key", "poll_once", "run_poller"]

log = logging.getLogger(__name__)


def orders_cursor_key(store_id: str) -> str:
    return f"{store_id}:orders_cursor"


def customer_cursor_key(store_id: str) -> str:
    return f"{store_id}:customer_id"


@dataclass(frozen=True)
class PollReport:
    """What one poll did; ``accepted`` counts new events (duplicates excluded)."""

    orders_seen: int
    customers_seen: int
    accepted: int
    skipped: int
    orders_cursor: datetime
    customer_id: int


async def poll_once(hub: Hub, store_id: str, options: WooOptions, client: WooClient
                    ) -> PollReport:
    """Read what changed since the cursors, act on it, then move the cursors forward.

    Raises :class:`WooError` when the shop cannot be read; nothing moves then.
    """
    orders_seen, accepted, skipped, cursor = await _poll_orders(hub, store_id, options, client)
    customers_seen, new_accepted, new_skipped, last_id = await _poll_customers(
        hub, store_id, client)
    return PollReport(orders_seen, customers_seen, accepted + new_accepted,
                      skipped + new_skipped, cursor, last_id)


async def _poll_orders(hub: Hub, store_id: str, options: WooOptions, client: WooClient
                       ) -> tuple[int, int, int, datetime]:
    started = datetime.now(UTC)
    stored = await hub.store.get_state(NAMESPACE, orders_cursor_key(store_id))
    cursor = (datetime.fromisoformat(str(stored)) if stored is not None
              else await baseline(hub, store_id))
    newest = cursor
    seen = accepted = skipped = 0
    window = cursor - timedelta(seconds=options.poll_overlap)
    async with aclosing(client.orders_modified_after(window)) as orders:
        async for order in orders:
            seen += 1
            try:
                accepted += _new(await observe_order(hub, store_id, order, source="poll"))
            except EventRejected as exc:  # one unreadable order must not stall the store
                skipped += 1
                log.warning("woocommerce %s: order %s skipped: %s", store_id, order.get("id"),
                            exc)
            modified = parse_gmt(order.get("date_modified_gmt"))
            if modified is not None and modified > newest:
                newest = modified
    # Never past this poll's start: an order changed while we paged may sit on a page
    # already read, and the next window must still include it.
    moved = max(cursor, min(newest, started))
    if moved != cursor or stored is None:
        await hub.store.set_state(NAMESPACE, orders_cursor_key(store_id), moved.isoformat())
    return seen, accepted, skipped, moved


async def _poll_customers(hub: Hub, store_id: str, client: WooClient
                          ) -> tuple[int, int, int, int]:
    stored = await hub.store.get_state(NAMESPACE, customer_cursor_key(store_id))
    if stored is None:  # first run: everyone who exists now is history
        latest = await client.latest_customer_id()
        await hub.store.set_state(NAMESPACE, customer_cursor_key(store_id), latest)
        return 0, 0, 0, latest
    last_id = int(stored)
    customers = await client.customers_after_id(last_id)
    accepted = skipped = 0
    for customer in customers:
        try:
            accepted += _new(await observe_customer(hub, store_id, customer, source="poll"))
        except EventRejected as exc:
            skipped += 1
            log.warning("woocommerce %s: customer %s skipped: %s", store_id,
                        customer.get("id"), exc)
        last_id = max(last_id, int(customer["id"]))
    if customers:
        await hub.store.set_state(NAMESPACE, customer_cursor_key(store_id), last_id)
    return len(customers), accepted, skipped, last_id


def _new(results: Sequence[Accepted]) -> int:
    return sum(1 for r in results if not r.duplicate)


async def run_poller(hub: Hub, store_id: str, options: WooOptions) -> None:
    """Poll every ``poll_interval`` seconds until cancelled; failures back off, never escape."""
    if not options.poll_interval or options.url is None or options.consumer_key is None \
            or options.consumer_secret is None:
        return
    async with WooClient(options.url, options.consumer_key.get_secret_value(),
                         options.consumer_secret.get_secret_value()) as client:

        async def once() -> str | None:
            r = await poll_once(hub, store_id, options, client)
            if not (r.accepted or r.skipped):
                return None
            return (f"poll saw {r.orders_seen} order(s), {r.customers_seen} account(s): "
                    f"{r.accepted} new event(s), {r.skipped} skipped")

        await poll_forever(f"woocommerce {store_id}", options.poll_interval, once, (WooError,))
