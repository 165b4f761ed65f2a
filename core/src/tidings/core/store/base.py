"""The storage seam: everything the pipeline needs from a database, and nothing more.

The embedded default is :class:`~tidings.core.store.sqlite.SqliteStore`; the
PostgreSQL scale-out (research/scale.md) fills the same protocol with
``FOR UPDATE SKIP LOCKED`` claims, so neither the pipeline nor the worker
changes. Timestamps are UNIX seconds (float) throughout, so both dialects
agree without time-zone arithmetic.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

__all__ = [
    "Accepted",
    "Attempt",
    "Claimed",
    "MessageFilter",
    "MessageHead",
    "MessageRecord",
    "MessageState",
    "NewEvent",
    "NewMessage",
    "Outcome",
    "StateWrite",
    "Store",
]


class MessageState(StrEnum):
    QUEUED = "queued"      # waiting for its first attempt
    SENDING = "sending"    # claimed by a worker holding a lease
    SENT = "sent"          # the transport accepted it
    DEFERRED = "deferred"  # a transient failure; waits for run_at
    FAILED = "failed"      # permanent failure (refused, template error)
    DEAD = "dead"          # transient failures until max_attempts ran out


@dataclass(frozen=True)
class NewMessage:
    template: str
    audience: str
    recipient_email: str
    recipient_name: str | None
    locale: str | None
    run_at: float


@dataclass(frozen=True)
class NewEvent:
    """An event to accept, with the messages it makes (written only if it is new)."""

    store_id: str
    type: str
    idempotency_key: str
    source: str
    recipient: str  # JSON text: pydantic's serializer writes it 3x faster than json.dumps
    data: str  # JSON text
    messages: Sequence[NewMessage] = ()


@dataclass(frozen=True)
class StateWrite:
    """A plugin's state value to store in the same transaction as the events beside it.

    ``value`` is anything pydantic serialises to JSON (models included, as
    ``model_dump(mode="json")`` would give them); it reads back as plain JSON.
    """

    namespace: str
    key: str
    value: Any


@dataclass(frozen=True)
class Accepted:
    event_id: int
    message_ids: list[int]
    duplicate: bool


@dataclass(frozen=True)
class MessageHead:
    """What every view of a message starts with: whose, which mail, to whom."""

    id: int
    event_id: int
    store_id: str
    event_type: str
    template: str
    audience: str
    recipient_email: str
    recipient_name: str | None
    locale: str | None


@dataclass(frozen=True)
class Claimed(MessageHead):
    """A message leased to one worker, with what rendering it needs."""

    attempts: int
    message_header_id: str | None
    data: str  # the event's data as stored: JSON text


@dataclass(frozen=True)
class Outcome:
    """The end of one attempt, as the state machine decided it."""

    message_id: int
    state: MessageState
    run_at: float | None
    transport: str | None
    detail: str
    code: int | None = None
    reply: str | None = None
    subject: str | None = None
    locale: str | None = None
    message_header_id: str | None = None
    provider_id: str | None = None
    started_at: float = 0.0
    tried: Sequence[tuple[str, str]] = ()  # transports that failed over before, with why
    counts: bool = True  # False when no transport was even tried (rate limits, open circuits)


@dataclass(frozen=True)
class Attempt:
    number: int
    transport: str | None
    started_at: float
    finished_at: float
    outcome: str
    code: int | None
    reply: str | None
    detail: str


@dataclass(frozen=True)
class MessageRecord(MessageHead):
    """A message as the log shows it."""

    state: MessageState
    attempts: int
    run_at: float
    created_at: float
    updated_at: float
    subject: str | None
    transport: str | None
    message_header_id: str | None
    provider_id: str | None
    last_error: str | None
    history: tuple[Attempt, ...] = ()


@dataclass(frozen=True)
class MessageFilter:
    store_id: str | None = None
    recipient: str | None = None
    state: MessageState | None = None
    event_type: str | None = None
    before_id: int | None = None
    limit: int = 50


class Store(Protocol):
    async def open(self) -> None:
        """Create or migrate the schema; idempotent."""

    async def close(self) -> None: ...

    async def accept(self, events: Sequence[NewEvent], states: Sequence[StateWrite] = ()
                     ) -> list[Accepted]:
        """Write the events, their messages and ``states`` in ONE transaction, durable
        before returning; one result per event, in order.

        One transaction per delivery (a webhook's customer and owner mails and the
        order's new state) is all-or-nothing and costs one commit, not one per
        write. A repeated ``(store_id, idempotency_key)`` writes nothing for that
        event and returns the first event's ids with ``duplicate=True``; the rest
        is still written. ``states`` are upserts, as :meth:`set_state`.
        """

    async def claim(self, owner: str, limit: int, lease_seconds: float) -> list[Claimed]:
        """Lease up to ``limit`` due messages to ``owner`` and count the attempt."""

    async def complete(self, owner: str, outcome: Outcome) -> bool:
        """Record an attempt's end; ignored (False) when ``owner`` lost the lease."""

    async def resend(self, message_id: int) -> int | None:
        """Queue a fresh copy of a message (same event, template and recipient); its new id."""

    async def reap(self) -> int:
        """Give back messages whose lease expired (a crashed or stuck worker)."""

    async def next_due(self) -> float | None:
        """When the earliest waiting message becomes due, for the worker's sleep."""

    async def messages(self, flt: MessageFilter) -> list[MessageRecord]: ...

    async def message(self, message_id: int) -> MessageRecord | None:
        """One message with its attempt history."""

    async def counts(self) -> dict[str, int]:
        """Messages per state, for health and metrics."""

    async def get_state(self, namespace: str, key: str) -> Any | None:
        """A plugin's own persistent value (cursors, last-seen statuses)."""

    async def set_state(self, namespace: str, key: str, value: Any) -> None:
        """Store ``value`` (as :class:`StateWrite` takes it) under ``namespace``/``key``."""
