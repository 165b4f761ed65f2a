"""The API's request and response bodies (they are also what /docs shows)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from tidings.core.events import EventData, Recipient
from tidings.core.store.base import MessageRecord

__all__ = ["EventAccepted", "EventIn", "MessageDetail", "MessageList", "MessageOut", "Problem"]

Key = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class EventIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "store": "demo", "type": "order.shipped", "idempotency_key": "order-1001-shipped",
        "recipient": {"email": "ana@example.com", "name": "Ana García", "locale": "es"},
        "data": {"order": {"number": "1001", "currency": "EUR", "total": "59.90",
                           "items": [{"name": "Linen shirt", "sku": "LS-1", "quantity": 1,
                                      "price": "59.90"}],
                           "tracking": {"carrier": "DHL", "number": "JD0123",
                                        "url": "https://example.com/track/JD0123"}}},
    }]})

    store: Key
    type: Key
    recipient: Recipient
    data: EventData = Field(default_factory=EventData)
    idempotency_key: Key | None = Field(
        default=None, description="A repeated key for the same store is answered 200 and "
        "creates nothing. The Idempotency-Key header works too.")
    send_at: datetime | None = Field(default=None, description="Send later (ISO 8601).")


class EventAccepted(BaseModel):
    event_id: int
    message_ids: list[int]
    duplicate: bool


class Problem(BaseModel):
    path: str
    reason: str


class Attempt(BaseModel):
    number: int
    transport: str | None
    started_at: datetime
    finished_at: datetime
    outcome: str
    code: int | None
    reply: str | None
    detail: str


class MessageOut(BaseModel):
    id: int
    event_id: int
    store: str
    type: str
    template: str
    audience: str
    recipient: Recipient
    status: str
    attempts: int
    subject: str | None
    transport: str | None
    message_id_header: str | None
    provider_id: str | None
    created_at: datetime
    updated_at: datetime
    next_attempt_at: datetime | None
    last_error: str | None

    @classmethod
    def of(cls, r: MessageRecord) -> MessageOut:
        waiting = r.state.value in ("queued", "deferred")
        return cls(
            id=r.id, event_id=r.event_id, store=r.store_id, type=r.event_type, template=r.template,
            audience=r.audience,
            recipient=Recipient.model_construct(email=r.recipient_email, name=r.recipient_name,
                                                locale=r.locale),
            status=r.state.value, attempts=r.attempts, subject=r.subject, transport=r.transport,
            message_id_header=r.message_header_id, provider_id=r.provider_id,
            created_at=_ts(r.created_at), updated_at=_ts(r.updated_at),
            next_attempt_at=_ts(r.run_at) if waiting else None, last_error=r.last_error)


class MessageDetail(MessageOut):
    history: list[Attempt]

    @classmethod
    def of(cls, r: MessageRecord) -> MessageDetail:
        base = MessageOut.of(r).model_dump()
        history = [Attempt(number=a.number, transport=a.transport, started_at=_ts(a.started_at),
                           finished_at=_ts(a.finished_at), outcome=a.outcome, code=a.code,
                           reply=a.reply, detail=a.detail) for a in r.history]
        return cls(**base, history=history)


class MessageList(BaseModel):
    messages: list[MessageOut]
    next_before: int | None = Field(description="Pass as ?before= for the next (older) page.")


def _ts(value: float) -> datetime:
    return datetime.fromtimestamp(value, UTC)
