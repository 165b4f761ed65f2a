"""Amazon SES v2 (``POST /v2/email/outbound-emails``) with the raw MIME we built.

Sending the raw message keeps our headers, Message-ID and both parts exactly
as for SMTP. Requests are signed with AWS Signature Version 4 by botocore (AWS's
own, maintained signer) rather than by hand. SES answers errors with the type
in ``x-amzn-ErrorType``; an address on the account's suppression list is a
``MessageRejected`` naming it, and is reported as suppressed.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Generator
from typing import Any, Literal

import httpx
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from pydantic import SecretStr

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

__all__ = ["SesOptions", "SesTransport"]


class SesOptions(HttpOptions):
    type: Literal["ses"] = "ses"
    region: str = "us-east-1"
    access_key_id: str
    secret_access_key: SecretStr
    session_token: SecretStr | None = None
    configuration_set: str | None = None


class SigV4(httpx.Auth):
    """Sign each request (headers, path, query and body) as SES requires."""

    requires_request_body = True

    def __init__(self, options: SesOptions) -> None:
        token = options.session_token.get_secret_value() if options.session_token else None
        credentials = Credentials(options.access_key_id,
                                  options.secret_access_key.get_secret_value(), token)
        self._signer = SigV4Auth(credentials, "ses", options.region)

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        headers = {k: request.headers[k] for k in ("content-type",) if k in request.headers}
        signed = AWSRequest(method=request.method, url=str(request.url), data=request.content,
                            headers=headers)
        self._signer.add_auth(signed)
        for name in ("Authorization", "X-Amz-Date", "X-Amz-Security-Token"):
            if name in signed.headers:
                request.headers[name] = signed.headers[name]
        yield request


class SesPayload(Payload[SesOptions]):
    def build(self, mail: OutgoingMail) -> None:
        if self.options.sandbox:
            self.set_sandbox()  # SES has no test mode: refuse loudly
        self.data = {
            "FromEmailAddress": formatted(mail.sender),
            "Destination": {"ToAddresses": [formatted(mail.to)]},
            "Content": {"Raw": {"Data": base64.b64encode(mail.to_bytes()).decode("ascii")}},
            "EmailTags": [{"Name": "tidings_event", "Value": _tag_value(t)} for t in mail.tags],
        }
        if mail.reply_to is not None:
            self.data["ReplyToAddresses"] = [formatted(mail.reply_to)]
        if self.options.configuration_set:
            self.data["ConfigurationSetName"] = self.options.configuration_set


def _tag_value(tag: str) -> str:
    """SES tag values allow only letters, digits, '_', '-', '.', '@'."""
    return "".join(c if c.isalnum() or c in "_-.@" else "_" for c in tag)[:256]


class SesTransport(HttpTransport[SesOptions]):
    provider = "Amazon SES"
    send_path = "/v2/email/outbound-emails"
    check_path = "/v2/email/account"
    credential_name = "access_key_id / secret_access_key"
    payload_class = SesPayload

    def base_url(self) -> str:
        return self.options.base_url or f"https://email.{self.options.region}.amazonaws.com"

    def request_auth(self) -> httpx.Auth | tuple[str, str] | None:
        return SigV4(self.options)

    def provider_id(self, response: httpx.Response, body: Any) -> str | None:
        return str(body["MessageId"]) if isinstance(body, dict) and "MessageId" in body else None

    def interpret(self, response: httpx.Response, body: Any) -> DeliveryError | None:
        kind = response.headers.get("x-amzn-errortype", "").split(":")[0]
        text = error_text(body, response.text)
        if kind == "MessageRejected" and "suppression list" in text.lower():
            return SuppressedRecipient("the recipient is on the SES suppression list",
                                       code=response.status_code, reply=text)
        return None


@hookimpl
def register_transports(register: Callable[[TransportType], None]) -> None:
    register(TransportType(name="ses", options=SesOptions, factory=SesTransport))
