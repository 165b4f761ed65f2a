"""The authenticated endpoints the Zapier app calls: REST-hook subscriptions, samples, ``me``.

All need ``Authorization: Bearer <key>`` with a key from ``[api] keys``.
Subscriptions are scoped to one store: the body's ``store``, else the only
store with ``platform = "zapier"`` (with several, ``store`` is required).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from tidings.core.api.auth import require_api_key
from tidings.core.events import CATALOGUE
from tidings.core.hub import Hub
from tidings.plugins.zapier.mapping import KINDS, MESSAGE_KINDS
from tidings.plugins.zapier.triggers import Triggers, resolve_store, zapier_stores

__all__ = ["SERVICE", "router"]

SERVICE = "zapier"  # the key of this plugin's Triggers in hub.services
"""The running :class:`Triggers` of each started hub, by ``id(hub)``."""

router = APIRouter(prefix="/zapier", tags=["zapier"], dependencies=[Depends(require_api_key)])


class SubscribeIn(BaseModel):
    model_config = ConfigDict(extra="ignore")  # Zapier apps may pass along more input fields

    url: str = Field(pattern=r"^https?://", max_length=2000,
                     description="Zapier's bundle.targetUrl.")
    event: str = Field(description="A catalogue event (order.placed, …) or message.sent, "
                       "message.delivered, message.bounced, message.failed.")
    store: str | None = Field(default=None, max_length=200,
                              description="The store to watch; default: the only Zapier store.")


class Subscription(BaseModel):
    id: str
    store: str
    event: str
    url: str
    created_at: str


def _unknown_kind(kind: str) -> HTTPException:
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, {
        "error": "unknown_event", "detail": f"{kind!r} is not a trigger; known: "
        f"{', '.join(KINDS)}"})


def _triggers(request: Request) -> Triggers:
    hub: Hub = request.app.state.hub
    found = hub.services.get(SERVICE)
    if not isinstance(found, Triggers):
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, {
            "error": "not_ready", "detail": "the Zapier plugin has not started"})
    return found


@router.get("/me")
async def me(request: Request) -> dict[str, Any]:
    """The connection test: who this hub is and which stores and triggers it offers."""
    hub: Hub = request.app.state.hub
    ours = zapier_stores(hub)
    return {
        "ok": True,
        "stores": [{"id": sid, "name": s.name, "platform": s.platform}
                   for sid, s in sorted(hub.settings.stores.items())],
        "default_store": ours[0] if len(ours) == 1 else None,
        "events": [{"key": e.name, "title": e.title, "description": e.description}
                   for e in CATALOGUE.values()]
                  + [{"key": k, "title": k, "description": d} for k, d in MESSAGE_KINDS.items()],
    }


@router.post("/hooks", status_code=status.HTTP_201_CREATED, response_model=Subscription)
async def subscribe(body: SubscribeIn, request: Request) -> dict[str, Any]:
    """Zapier's performSubscribe: deliver every ``event`` of the store to ``url``."""
    if body.event not in KINDS:
        raise _unknown_kind(body.event)
    triggers = _triggers(request)
    return await triggers.subscribe(resolve_store(triggers.hub, body.store), body.event, body.url)


@router.get("/hooks", response_model=list[Subscription])
async def list_hooks(request: Request) -> list[dict[str, Any]]:
    """Every live subscription (for the owner's curiosity; Zapier never calls this)."""
    return _triggers(request).subscriptions()


@router.delete("/hooks/{sub_id}")
async def unsubscribe(sub_id: str, request: Request) -> dict[str, Any]:
    """Zapier's performUnsubscribe."""
    if not await _triggers(request).unsubscribe(sub_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, {
            "error": "not_found", "detail": f"no subscription {sub_id!r}"})
    return {"ok": True, "id": sub_id}


@router.get("/samples/{kind}")
async def samples(
    kind: str, request: Request, response: Response,
    store: Annotated[str | None, Query(max_length=200)] = None,
) -> list[dict[str, Any]]:
    """Recent real items of one trigger, newest first (Zapier's performList)."""
    if kind not in KINDS:
        raise _unknown_kind(kind)
    triggers = _triggers(request)
    response.headers["Cache-Control"] = "no-store"
    return await triggers.samples(resolve_store(triggers.hub, store), kind)
