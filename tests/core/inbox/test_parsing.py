"""parse_message on inputs that are awkward to produce over SMTP."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from email.parser import BytesParser

import pytest

from tidings.core.inbox import CapturedMail
from tidings.core.inbox.parsing import clean_text, parse_message

from .support import html_part


def parse(raw: bytes) -> CapturedMail:
    return parse_message(
        raw, mail_id="m1", received_at=datetime.now(UTC), mail_from="a@example.com",
        rcpt_tos=["b@example.com"],
    )


def test_parser_failure_keeps_raw_with_note(monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(self: BytesParser, data: bytes, headersonly: bool = False) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(BytesParser, "parsebytes", explode)
    mail = parse(b"Subject: x\r\n\r\nbody")
    assert mail.raw == b"Subject: x\r\n\r\nbody"
    assert mail.notes == [
        "The message could not be parsed (RuntimeError: boom); only its raw source is kept."
    ]
    assert (mail.subject, mail.html, mail.text, mail.headers) == ("", None, None, [])


def test_unknown_charset_and_raw_utf8_headers() -> None:
    raw = (
        "Subject: Bestätigung\r\nFrom: =?utf-8?q?J=C3=B6rg?= <j@example.com>\r\n"
        "Content-Type: text/plain; charset=x-unknown\r\n\r\nGrüße\r\n"
    ).encode()
    mail = parse(raw)
    assert mail.subject == "Bestätigung"
    assert mail.from_ == "Jörg <j@example.com>"
    assert mail.text == "Grüße\n"
    assert any("x-unknown" in note or "LookupError" in note for note in mail.notes)


def test_attachments_and_inline_images() -> None:
    msg = EmailMessage()
    msg["Subject"] = "Invoice"
    msg.set_content("See attached.")
    msg.add_alternative('<p><img src="cid:logo@shop"></p>', subtype="html")
    html_part(msg).add_related(b"\x89PNG fake", "image", "png", cid="<logo@shop>")
    msg.add_attachment(b"%PDF-1.4", "application", "pdf", filename="Rechnung Nr. 1 — März.pdf")
    mail = parse(msg.as_bytes())

    assert mail.text == "See attached.\n"
    assert mail.html is not None and "cid:logo@shop" in mail.html
    names = [(a.display_name, a.content_type, a.content_id, a.data) for a in mail.attachments]
    assert names == [
        ("part-0.png", "image/png", "logo@shop", b"\x89PNG fake"),
        ("Rechnung Nr. 1 — März.pdf", "application/pdf", None, b"%PDF-1.4"),
    ]
    assert mail.attachment_by_cid("logo@shop") is mail.attachments[0]


def test_html_only_and_folded_headers() -> None:
    raw = (
        b"Subject: a very\r\n long subject\r\nContent-Type: text/html; charset=utf-8\r\n"
        b"Content-Transfer-Encoding: quoted-printable\r\n\r\n<p>Gr=C3=BC=C3=9Fe</p>\r\n"
    )
    mail = parse(raw)
    assert mail.subject == "a very long subject"
    assert mail.html == "<p>Grüße</p>\n" and mail.text is None


def test_clean_text_repairs_surrogates() -> None:
    smuggled = "caf\udcc3\udca9 \udcff\x00"
    assert clean_text(smuggled) == "café \ufffd\ufffd"
    assert clean_text("plain") == "plain"
