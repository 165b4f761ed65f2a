"""Every provider transport against a fake of its API on real loopback HTTP.

The fake checks the documented request shape and answers in the provider's
words; the transports are built through the plugin registry, as the hub does.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.core.transports.fake_provider import FakeProvider
from tests.core.transports.providers import ALL, Spec
from tests.smtp_capture import free_port
from tidings.core.config import MailAddress
from tidings.core.errors import PermanentDeliveryError, TransientDeliveryError
from tidings.core.mime import OutgoingMail
from tidings.core.plugins import load_plugins
from tidings.core.transports.base import Transport
from tidings.core.transports.http import HttpTransport, SuppressedRecipient, UnsupportedFeature

MESSAGE_ID = "<18f.abc@shop.example>"


@pytest.fixture(scope="module")
def server() -> Iterator[FakeProvider]:
    with FakeProvider() as fake:
        yield fake


@pytest.fixture(params=ALL, ids=lambda s: s.kind)
def spec(request: pytest.FixtureRequest, server: FakeProvider) -> Spec:
    found: Spec = request.param
    server.reset(found.handler())
    return found


def build(spec: Spec, base_url: str, **extra: Any) -> Transport:
    raw = {"type": spec.kind, "base_url": base_url, "timeout": 2, **spec.credentials, **extra}
    return load_plugins().transports[spec.kind].build("main", raw)


def mail(subject: str = "Your order #1001", tags: list[str] | None = None) -> OutgoingMail:
    return OutgoingMail(
        message_id=MESSAGE_ID, sender=MailAddress(email="shop@shop.example", name="Shop"),
        to=MailAddress(email="client@example.com", name="Client"), subject=subject,
        html="<p>Thanks</p>", text="Thanks", reply_to=MailAddress(email="help@shop.example"),
        headers={"X-Shop": "1001"}, tags=["order.paid"] if tags is None else tags)


async def test_maps_the_mail_and_keeps_the_provider_id(spec: Spec, server: FakeProvider) -> None:
    transport = build(spec, server.url)
    try:
        delivered = await transport.send(mail())
    finally:
        await transport.close()
    assert delivered.provider_id == spec.provider_id
    assert delivered.reply.startswith("20")
    [seen] = server.requests
    got = spec.read(seen)
    assert "shop@shop.example" in got["from"]
    assert "client@example.com" in got["to"]
    assert "help@shop.example" in got["reply_to"]
    assert (got["subject"], got["text"], got["html"]) == ("Your order #1001", "Thanks",
                                                          "<p>Thanks</p>")
    assert got["headers"] == {"X-Shop": "1001"}
    assert [t.replace("_", ".") for t in got["tags"]] == (["order.paid"] if spec.tags else [])
    assert got["message_id"] == (MESSAGE_ID if spec.metadata else None)
    assert got.get("idempotency_key", MESSAGE_ID) == MESSAGE_ID


async def test_refused_request_is_permanent_with_the_providers_words(
        spec: Spec, server: FakeProvider) -> None:
    transport = build(spec, server.url)
    with pytest.raises(PermanentDeliveryError) as caught:
        await transport.send(mail(subject=""))
    await transport.close()
    assert caught.value.code == spec.refused("")[0]
    assert "subject" in (caught.value.reply or "").lower()
    assert not isinstance(caught.value, TransientDeliveryError)


async def test_bad_credentials_are_explained(spec: Spec, server: FakeProvider) -> None:
    wrong = {k: "wrong" if k in ("api_key", "server_token", "secret_key") else v
             for k, v in spec.credentials.items()}
    transport = load_plugins().transports[spec.kind].build(
        "main", {"type": spec.kind, "base_url": server.url, **wrong})
    with pytest.raises(PermanentDeliveryError) as sent:
        await transport.send(mail())
    with pytest.raises(PermanentDeliveryError) as checked:
        await transport.check()
    await transport.close()
    for caught in (sent, checked):
        assert caught.value.code == spec.unauthorized[0]
        assert "does not accept the credentials" in str(caught.value)
        assert "[transports.main]" in str(caught.value)


async def test_check_calls_the_read_only_endpoint(spec: Spec, server: FakeProvider) -> None:
    transport = build(spec, server.url)
    verdict = await transport.check()
    await transport.close()
    assert "accepted the credentials" in verdict
    assert [(r.method, r.path) for r in server.requests] == [spec.check]


@pytest.mark.parametrize("status", [429, 500, 503])
async def test_throttling_and_outages_are_transient(spec: Spec, server: FakeProvider,
                                                    status: int) -> None:
    server.answer_next(status, {"message": "slow down" if status == 429 else "oops"},
                       {"Retry-After": "7", "X-RateLimit-Reset": "1767225600"})
    transport = build(spec, server.url)
    with pytest.raises(TransientDeliveryError) as caught:
        await transport.send(mail())
    await transport.close()
    assert caught.value.code == status
    assert "retry-after: 7" in str(caught.value).lower()
    assert "x-ratelimit-reset: 1767225600" in str(caught.value).lower()


async def test_a_slow_provider_is_transient(spec: Spec, server: FakeProvider) -> None:
    server.answer_next(200, {}, delay=1.5)
    transport = build(spec, server.url, timeout=0.3)
    with pytest.raises(TransientDeliveryError, match=r"did not answer within 0\.3s"):
        await transport.send(mail())
    await transport.close()


async def test_an_unreachable_provider_is_transient(spec: Spec) -> None:
    transport = build(spec, f"http://127.0.0.1:{free_port()}")
    with pytest.raises(TransientDeliveryError, match="could not reach"):
        await transport.send(mail())
    await transport.close()


async def test_sandbox_mode_or_a_loud_refusal(spec: Spec, server: FakeProvider) -> None:
    transport = build(spec, server.url, sandbox=True)
    try:
        if spec.sandboxed is None:
            with pytest.raises(UnsupportedFeature, match="sandbox"):
                await transport.send(mail())
            assert server.requests == []
            return
        delivered = await transport.send(mail())
    finally:
        await transport.close()
    assert delivered.reply.startswith("20")
    assert spec.sandboxed(server.requests[0])


async def test_the_pooled_client_is_reused_and_closed(spec: Spec, server: FakeProvider) -> None:
    transport = build(spec, server.url)
    assert isinstance(transport, HttpTransport)
    await transport.send(mail())
    client = transport._client
    await transport.send(mail())
    assert transport._client is client and client is not None
    await transport.close()
    assert client.is_closed and transport._client is None


async def test_postmark_inactive_recipient_is_a_suppression(server: FakeProvider) -> None:
    server.answer_next(422, {"ErrorCode": 406, "Message": "You tried to send to recipient(s) "
                             "that have been marked as inactive."})
    transport = build(next(s for s in ALL if s.kind == "postmark"), server.url)
    with pytest.raises(SuppressedRecipient) as caught:
        await transport.send(mail())
    await transport.close()
    assert caught.value.code == 422
    assert "inactive" in (caught.value.reply or "")


async def test_a_single_tag_provider_drops_extra_tags_but_still_sends(
        server: FakeProvider) -> None:
    postmark = next(s for s in ALL if s.kind == "postmark")
    server.reset(postmark.handler())
    transport = build(postmark, server.url)
    await transport.send(mail(tags=["order.paid", "vip"]))
    await transport.close()
    assert "Tag" not in server.requests[0].json()


@pytest.mark.parametrize(("kind", "extra", "url"), [
    ("sendgrid", {"region": "eu"}, "https://api.eu.sendgrid.com"),
    ("sendgrid", {}, "https://api.sendgrid.com"),
    ("mailgun", {"region": "eu"}, "https://api.eu.mailgun.net"),
    ("mailgun", {"region": "eu", "base_url": "http://test"}, "http://test"),
])
def test_region_picks_the_host_unless_base_url_is_set(kind: str, extra: dict[str, Any],
                                                      url: str) -> None:
    spec = next(s for s in ALL if s.kind == kind)
    raw = {"type": kind, **spec.credentials, **extra}
    transport = load_plugins().transports[kind].build("main", raw)
    assert isinstance(transport, HttpTransport)
    assert transport.base_url() == url


def test_options_are_validated_with_plain_paths() -> None:
    kind = load_plugins().transports["postmark"]
    problems = kind.validate("transports.pm", {"type": "postmark", "sandbox": "maybe",
                                               "api_key": "x"})
    assert {p.path for p in problems} >= {"transports.pm.server_token", "transports.pm.sandbox",
                                          "transports.pm.api_key"}


SPECS = {s.kind: s for s in ALL}


@pytest.mark.parametrize(("kind", "status", "body", "error", "words"), [
    ("mandrill", 200, [{"email": "client@example.com", "status": "rejected", "_id": "x",
                        "reject_reason": "hard-bounce"}], SuppressedRecipient, "hard-bounce"),
    ("mandrill", 500, {"status": "error", "code": -1, "name": "GeneralError",
                       "message": "An unexpected error occurred"}, TransientDeliveryError,
     "GeneralError"),
    ("mailersend", 202, {"warnings": [{"type": "ALL_SUPPRESSED", "recipients": [
        {"email": "client@example.com", "reasons": ["hard_bounced"]}]}]}, SuppressedRecipient,
     "hard_bounced"),
    ("sparkpost", 420, {"errors": [{"message": "Exceed Sending Limit (daily)", "code": "2102"}]},
     TransientDeliveryError, "Exceed Sending Limit"),
    ("sparkpost", 400, {"errors": [{"message": "Message generation rejected", "code": "1902",
                                    "description": "recipient address suppressed"}]},
     SuppressedRecipient, "suppressed"),
    ("postal", 200, {"status": "parameter-error", "data": {"message": "Invalid From"}},
     PermanentDeliveryError, "Invalid From"),
    ("smtp2go", 200, {"data": {"succeeded": 0, "failed": 1, "failures": ["client@example.com"]}},
     PermanentDeliveryError, "client@example.com"),
])
async def test_provider_specific_answers(server: FakeProvider, kind: str, status: int, body: Any,
                                         error: type[Exception], words: str) -> None:
    server.reset(SPECS[kind].handler())
    server.answer_next(status, body)
    transport = build(SPECS[kind], server.url)
    with pytest.raises(error) as caught:
        await transport.send(mail())
    await transport.close()
    assert words in str(caught.value)


async def test_resend_send_only_key_passes_the_check(server: FakeProvider) -> None:
    server.reset(lambda seen: (401, {"statusCode": 401, "name": "restricted_api_key",
                                     "message": "This API key is restricted to only send "
                                                "emails"}, {}))
    transport = build(SPECS["resend"], server.url)
    assert "restricted to sending" in await transport.check()
    await transport.close()


async def test_forbidden_key_is_explained(server: FakeProvider) -> None:
    server.reset(lambda seen: (403, {"errors": [{"message": "access forbidden"}]}, {}))
    transport = build(SPECS["sendgrid"], server.url)
    with pytest.raises(PermanentDeliveryError, match="permission") as caught:
        await transport.check()
    await transport.close()
    assert caught.value.reply == "access forbidden"
