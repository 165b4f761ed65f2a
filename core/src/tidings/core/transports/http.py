"""What every email-provider HTTP API transport shares.

A provider module is small on purpose (research/style.md §5, after
django-anymail): it names its endpoints and credentials, and fills in a
:class:`Payload` by overriding only the setters for what its API can do. Every
other setter raises :class:`UnsupportedFeature`, so a mail that needs something
the provider cannot do fails loudly instead of leaving without it.

Everything that decides what an answer *means* lives here, once:
:meth:`HttpTransport._classify` turns httpx errors and HTTP statuses into our
two delivery errors (connection trouble, timeouts, 429 and 5xx are transient;
other 4xx are permanent, with the provider's own words as ``reply``). A
provider only adds the oddities of its API
(e.g. Postmark's "inactive recipient" or Postal's errors on a 200)
through :meth:`HttpTransport.interpret`.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Mapping, Sequence
from datetime import datetime
from email.utils import formataddr, parsedate_to_datetime
from typing import Any, ClassVar, Generic, NoReturn, TypeVar

import httpx
from pydantic import ConfigDict, Field, SecretStr

from tidings.core.config import MailAddress
from tidings.core.errors import (
    DeliveryError,
    PermanentDeliveryError,
    TransientDeliveryError,
)
from tidings.core.mime import OutgoingMail
from tidings.core.transports.base import Delivered, Transport
from tidings.core.transports.gate import GateOptions

__all__ = [
    "HttpOptions",
    "HttpTransport",
    "Payload",
    "SuppressedRecipient",
    "UnsupportedFeature",
    "address",
    "bearer",
    "error_text",
    "formatted",
    "json_dumps",
]

log = logging.getLogger(__name__)

_MESSAGE_KEYS = ("message", "Message", "ErrorMessage", "error", "Error", "description", "detail")
_MAX_REPLY = 500


class SuppressedRecipient(PermanentDeliveryError):
    """The provider refuses this address for good (bounced, complained, unsubscribed before).

    A failover would only repeat the refusal elsewhere, and the shop should
    learn the address is dead, so it is a permanent error of its own kind.
    """



class UnsupportedFeature(PermanentDeliveryError):
    """The mail needs something this provider's API cannot do; sending it without would lie."""

    def __init__(self, provider: str, feature: str) -> None:
        self.provider = provider
        self.feature = feature
        super().__init__(f"{provider} cannot send this mail: it does not support {feature}")


class HttpOptions(GateOptions):
    """Settings every provider takes; a provider adds its credentials under its own names."""

    model_config = ConfigDict(extra="forbid")

    type: str
    base_url: str | None = Field(
        default=None, description="The API's address; set it for a test server or a proxy.")
    sandbox: bool = Field(
        default=False, description="Use the provider's test mode: validated, never delivered.")
    timeout: float = Field(default=30.0, gt=0)


OptionsT = TypeVar("OptionsT", bound=HttpOptions)


