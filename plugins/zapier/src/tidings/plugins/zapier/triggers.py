"""REST-hook triggers: subscriptions, recent samples, and a durable delivery outbox.

Everything lives in the plugin's own state (``hub.store.get_state/set_state``,
namespace ``zapier``), so subscriptions and pending deliveries survive a
restart. One :class:`Triggers` per hub owns that state; its writes are
serialised by a lock and it keeps a copy in memory, so it must be the only
writer (one hub process per database, as the SQLite store already requires).

Delivery: every item is POSTed as JSON to each subscribed URL. 2xx is done;
410 Gone removes the subscription (Zapier's rule for a Zap that was turned
off); anything else, or no answer, is retried after ``retry_base`` seconds,
doubling up to ``retry_max``, until ``max_attempts`` (then dropped and logged).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import httpx

from tidings.core.errors import EventRejected
from tidings.plugins.zapier.config import ZapierOptions

if TYPE_CHECKING:
    from tidings.core.hub import Hub

__all__ = ["NAMESPACE", "Policy", "Triggers", "policy"]

log = logging.getLogger(__name__)
NAMESPACE = "zapier"
_SUBSCRIPTIONS = "subscriptions"
_OUTBOX = "outbox"
_PARALLEL = 10
_USER_AGENT = "Tidings-Zapier/0.1"


@dataclass(frozen=True)
class Policy:
    """How one store's trigger items are kept and delivered (a Zapier store's options)."""

    retry_base: float = ZapierOptions.model_fields["retry_base"].default
    retry_max: float = ZapierOptions.model_fields["retry_max"].default
    max_attempts: int = ZapierOptions.model_fields["max_attempts"].default
    timeout: float = ZapierOptions.model_fields["timeout"].default
    samples: int = ZapierOptions.model_fields["samples"].default

    def delay(self, attempts: int) -> float:
        """The wait after the ``attempts``-th failed attempt."""
        return float(min(self.retry_base * 2 ** max(attempts - 1, 0), self.retry_max))


def policy(hub: Hub, store_id: str) -> Policy:
    """A Zapier store's options; the defaults for a subscription to another platform's store."""
    store = hub.settings.stores.get(store_id)
    if store is None or store.platform != "zapier":
        return Policy()
    o = ZapierOptions.model_validate(store.options)
    return Policy(o.retry_base, o.retry_max, o.max_attempts, o.timeout, o.samples)


def zapier_stores(hub: Hub) -> list[str]:
    return sorted(sid for sid, s in hub.settings.stores.items() if s.platform == "zapier")


def resolve_store(hub: Hub, store_id: str | None) -> str:
    """The store a subscription or sample request means: as named, else the only Zapier store."""
    if store_id:
        hub.store_config(store_id)  # raises unknown_store with the configured ones
        return store_id
    candidates = zapier_stores(hub)
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        raise EventRejected("store_required", "no store has platform = \"zapier\"; name the "
                            "store to watch with \"store\"")
    raise EventRejected("store_required", "several Zapier stores are configured "
                        f"({', '.join(candidates)}); name one with \"store\"")


class Triggers:
    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._subs: dict[str, dict[str, Any]] = {}
        self._outbox: list[dict[str, Any]] = []

    async def load(self) -> None:
        async with self._lock:
            self._subs = dict(await self.hub.store.get_state(NAMESPACE, _SUBSCRIPTIONS) or {})
            self._outbox = list(await self.hub.store.get_state(NAMESPACE, _OUTBOX) or [])
        if self._outbox:
            log.info("zapier: %d trigger deliveries pending from before the restart",
                     len(self._outbox))

    # -- subscriptions ------------------------------------------------------------------

    def subscriptions(self) -> list[dict[str, Any]]:
        return sorted(self._subs.values(), key=lambda s: str(s["created_at"]))

    async def subscribe(self, store_id: str, kind: str, url: str) -> dict[str, Any]:
        sub = {"id": f"sub_{secrets.token_hex(8)}", "store": store_id, "event": kind,
               "url": url, "created_at": datetime.now(UTC).isoformat(timespec="seconds")}
        async with self._lock:
            self._subs[sub["id"]] = sub
            await self._save_subs()
        log.info("zapier: %s subscribed %s for %s on store %s", sub["id"], url, kind, store_id)
        return sub

    async def unsubscribe(self, sub_id: str) -> bool:
        async with self._lock:
            if self._subs.pop(sub_id, None) is None:
                return False
            await self._save_subs()
            before = len(self._outbox)
            self._outbox = [d for d in self._outbox if d["sub"] != sub_id]
            if len(self._outbox) != before:
                await self._save_outbox()
        return True

    def watches(self, store_id: str) -> bool:
        """Keep samples for Zapier stores and for any store somebody subscribed to."""
        store = self.hub.settings.stores.get(store_id)
        return (store is not None and store.platform == "zapier") or any(
            s["store"] == store_id for s in self._subs.values())

    # -- items --------------------------------------------------------------------------

    async def samples(self, store_id: str, kind: str) -> list[dict[str, Any]]:
        found = await self.hub.store.get_state(NAMESPACE, f"samples:{store_id}:{kind}")
        return list(found or [])

    async def publish(self, store_id: str, kind: str, item: dict[str, Any]) -> int:
        """Keep ``item`` as a sample and queue it for every matching subscription."""
        keep = policy(self.hub, store_id).samples
        now = time.time()
        async with self._lock:
            key = f"samples:{store_id}:{kind}"
            recent = [s for s in await self.hub.store.get_state(NAMESPACE, key) or []
                      if s.get("id") != item["id"]]
            await self.hub.store.set_state(NAMESPACE, key, [item, *recent][:keep])
            queued = [{"id": secrets.token_hex(8), "sub": sub["id"], "url": sub["url"],
                       "store": store_id, "payload": item, "attempts": 0, "due": now}
                      for sub in self._subs.values()
                      if sub["store"] == store_id and sub["event"] == kind]
            if queued:
                self._outbox.extend(queued)
                await self._save_outbox()
        if queued:
            self._wake.set()
        return len(queued)

    # -- delivery -----------------------------------------------------------------------

    async def run(self) -> None:
        """Deliver due items until cancelled; sleeps until the next is due or one is queued."""
        gate = asyncio.Semaphore(_PARALLEL)
        async with httpx.AsyncClient(headers={"User-Agent": _USER_AGENT}) as client:

            async def attempt(delivery: dict[str, Any]) -> None:
                async with gate:
                    await self._attempt(client, delivery)

            while True:
                self._wake.clear()
                now = time.time()
                due = [d for d in self._outbox if d["due"] <= now]
                if due:
                    await asyncio.gather(*(attempt(d) for d in due))
                    continue
                wait = min((d["due"] for d in self._outbox), default=None)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(),
                                           None if wait is None else max(wait - now, 0.0))

    async def _attempt(self, client: httpx.AsyncClient, delivery: dict[str, Any]) -> None:
        rules = policy(self.hub, delivery["store"])
        try:
            response = await client.post(
                delivery["url"], json=delivery["payload"], timeout=rules.timeout,
                headers={"X-Tidings-Delivery": delivery["id"]})
            status: int | None = response.status_code
            why = f"HTTP {status}"
        except httpx.HTTPError as exc:
            status, why = None, f"{type(exc).__name__}: {exc}".rstrip(": ")
        async with self._lock:
            current = next((d for d in self._outbox if d["id"] == delivery["id"]), None)
            if current is None:  # unsubscribed meanwhile
                return
            if status is not None and 200 <= status < 300:
                self._outbox.remove(current)
            elif status == 410:
                log.info("zapier: %s answered 410 Gone; removing subscription %s",
                         current["url"], current["sub"])
                self._subs.pop(current["sub"], None)
                await self._save_subs()
                self._outbox = [d for d in self._outbox if d["sub"] != current["sub"]]
            else:
                current["attempts"] += 1
                if current["attempts"] >= rules.max_attempts:
                    log.warning("zapier: dropped item %s for %s after %d attempts (last: %s)",
                                current["payload"].get("id"), current["url"],
                                current["attempts"], why)
                    self._outbox.remove(current)
                else:
                    current["due"] = time.time() + rules.delay(current["attempts"])
                    current["last_error"] = why
                    log.info("zapier: delivery to %s failed (%s); attempt %d in %.1fs",
                             current["url"], why, current["attempts"] + 1,
                             current["due"] - time.time())
            await self._save_outbox()

    def pending(self) -> list[dict[str, Any]]:
        return list(self._outbox)

    async def _save_subs(self) -> None:
        await self.hub.store.set_state(NAMESPACE, _SUBSCRIPTIONS, self._subs)

    async def _save_outbox(self) -> None:
        await self.hub.store.set_state(NAMESPACE, _OUTBOX, self._outbox)
