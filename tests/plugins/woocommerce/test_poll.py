"""Polling a fake WooCommerce into a real hub: cursors, overlap, failures, first run."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.hub_runner import config_text
from tests.plugins.woocommerce.fake_woo import FakeWoo, make_customer, make_order, wc_date
from tests.smtp_capture import CaptureServer
from tidings.core.hub import Hub
from tidings.core.store.base import MessageFilter
from tidings.plugins.woocommerce.client import WooClient, WooUnreachable
from tidings.plugins.woocommerce.config import WooOptions
from tidings.plugins.woocommerce.poll import (
    customer_cursor_key,
    orders_cursor_key,
    poll_once,
    run_poller,
)
from tidings.plugins.woocommerce.sync import NAMESPACE, baseline

KEY, SECRET = "ck_poll", "cs_poll"
STORE = "woo"
ORDERS = "/wp-json/wc/v3/orders"


@pytest.fixture
def fake() -> Iterator[FakeWoo]:
    with FakeWoo() as shop:
        shop.add_key(KEY, SECRET)
        yield shop


@pytest.fixture
def options(fake: FakeWoo) -> WooOptions:
    return WooOptions(url=fake.url, consumer_key=KEY, consumer_secret=SECRET,  # type: ignore[arg-type]
                      poll_interval=60, poll_overlap=300)


@pytest.fixture
async def hub(tmp_path: Path, smtp: CaptureServer, fake: FakeWoo) -> AsyncIterator[Hub]:
    # poll_interval stays 0 in the file: the tests drive poll_once themselves.
    store = f"""
[stores.{STORE}]
platform = "woocommerce"
name = "Woo Shop"
from = "Woo Shop <shop@shop.example>"
admin_email = "owner@shop.example"

