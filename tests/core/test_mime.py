"""The MIME builder: standards-correct, and immune to header injection."""

from __future__ import annotations

from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest

from tidings.core.config import MailAddress
from tidings.core.mime import OutgoingMail, make_message_id


def build(**overrides: object) -> OutgoingMail:
    fields: dict[str, object] = {
        "message_id": make_message_id("shop.example"),
        "sender": MailAddress(email="shop@shop.example", name="Boutique Zoë"),
        "to": MailAddress(email="ana@example.com", name="Ana García"),
        "subject": "Votre commande n° 1042 est en route 🚚",
        "html": "<p>Grüße — " + "x" * 500 + "</p>",
        "text": "Grüße —\nline two\n.\nend",
        "reply_to": MailAddress(email="help@shop.example"),
    }
    fields.update(overrides)
    return OutgoingMail(**fields)  # type: ignore[arg-type]


def parse(raw: bytes) -> EmailMessage:
    msg = message_from_bytes(raw, policy=policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def test_parses_back_exactly() -> None:
    mail = build()
    raw = mail.to_bytes()
    assert b"\n" not in raw.replace(b"\r\n", b"")  # CRLF only
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))
    assert raw.isascii()
    msg = parse(raw)
    assert msg.defects == []
    assert msg.get_content_type() == "multipart/alternative"
    assert msg["Subject"] == mail.subject
    assert str(msg["From"]) == "Boutique Zoë <shop@shop.example>"
    assert str(msg["To"]) == "Ana García <ana@example.com>"
    assert str(msg["Reply-To"]) == "help@shop.example"
    assert msg["Message-ID"] == mail.message_id
    assert msg["Date"].datetime is not None
    plain, html = list(msg.iter_parts())
    assert plain.get_content_type() == "text/plain"
    assert plain.get_content() == mail.text.replace("\n", "\r\n")
    assert html.get_content_type() == "text/html" and html.get_content() == mail.html
    assert plain.get_content_charset() == "utf-8"


def test_long_folded_headers_keep_crlf_line_endings() -> None:
    """SMTP transports send these bytes as they are, so a fold must never be a bare LF."""
    subject = "Ihre Bestellung Nr. 1042 wurde versandt — Grüße aus München " * 3
    mail = build(subject=subject, headers={"X-Campaign": "Frühling " * 20})
    raw = mail.to_bytes()
    assert b"\n" not in raw.replace(b"\r\n", b"") and raw.endswith(b"\r\n")
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert b"\r\n " in head  # folded
    msg = parse(raw)
    assert msg["Subject"] == subject.strip() and msg["X-Campaign"] == ("Frühling " * 20).strip()


def test_same_result_as_the_standard_library() -> None:
    mail = build()
    ours = parse(mail.to_bytes())
    ref = EmailMessage()
    ref["Subject"] = mail.subject
    ref.set_content(mail.text)
    ref.add_alternative(mail.html, subtype="html")
    theirs = parse(ref.as_bytes(policy=policy.SMTP))
    assert ours["Subject"] == theirs["Subject"]
    for a, b in zip(ours.iter_parts(), theirs.iter_parts(), strict=True):
        assert a.get_content_type() == b.get_content_type()
        assert a.get_content().rstrip("\r\n") == b.get_content().rstrip("\r\n")


@pytest.mark.parametrize("evil", [
    "Eve\r\nBcc: victim@example.com", "Eve\nBcc: victim@example.com", "Eve\rX-Evil: 1",
    "Eve\x00\r\n\r\n<html>body</html>",
])
def test_no_header_injection_through_names_or_subject(evil: str) -> None:
    mail = build(subject=evil, to=MailAddress(email="eve@example.com", name=evil),
                 headers={"X-Shop": evil, "Bcc": "sneaky@example.com", "Bad\r\nName": "x"})
    raw = mail.to_bytes()
    head = raw.split(b"\r\n\r\n", 1)[0]
    msg = parse(raw)
    assert msg["Bcc"] is None and msg["X-Evil"] is None
    assert b"\r\nBcc:" not in head and b"\r\nX-Evil" not in head
    assert msg.get_content_type() == "multipart/alternative"
    assert "\n" not in msg["Subject"] and "\r" not in msg["Subject"]
    assert msg["X-Shop"] is not None and "\n" not in msg["X-Shop"]


def test_message_ids_are_unique() -> None:
    ids = {make_message_id("shop.example") for _ in range(1000)}
    assert len(ids) == 1000 and all(i.endswith("@shop.example>") for i in ids)
