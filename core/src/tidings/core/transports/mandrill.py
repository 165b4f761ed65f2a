"""Mandrill (``POST /api/1.0/messages/send.json``): the key travels in the JSON body.

Mandrill answers errors with HTTP 500 and a ``name`` (``Invalid_Key``,
``ValidationError``…), so only ``GeneralError`` is treated as transient; a 200
can still carry a per-recipient ``rejected`` (suppressed) or ``invalid``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

import httpx
from pydantic import SecretStr

from tidings.core.config import MailAddress
from tidings.core.errors import DeliveryError, PermanentDeliveryError, TransientDeliveryError
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

__all__ = ["MandrillOptions", "MandrillTransport"]

_TRANSIENT_NAMES = frozenset({"GeneralError"})
_CREDENTIAL_NAMES = frozenset({"Invalid_Key", "PaymentRequired", "Unknown_Subaccount"})


class MandrillOptions(HttpOptions):
    type: Literal["mandrill"] = "mandrill"
    api_key: SecretStr


class MandrillPayload(Payload[MandrillOptions]):
    def __init__(self, provider: str, options: MandrillOptions, path: str) -> None:
        super().__init__(provider, options, path)
        self.message: dict[str, Any] = {}
        self.data.update(key=options.api_key.get_secret_value(), message=self.message)

    def build(self, mail: OutgoingMail) -> None:
        super().build(mail)
        self.message["preserve_recipients"] = False

    def set_from(self, sender: MailAddress) -> None:
        self.message["from_email"] = sender.email
        if sender.name:
            self.message["from_name"] = sender.name

    def set_to(self, to: MailAddress) -> None:
        self.message["to"] = [{"email": to.email, "name": to.name or "", "type": "to"}]

    def set_reply_to(self, reply_to: MailAddress) -> None:
        self.message.setdefault("headers", {})["Reply-To"] = formatted(reply_to)

    def set_subject(self, subject: str) -> None:
        self.message["subject"] = subject

    def set_text(self, text: str) -> None:
        self.message["text"] = text

    def set_html(self, html: str) -> None:
        self.message["html"] = html

    def set_headers(self, headers: Mapping[str, str]) -> None:
        self.message.setdefault("headers", {}).update(headers)

    def set_tags(self, tags: Sequence[str]) -> None:
        self.message["tags"] = list(tags)

    def set_message_id(self, message_id: str) -> None:
        self.message["metadata"] = {"tidings_message_id": message_id}


class MandrillTransport(HttpTransport[MandrillOptions]):
    provider = "Mandrill"
    default_base_url = "https://mandrillapp.com"
    send_path = "/api/1.0/messages/send.json"
    check_path = "/api/1.0/users/ping2.json"
    payload_class = MandrillPayload

    def check_call(self) -> tuple[str, str, dict[str, Any]]:
        return "POST", self.check_path, {"json": {"key": self.options.api_key.get_secret_value()}}

    def provider_id(self, response: httpx.Response, body: Any) -> str | None:
        if isinstance(body, list) and body and isinstance(body[0], dict) and "_id" in body[0]:
            return str(body[0]["_id"])
        return None

    def interpret(self, response: httpx.Response, body: Any) -> DeliveryError | None:
        code = response.status_code
        if isinstance(body, dict) and body.get("status") == "error":
            name = str(body.get("name"))
            reply = f"{name}: {error_text(body)}"
            if name in _TRANSIENT_NAMES:
                return TransientDeliveryError("Mandrill had a general error", code=code,
                                              reply=reply)
            why = (self._credentials_problem(401) if name in _CREDENTIAL_NAMES
                   else "Mandrill refused the message")
            return PermanentDeliveryError(why, code=code, reply=reply)
        if isinstance(body, list) and body and isinstance(body[0], dict):
            status, reason = body[0].get("status"), body[0].get("reject_reason")
            if status == "rejected":
                return SuppressedRecipient("Mandrill rejected the recipient", code=code,
                                           reply=f"rejected: {reason}")
            if status == "invalid":
                return PermanentDeliveryError("Mandrill found the recipient invalid", code=code,
                                              reply=f"invalid: {reason}")
        return None


@hookimpl
def register_transports(register: Callable[[TransportType], None]) -> None:
    register(TransportType(name="mandrill", options=MandrillOptions, factory=MandrillTransport))
