"""WooCommerce webhooks, signed as WooCommerce signs them, into a hub that really mails."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.hub_runner import RunningHub
from tests.plugins.woocommerce.conftest import SECRET_AS_SIGNED, fixture, wc_sign
from tests.smtp_capture import CaptureServer

URL = "/webhooks/woocommerce/woo"
_minute: datetime = datetime.now(UTC)


@pytest.fixture(autouse=True)
def _one_clock_per_test() -> None:
    """Pin the minute that ``stamp`` counts from when each test starts.

    Read afresh on every call, a test that straddled a minute boundary saw
    ``stamp(0)`` jump forward by one: the "stale" delivery came out as new as
    the one before it, and the order was mailed as placed twice.
    """
    global _minute
    _minute = datetime.now(UTC).replace(second=0, microsecond=0, tzinfo=None)


def stamp(minutes: int) -> str:
    """A GMT date as WooCommerce writes it, ``minutes`` after the test's first minute."""
    return (_minute + timedelta(minutes=minutes)).isoformat()


def order(status: str, minute: int, **changes: Any) -> dict[str, Any]:
    wc = fixture("woocommerce-order.json")
    wc.update(id=1001, number="1001", status=status, date_created_gmt=stamp(0),
              date_modified_gmt=stamp(minute), **changes)
    return wc


def deliver(hub: RunningHub, topic: str, payload: dict[str, Any], *,
            secret: str = SECRET_AS_SIGNED) -> httpx.Response:
    body = json.dumps(payload).encode()
    return httpx.post(f"{hub.url}{URL}", content=body, headers={
        "Content-Type": "application/json", "X-WC-Webhook-Topic": topic,
        "X-WC-Webhook-Resource": topic.split(".")[0], "X-WC-Webhook-Event": topic.split(".")[1],
        "X-WC-Webhook-Source": "https://shop.example/", "X-WC-Webhook-ID": "7",
        "X-WC-Webhook-Delivery-ID": "d41d8cd98f00b204e9800998ecf8427e",
        "X-WC-Webhook-Signature": wc_sign(body, secret),
        "User-Agent": "WooCommerce/9.4.0 Hookshot (WordPress/6.7)"})


def log(hub: RunningHub) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = hub.client.get(
        "/api/v1/messages", params={"limit": 100}).json()["messages"]
    return sorted(messages, key=lambda m: m["id"])


def settle(hub: RunningHub) -> list[dict[str, Any]]:
    return [hub.wait_status(m["id"], "sent") for m in log(hub)]


