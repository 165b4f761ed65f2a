"""The SMTP side of the test inbox: accept anything, keep everything.

It runs on the caller's event loop (not aiosmtpd's thread ``Controller``) so
that the hub, its HTTP server and the inbox share one loop and the store is
only ever touched from that loop's thread.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
import weakref
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, Session

from tidings.core.inbox.mail import CapturedMail
from tidings.core.inbox.parsing import parse_message

__all__ = ["DEFAULT_MAX_SIZE", "HOSTNAME", "CaptureServer"]

log = logging.getLogger(__name__)

#: Name the server greets with, so SMTP logs show where mail really went.
HOSTNAME = "tidings-inbox"
#: Largest message accepted (SMTP ``SIZE``); bigger ones get a 552 reply.
DEFAULT_MAX_SIZE = 10 * 1024 * 1024
_STOP_GRACE = 5.0


def _accept_any_login(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
) -> AuthResult:
    """Accept every AUTH attempt: a demo config with credentials must still deliver."""
    return AuthResult(success=True)


class _CaptureHandler:
    """aiosmtpd handler: parse each message and hand it to ``on_mail``."""

    def __init__(self, on_mail: Callable[[CapturedMail], None]) -> None:
        self._on_mail = on_mail

    async def handle_DATA(  # noqa: N802 - the name aiosmtpd looks for
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        raw = envelope.original_content
        if not isinstance(raw, bytes):
            content = envelope.content
            raw = content if isinstance(content, bytes) else str(content or "").encode()
        mail = parse_message(
            raw,
            mail_id=uuid.uuid4().hex[:12],
            received_at=datetime.now(UTC),
            mail_from=envelope.mail_from or "",
            rcpt_tos=list(envelope.rcpt_tos),
        )
        self._on_mail(mail)
        log.debug("captured mail %s from %s (%d bytes)", mail.id, mail.mail_from, mail.size)
        return "250 2.0.0 OK: captured by the Tidings test inbox"


class CaptureServer:
    """An SMTP listener on the running loop that feeds ``on_mail``."""

    def __init__(self, on_mail: Callable[[CapturedMail], None], *, max_size: int) -> None:
        self._handler = _CaptureHandler(on_mail)
        self._max_size = max_size
        self._server: asyncio.Server | None = None
        self._connections: weakref.WeakSet[SMTP] = weakref.WeakSet()

    @property
    def address(self) -> tuple[str, int] | None:
        """(host, port) actually bound, or None while stopped."""
        if self._server is None or not self._server.sockets:
            return None
        host, port = self._server.sockets[0].getsockname()[:2]
        return str(host), int(port)

    async def start(self, host: str, port: int) -> None:
        """Bind and start accepting SMTP connections; ``port`` 0 picks a free one."""
        if self._server is not None:
            raise RuntimeError("the test inbox is already running")
        loop = asyncio.get_running_loop()

        def new_connection() -> SMTP:
            smtp = SMTP(
                self._handler,
                hostname=HOSTNAME,
                data_size_limit=self._max_size,
                decode_data=False,
                enable_SMTPUTF8=True,
                authenticator=_accept_any_login,
                auth_require_tls=False,
                loop=loop,
            )
            self._connections.add(smtp)
            return smtp

        self._server = await loop.create_server(new_connection, host, port)

    async def stop(self) -> None:
        """Stop listening and drop open sessions; safe to call twice."""
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        sessions = list(self._connections)
        for smtp in sessions:
            if smtp.transport is not None:
                smtp.transport.close()
        # Closing the transport cancels each session's task; let them finish
        # so no "Task was destroyed but it is pending" noise outlives us.
        tasks = [t for s in sessions if (t := getattr(s, "_handler_coroutine", None)) is not None]
        if tasks:
            await asyncio.wait(tasks, timeout=_STOP_GRACE)
        await server.wait_closed()
