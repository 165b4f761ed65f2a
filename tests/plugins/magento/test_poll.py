"""Polling a fake Magento into a real hub: life cycles, cursors, overlap, failures, first run."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from tests.plugins.magento.conftest import STORE
from tests.plugins.magento.fake_magento import (
    FakeMagento,
    make_creditmemo,
    make_customer,
    make_invoice,
    make_order,
    make_shipment,
    mg_date,
)
from tidings.core.hub import Hub
from tidings.core.store.base import MessageFilter
from tidings.plugins.magento.client import MagentoClient, MagentoUnreachable
from tidings.plugins.magento.config import MagentoOptions
from tidings.plugins.magento.poll import cursor_key, poll_once, run_poller
from tidings.plugins.magento.sync import NAMESPACE, baseline

CURSOR = "searchCriteria[filter_groups][0][filters][0][value]"


async def mails(hub: Hub) -> Counter[tuple[str, str, str | None]]:
    """Queued or sent messages: (template, recipient, locale) → how many."""
    found = await hub.store.messages(MessageFilter(store_id=STORE, limit=10_000))
    return Counter((m.template, m.recipient_email, m.locale) for m in found)


async def templates(hub: Hub) -> Counter[str]:
    return Counter(t for (t, _e, _l), n in (await mails(hub)).items() for _ in range(n))


async def test_first_run_mails_nothing_from_before_tidings(
        hub: Hub, fake: FakeMagento, options: MagentoOptions, client: MagentoClient) -> None:
    start = await baseline(hub, STORE)
    old = start - timedelta(days=3)
    for i in range(1, 4):  # old orders, one touched just now (e.g. invoiced long after)
        fake.put("orders", make_order(i, created=old, state="processing"))
    order = fake.put("orders", make_order(4, created=old, updated=start - timedelta(seconds=30),
                                          state="processing"))
    fake.put("invoices", make_invoice(40, order, created=start - timedelta(seconds=30)))
    fake.put("customers", make_customer(1, created=start - timedelta(seconds=10)))
    report = await poll_once(hub, STORE, options, client)
    assert report.seen["orders"] == 1 and report.seen["invoices"] == 1
    assert report.accepted == 0 and await mails(hub) == Counter()
    window = mg_date(start - timedelta(seconds=300))
    assert {s.params[CURSOR] for s in fake.seen} == {window}
    assert await hub.store.get_state(NAMESPACE, cursor_key(STORE, "orders")) == start.isoformat()

    # What happens to a known old order from now on is mailed, once.
    later = start + timedelta(seconds=5)
    fake.put("orders", make_order(4, created=old, updated=later, state="canceled"))
    fake.put("creditmemos", make_creditmemo(41, order, created=later, amount=165))
    for _ in range(2):
        await poll_once(hub, STORE, options, client)
    assert await templates(hub) == Counter({"order.cancelled": 1, "admin.order.cancelled": 1,
                                            "order.refunded": 1})


async def test_orders_through_their_life_cycle_mail_each_step_once(
        hub: Hub, fake: FakeMagento, options: MagentoOptions, client: MagentoClient) -> None:
    start = await baseline(hub, STORE)
    t = [start + timedelta(seconds=s) for s in range(0, 60, 5)]
    de = fake.put("orders", make_order(1, created=t[1], store_id=2, currency="EUR",
                                       email="kunde@example.de"))
    guest = fake.put("orders", make_order(2, created=t[1], store_id=3, guest=True,
                                          currency="EUR", email="invite@example.fr"))
    fake.put("customers", make_customer(7, created=t[1], store_id=2, email="neu@example.de"))
    await poll_once(hub, STORE, options, client)
    await poll_once(hub, STORE, options, client)  # the overlap shows everything again
    assert await mails(hub) == Counter({
        ("order.placed", "kunde@example.de", "de_DE"): 1,
        ("order.placed", "invite@example.fr", "fr_FR"): 1,
        ("admin.order.new", "owner@shop.example", "en"): 2,
        ("account.created", "neu@example.de", "de_DE"): 1})

    # Paid, shipped, partly refunded; a third order placed and cancelled between polls.
    fake.put("orders", {**de, "state": "processing", "updated_at": mg_date(t[2])})
    fake.put("invoices", make_invoice(11, de, created=t[2]))
    fake.put("shipments", make_shipment(12, de, created=t[3],
                                        tracks=[("dhl", "DHL", "JJD0001")]))
    fake.put("creditmemos", make_creditmemo(13, guest, created=t[3], amount=20))
    fake.put("orders", make_order(3, created=t[3], updated=t[4], state="canceled"))
    for _ in range(3):
        await poll_once(hub, STORE, options, client)
    assert await templates(hub) == Counter({
        "order.placed": 3, "admin.order.new": 3, "account.created": 1, "order.paid": 1,
        "order.shipped": 1, "order.refunded": 1, "order.cancelled": 1,
        "admin.order.cancelled": 1})
    refunded = [m for m in await hub.store.messages(MessageFilter(store_id=STORE))
                if m.template == "order.refunded"]
    assert [(m.recipient_email, m.locale) for m in refunded] == [("invite@example.fr", "fr_FR")]


async def test_online_payment_orders_are_confirmed_when_paid_and_abandoned_ones_never(
        hub: Hub, fake: FakeMagento, options: MagentoOptions, client: MagentoClient) -> None:
    start = await baseline(hub, STORE)
    paid = fake.put("orders", make_order(1, created=start, state="pending_payment"))
    gone = fake.put("orders", make_order(2, created=start, state="pending_payment"))
    await poll_once(hub, STORE, options, client)
    assert await templates(hub) == Counter()
    later = mg_date(start + timedelta(seconds=3))
    fake.put("orders", {**paid, "state": "processing", "updated_at": later})
    fake.put("orders", {**gone, "state": "canceled", "updated_at": later})
    await poll_once(hub, STORE, options, client)
    await poll_once(hub, STORE, options, client)
    assert await templates(hub) == Counter({"order.placed": 1, "admin.order.new": 1})


async def test_a_500_part_way_keeps_the_cursor_and_the_next_poll_recovers(
        hub: Hub, fake: FakeMagento, options: MagentoOptions, client: MagentoClient) -> None:
    start = await baseline(hub, STORE)
    await poll_once(hub, STORE, options, client)
    before = await hub.store.get_state(NAMESPACE, cursor_key(STORE, "orders"))
    for i in range(1, 26):  # page_size 10: three pages
        fake.put("orders", make_order(i, created=start + timedelta(seconds=1 + i % 4)))
    fake.fail("orders", page=2, status=500)
    with pytest.raises(MagentoUnreachable):
        await poll_once(hub, STORE, options, client)
    assert await hub.store.get_state(NAMESPACE, cursor_key(STORE, "orders")) == before
    assert (await templates(hub))["order.placed"] == 10  # page 1 was handled, once
    report = await poll_once(hub, STORE, options, client)
    assert report.seen["orders"] == 25
    assert (await templates(hub))["order.placed"] == 25
    after = await hub.store.get_state(NAMESPACE, cursor_key(STORE, "orders"))
    assert after >= before  # never backwards (it stops at the poll's start)


async def test_run_poller_survives_failures_and_backs_off(
        hub: Hub, fake: FakeMagento, options: MagentoOptions,
        caplog: pytest.LogCaptureFixture) -> None:
    fast = options.model_copy(update={"poll_interval": 0.05})
    fake.fail("orders", status=500, times=2)
    start = await baseline(hub, STORE)
    fake.put("orders", make_order(5, created=start + timedelta(seconds=1)))
    caplog.set_level(logging.INFO, logger="tidings.core.polling")
    task = asyncio.get_running_loop().create_task(run_poller(hub, STORE, fast))
    try:
        async with asyncio.timeout(15):
            while not any("works again" in r.getMessage() for r in caplog.records):  # noqa: ASYNC110
                await asyncio.sleep(0.02)
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    failures = [r for r in caplog.records if "poll failed" in r.getMessage()]
    assert len(failures) == 2 and "HTTP 500" in failures[0].getMessage()
    assert (await templates(hub))["order.placed"] == 1


def test_dates_are_utc() -> None:
    assert mg_date(datetime(2024, 5, 1, 10, 0, tzinfo=UTC)) == "2024-05-01 10:00:00"
