"""WooCommerce REST v3 JSON → the catalogue's models. Pure: no I/O, no state.

The only file that knows WooCommerce's field names. Webhook payloads are the
same REST resource (platforms.md §1.1), so webhooks and polling share it.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from babel.languages import get_official_languages

from tidings.core.events import Address, LineItem, Order, Recipient, Refund, Tracking
from tidings.core.shop_values import amount as _money
from tidings.core.shop_values import text
from tidings.core.shop_values import utc as parse_gmt

__all__ = [
    "Transition",
    "order_locale",
    "parse_gmt",
    "refunds_of",
    "to_order",
    "to_recipient",
    "transition",
]

# Order meta keys the common translation plugins write with the customer's language.
LANGUAGE_META = ("wpml_language", "_wpml_language", "pll_language", "trp_language",
                 "_trp_language", "weglot_language", "_gtranslate_language")
# Statuses after which WooCommerce mails the customer (class-wc-emails.php).
PAID_LIKE = ("processing", "completed")


def _text(value: Any) -> str | None:
    """WooCommerce sends HTML entities in names (``&ndash;``); mail wants the characters."""
    found = text(value)
    return text(html.unescape(found)) if found else None


def _meta(entries: Any) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for entry in entries or ():
        if isinstance(entry, Mapping) and isinstance(entry.get("key"), str):
            found.setdefault(entry["key"], entry.get("value"))
    return found


def _address(raw: Any) -> Address | None:
    if not isinstance(raw, Mapping) or not any(raw.get(k) for k in ("address_1", "city")):
        return None
    name = " ".join(p for p in (_text(raw.get("first_name")), _text(raw.get("last_name"))) if p)
    country = _text(raw.get("country"))
    return Address(
        name=name or None, company=_text(raw.get("company")), line1=_text(raw.get("address_1")),
        line2=_text(raw.get("address_2")), city=_text(raw.get("city")),
        postcode=_text(raw.get("postcode")), state=_text(raw.get("state")),
        country=country if country and len(country) == 2 else None,
        phone=_text(raw.get("phone")), email=_text(raw.get("email")))


def _variant(item: Mapping[str, Any]) -> str | None:
    parts = []
    for entry in item.get("meta_data") or ():
        key = str(entry.get("display_key") or entry.get("key") or "")
        value = entry.get("display_value", entry.get("value"))
        if key and not key.startswith("_") and isinstance(value, str | int | float):
            label = key.removeprefix("pa_").replace("_", " ").replace("-", " ")
            parts.append(f"{_text(label[:1].upper() + label[1:])}: {_text(value)}")
    return ", ".join(parts) or None


def _item(item: Mapping[str, Any]) -> LineItem:
    quantity = int(item.get("quantity") or 0)
    total = _money(item.get("total"))
    price = item.get("price")
    unit = _money(price) if price not in (None, "") else (total / quantity if quantity else total)
    image = item.get("image")
    return LineItem(
        name=_text(item.get("name")) or "Item", sku=_text(item.get("sku")), quantity=quantity,
        price=unit, total=total, variant=_variant(item),
        image_url=_text(image.get("src")) if isinstance(image, Mapping) else None)


def _tracking(meta: Mapping[str, Any]) -> Tracking | None:
    """The Shipment Tracking extension's meta, the de-facto standard (not core WooCommerce)."""
    entries = meta.get("_wc_shipment_tracking_items")
    if not isinstance(entries, list) or not entries or not isinstance(entries[-1], Mapping):
        return None
    last = entries[-1]
    return Tracking(
        carrier=_text(last.get("custom_tracking_provider") or last.get("tracking_provider")),
        number=_text(last.get("tracking_number")),
        url=_text(last.get("custom_tracking_link") or last.get("tracking_link")))