class Payload(Generic[OptionsT]):
    """One request being built; each setter writes one feature in the provider's words.

    The defaults refuse (anymail's ``unsupported_feature``). ``data`` is sent
    as JSON unless :meth:`request` is overridden (Mailgun sends a form).
    """

    def __init__(self, provider: str, options: OptionsT, path: str) -> None:
        self.provider = provider
        self.options = options
        self.path = path
        self.data: dict[str, Any] = {}
        self.headers: dict[str, str] = {}

    def build(self, mail: OutgoingMail) -> None:
        """Walk the mail's features, calling a setter only for what the mail uses.

        Tags, our Message-ID (to join webhooks) and the idempotency key are
        annotations the hub adds on its own, not content the shop asked for:
        a provider without them still delivers, and the gap is logged.
        """
        self.set_from(mail.sender)
        self.set_to(mail.to)
        self.set_subject(mail.subject)
        if mail.text:
            self.set_text(mail.text)  # text before html: SendGrid insists on that order
        if mail.html:
            self.set_html(mail.html)
        if mail.reply_to is not None:
            self.set_reply_to(mail.reply_to)
        if mail.headers:
            self.set_headers(mail.headers)
        if self.options.sandbox:
            self.set_sandbox()
        annotations: list[tuple[Any, Any]] = [
            (self.set_message_id, mail.message_id),
            (self.set_idempotency_key, mail.message_id),
        ]
        if mail.tags:
            annotations.append((self.set_tags, mail.tags))
        for setter, value in annotations:
            try:
                setter(value)
            except UnsupportedFeature as exc:
                log.debug("%s", exc)

    def unsupported(self, feature: str) -> NoReturn:
        raise UnsupportedFeature(self.provider, feature)

    def set_from(self, sender: MailAddress) -> None:
        self.unsupported("a From address")

    def set_to(self, to: MailAddress) -> None:
        self.unsupported("a To address")

    def set_reply_to(self, reply_to: MailAddress) -> None:
        self.unsupported("Reply-To")

    def set_subject(self, subject: str) -> None:
        self.unsupported("a subject")

    def set_html(self, html: str) -> None:
        self.unsupported("an HTML body")

    def set_text(self, text: str) -> None:
        self.unsupported("a text body")

    def set_headers(self, headers: Mapping[str, str]) -> None:
        self.unsupported("custom headers")

    def set_tags(self, tags: Sequence[str]) -> None:
        self.unsupported("tags")

    def set_message_id(self, message_id: str) -> None:
        """Store our Message-ID as metadata the provider echoes in its webhooks."""
        self.unsupported("metadata")

    def set_idempotency_key(self, key: str) -> None:
        self.unsupported("idempotency keys")

    def set_sandbox(self) -> None:
        self.unsupported("a sandbox (test) mode")

    def one_tag(self, tags: Sequence[str]) -> str:
        """For APIs with a single tag field: refuse rather than drop the others."""
        if len(tags) > 1:
            self.unsupported("more than one tag")
        return tags[0]

    def request(self) -> dict[str, Any]:
        """Keyword arguments for :meth:`httpx.AsyncClient.request`."""
        return {"json": self.data, "headers": self.headers}


def address(addr: MailAddress, email: str = "email", name: str = "name") -> dict[str, str]:
    """The ``{email, name}`` object most JSON APIs use, under their own key names."""
    return {email: addr.email, name: addr.name} if addr.name else {email: addr.email}


def formatted(addr: MailAddress) -> str:
    """``Name <addr>`` for APIs that take one string (encoded-word if the name needs it)."""
    return formataddr((addr.name or "", addr.email), charset="utf-8")


def bearer(token: SecretStr) -> dict[str, str]:
    return {"Authorization": f"Bearer {token.get_secret_value()}"}


