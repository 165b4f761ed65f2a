"""Postmark (``POST /email``): server-token header, a message stream, and a test token.

A 422 with ``ErrorCode`` 406 means the address is inactive (bounced or
complained before): Postmark will never take it, so it is a suppression.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

import httpx
from pydantic import SecretStr

from tidings.core.config import MailAddress
from tidings.core.errors import DeliveryError
from tidings.core.hookspecs import hookimpl
from tidings.core.mime import OutgoingMail
from tidings.core.transports.base import TransportType
from tidings.core.transports.http import (
    HttpOptions,
    HttpTransport,
    Payload,
    SuppressedRecipient,
    error_text,
    formatted,
)

__all__ = ["PostmarkOptions", "PostmarkTransport"]

_TOKEN_HEADER = "X-Postmark-Server-Token"  # noqa: S105 - a header name
_INACTIVE_RECIPIENT = 406


class PostmarkOptions(HttpOptions):
    type: Literal["postmark"] = "postmark"
    server_token: SecretStr
    message_stream: str = "outbound"


class PostmarkPayload(Payload[PostmarkOptions]):
    def build(self, mail: OutgoingMail) -> None:
        super().build(mail)
        self.data["MessageStream"] = self.options.message_stream

    def set_from(self, sender: MailAddress) -> None:
        self.data["From"] = formatted(sender)

    def set_to(self, to: MailAddress) -> None:
        self.data["To"] = formatted(to)

    def set_reply_to(self, reply_to: MailAddress) -> None:
        self.data["ReplyTo"] = formatted(reply_to)

    def set_subject(self, subject: str) -> None:
        self.data["Subject"] = subject

    def set_text(self, text: str) -> None:
        self.data["TextBody"] = text

    def set_html(self, html: str) -> None:
        self.data["HtmlBody"] = html

    def set_headers(self, headers: Mapping[str, str]) -> None:
        self.data["Headers"] = [{"Name": k, "Value": v} for k, v in headers.items()]

    def set_tags(self, tags: Sequence[str]) -> None:
        self.data["Tag"] = self.one_tag(tags)

    def set_message_id(self, message_id: str) -> None:
        self.data["Metadata"] = {"tidings_message_id": message_id}

    def set_sandbox(self) -> None:
        # Postmark's documented test token: validated like a real send, never delivered.
        self.headers[_TOKEN_HEADER] = "POSTMARK_API_TEST"


class PostmarkTransport(HttpTransport[PostmarkOptions]):
    provider = "Postmark"
    default_base_url = "https://api.postmarkapp.com"
    send_path = "/email"
    check_path = "/server"
    credential_name = "server_token"
    payload_class = PostmarkPayload

    def auth_headers(self) -> dict[str, str]:
        return {_TOKEN_HEADER: self.options.server_token.get_secret_value(),
                "Accept": "application/json"}

    def provider_id(self, response: httpx.Response, body: Any) -> str | None:
        return str(body["MessageID"]) if isinstance(body, dict) and "MessageID" in body else None

    def interpret(self, response: httpx.Response, body: Any) -> DeliveryError | None:
        if isinstance(body, dict) and body.get("ErrorCode") == _INACTIVE_RECIPIENT:
            return SuppressedRecipient("Postmark marked the recipient inactive (bounced, "
                                       "complained or unsubscribed)", code=response.status_code,
                                       reply=error_text(body))
        return None


@hookimpl
def register_transports(register: Callable[[TransportType], None]) -> None:
    register(TransportType(name="postmark", options=PostmarkOptions, factory=PostmarkTransport))
