"""The way out: claim → render → MIME → transport chain → complete → observers.

A message is only ever changed by the worker holding its lease, so a worker
that stalls or dies loses nothing: :meth:`Store.reap` hands its messages back.
A template error fails the message with the reason and sends nothing, never a
blank or half-rendered mail.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from tidings.core.config import MailAddress
from tidings.core.errors import (
    PermanentDeliveryError,
    TemplateError,
    TransientDeliveryError,
)
from tidings.core.events import STORED, EventData, Recipient
from tidings.core.mime import OutgoingMail, make_message_id
from tidings.core.retry import after_transient_failure
from tidings.core.store.base import Claimed, MessageState, Outcome
from tidings.core.templates import RenderedMail
from tidings.core.transports.gate import Gate, Refusal

if TYPE_CHECKING:
    from tidings.core.hub import Hub

__all__ = ["SendReport", "Worker"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SendReport:
    """What ``after_send`` observers learn about one finished attempt."""

    message_id: int
    event_id: int
    store_id: str
    event_type: str
    template: str
    recipient: str
    state: MessageState
    transport: str | None
    detail: str
    subject: str | None


class Worker:
    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._wake = asyncio.Event()  # new work was accepted
        self._slot = asyncio.Event()  # a mail in flight finished
        self._inflight: set[asyncio.Task[None]] = set()
        self._stopping = False
        # Where finished attempts go: the after_send observers, or a delivery process's pipe.
        self.report: Callable[[SendReport], None] = hub.sent

    def wake(self) -> None:
        """New work arrived: claim now instead of at the next poll."""
        self._wake.set()

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        self._slot.set()

    async def run(self) -> None:
        """Keep up to ``concurrency`` mails in flight, claiming more as they finish.

        Claims come in quarters of ``concurrency`` rather than whole batches, so
        one slow mail never holds up the next claim; stopping lets every mail in
        flight finish.
        """
        d = self.hub.settings.delivery
        step = max(1, d.concurrency // 4)
        next_reap = 0.0
        try:
            while not self._stopping:
                now = time.time()
                if now >= next_reap:
                    if reaped := await self.hub.store.reap():
                        log.warning("took back %d message(s) whose lease expired", reaped)
                    next_reap = now + d.lease_seconds / 4
                free = d.concurrency - len(self._inflight)
                if free < step:
                    self._slot.clear()
                    await self._slot.wait()
                    continue
                self._wake.clear()
                claimed = await self.hub.store.claim(self.owner, free, d.lease_seconds)
                for c in claimed:
                    self._start(c)
                if len(claimed) == free:
                    continue  # the queue may hold more: claim again as slots free up
                due = await self.hub.store.next_due()
                delay = d.poll_interval if due is None else min(max(due - time.time(), 0.0), 5.0)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(),
                                           timeout=max(delay, d.poll_interval))
        finally:
            if self._inflight:
                await asyncio.gather(*self._inflight, return_exceptions=True)

    def _start(self, claimed: Claimed) -> None:
        task = asyncio.get_running_loop().create_task(self._deliver(claimed),
                                                      name=f"deliver:{claimed.id}")
        self._inflight.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._inflight.discard(task)
        self._slot.set()

    async def _deliver(self, claimed: Claimed) -> None:
        try:
            outcome = await self._attempt(claimed)
        except Exception as exc:  # a bug must not kill the worker; the message is retried
            log.exception("unexpected error delivering message %d", claimed.id)
            state, run_at = after_transient_failure(claimed.attempts, self.hub.settings.delivery)
            outcome = Outcome(claimed.id, state, run_at, None, f"internal error: {exc!r}")
        if not await self.hub.store.complete(self.owner, outcome):
            log.warning("message %d: lease lost before completion; outcome dropped", claimed.id)
            return
        self.report(SendReport(claimed.id, claimed.event_id, claimed.store_id,
                               claimed.event_type, claimed.template, claimed.recipient_email,
                               outcome.state, outcome.transport, outcome.detail,
                               outcome.subject))

    async def _attempt(self, c: Claimed) -> Outcome:
        started = time.time()
        try:
            mail, rendered = self._prepare(c)
        except _NotSent as exc:
            return Outcome(c.id, MessageState.FAILED, None, None, f"not sent: {exc}",
                           started_at=started)
        done = partial(Outcome, c.id, subject=rendered.subject, locale=rendered.locale,
                       message_header_id=mail.message_id, started_at=started)
        tried: list[tuple[str, str]] = []
        last: TransientDeliveryError | None = None
        last_at = 0
        soonest = float("inf")  # when a transport the gates held back may be used again
        for name in self.hub.settings.stores[c.store_id].transports:
            gate = self.hub.gates[name]
            refusal = await self._admit(gate)
            if refusal is not None:
                tried.append((name, f"skipped: {refusal.reason}"))
                soonest = min(soonest, refusal.retry_after)
                continue
            try:
                delivered = await self.hub.transports[name].send(mail)
            except TransientDeliveryError as exc:
                gate.failed(exc.retry_after)
                last, last_at = exc, len(tried)
                tried.append((name, str(exc)))
                continue
            except PermanentDeliveryError as exc:
                return done(MessageState.FAILED, None, name, str(exc), code=exc.code,
                            reply=exc.reply, tried=tried)
            gate.succeeded()
            return done(MessageState.SENT, None, name, delivered.reply, reply=delivered.reply,
                        provider_id=delivered.provider_id, tried=tried)
        if last is None:  # nothing was tried: wait for the gates, without using up an attempt
            why = "; ".join(f"{name}: {reason}" for name, reason in tried)
            return done(MessageState.DEFERRED, time.time() + soonest, None,
                        f"waiting: {why}", tried=tried, counts=False)
        state, run_at = after_transient_failure(c.attempts, self.hub.settings.delivery)
        detail = str(last)
        if state is MessageState.DEAD:
            detail = f"gave up after {c.attempts} attempts; last error: {detail}"
        return done(state, run_at, tried[last_at][0], detail, code=last.code, reply=last.reply,
                    tried=tried[:last_at] + tried[last_at + 1:])

    @staticmethod
    async def _admit(gate: Gate) -> Refusal | None:
        """Wait out a short rate-limit pause in this message's task; longer ones are refused."""
        refusal = gate.admit()
        while refusal is not None and refusal.brief and refusal.retry_after <= 1.0:
            await asyncio.sleep(refusal.retry_after)
            refusal = gate.admit()
        return refusal

    def _prepare(self, c: Claimed) -> tuple[OutgoingMail, RenderedMail]:
        """Render and build the mail, or say in plain words why it must not be sent."""
        hub = self.hub
        store = hub.settings.stores.get(c.store_id)
        if store is None:
            raise _NotSent(f"store {c.store_id!r} is no longer configured")
        # Validated when the event was accepted; validating the address again costs more
        # than building the MIME headers.
        recipient = Recipient.model_construct(email=c.recipient_email, name=c.recipient_name,
                                              locale=c.locale)
        try:
            data = EventData.model_validate_json(c.data, context=STORED)
            rendered = hub.render(c.template, c.store_id, recipient, data, c.event_type,
                                  str(c.event_id))
        except TemplateError as exc:
            raise _NotSent(f"template error: {exc.reason}") from exc
        domain = hub.settings.delivery.message_id_domain or store.from_.email.rpartition("@")[2]
        mail = OutgoingMail(
            message_id=c.message_header_id or make_message_id(domain),
            sender=store.from_, to=MailAddress(email=c.recipient_email, name=c.recipient_name),
            subject=rendered.subject, html=rendered.html, text=rendered.text,
            reply_to=store.reply_to, tags=[c.event_type])
        try:
            hub.plugins.pm.hook.before_send(mail=mail, store_id=c.store_id)
        except Exception as exc:
            raise _NotSent(f"a before_send plugin refused it: {exc}") from exc
        return mail, rendered


class _NotSent(Exception):
    """The mail must not leave (the message fails with this reason)."""
