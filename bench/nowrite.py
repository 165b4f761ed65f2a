"""A store that writes nothing: the webhook benchmark's reference (figure 3).

The same hub app runs on it (routes, middleware, signature check, mapping,
validation, planning), so the ratio against the SQLite hub is the cost of
durable storage alone. Writes are answered at once with fresh ids and
forgotten; reads answer only the values it was seeded with (the store's
baseline, so both servers see every order as new and plan the same mails).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

from tidings.core.store.base import (
    Accepted,
    Claimed,
    MessageFilter,
    MessageRecord,
    MessageState,
    NewEvent,
    Outcome,
    StateWrite,
)

PAST = "2000-01-01T00:00:00+00:00"  # the baseline both servers get: every order is new


class NoWriteStore:
    """:class:`~tidings.core.store.base.Store` that keeps nothing it is given."""

    def __init__(self, seed: Mapping[tuple[str, str], Any]) -> None:
        self._seed = dict(seed)
        self._ids = itertools.count(1)

    async def open(self) -> None:
        pass

    async def close(self) -> None:
        pass

    async def accept(self, events: Sequence[NewEvent], states: Sequence[StateWrite] = ()
                     ) -> list[Accepted]:
        return [Accepted(next(self._ids), [next(self._ids) for _ in e.messages], duplicate=False)
                for e in events]

    async def claim(self, owner: str, limit: int, lease_seconds: float) -> list[Claimed]:
        return []

    async def complete(self, owner: str, outcome: Outcome) -> bool:
        return False

    async def resend(self, message_id: int) -> int | None:
        return None

    async def reap(self) -> int:
        return 0

    async def next_due(self) -> float | None:
        return None

    async def messages(self, flt: MessageFilter) -> list[MessageRecord]:
        return []

    async def message(self, message_id: int) -> MessageRecord | None:
        return None

    async def counts(self) -> dict[str, int]:
        return {s.value: 0 for s in MessageState}

    async def get_state(self, namespace: str, key: str) -> Any | None:
        return self._seed.get((namespace, key))

    async def set_state(self, namespace: str, key: str, value: Any) -> None:
        pass
