"""The SMTP transport against a real aiosmtpd server: plain, STARTTLS, TLS, auth, reuse."""

from __future__ import annotations

import asyncio
import gc
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.smtp_capture import CaptureServer, free_port
from tidings.core.config import MailAddress
from tidings.core.errors import PermanentDeliveryError, TransientDeliveryError
from tidings.core.mime import OutgoingMail, make_message_id
from tidings.core.transports.smtp import SmtpOptions, SmtpTransport


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    return cert, key


def server_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    return context


def authenticate(server: Any, session: Any, envelope: Any, mechanism: str,
                 data: Any) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (b"shop", b"pw")
    return AuthResult(success=ok, handled=False, auth_data=data.login if ok else None)


def mail(n: int = 0) -> OutgoingMail:
    return OutgoingMail(message_id=make_message_id("shop.example"),
                        sender=MailAddress(email="shop@shop.example"),
                        to=MailAddress(email=f"c{n}@example.com", name="Client"),
                        subject=f"Test {n}", html="<p>hi</p>", text="hi")


def send(options: dict[str, Any], *mails: OutgoingMail) -> list[Any]:
    async def run() -> list[Any]:
        transport = SmtpTransport("t", SmtpOptions.model_validate(options))
        try:
            return await asyncio.gather(*(transport.send(m) for m in mails),
                                        return_exceptions=True)
        finally:
            await transport.close()
            # A connection closed on an error ends its TLS shutdown a few loop turns
            # later; asyncio.run would otherwise close the loop under it.
            await asyncio.sleep(0.1)

    return asyncio.run(run())


def test_plain_delivery_reuses_connections() -> None:
    with CaptureServer() as server:
        results = send({"host": "127.0.0.1", "port": server.port, "security": "none",
                        "pool_size": 2}, *(mail(i) for i in range(12)))
        received = server.wait_for(12)
    assert all(r.reply == "250 2.0.0 Ok: queued as TEST" for r in results)
    assert sorted(r.rcpt_tos[0] for r in received) == sorted(f"c{i}@example.com"
                                                              for i in range(12))
    assert len({r.peer for r in received}) <= 2


@pytest.fixture
def starttls_server(certificate: tuple[Path, Path]) -> Iterator[CaptureServer]:
    with CaptureServer(tls_context=server_context(certificate), require_starttls=True,
                       auth_required=True, authenticator=authenticate) as server:
        yield server


def test_starttls_with_auth_and_a_private_ca(starttls_server: CaptureServer,
                                            certificate: tuple[Path, Path]) -> None:
    [result] = send({"host": "127.0.0.1", "port": starttls_server.port,
                     "security": "starttls", "username": "shop", "password": "pw",
                     "ca_file": str(certificate[0])}, mail())
    assert not isinstance(result, Exception), result
    assert starttls_server.wait_for(1)[0].login == b"shop"


def test_wrong_password_is_permanent(starttls_server: CaptureServer,
                                     certificate: tuple[Path, Path]) -> None:
    [result] = send({"host": "127.0.0.1", "port": starttls_server.port,
                     "security": "starttls", "username": "shop", "password": "nope",
                     "ca_file": str(certificate[0])}, mail())
    assert isinstance(result, PermanentDeliveryError)
    assert result.code == 535


# A TLS handshake aborted mid-STARTTLS leaves asyncio's half-wrapped socket (ours and
# aiosmtpd's) to the garbage collector; collect it here, where the warning is expected.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_untrusted_certificate_is_refused(starttls_server: CaptureServer) -> None:
    [result] = send({"host": "127.0.0.1", "port": starttls_server.port,
                     "security": "starttls", "username": "shop", "password": "pw"}, mail())
    assert isinstance(result, TransientDeliveryError)
    assert "certificate" in str(result).lower()
    gc.collect()


def test_implicit_tls(certificate: tuple[Path, Path]) -> None:
    with CaptureServer(ssl_context=server_context(certificate)) as server:
        [result] = send({"host": "127.0.0.1", "port": server.port, "security": "tls",
                         "ca_file": str(certificate[0])}, mail())
        assert not isinstance(result, Exception), result
        assert len(server.wait_for(1)) == 1


def test_refused_connection_is_transient() -> None:
    [result] = send({"host": "127.0.0.1", "port": free_port(), "security": "none",
                     "timeout": 2}, mail())
    assert isinstance(result, TransientDeliveryError)


def test_4xx_is_transient_and_5xx_permanent_with_reply() -> None:
    with CaptureServer() as server:
        server.refuse_next("452 4.2.2 Mailbox full")
        server.refuse_next("554 5.7.1 Rejected as spam")
        options = {"host": "127.0.0.1", "port": server.port, "security": "none",
                   "pool_size": 1}
        [first] = send(options, mail())
        [second] = send(options, mail())
    assert isinstance(first, TransientDeliveryError) and first.code == 452
    assert isinstance(second, PermanentDeliveryError) and second.code == 554
    assert second.reply == "554 5.7.1 Rejected as spam"
