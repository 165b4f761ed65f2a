"""The pure mapping: state flags → mails, languages → locales, slips → refunds."""

from __future__ import annotations

from decimal import Decimal

from tests.plugins.prestashop.fake_ps import STATES
from tidings.plugins.prestashop.mapping import Step, locale_of, slip_refund, step


def state(sid: int) -> dict[str, str]:
    _, template, paid, shipped, delivery = STATES[sid]
    return {"id": str(sid), "template": template, "paid": str(paid), "shipped": str(shipped),
            "delivery": str(delivery)}


def test_steps_follow_flags_not_ids() -> None:
    assert step(state(101), None, new_order=True) == Step("order.placed", "admin.order.new")
    assert step(state(108), None, new_order=True) == Step("order.failed", "admin.order.failed")
    assert step(state(102), state(101), new_order=False) == Step("order.paid", None)
    assert step(state(103), state(102), new_order=False) == Step(None, None)  # still paid
    assert step(state(104), state(103), new_order=False) == Step("order.shipped", None)
    assert step(state(105), state(104), new_order=False) == Step("order.completed", None)
    assert step(state(106), state(102), new_order=False).customer == "order.cancelled"
    assert step(state(107), state(105), new_order=False).customer == "order.refunded"
    assert step(state(104), state(104), new_order=False) == Step(None, None)


def test_locales() -> None:
    assert locale_of({"locale": "fr-FR", "language_code": "fr-fr"}) == "fr_FR"
    assert locale_of({"language_code": "pt-br"}) == "pt_BR"
    assert locale_of({"iso_code": "de"}) == "de"
    assert locale_of(None) is None


def test_slips() -> None:
    partial = slip_refund({"total_products_tax_incl": "20.000000",
                           "total_shipping_tax_incl": "0.000000"}, Decimal("100"))
    assert partial.amount == Decimal(20) and partial.partial
    full = slip_refund({"total_products_tax_incl": "93", "total_shipping_tax_incl": "7"},
                       Decimal("100"))
    assert not full.partial
