"""The demo data is complete and believable."""

from __future__ import annotations

import pytest

from tidings.core.events import CATALOGUE
from tidings.core.samples import SAMPLE_ORDER, sample


def test_sample_order_is_realistic() -> None:
    order = SAMPLE_ORDER
    assert len(order.items) == 5
    assert order.currency == "EUR"
    assert order.discount_total > 0 and order.shipping_total > 0 and order.tax_total > 0
    assert order.items_subtotal - order.discount_total + order.shipping_total == order.total
    assert all(item.sku and item.image_url for item in order.items)
    assert order.billing_address and order.shipping_address and order.payment_method


@pytest.mark.parametrize("event_type", sorted(CATALOGUE))
def test_every_event_type_has_complete_sample(event_type: str) -> None:
    recipient, data = sample(event_type)
    assert recipient.email
    assert CATALOGUE[event_type].missing(data) == []


def test_specific_samples() -> None:
    shipped = sample("order.shipped")[1].order
    assert shipped is not None and shipped.tracking is not None
    assert shipped.tracking.carrier and shipped.tracking.number and shipped.tracking.url
    refund = sample("order.refunded")[1].refund
    assert refund is not None and refund.partial
    assert sample("order.note")[1].note
    assert sample("account.password_reset")[1].reset_url
    assert sample("account.created")[1].login_url
    assert sample("order.placed")[0].locale == "en"
    assert SAMPLE_ORDER.tracking is None  # only the shipped sample carries tracking


def test_unknown_event_type() -> None:
    with pytest.raises(KeyError):
        sample("order.exploded")
