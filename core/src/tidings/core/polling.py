"""What every platform poller shares: the endless, never-crashing loop and the baseline.

A platform plugin writes only ``poll once`` (fetch since its cursor, hand
events to ``hub.accept``, advance the cursor); this module keeps it running
every ``interval`` seconds, backs off while the shop fails, and logs.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel

if TYPE_CHECKING:
    from tidings.core.hub import Hub

__all__ = [
    "MAX_BACKOFF",
    "backoff_delay",
    "baseline",
    "entity_lock",
    "poll_forever",
    "start_pollers",
]

M = TypeVar("M", bound=BaseModel)

log = logging.getLogger(__name__)
_LOCKS = [asyncio.Lock() for _ in range(64)]
MAX_BACKOFF = 900.0  # seconds: a shop down for hours is still retried every 15 minutes


def backoff_delay(interval: float, failures: int) -> float:
    """The normal interval, doubled per consecutive failure up to :data:`MAX_BACKOFF`."""
    if not failures:
        return interval
    backoff: float = interval * 2.0 ** min(failures, 16)
    return min(backoff, max(interval, MAX_BACKOFF))


async def poll_forever(
    name: str, interval: float, once: Callable[[], Awaitable[str | None]],
    expected: tuple[type[Exception], ...],
) -> None:
    """Run ``once`` every ``interval`` s until cancelled; failures back off and never escape.

    ``once`` returns a line worth logging (or None when nothing happened);
    ``expected`` errors (the shop is down, keys revoked) are logged in one line,
    anything else with its traceback, since it is a bug.
    """
    failures = 0
    while True:
        try:
            summary = await once()
        except expected as exc:
            failures += 1
            log.warning("%s: poll failed (%d in a row): %s", name, failures, exc)
        except Exception:  # a bug must not end polling for good; it is logged in full
            failures += 1
            log.exception("%s: poll failed (%d in a row)", name, failures)
        else:
            if failures:
                log.info("%s: polling works again", name)
            failures = 0
            if summary:
                log.info("%s: %s", name, summary)
        await asyncio.sleep(backoff_delay(interval, failures))


async def baseline(hub: Hub, namespace: str, store_id: str) -> datetime:
    """When Tidings first served this store (UTC, whole seconds); it never changes.

    Orders and accounts from before it are history and never mailed. Kept in
    memory after the first read: one storage round-trip less per event.
    """
    known: dict[tuple[str, str], datetime] = hub.services.setdefault("polling.baselines", {})
    if (namespace, store_id) not in known:
        key = f"{store_id}:baseline"
        found = await hub.store.get_state(namespace, key)
        if found is None:
            found = datetime.now(UTC).replace(microsecond=0).isoformat()
            await hub.store.set_state(namespace, key, found)
        known[(namespace, store_id)] = datetime.fromisoformat(str(found))
    return known[(namespace, store_id)]


async def start_pollers(hub: Hub, platform: str, options: type[M],
                        run: Callable[[Hub, str, M], Coroutine[Any, Any, None]]) -> None:
    """For each store of ``platform``: fix its baseline now, and poll if ``poll_interval``."""
    for store_id, store in hub.settings.stores.items():
        if store.platform != platform:
            continue
        await baseline(hub, platform, store_id)  # from now on, unseen orders are new orders
        parsed = hub.options(store_id, options)
        if getattr(parsed, "poll_interval", 0):
            hub.spawn(run(hub, store_id, parsed), name=f"{platform}-poll:{store_id}")


def entity_lock(store_id: str, key: str) -> asyncio.Lock:
    """A lock per (store, order), striped: a webhook and a poll never decide one order at once."""
    return _LOCKS[hash((store_id, key)) % len(_LOCKS)]
