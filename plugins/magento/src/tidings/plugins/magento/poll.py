"""REST polling: how Tidings learns about a Magento shop's orders, payments, parcels,
refunds and accounts.

Each resource has its own persisted cursor (a UTC time): orders by
``updated_at`` (a cancellation changes the order), invoices, shipments,
credit memos and customers by ``created_at`` (each is a new row). A poll reads
``field >= cursor - overlap`` ascending, hands each row to
:mod:`~tidings.plugins.magento.sync` (which mails each fact once, however
often a row is seen), and moves a cursor only after all its pages were read,
so a failure part-way re-reads the same window next time.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from tidings.core.errors import EventRejected
from tidings.core.polling import poll_forever
from tidings.core.store.base import Accepted
from tidings.plugins.magento.client import MagentoClient, MagentoError, OAuthCredentials
from tidings.plugins.magento.config import MagentoOptions
from tidings.plugins.magento.mapping import magento_datetime, parse_utc
from tidings.plugins.magento.sync import (
    NAMESPACE,
    baseline,
    observe_creditmemo,
    observe_customer,
    observe_invoice,
    observe_order,
    observe_shipment,
)

if TYPE_CHECKING:
    from tidings.core.hub import Hub

__all__ = ["RESOURCES", "PollReport", "client_for", "cursor_key", "poll_once", "run_poller"]

log = logging.getLogger(__name__)

# resource name → (path, date field, tie-break key); orders first, so their rows are at hand
RESOURCES: dict[str, tuple[str, str, str]] = {
    "orders": ("/orders", "updated_at", "entity_id"),
    "invoices": ("/invoices", "created_at", "entity_id"),
    "shipments": ("/shipments", "created_at", "entity_id"),
    "creditmemos": ("/creditmemos", "created_at", "entity_id"),
    "customers": ("/customers/search", "created_at", "id"),
}
_CHILD = {"invoices": observe_invoice, "shipments": observe_shipment,
          "creditmemos": observe_creditmemo}


def cursor_key(store_id: str, resource: str) -> str:
    return f"{store_id}:cursor:{resource}"


def client_for(options: MagentoOptions, **kw: Any) -> MagentoClient:
    """The REST client the options describe (OAuth 1.0a, else Bearer)."""
    oauth = None
    if options.oauth:
        assert options.consumer_key and options.consumer_secret
        assert options.access_token and options.access_token_secret
        oauth = OAuthCredentials(options.consumer_key.get_secret_value(),
                                 options.consumer_secret.get_secret_value(),
                                 options.access_token.get_secret_value(),
                                 options.access_token_secret.get_secret_value())
    bearer = options.bearer_token.get_secret_value() if options.bearer_token else None
    return MagentoClient(options.url, store_code=options.store_code, oauth=oauth,
                         bearer_token=bearer, page_size=options.page_size, **kw)


@dataclass
class PollReport:
    """What one poll did; ``accepted`` counts new events (duplicates excluded)."""

    seen: dict[str, int] = field(default_factory=dict)
    accepted: int = 0
    skipped: int = 0
    cursors: dict[str, datetime] = field(default_factory=dict)


async def poll_once(hub: Hub, store_id: str, options: MagentoOptions, client: MagentoClient
                    ) -> PollReport:
    """Read what changed since the cursors, act on it, then move each cursor forward.

    Raises :class:`MagentoError` when the shop cannot be read; the cursors of
    the resources not finished do not move then.
    """
    report = PollReport()
    orders: dict[int, dict[str, Any]] = {}

    async def order_of(row: Mapping[str, Any]) -> dict[str, Any]:
        order_id = int(row["order_id"])
        if order_id not in orders:
            orders[order_id] = await client.order(order_id)
        return orders[order_id]

    for resource, (path, date_field, key) in RESOURCES.items():
        async def handle(row: dict[str, Any], resource: str = resource) -> list[Accepted]:
            if resource == "orders":
                if row.get("entity_id") is not None:
                    orders[int(row["entity_id"])] = row
                return await observe_order(hub, store_id, row, source="poll")
            if resource == "customers":
                return await observe_customer(hub, store_id, row, source="poll")
            if row.get("order_id") is None:
                raise EventRejected("invalid_payload", f"{resource} row without order_id")
            return await _CHILD[resource](hub, store_id, row, await order_of(row), source="poll")

        await _poll_resource(hub, store_id, options, client, resource, path, date_field, key,
                             handle, report)
    return report


async def _poll_resource(
    hub: Hub, store_id: str, options: MagentoOptions, client: MagentoClient, resource: str,
    path: str, date_field: str, key: str,
    handle: Callable[[dict[str, Any]], Awaitable[list[Accepted]]], report: PollReport,
) -> None:
    started = datetime.now(UTC).replace(microsecond=0)
    stored = await hub.store.get_state(NAMESPACE, cursor_key(store_id, resource))
    cursor = (datetime.fromisoformat(str(stored)) if stored is not None
              else await baseline(hub, store_id))
    newest = cursor
    window = cursor - timedelta(seconds=options.poll_overlap)
    seen = 0
    async with aclosing(client.since(path, date_field, magento_datetime(window),
                                     key=key)) as rows:
        async for row in rows:
            seen += 1
            try:
                report.accepted += _new(await handle(row))
            except EventRejected as exc:  # one unreadable row must not stall the store
                report.skipped += 1
                log.warning("magento %s: %s %s skipped: %s", store_id, resource,
                            row.get(key), exc)
            moment = parse_utc(row.get(date_field))
            if moment is not None and moment > newest:
                newest = moment
    # Never past this poll's start: a row saved while we paged may sit on a page already read.
    moved = max(cursor, min(newest, started))
    if moved != cursor or stored is None:
        await hub.store.set_state(NAMESPACE, cursor_key(store_id, resource), moved.isoformat())
    report.seen[resource] = seen
    report.cursors[resource] = moved


def _new(results: Sequence[Accepted]) -> int:
    return sum(1 for r in results if not r.duplicate)


async def run_poller(hub: Hub, store_id: str, options: MagentoOptions) -> None:
    """Poll every ``poll_interval`` seconds until cancelled; failures back off, never escape."""
    if not options.poll_interval or not options.can_read:
        return
    async with client_for(options) as client:

        async def once() -> str | None:
            r = await poll_once(hub, store_id, options, client)
            if not (r.accepted or r.skipped):
                return None
            return f"poll saw {r.seen}: {r.accepted} new event(s), {r.skipped} skipped"

        await poll_forever(f"magento {store_id}", options.poll_interval, once, (MagentoError,))
