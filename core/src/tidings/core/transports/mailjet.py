"""Mailjet Send API v3.1 (``POST /v3.1/send``): basic auth with key and secret, ``SandboxMode``."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

import httpx
from pydantic import SecretStr

from tidings.core.config import MailAddress
from tidings.core.hookspecs import hookimpl
from tidings.core.transports.base import TransportType
from tidings.core.transports.http import HttpOptions, HttpTransport, Payload, address

__all__ = ["MailjetOptions", "MailjetTransport"]


def _addr(addr: MailAddress) -> dict[str, str]:
    return address(addr, email="Email", name="Name")


class MailjetOptions(HttpOptions):
    type: Literal["mailjet"] = "mailjet"
    api_key: SecretStr
    secret_key: SecretStr


class MailjetPayload(Payload[MailjetOptions]):
    """One entry of ``Messages``; ``SandboxMode`` sits beside it at the top."""

    def __init__(self, provider: str, options: MailjetOptions, path: str) -> None:
        super().__init__(provider, options, path)
        self.message: dict[str, Any] = {}
        self.data["Messages"] = [self.message]

    def set_from(self, sender: MailAddress) -> None:
        self.message["From"] = _addr(sender)

    def set_to(self, to: MailAddress) -> None:
        self.message["To"] = [_addr(to)]

    def set_reply_to(self, reply_to: MailAddress) -> None:
        self.message["ReplyTo"] = _addr(reply_to)

    def set_subject(self, subject: str) -> None:
        self.message["Subject"] = subject

    def set_text(self, text: str) -> None:
        self.message["TextPart"] = text

    def set_html(self, html: str) -> None:
        self.message["HTMLPart"] = html

    def set_headers(self, headers: Mapping[str, str]) -> None:
        self.message["Headers"] = dict(headers)

    def set_tags(self, tags: Sequence[str]) -> None:
        self.message["CustomCampaign"] = self.one_tag(tags)

    def set_message_id(self, message_id: str) -> None:
        self.message["CustomID"] = message_id  # comes back as CustomID in events

    def set_sandbox(self) -> None:
        self.data["SandboxMode"] = True


class MailjetTransport(HttpTransport[MailjetOptions]):
    provider = "Mailjet"
    default_base_url = "https://api.mailjet.com"
    send_path = "/v3.1/send"
    check_path = "/v3/REST/apikey"
    credential_name = "api_key/secret_key"
    payload_class = MailjetPayload

    def request_auth(self) -> httpx.Auth | tuple[str, str] | None:
        return (self.options.api_key.get_secret_value(),
                self.options.secret_key.get_secret_value())

    def provider_id(self, response: httpx.Response, body: Any) -> str | None:
        try:
            return str(body["Messages"][0]["To"][0]["MessageID"])
        except (KeyError, IndexError, TypeError):
            return None


@hookimpl
def register_transports(register: Callable[[TransportType], None]) -> None:
    register(TransportType(name="mailjet", options=MailjetOptions, factory=MailjetTransport))
