"""Magento's own order and customer samples (AdobeDocs) → catalogue models."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from tidings.plugins.magento.mapping import (
    customer_recipient,
    order_locale,
    order_recipient,
    refund_of,
    to_order,
    tracking_of,
)

FIXTURES = Path(__file__).parent / "fixtures"
ORDER = json.loads((FIXTURES / "magento-order.json").read_text(encoding="utf-8"))
CUSTOMER = json.loads((FIXTURES / "magento-customer.json").read_text(encoding="utf-8"))


def test_the_documented_order() -> None:
    order = to_order(ORDER, "https://shop.example/")
    assert (order.number, order.currency, order.total) == ("000000003", "USD", Decimal(165))
    assert order.shipping_total == Decimal(5) and order.subtotal == Decimal(160)
    assert order.items[0].name == "Radiant Tee-M-Orange" and order.items[0].quantity == 1
    assert order.billing_address and order.billing_address.line1 == "123 Oak Ave"
    assert order.shipping_address and order.shipping_address.country == "US"
    assert order.payment_method == "Bank Transfer Payment"
    assert order.shipping_method == "Best Way - Table Rate"
    assert order.url == "https://shop.example/sales/order/view/order_id/3/"
    assert order.created_at and order.created_at.utcoffset() is not None


def test_recipients_and_locales() -> None:
    locales = {"1": "de_DE"}
    recipient = order_recipient(ORDER, locale=order_locale(ORDER, locales))
    assert (recipient.email, recipient.name, recipient.locale) == (
        "jdoe@example.com", "Jane Doe", "de_DE")
    guest = {**ORDER, "customer_is_guest": 1, "customer_id": None, "customer_firstname": None}
    assert to_order(guest, "https://s.example").url == "https://s.example/sales/guest/form/"
    assert order_recipient(guest, locale=None).name == "Jane Doe"  # from the billing address
    assert customer_recipient(CUSTOMER, locale=order_locale(CUSTOMER, {})).locale is None


def test_tracking_and_partial_refunds() -> None:
    order = to_order(ORDER, None)
    assert tracking_of({"tracks": []}) is None
    track = tracking_of({"tracks": [{"carrier_code": "ups", "title": "UPS",
                                     "track_number": "1Z999"}]})
    assert track and (track.carrier, track.number) == ("UPS", "1Z999")
    assert refund_of({"grand_total": 20}, order).partial is True
    assert refund_of({"grand_total": 165}, order).partial is False
