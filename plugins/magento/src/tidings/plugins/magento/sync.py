"""Turn what Magento says (orders, invoices, shipments, credit memos, customers) into
catalogue events, each exactly once.

Magento keeps one entity per fact — an invoice is the payment, a shipment the
dispatch, a credit memo the refund — so those map one-to-one and their
idempotency keys are their entity ids (``magento:<store>:invoice:<id>``).
Only two order facts need memory: "placed" (first sight) and "cancelled"
(state became ``canceled``). Orders are keyed by ``increment_id``, because the
checkout webhook (``sales_order_place_before``) fires before the order has an
``entity_id``, and poll and webhook must collapse into one mail.

Nothing created before Tidings first served the store (its *baseline*) is
mailed, so a first run never mails history.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from tidings.core import polling
from tidings.core.errors import EventRejected
from tidings.core.events import EventData, Order, Recipient
from tidings.core.hub import Incoming
from tidings.core.store.base import Accepted, StateWrite
from tidings.plugins.magento.config import MagentoOptions
from tidings.plugins.magento.mapping import (
    CANCELED,
    PENDING_PAYMENT,
    customer_recipient,
    order_locale,
    order_recipient,
    parse_utc,
    refund_of,
    to_order,
    tracking_of,
)

if TYPE_CHECKING:
    from tidings.core.hub import Hub

__all__ = [
    "NAMESPACE",
    "baseline",
    "observe_creditmemo",
    "observe_customer",
    "observe_invoice",
    "observe_order",
    "observe_shipment",
]

log = logging.getLogger(__name__)
NAMESPACE = "magento"



async def baseline(hub: Hub, store_id: str) -> datetime:
    """When Tidings first served this store; older orders and accounts are never mailed."""
    return await polling.baseline(hub, NAMESPACE, store_id)


async def _is_new(hub: Hub, store_id: str, entity: Mapping[str, Any]) -> bool:
    created = parse_utc(entity.get("created_at"))
    return created is None or created >= await baseline(hub, store_id)


def _rejected(what: str, exc: Exception) -> EventRejected:
    detail = "; ".join(
        f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()
    ) if isinstance(exc, ValidationError) else str(exc)
    return EventRejected("invalid_payload", f"{what}: {detail}")


def mapped_order(mg: Mapping[str, Any], options: MagentoOptions, **kw: Any
                 ) -> tuple[Order, Recipient]:
    """The order and its customer, or :class:`EventRejected` saying what is wrong."""
    try:
        return (to_order(mg, options.url, **kw),
                order_recipient(mg, locale=order_locale(mg, options.locales)))
    except (ValueError, KeyError, TypeError) as exc:
        raise _rejected(f"order {mg.get('increment_id') or mg.get('entity_id')!r}", exc) from exc


async def observe_order(hub: Hub, store_id: str, mg: Mapping[str, Any], *, source: str,
                        placed: bool = False) -> list[Accepted]:
    """Act on one order as Magento shows it now (REST row or webhook payload).

    ``placed`` says the shop announced it as just placed (the checkout
    webhook); otherwise an order first seen is mailed only when it was created
    after the baseline. An order waiting for an online payment
    (``pending_payment``) is not confirmed until it leaves that state, as
    Magento itself does; one that is then cancelled was never placed.
    """
    number = str(mg.get("increment_id") or "")
    if not number:
        raise EventRejected("invalid_payload", "the order has no increment_id")
    state_now = str(mg.get("state") or "")
    key = f"{store_id}:order:{number}"
    async with polling.entity_lock(store_id, number):
        memory: dict[str, Any] = await hub.store.get_state(NAMESPACE, key) or {}
        updated = str(mg.get("updated_at") or "")
        if memory and updated and updated < memory.get("updated", ""):
            return []  # an older picture than one already acted on
        options = hub.options(store_id, MagentoOptions)
        order, recipient = mapped_order(mg, options)
        fresh = not memory and (placed or await _is_new(hub, store_id, mg))
        was_placed = bool(memory.get("placed"))
        mails: list[Incoming] = []
        owner = hub.owner(store_id)
        data = EventData(order=order)
        prefix = f"magento:{store_id}:order:{number}"

        def mail(customer: str, admin: str, key: str) -> None:
            mails.append(Incoming(customer, recipient, data, idempotency_key=key))
            if owner is not None:
                mails.append(Incoming(admin, owner, data, idempotency_key=f"{key}:owner"))

        # A paid-online order that was abandoned (pending_payment → canceled) was never placed.
        abandoned = bool(memory.get("pending")) and state_now == CANCELED
        if ((fresh or memory.get("pending")) and state_now not in (PENDING_PAYMENT, "")
                and not abandoned):
            mail("order.placed", "admin.order.new", f"{prefix}:placed")
            was_placed = True
        known = was_placed or bool(memory and not memory.get("pending"))  # seen live before
        if state_now == CANCELED and memory.get("state") != CANCELED and known:
            mail("order.cancelled", "admin.order.cancelled", f"{prefix}:canceled")
        pending = (fresh or bool(memory.get("pending"))) and state_now == PENDING_PAYMENT
        # The mails and the order's new memory in one transaction: never one without the other.
        return await hub.accept_many(store_id, mails, source=source, states=[StateWrite(
            NAMESPACE, key, {
                "state": state_now, "updated": max(updated, memory.get("updated", "")),
                "placed": was_placed, "pending": pending,
                "entity_id": mg.get("entity_id", memory.get("entity_id")),
            })])


async def observe_invoice(hub: Hub, store_id: str, invoice: Mapping[str, Any],
                          order: Mapping[str, Any], *, source: str) -> list[Accepted]:
    """An invoice is the payment: ``order.paid``, once per invoice."""
    if invoice.get("entity_id") is None:
        raise EventRejected("invalid_payload", "the invoice has no entity_id")
    if not await _is_new(hub, store_id, invoice):
        return []
    options = hub.options(store_id, MagentoOptions)
    mapped, recipient = mapped_order(order, options)
    return [await hub.accept(store_id, "order.paid", recipient, EventData(order=mapped),
                             idempotency_key=f"magento:{store_id}:invoice:{invoice['entity_id']}",
                             source=source)]


async def observe_shipment(hub: Hub, store_id: str, shipment: Mapping[str, Any],
                           order: Mapping[str, Any], *, source: str) -> list[Accepted]:
    """A shipment: ``order.shipped`` with its tracking number, once per shipment."""
    if shipment.get("entity_id") is None:
        raise EventRejected("invalid_payload", "the shipment has no entity_id")
    if not await _is_new(hub, store_id, shipment):
        return []
    options = hub.options(store_id, MagentoOptions)
    mapped, recipient = mapped_order(order, options, tracking=tracking_of(shipment))
    key = f"magento:{store_id}:shipment:{shipment['entity_id']}"
    return [await hub.accept(store_id, "order.shipped", recipient, EventData(order=mapped),
                             idempotency_key=key, source=source)]


async def observe_creditmemo(hub: Hub, store_id: str, memo: Mapping[str, Any],
                             order: Mapping[str, Any], *, source: str) -> list[Accepted]:
    """A credit memo: ``order.refunded`` (partial below the grand total), once per memo."""
    if memo.get("entity_id") is None:
        raise EventRejected("invalid_payload", "the credit memo has no entity_id")
    if not await _is_new(hub, store_id, memo):
        return []
    options = hub.options(store_id, MagentoOptions)
    mapped, recipient = mapped_order(order, options)
    try:
        refund = refund_of(memo, mapped)
    except ValueError as exc:
        raise _rejected(f"credit memo {memo['entity_id']!r}", exc) from exc
    key = f"magento:{store_id}:creditmemo:{memo['entity_id']}"
    return [await hub.accept(store_id, "order.refunded", recipient,
                             EventData(order=mapped, refund=refund), idempotency_key=key,
                             source=source)]


async def observe_customer(hub: Hub, store_id: str, customer: Mapping[str, Any], *,
                           source: str) -> list[Accepted]:
    """A new account (created after the baseline): ``account.created``, once per id."""
    if customer.get("id") is None:
        raise EventRejected("invalid_payload", "the customer has no id")
    if not await _is_new(hub, store_id, customer):
        return []
    options = hub.options(store_id, MagentoOptions)
    try:
        recipient = customer_recipient(customer, locale=order_locale(customer, options.locales))
    except ValueError as exc:
        raise _rejected(f"customer {customer['id']!r}", exc) from exc
    data = EventData(login_url=f"{options.url.rstrip('/')}/customer/account/login/")
    return [await hub.accept(store_id, "account.created", recipient, data,
                             idempotency_key=f"magento:{store_id}:customer:{customer['id']}",
                             source=source)]