def error_text(body: Any, raw: str = "") -> str:
    """The provider's own error words, found under the keys providers use for them.

    Walks the JSON (SendGrid's ``errors[].message``, Postmark's ``Message``,
    Mailjet's ``ErrorMessage``, Brevo's ``message``…) so no provider needs its
    own parser; falls back to the raw body.
    """
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in _MESSAGE_KEYS and isinstance(value, str) and value:
                    if value not in found:
                        found.append(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(body)
    text = "; ".join(found) if found else raw.strip()
    return text[:_MAX_REPLY]


def _rate_hints(headers: httpx.Headers) -> str:
    """``Retry-After`` and the ``*ratelimit*`` headers, which say when to try again."""
    kept = [f"{k}: {v}" for k, v in headers.items()
            if k.lower() == "retry-after" or "ratelimit" in k.lower()]
    return f" ({', '.join(kept)})" if kept else ""


def _retry_after(headers: httpx.Headers) -> float | None:
    """Seconds from ``Retry-After`` (delta-seconds or an HTTP date), if the provider sent it."""
    value = headers.get("retry-after")
    if not value:
        return None
    if value.strip().isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max((when - datetime.now(when.tzinfo)).total_seconds(), 0.0)


class HttpTransport(Transport, Generic[OptionsT]):
    """A provider's HTTP API over one pooled client, created on first use."""

    provider: ClassVar[str]
    default_base_url: ClassVar[str]
    send_path: ClassVar[str]
    check_path: ClassVar[str] = ""
    credential_name: ClassVar[str] = "api_key"
    payload_class: type[Payload[Any]]

    def __init__(self, name: str, options: OptionsT) -> None:
        super().__init__(name)
        self.options = options
        self._client: httpx.AsyncClient | None = None

    # --- what a provider module fills in -------------------------------------------

    def base_url(self) -> str:
        return self.options.base_url or self.default_base_url

    def auth_headers(self) -> dict[str, str]:
        return {}

    def request_auth(self) -> httpx.Auth | tuple[str, str] | None:
        return None

    def new_payload(self) -> Payload[OptionsT]:
        return self.payload_class(self.provider, self.options, self.send_path)

    def check_call(self) -> tuple[str, str, dict[str, Any]]:
        """Method, path and request arguments of the cheapest read-only call."""
        return "GET", self.check_path, {}

    def provider_id(self, response: httpx.Response, body: Any) -> str | None:
        if isinstance(body, dict) and isinstance(body.get("id"), str | int):
            return str(body["id"])
        return None

    def interpret(self, response: httpx.Response, body: Any) -> DeliveryError | None:
        """A provider's own way of saying no that the status alone does not show."""
        return None

    # --- shared machinery ------------------------------------------------------------

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                base_url=self.base_url(), headers=self.auth_headers(), auth=self.request_auth(),
                timeout=httpx.Timeout(self.options.timeout),
                limits=httpx.Limits(max_connections=20, max_keepalive_connections=10))
        return self._client

    async def _call(self, method: str, path: str, **kwargs: Any) -> tuple[httpx.Response, Any]:
        """One request; transport-level failures become transient errors here and only here."""
        try:
            response = await self._http().request(method, path, **kwargs)
        except httpx.TimeoutException as exc:
            raise TransientDeliveryError(
                f"{self.provider} did not answer within {self.options.timeout:g}s "
                f"({type(exc).__name__})") from exc
        except httpx.HTTPError as exc:
            why = str(exc) or type(exc).__name__
            raise TransientDeliveryError(f"could not reach {self.provider}: {why}") from exc
        body: Any = None
        with contextlib.suppress(ValueError):
            body = response.json() if response.content else None
        return response, body

    def _classify(self, response: httpx.Response, body: Any) -> None:
        """Raise the error an answer means; return quietly if it means "accepted"."""
        special = self.interpret(response, body)
        if special is not None:
            raise special
        status = response.status_code
        if 200 <= status < 300:
            return
        reply = error_text(body, response.text) or response.reason_phrase
        if status == 429 or status >= 500:
            raise TransientDeliveryError(
                f"{self.provider} answered {status}, try later{_rate_hints(response.headers)}",
                code=status, reply=reply, retry_after=_retry_after(response.headers))
        if status in (401, 403):
            raise PermanentDeliveryError(self._credentials_problem(status), code=status,
                                         reply=reply)
        raise PermanentDeliveryError(f"{self.provider} refused the message ({status})",
                                     code=status, reply=reply)

    def _credentials_problem(self, status: int) -> str:
        where = f"[transports.{self.name}] {self.credential_name}"
        if status == 401:
            return f"{self.provider} does not accept the credentials: check {where}"
        return (f"{self.provider} knows the credentials but they may not do this: give the key "
                f"in {where} the needed permission (sending, or reading the account to check)")

    async def send(self, mail: OutgoingMail) -> Delivered:
        payload = self.new_payload()
        payload.build(mail)
        response, body = await self._call("POST", payload.path, **payload.request())
        self._classify(response, body)
        words = error_text(body) if body is not None else ""
        return Delivered(reply=f"{response.status_code} {words or response.reason_phrase}",
                         provider_id=self.provider_id(response, body))

    async def check(self) -> str:
        """Call the provider's cheapest read-only endpoint: are the credentials good?"""
        method, path, kwargs = self.check_call()
        response, body = await self._call(method, path, **kwargs)
        self._classify(response, body)
        return (f"{self.provider} accepted the credentials "
                f"({method} {path} answered {response.status_code})")

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None


def json_dumps(value: Any) -> str:
    """Compact JSON for values a provider wants as a string (metadata fields)."""
    return json.dumps(value, separators=(",", ":"))
