"""Extra delivery processes, for when one core cannot render and send fast enough.

``delivery.processes = N`` makes the serving hub start N-1 ``tidings worker``
children over the same store. Each claims its own batches under its own lease
owner, so they share the queue exactly as the PostgreSQL scale-out's workers
will (research/scale.md). The children run no routes, pollers or startup
hooks: every finished attempt's report comes back over a pipe and the serving
hub runs the ``after_send`` observers, because what those observers use (a
trigger outbox, say) lives there. A child that dies is started again, and
what it held comes back when its leases expire.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import os
import signal
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from tidings.core.store.base import MessageState
from tidings.core.worker import SendReport

if TYPE_CHECKING:
    from tidings.core.hub import Hub

__all__ = ["DeliveryProcesses", "deliver_only"]

log = logging.getLogger(__name__)
_STOP_GRACE = 30.0  # seconds a child gets to finish the mails it is sending
_RESTART_MAX = 30.0


def _encode(report: SendReport) -> bytes:
    fields = dataclasses.asdict(report)
    fields["state"] = report.state.value
    return json.dumps(fields).encode() + b"\n"


def _decode(line: bytes) -> SendReport:
    fields = json.loads(line)
    fields["state"] = MessageState(fields["state"])
    return SendReport(**fields)


class DeliveryProcesses:
    """The serving hub's children: started, restarted when they die, stopped with it."""

    def __init__(self, hub: Hub, config_path: Path, count: int) -> None:
        self.hub = hub
        self.config_path = config_path
        self.count = count
        self._stopping = asyncio.Event()
        self._children: dict[int, asyncio.subprocess.Process] = {}
        self._keepers: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        """Start every child now, so a child that cannot even start fails loudly here."""
        loop = asyncio.get_running_loop()
        for index in range(self.count):
            started = await self._spawn(index)
            self._keepers.append(loop.create_task(self._keep(index, started),
                                                  name=f"delivery-process-{index + 2}"))

    @property
    def pids(self) -> list[int]:
        return [child.pid for child in self._children.values()]

    async def stop(self) -> None:
        """Let every child finish what it is sending; their last reports are still relayed."""
        self._stopping.set()
        for child in self._children.values():
            with contextlib.suppress(ProcessLookupError):
                child.send_signal(signal.SIGTERM)
        await asyncio.gather(*self._keepers, return_exceptions=True)

    async def _keep(self, index: int, started: tuple[asyncio.subprocess.Process, int]) -> None:
        delay = 1.0
        while True:
            since = time.monotonic()
            code = await self._follow(index, *started)
            if self._stopping.is_set():
                return
            if time.monotonic() - since > 60:
                delay = 1.0
            log.error("delivery process %d exited with code %s; starting it again in %.0f s",
                      index + 2, code, delay)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), delay)
            if self._stopping.is_set():
                return
            delay = min(delay * 2, _RESTART_MAX)
            started = await self._spawn(index)

    async def _spawn(self, index: int) -> tuple[asyncio.subprocess.Process, int]:
        """A child and the read end of the pipe its reports come through."""
        read_fd, write_fd = os.pipe()
        try:
            child = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "tidings.core", "worker", "--config",
                str(self.config_path), "--report-fd", str(write_fd), pass_fds=(write_fd,))
        except BaseException:
            os.close(read_fd)
            raise
        finally:
            os.close(write_fd)
        self._children[index] = child
        return child, read_fd

    async def _follow(self, index: int, child: asyncio.subprocess.Process,
                      read_fd: int) -> int | None:
        try:
            await self._relay(read_fd)
            return await self._wait(child)
        finally:
            del self._children[index]

    async def _relay(self, read_fd: int) -> None:
        """Observe each report the child sends, until it closes the pipe (it exited)."""
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader(limit=2**20)
        transport, _ = await loop.connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(read_fd, "rb", 0))
        try:
            async for line in reader:
                try:
                    report = _decode(line)
                except (ValueError, TypeError, KeyError):
                    log.error("delivery process sent an unreadable report: %.200r", line)
                    continue
                self.hub.sent(report)
        finally:
            transport.close()

    async def _wait(self, child: asyncio.subprocess.Process) -> int | None:
        try:
            return await asyncio.wait_for(child.wait(), _STOP_GRACE)
        except TimeoutError:
            log.error("delivery process %d did not stop in %.0f s; killing it",
                      child.pid, _STOP_GRACE)
            child.kill()
            return await child.wait()


class _ParentWatch(asyncio.Protocol):
    """The report pipe closes when the serving hub is gone: then this child stops too."""

    def __init__(self, gone: asyncio.Event) -> None:
        self.gone = gone
        self.closed = asyncio.Event()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed.set()
        self.gone.set()


async def deliver_only(hub: Hub, report_fd: int) -> None:
    """The body of ``tidings worker``: deliver until SIGTERM or until the parent is gone."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    watch = _ParentWatch(stop)
    pipe, _ = await loop.connect_write_pipe(lambda: watch, os.fdopen(report_fd, "wb", 0))

    def relay(report: SendReport) -> None:
        if not pipe.is_closing():
            pipe.write(_encode(report))

    hub.worker.report = relay
    await hub.start(serving=False)
    try:
        await stop.wait()
    finally:
        await hub.stop()
        pipe.close()  # after the buffered reports are written
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(watch.closed.wait(), 5.0)
