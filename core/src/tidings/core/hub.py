"""The hub: owns settings, plugins, storage, renderer, transports and the worker.

:meth:`Hub.accept` is the only way in for every source (API, webhooks,
pollers, Zapier): it validates against the catalogue and writes the event
and its messages in one transaction before anyone gets an answer.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Coroutine, Mapping
from pathlib import Path
from typing import Any

from tidings.core.config import Settings, StoreConfig, load_settings
from tidings.core.errors import EventRejected
from tidings.core.events import CATALOGUE, EventData, EventType, Recipient
from tidings.core.inbox import Inbox
from tidings.core.plugins import Plugins, call_observers, load_plugins
from tidings.core.store import SqliteStore, Store
from tidings.core.store.base import Accepted, NewEvent, NewMessage
from tidings.core.templates import RenderedMail, Renderer
from tidings.core.transports.base import Transport
from tidings.core.transports.gate import Gate, GateOptions
from tidings.core.worker import Worker

__all__ = ["Hub"]

log = logging.getLogger(__name__)


class Hub:
    def __init__(self, settings: Settings, plugins: Plugins, *, store: Store | None = None) -> None:
        self.settings = settings
        self.plugins = plugins
        self.store: Store = store or SqliteStore(settings.storage.path)
        self.renderer = Renderer()
        self.transports: dict[str, Transport] = {
            name: plugins.transports[cfg.type].build(name, cfg.model_dump())
            for name, cfg in settings.transports.items()
        }
        self.gates = {name: Gate(GateOptions.model_validate(
            {k: v for k, v in cfg.model_dump().items() if k in GateOptions.model_fields}))
            for name, cfg in settings.transports.items()}
        self.inbox = Inbox(settings.inbox.keep) if settings.inbox.enabled else None
        self.worker = Worker(self)
        # Per-hub objects plugins keep (a poller's client, a trigger outbox), by plugin name.
        self.services: dict[str, Any] = {}
        self._tasks: set[asyncio.Task[Any]] = set()

    @classmethod
    def from_config(cls, path: Path, *, plugins: Plugins | None = None) -> Hub:
        """Load plugins and settings; raises ConfigError listing every problem."""
        plugins = plugins or load_plugins()
        settings = load_settings(path, platforms=plugins.platform_validators(),
                                 transports=plugins.transport_validators())
        return cls(settings, plugins)

    # -- lifecycle --------------------------------------------------------------------

    async def start(self) -> None:
        await self.store.open()
        if self.inbox is not None:
            await self.inbox.start(self.settings.inbox.host, self.settings.inbox.port)
        self.spawn(self.worker.run(), name="worker")
        await call_observers(self.plugins.pm.hook.startup, hub=self)

    async def stop(self) -> None:
        await call_observers(self.plugins.pm.hook.shutdown, hub=self)
        self.worker.stop()
        tasks = list(self._tasks)
        for task in tasks:
            if task.get_name() != "worker":
                task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for transport in self.transports.values():
            await transport.close()
        if self.inbox is not None:
            await self.inbox.stop()
        await self.store.close()

    def spawn(self, coro: Coroutine[Any, Any, Any], *, name: str) -> asyncio.Task[Any]:
        """Run a background task (a poller, an observer) that stops with the hub."""
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background task %s failed", task.get_name(), exc_info=task.exception())

    # -- the way in -------------------------------------------------------------------

    def store_config(self, store_id: str) -> StoreConfig:
        store = self.settings.stores.get(store_id)
        if store is None:
            known = ", ".join(sorted(self.settings.stores)) or "none"
            raise EventRejected("unknown_store",
                                f"no store {store_id!r} is configured (configured: {known})")
        return store

    async def accept(
        self,
        store_id: str,
        event_type: str,
        recipient: Recipient,
        data: EventData,
        *,
        idempotency_key: str | None = None,
        source: str = "api",
        run_at: float = 0.0,
    ) -> Accepted:
        """Validate an event and make it durable with its messages; then wake the worker."""
        self.store_config(store_id)  # unknown store first: the clearest error
        spec = CATALOGUE.get(event_type)
        if spec is None:
            raise EventRejected(
                "unknown_event_type",
                f"{event_type!r} is not in the catalogue; known types: {', '.join(CATALOGUE)}")
        missing = spec.missing(data)
        if missing:
            raise EventRejected("missing_data",
                                f"{event_type} needs {', '.join(missing)}, which the event lacks")
        message = self.plan(store_id, spec, recipient, data, run_at=run_at)
        result = await self.store.accept(
            NewEvent(store_id=store_id, type=event_type,
                     idempotency_key=idempotency_key or f"auto:{uuid.uuid4().hex}",
                     source=source, recipient=recipient.model_dump(mode="json"),
                     data=data.model_dump(mode="json", exclude_none=True)),
            [message],
        )
        if not result.duplicate:
            self.worker.wake()
            self.spawn(call_observers(
                self.plugins.pm.hook.event_accepted, hub=self, store_id=store_id,
                event_id=result.event_id,
                event_type=event_type, message_ids=result.message_ids, data=data),
                name=f"event_accepted:{result.event_id}")
        return result

    def plan(self, store_id: str, spec: EventType, recipient: Recipient, data: EventData,
             run_at: float = 0.0) -> NewMessage:
        """The mail an event makes, in the recipient's locale if known (or a plugin's guess)."""
        store = self.store_config(store_id)
        locale = recipient.locale or self.plugins.pm.hook.resolve_locale(
            store_id=store_id, store=store, recipient=recipient, data=data)
        return NewMessage(spec.template, spec.audience.value, recipient.email, recipient.name,
                          locale, run_at=run_at)

    # -- rendering --------------------------------------------------------------------

    def render(
        self,
        template: str,
        store_id: str,
        recipient: Recipient,
        data: EventData,
        event_type: str,
        event_id: str | None = None,
    ) -> RenderedMail:
        """Render one mail in the recipient's locale, else the store's.

        Plugins' ``template_context`` answers are merged into the context.
        """
        store = self.store_config(store_id)
        extra: dict[str, Any] = {}
        answers: list[Mapping[str, Any] | None] = self.plugins.pm.hook.template_context(
            template=template, store_id=store_id, store=store, recipient=recipient, data=data)
        for answer in reversed(answers):
            extra.update(answer or {})
        return self.renderer.render(template, store=store, store_id=store_id, recipient=recipient,
                                    data=data, locales=[recipient.locale, store.locale],
                                    event_id=event_id, extra=extra, event_type=event_type)
