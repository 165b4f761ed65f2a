"""Magento 2 REST JSON → the catalogue's models. Pure: no I/O, no state.

The only file that knows Magento's field names (platforms.md §2.1). The order
of the Adobe Commerce Webhooks module is the same sales order data, so
webhooks and polling share it.

Locale choice: Magento has no per-customer language; the language is the
store view's. Every order, invoice and customer carries ``store_id`` (the
store view), so the ``locales`` option maps store view ids to locales;
unmapped views fall back to the store's ``locale`` in the hub config.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from tidings.core.events import Address, LineItem, Order, Recipient, Refund, Tracking
from tidings.core.shop_values import amount as _money
from tidings.core.shop_values import text as _text
from tidings.core.shop_values import utc as parse_utc

__all__ = [
    "CANCELED",
    "PENDING_PAYMENT",
    "customer_recipient",
    "magento_datetime",
    "order_locale",
    "order_recipient",
    "parse_utc",
    "refund_of",
    "to_order",
    "tracking_of",
]

CANCELED = "canceled"  # Magento\Sales\Model\Order::STATE_CANCELED
PENDING_PAYMENT = "pending_payment"  # online payment not finished; Magento mails nobody yet


def magento_datetime(value: datetime) -> str:
    """A datetime as Magento's filters compare it: UTC ``YYYY-MM-DD HH:MM:SS``."""
    if value.tzinfo is None:
        raise ValueError("naive datetime: say which zone it is in")
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def _address(raw: Any) -> Address | None:
    if not isinstance(raw, Mapping) or not (raw.get("street") or raw.get("city")):
        return None
    street = raw.get("street")
    lines = [str(s) for s in street if s] if isinstance(street, list) else [str(street or "")]
    name = " ".join(p for p in (_text(raw.get("firstname")), _text(raw.get("lastname"))) if p)
    country = _text(raw.get("country_id"))
    return Address(
        name=name or None, company=_text(raw.get("company")),
        line1=_text(lines[0]) if lines else None,
        line2=_text(", ".join(lines[1:])) if len(lines) > 1 else None,
        city=_text(raw.get("city")), postcode=_text(raw.get("postcode")),
        state=_text(raw.get("region")),
        country=country if country and len(country) == 2 else None,
        phone=_text(raw.get("telephone")), email=_text(raw.get("email")))


def _shipping(mg: Mapping[str, Any]) -> Mapping[str, Any]:
    ext = mg.get("extension_attributes")
    assignments = ext.get("shipping_assignments") if isinstance(ext, Mapping) else None
    if isinstance(assignments, list) and assignments and isinstance(assignments[0], Mapping):
        shipping = assignments[0].get("shipping")
        if isinstance(shipping, Mapping):
            return shipping
    return {}


def _items(mg: Mapping[str, Any]) -> list[LineItem]:
    """Visible lines only: a configurable product's child row repeats its parent."""
    found = []
    for item in mg.get("items") or ():
        if not isinstance(item, Mapping) or item.get("parent_item_id"):
            continue
        quantity = int(_money(item.get("qty_ordered")))
        found.append(LineItem(
            name=_text(item.get("name")) or "Item", sku=_text(item.get("sku")),
            quantity=quantity, price=_money(item.get("price")),
            total=_money(item.get("row_total")) if item.get("row_total") is not None else None))
    return found


def _payment(mg: Mapping[str, Any]) -> str | None:
    payment = mg.get("payment")
    if not isinstance(payment, Mapping):
        return None
    info = payment.get("additional_information")
    if isinstance(info, list) and info and isinstance(info[0], str) and info[0].strip():
        return info[0].strip()  # offline methods keep their title here
    return _text(payment.get("method"))


def to_order(mg: Mapping[str, Any], shop_url: str | None, *,
             tracking: Tracking | None = None) -> Order:
    """The normalized order; raises ``ValueError`` (pydantic's included) on a broken payload."""
    shipping = _shipping(mg)
    base = (shop_url or "").rstrip("/")
    url = None
    if base and mg.get("entity_id") is not None:
        url = (f"{base}/sales/guest/form/" if _guest(mg)
               else f"{base}/sales/order/view/order_id/{mg['entity_id']}/")
    return Order(
        number=str(mg.get("increment_id") or mg["entity_id"]),
        created_at=parse_utc(mg.get("created_at")),
        currency=str(mg.get("order_currency_code") or ""),
        items=_items(mg),
        subtotal=_money(mg.get("subtotal")) if mg.get("subtotal") is not None else None,
        discount_total=abs(_money(mg.get("discount_amount"))),  # Magento stores it negative
        shipping_total=_money(mg.get("shipping_amount")),
        tax_total=_money(mg.get("tax_amount")),
        total=_money(mg.get("grand_total")),
        billing_address=_address(mg.get("billing_address")),
        shipping_address=_address(shipping.get("address")),
        payment_method=_payment(mg),
        shipping_method=_text(mg.get("shipping_description")),
        customer_note=_text(mg.get("customer_note")),
        tracking=tracking,
        url=url,
    )


def _guest(mg: Mapping[str, Any]) -> bool:
    return bool(int(mg.get("customer_is_guest") or 0)) or not mg.get("customer_id")


def order_locale(entity: Mapping[str, Any], locales: Mapping[str, str]) -> str | None:
    """The store view's locale from the ``locales`` option, by the entity's ``store_id``."""
    store_id = entity.get("store_id")
    return locales.get(str(store_id)) if store_id is not None else None


def order_recipient(mg: Mapping[str, Any], *, locale: str | None) -> Recipient:
    """The customer of an order, guest or registered: ``customer_email``, else billing's."""
    raw = mg.get("billing_address")
    billing: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
    email = _text(mg.get("customer_email")) or _text(billing.get("email"))
    if email is None:
        raise ValueError("the order has no customer_email")
    first = _text(mg.get("customer_firstname")) or _text(billing.get("firstname"))
    last = _text(mg.get("customer_lastname")) or _text(billing.get("lastname"))
    return Recipient(email=email, name=" ".join(p for p in (first, last) if p) or None,
                     locale=locale)


def customer_recipient(customer: Mapping[str, Any], *, locale: str | None) -> Recipient:
    email = _text(customer.get("email"))
    if email is None:
        raise ValueError("the customer has no email")
    name = " ".join(p for p in (_text(customer.get("firstname")),
                                _text(customer.get("lastname"))) if p)
    return Recipient(email=email, name=name or None, locale=locale)


def tracking_of(shipment: Mapping[str, Any]) -> Tracking | None:
    """The shipment's last track (``tracks[]``: ``title``, ``carrier_code``, ``track_number``)."""
    tracks = [t for t in shipment.get("tracks") or () if isinstance(t, Mapping)]
    if not tracks:
        return None
    last = tracks[-1]
    return Tracking(carrier=_text(last.get("title")) or _text(last.get("carrier_code")),
                    number=_text(last.get("track_number")))


def refund_of(creditmemo: Mapping[str, Any], order: Order) -> Refund:
    """One credit memo; partial when it gives back less than the order's grand total."""
    amount = _money(creditmemo.get("grand_total"))
    return Refund(amount=amount, partial=amount < order.total,
                  reason=_text(creditmemo.get("customer_note")))
