"""End to end: a store whose first provider is down is served by the second, visibly."""

from __future__ import annotations

from pathlib import Path

from tests.core.api.test_events import event
from tests.core.transports.fake_provider import FakeProvider
from tests.core.transports.providers import POSTMARK, SENDGRID
from tests.hub_runner import RunningHub, config_text
from tests.smtp_capture import free_port


def test_fails_over_from_postmark_to_sendgrid(tmp_path: Path) -> None:
    with FakeProvider() as postmark, FakeProvider() as sendgrid:
        postmark.reset(lambda seen: (503, {"ErrorCode": 0, "Message": "Service Unavailable"},
                                     {"Retry-After": "30"}))
        sendgrid.reset(SENDGRID.handler())
        store = f"""
[transports.postmark]
type = "postmark"
server_token = "{POSTMARK.credentials['server_token']}"
base_url = "{postmark.url}"
timeout = 5

[transports.sendgrid]
type = "sendgrid"
api_key = "{SENDGRID.credentials['api_key']}"
base_url = "{sendgrid.url}"
timeout = 5

[stores.shop]
platform = "api"
name = "Test Shop"
from = "Test Shop <shop@shop.example>"
transport = ["postmark", "sendgrid"]
"""
        path = tmp_path / "tidings.toml"
        path.write_text(config_text(tmp_path, free_port(), store=store), encoding="utf-8")
        with RunningHub(path) as hub:
            response = hub.post_event(event())
            record = hub.wait_status(response.json()["message_ids"][0], "sent")
        assert [(a["transport"], a["outcome"]) for a in record["history"]] == [
            ("postmark", "failover"), ("sendgrid", "sent")]
        assert "503" in record["history"][0]["detail"]
        assert "retry-after: 30" in record["history"][0]["detail"].lower()
        assert record["transport"] == "sendgrid"
        assert record["provider_id"] == SENDGRID.provider_id
        assert len(postmark.requests) == 1
        [sent] = sendgrid.requests
        body = SENDGRID.read(sent)
        assert body["to"] == record["recipient"]["email"]
        assert body["message_id"] == record["message_id_header"]
