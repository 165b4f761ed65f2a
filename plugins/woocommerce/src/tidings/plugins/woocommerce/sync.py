"""Turn what WooCommerce says about an order into catalogue events, each exactly once.

WooCommerce has no "paid" or "shipped" topic: every change arrives as
``order.updated``, deliveries are coalesced and rebuilt at send time, may
arrive out of order, and polling sees the same orders again. So the plugin
keeps, per order, the last status and modification time it acted on, and
decides transitions against that (platforms.md §1.1–1.2). Idempotency keys
name the transition (order, status, how many times it entered that status),
not the delivery, so a webhook and a poll racing on the same change still
collapse into one mail in the store's unique key.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from tidings.core import polling
from tidings.core.errors import EventRejected
from tidings.core.events import EventData, Order, Recipient, Refund
from tidings.core.hub import Incoming
from tidings.core.store.base import Accepted, StateWrite
from tidings.plugins.woocommerce.config import WooOptions
from tidings.plugins.woocommerce.mapping import (
    order_locale,
    parse_gmt,
    refunds_of,
    to_order,
    to_recipient,
    transition,
)

if TYPE_CHECKING:
    from tidings.core.hub import Hub

__all__ = [
    "NAMESPACE",
    "baseline",
    "observe_customer",
    "observe_invoice",
    "observe_note",
    "observe_order",
]

log = logging.getLogger(__name__)
NAMESPACE = "woocommerce"



async def baseline(hub: Hub, store_id: str) -> datetime:
    """When Tidings first served this store; older orders and accounts are never mailed."""
    return await polling.baseline(hub, NAMESPACE, store_id)


def _mapped(wc: Mapping[str, Any], shop_url: str | None) -> tuple[Order, Recipient]:
    try:
        return to_order(wc, shop_url), to_recipient(wc, locale=order_locale(wc))
    except (ValueError, KeyError, TypeError) as exc:
        detail = "; ".join(
            f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()
        ) if isinstance(exc, ValidationError) else str(exc)
        raise EventRejected("invalid_payload", f"order {wc.get('id')!r}: {detail}") from exc


async def observe_order(
    hub: Hub, store_id: str, order: Mapping[str, Any], *, source: str, created: bool = False
) -> list[Accepted]:
    """Act on one order as WooCommerce shows it now (webhook payload or REST item).

    ``created`` says WooCommerce announced it as new (``order.created``); an order
    seen for the first time otherwise is mailed only if it was created after
    Tidings started serving the store, so history is never mailed.
    """
    if order.get("id") is None:
        raise EventRejected("invalid_payload", "the order has no id")
    order_id = str(order["id"])
    status = str(order.get("status") or "")
    modified = str(order.get("date_modified_gmt") or "")
    key = f"{store_id}:order:{order_id}"
    async with polling.entity_lock(store_id, order_id):
        state: dict[str, Any] = await hub.store.get_state(NAMESPACE, key) or {}
        if state:
            if modified and modified < state.get("modified", ""):
                log.info("woocommerce %s: order %s: stale delivery ignored", store_id, order_id)
                return []
            if modified == state.get("modified") and status == state.get("status"):
                return []  # an exact replay
        options = hub.options(store_id, WooOptions)
        mapped, recipient = _mapped(order, options.url)
        refunds = refunds_of(order)
        born = parse_gmt(order.get("date_created_gmt"))
        if (not state and not created and born is not None
                and born < await baseline(hub, store_id)):
            mails: list[Incoming] = []  # from before Tidings: remember, do not mail
        else:
            mails = _mails(hub, store_id, state, order_id, status, mapped, recipient, refunds)
        entered = dict(state.get("entered", {}))
        if status != state.get("status"):
            entered[status] = entered.get(status, 0) + 1
        # The mails and the order's new state in one transaction: never one without the other.
        return await hub.accept_many(store_id, mails, source=source, states=[StateWrite(
            NAMESPACE, key, {
                "status": status, "modified": max(modified, state.get("modified", "")),
                "entered": entered,
                "refunds": sorted(set(state.get("refunds", [])) | set(refunds)),
                "order": mapped,
                "recipient": recipient,
            })])


def _mails(
    hub: Hub, store_id: str, state: Mapping[str, Any], order_id: str, status: str,
    order: Order, recipient: Recipient, refunds: Mapping[str, Refund],
) -> list[Incoming]:
    """The mails one order change makes: the transition's, and any refund not yet mailed."""
    previous = state.get("status")
    step = transition(previous, status)
    times = dict(state.get("entered", {})).get(status, 0) + 1
    key = f"woo:{order_id}:{status}:{times}"
    mails = []
    if step.customer is not None:
        refund = None
        if status == "refunded":
            amount = sum((r.amount for r in refunds.values()), Decimal(0)) or order.total
            refund = Refund(amount=amount, partial=False)
        mails.append(Incoming(step.customer, recipient, EventData(order=order, refund=refund),
                              idempotency_key=key))
    if step.owner is not None and (owner := hub.owner(store_id)) is not None:
        mails.append(Incoming(step.owner, owner, EventData(order=order),
                              idempotency_key=f"{key}:owner"))
    if status != "refunded":
        seen = set(state.get("refunds", []))
        for refund_id, refund in refunds.items():
            if refund_id not in seen:
                partial = refund.model_copy(update={"partial": True})
                mails.append(Incoming(
                    "order.refunded", recipient, EventData(order=order, refund=partial),
                    idempotency_key=f"woo:{order_id}:refund:{refund_id}"))
    return mails


