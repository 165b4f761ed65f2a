"""SendGrid v3 Mail Send (``POST /v3/mail/send``); the id is the ``X-Message-Id`` header."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

import httpx
from pydantic import SecretStr

from tidings.core.config import MailAddress
from tidings.core.hookspecs import hookimpl
from tidings.core.transports.base import TransportType
from tidings.core.transports.http import HttpOptions, HttpTransport, Payload, address, bearer

__all__ = ["SendgridOptions", "SendgridTransport"]


class SendgridOptions(HttpOptions):
    type: Literal["sendgrid"] = "sendgrid"
    api_key: SecretStr
    region: Literal["global", "eu"] = "global"


class SendgridPayload(Payload[SendgridOptions]):
    def set_from(self, sender: MailAddress) -> None:
        self.data["from"] = address(sender)

    def set_to(self, to: MailAddress) -> None:
        self.data["personalizations"] = [{"to": [address(to)]}]

    def set_reply_to(self, reply_to: MailAddress) -> None:
        self.data["reply_to_list"] = [address(reply_to)]

    def set_subject(self, subject: str) -> None:
        self.data["subject"] = subject

    def set_text(self, text: str) -> None:
        self.data.setdefault("content", []).append({"type": "text/plain", "value": text})

    def set_html(self, html: str) -> None:
        self.data.setdefault("content", []).append({"type": "text/html", "value": html})

    def set_headers(self, headers: Mapping[str, str]) -> None:
        self.data["headers"] = dict(headers)

    def set_tags(self, tags: Sequence[str]) -> None:
        self.data["categories"] = list(tags)

    def set_message_id(self, message_id: str) -> None:
        self.data["custom_args"] = {"tidings_message_id": message_id}

    def set_sandbox(self) -> None:
        self.data["mail_settings"] = {"sandbox_mode": {"enable": True}}


class SendgridTransport(HttpTransport[SendgridOptions]):
    provider = "SendGrid"
    default_base_url = "https://api.sendgrid.com"
    send_path = "/v3/mail/send"
    check_path = "/v3/scopes"
    payload_class = SendgridPayload

    def base_url(self) -> str:
        if self.options.base_url is None and self.options.region == "eu":
            return "https://api.eu.sendgrid.com"
        return super().base_url()

    def auth_headers(self) -> dict[str, str]:
        return bearer(self.options.api_key)

    def provider_id(self, response: httpx.Response, body: Any) -> str | None:
        found = response.headers.get("x-message-id")
        return str(found) if found else None


@hookimpl
def register_transports(register: Callable[[TransportType], None]) -> None:
    register(TransportType(name="sendgrid", options=SendgridOptions, factory=SendgridTransport))
