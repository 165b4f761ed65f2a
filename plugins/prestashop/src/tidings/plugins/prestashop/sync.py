"""Turn what the webservice says into catalogue events, each exactly once.

PrestaShop has no outbound webhooks, so everything is read: one
``order_histories`` row is one status change and its id names the mail
(``ps:history:<id>``); a credit slip is one refund (``ps:slip:<id>``); a
customer id is one welcome (``ps:customer:<id>``). The hub's unique
idempotency key makes a second sight of the same row a no-op, whatever the
cursors did.

A status change is judged against the order's previous status (read from the
order's own history, so an order placed before Tidings is judged right too)
and the two states' flags; see :func:`~tidings.plugins.prestashop.mapping.step`.
A refund is told once per order: by its credit slips (with the amount, partial
when below the total) or, when the owner only set a "Refunded" status, by that
status as a full refund — whichever the hub saw first wins.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from tidings.core.config import StoreConfig
from tidings.core.errors import EventRejected
from tidings.core.events import Address, EventData, Order, Recipient, Refund
from tidings.core.hub import Incoming
from tidings.core.store.base import Accepted
from tidings.plugins.prestashop.client import PsAuthError, PsClient, PsNotFound
from tidings.plugins.prestashop.mapping import (
    locale_of,
    slip_refund,
    step,
    to_address,
    to_order,
    to_recipient,
)

if TYPE_CHECKING:
    from tidings.core.hub import Hub

__all__ = ["NAMESPACE", "Session"]

log = logging.getLogger(__name__)
NAMESPACE = "prestashop"


def _explain(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
    return str(exc)


@dataclass
class Session:
    """One poll's view of one shop: the reference tables and what was fetched, cached."""

    hub: Hub
    store_id: str
    store: StoreConfig
    client: PsClient
    shop_url: str
    baseline: str  # orders created at or before this (shop-local) are history
    states: dict[str, dict[str, Any]] = field(default_factory=dict)
    languages: dict[str, dict[str, Any]] = field(default_factory=dict)
    currencies: dict[str, dict[str, Any]] = field(default_factory=dict)
    _orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    _histories: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    _customers: dict[str, Recipient] = field(default_factory=dict)

    async def load_tables(self) -> None:
        self.states = await self.client.table("order_states")
        self.languages = await self.client.table("languages")
        self.currencies = await self.client.table("currencies")

    # -- order_histories --------------------------------------------------------------------

    async def observe_history(self, row: Mapping[str, Any]) -> list[Accepted]:
        """One status change → its customer and owner mails (or none)."""
        history_id, order_id = str(row.get("id") or ""), str(row.get("id_order") or "")
        if not history_id or not order_id:
            raise EventRejected("invalid_payload", f"order_history {row!r} lacks id or id_order")
        histories = await self._history_of(order_id)
        before = [h for h in histories if int(h["id"]) < int(history_id)]
        raw = await self._order(order_id)
        new_order = not before and str(raw.get("date_add") or "") > self.baseline
        state = self.states.get(str(row.get("id_order_state")))
        previous = self.states.get(str(before[-1]["id_order_state"])) if before else None
        mails = step(state, previous, new_order=new_order)
        if mails.customer is None and mails.owner is None:
            return []
        key = f"ps:history:{history_id}"
        order, recipient = await self._mapped(raw, tracking=mails.customer == "order.shipped")
        planned = []
        if mails.customer == "order.refunded":
            if not await self._claim_refund(order_id, "status"):
                log.info("prestashop %s: order %s: refund status after credit slips, already "
                         "mailed", self.store_id, order_id)
            else:
                refund = Refund(amount=order.total, partial=False)
                planned.append(Incoming("order.refunded", recipient,
                                        EventData(order=order, refund=refund), key))
        elif mails.customer is not None:
            planned.append(Incoming(mails.customer, recipient, EventData(order=order), key))
        if mails.owner is not None and (owner := self.hub.owner(self.store_id)) is not None:
            planned.append(Incoming(mails.owner, owner, EventData(order=order), f"{key}:owner"))
        return await self.hub.accept_many(self.store_id, planned, source="poll")

    # -- order_slips ------------------------------------------------------------------------

    async def observe_slip(self, slip: Mapping[str, Any]) -> list[Accepted]:
        """A credit slip → ``order.refunded`` with its amount, once per slip."""
        slip_id, order_id = str(slip.get("id") or ""), str(slip.get("id_order") or "")
        if not slip_id or not order_id:
            raise EventRejected("invalid_payload", f"order_slip {slip!r} lacks id or id_order")
        if not await self._claim_refund(order_id, "slip"):
            log.info("prestashop %s: order %s: credit slip %s after a full refund, already "
                     "mailed", self.store_id, order_id, slip_id)
            return []
        order, recipient = await self._mapped(await self._order(order_id))
        try:
            refund = slip_refund(slip, order.total)
        except ValueError as exc:
            raise EventRejected("invalid_payload", f"order_slip {slip_id}: {exc}") from exc
        return [await self._accept("order.refunded", recipient,
                                   EventData(order=order, refund=refund), f"ps:slip:{slip_id}")]

    async def _claim_refund(self, order_id: str, how: str) -> bool:
        """Whether a refund mail of kind ``how`` may go: slips and a full status exclude."""
        key = f"{self.store_id}:refund:{order_id}"
        found = await self.hub.store.get_state(NAMESPACE, key)
        if found is not None and found != how:
            return False
        await self.hub.store.set_state(NAMESPACE, key, how)
        return True

    # -- customers --------------------------------------------------------------------------

    async def observe_customer(self, customer: Mapping[str, Any]) -> list[Accepted]:
        """A new registered account → ``account.created``; guests get no welcome."""
        if str(customer.get("is_guest") or "0") == "1":
            return []
        try:
            recipient = to_recipient(customer, locale=self._locale(customer.get("id_lang")))
        except ValueError as exc:
            raise EventRejected("invalid_payload", _explain(exc)) from exc
        base = self.shop_url.rstrip("/")
        data = EventData(login_url=f"{base}/index.php?controller=authentication")
        return [await self._accept("account.created", recipient, data,
                                   f"ps:customer:{customer['id']}")]

    # -- helpers ----------------------------------------------------------------------------

    async def _accept(self, event: str, recipient: Recipient, data: EventData, key: str
                      ) -> Accepted:
        return await self.hub.accept(self.store_id, event, recipient, data,
                                     idempotency_key=key, source="poll")

    def _locale(self, id_lang: Any) -> str | None:
        return locale_of(self.languages.get(str(id_lang)))

    async def _order(self, order_id: str) -> dict[str, Any]:
        if order_id not in self._orders:
            self._orders[order_id] = await self.client.order(int(order_id))
        return self._orders[order_id]

    async def _history_of(self, order_id: str) -> list[dict[str, Any]]:
        if order_id not in self._histories:
            self._histories[order_id] = await self.client.histories_of(int(order_id))
        return self._histories[order_id]

    async def _recipient(self, customer_id: str) -> Recipient:
        if customer_id not in self._customers:
            customer = await self.client.customer(int(customer_id))
            if customer is None:
                raise EventRejected("unknown_customer", f"customer {customer_id} is gone")
            try:
                self._customers[customer_id] = to_recipient(
                    customer, locale=self._locale(customer.get("id_lang")))
            except ValueError as exc:
                raise EventRejected("invalid_payload", _explain(exc)) from exc
        return self._customers[customer_id]

    async def _address(self, address_id: Any) -> Address | None:
        if not address_id or str(address_id) == "0":
            return None
        try:
            return to_address(await self.client.address(int(address_id)))
        except (PsAuthError, PsNotFound) as exc:  # addresses are a nicety, not a must
            log.warning("prestashop %s: address %s unreadable: %s", self.store_id, address_id,
                        exc)
            return None

    async def _tracking(self, order_id: int) -> str | None:
        try:
            carriers = await self.client.carriers_of(order_id)
        except (PsAuthError, PsNotFound) as exc:
            log.warning("prestashop %s: order_carriers unreadable: %s", self.store_id, exc)
            return None
        numbers = [str(c.get("tracking_number") or "").strip() for c in carriers]
        return next((n for n in reversed(numbers) if n), None)

    async def _mapped(self, raw: Mapping[str, Any], *, tracking: bool = False
                      ) -> tuple[Order, Recipient]:
        order_id = str(raw.get("id"))
        currency = str(self.currencies.get(str(raw.get("id_currency")), {}).get("iso_code") or "")
        recipient = await self._recipient(str(raw.get("id_customer") or ""))
        delivery = await self._address(raw.get("id_address_delivery"))
        invoice = (delivery if raw.get("id_address_invoice") == raw.get("id_address_delivery")
                   else await self._address(raw.get("id_address_invoice")))
        number = await self._tracking(int(order_id)) if tracking else None
        try:
            order = to_order(raw, currency=currency, timezone=self.store.timezone,
                             shop_url=self.shop_url, billing=invoice, shipping=delivery,
                             tracking_number=number)
        except (ValueError, KeyError, TypeError) as exc:
            raise EventRejected("invalid_payload", f"order {order_id}: {_explain(exc)}") from exc
        return order, recipient
