"""The delivery state machine and its backoff, decided in this one place."""

from __future__ import annotations

import random
import time

from tidings.core.config import DeliverySettings
from tidings.core.store.base import MessageState

__all__ = ["after_transient_failure", "backoff_seconds"]


def backoff_seconds(attempt: int, settings: DeliverySettings) -> float:
    """Exponential backoff with full jitter in its upper half, capped.

    Jitter spreads the retries of a burst that failed together (a provider
    outage), so they do not all come back in the same second.
    """
    ceiling = min(settings.backoff_max, settings.backoff_base * 2.0 ** max(attempt - 1, 0))
    return ceiling / 2 + random.uniform(0, ceiling / 2)


def after_transient_failure(
    attempts: int, settings: DeliverySettings, now: float | None = None
) -> tuple[MessageState, float | None]:
    """Deferred to a later run, or dead once ``max_attempts`` were spent."""
    if attempts >= settings.max_attempts:
        return MessageState.DEAD, None
    return MessageState.DEFERRED, (now or time.time()) + backoff_seconds(attempts, settings)
