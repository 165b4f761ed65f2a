"""Polling the webservice: the only way to learn about a PrestaShop shop's changes.

Status changes come from ``/api/order_histories`` in **date windows**:
``date=1&filter[date_add]=[since,9999-12-31 23:59:59]`` (BETWEEN, inclusive),
where ``since`` is the newest ``date_add`` already handled minus
``poll_overlap``. Dates are compared in the shop's own clock and never with
ours, so clock skew and time zones cannot lose a change; the overlap catches
rows saved late (a transaction committing after a later one), which an id
cursor would skip for good. Rows seen again in the overlap are skipped by
history id (remembered for the overlap's length), and the hub's idempotency
key ``ps:history:<id>`` is the last guard. Credit slips and customers are read
by id cursor (``filter[id]=[last+1,…]``): nothing there is worth a window.

Every cursor moves only after its whole read was handled, so a failure part
way re-reads the same rows next time (and mails nothing twice). The first
run only records where the shop is, so nothing old is mailed.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from tidings.core.errors import EventRejected
from tidings.core.polling import poll_forever
from tidings.core.store.base import Accepted
from tidings.plugins.prestashop.client import PsClient, PsError
from tidings.plugins.prestashop.config import PrestaShopOptions
from tidings.plugins.prestashop.sync import NAMESPACE, Session

if TYPE_CHECKING:
    from tidings.core.hub import Hub

__all__ = ["PollReport", "poll_once", "run_poller", "state_key"]

log = logging.getLogger(__name__)
FLOOR = "1970-01-01 00:00:00"  # the window's start while the shop has no status change at all


def state_key(store_id: str) -> str:
    return f"{store_id}:cursors"


@dataclass(frozen=True)
class PollReport:
    """What one poll did; ``accepted`` counts new events (duplicates excluded)."""

    histories_seen: int
    slips_seen: int
    customers_seen: int
    accepted: int
    skipped: int
    first_run: bool


def _minus(moment: str, seconds: float) -> str:
    return (datetime.fromisoformat(moment) - timedelta(seconds=seconds)).strftime(
        "%Y-%m-%d %H:%M:%S")


async def _first_run(hub: Hub, store_id: str, options: PrestaShopOptions, client: PsClient
                     ) -> dict[str, Any]:
    """Where the shop is now: everything up to here is history, never mailed."""
    latest = await client.latest_history()
    since = str(latest.get("date_add") or "") if latest else ""
    seen: dict[str, str] = {}
    if since:
        for row in await client.histories_since(_minus(since, options.poll_overlap)):
            seen[str(row["id"])] = str(row.get("date_add") or since)
            since = max(since, str(row.get("date_add") or ""))
    cursors = {"since": since, "baseline": since, "seen": seen,
               "slip_id": await client.latest_id("order_slips"),
               "customer_id": await client.latest_id("customers")}
    await hub.store.set_state(NAMESPACE, state_key(store_id), cursors)
    return cursors


async def poll_once(hub: Hub, store_id: str, options: PrestaShopOptions, client: PsClient
                    ) -> PollReport:
    """Read what changed since the cursors, act on it, then move the cursors.

    Raises :class:`PsError` when the shop cannot be read; the failed part's cursor stays.
    """
    cursors: dict[str, Any] | None = await hub.store.get_state(NAMESPACE, state_key(store_id))
    if cursors is None:
        await _first_run(hub, store_id, options, client)
        return PollReport(0, 0, 0, 0, 0, first_run=True)
    session = Session(hub, store_id, hub.store_config(store_id), client, options.url,
                      baseline=str(cursors.get("baseline") or ""))
    await session.load_tables()
    accepted = skipped = 0

    # Slips before statuses: a "Refunded" status set with a slip is told by the slip's amount.
    slips = await client.slips_after(int(cursors["slip_id"]))
    for slip in slips:
        accepted, skipped = _count(await _guard(session.observe_slip, slip, "slip"),
                                   accepted, skipped)
        cursors["slip_id"] = max(int(cursors["slip_id"]), int(slip["id"]))
    if slips:
        await hub.store.set_state(NAMESPACE, state_key(store_id), cursors)

    since = str(cursors.get("since") or "")
    seen: dict[str, str] = dict(cursors.get("seen") or {})
    rows = await client.histories_since(_minus(since, options.poll_overlap) if since else FLOOR)
    fresh = [r for r in rows if str(r.get("id")) not in seen]
    newest = since
    for row in fresh:
        accepted, skipped = _count(await _guard(session.observe_history, row, "order_history"),
                                   accepted, skipped)
        seen[str(row["id"])] = str(row.get("date_add") or "")
        newest = max(newest, str(row.get("date_add") or ""))
    if fresh:
        floor = _minus(newest, options.poll_overlap) if newest else FLOOR
        cursors["seen"] = {k: v for k, v in seen.items() if v >= floor}
        cursors["since"] = newest
        await hub.store.set_state(NAMESPACE, state_key(store_id), cursors)

    customers = await client.customers_after(int(cursors["customer_id"]))
    for customer in customers:
        accepted, skipped = _count(await _guard(session.observe_customer, customer, "customer"),
                                   accepted, skipped)
        cursors["customer_id"] = max(int(cursors["customer_id"]), int(customer["id"]))
    if customers:
        await hub.store.set_state(NAMESPACE, state_key(store_id), cursors)
    return PollReport(len(fresh), len(slips), len(customers), accepted, skipped,
                      first_run=False)


async def _guard(observe: Any, row: dict[str, Any], kind: str) -> Sequence[Accepted] | None:
    """One unusable row is logged and skipped; it must not stall the store."""
    try:
        result: Sequence[Accepted] = await observe(row)
    except EventRejected as exc:
        log.warning("prestashop: %s %s skipped: %s", kind, row.get("id"), exc)
        return None
    return result


def _count(results: Sequence[Accepted] | None, accepted: int, skipped: int) -> tuple[int, int]:
    if results is None:
        return accepted, skipped + 1
    return accepted + sum(1 for r in results if not r.duplicate), skipped


async def run_poller(hub: Hub, store_id: str, options: PrestaShopOptions) -> None:
    """Poll every ``poll_interval`` seconds until cancelled; failures back off, never escape."""
    if not options.poll_interval:
        return
    async with PsClient(options.url, options.api_key.get_secret_value()) as client:

        async def once() -> str | None:
            r = await poll_once(hub, store_id, options, client)
            if not (r.accepted or r.skipped):
                return None
            return (f"poll saw {r.histories_seen} status change(s), {r.slips_seen} credit "
                    f"slip(s), {r.customers_seen} account(s): {r.accepted} new event(s), "
                    f"{r.skipped} skipped")

        await poll_forever(f"prestashop {store_id}", options.poll_interval, once, (PsError,))
