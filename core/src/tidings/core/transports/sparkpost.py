"""SparkPost Transmissions (``POST /api/v1/transmissions``): raw key in ``Authorization``.

420 means the account's sending limit is used up until the window resets, so
it is transient, and error code 1902 is a suppressed recipient.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

import httpx
from pydantic import SecretStr

from tidings.core.config import MailAddress
from tidings.core.errors import DeliveryError, TransientDeliveryError
from tidings.core.hookspecs import hookimpl
from tidings.core.transports.base import TransportType
from tidings.core.transports.http import (
    HttpOptions,
    HttpTransport,
    Payload,
    SuppressedRecipient,
    address,
    error_text,
    formatted,
)

__all__ = ["SparkpostOptions", "SparkpostTransport"]

_QUOTA_EXCEEDED = 420
_SUPPRESSED = "1902"


class SparkpostOptions(HttpOptions):
    type: Literal["sparkpost"] = "sparkpost"
    api_key: SecretStr
    region: Literal["us", "eu"] = "us"


class SparkpostPayload(Payload[SparkpostOptions]):
    def __init__(self, provider: str, options: SparkpostOptions, path: str) -> None:
        super().__init__(provider, options, path)
        self.content: dict[str, Any] = {}
        self.data["content"] = self.content

    def set_from(self, sender: MailAddress) -> None:
        self.content["from"] = address(sender)

    def set_to(self, to: MailAddress) -> None:
        self.data["recipients"] = [{"address": address(to)}]

    def set_reply_to(self, reply_to: MailAddress) -> None:
        self.content["reply_to"] = formatted(reply_to)

    def set_subject(self, subject: str) -> None:
        self.content["subject"] = subject

    def set_text(self, text: str) -> None:
        self.content["text"] = text

    def set_html(self, html: str) -> None:
        self.content["html"] = html

    def set_headers(self, headers: Mapping[str, str]) -> None:
        self.content["headers"] = dict(headers)

    def set_tags(self, tags: Sequence[str]) -> None:
        self.data["campaign_id"] = self.one_tag(tags)

    def set_message_id(self, message_id: str) -> None:
        self.data["metadata"] = {"tidings_message_id": message_id}

    def set_sandbox(self) -> None:
        self.data["options"] = {"sandbox": True}


class SparkpostTransport(HttpTransport[SparkpostOptions]):
    provider = "SparkPost"
    default_base_url = "https://api.sparkpost.com"
    send_path = "/api/v1/transmissions"
    check_path = "/api/v1/account"
    payload_class = SparkpostPayload

    def base_url(self) -> str:
        if self.options.base_url is None and self.options.region == "eu":
            return "https://api.eu.sparkpost.com"
        return super().base_url()

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": self.options.api_key.get_secret_value()}

    def provider_id(self, response: httpx.Response, body: Any) -> str | None:
        results = body.get("results") if isinstance(body, dict) else None
        return str(results["id"]) if isinstance(results, dict) and "id" in results else None

    def interpret(self, response: httpx.Response, body: Any) -> DeliveryError | None:
        if response.status_code == _QUOTA_EXCEEDED:
            return TransientDeliveryError("SparkPost sending limit reached; it resets with the "
                                          "window", code=_QUOTA_EXCEEDED, reply=error_text(body))
        errors = body.get("errors") if isinstance(body, dict) else None
        if isinstance(errors, list) and any(
                isinstance(e, dict) and str(e.get("code")) == _SUPPRESSED for e in errors):
            return SuppressedRecipient("SparkPost suppressed the recipient",
                                       code=response.status_code, reply=error_text(body))
        return None


@hookimpl
def register_transports(register: Callable[[TransportType], None]) -> None:
    register(TransportType(name="sparkpost", options=SparkpostOptions,
                           factory=SparkpostTransport))
