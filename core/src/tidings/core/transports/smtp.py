"""SMTP delivery over a small pool of reused aiosmtplib connections.

Connections are reused because a new one per message is 1.7–3.6× slower
(research/perf.md); the serialized bytes are sent, never an ``EmailMessage``,
which aiosmtplib would re-serialize on every send. aiosmtplib's exceptions
are mapped to our tree in :func:`_map_errors` and nowhere else.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

import aiosmtplib
from aiosmtplib import SMTPResponse, SMTPStatus
from pydantic import ConfigDict, Field, SecretStr, model_validator

from tidings.core.errors import PermanentDeliveryError, TransientDeliveryError
from tidings.core.mime import OutgoingMail
from tidings.core.transports.base import Delivered, Transport
from tidings.core.transports.gate import GateOptions
from tidings.core.transports.smtp_presets import PRESETS, region_prefix

__all__ = ["SmtpOptions", "SmtpTransport"]


class SmtpOptions(GateOptions):
    model_config = ConfigDict(extra="forbid")

    type: Literal["smtp"] = "smtp"
    preset: Literal[tuple(PRESETS)] | None = Field(  # type: ignore[valid-type]
        default=None, description="A provider's relay: fills host, port, security and the "
        "username convention, so only the key is needed.")
    region: str | None = Field(default=None, description="For presets with regions "
                               "(ses: 'eu-west-1'; mailgun, sparkpost: 'eu').")
    host: str = ""
    port: int | None = Field(default=None, ge=1, le=65535)
    security: Literal["none", "starttls", "tls"] = "starttls"
    username: str | None = None
    password: SecretStr | None = None
    timeout: float = Field(default=30.0, gt=0)
    pool_size: int = Field(default=4, ge=1, le=100)
    local_hostname: str | None = Field(
        default=None, description="Name sent in EHLO; defaults to this machine's FQDN.")
    verify_certificates: bool = True
    ca_file: Path | None = Field(
        default=None, description="Trust this CA bundle (a relay with a private certificate).")

    @model_validator(mode="before")
    @classmethod
    def _apply_preset(cls, data: Any) -> Any:
        """Fill what the preset knows, unless the owner set it explicitly."""
        if not isinstance(data, dict) or not data.get("preset"):
            return data
        preset = PRESETS.get(str(data["preset"]))
        if preset is None:
            return data  # the Literal check names the known presets
        filled = dict(data)
        filled.setdefault("host", region_prefix(preset, data.get("region")))
        filled.setdefault("port", preset.port)
        filled.setdefault("security", preset.security)
        if preset.username == "=password":
            filled.setdefault("username", data.get("password"))
        elif preset.username is not None:
            filled.setdefault("username", preset.username)
        return filled

    @model_validator(mode="after")
    def _credentials_in_pairs(self) -> SmtpOptions:
        if not self.host:
            raise ValueError("give host (or a preset: " + ", ".join(PRESETS) + ")")
        if (self.username is None) != (self.password is None):
            raise ValueError("username and password must be given together")
        return self

    @property
    def effective_port(self) -> int:
        if self.port is not None:
            return self.port
        return {"none": 25, "starttls": 587, "tls": 465}[self.security]


@contextmanager
def _map_errors() -> Iterator[None]:
    """The one place aiosmtplib's errors become ours: 4xx and network trouble are transient."""
    try:
        yield
    except aiosmtplib.SMTPResponseException as exc:
        cls = TransientDeliveryError if 400 <= exc.code < 500 else PermanentDeliveryError
        raise cls("server refused the message", code=exc.code,
                  reply=f"{exc.code} {exc.message}") from exc
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
        why = str(exc) or type(exc).__name__
        raise TransientDeliveryError(f"SMTP connection problem: {why}") from exc


async def _data(client: aiosmtplib.SMTP, payload: bytes, read_timeout: float) -> SMTPResponse:
    """DATA for a message already in wire form (:meth:`OutgoingMail.to_bytes`: CRLF only).

    ``SMTP.data`` re-scans every line of the body with two regular expressions to
    normalize line endings and quote periods, a quarter of the whole send cost in the
    bench profile; here the only scan left is the dot-stuffing, one C ``replace``.
    """
    start = await client.execute_command(b"DATA")
    if start.code != SMTPStatus.start_input:
        raise aiosmtplib.SMTPDataError(start.code, start.message)
    protocol = client.protocol
    if protocol is None:
        raise aiosmtplib.SMTPServerDisconnected("connection lost before the message was sent")
    try:
        protocol.write(payload.replace(b"\r\n.", b"\r\n..") + b".\r\n")
        response = await protocol.read_response(timeout=read_timeout)
    except BaseException:
        client.close()  # the dialogue is out of step: never reuse this connection
        raise
    if response.code != SMTPStatus.completed:
        raise aiosmtplib.SMTPDataError(response.code, response.message)
    return response


class SmtpTransport(Transport):
    def __init__(self, name: str, options: SmtpOptions) -> None:
        super().__init__(name)
        self.options = options
        self._idle: asyncio.LifoQueue[aiosmtplib.SMTP] = asyncio.LifoQueue()
        self._slots = asyncio.Semaphore(options.pool_size)
        self._tls = self._tls_context() if options.security != "none" else None
        # aiosmtplib would look the FQDN up (DNS) on every connection otherwise.
        self._ehlo_name = options.local_hostname or socket.getfqdn()

    def _tls_context(self) -> ssl.SSLContext:
        """Built once: loading the CA bundle per connection costs more than the handshake."""
        context = ssl.create_default_context(cafile=self.options.ca_file)
        if not self.options.verify_certificates:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context

    def _client(self) -> aiosmtplib.SMTP:
        o = self.options
        return aiosmtplib.SMTP(
            hostname=o.host,
            port=o.effective_port,
            use_tls=o.security == "tls",
            start_tls=o.security == "starttls",
            username=o.username,
            password=o.password.get_secret_value() if o.password else None,
            timeout=o.timeout,
            local_hostname=self._ehlo_name,
            tls_context=self._tls,
        )

    async def _acquire(self) -> aiosmtplib.SMTP:
        while not self._idle.empty():
            client = self._idle.get_nowait()
            if client.is_connected:
                return client
        client = self._client()
        try:
            await client.connect()
        except BaseException:
            client.close()  # a failed STARTTLS or login leaves the socket open otherwise
            raise
        return client

    async def send(self, mail: OutgoingMail) -> Delivered:
        payload = mail.to_bytes()
        async with self._slots:
            client: aiosmtplib.SMTP | None = None
            try:
                with _map_errors():
                    client = await self._acquire()
                    # MAIL, RCPT, DATA one by one, to keep the server's final reply with its code.
                    await client.mail(mail.sender.email)
                    await client.rcpt(mail.to.email)
                    response = await _data(client, payload, self.options.timeout)
            except BaseException:
                if client is not None:
                    client.close()
                raise
            self._idle.put_nowait(client)
        return Delivered(reply=f"{response.code} {response.message}".strip())

    async def check(self) -> str:
        with _map_errors():
            client = await self._acquire()
            try:
                await client.noop()
            finally:
                client.close()
        auth = " and logged in" if self.options.username else ""
        return f"connected to {self.options.host}:{self.options.effective_port}{auth}"

    async def close(self) -> None:
        while not self._idle.empty():
            client = self._idle.get_nowait()
            if client.is_connected:
                with contextlib.suppress(aiosmtplib.SMTPException, OSError):
                    await client.quit()
            client.close()
        # Closing a socket transport completes on the next loop turn; let it, so a
        # caller that stops its loop right after close() leaks no socket.
        await asyncio.sleep(0)
