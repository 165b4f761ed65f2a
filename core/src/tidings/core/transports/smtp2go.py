"""SMTP2GO (``POST /v3/email/send``): ``X-Smtp2go-Api-Key``, "Name <addr>" strings.

A 200 counts ``succeeded``/``failed`` recipients; with our single recipient a
failure there is a refusal of that address.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
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
    formatted,
    json_dumps,
)

__all__ = ["Smtp2goOptions", "Smtp2goTransport"]


class Smtp2goOptions(HttpOptions):
    type: Literal["smtp2go"] = "smtp2go"
    api_key: SecretStr


class Smtp2goPayload(Payload[Smtp2goOptions]):
    def _header(self, name: str, value: str) -> None:
        self.data.setdefault("custom_headers", []).append({"header": name, "value": value})

    def set_from(self, sender: MailAddress) -> None:
        self.data["sender"] = formatted(sender)

    def set_to(self, to: MailAddress) -> None:
        self.data["to"] = [formatted(to)]

    def set_reply_to(self, reply_to: MailAddress) -> None:
        self._header("Reply-To", formatted(reply_to))

    def set_subject(self, subject: str) -> None:
        self.data["subject"] = subject

    def set_text(self, text: str) -> None:
        self.data["text_body"] = text

    def set_html(self, html: str) -> None:
        self.data["html_body"] = html

    def set_headers(self, headers: Mapping[str, str]) -> None:
        for name, value in headers.items():
            self._header(name, value)


class Smtp2goTransport(HttpTransport[Smtp2goOptions]):
    provider = "SMTP2GO"
    default_base_url = "https://api.smtp2go.com"
    send_path = "/v3/email/send"
    check_path = "/v3/stats/email_summary"
    payload_class = Smtp2goPayload

    def auth_headers(self) -> dict[str, str]:
        return {"X-Smtp2go-Api-Key": self.options.api_key.get_secret_value(),
                "Accept": "application/json"}

    def check_call(self) -> tuple[str, str, dict[str, Any]]:
        return "POST", self.check_path, {"json": {}}

    @staticmethod
    def _data(body: Any) -> dict[str, Any]:
        data = body.get("data") if isinstance(body, dict) else None
        return data if isinstance(data, dict) else {}

    def provider_id(self, response: httpx.Response, body: Any) -> str | None:
        found = self._data(body).get("email_id")
        return str(found) if found else None

    def interpret(self, response: httpx.Response, body: Any) -> DeliveryError | None:
        data = self._data(body)
        if response.is_success and data.get("failed") and not data.get("succeeded"):
            return PermanentDeliveryError("SMTP2GO refused the recipient",
                                          code=response.status_code,
                                          reply=json_dumps(data.get("failures")))
        return None


@hookimpl
def register_transports(register: Callable[[TransportType], None]) -> None:
    register(TransportType(name="smtp2go", options=Smtp2goOptions, factory=Smtp2goTransport))
