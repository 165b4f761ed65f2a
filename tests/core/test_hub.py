"""Hub.accept_many: one delivery's events and plugin state in one transaction."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tidings.core.config import load_settings
from tidings.core.errors import EventRejected
from tidings.core.events import EventData, Recipient
from tidings.core.hookspecs import hookimpl
from tidings.core.hub import Hub, Incoming
from tidings.core.plugins import load_plugins
from tidings.core.store.base import Accepted, StateWrite

SHOPPER = Recipient(email="shopper@example.com", name="Shopper", locale="en")
OWNER = Recipient(email="owner@shop.example", locale="en")
WELCOME = EventData(username="shopper", login_url="https://shop.example/login")


class Watcher:
    def __init__(self) -> None:
        self.seen: list[tuple[str, int, list[int]]] = []

    @hookimpl
    async def event_accepted(self, event_type: str, event_id: int, message_ids: list[int]
                             ) -> None:
        self.seen.append((event_type, event_id, message_ids))


@pytest.fixture
async def hub_and_watcher(config_path: Path) -> AsyncIterator[tuple[Hub, Watcher]]:
    watcher = Watcher()
    plugins = load_plugins(extra=[("watcher", watcher)])
    settings = load_settings(config_path, platforms=plugins.platform_validators(),
                             transports=plugins.transport_validators())
    hub = Hub(settings, plugins)
    await hub.store.open()  # storage only: the worker stays idle, so wake-ups stay visible
    yield hub, watcher
    await hub.store.close()


def welcome(recipient: Recipient, key: str) -> Incoming:
    return Incoming("account.created", recipient, WELCOME, idempotency_key=key)


async def test_one_delivery_is_accepted_whole_and_announced(
    hub_and_watcher: tuple[Hub, Watcher],
) -> None:
    hub, watcher = hub_and_watcher
    first = await hub.accept("shop", "account.created", SHOPPER, WELCOME, idempotency_key="a")
    hub.worker._wake.clear()
    results = await hub.accept_many("shop", [welcome(SHOPPER, "a"), welcome(OWNER, "b")],
                                    source="webhook", states=[StateWrite("p", "k", {"n": 1})])
    assert results[0] == Accepted(first.event_id, first.message_ids, duplicate=True)
    assert not results[1].duplicate and len(results[1].message_ids) == 1
    assert await hub.store.get_state("p", "k") == {"n": 1}
    assert hub.worker._wake.is_set()
    await asyncio.sleep(0.05)  # observers run after the answer, in a background task
    assert watcher.seen == [("account.created", first.event_id, first.message_ids),
                            ("account.created", results[1].event_id, results[1].message_ids)]


async def test_an_invalid_event_rejects_the_whole_delivery(
    hub_and_watcher: tuple[Hub, Watcher],
) -> None:
    hub, watcher = hub_and_watcher
    bad = Incoming("order.placed", SHOPPER, WELCOME)  # no order: missing data
    with pytest.raises(EventRejected) as caught:
        await hub.accept_many("shop", [welcome(SHOPPER, "a"), bad],
                              states=[StateWrite("p", "k", 1)])
    assert caught.value.key == "missing_data"
    assert (await hub.store.counts())["queued"] == 0
    assert await hub.store.get_state("p", "k") is None
    with pytest.raises(EventRejected) as caught:
        await hub.accept_many("nowhere", [welcome(SHOPPER, "a")])
    assert caught.value.key == "unknown_store" and watcher.seen == []