async def observe_customer(
    hub: Hub, store_id: str, customer: Mapping[str, Any], *, source: str
) -> list[Accepted]:
    """A new customer account → ``account.created``, once per customer id.

    Callers only pass accounts known to be new (the ``customer.created`` topic,
    or ids above the poller's cursor), so no date check is needed here.
    """
    if customer.get("id") is None:
        raise EventRejected("invalid_payload", "the customer has no id")
    options = hub.options(store_id, WooOptions)
    try:
        recipient = to_recipient(customer, locale=order_locale(customer))
    except ValueError as exc:
        raise EventRejected("invalid_payload", f"customer {customer['id']!r}: {exc}") from exc
    base = (options.url or "").rstrip("/")
    data = EventData(username=str(customer.get("username") or "") or None,
                     login_url=f"{base}/my-account/" if base else None)
    # The companion WordPress plugin uses the same key, so its richer event wins or dedupes.
    return [await hub.accept(store_id, "account.created", recipient, data,
                             idempotency_key=f"woo:customer:{customer['id']}", source=source)]


async def observe_note(
    hub: Hub, store_id: str, order_id: str, note: str, *, source: str,
    fetched: Mapping[str, Any] | None = None,
) -> list[Accepted]:
    """A note to the customer (``action.woocommerce_new_customer_note``).

    The action carries only the order id and the note, so the order comes from
    what the plugin last saw of it, or from ``fetched`` (the REST API).
    """
    if fetched is not None:
        await observe_order(hub, store_id, fetched, source=source)
    state = await hub.store.get_state(NAMESPACE, f"{store_id}:order:{order_id}")
    if not state:
        raise EventRejected(
            "unknown_order", f"order {order_id} was never seen and the REST keys are not set, "
            "so the note cannot be mailed; subscribe the order.created webhook or set "
            "consumer_key/consumer_secret", status=409)
    digest = hashlib.sha256(note.encode()).hexdigest()[:16]
    data = EventData(order=Order.model_validate(state["order"]), note=note)
    recipient = Recipient.model_validate(state["recipient"])
    return [await hub.accept(store_id, "order.note", recipient, data,
                             idempotency_key=f"woo:{order_id}:note:{digest}", source=source)]


async def observe_invoice(
    hub: Hub, store_id: str, order: Mapping[str, Any], *, request_id: str, source: str
) -> list[Accepted]:
    """The owner asked WooCommerce to send the order details (or an invoice to pay).

    Sent by the companion WordPress plugin; ``request_id`` is unique per click,
    so a retried delivery mails once and a second click mails again.
    """
    if order.get("id") is None:
        raise EventRejected("invalid_payload", "the order has no id")
    options = hub.options(store_id, WooOptions)
    mapped, recipient = _mapped(order, options.url)
    return [await hub.accept(store_id, "order.invoice", recipient, EventData(order=mapped),
                             idempotency_key=f"woo:{order['id']}:invoice:{request_id}",
                             source=source)]