def test_ping_gets_exactly_200_and_changes_nothing(woo_hub: RunningHub) -> None:
    response = httpx.post(f"{woo_hub.url}{URL}", content=b"webhook_id=7",
                          headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 200
    assert log(woo_hub) == []


@pytest.mark.parametrize(("secret", "drop", "error"), [
    ("wrong", False, "invalid_signature"),
    ("s3cr&amp;et-Ünïcode", False, "invalid_signature"),  # not entity-decoded: wrong
    (SECRET_AS_SIGNED, True, "missing_signature"),
])
def test_bad_signatures_get_401_and_change_nothing(
    woo_hub: RunningHub, smtp: CaptureServer, secret: str, drop: bool, error: str
) -> None:
    body = json.dumps(order("processing", 1)).encode()
    headers = {"X-WC-Webhook-Topic": "order.created", "Content-Type": "application/json"}
    if not drop:
        headers["X-WC-Webhook-Signature"] = wc_sign(body, secret)
    response = httpx.post(f"{woo_hub.url}{URL}", content=body, headers=headers)
    assert response.status_code == 401 and response.json()["error"] == error
    assert log(woo_hub) == [] and smtp.received == []


def test_unknown_store_and_bad_bodies(woo_hub: RunningHub) -> None:
    assert httpx.post(f"{woo_hub.url}/webhooks/woocommerce/nope", content=b"{}").status_code == 404
    body = b"{not json"
    response = httpx.post(f"{woo_hub.url}{URL}", content=body, headers={
        "X-WC-Webhook-Topic": "order.created",
        "X-WC-Webhook-Signature": wc_sign(body, SECRET_AS_SIGNED)})
    assert response.status_code == 400 and response.json()["error"] == "malformed_json"
    broken = order("processing", 1, total="lots")
    response = deliver(woo_hub, "order.created", broken)
    assert response.status_code == 422 and "lots" in response.json()["detail"]
    assert log(woo_hub) == []


def test_life_of_an_order_mails_each_transition_once(
    woo_hub: RunningHub, smtp: CaptureServer
) -> None:
    assert deliver(woo_hub, "order.created", order("pending", 0)).status_code == 200
    assert log(woo_hub) == []  # WooCommerce mails nobody for a pending order
    paid = order("processing", 1)
    assert deliver(woo_hub, "order.updated", paid).status_code == 200
    assert deliver(woo_hub, "order.updated", paid).json()["events"] == []  # exact replay
    assert deliver(woo_hub, "order.updated", order("pending", 0)).json()["events"] == []  # stale
    deliver(woo_hub, "order.updated", order("processing", 2))  # another edit, same status
    refund = [{"id": 1201, "reason": "One item damaged", "total": "-6.00"}]
    deliver(woo_hub, "order.updated", order("processing", 3, refunds=refund))
    tracking = [{"id": 9, "key": "_wc_shipment_tracking_items", "value": [{
        "tracking_provider": "UPS", "tracking_number": "1Z999", "tracking_link":
        "https://ups.example/1Z999"}]}]
    deliver(woo_hub, "order.updated", order("completed", 4, refunds=refund, meta_data=tracking))
    deliver(woo_hub, "order.updated", order("completed", 4, refunds=refund, meta_data=tracking))
    sent = settle(woo_hub)
    assert [(m["template"], m["recipient"]["email"]) for m in sent] == [
        ("order.placed", "john.doe@example.com"), ("admin.order.new", "owner@shop.example"),
        ("order.refunded", "john.doe@example.com"), ("order.completed", "john.doe@example.com")]
    mails = smtp.wait_for(4)
    assert len(mails) == 4
    refund_mail = next(m for m in mails if "1201" not in m.raw.decode() and
                       m.message["Subject"] == sent[2]["subject"])
    text = refund_mail.message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "$6.00" in text and "1001" in text


def test_refund_in_full_and_cancellation(woo_hub: RunningHub) -> None:
    deliver(woo_hub, "order.created", order("on-hold", 0))
    deliver(woo_hub, "order.updated", order("cancelled", 1))
    deliver(woo_hub, "order.updated", order("processing", 2))
    deliver(woo_hub, "order.updated", order("refunded", 3, refunds=[
        {"id": 5, "reason": "", "total": "-29.35"}]))
    templates = [m["template"] for m in settle(woo_hub)]
    assert templates == ["order.on_hold", "admin.order.new", "order.cancelled",
                         "admin.order.cancelled", "order.placed", "admin.order.new",
                         "order.refunded"]


def test_customer_language_and_currency(woo_hub: RunningHub, smtp: CaptureServer) -> None:
    wc = order("processing", 1, currency="EUR")
    wc["billing"].update(first_name="Zoë", last_name="Müller-Łukasiewicz", country="DE")
    wc["meta_data"].append({"id": 3, "key": "wpml_language", "value": "fr"})
    deliver(woo_hub, "order.created", wc)
    customer = next(m for m in settle(woo_hub) if m["template"] == "order.placed")
    assert customer["recipient"]["locale"] == "fr"
    mail = next(m for m in smtp.wait_for(2) if m.rcpt_tos == ["john.doe@example.com"])
    assert str(mail.message["To"]) == "Zoë Müller-Łukasiewicz <john.doe@example.com>"
    text = mail.message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "29,35" in text and "€" in text  # French formatting of the EUR total
    assert "Bonjour" in text or "Merci" in text


def test_new_customer_and_note(woo_hub: RunningHub) -> None:
    customer = fixture("woocommerce-customer.json")
    customer["date_created_gmt"] = stamp(0)
    assert deliver(woo_hub, "customer.created", customer).status_code == 200
    deliver(woo_hub, "customer.created", customer)  # replay
    deliver(woo_hub, "order.created", order("processing", 1))
    note = {"action": "woocommerce_new_customer_note",
            "arg": {"order_id": 1001, "customer_note": "Your parcel leaves tomorrow."}}
    assert deliver(woo_hub, "action.woocommerce_new_customer_note", note).status_code == 200
    unknown = {"action": "woocommerce_new_customer_note",
               "arg": {"order_id": 4242, "customer_note": "Hello"}}
    response = deliver(woo_hub, "action.woocommerce_new_customer_note", unknown)
    assert response.status_code == 409 and response.json()["error"] == "unknown_order"
    templates = [m["template"] for m in settle(woo_hub)]
    assert templates == ["account.created", "order.placed", "admin.order.new", "order.note"]


def test_orders_from_before_tidings_are_not_mailed(woo_hub: RunningHub) -> None:
    old = fixture("woocommerce-order.json")  # created in 2017
    assert deliver(woo_hub, "order.updated", old).status_code == 200
    assert log(woo_hub) == []
    old.update(status="completed", date_modified_gmt=stamp(1))
    deliver(woo_hub, "order.updated", old)  # but its changes from now on are
    assert [m["template"] for m in settle(woo_hub)] == ["order.completed"]


def test_other_topics_are_acknowledged(woo_hub: RunningHub) -> None:
    response = deliver(woo_hub, "product.updated", {"id": 5})
    assert response.status_code == 200 and response.json()["events"] == []
    assert deliver(woo_hub, "order.deleted", {"id": 1001}).status_code == 200


def test_order_details_sent_by_the_owner(woo_hub: RunningHub, smtp: CaptureServer) -> None:
    wc = order("on-hold", 1, payment_url="https://shop.example/checkout/order-pay/1001/?pay")
    click = {"action": "tidings_order_invoice", "arg": wc, "request_id": "a1b2"}
    assert deliver(woo_hub, "action.tidings_order_invoice", click).status_code == 200
    again = deliver(woo_hub, "action.tidings_order_invoice", click)  # a retried delivery
    assert again.json()["events"][0]["duplicate"] is True
    deliver(woo_hub, "action.tidings_order_invoice", {**click, "request_id": "c3d4"})
    bad = deliver(woo_hub, "action.tidings_order_invoice", {"action": "x", "arg": wc})
    assert bad.status_code == 422
    sent = settle(woo_hub)
    assert [m["template"] for m in sent] == ["order.invoice", "order.invoice"]
    text = smtp.wait_for(2)[0].message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "https://shop.example/checkout/order-pay/1001/?pay" in text
