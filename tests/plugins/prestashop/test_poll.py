"""Polling a fake PrestaShop webservice into a real hub: every mail once, in its language."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.hub_runner import RunningHub, config_text
from tests.plugins.prestashop.fake_ps import (
    AWAITING,
    CANCELED,
    DELIVERED,
    ERROR,
    KEY,
    PAID,
    PROCESSING,
    REFUNDED,
    SHIPPED,
    FakePrestaShop,
)
from tests.smtp_capture import CaptureServer, Received
from tidings.core.hub import Hub
from tidings.core.store.base import MessageFilter
from tidings.plugins.prestashop.client import PsClient, PsUnreachable
from tidings.plugins.prestashop.config import PrestaShopOptions
from tidings.plugins.prestashop.poll import poll_once, state_key
from tidings.plugins.prestashop.sync import NAMESPACE

STORE = "ps"
HISTORIES = "/api/order_histories"


def store_text(url: str, poll: float = 0) -> str:
    return f"""
[stores.{STORE}]
platform = "prestashop"
name = "Presta Shop"
from = "Presta Shop <shop@shop.example>"
admin_email = "owner@shop.example"
timezone = "Europe/Paris"

[stores.{STORE}.options]
url = "{url}"
api_key = "{KEY}"
poll_interval = {poll}
poll_overlap = 120
"""


@pytest.fixture
def fake() -> Iterator[FakePrestaShop]:
    with FakePrestaShop() as shop:
        yield shop


@pytest.fixture
def options(fake: FakePrestaShop) -> PrestaShopOptions:
    return PrestaShopOptions(url=fake.url, api_key=KEY, poll_overlap=120)


@pytest.fixture
async def hub(tmp_path: Path, smtp: CaptureServer, fake: FakePrestaShop) -> AsyncIterator[Hub]:
    path = tmp_path / "tidings.toml"  # poll_interval 0: the tests drive poll_once
    path.write_text(config_text(tmp_path, smtp.port, store=store_text(fake.url)),
                    encoding="utf-8")
    running = Hub.from_config(path)
    await running.start()
    try:
        yield running
    finally:
        await running.stop()


@pytest.fixture
async def client(fake: FakePrestaShop) -> AsyncIterator[PsClient]:
    async with PsClient(fake.url, KEY) as ps:
        yield ps


async def mails(hub: Hub) -> Counter[tuple[str, str]]:
    """(template, recipient) of every message queued or sent: what the hub will mail."""
    found = await hub.store.messages(MessageFilter(store_id=STORE, limit=10_000))
    return Counter((m.template, m.recipient_email) for m in found)


async def arrived(smtp: CaptureServer, count: int) -> list[Received]:
    """Wait (off the event loop, where the hub's worker runs) for ``count`` mails."""
    return await asyncio.to_thread(smtp.wait_for, count)


async def delivered(smtp: CaptureServer, count: int) -> Counter[str]:
    """Wait for ``count`` mails at the SMTP capture; recipients counted."""
    return Counter(m.rcpt_tos[0] for m in await arrived(smtp, count))


def old_shop(fake: FakePrestaShop) -> None:
    fake.add_customer(1, "old@example.com")
    fake.add_order(1, 1, state=PAID)
    fake.tick(60)
    fake.change(1, SHIPPED)
    fake.add_slip(1, 1, "10.00")


async def test_first_run_mails_nothing_old_then_an_old_order_is_judged_right(
        hub: Hub, fake: FakePrestaShop, options: PrestaShopOptions, client: PsClient,
        smtp: CaptureServer) -> None:
    old_shop(fake)
    first = await poll_once(hub, STORE, options, client)
    assert first.first_run
    await poll_once(hub, STORE, options, client)  # the overlap shows old rows again
    assert await mails(hub) == Counter()
    fake.tick(30)
    fake.change(1, DELIVERED)  # an order from before Tidings: not "new", but delivered
    await poll_once(hub, STORE, options, client)
    await poll_once(hub, STORE, options, client)
    assert await mails(hub) == Counter({("order.completed", "old@example.com"): 1})
    assert await delivered(smtp, 1) == Counter({"old@example.com": 1})


async def test_an_order_through_its_life_mails_each_step_once_in_the_customers_language(
        hub: Hub, fake: FakePrestaShop, options: PrestaShopOptions, client: PsClient,
        smtp: CaptureServer) -> None:
    old_shop(fake)
    await poll_once(hub, STORE, options, client)
    fake.tick(5)
    fake.add_customer(2, "marie@example.fr", lang=2, guest=True, first="Marie")
    fake.add_order(2, 2, state=AWAITING, currency=1, total="49.90")
    fake.add_customer(3, "john@example.com", lang=1, first="John")
    fake.add_order(3, 3, state=PAID, currency=2, total="59.00")
    await poll_once(hub, STORE, options, client)
    fake.tick(1)
    fake.change(2, PAID)
    fake.tick(1)
    fake.change(2, PROCESSING)  # paid → paid: no second payment mail
    await poll_once(hub, STORE, options, client)
    fake.tick(1)
    fake.put("order_carriers", 1, id_order=2, id_carrier=2, tracking_number="TRACK-123",
             weight="1.0", date_add=fake.stamp())
    fake.change(2, SHIPPED)
    fake.change(3, CANCELED)  # same second: the next window shows both, once each
    await poll_once(hub, STORE, options, client)
    fake.tick(1)
    fake.change(2, DELIVERED)
    for _ in range(3):
        await poll_once(hub, STORE, options, client)

    assert await mails(hub) == Counter({
        ("order.placed", "marie@example.fr"): 1, ("admin.order.new", "owner@shop.example"): 2,
        ("order.paid", "marie@example.fr"): 1, ("order.shipped", "marie@example.fr"): 1,
        ("order.completed", "marie@example.fr"): 1, ("order.placed", "john@example.com"): 1,
        ("order.cancelled", "john@example.com"): 1,
        ("admin.order.cancelled", "owner@shop.example"): 1,
        ("account.created", "john@example.com"): 1,  # registered; Marie is a guest: none
    })
    received = await arrived(smtp, 10)
    assert Counter(m.rcpt_tos[0] for m in received) == Counter({
        "marie@example.fr": 4, "john@example.com": 3, "owner@shop.example": 3})
    bodies = {m.rcpt_tos[0]: m.message for m in received}
    french = bodies["marie@example.fr"].get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "commande" in french.lower()
    shipped = [m for m in received if m.rcpt_tos == ["marie@example.fr"]
               and "TRACK-123" in m.message.get_body(("plain",)).get_content()]  # type: ignore[union-attr]
    assert len(shipped) == 1
    placed = next(m for m in received if m.rcpt_tos == ["john@example.com"]
                  and "59.00" in m.message.get_body(("plain",)).get_content())  # type: ignore[union-attr]
    assert placed is not None
    for seen in fake.requests(HISTORIES):
        if any(k.startswith("filter[date") for k in seen.params):
            assert seen.params["date"] == "1"
    for seen in fake.requests("/api/customers"):
        assert seen.params["display"] != "full"  # no password hashes, ever
        assert "passwd" not in seen.params["display"]


async def test_refunds_by_credit_slip_and_by_status_are_told_once(
        hub: Hub, fake: FakePrestaShop, options: PrestaShopOptions, client: PsClient,
        smtp: CaptureServer) -> None:
    await poll_once(hub, STORE, options, client)  # an empty shop: every list is []
    fake.add_customer(4, "ann@example.com")
    fake.add_order(4, 4, state=PAID, total="100.00")
    fake.add_customer(5, "bob@example.com")
    fake.add_order(5, 5, state=PAID, total="30.00")
    fake.add_order(6, 5, state=ERROR, total="12.00")
    await poll_once(hub, STORE, options, client)
    fake.tick(2)
    fake.add_slip(1, 4, "20.00", "0")  # partial
    fake.change(4, REFUNDED)  # told by the slip already
    fake.change(5, REFUNDED)  # no slip: a full refund
    for _ in range(2):
        await poll_once(hub, STORE, options, client)
    found = await hub.store.messages(MessageFilter(store_id=STORE, event_type="order.refunded",
                                                   limit=100))
    assert sorted(m.recipient_email for m in found) == ["ann@example.com", "bob@example.com"]
    counts = await mails(hub)
    assert counts[("order.failed", "bob@example.com")] == 1
    assert counts[("admin.order.failed", "owner@shop.example")] == 1
    received = await arrived(smtp, sum(counts.values()))
    assert len(received) == sum(counts.values())
    refunds = {m.rcpt_tos[0]: m.message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
               for m in received if "refund" in str(m.message["Subject"]).lower()}
    assert "20.00" in refunds["ann@example.com"]  # the slip's amount, not the order's
    assert "30.00" in refunds["bob@example.com"]


async def test_a_500_part_way_keeps_the_window_and_the_next_poll_recovers(
        hub: Hub, fake: FakePrestaShop, options: PrestaShopOptions, client: PsClient,
        smtp: CaptureServer) -> None:
    old_shop(fake)
    await poll_once(hub, STORE, options, client)
    before = await hub.store.get_state(NAMESPACE, state_key(STORE))
    fake.tick(5)
    for i in range(10, 160):  # 150 new orders: two pages of status changes
        fake.add_customer(i, f"buyer{i}@example.com")
        fake.add_order(i, i, state=PAID)
    fake.fail(HISTORIES, status=500, offset=100)
    with pytest.raises(PsUnreachable) as caught:
        await poll_once(hub, STORE, options, client)
    assert caught.value.status == 500
    after = await hub.store.get_state(NAMESPACE, state_key(STORE))
    assert after is not None and before is not None and after["since"] == before["since"]
    assert sum(n for (t, _), n in (await mails(hub)).items() if t == "order.placed") == 0
    report = await poll_once(hub, STORE, options, client)
    assert report.histories_seen == 150
    await poll_once(hub, STORE, options, client)
    counts = await mails(hub)
    assert sum(n for (t, _), n in counts.items() if t == "order.placed") == 150
    assert all(n == 1 for (t, _), n in counts.items() if t != "admin.order.new")
    received = await delivered(smtp, 450)  # placed + owner + welcome, for 150 buyers
    assert all(n == 2 for email, n in received.items() if email != "owner@shop.example")


async def test_a_restart_resumes_where_polling_stopped(
        tmp_path: Path, fake: FakePrestaShop, smtp: CaptureServer) -> None:
    old_shop(fake)
    path = tmp_path / "tidings.toml"
    path.write_text(config_text(tmp_path, smtp.port, store=store_text(fake.url, poll=0.05)),
                    encoding="utf-8")
    with RunningHub(path):
        await _polls(fake, 1)  # the first run recorded where the shop is
        fake.tick(5)
        fake.add_customer(7, "eve@example.com", lang=2)
        fake.add_order(7, 7, state=PAID)
        first = await delivered(smtp, 3)
        assert first == Counter({"eve@example.com": 2, "owner@shop.example": 1})
    fake.tick(5)
    fake.change(7, SHIPPED)  # while the hub is down
    with RunningHub(path):
        received = await delivered(smtp, 4)
        assert received == Counter({"eve@example.com": 3, "owner@shop.example": 1})
        fake.tick(5)
        fake.change(7, DELIVERED)
        assert (await delivered(smtp, 5))["eve@example.com"] == 4
        await _polls(fake, 3)  # a few more polls: nothing more is mailed
    subjects = Counter(str(m.message["Subject"]) for m in smtp.received)
    assert len(smtp.received) == 5 and all(n == 1 for n in subjects.values())


async def _polls(fake: FakePrestaShop, count: int) -> None:
    """Wait until the hub has read the status stream ``count`` more times."""
    target = len(fake.requests(HISTORIES)) + count
    async with asyncio.timeout(10):
        while len(fake.requests(HISTORIES)) < target:  # noqa: ASYNC110
            await asyncio.sleep(0.02)
