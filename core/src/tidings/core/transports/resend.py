"""Resend (``POST /emails``): bearer key, string addresses, and a native idempotency key."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Literal

from pydantic import SecretStr

from tidings.core.config import MailAddress
from tidings.core.errors import PermanentDeliveryError
from tidings.core.hookspecs import hookimpl
from tidings.core.transports.base import TransportType
from tidings.core.transports.http import HttpOptions, HttpTransport, Payload, bearer, formatted

__all__ = ["ResendOptions", "ResendTransport"]

_TAG_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")  # Resend's tags allow only these characters


class ResendOptions(HttpOptions):
    type: Literal["resend"] = "resend"
    api_key: SecretStr


class ResendPayload(Payload[ResendOptions]):
    def set_from(self, sender: MailAddress) -> None:
        self.data["from"] = formatted(sender)

    def set_to(self, to: MailAddress) -> None:
        self.data["to"] = [formatted(to)]

    def set_reply_to(self, reply_to: MailAddress) -> None:
        self.data["reply_to"] = [formatted(reply_to)]

    def set_subject(self, subject: str) -> None:
        self.data["subject"] = subject

    def set_text(self, text: str) -> None:
        self.data["text"] = text

    def set_html(self, html: str) -> None:
        self.data["html"] = html

    def set_headers(self, headers: Mapping[str, str]) -> None:
        self.data.setdefault("headers", {}).update(headers)

    def set_tags(self, tags: Sequence[str]) -> None:
        self.data["tags"] = [{"name": "category", "value": _TAG_UNSAFE.sub("_", t)}
                             for t in tags[:1]] + [
            {"name": f"tag_{_TAG_UNSAFE.sub('_', t)}", "value": "true"} for t in tags[1:]]

    def set_message_id(self, message_id: str) -> None:
        # Resend echoes headers (not metadata) in its webhooks' data.headers.
        self.data.setdefault("headers", {})["X-Tidings-Message-Id"] = message_id

    def set_idempotency_key(self, key: str) -> None:
        self.headers["Idempotency-Key"] = key


class ResendTransport(HttpTransport[ResendOptions]):
    provider = "Resend"
    default_base_url = "https://api.resend.com"
    send_path = "/emails"
    check_path = "/domains"
    payload_class = ResendPayload

    def auth_headers(self) -> dict[str, str]:
        return bearer(self.options.api_key)

    async def check(self) -> str:
        try:
            return await super().check()
        except PermanentDeliveryError as exc:
            # A sending-only key may not list domains, which still proves it is valid.
            if exc.code == 401 and "restricted" in (exc.reply or "").lower():
                return "Resend accepted the credentials (a key restricted to sending)"
            raise


@hookimpl
def register_transports(register: Callable[[TransportType], None]) -> None:
    register(TransportType(name="resend", options=ResendOptions, factory=ResendTransport))
