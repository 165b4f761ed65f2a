"""Amazon SES v2 against a fake SES that checks Signature Version 4 independently."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.asgi_server import ThreadedServer
from tidings.core.config import MailAddress
from tidings.core.errors import PermanentDeliveryError, TransientDeliveryError
from tidings.core.mime import OutgoingMail, make_message_id
from tidings.core.transports.http import SuppressedRecipient
from tidings.core.transports.ses import SesOptions, SesTransport

KEY_ID, SECRET, REGION = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "eu-west-1"


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def expected_signature(request: Request, body: bytes) -> str:
    """AWS SigV4 as documented: canonical request → string to sign → derived key."""
    auth = request.headers["authorization"]
    fields = dict(part.strip().split("=", 1) for part in auth.split(" ", 1)[1].split(","))
    signed = fields["SignedHeaders"].split(";")
    amz_date = request.headers["x-amz-date"]
    scope = f"{amz_date[:8]}/{REGION}/ses/aws4_request"
    assert fields["Credential"] == f"{KEY_ID}/{scope}"
    canonical = "\n".join([
        request.method, request.url.path, request.url.query,
        "".join(f"{h}:{request.headers[h].strip()}\n" for h in signed),
        ";".join(signed), hashlib.sha256(body).hexdigest()])
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope,
                         hashlib.sha256(canonical.encode()).hexdigest()])
    key = _hmac(_hmac(_hmac(_hmac(f"AWS4{SECRET}".encode(), amz_date[:8]), REGION), "ses"),
                "aws4_request")
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


@dataclass
class FakeSes:
    answers: list[tuple[int, dict[str, Any], dict[str, str]]] = field(default_factory=list)
    received: list[dict[str, Any]] = field(default_factory=list)

    async def handle(self, request: Request) -> JSONResponse:
        body = await request.body()
        given = request.headers.get("authorization", "").rsplit("Signature=", 1)[-1]
        if not hmac.compare_digest(given, expected_signature(request, body)):
            return JSONResponse({"message": "The request signature we calculated does not "
                                 "match the signature you provided."}, status_code=403,
                                headers={"x-amzn-ErrorType": "SignatureDoesNotMatch"})
        if request.url.path == "/v2/email/account":
            return JSONResponse({"SendingEnabled": True, "ProductionAccessEnabled": False})
        self.received.append(await request.json())
        if self.answers:
            status, payload, headers = self.answers.pop(0)
            return JSONResponse(payload, status_code=status, headers=headers)
        return JSONResponse({"MessageId": "0102018c-ses-id"})


@pytest.fixture
def fake() -> Iterator[tuple[FakeSes, str]]:
    ses = FakeSes()
    app = Starlette(routes=[Route("/v2/email/{rest:path}", ses.handle, methods=["GET", "POST"])])
    with ThreadedServer(app) as server:
        yield ses, server.url


def mail() -> OutgoingMail:
    return OutgoingMail(message_id=make_message_id("shop.example"),
                        sender=MailAddress(email="shop@shop.example", name="Boutique Zoë"),
                        to=MailAddress(email="ana@example.com", name="Ana"),
                        subject="Commande n° 1", html="<p>Merci</p>", text="Merci",
                        reply_to=MailAddress(email="help@shop.example"), tags=["order.placed"])


def run(url: str, action: str, **options: Any) -> Any:
    async def go() -> Any:
        transport = SesTransport("ses", SesOptions.model_validate({
            "region": REGION, "access_key_id": KEY_ID, "secret_access_key": SECRET,
            "base_url": url, **options}))
        try:
            return await (transport.send(mail()) if action == "send" else transport.check())
        except Exception as exc:
            return exc
        finally:
            await transport.close()

    return asyncio.run(go())


def test_raw_mime_signed_with_sigv4(fake: tuple[FakeSes, str]) -> None:
    ses, url = fake
    delivered = run(url, "send", configuration_set="shop-events")
    assert delivered.provider_id == "0102018c-ses-id"
    [request] = ses.received
    assert request["FromEmailAddress"] == "=?utf-8?q?Boutique_Zo=C3=AB?= <shop@shop.example>"
    assert request["Destination"] == {"ToAddresses": ["Ana <ana@example.com>"]}
    assert request["ConfigurationSetName"] == "shop-events"
    assert request["EmailTags"] == [{"Name": "tidings_event", "Value": "order.placed"}]
    raw = message_from_bytes(base64.b64decode(request["Content"]["Raw"]["Data"]),
                             policy=policy.default)
    assert raw["Subject"] == "Commande n° 1" and raw.get_content_type() == "multipart/alternative"


def test_check_and_wrong_secret(fake: tuple[FakeSes, str]) -> None:
    _, url = fake
    assert "accepted the credentials" in run(url, "check")
    refused = run(url, "check", secret_access_key="wrong")
    assert isinstance(refused, PermanentDeliveryError) and refused.code == 403


@pytest.mark.parametrize(("status", "error_type", "message", "expected"), [
    (400, "MessageRejected", "Email address is on the suppression list", SuppressedRecipient),
    (400, "MessageRejected", "Email address is not verified.", PermanentDeliveryError),
    (429, "TooManyRequestsException", "Maximum sending rate exceeded.", TransientDeliveryError),
    (500, "InternalFailure", "Internal error", TransientDeliveryError),
])
def test_answers_are_classified(fake: tuple[FakeSes, str], status: int, error_type: str,
                                message: str, expected: type[Exception]) -> None:
    ses, url = fake
    ses.answers.append((status, {"message": message}, {"x-amzn-ErrorType": error_type}))
    result = run(url, "send")
    assert type(result) is expected
    assert message in (result.reply or "")


def test_sandbox_is_refused_loudly(fake: tuple[FakeSes, str]) -> None:
    _, url = fake
    result = run(url, "send", sandbox=True)
    assert isinstance(result, PermanentDeliveryError) and "sandbox" in str(result)
