"""The way out: retries, permanent failures, failover, template errors, over real SMTP."""

from __future__ import annotations

from pathlib import Path

from tests.core.api.test_events import event
from tests.hub_runner import RunningHub, config_text
from tests.smtp_capture import CaptureServer, free_port


def test_4xx_is_retried_then_sent(hub: RunningHub, smtp: CaptureServer) -> None:
    smtp.refuse_next("451 4.3.0 Try again later", times=2)
    response = hub.post_event(event())
    record = hub.wait_status(response.json()["message_ids"][0], "sent")
    assert [a["outcome"] for a in record["history"]] == ["deferred", "deferred", "sent"]
    assert record["history"][0]["code"] == 451
    assert "Try again later" in record["history"][0]["reply"]
    assert record["attempts"] == 3
    assert len(smtp.wait_for(1)) == 1


def test_5xx_fails_permanently_with_the_reply(hub: RunningHub, smtp: CaptureServer) -> None:
    smtp.refuse_next("550 5.1.1 Mailbox does not exist")
    response = hub.post_event(event())
    record = hub.wait_status(response.json()["message_ids"][0], "failed")
    assert record["attempts"] == 1
    assert "550 5.1.1 Mailbox does not exist" in record["last_error"]
    assert record["history"][-1]["code"] == 550
    listed = hub.client.get("/api/v1/messages", params={"status": "failed"}).json()
    assert [m["id"] for m in listed["messages"]] == [record["id"]]


def test_gives_up_as_dead_after_max_attempts(tmp_path: Path, smtp: CaptureServer) -> None:
    path = tmp_path / "tidings.toml"
    path.write_text(config_text(tmp_path, smtp.port, delivery="max_attempts = 2"))
    smtp.refuse_next("421 4.7.0 Busy", times=5)
    with RunningHub(path) as hub:
        response = hub.post_event(event())
        record = hub.wait_status(response.json()["message_ids"][0], "dead")
    assert record["attempts"] == 2
    assert record["last_error"].startswith("gave up after 2 attempts")
    assert smtp.received == []


def test_fails_over_to_the_next_transport(tmp_path: Path, smtp: CaptureServer) -> None:
    store = f"""
[transports.down]
type = "smtp"
host = "127.0.0.1"
port = {free_port()}
security = "none"
timeout = 2

[stores.shop]
platform = "api"
name = "Test Shop"
from = "shop@shop.example"
transport = ["down", "main"]
"""
    path = tmp_path / "tidings.toml"
    path.write_text(config_text(tmp_path, smtp.port, store=store))
    with RunningHub(path) as hub:
        response = hub.post_event(event())
        record = hub.wait_status(response.json()["message_ids"][0], "sent")
    assert record["transport"] == "main"
    assert [(a["transport"], a["outcome"]) for a in record["history"]] == [
        ("down", "failover"), ("main", "sent")]
    assert "connection" in record["history"][0]["detail"].lower()
    assert len(smtp.wait_for(1)) == 1


def test_template_error_fails_visibly_and_sends_nothing(tmp_path: Path,
                                                         smtp: CaptureServer) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "order.paid.mjml").write_text(
        "<mjml><mj-head><mj-title>Paid {{ order.number }}</mj-title></mj-head><mj-body>"
        "<mj-section><mj-column><mj-text>{{ order.no_such_field }}</mj-text></mj-column>"
        "</mj-section></mj-body></mjml>")
    store = f"""
[stores.shop]
platform = "api"
name = "Test Shop"
from = "shop@shop.example"
templates_dir = "{templates}"
"""
    path = tmp_path / "tidings.toml"
    path.write_text(config_text(tmp_path, smtp.port, store=store))
    with RunningHub(path) as hub:
        paid = hub.post_event(event()).json()["message_ids"][0]
        shipped = hub.post_event(event(type="order.shipped")).json()["message_ids"][0]
        record = hub.wait_status(paid, "failed")
        hub.wait_status(shipped, "sent")
    assert "template error" in record["last_error"]
    assert "no_such_field" in record["last_error"]
    assert [m.message["Subject"] for m in smtp.wait_for(1)] != []
    assert len(smtp.received) == 1  # only the shipped mail left


def test_a_failed_message_can_be_resent(hub: RunningHub, smtp: CaptureServer) -> None:
    smtp.refuse_next("550 5.2.1 Mailbox disabled")
    first = hub.post_event(event()).json()["message_ids"][0]
    hub.wait_status(first, "failed")
    again = hub.client.post(f"/api/v1/messages/{first}/resend")
    assert again.status_code == 202
    [copy] = again.json()["message_ids"]
    assert copy != first
    record = hub.wait_status(copy, "sent")
    assert record["event_id"] == hub.client.get(f"/api/v1/messages/{first}").json()["event_id"]
    assert hub.client.get(f"/api/v1/messages/{first}").json()["status"] == "failed"
    assert len(smtp.wait_for(1)) == 1
    assert hub.client.post("/api/v1/messages/999/resend").status_code == 404
