"""Zapier: REST-hook triggers out, "Webhooks by Zapier" catches in. Hook implementations only.

Each hub keeps its trigger outbox in ``hub.services["zapier"]``, set up at start-up.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from starlette.routing import BaseRoute, Route

from tidings.core.events import EventData
from tidings.core.hookspecs import hookimpl
from tidings.core.platform import Platform
from tidings.plugins.zapier.catch import catch
from tidings.plugins.zapier.config import ZapierOptions
from tidings.plugins.zapier.mapping import event_payload, message_kind, message_payload
from tidings.plugins.zapier.routes import SERVICE, router
from tidings.plugins.zapier.triggers import Triggers

if TYPE_CHECKING:
    from tidings.core.hub import Hub
    from tidings.core.worker import SendReport

@hookimpl
def register_platforms(register: Callable[[Platform], None]) -> None:
    register(Platform(name="zapier", title="Zapier", options=ZapierOptions))


@hookimpl
def register_routes(register: Callable[[BaseRoute], None], hub: Hub) -> None:
    for route in router.routes:
        register(route)
    register(Route("/zapier/catch/{store_id}", catch, methods=["POST"]))


@hookimpl
async def startup(hub: Hub) -> None:
    triggers = Triggers(hub)
    await triggers.load()
    hub.services[SERVICE] = triggers
    hub.spawn(triggers.run(), name="zapier-deliveries")


@hookimpl
async def event_accepted(hub: Hub, store_id: str, event_id: int, event_type: str,
                         message_ids: list[int], data: EventData) -> None:
    triggers = hub.services.get(SERVICE)
    if not isinstance(triggers, Triggers) or not triggers.watches(store_id):
        return
    recipient = None
    if message_ids and (record := await hub.store.message(message_ids[0])):
        recipient = {"email": record.recipient_email, "name": record.recipient_name,
                     "locale": record.locale}
    await triggers.publish(store_id, event_type, event_payload(
        store_id, event_id, event_type, message_ids, data, recipient))


@hookimpl
async def after_send(hub: Hub, report: SendReport) -> None:
    triggers = hub.services.get(SERVICE)
    kind = message_kind(report.state)
    if kind is None or not isinstance(triggers, Triggers) or not triggers.watches(report.store_id):
        return
    await triggers.publish(report.store_id, kind, message_payload(
        kind, store_id=report.store_id, message_id=report.message_id,
        event_id=report.event_id, event_type=report.event_type, template=report.template,
        recipient=report.recipient, state=report.state.value, transport=report.transport,
        detail=report.detail, subject=report.subject))
