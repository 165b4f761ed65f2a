"""Extra delivery processes (``delivery.processes``): real child processes over one store."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from tests.hub_runner import config_text
from tests.smtp_capture import CaptureServer, free_port
from tidings.core.events import EventData, Recipient
from tidings.core.hookspecs import hookimpl
from tidings.core.hub import Hub
from tidings.core.transports.gate import GateOptions
from tidings.core.worker import SendReport


class Reports:
    def __init__(self) -> None:
        self.seen: list[SendReport] = []

    @hookimpl
    def after_send(self, report: SendReport) -> None:
        self.seen.append(report)


async def until(check: Callable[[], bool], within: float = 20.0) -> None:
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        await asyncio.sleep(0.05)


def alive(pid: int) -> bool:
    """Running (an exited process its parent has not reaped yet counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def hub_with_processes(tmp_path: Path, smtp: CaptureServer) -> Hub:
    path = tmp_path / "tidings.toml"
    path.write_text(config_text(tmp_path, smtp.port, delivery="processes = 2"))
    return Hub.from_config(path)


async def test_an_extra_process_delivers_and_the_serving_hub_observes_it(
    tmp_path: Path, smtp: CaptureServer
) -> None:
    hub = hub_with_processes(tmp_path, smtp)
    reports = Reports()
    hub.plugins.pm.register(reports)
    await hub.start()
    try:
        assert hub.processes is not None
        [child] = hub.processes.pids
        hub.worker.stop()  # from here on only the child can deliver
        await asyncio.sleep(0.1)
        ids = [(await hub.accept("shop", "account.created",
                                 Recipient(email=f"c{i}@example.com"), EventData())).message_ids[0]
               for i in range(12)]

        async def all_sent() -> bool:
            records = [await hub.store.message(i) for i in ids]
            return all(r is not None and r.state.value == "sent" for r in records)

        deadline = time.monotonic() + 30
        while not await all_sent():
            assert time.monotonic() < deadline, await hub.store.counts()
            await asyncio.sleep(0.05)
        await until(lambda: {r.message_id for r in reports.seen} == set(ids))
        assert {r.state.value for r in reports.seen} == {"sent"}
        assert sorted(m.rcpt_tos[0] for m in smtp.received) == sorted(
            f"c{i}@example.com" for i in range(12))
    finally:
        await hub.stop()
    assert not alive(child)


async def test_a_process_that_dies_is_started_again(tmp_path: Path, smtp: CaptureServer) -> None:
    hub = hub_with_processes(tmp_path, smtp)
    await hub.start()
    try:
        assert hub.processes is not None
        [first] = hub.processes.pids
        os.kill(first, signal.SIGKILL)
        processes = hub.processes
        await until(lambda: processes.pids not in ([], [first]))
        [second] = processes.pids
    finally:
        await hub.stop()
    assert not alive(second)


def test_a_worker_stops_when_its_serving_hub_is_gone(tmp_path: Path, smtp: CaptureServer) -> None:
    path = tmp_path / "tidings.toml"
    path.write_text(config_text(tmp_path, smtp.port, delivery="processes = 2"))
    read_fd, write_fd = os.pipe()
    child = subprocess.Popen(
        [sys.executable, "-m", "tidings.core", "worker", "--config", str(path),
         "--report-fd", str(write_fd)], pass_fds=(write_fd,))
    os.close(write_fd)
    try:
        time.sleep(1.0)
        assert child.poll() is None
        os.close(read_fd)  # what happens when the serving hub dies
        assert child.wait(timeout=20) == 0
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


def test_limits_are_shared_between_processes() -> None:
    options = GateOptions(rate_per_second=10, rate_per_day=1001)
    assert options.share(1) is options
    half = options.share(2)
    assert (half.rate_per_second, half.rate_per_day) == (5, 500)
    assert GateOptions(rate_per_day=1).share(4).rate_per_day == 1
    assert GateOptions().share(3).rate_per_second is None


def workers_of(pid: int) -> list[int]:
    """Children running ``tidings worker`` (a child just forked still shows its parent's
    command line until it execs)."""
    path = Path(f"/proc/{pid}/task/{pid}/children")
    children = [int(p) for p in path.read_text().split()] if path.exists() else []
    found = []
    for child in children:
        try:
            if b"worker" in Path(f"/proc/{child}/cmdline").read_bytes():
                found.append(child)
        except FileNotFoundError:
            pass
    return found


def test_serve_starts_its_delivery_processes_and_stops_them(
    tmp_path: Path, smtp: CaptureServer
) -> None:
    path = tmp_path / "tidings.toml"
    path.write_text(config_text(tmp_path, smtp.port, delivery="processes = 3"))
    port = free_port()
    serve = subprocess.Popen(
        [sys.executable, "-m", "tidings.core", "serve", "-c", str(path), "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while len(workers := workers_of(serve.pid)) < 2:
            assert serve.poll() is None and time.monotonic() < deadline, "no workers started"
            time.sleep(0.1)
        serve.send_signal(signal.SIGTERM)
        # uvicorn shuts down gracefully, then re-raises the signal it caught.
        assert serve.wait(timeout=30) in (0, -signal.SIGTERM)
    finally:
        if serve.poll() is None:
            serve.kill()
            serve.wait()
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in workers):
        assert time.monotonic() < deadline, "a delivery process outlived tidings serve"
        time.sleep(0.05)
