"""WooCommerce JSON → catalogue models, with WooCommerce's own sample payloads."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.plugins.woocommerce.conftest import fixture
from tidings.plugins.woocommerce.mapping import (
    order_locale,
    refunds_of,
    to_order,
    to_recipient,
    transition,
)


def test_the_documented_sample_order_maps_completely() -> None:
    order = to_order(fixture("woocommerce-order.json"), "https://shop.example/")
    assert order.number == "727" and order.currency == "USD"
    assert order.total == Decimal("29.35") and order.shipping_total == Decimal("10.00")
    assert order.tax_total == Decimal("1.35") and order.subtotal == Decimal("18.00")
    first, second = order.items
    assert (first.name, first.quantity, first.price, first.total) == (
        "Woo Single #1", 2, Decimal(3), Decimal("6.00"))
    assert second.name == "Ship Your Idea – Color: Black, Size: M Test"  # &ndash; decoded
    assert second.sku == "Bar3" and second.variant == "Color: black, Size: M Test"
    assert order.billing_address is not None
    assert order.billing_address.name == "John Doe" and order.billing_address.country == "US"
    assert order.payment_method == "Direct Bank Transfer"
    assert order.shipping_method == "Flat Rate"
    assert order.url == "https://shop.example/my-account/view-order/727/"
    assert order.created_at is not None and order.created_at.hour == 19  # the GMT twin


def test_recipient_and_locale() -> None:
    wc = fixture("woocommerce-order.json")
    assert order_locale(wc) == "en_US"  # from the billing country
    wc["meta_data"].append({"id": 1, "key": "wpml_language", "value": "fr"})
    assert order_locale(wc) == "fr"  # the translation plugin wins
    wc["billing"]["country"] = "DE"
    wc["meta_data"] = []
    assert order_locale(wc) == "de_DE"
    recipient = to_recipient(wc, locale="de_DE")
    assert (recipient.email, recipient.name) == ("john.doe@example.com", "John Doe")
    customer = fixture("woocommerce-customer.json")
    assert to_recipient(customer, locale=None).email == customer["email"]


def test_refunds_and_tracking() -> None:
    wc = fixture("woocommerce-order.json")
    wc["refunds"] = [{"id": 730, "reason": "Damaged", "total": "-10.00"}]
    wc["meta_data"].append({"id": 2, "key": "_wc_shipment_tracking_items", "value": [
        {"tracking_provider": "DHL", "tracking_number": "JD014600003", "custom_tracking_link":
         "https://track.example/JD014600003"}]})
    assert refunds_of(wc)["730"].amount == Decimal("10.00")
    tracking = to_order(wc, None).tracking
    assert tracking is not None and tracking.carrier == "DHL"
    assert tracking.url == "https://track.example/JD014600003"


def test_a_broken_order_is_refused() -> None:
    wc = fixture("woocommerce-order.json")
    wc["total"] = "lots"
    with pytest.raises(ValueError, match="lots"):
        to_order(wc, None)


NEW = "admin.order.new"


@pytest.mark.parametrize(("previous", "status", "customer", "owner"), [
    (None, "pending", None, None),
    (None, "processing", "order.placed", NEW),
    ("pending", "processing", "order.placed", NEW),
    ("on-hold", "processing", "order.paid", None),
    ("pending", "on-hold", "order.on_hold", NEW),
    ("processing", "completed", "order.completed", None),
    (None, "completed", "order.completed", NEW),
    ("processing", "cancelled", "order.cancelled", "admin.order.cancelled"),
    ("pending", "cancelled", None, None),
    ("pending", "failed", "order.failed", "admin.order.failed"),
    ("processing", "refunded", "order.refunded", None),
    ("processing", "processing", None, None),
])
def test_transitions_follow_woocommerce(previous: str | None, status: str,
                                        customer: str | None, owner: str | None) -> None:
    step = transition(previous, status)
    assert (step.customer, step.owner) == (customer, owner)


@pytest.mark.parametrize(("raw", "decoded"), [
    ("a&amp;b", "a&b"), ("&lt;&gt;&quot;&#039;&#39;&#x27;", "<>\"'''"), ("&#038;&#x26;", "&&"),
    ("caf&eacute;", "caf&eacute;"),  # WordPress leaves other entities alone
    ("&amp;amp;", "&amp;"),
])
def test_secret_is_decoded_like_wordpress(raw: str, decoded: str) -> None:
    from tidings.plugins.woocommerce.webhook import wp_specialchars_decode

    assert wp_specialchars_decode(raw) == decoded
