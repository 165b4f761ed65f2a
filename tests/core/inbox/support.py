"""Helpers for the inbox tests: real HTTP serving, real SMTP sending, sample mail."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage

import aiosmtplib
import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.routing import Mount

from tidings.core.inbox import Inbox


class QuietServer(uvicorn.Server):
    """uvicorn without its signal handlers, so Ctrl-C still reaches pytest."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@contextlib.asynccontextmanager
async def serve(app: Starlette) -> AsyncIterator[str]:
    """Serve ``app`` over real HTTP; yields its base URL.

    The socket is bound and listening before uvicorn starts, so requests made
    right away simply wait in the backlog: no polling for "started".
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="off", ws="none")
    server = QuietServer(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()


@dataclass
class Stack:
    inbox: Inbox
    http: httpx.AsyncClient
    base_url: str

    async def send(self, message: EmailMessage | bytes, **kwargs: object) -> None:
        await send(self.inbox, message, **kwargs)


async def send(inbox: Inbox, message: EmailMessage | bytes, **kwargs: object) -> None:
    """Deliver over real SMTP, as the hub's transport would."""
    await aiosmtplib.send(message, hostname="127.0.0.1", port=inbox.port, **kwargs)  # type: ignore[arg-type]


@contextlib.asynccontextmanager
async def running_stack(inbox: Inbox) -> AsyncIterator[Stack]:
    """``inbox`` mounted under ``/inbox`` as the main app does, plus an HTTP client."""
    app = Starlette(routes=[Mount("/inbox", routes=inbox.routes())])
    async with serve(app) as base_url, httpx.AsyncClient(
        base_url=base_url, trust_env=False, timeout=10
    ) as client:
        yield Stack(inbox, client, base_url)


def order_mail(subject: str = "Bestellbestätigung #1001 — Grüße aus Köln") -> EmailMessage:
    """A typical shop mail: multipart/alternative with non-ASCII everywhere."""
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = Address("Jörg Müller", "shop", "example.com")
    msg["To"] = Address("Zoë Čapek", "zoe", "example.org")
    msg["Date"] = "Mon, 01 Jul 2024 10:00:00 +0000"
    msg.set_content("Hallo Zoë,\n\ndanke für Ihre Bestellung über 12,50 €.\n")
    msg.add_alternative(
        "<html><head><title>x</title></head><body><h1>Hallo Zoë</h1>"
        "<p>Danke für Ihre Bestellung über <b>12,50 €</b>.</p></body></html>",
        subtype="html",
    )
    return msg


def text_mail(subject: str = "Your password reset") -> EmailMessage:
    """A plain-text-only mail."""
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = "noreply@example.com"
    msg["To"] = "customer@example.org"
    msg.set_content("Use this code: 424242\n")
    return msg


GARBAGE = b"\x00\xff\xfe this is not a mail\r\n\x80\x81 at all: \xc3\r\n"


def html_part(msg: EmailMessage) -> EmailMessage:
    """The text/html part of ``msg``, to add related parts or replace its content."""
    part = msg.get_body(preferencelist=("html",))
    assert isinstance(part, EmailMessage)
    return part
