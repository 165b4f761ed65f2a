"""Realistic demo data for every event type.

Used by ``tidings preview``, by the demo store, by ``Renderer.check`` to
trial-render templates, and by the tests, so that all of them show the same
believable order rather than "foo"/"bar".
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from tidings.core.events import (
    CATALOGUE,
    Address,
    EventData,
    LineItem,
    Order,
    Recipient,
    Refund,
    Tracking,
)

__all__ = ["SAMPLE_ADMIN", "SAMPLE_CUSTOMER", "SAMPLE_ORDER", "sample"]

_SHOP = "https://shop.example.com"


def _image(text: str, colour: str) -> str:
    return f"https://placehold.co/160x160/{colour}/ffffff/png?text={text}"


_ITEMS = [
    LineItem(name="Merino Crew Sweater", sku="KN-MER-CRW-M-NVY", quantity=1,
             price=Decimal("89.00"), variant="Size: M · Colour: Navy",
             image_url=_image("Sweater", "1e3a5f")),
    LineItem(name="Organic Cotton T-Shirt", sku="TS-ORG-L-WHT", quantity=3,
             price=Decimal("24.90"), variant="Size: L · Colour: White",
             image_url=_image("T-Shirt", "9ca3af")),
    LineItem(name="Leather Weekender Bag", sku="BG-WKD-CGN", quantity=1,
             price=Decimal("249.00"), variant="Colour: Cognac",
             image_url=_image("Bag", "8b5a2b")),
    LineItem(name="Wool Beanie", sku="AC-BNE-OAT", quantity=2, price=Decimal("19.50"),
             variant="Colour: Oatmeal", image_url=_image("Beanie", "c8b79e")),
    LineItem(name="Gift Wrapping", sku="SV-GIFT", quantity=1, price=Decimal("4.00"),
             image_url=_image("Gift", "b91c1c")),
]

_SUBTOTAL = sum((item.line_total for item in _ITEMS), Decimal(0))  # 455.70
_DISCOUNT = Decimal("45.57")  # WELCOME10: 10 % off
_SHIPPING = Decimal("6.90")
_TOTAL = _SUBTOTAL - _DISCOUNT + _SHIPPING
_TAX = (_TOTAL * Decimal(19) / Decimal(119)).quantize(Decimal("0.01"))  # 19 % VAT, included

_ADDRESS = Address(
    name="Ana García", line1="Kastanienallee 12", line2="3rd floor",
    postcode="10435", city="Berlin", country="DE", phone="+49 30 1234567",
    email="ana@example.com",
)

SAMPLE_ORDER = Order(
    number="1042",
    created_at=datetime(2025, 3, 14, 9, 26, tzinfo=UTC),
    currency="EUR",
    items=_ITEMS,
    subtotal=_SUBTOTAL,
    discount_total=_DISCOUNT,
    shipping_total=_SHIPPING,
    tax_total=_TAX,
    total=_TOTAL,
    billing_address=_ADDRESS,
    shipping_address=_ADDRESS.model_copy(update={"email": None}),
    payment_method="Visa ending in 4242",
    shipping_method="DHL Standard (2–4 business days)",
    customer_note="Please leave the parcel with the neighbours if I'm not home.",
    url=f"{_SHOP}/account/orders/1042",
)
"""A 5-item EUR order with a discount, shipping and included VAT."""

SAMPLE_CUSTOMER = Recipient(email="ana@example.com", name="Ana García", locale="en")
SAMPLE_ADMIN = Recipient(email="orders@shop.example.com", name=None, locale=None)


def sample(event_type: str) -> tuple[Recipient, EventData]:
    """The recipient and data for ``event_type``; raises ``KeyError`` for unknown types.

    The recipient's locale is English; callers pass their own ``locales`` to
    preview other languages.
    """
    if event_type not in CATALOGUE:
        raise KeyError(event_type)
    order = SAMPLE_ORDER
    if event_type.startswith("admin."):
        return SAMPLE_ADMIN, EventData(order=order)
    match event_type:
        case "account.created":
            return SAMPLE_CUSTOMER, EventData(
                login_url=f"{_SHOP}/account/login", username="ana.garcia")
        case "account.password_reset":
            return SAMPLE_CUSTOMER, EventData(
                reset_url=f"{_SHOP}/account/reset?key=Zq7v2LmX9pT4&login=ana.garcia")
        case "order.shipped":
            order = order.model_copy(update={"tracking": Tracking(
                carrier="DHL", number="JJD000390007812345678",
                url="https://www.dhl.de/de/privatkunden/pakete-empfangen/verfolgen.html"
                    "?piececode=JJD000390007812345678")})
        case "order.refunded":
            return SAMPLE_CUSTOMER, EventData(order=order, refund=Refund(
                amount=Decimal("49.00"), partial=True,
                reason="One sweater returned in its original packaging"))
        case "order.invoice" | "order.on_hold" | "order.failed":
            order = order.model_copy(update={"pay_url": f"{_SHOP}/checkout/order-pay/1042"})
        case "order.note":
            return SAMPLE_CUSTOMER, EventData(order=order, note=(
                "Good news: the Leather Weekender Bag is back in stock and will ship "
                "together with the rest of your order tomorrow.\nThank you for your patience!"))
    return SAMPLE_CUSTOMER, EventData(order=order)