[stores.{STORE}.options]
url = "{fake.url}"
webhook_secret = "whsec"
consumer_key = "{KEY}"
consumer_secret = "{SECRET}"
"""
    path = tmp_path / "tidings.toml"
    path.write_text(config_text(tmp_path, smtp.port, store=store), encoding="utf-8")
    running = Hub.from_config(path)
    await running.start()
    try:
        yield running
    finally:
        await running.stop()


@pytest.fixture
async def client(fake: FakeWoo) -> AsyncIterator[WooClient]:
    async with WooClient(fake.url, KEY, SECRET) as woo:
        yield woo


async def mails(hub: Hub) -> Counter[str]:
    """Queued or sent messages per template: what the hub will mail."""
    found = await hub.store.messages(MessageFilter(store_id=STORE, limit=10_000))
    return Counter(m.template for m in found)


async def cursor(hub: Hub) -> datetime | None:
    value = await hub.store.get_state(NAMESPACE, orders_cursor_key(STORE))
    return None if value is None else datetime.fromisoformat(value)


async def test_first_run_mails_nothing_from_before_tidings(
        hub: Hub, fake: FakeWoo, options: WooOptions, client: WooClient) -> None:
    start = await baseline(hub, STORE)
    for i in range(1, 4):  # old orders, one touched just now (e.g. marked completed)
        fake.put_order(make_order(i, status="processing", created=start - timedelta(days=3),
                                  modified=start - timedelta(days=3)))
    fake.put_order(make_order(4, status="completed", created=start - timedelta(days=2),
                              modified=start - timedelta(seconds=30)))
    for i in range(1, 6):
        fake.put_customer(make_customer(i, created=start - timedelta(days=i)))
    report = await poll_once(hub, STORE, options, client)
    assert report.orders_seen == 1 and report.accepted == 0
    assert await mails(hub) == Counter()
    (seen,) = fake.requests(ORDERS)
    assert seen.params["modified_after"] == wc_date(start - timedelta(seconds=300))
    assert await hub.store.get_state(NAMESPACE, customer_cursor_key(STORE)) == 5
    assert await cursor(hub) == start  # nothing newer than the baseline yet

    # What happens to a known order from now on is mailed, once.
    fake.put_order(make_order(4, status="refunded", created=start - timedelta(days=2),
                              modified=datetime.now(UTC)))
    await poll_once(hub, STORE, options, client)
    await poll_once(hub, STORE, options, client)
    assert (await mails(hub))["order.refunded"] == 1


async def test_new_order_mails_once_though_the_overlap_shows_it_again(
        hub: Hub, fake: FakeWoo, options: WooOptions, client: WooClient) -> None:
    start = await baseline(hub, STORE)
    fake.put_order(make_order(10, created=start + timedelta(seconds=1),
                              modified=start + timedelta(seconds=2)))
    first = await poll_once(hub, STORE, options, client)
    assert first.orders_seen == 1 and first.accepted >= 1
    assert (await mails(hub))["order.placed"] == 1
    moved = await cursor(hub)
    assert moved is not None and start < moved <= datetime.now(UTC)

    # An order whose modification was saved late: older than the cursor, inside the overlap.
    fake.put_order(make_order(11, created=start + timedelta(seconds=1),
                              modified=moved - timedelta(seconds=120)))
    second = await poll_once(hub, STORE, options, client)
    assert second.orders_seen == 2  # order 10 again, and the late order 11
    assert fake.requests(ORDERS)[-1].params["modified_after"] == wc_date(
        moved - timedelta(seconds=300))
    assert (await mails(hub))["order.placed"] == 2  # 10 once, 11 once
    later = await cursor(hub)
    assert later is not None and later >= moved  # never backwards

    fake.put_order(make_order(10, status="completed", created=start + timedelta(seconds=1),
                              modified=start + timedelta(seconds=3)))
    await poll_once(hub, STORE, options, client)
    await poll_once(hub, STORE, options, client)
    counts = await mails(hub)
    assert (counts["order.placed"], counts["order.completed"]) == (2, 1)


async def test_all_pages_are_read_and_the_cursor_takes_the_newest_change(
        hub: Hub, fake: FakeWoo, options: WooOptions, client: WooClient) -> None:
    start = await baseline(hub, STORE)
    old = start - timedelta(days=30)
    for i in range(1, 231):  # history touched after the baseline: recorded, not mailed
        fake.put_order(make_order(i, created=old, modified=start + timedelta(seconds=i % 7)))
    for i in range(231, 234):
        fake.put_order(make_order(i, created=start + timedelta(seconds=1),
                                  modified=start + timedelta(seconds=2)))
    report = await poll_once(hub, STORE, options, client)
    assert report.orders_seen == 233
    assert [s.params["page"] for s in fake.requests(ORDERS)] == ["1", "2", "3"]
    assert (await mails(hub))["order.placed"] == 3
    newest = datetime.fromisoformat(wc_date(start + timedelta(seconds=6))).replace(tzinfo=UTC)
    assert await cursor(hub) == report.orders_cursor
    assert start <= report.orders_cursor <= newest


async def test_a_500_part_way_keeps_the_cursor_and_the_next_poll_recovers(
        hub: Hub, fake: FakeWoo, options: WooOptions, client: WooClient) -> None:
    start = await baseline(hub, STORE)
    await poll_once(hub, STORE, options, client)  # first run: cursor at the baseline
    before = await cursor(hub)
    for i in range(1, 151):
        fake.put_order(make_order(i, created=start + timedelta(seconds=1),
                                  modified=start + timedelta(seconds=1 + i % 3)))
    fake.fail(ORDERS, page=2, status=500)
    with pytest.raises(WooUnreachable) as caught:
        await poll_once(hub, STORE, options, client)
    assert caught.value.status == 500
    assert await cursor(hub) == before  # page 2 was never read: the window stays
    assert (await mails(hub))["order.placed"] == 100  # page 1 was handled, once

    report = await poll_once(hub, STORE, options, client)
    assert report.orders_seen == 150
    assert (await mails(hub))["order.placed"] == 150  # page 1 again, but no second mail
    after = await cursor(hub)
    assert after is not None and before is not None and after > before


async def test_new_accounts_after_the_first_run_are_welcomed_once(
        hub: Hub, fake: FakeWoo, options: WooOptions, client: WooClient) -> None:
    start = await baseline(hub, STORE)
    fake.put_customer(make_customer(1, created=start - timedelta(days=1)))
    await poll_once(hub, STORE, options, client)
    fake.put_customer(make_customer(2, created=datetime.now(UTC)))
    fake.put_customer(make_customer(3, created=datetime.now(UTC), role="subscriber"))
    report = await poll_once(hub, STORE, options, client)
    assert report.customers_seen == 2 and report.customer_id == 3
    await poll_once(hub, STORE, options, client)
    assert (await mails(hub))["account.created"] == 2
    assert await hub.store.get_state(NAMESPACE, customer_cursor_key(STORE)) == 3


async def test_run_poller_survives_failures_and_backs_off(
        hub: Hub, fake: FakeWoo, options: WooOptions, caplog: pytest.LogCaptureFixture) -> None:
    fast = options.model_copy(update={"poll_interval": 0.05})
    fake.fail(ORDERS, status=500, times=2)
    start = await baseline(hub, STORE)
    fake.put_order(make_order(5, created=start + timedelta(seconds=1),
                              modified=start + timedelta(seconds=1)))
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
    assert (await mails(hub))["order.placed"] == 1
    assert len(fake.requests(ORDERS)) >= 3


async def test_run_poller_does_nothing_without_polling(hub: Hub, options: WooOptions) -> None:
    off = options.model_copy(update={"poll_interval": 0})
    async with asyncio.timeout(5):
        await run_poller(hub, STORE, off)  # returns at once
