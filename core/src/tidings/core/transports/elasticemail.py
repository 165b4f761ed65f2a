"""Elastic Email v4 (``POST /v4/emails/transactional``): ``X-ElasticEmail-ApiKey`` header."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

import httpx
from pydantic import SecretStr

from tidings.core.config import MailAddress
from tidings.core.hookspecs import hookimpl
from tidings.core.transports.base import TransportType
from tidings.core.transports.http import HttpOptions, HttpTransport, Payload, formatted

__all__ = ["ElasticEmailOptions", "ElasticEmailTransport"]


class ElasticEmailOptions(HttpOptions):
    type: Literal["elasticemail"] = "elasticemail"
    api_key: SecretStr


class ElasticEmailPayload(Payload[ElasticEmailOptions]):
    def __init__(self, provider: str, options: ElasticEmailOptions, path: str) -> None:
        super().__init__(provider, options, path)
        self.content: dict[str, Any] = {}
        self.data["Content"] = self.content

    def _body(self, kind: str, content: str) -> None:
        self.content.setdefault("Body", []).append(
            {"ContentType": kind, "Content": content, "Charset": "utf-8"})

    def set_from(self, sender: MailAddress) -> None:
        self.content["From"] = formatted(sender)

    def set_to(self, to: MailAddress) -> None:
        self.data["Recipients"] = {"To": [formatted(to)]}

    def set_reply_to(self, reply_to: MailAddress) -> None:
        self.content["ReplyTo"] = formatted(reply_to)

    def set_subject(self, subject: str) -> None:
        self.content["Subject"] = subject

    def set_text(self, text: str) -> None:
        self._body("PlainText", text)

    def set_html(self, html: str) -> None:
        self._body("HTML", html)

    def set_headers(self, headers: Mapping[str, str]) -> None:
        self.content["Headers"] = dict(headers)

    def set_tags(self, tags: Sequence[str]) -> None:
        self.data["Options"] = {"ChannelName": self.one_tag(tags)}

    def set_message_id(self, message_id: str) -> None:
        self.content["Postback"] = message_id  # echoed in its notifications


class ElasticEmailTransport(HttpTransport[ElasticEmailOptions]):
    provider = "Elastic Email"
    default_base_url = "https://api.elasticemail.com"
    send_path = "/v4/emails/transactional"
    check_path = "/v4/domains"
    payload_class = ElasticEmailPayload

    def auth_headers(self) -> dict[str, str]:
        return {"X-ElasticEmail-ApiKey": self.options.api_key.get_secret_value()}

    def provider_id(self, response: httpx.Response, body: Any) -> str | None:
        found = body.get("MessageID") if isinstance(body, dict) else None
        return str(found) if found else None


@hookimpl
def register_transports(register: Callable[[TransportType], None]) -> None:
    register(TransportType(name="elasticemail", options=ElasticEmailOptions,
                           factory=ElasticEmailTransport))
