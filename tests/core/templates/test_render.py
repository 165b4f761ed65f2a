"""Every built-in template renders, in every language, with the demo data."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal

import pytest
from babel.numbers import format_currency

from tidings.core.config import Branding, StoreConfig
from tidings.core.events import CATALOGUE, EventData, LineItem, Order, Recipient
from tidings.core.samples import SAMPLE_ORDER, sample
from tidings.core.templates import Renderer, available_locales, template_names

LOCALES = ["en", "es", "fr", "de"]
BABEL_LOCALE = {"en": "en", "es": "es", "fr": "fr", "de": "de"}


def test_there_is_a_template_for_every_catalogue_mail() -> None:
    wanted = {event.template for event in CATALOGUE.values()}
    assert set(template_names()) == wanted
    assert len(wanted) == 15


def test_available_locales() -> None:
    locales = available_locales()
    assert locales[0] == "en"
    assert {"en", "es", "fr", "de"} <= set(locales)


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("name", template_names())
def test_every_template_renders(
    renderer: Renderer, store: StoreConfig, name: str, locale: str
) -> None:
    recipient, data = sample(name)
    mail = renderer.render(name, store=store, store_id="demo", recipient=recipient, data=data,
                           locales=[locale], event_id="evt_1")
    assert mail.subject and mail.html and mail.text
    assert "\n" not in mail.subject and "\r" not in mail.subject
    assert mail.locale == locale
    assert re.fullmatch(r"[0-9a-f]{12}", mail.template_version)
    assert mail.html.startswith("<!doctype html>")
    assert f'lang="{locale}"' in mail.html
    assert "{{" not in mail.html and "{%" not in mail.html
    assert "{{" not in mail.text and "{%" not in mail.text
    assert "jj" not in mail.text.lower().replace("jjd", "")  # no placeholder leaked
    assert "fonts.googleapis.com" not in mail.html
    assert store.name in mail.text
    if data.order is not None:
        order = data.order
        total = format_currency(order.total, order.currency, locale=BABEL_LOCALE[locale])
        assert order.number in mail.text
        assert total in mail.text
        assert total in mail.html
        for item in order.items:
            assert item.name in mail.text
            assert item.name in mail.html


def test_text_part_is_readable(renderer: Renderer, store: StoreConfig) -> None:
    recipient, data = sample("order.placed")
    mail = renderer.render("order.placed", store=store, store_id="demo", recipient=recipient,
                           data=data, locales=["en"])
    text = mail.text
    assert "Hi Ana García," in text
    assert "3 × €24.90 = €74.70" in text
    assert "Subtotal: €455.70" in text
    assert "Discount: -€45.57" in text
    assert "Total: €417.03" in text
    assert f"View your order: {SAMPLE_ORDER.url}" in text
    assert "<" not in text and "&amp;" not in text
    assert "\n\n\n" not in text
    # The preview text belongs to the inbox list, not to the body.
    assert "as soon as your order ships" not in text


def test_subject_is_also_the_html_title(renderer: Renderer, store: StoreConfig) -> None:
    recipient, data = sample("order.shipped")
    mail = renderer.render("order.shipped", store=store, store_id="demo", recipient=recipient,
                           data=data, locales=["de"])
    assert mail.subject == "Ihre Bestellung Nr. 1042 ist unterwegs"
    assert f"<title>{mail.subject}</title>" in mail.html


def test_shipped_shows_tracking(renderer: Renderer, store: StoreConfig) -> None:
    recipient, data = sample("order.shipped")
    assert data.order is not None and data.order.tracking is not None
    mail = renderer.render("order.shipped", store=store, store_id="demo", recipient=recipient,
                           data=data, locales=["en"])
    tracking = data.order.tracking
    assert f"Carrier: {tracking.carrier}" in mail.text
    assert f"Tracking number: {tracking.number}" in mail.text
    assert f"Track your package: {tracking.url}" in mail.text
    assert f'href="{tracking.url}"' in mail.html


def test_password_reset_shows_button_and_url(renderer: Renderer, store: StoreConfig) -> None:
    recipient, data = sample("account.password_reset")
    assert data.reset_url is not None
    mail = renderer.render("account.password_reset", store=store, store_id="demo",
                           recipient=recipient, data=data, locales=["en"])
    escaped = data.reset_url.replace("&", "&amp;")
    assert mail.html.count(f'href="{escaped}"') == 2  # the button and the link
    assert f">{escaped}</a>" in mail.html
    assert data.reset_url in mail.text


def test_refund_wording_full_and_partial(renderer: Renderer, store: StoreConfig) -> None:
    recipient, data = sample("order.refunded")
    assert data.refund is not None and data.refund.partial
    partial = renderer.render("order.refunded", store=store, store_id="demo",
                              recipient=recipient, data=data, locales=["en"])
    full_data = data.model_copy(update={"refund": data.refund.model_copy(
        update={"partial": False, "amount": Decimal("417.03")})})
    full = renderer.render("order.refunded", store=store, store_id="demo",
                           recipient=recipient, data=full_data, locales=["en"])
    assert partial.subject == "Partial refund for order #1042"
    assert "partial refund of €49.00" in partial.text
    assert full.subject == "Your order #1042 has been refunded"
    assert "full refund of €417.03" in full.text


def test_invoice_pay_link_only_when_unpaid(renderer: Renderer, store: StoreConfig) -> None:
    recipient, data = sample("order.invoice")
    assert data.order is not None and data.order.pay_url
    unpaid = renderer.render("order.invoice", store=store, store_id="demo",
                             recipient=recipient, data=data, locales=["en"])
    assert f"Pay for this order: {data.order.pay_url}" in unpaid.text
    paid_data = data.model_copy(update={"order": data.order.model_copy(update={"pay_url": None})})
    paid = renderer.render("order.invoice", store=store, store_id="demo",
                           recipient=recipient, data=paid_data, locales=["en"])
    assert "Pay for this order" not in paid.text
    assert paid.subject == "Details of your order #1042"


def test_note_is_shown(renderer: Renderer, store: StoreConfig) -> None:
    recipient, data = sample("order.note")
    assert data.note is not None
    mail = renderer.render("order.note", store=store, store_id="demo", recipient=recipient,
                           data=data, locales=["en"])
    first, second = data.note.split("\n")
    assert first in mail.text and second in mail.text
    assert first in mail.html


def test_neutral_greeting_without_a_name(renderer: Renderer, store: StoreConfig) -> None:
    _, data = sample("order.placed")
    mail = renderer.render("order.placed", store=store, store_id="demo",
                           recipient=Recipient(email="x@example.com"), data=data,
                           locales=["fr"])
    assert "Bonjour," in mail.text
    assert "None" not in mail.text


def test_admin_mail_lists_the_customer(renderer: Renderer, store: StoreConfig) -> None:
    recipient, data = sample("admin.order.new")
    mail = renderer.render("admin.order.new", store=store, store_id="demo",
                           recipient=recipient, data=data, locales=["de"])
    assert mail.subject == "[Northwind Supply] Neue Bestellung Nr. 1042 (417,03\xa0€)"
    assert "ana@example.com" in mail.text
    assert "mailto:" not in mail.text
    assert "Kastanienallee 12" in mail.text
    assert "Deutschland" in mail.text


def test_logo_replaces_the_shop_name(
    renderer: Renderer, make_store: Callable[..., StoreConfig]
) -> None:
    store = make_store(branding=Branding(logo_url="https://cdn.example.com/logo.png",
                                         colour="#aa3366"))
    recipient, data = sample("order.placed")
    mail = renderer.render("order.placed", store=store, store_id="demo", recipient=recipient,
                           data=data, locales=["en"])
    assert 'src="https://cdn.example.com/logo.png"' in mail.html
    assert 'alt="Northwind Supply"' in mail.html
    assert "#aa3366" in mail.html  # the brand colour reaches buttons and links


def _bare(name: str) -> tuple[Recipient, EventData]:
    """The sample with every optional field emptied: no name, tracking, addresses, URLs…"""
    _, data = sample(name)
    recipient = Recipient(email="someone@example.com")
    if data.order is None:
        return recipient, EventData(reset_url=data.reset_url)
    order = Order(
        number="7", currency="USD", total=Decimal("12.5"),
        items=[LineItem(name="Plain thing", price=Decimal("12.5"))],
    )
    return recipient, EventData(order=order, refund=data.refund, note=data.note)


@pytest.mark.parametrize("locale", ["en", "de"])
@pytest.mark.parametrize("name", template_names())
def test_every_template_renders_with_bare_data(
    renderer: Renderer, make_store: Callable[..., StoreConfig], name: str, locale: str
) -> None:
    store = make_store(url=None, reply_to=None, branding={})
    recipient, data = _bare(name)
    mail = renderer.render(name, store=store, store_id="demo", recipient=recipient, data=data,
                           locales=[locale])
    assert "None" not in mail.text and ">None<" not in mail.html
    assert "Tracking" not in mail.text and "Sendungsverfolgung" not in mail.text
    if data.order is not None:
        assert "Plain thing" in mail.text
        assert format_currency(Decimal("12.5"), "USD", locale=locale) in mail.text
        assert "Discount" not in mail.text and "Rabatt" not in mail.text


def test_html_and_text_follow_the_same_branches(renderer: Renderer, store: StoreConfig) -> None:
    recipient, data = sample("order.shipped")
    assert data.order is not None
    untracked = EventData(order=data.order.model_copy(update={"tracking": None}))
    mail = renderer.render("order.shipped", store=store, store_id="demo", recipient=recipient,
                           data=untracked, locales=["en"])
    assert "Tracking information" not in mail.text
    assert "Tracking information" not in mail.html
    assert f"View your order: {data.order.url}" in mail.text
