"""MailerSend (``POST /v1/email``): 202 with the id in ``X-Message-Id``.

A 202 may still carry ``ALL_SUPPRESSED`` warnings: nothing will be sent to a
suppressed address, so that is a suppression, not a success.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

import httpx
from pydantic import SecretStr

from tidings.core.config import MailAddress
from tidings.core.errors import DeliveryError
from tidings.core.hookspecs import hookimpl
from tidings.core.transports.base import TransportType
from tidings.core.transports.http import (
    HttpOptions,
    HttpTransport,
    Payload,
    SuppressedRecipient,
    address,
    bearer,
    json_dumps,
)

__all__ = ["MailersendOptions", "MailersendTransport"]


class MailersendOptions(HttpOptions):
    type: Literal["mailersend"] = "mailersend"
    api_key: SecretStr


class MailersendPayload(Payload[MailersendOptions]):
    def set_from(self, sender: MailAddress) -> None:
        self.data["from"] = address(sender)

    def set_to(self, to: MailAddress) -> None:
        self.data["to"] = [address(to)]

    def set_reply_to(self, reply_to: MailAddress) -> None:
        self.data["reply_to"] = address(reply_to)

    def set_subject(self, subject: str) -> None:
        self.data["subject"] = subject

    def set_text(self, text: str) -> None:
        self.data["text"] = text

    def set_html(self, html: str) -> None:
        self.data["html"] = html

    def set_headers(self, headers: Mapping[str, str]) -> None:
        # Custom headers need MailerSend's Enterprise plan; others answer 422.
        self.data["headers"] = [{"name": k, "value": v} for k, v in headers.items()]

    def set_tags(self, tags: Sequence[str]) -> None:
        self.data["tags"] = list(tags)


class MailersendTransport(HttpTransport[MailersendOptions]):
    provider = "MailerSend"
    default_base_url = "https://api.mailersend.com"
    send_path = "/v1/email"
    check_path = "/v1/api-quota"
    payload_class = MailersendPayload

    def auth_headers(self) -> dict[str, str]:
        return bearer(self.options.api_key)

    def provider_id(self, response: httpx.Response, body: Any) -> str | None:
        found = response.headers.get("x-message-id")
        return str(found) if found else None

    def interpret(self, response: httpx.Response, body: Any) -> DeliveryError | None:
        warnings = body.get("warnings") if isinstance(body, dict) else None
        if isinstance(warnings, list) and any(
                isinstance(w, dict) and w.get("type") == "ALL_SUPPRESSED" for w in warnings):
            return SuppressedRecipient("MailerSend suppressed the recipient",
                                       code=response.status_code, reply=json_dumps(warnings))
        return None


@hookimpl
def register_transports(register: Callable[[TransportType], None]) -> None:
    register(TransportType(name="mailersend", options=MailersendOptions,
                           factory=MailersendTransport))
