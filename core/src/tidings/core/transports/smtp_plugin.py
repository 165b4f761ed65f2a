"""Registers the SMTP transport through the ``tidings`` entry points, like any plugin."""

from __future__ import annotations

from collections.abc import Callable

from tidings.core.hookspecs import hookimpl
from tidings.core.transports.base import TransportType
from tidings.core.transports.smtp import SmtpOptions, SmtpTransport


@hookimpl
def register_transports(register: Callable[[TransportType], None]) -> None:
    register(TransportType(name="smtp", options=SmtpOptions, factory=SmtpTransport))
