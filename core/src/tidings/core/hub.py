"""The hub: owns settings, plugins, storage, renderer, transports and the worker.

:meth:`Hub.accept` is the only way in for every source (API, webhooks,
pollers, Zapier): it validates against the catalogue and writes the event
and its messages in one transaction before anyone gets an answer.
:meth:`Hub.accept_many` is the same for all the events of one delivery (and
the plugin state that records it): one transaction, one commit to wait for.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import uuid
from collections.abc import Coroutine, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar, cast

from pydantic import BaseModel

from tidings.core.config import Settings, StoreConfig, load_settings
from tidings.core.errors import EventRejected
from tidings.core.events import CATALOGUE, EventData, EventType, Recipient
from tidings.core.inbox import Inbox
from tidings.core.plugins import Plugins, call_observers, load_plugins
from tidings.core.processes import DeliveryProcesses
from tidings.core.store import SqliteStore, Store
from tidings.core.store.base import Accepted, NewEvent, NewMessage, StateWrite
from tidings.core.templates import RenderedMail, Renderer
from tidings.core.transports.base import Transport
from tidings.core.transports.gate import Gate, GateOptions
from tidings.core.worker import SendReport, Worker

__all__ = ["Hub", "Incoming"]

log = logging.getLogger(__name__)
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class Incoming:
    """One event for :meth:`Hub.accept_many`: the arguments of :meth:`Hub.accept`, as a value."""

    event_type: str
    recipient: Recipient
    data: EventData
    idempotency_key: str | None = None
    run_at: float = 0.0


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
        # Each delivery process keeps its own gates, so each gets its share of the limits.
        self.gates = {name: Gate(GateOptions.model_validate(
            {k: v for k, v in cfg.model_dump().items() if k in GateOptions.model_fields}
        ).share(settings.delivery.processes)) for name, cfg in settings.transports.items()}
        self.inbox = Inbox(settings.inbox.keep) if settings.inbox.enabled else None
        self.worker = Worker(self)
        # Per-hub objects plugins keep (a poller's client, a trigger outbox), by plugin name.
        self.services: dict[str, Any] = {}
        self.config_path: Path | None = None
        self.processes: DeliveryProcesses | None = None
        self._serving = False
        self._tasks: set[asyncio.Task[Any]] = set()
        self._options: dict[tuple[str, type[BaseModel]], tuple[StoreConfig, BaseModel]] = {}

    @classmethod
    def from_config(cls, path: Path, *, plugins: Plugins | None = None) -> Hub:
        """Load plugins and settings; raises ConfigError listing every problem."""
        plugins = plugins or load_plugins()
        settings = load_settings(path, platforms=plugins.platform_validators(),
                                 transports=plugins.transport_validators())
        hub = cls(settings, plugins)
        hub.config_path = path
        return hub

    # -- lifecycle --------------------------------------------------------------------

    async def start(self, *, serving: bool = True) -> None:
        """``serving=False`` is an extra delivery process: its worker only, no inbox or hooks."""
        self._serving = serving
        await self.store.open()
        if serving and self.inbox is not None:
            await self.inbox.start(self.settings.inbox.host, self.settings.inbox.port)
        self.spawn(self.worker.run(), name="worker")
        if serving:
            await call_observers(self.plugins.pm.hook.startup, hub=self)
            if (extra := self.settings.delivery.processes - 1) > 0:
                if self.config_path is None:
                    raise RuntimeError("delivery.processes > 1 needs a hub loaded from a file")
                self.processes = DeliveryProcesses(self, self.config_path, extra)
                await self.processes.start()
        # What start-up built lives as long as the hub; frozen, it is no longer rescanned by
        # every full garbage collection (a pause of ~60 ms, straight into request latency).
        gc.collect()
        gc.freeze()

    async def stop(self) -> None:
        gc.unfreeze()  # what this hub built may be collected again once it is gone
        if self.processes is not None:
            await self.processes.stop()
            self.processes = None
        if self._serving:
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

    def sent(self, report: SendReport) -> None:
        """Tell the ``after_send`` observers how an attempt ended (from any delivery process)."""
        self.spawn(call_observers(self.plugins.pm.hook.after_send, hub=self, report=report),
                   name=f"after_send:{report.message_id}")

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

    def owner(self, store_id: str) -> Recipient | None:
        """The shop owner as the recipient of a store's ``admin.*`` mails (its
        ``admin_email``, in the store's language), or ``None`` when it has none."""
        store = self.store_config(store_id)
        if store.admin_email is None:
            return None
        return Recipient(email=store.admin_email.email, name=store.admin_email.name,
                         locale=store.locale)

    def options(self, store_id: str, model: type[M]) -> M:
        """A store's platform ``options`` parsed by ``model``, once per store configuration.

        They were checked at start-up; parsing them again on every delivery was
        measurable in the webhook path.
        """
        store = self.store_config(store_id)
        cached = self._options.get((store_id, model))
        if cached is None or cached[0] is not store:
            cached = self._options[(store_id, model)] = (store, model.model_validate(store.options))
        return cast(M, cached[1])

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
        (result,) = await self.accept_many(
            store_id, [Incoming(event_type, recipient, data, idempotency_key, run_at)],
            source=source)
        return result

    async def accept_many(
        self, store_id: str, events: Sequence[Incoming], *, source: str = "api",
        states: Sequence[StateWrite] = (),
    ) -> list[Accepted]:
        """:meth:`accept` for the events of one delivery, written with ``states`` (the
        plugin's record of it) in one transaction: all or nothing, one commit to wait for.

        Every event is validated before anything is written; one result per event.
        """
        self.store_config(store_id)  # unknown store first: the clearest error
        if not events and not states:
            return []
        results = await self.store.accept([self._new_event(store_id, e, source) for e in events],
                                          states)
        fresh = [(e, r) for e, r in zip(events, results, strict=True) if not r.duplicate]
        if fresh:
            self.worker.wake()
            if self.plugins.pm.hook.event_accepted.get_hookimpls():
                self.spawn(self._announce(store_id, fresh),
                           name=f"event_accepted:{fresh[0][1].event_id}")
        return results

    def _new_event(self, store_id: str, event: Incoming, source: str) -> NewEvent:
        spec = CATALOGUE.get(event.event_type)
        if spec is None:
            raise EventRejected(
                "unknown_event_type",
                f"{event.event_type!r} is not in the catalogue; known types: "
                f"{', '.join(CATALOGUE)}")
        missing = spec.missing(event.data)
        if missing:
            raise EventRejected(
                "missing_data",
                f"{event.event_type} needs {', '.join(missing)}, which the event lacks")
        message = self.plan(store_id, spec, event.recipient, event.data, run_at=event.run_at)
        return NewEvent(store_id=store_id, type=event.event_type,
                        idempotency_key=event.idempotency_key or f"auto:{uuid.uuid4().hex}",
                        source=source, recipient=event.recipient.model_dump_json(),
                        data=event.data.model_dump_json(exclude_none=True),
                        messages=(message,))

    async def _announce(self, store_id: str, accepted: list[tuple[Incoming, Accepted]]) -> None:
        """Tell the ``event_accepted`` observers, after the sender got its answer."""
        for event, result in accepted:
            await call_observers(
                self.plugins.pm.hook.event_accepted, hub=self, store_id=store_id,
                event_id=result.event_id, event_type=event.event_type,
                message_ids=result.message_ids, data=event.data)

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
