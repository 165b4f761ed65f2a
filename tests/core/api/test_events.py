"""POST /api/v1/events, driven over real HTTP into a real SMTP capture server."""

from __future__ import annotations

from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import pytest

from tests.hub_runner import RunningHub
from tests.smtp_capture import CaptureServer

ORDER = {
    "number": "1042",
    "currency": "EUR",
    "subtotal": "89.80",
    "shipping_total": "4.90",
    "tax_total": "15.12",
    "total": "94.70",
    "items": [
        {"name": "Linen shirt", "sku": "LS-1", "quantity": 2, "price": "29.90"},
        {"name": "Canvas tote", "sku": "CT-9", "quantity": 1, "price": "30.00"},
    ],
}


def event(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "store": "shop",
        "type": "order.paid",
        "recipient": {"email": "ana@example.com", "name": "Ana García", "locale": "en"},
        "data": {"order": ORDER},
    }
    body.update(overrides)
    return body


def parts(msg: EmailMessage) -> dict[str, str]:
    found = {}
    for part in msg.walk():
        if part.get_content_maintype() == "text":
            found[part.get_content_subtype()] = part.get_content()
    return found


def test_accepted_event_yields_one_well_formed_mail(hub: RunningHub, smtp: CaptureServer) -> None:
    response = hub.post_event(event())
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["duplicate"] is False and len(body["message_ids"]) == 1
    record = hub.wait_status(body["message_ids"][0], "sent")
    [mail] = smtp.wait_for(1)
    assert mail.rcpt_tos == ["ana@example.com"]
    msg = mail.message
    assert msg.get_content_type() == "multipart/alternative"
    assert str(msg["To"]) == "Ana García <ana@example.com>"
    assert msg["Message-ID"].endswith("@shop.example>")
    assert msg["Date"] is not None
    assert msg["Subject"] == record["subject"] and "1042" in record["subject"]
    body_parts = parts(msg)
    assert set(body_parts) == {"plain", "html"}
    assert "Linen shirt" in body_parts["plain"] and "1042" in body_parts["plain"]
    assert "Linen shirt" in body_parts["html"]
    assert "€94.70" in body_parts["plain"]
    assert record["history"][-1]["outcome"] == "sent"
    assert record["history"][-1]["reply"].startswith("250")
    assert record["transport"] == "main"


@pytest.mark.parametrize("event_type", ["order.placed", "admin.order.new", "order.cancelled"])
def test_every_event_makes_exactly_one_mail(hub: RunningHub, smtp: CaptureServer,
                                            event_type: str) -> None:
    response = hub.post_event(event(type=event_type))
    assert response.status_code == 202
    [message_id] = response.json()["message_ids"]
    assert hub.wait_status(message_id, "sent")["template"] == event_type
    [mail] = smtp.wait_for(1)
    assert mail.rcpt_tos == ["ana@example.com"]


def test_repeated_idempotency_key_creates_nothing(hub: RunningHub, smtp: CaptureServer) -> None:
    first = hub.post_event(event(idempotency_key="order-1042-paid"))
    again = hub.post_event(event(idempotency_key="order-1042-paid"))
    assert first.status_code == 202 and again.status_code == 200
    assert again.json() == {**first.json(), "duplicate": True}
    by_header = hub.post_event(event(), headers={"Idempotency-Key": "order-1042-paid"})
    assert by_header.status_code == 200
    hub.wait_status(first.json()["message_ids"][0], "sent")
    assert len(hub.client.get("/api/v1/messages").json()["messages"]) == 1
    assert len(smtp.wait_for(1)) == 1


def test_crlf_in_name_cannot_inject_headers(hub: RunningHub, smtp: CaptureServer) -> None:
    evil = "Eve\r\nBcc: victim@example.com\r\nX-Evil: 1"
    response = hub.post_event(event(recipient={"email": "eve@example.com", "name": evil}))
    assert response.status_code == 202, response.text
    hub.wait_status(response.json()["message_ids"][0], "sent")
    [mail] = smtp.wait_for(1)
    assert mail.rcpt_tos == ["eve@example.com"]
    head = mail.raw.split(b"\r\n\r\n", 1)[0]
    assert b"\r\nBcc:" not in head and b"\r\nX-Evil:" not in head
    assert mail.message["Bcc"] is None and mail.message["X-Evil"] is None


@pytest.mark.parametrize(
    ("headers", "key"),
    [({}, "missing_api_key"), ({"Authorization": "Bearer wrong-key-0123456789"}, "invalid_api_key"),
     ({"Authorization": "Basic dGVzdDp0ZXN0"}, "missing_api_key")],
)
def test_bad_keys_are_refused(hub: RunningHub, smtp: CaptureServer, headers: dict[str, str],
                              key: str) -> None:
    import httpx

    response = httpx.post(f"{hub.url}/api/v1/events", json=event(), headers=headers)
    assert response.status_code == 401
    assert response.json()["error"] == key
    assert hub.client.get("/api/v1/messages").json()["messages"] == []


def test_malformed_json_is_400(hub: RunningHub) -> None:
    response = hub.client.post("/api/v1/events", content=b'{"store": "shop",',
                               headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"] == "malformed_json"


def test_oversized_body_is_413(hub: RunningHub) -> None:
    big = event(data={"order": ORDER, "extra": {"blob": "x" * 70_000}})
    response = hub.post_event(big)
    assert response.status_code == 413
    assert "max_body_bytes" in response.json()["detail"]
    assert hub.client.get("/api/v1/messages").json()["messages"] == []


@pytest.mark.parametrize(
    ("body", "status", "error", "mentions"),
    [
        (event(store="nope"), 422, "unknown_store", "nope"),
        (event(type="order.teleported"), 422, "unknown_event_type", "order.teleported"),
        (event(type="account.password_reset", data={}), 422, "missing_data", "data.reset_url"),
        (event(data={}), 422, "missing_data", "data.order"),
        (event(recipient={"email": "not-an-address"}), 422, "invalid_request", "recipient.email"),
        (event(data={"order": {**ORDER, "total": "lots"}}), 422, "invalid_request",
         "data.order.total"),
        (event(colour="red"), 422, "invalid_request", "colour"),
    ],
)
def test_invalid_events_say_why_and_change_nothing(
    hub: RunningHub, smtp: CaptureServer, body: dict[str, Any], status: int, error: str,
    mentions: str,
) -> None:
    response = hub.post_event(body)
    assert response.status_code == status, response.text
    assert response.json()["error"] == error
    assert mentions in response.text
    assert hub.client.get("/api/v1/messages").json()["messages"] == []
    assert smtp.received == []


def test_hub_stays_up_and_healthy(hub: RunningHub) -> None:
    hub.client.post("/api/v1/events", content=b"\xff\xfe garbage")
    health = hub.client.get("/healthz")
    assert health.status_code == 200 and health.json()["status"] == "ok"
    assert "/api/v1/events" in hub.client.get("/openapi.json").json()["paths"]
    assert hub.client.get("/docs").status_code == 200


def test_oversized_chunked_body_is_413(hub: RunningHub) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"store": "shop", "type": "order.paid", "data": {"extra": {"blob": "'
        for _ in range(100):
            yield b"x" * 1000
        yield b'"}}}'

    response = hub.client.post("/api/v1/events", content=chunks(),
                               headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.json()["error"] == "body_too_large"
