"""REST-hook triggers against a local receiver standing in for Zapier's hook URLs."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.hub_runner import RunningHub
from tests.plugins.zapier.conftest import (
    CATCH,
    ORDER_FIELDS,
    TOKEN,
    Receiver,
    drained,
    order_event,
    wait_until,
    write_config,
    zapier_store,
)
from tests.smtp_capture import CaptureServer


def subscribe(hub: RunningHub, url: str, event: str, **extra: str) -> str:
    response = hub.client.post("/zapier/hooks", json={"url": url, "event": event, **extra})
    assert response.status_code == 201, response.text
    sub_id: str = response.json()["id"]
    return sub_id


def test_subscriptions_need_an_api_key_and_a_known_event(zap_hub: RunningHub) -> None:
    body = {"url": "https://hooks.zapier.com/hooks/standard/1/abc/", "event": "order.placed"}
    assert httpx.post(f"{zap_hub.url}/zapier/hooks", json=body).status_code == 401
    assert httpx.get(f"{zap_hub.url}/zapier/me").status_code == 401
    bad = zap_hub.client.post("/zapier/hooks", json={**body, "event": "order.exploded"})
    assert bad.status_code == 422 and bad.json()["error"] == "unknown_event"
    assert zap_hub.client.post("/zapier/hooks", json={**body, "url": "ftp://x"}).status_code == 422
    made = zap_hub.client.post("/zapier/hooks", json=body)
    assert made.status_code == 201
    assert made.json()["store"] == "zap"  # the only Zapier store
    for kind in ("message.sent", "message.delivered", "message.bounced", "message.failed"):
        assert zap_hub.client.post("/zapier/hooks", json={**body, "event": kind}).status_code == 201
    assert len(zap_hub.client.get("/zapier/hooks").json()) == 5
    me = zap_hub.client.get("/zapier/me").json()
    assert me["default_store"] == "zap" and "order.placed" in [e["key"] for e in me["events"]]


def test_one_post_per_event_with_a_stable_id(
    zap_hub: RunningHub, receiver: Receiver, smtp: CaptureServer
) -> None:
    subscribe(zap_hub, receiver.target("placed"), "order.placed")
    subscribe(zap_hub, receiver.target("sent"), "message.sent")
    subscribe(zap_hub, receiver.target("shipped"), "order.shipped")
    accepted = zap_hub.post_event(order_event("1001")).json()
    [placed] = receiver.wait_for("placed", 1)
    [sent] = receiver.wait_for("sent", 1)
    drained(zap_hub)
    assert len(receiver.at("placed")) == 1 and len(receiver.at("sent")) == 1
    assert receiver.at("shipped") == []
    assert placed.body["id"] == f"zap:event:{accepted['event_id']}"
    assert placed.body["kind"] == "order.placed"
    assert placed.body["data"]["order"]["number"] == "1001"
    assert placed.body["recipient"]["email"] == "ana@example.com"
    assert sent.body["id"] == f"zap:message:{accepted['message_ids'][0]}:sent"
    assert sent.body["state"] == "sent" and sent.body["subject"]
    # A caught event fires too; a replay of it does not fire again.
    fields = {**ORDER_FIELDS, "id": "run-1"}
    for _ in range(2):
        httpx.post(f"{zap_hub.url}{CATCH}", data=fields, headers={"X-Tidings-Token": TOKEN})
    receiver.wait_for("placed", 2)
    receiver.wait_for("sent", 2)
    drained(zap_hub)
    assert len(receiver.at("placed")) == 2 and len(receiver.at("sent")) == 2
    # The sample step sees the same items, newest first.
    samples = zap_hub.client.get("/zapier/samples/order.placed").json()
    assert [s["id"] for s in samples] == [h.body["id"] for h in reversed(receiver.at("placed"))]
    assert zap_hub.client.get("/zapier/samples/order.refunded").json() == []
    assert zap_hub.client.get("/zapier/samples/nope").status_code == 422


def test_failed_deliveries_are_retried_with_the_same_id(
    zap_hub: RunningHub, receiver: Receiver
) -> None:
    receiver.answers["placed"] = [500, 503, 429]
    subscribe(zap_hub, receiver.target("placed"), "order.placed")
    zap_hub.post_event(order_event())
    hits = receiver.wait_for("placed", 4)
    drained(zap_hub)
    assert len(receiver.at("placed")) == 4
    assert len({h.body["id"] for h in hits}) == 1
    assert len({h.headers["x-tidings-delivery"] for h in hits}) == 1
    assert hits[0].body == hits[-1].body


def test_410_removes_the_subscription(zap_hub: RunningHub, receiver: Receiver) -> None:
    receiver.answers["gone"] = [410]
    subscribe(zap_hub, receiver.target("gone"), "order.placed")
    kept = subscribe(zap_hub, receiver.target("kept"), "order.placed")
    zap_hub.post_event(order_event("1"))
    receiver.wait_for("gone", 1)
    receiver.wait_for("kept", 1)
    drained(zap_hub)
    assert [s["id"] for s in zap_hub.client.get("/zapier/hooks").json()] == [kept]
    zap_hub.post_event(order_event("2"))
    receiver.wait_for("kept", 2)
    drained(zap_hub)
    assert len(receiver.at("gone")) == 1


def test_unsubscribe_stops_deliveries(zap_hub: RunningHub, receiver: Receiver) -> None:
    sub = subscribe(zap_hub, receiver.target("placed"), "order.placed")
    zap_hub.post_event(order_event("1"))
    receiver.wait_for("placed", 1)
    assert zap_hub.client.delete(f"/zapier/hooks/{sub}").status_code == 200
    assert zap_hub.client.delete(f"/zapier/hooks/{sub}").status_code == 404
    zap_hub.post_event(order_event("2"))
    # Observed (it becomes the newest sample), yet nobody is subscribed any more.
    wait_until(lambda: zap_hub.client.get("/zapier/samples/order.placed").json()[0]["data"][
        "order"]["number"] == "2", "the second event's sample")
    drained(zap_hub)
    assert len(receiver.at("placed")) == 1


def test_failed_mails_fire_message_failed(
    zap_hub: RunningHub, receiver: Receiver, smtp: CaptureServer
) -> None:
    subscribe(zap_hub, receiver.target("failed"), "message.failed")
    smtp.refuse_next("550 5.1.1 No such user")
    message_id = zap_hub.post_event(order_event()).json()["message_ids"][0]
    [hit] = receiver.wait_for("failed", 1)
    assert hit.body["id"] == f"zap:message:{message_id}:failed"
    assert hit.body["state"] == "failed"


def test_pending_deliveries_survive_a_restart(
    tmp_path: Path, smtp: CaptureServer, receiver: Receiver
) -> None:
    path = write_config(tmp_path, smtp, zapier_store("max_attempts = 100"))
    receiver.answers["placed"] = [503] * 1000
    with RunningHub(path) as first:
        subscribe(first, receiver.target("placed"), "order.placed")
        event_id = first.post_event(order_event()).json()["event_id"]
        receiver.wait_for("placed", 1)
    with receiver.lock:
        receiver.answers.clear()
        before = len(receiver.at("placed"))
    with RunningHub(path) as second:
        hits = receiver.wait_for("placed", before + 1)
        drained(second)
    assert {h.body["id"] for h in hits} == {f"zap:event:{event_id}"}


def test_several_zapier_stores_need_the_store_named(
    tmp_path: Path, smtp: CaptureServer, receiver: Receiver
) -> None:
    path = write_config(tmp_path, smtp, zapier_store() + zapier_store(store_id="zap2"))
    with RunningHub(path) as hub:
        body = {"url": receiver.target("x"), "event": "order.placed"}
        vague = hub.client.post("/zapier/hooks", json=body)
        assert vague.status_code == 422 and vague.json()["error"] == "store_required"
        unknown = hub.client.post("/zapier/hooks", json={**body, "store": "nope"})
        assert unknown.status_code == 422 and unknown.json()["error"] == "unknown_store"
        subscribe(hub, receiver.target("two"), "order.placed", store="zap2")
        hub.post_event(order_event("1", store="zap"))
        hub.post_event(order_event("2", store="zap2"))
        [hit] = receiver.wait_for("two", 1)
        drained(hub)
        assert hit.body["store"] == "zap2" and len(receiver.at("two")) == 1
        assert hub.client.get("/zapier/samples/order.placed").status_code == 422
        assert len(hub.client.get("/zapier/samples/order.placed",
                                  params={"store": "zap"}).json()) == 1
