"""PrestaShop webservice JSON → the catalogue's models. Pure: no I/O, no state.

The only file that knows PrestaShop's field names. Scalars arrive as strings
(``"1"``, ``"12.500000"``); dates are ``YYYY-MM-DD HH:MM:SS`` in the shop's
own time zone; statuses are read from ``order_states`` flags and template
names, never from ids, which differ between shops.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from tidings.core.events import Address, LineItem, Order, Recipient, Refund, Tracking
from tidings.core.shop_values import amount as _money
from tidings.core.shop_values import text as _text

__all__ = [
    "Step",
    "flag",
    "locale_of",
    "parse_local",
    "slip_refund",
    "step",
    "to_address",
    "to_order",
    "to_recipient",
]

ZERO_DATE = "0000-00-00 00:00:00"


def flag(row: Mapping[str, Any] | None, name: str) -> bool:
    return row is not None and str(row.get(name) or "0").strip() not in ("0", "", "false")


def parse_local(value: Any, timezone: str) -> datetime | None:
    """A PrestaShop date (shop-local, no offset) as an aware datetime."""
    text = _text(value)
    if text is None or text == ZERO_DATE:
        return None
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(timezone))


def locale_of(language: Mapping[str, Any] | None) -> str | None:
    """``locale`` (``fr-FR``, 1.7.6+) else ``language_code`` (``fr-fr``) as ``fr_FR``."""
    if language is None:
        return None
    code = _text(language.get("locale")) or _text(language.get("language_code")) \
        or _text(language.get("iso_code"))
    if code is None:
        return None
    lang, _, region = code.replace("_", "-").partition("-")
    return f"{lang.lower()}_{region.upper()}" if region else lang.lower()


def to_address(raw: Mapping[str, Any] | None, country: str | None = None) -> Address | None:
    if raw is None or not (_text(raw.get("address1")) or _text(raw.get("city"))):
        return None
    name = " ".join(p for p in (_text(raw.get("firstname")), _text(raw.get("lastname"))) if p)
    return Address(
        name=name or None, company=_text(raw.get("company")), line1=_text(raw.get("address1")),
        line2=_text(raw.get("address2")), city=_text(raw.get("city")),
        postcode=_text(raw.get("postcode")),
        country=country if country and len(country) == 2 else None,
        phone=_text(raw.get("phone")) or _text(raw.get("phone_mobile")))


def _rows(order: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    associations = order.get("associations")
    rows = associations.get("order_rows") if isinstance(associations, Mapping) else None
    return [r for r in rows or () if isinstance(r, Mapping)]


def _item(row: Mapping[str, Any]) -> LineItem:
    quantity = int(_money(row.get("product_quantity")))
    price = _money(row.get("unit_price_tax_incl") or row.get("product_price"))
    return LineItem(name=_text(row.get("product_name")) or "Item",
                    sku=_text(row.get("product_reference")), quantity=quantity, price=price,
                    total=price * quantity)


def to_order(order: Mapping[str, Any], *, currency: str, timezone: str, shop_url: str,
             billing: Address | None = None, shipping: Address | None = None,
             tracking_number: str | None = None, carrier: str | None = None) -> Order:
    """The normalized order; raises ``ValueError`` (pydantic's included) on a broken one."""
    total = _money(order.get("total_paid_tax_incl") or order.get("total_paid"))
    number = tracking_number or _text(order.get("shipping_number"))
    base = shop_url.rstrip("/")
    return Order(
        number=_text(order.get("reference")) or str(order["id"]),
        created_at=parse_local(order.get("date_add"), timezone),
        currency=currency,
        items=[_item(r) for r in _rows(order)],
        subtotal=_money(order.get("total_products_wt")),
        discount_total=_money(order.get("total_discounts_tax_incl")
                              or order.get("total_discounts")),
        shipping_total=_money(order.get("total_shipping_tax_incl")
                              or order.get("total_shipping")),
        tax_total=max(total - _money(order.get("total_paid_tax_excl") or total), Decimal(0)),
        total=total,
        billing_address=billing,
        shipping_address=shipping,
        payment_method=_text(order.get("payment")),
        tracking=Tracking(number=number, carrier=carrier) if number else None,
        url=f"{base}/index.php?controller=order-detail&id_order={order['id']}",
    )


def to_recipient(customer: Mapping[str, Any], *, locale: str | None) -> Recipient:
    email = _text(customer.get("email"))
    if email is None:
        raise ValueError(f"customer {customer.get('id')!r} has no e-mail")
    name = " ".join(p for p in (_text(customer.get("firstname")),
                                _text(customer.get("lastname"))) if p)
    return Recipient(email=email, name=name or None, locale=locale)


def slip_refund(slip: Mapping[str, Any], order_total: Decimal) -> Refund:
    """A credit slip: products and shipping refunded (tax incl.); partial below the total."""
    amount = _money(slip.get("total_products_tax_incl")) \
        + _money(slip.get("total_shipping_tax_incl"))
    if not amount:
        amount = _money(slip.get("amount")) + _money(slip.get("shipping_cost_amount"))
    return Refund(amount=amount, partial=amount < order_total)


@dataclass(frozen=True)
class Step:
    """The mails one status change makes: the customer's event and the owner's."""

    customer: str | None
    owner: str | None


NOTHING = Step(None, None)


def step(state: Mapping[str, Any] | None, previous: Mapping[str, Any] | None, *,
         new_order: bool) -> Step:
    """One order_history row in catalogue terms, from the states' flags and templates.

    ``previous`` is the state before (None: the order's first state). A new
    order's first state makes the confirmation, unless payment already failed.
    Otherwise a flag mails only when it turns on (Payment accepted → Processing
    in progress, both ``paid``, is one ``order.paid``).
    """
    template = str((state or {}).get("template") or "")
    if new_order:
        if template == "payment_error":
            return Step("order.failed", "admin.order.failed")
        return Step("order.placed", "admin.order.new")
    if state is None or (previous is not None and previous.get("id") == state.get("id")):
        return NOTHING
    was = str((previous or {}).get("template") or "")
    if template == "payment_error":
        return Step("order.failed", "admin.order.failed")
    if template == "order_canceled":
        return Step("order.cancelled", "admin.order.cancelled")
    if template == "refund":
        return Step("order.refunded", None) if was != "refund" else NOTHING
    if flag(state, "delivery"):
        return NOTHING if flag(previous, "delivery") else Step("order.completed", None)
    if flag(state, "shipped"):
        return NOTHING if flag(previous, "shipped") else Step("order.shipped", None)
    if flag(state, "paid"):
        return NOTHING if flag(previous, "paid") else Step("order.paid", None)
    return NOTHING  # awaiting payment, backorders, processing without payment: no mail
