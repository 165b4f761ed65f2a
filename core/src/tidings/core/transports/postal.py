"""Postal, self-hosted (``POST /api/v1/send/message``): ``X-Server-API-Key``, always HTTP 200.

Postal reports refusals in the body's ``status`` (``error``,
``parameter-error``), so :meth:`PostalTransport.interpret` reads that instead
of the status line. There is no public host: ``base_url`` is required.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

import httpx
from pydantic import SecretStr

from tidings.core.config import MailAddress
from tidings.core.errors import DeliveryError, PermanentDeliveryError
from tidings.core.hookspecs import hookimpl
from tidings.core.transports.base import TransportType
from tidings.core.transports.http import (
    HttpOptions,
    HttpTransport,
    Payload,
    error_text,
    formatted,
)

__all__ = ["PostalOptions", "PostalTransport"]

_AUTH_CODES = frozenset({"AccessDenied", "InvalidServerAPIKey", "ServerSuspended"})


def _error_code(body: Any) -> str | None:
    if isinstance(body, dict) and body.get("status") in ("error", "parameter-error"):
        data = body.get("data")
        return str(data.get("code")) if isinstance(data, dict) else str(body["status"])
    return None


class PostalOptions(HttpOptions):
    type: Literal["postal"] = "postal"
    api_key: SecretStr
    base_url: str  # required here: Postal has no public host


class PostalPayload(Payload[PostalOptions]):
    def set_from(self, sender: MailAddress) -> None:
        self.data["from"] = formatted(sender)

    def set_to(self, to: MailAddress) -> None:
        self.data["to"] = [formatted(to)]

    def set_reply_to(self, reply_to: MailAddress) -> None:
        self.data["reply_to"] = formatted(reply_to)

    def set_subject(self, subject: str) -> None:
        self.data["subject"] = subject

    def set_text(self, text: str) -> None:
        self.data["plain_body"] = text

    def set_html(self, html: str) -> None:
        self.data["html_body"] = html

    def set_headers(self, headers: Mapping[str, str]) -> None:
        self.data["headers"] = dict(headers)

    def set_tags(self, tags: Sequence[str]) -> None:
        self.data["tag"] = self.one_tag(tags)


class PostalTransport(HttpTransport[PostalOptions]):
    provider = "Postal"
    default_base_url = ""
    send_path = "/api/v1/send/message"
    payload_class = PostalPayload

    def auth_headers(self) -> dict[str, str]:
        return {"X-Server-API-Key": self.options.api_key.get_secret_value()}

    def provider_id(self, response: httpx.Response, body: Any) -> str | None:
        try:
            first = next(iter(body["data"]["messages"].values()))
            return str(first["id"])  # the per-recipient id webhooks report (anymail)
        except (KeyError, TypeError, StopIteration, AttributeError):
            return None

    def interpret(self, response: httpx.Response, body: Any) -> DeliveryError | None:
        code = _error_code(body)
        if code is None:
            return None
        why = (self._credentials_problem(401) if code in _AUTH_CODES
               else "Postal refused the message")
        return PermanentDeliveryError(why, code=response.status_code,
                                      reply=f"{code}: {error_text(body)}")

    async def check(self) -> str:
        """Postal has no read-only call; an empty send is refused for content, or for the key."""
        response, body = await self._call("POST", self.send_path, json={})
        if _error_code(body) in _AUTH_CODES or not 200 <= response.status_code < 300:
            self._classify(response, body)
        return (f"Postal accepted the credentials (an empty send at {self.options.base_url} "
                "was refused only for its content)")


@hookimpl
def register_transports(register: Callable[[TransportType], None]) -> None:
    register(TransportType(name="postal", options=PostalOptions, factory=PostalTransport))
