"""The SMTP side: real mail in over aiosmtplib, decoded mail out."""

from __future__ import annotations

import asyncio
from datetime import UTC
from email.message import EmailMessage

import aiosmtplib
import pytest

from tidings.core.inbox import Inbox

from .support import GARBAGE, order_mail, send, text_mail


async def test_multipart_mail_is_decoded(inbox: Inbox) -> None:
    await send(inbox, order_mail())
    [mail] = await inbox.wait_for(1)

    assert b"=?utf-8?" in mail.raw.lower()  # really RFC 2047 on the wire
    assert mail.subject == "Bestellbestätigung #1001 — Grüße aus Köln"
    assert mail.from_ == "Jörg Müller <shop@example.com>"
    assert mail.to == "Zoë Čapek <zoe@example.org>"
    assert mail.mail_from == "shop@example.com"
    assert mail.rcpt_tos == ["zoe@example.org"]
    assert mail.html is not None and "<b>12,50 €</b>" in mail.html
    assert mail.text == "Hallo Zoë,\n\ndanke für Ihre Bestellung über 12,50 €.\n"
    assert ("Subject", mail.subject) in mail.headers
    assert [name for name, _ in mail.headers][:3] == ["Subject", "From", "To"]
    assert mail.size == len(mail.raw) > 0
    assert mail.received_at.tzinfo is UTC
    assert mail.notes == [] and mail.attachments == []
    assert inbox.get(mail.id) is mail


async def test_plain_text_mail(inbox: Inbox) -> None:
    await send(inbox, text_mail())
    [mail] = await inbox.wait_for(1)
    assert mail.html is None
    assert mail.text == "Use this code: 424242\n"
    assert not mail.has_html and mail.has_text


async def test_garbage_is_captured_with_a_note(inbox: Inbox) -> None:
    await send(inbox, GARBAGE, sender="robot@example.com", recipients=["a@example.org"])
    [mail] = await inbox.wait_for(1)
    assert mail.raw.rstrip(b"\r\n") == GARBAGE.rstrip(b"\r\n")
    assert mail.subject == "" and mail.headers == []
    assert mail.notes, "garbage should explain itself"
    assert any("No headers" in note for note in mail.notes)
    assert mail.text is not None and "this is not a mail" in mail.text
    assert mail.text.encode("utf-8")  # no lone surrogates left to crash a response


async def test_any_login_and_smtputf8_are_accepted(inbox: Inbox) -> None:
    """A demo config that still carries credentials must deliver, over plain SMTP."""
    msg = text_mail()
    await send(
        inbox, msg, username="anyone", password="anything", start_tls=False,
        sender="bücher@exämple.com", recipients=["zoë@exämple.org"],
    )
    [mail] = await inbox.wait_for(1)
    assert mail.mail_from == "bücher@exämple.com"
    assert mail.rcpt_tos == ["zoë@exämple.org"]


async def test_oversized_mail_is_refused() -> None:
    box = Inbox(max_size=2000)
    await box.start(port=0)
    try:
        big = text_mail()
        big.set_content("x" * 5000)
        with pytest.raises(aiosmtplib.SMTPResponseException) as caught:
            await send(box, big)
        assert caught.value.code == 552
        assert box.messages() == []
    finally:
        await box.stop()


async def test_ring_buffer_keeps_newest() -> None:
    box = Inbox(keep=3)
    await box.start(port=0)
    try:
        async with aiosmtplib.SMTP(hostname="127.0.0.1", port=box.port) as smtp:
            for n in range(5):
                await smtp.send_message(text_mail(f"mail {n}"))
        mails = await box.wait_for(3)
        assert [m.subject for m in mails] == ["mail 4", "mail 3", "mail 2"]
        assert len({m.id for m in mails}) == 3
        with pytest.raises(ValueError, match="keeps only 3"):
            await box.wait_for(4)
    finally:
        await box.stop()


async def test_wait_for_wakes_on_arrival(inbox: Inbox) -> None:
    waiter = asyncio.create_task(inbox.wait_for(2, timeout=10))
    await send(inbox, text_mail("first"))
    await asyncio.sleep(0)
    assert not waiter.done()
    await send(inbox, text_mail("second"))
    mails = await waiter
    assert [m.subject for m in mails] == ["second", "first"]


async def test_wait_for_times_out(inbox: Inbox) -> None:
    with pytest.raises(TimeoutError, match="expected at least 1"):
        await inbox.wait_for(1, timeout=0.05)


async def test_clear(inbox: Inbox) -> None:
    await send(inbox, text_mail())
    [mail] = await inbox.wait_for(1)
    inbox.clear()
    assert inbox.messages() == [] and inbox.get(mail.id) is None
    await send(inbox, text_mail("after"))
    [again] = await inbox.wait_for(1)
    assert again.subject == "after" and again.id != mail.id


async def test_lifecycle() -> None:
    box = Inbox()
    with pytest.raises(RuntimeError, match="not running"):
        _ = box.port
    await box.start(port=0)
    try:
        assert box.port > 0
        assert box.smtp_address == f"127.0.0.1:{box.port}"
        with pytest.raises(RuntimeError, match="already running"):
            await box.start(port=0)
        # An idle client connection must not keep stop() waiting.
        idle = aiosmtplib.SMTP(hostname="127.0.0.1", port=box.port)
        await idle.connect()
    finally:
        await box.stop()
    await box.stop()  # idempotent
    assert box.smtp_address is None
    with pytest.raises(aiosmtplib.SMTPServerDisconnected):
        await idle.noop()
    idle.close()


async def test_message_sent_as_smtp_would(inbox: Inbox) -> None:
    """Dot-stuffed lines come back un-stuffed in the raw message."""
    msg = EmailMessage()
    msg["Subject"] = "dots"
    msg.set_content(".leading dot\n..two\n")
    await send(inbox, msg, sender="a@example.com", recipients=["b@example.com"])
    [mail] = await inbox.wait_for(1)
    assert mail.text == ".leading dot\n..two\n"
