"""POST /zapier/catch/<store> as "Webhooks by Zapier" sends it, into a hub that really mails."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.hub_runner import RunningHub
from tests.plugins.zapier.conftest import CATCH, ORDER_FIELDS, TOKEN, write_config, zapier_store
from tests.smtp_capture import CaptureServer

ZAPIER_HEADERS = {"User-Agent": "Zapier"}


def log(hub: RunningHub) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = hub.client.get("/api/v1/messages").json()["messages"]
    return messages


def test_form_catch_with_token_header_sends_the_mail(
    zap_hub: RunningHub, smtp: CaptureServer
) -> None:
    response = httpx.post(f"{zap_hub.url}{CATCH}", data=ORDER_FIELDS,
                          headers={**ZAPIER_HEADERS, "X-Tidings-Token": TOKEN})
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["ok"] is True and body["duplicate"] is False
    zap_hub.wait_status(body["message_ids"][0], "sent")
    [mail] = smtp.wait_for(1)
    assert mail.rcpt_tos == ["ana@example.com"]
    text = mail.message.get_body(("plain",))
    assert text is not None
    content = text.get_content()
    assert "1001" in content and "Linen shirt" in content and "Socks" in content


def test_json_catch_with_token_in_the_query(zap_hub: RunningHub, smtp: CaptureServer) -> None:
    payload = {"type": "order.shipped", "email": "ben@example.com",
               "order": {"number": "77", "currency": "usd", "total": "5.00",
                         "tracking": {"carrier": "UPS", "number": "1Z"}}}
    response = httpx.post(f"{zap_hub.url}{CATCH}", params={"token": TOKEN}, json=payload)
    assert response.status_code == 202, response.text
    zap_hub.wait_status(response.json()["message_ids"][0], "sent")
    assert smtp.wait_for(1)[0].rcpt_tos == ["ben@example.com"]


def test_json_with_dotted_keys_works_too(zap_hub: RunningHub) -> None:
    response = httpx.post(f"{zap_hub.url}{CATCH}", headers={"X-Tidings-Token": TOKEN},
                          content=json.dumps(ORDER_FIELDS))  # no content type: sniffed
    assert response.status_code == 202, response.text


@pytest.mark.parametrize(("headers", "params", "error"), [
    ({}, {}, "missing_token"),
    ({"X-Tidings-Token": "wrong-token-wrong-token"}, {}, "invalid_token"),
    ({}, {"token": TOKEN[:-1]}, "invalid_token"),
])
def test_a_missing_or_wrong_token_is_401_and_changes_nothing(
    zap_hub: RunningHub, headers: dict[str, str], params: dict[str, str], error: str
) -> None:
    url = f"{zap_hub.url}{CATCH}"
    form = httpx.post(url, headers=headers, params=params, data=ORDER_FIELDS)
    as_json = httpx.post(url, headers=headers, params=params, json=ORDER_FIELDS)
    for response in (form, as_json):
        assert response.status_code == 401 and response.json()["error"] == error
    assert log(zap_hub) == []


def test_replays_with_the_same_id_are_deduplicated(
    zap_hub: RunningHub, smtp: CaptureServer
) -> None:
    fields = {**ORDER_FIELDS, "id": "zap-run-42"}
    first = httpx.post(f"{zap_hub.url}{CATCH}", data=fields, headers={"X-Tidings-Token": TOKEN})
    again = httpx.post(f"{zap_hub.url}{CATCH}", json=fields, params={"token": TOKEN})
    assert first.status_code == 202 and again.status_code == 200
    assert again.json()["duplicate"] is True
    assert again.json()["event_id"] == first.json()["event_id"]
    zap_hub.wait_status(first.json()["message_ids"][0], "sent")
    assert len(log(zap_hub)) == 1 and len(smtp.wait_for(1)) == 1
    other = httpx.post(f"{zap_hub.url}{CATCH}", data={**fields, "id": "zap-run-43"},
                       headers={"X-Tidings-Token": TOKEN})
    assert other.status_code == 202


def test_bad_fields_are_422_with_paths(zap_hub: RunningHub) -> None:
    fields = {**ORDER_FIELDS, "email": "nope", "order.items.0.price": "cheap", "colour": "red"}
    del fields["order.total"]
    response = httpx.post(f"{zap_hub.url}{CATCH}", data=fields, headers={"X-Tidings-Token": TOKEN})
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "invalid_fields"
    assert {p["path"] for p in body["problems"]} == {
        "email", "order.items.0.price", "order.total", "colour"}
    assert log(zap_hub) == []


def test_unknown_stores_and_unreadable_bodies(
    tmp_path: Path, smtp: CaptureServer
) -> None:
    path = write_config(tmp_path, smtp, zapier_store() + """
[stores.other]
platform = "api"
name = "Other"
from = "shop@shop.example"
""")
    with RunningHub(path) as hub:
        auth = {"X-Tidings-Token": TOKEN}
        for store in ("nope", "other"):
            response = httpx.post(f"{hub.url}/zapier/catch/{store}", data=ORDER_FIELDS,
                                  headers=auth)
            assert response.status_code == 404 and response.json()["error"] == "unknown_store"
        url = f"{hub.url}{CATCH}"
        broken = httpx.post(url, content=b"{oops", headers={
            **auth, "Content-Type": "application/json"})
        assert broken.status_code == 400 and broken.json()["error"] == "malformed_json"
        listed = httpx.post(url, json=[1, 2], headers=auth)
        assert listed.status_code == 422 and listed.json()["error"] == "invalid_payload"
        multipart = httpx.post(url, files={"f": b"x"}, data={"type": "order.placed"},
                               headers=auth)
        assert multipart.status_code == 415
        huge = httpx.post(url, data={**ORDER_FIELDS, "note": "x" * 70_000}, headers=auth)
        assert huge.status_code == 413
        assert log(hub) == []
