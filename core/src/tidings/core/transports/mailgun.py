"""Mailgun (``POST /v3/<domain>/messages``): basic auth, a multipart form, US or EU host."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

import httpx
from pydantic import SecretStr

from tidings.core.config import MailAddress
from tidings.core.hookspecs import hookimpl
from tidings.core.transports.base import TransportType
from tidings.core.transports.http import HttpOptions, HttpTransport, Payload, formatted

__all__ = ["MailgunOptions", "MailgunTransport"]


class MailgunOptions(HttpOptions):
    type: Literal["mailgun"] = "mailgun"
    api_key: SecretStr
    domain: str
    region: Literal["us", "eu"] = "us"


class MailgunPayload(Payload[MailgunOptions]):
    """Form fields, some repeated (``o:tag``), so a list of pairs rather than ``data``."""

    def __init__(self, provider: str, options: MailgunOptions, path: str) -> None:
        super().__init__(provider, options, path)
        self.fields: list[tuple[str, str]] = []

    def set_from(self, sender: MailAddress) -> None:
        self.fields.append(("from", formatted(sender)))

    def set_to(self, to: MailAddress) -> None:
        self.fields.append(("to", formatted(to)))

    def set_reply_to(self, reply_to: MailAddress) -> None:
        self.fields.append(("h:Reply-To", formatted(reply_to)))

    def set_subject(self, subject: str) -> None:
        self.fields.append(("subject", subject))

    def set_text(self, text: str) -> None:
        self.fields.append(("text", text))

    def set_html(self, html: str) -> None:
        self.fields.append(("html", html))

    def set_headers(self, headers: Mapping[str, str]) -> None:
        self.fields += [(f"h:{k}", v) for k, v in headers.items()]

    def set_tags(self, tags: Sequence[str]) -> None:
        self.fields += [("o:tag", t) for t in tags]

    def set_message_id(self, message_id: str) -> None:
        self.fields.append(("v:tidings_message_id", message_id))

    def set_sandbox(self) -> None:
        self.fields.append(("o:testmode", "yes"))

    def request(self) -> dict[str, Any]:
        # (None, value) parts make httpx send multipart/form-data without file names.
        return {"files": [(k, (None, v.encode())) for k, v in self.fields],
                "headers": self.headers}


class MailgunTransport(HttpTransport[MailgunOptions]):
    provider = "Mailgun"
    default_base_url = "https://api.mailgun.net"
    payload_class = MailgunPayload

    def base_url(self) -> str:
        if self.options.base_url is None and self.options.region == "eu":
            return "https://api.eu.mailgun.net"
        return super().base_url()

    def request_auth(self) -> httpx.Auth | tuple[str, str] | None:
        return ("api", self.options.api_key.get_secret_value())

    def new_payload(self) -> MailgunPayload:
        return MailgunPayload(self.provider, self.options, f"/v3/{self.options.domain}/messages")

    def check_call(self) -> tuple[str, str, dict[str, Any]]:
        # A 404 here means a wrong domain or region (the EU host knows other domains).
        return "GET", f"/v3/domains/{self.options.domain}", {}

    def provider_id(self, response: httpx.Response, body: Any) -> str | None:
        found = super().provider_id(response, body)
        return found.strip("<>") if found else None  # webhooks carry it without brackets


@hookimpl
def register_transports(register: Callable[[TransportType], None]) -> None:
    register(TransportType(name="mailgun", options=MailgunOptions, factory=MailgunTransport))
