"""The core's own routes: events in, the message log out, health."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request, Response, status

from tidings.core.api.auth import require_api_key
from tidings.core.api.schemas import EventAccepted, EventIn, MessageDetail, MessageList, MessageOut
from tidings.core.hub import Hub
from tidings.core.store.base import MessageFilter, MessageState

__all__ = ["router"]

router = APIRouter()
authenticated = APIRouter(prefix="/api/v1", dependencies=[Depends(require_api_key)])


def _hub(request: Request) -> Hub:
    hub: Hub = request.app.state.hub
    return hub


@authenticated.post(
    "/events", status_code=status.HTTP_202_ACCEPTED, response_model=EventAccepted,
    responses={200: {"description": "A repeated idempotency key: nothing new was created.",
                     "model": EventAccepted},
               401: {"description": "Missing or wrong API key"},
               413: {"description": "Body too large"},
               422: {"description": "The event is invalid; `problems` says where and why"}},
)
async def post_event(
    event: EventIn,
    request: Request,
    response: Response,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> EventAccepted:
    """Queue the mails of one catalogue event; answered once they are on disk."""
    hub = _hub(request)
    result = await hub.accept(
        event.store, event.type, event.recipient, event.data,
        idempotency_key=event.idempotency_key or idempotency_key, source="api",
        run_at=event.send_at.timestamp() if event.send_at else 0.0)
    if result.duplicate:
        response.status_code = status.HTTP_200_OK
    return EventAccepted(event_id=result.event_id, message_ids=result.message_ids,
                         duplicate=result.duplicate)


@authenticated.get("/messages", response_model=MessageList)
async def list_messages(
    request: Request,
    store: str | None = None,
    recipient: str | None = None,
    status_: Annotated[MessageState | None, Query(alias="status")] = None,
    type_: Annotated[str | None, Query(alias="type")] = None,
    before: int | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> MessageList:
    """The message log, newest first."""
    records = await _hub(request).store.messages(MessageFilter(
        store_id=store, recipient=recipient.lower() if recipient else None, state=status_,
        event_type=type_, before_id=before, limit=limit))
    return MessageList(messages=[MessageOut.of(r) for r in records],
                       next_before=records[-1].id if len(records) == limit else None)


@authenticated.get("/messages/{message_id}", response_model=MessageDetail)
async def get_message(message_id: int, request: Request) -> MessageDetail:
    """One message: its state, every attempt with the server's reply, its subject."""
    record = await _hub(request).store.message(message_id)
    if record is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND,
                            {"error": "not_found", "detail": f"no message {message_id}"})
    return MessageDetail.of(record)


@authenticated.post("/messages/{message_id}/resend", status_code=status.HTTP_202_ACCEPTED,
                    response_model=EventAccepted)
async def resend_message(message_id: int, request: Request) -> EventAccepted:
    """Send a message again, as a new message of the same event (e.g. after fixing a template).

    The original stays in the log as it was.
    """
    hub = _hub(request)
    original = await hub.store.message(message_id)
    new_id = await hub.store.resend(message_id)
    if original is None or new_id is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND,
                            {"error": "not_found", "detail": f"no message {message_id}"})
    hub.worker.wake()
    return EventAccepted(event_id=original.event_id, message_ids=[new_id], duplicate=False)


@router.get("/healthz")
async def healthz(request: Request) -> dict[str, object]:
    """Liveness plus the queue's size per state."""
    return {"status": "ok", "messages": await _hub(request).store.counts()}


router.include_router(authenticated)