def to_order(wc: Mapping[str, Any], shop_url: str | None) -> Order:
    """The normalized order; raises ``ValueError`` (pydantic's included) on a broken payload."""
    items = [_item(i) for i in wc.get("line_items") or ()]
    shipping_lines = wc.get("shipping_lines") or ()
    base = (shop_url or "").rstrip("/")
    return Order(
        number=str(wc.get("number") or wc["id"]),
        created_at=parse_gmt(wc.get("date_created_gmt")),
        currency=str(wc.get("currency") or ""),
        items=items,
        subtotal=sum((_money(i.get("subtotal")) for i in wc.get("line_items") or ()), Decimal(0)),
        discount_total=_money(wc.get("discount_total")),
        shipping_total=_money(wc.get("shipping_total")),
        tax_total=_money(wc.get("total_tax")),
        total=_money(wc.get("total")),
        billing_address=_address(wc.get("billing")),
        shipping_address=_address(wc.get("shipping")),
        payment_method=_text(wc.get("payment_method_title")),
        shipping_method=_text(shipping_lines[0].get("method_title")) if shipping_lines else None,
        customer_note=_text(wc.get("customer_note")),
        tracking=_tracking(_meta(wc.get("meta_data"))),
        url=f"{base}/my-account/view-order/{wc['id']}/" if base else None,
        pay_url=_text(wc.get("payment_url")),
    )


def order_locale(wc: Mapping[str, Any]) -> str | None:
    """The customer's language: translation plugins' order meta, else the billing country."""
    meta = _meta(wc.get("meta_data"))
    for key in LANGUAGE_META:
        value = meta.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip().replace("-", "_")
    billing = wc.get("billing")
    country = str(billing.get("country") or "") if isinstance(billing, Mapping) else ""
    if len(country) == 2:
        languages = get_official_languages(country.upper(), de_facto=True)
        if languages:
            return f"{languages[0]}_{country.upper()}"
    return None


def to_recipient(wc: Mapping[str, Any], *, locale: str | None) -> Recipient:
    """Who a customer mail goes to: the billing e-mail (orders) or the account's (customers)."""
    raw = wc.get("billing")
    billing: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
    email = _text(wc.get("email")) or _text(billing.get("email"))
    first = _text(wc.get("first_name")) or _text(billing.get("first_name"))
    last = _text(wc.get("last_name")) or _text(billing.get("last_name"))
    name = " ".join(p for p in (first, last) if p) or None
    if email is None:
        raise ValueError("the payload has no customer e-mail (billing.email)")
    return Recipient(email=email, name=name, locale=locale)


def refunds_of(wc: Mapping[str, Any]) -> dict[str, Refund]:
    """Refund id → refund; WooCommerce lists them with negative totals."""
    found = {}
    for entry in wc.get("refunds") or ():
        if isinstance(entry, Mapping) and entry.get("id") is not None:
            found[str(entry["id"])] = Refund(amount=abs(_money(entry.get("total"))),
                                             reason=_text(entry.get("reason")))
    return found


@dataclass(frozen=True)
class Transition:
    """The mails one status change makes, as WooCommerce itself would send them."""

    customer: str | None  # catalogue event for the customer
    owner: str | None  # catalogue event for the shop owner (admin_email)


# Previous statuses after which an order counts as new; ``None`` = first sight.
_NEWISH = (None, "pending", "failed", "cancelled", "checkout-draft")


def transition(previous: str | None, status: str) -> Transition:
    """WooCommerce's own triggers (``woocommerce_email_actions``), in catalogue terms."""
    new = "admin.order.new" if previous in _NEWISH else None
    if previous == status:
        return Transition(None, None)
    if status == "processing":
        return Transition("order.placed", new) if new else Transition("order.paid", None)
    if status == "on-hold":
        return Transition("order.on_hold", new)
    if status == "completed":
        return Transition("order.completed", new)
    if status == "cancelled" and previous in ("processing", "on-hold"):
        return Transition("order.cancelled", "admin.order.cancelled")
    if status == "failed" and previous in (None, "pending", "on-hold"):
        return Transition("order.failed", "admin.order.failed")
    if status == "refunded":
        return Transition("order.refunded", None)
    return Transition(None, None)  # pending, drafts, trash: WooCommerce mails nobody
