"""A real SMTP server on loopback for tests (aiosmtpd in its own thread).

It records every envelope and can be told to refuse the next messages with a
given reply, so retry and failure paths are exercised over real SMTP.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes
    peer: Any = None
    login: Any = None

    @property
    def message(self) -> EmailMessage:
        msg = message_from_bytes(self.raw, policy=policy.default)
        assert isinstance(msg, EmailMessage)
        return msg


@dataclass
class _Handler:
    received: list[Received] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)
    lock: threading.Condition = field(default_factory=threading.Condition)
    stall: float = 0.0
    stalled: threading.Event = field(default_factory=threading.Event)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.stall:
            self.stalled.set()
            await asyncio.sleep(self.stall)
        with self.lock:
            if self.refusals:
                return self.refusals.pop(0)
            self.received.append(Received(
                str(envelope.mail_from), list(envelope.rcpt_tos),
                bytes(envelope.original_content or b""), session.peer, session.auth_data))
            self.lock.notify_all()
        return "250 2.0.0 Ok: queued as TEST"


class CaptureServer:
    """``**smtp_options`` go to aiosmtpd's SMTP (tls_context, require_starttls, auth…);
    ``ssl_context`` makes it an implicit-TLS server."""

    def __init__(self, ssl_context: Any = None, **smtp_options: Any) -> None:
        self.handler = _Handler()
        self.port = free_port()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port,
                                     server_hostname="capture.test", decode_data=False,
                                     ssl_context=ssl_context, **smtp_options)

    def __enter__(self) -> CaptureServer:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()

    @property
    def received(self) -> list[Received]:
        with self.handler.lock:
            return list(self.handler.received)

    def refuse_next(self, reply: str, times: int = 1) -> None:
        """Answer the next ``times`` DATA commands with ``reply`` (e.g. '451 4.3.0 busy')."""
        with self.handler.lock:
            self.handler.refusals.extend([reply] * times)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        with self.handler.lock:
            while len(self.handler.received) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"expected {count} mail(s), got {len(self.handler.received)}")
                self.handler.lock.wait(left)
            return list(self.handler.received)
