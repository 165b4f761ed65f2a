"""Brevo, formerly Sendinblue (``POST /v3/smtp/email``): ``api-key`` header, 201 with an id."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

import httpx
from pydantic import SecretStr

from tidings.core.config import MailAddress
from tidings.core.hookspecs import hookimpl
from tidings.core.transports.base import TransportType
from tidings.core.transports.http import HttpOptions, HttpTransport, Payload, address

__all__ = ["BrevoOptions", "BrevoTransport"]


class BrevoOptions(HttpOptions):
    type: Literal["brevo"] = "brevo"
    api_key: SecretStr


class BrevoPayload(Payload[BrevoOptions]):
    def _header(self, name: str, value: str) -> None:
        self.data.setdefault("headers", {})[name] = value

    def set_from(self, sender: MailAddress) -> None:
        self.data["sender"] = address(sender)

    def set_to(self, to: MailAddress) -> None:
        self.data["to"] = [address(to)]

    def set_reply_to(self, reply_to: MailAddress) -> None:
        self.data["replyTo"] = address(reply_to)

    def set_subject(self, subject: str) -> None:
        self.data["subject"] = subject

    def set_text(self, text: str) -> None:
        self.data["textContent"] = text

    def set_html(self, html: str) -> None:
        self.data["htmlContent"] = html

    def set_headers(self, headers: Mapping[str, str]) -> None:
        for name, value in headers.items():
            if not value.isascii():  # Brevo mangles 8-bit header values (anymail)
                self.unsupported(f"a non-ASCII value in header {name}")
            self._header(name, value)

    def set_tags(self, tags: Sequence[str]) -> None:
        self.data["tags"] = list(tags)

    def set_message_id(self, message_id: str) -> None:
        self._header("X-Mailin-custom", message_id)  # echoed in webhooks

    def set_sandbox(self) -> None:
        self._header("X-Sib-Sandbox", "drop")


class BrevoTransport(HttpTransport[BrevoOptions]):
    provider = "Brevo"
    default_base_url = "https://api.brevo.com"
    send_path = "/v3/smtp/email"
    check_path = "/v3/account"
    payload_class = BrevoPayload

    def auth_headers(self) -> dict[str, str]:
        return {"api-key": self.options.api_key.get_secret_value(), "Accept": "application/json"}

    def provider_id(self, response: httpx.Response, body: Any) -> str | None:
        found = body.get("messageId") if isinstance(body, dict) else None
        return str(found) if found else None


@hookimpl
def register_transports(register: Callable[[TransportType], None]) -> None:
    register(TransportType(name="brevo", options=BrevoOptions, factory=BrevoTransport))
