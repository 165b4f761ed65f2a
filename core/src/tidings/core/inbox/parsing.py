"""Turn the raw bytes of one SMTP transaction into a :class:`CapturedMail`.

A test inbox is where broken mail gets noticed, so parsing must never lose a
message: every step that can fail is guarded, and what went wrong is kept as
a human-readable note next to the raw bytes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from email import policy
from email.header import decode_header, make_header
from email.message import EmailMessage, Message
from email.parser import BytesParser

from tidings.core.inbox.mail import Attachment, CapturedMail

__all__ = ["clean_text", "parse_message"]

_POLICY = policy.default
_FOLD = re.compile(r"\r?\n[ \t]*")
_NEWLINE = re.compile(r"\r\n?")
_MAX_NOTES = 20


def clean_text(value: str) -> str:
    """Make ``value`` safe to encode as UTF-8.

    The ``email`` package smuggles undecodable bytes through as lone
    surrogates; those would crash a response later, so decode them as UTF-8
    (what senders almost always meant) and replace the rest.
    """
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        value = value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        value = value.encode("utf-8", "replace").decode("utf-8")
    return value.replace("\x00", "\ufffd")


def parse_message(
    raw: bytes,
    *,
    mail_id: str,
    received_at: datetime,
    mail_from: str,
    rcpt_tos: list[str],
) -> CapturedMail:
    """Decode ``raw`` for display; never raises for bad input."""
    notes: list[str] = []
    headers: list[tuple[str, str]] = []
    html = text = None
    attachments: list[Attachment] = []
    try:
        message = BytesParser(policy=_POLICY).parsebytes(raw)
    except Exception as exc:
        notes.append(
            f"The message could not be parsed ({_describe(exc)}); only its raw source is kept."
        )
    else:
        assert isinstance(message, EmailMessage)  # guaranteed by policy.default
        headers = _decode_headers(message)
        html_part, html = _body(message, "html", notes)
        text_part, text = _body(message, "plain", notes)
        attachments = _attachments(message, {id(html_part), id(text_part)}, notes)
        notes.extend(_defects(message))
        if not headers:
            notes.append("No headers were found: this does not look like an RFC 5322 message.")
    del notes[_MAX_NOTES:]

    def first(name: str) -> str:
        return next((v for k, v in headers if k.lower() == name), "")

    return CapturedMail(
        id=mail_id,
        received_at=received_at,
        mail_from=clean_text(mail_from),
        rcpt_tos=[clean_text(r) for r in rcpt_tos],
        subject=first("subject"),
        from_=first("from"),
        to=first("to"),
        headers=headers,
        html=html,
        text=text,
        raw=raw,
        size=len(raw),
        notes=notes,
        attachments=attachments,
    )


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _decode_headers(message: Message) -> list[tuple[str, str]]:
    """All headers in order, RFC 2047-decoded, falling back step by step."""
    decoded = []
    for name, value in message.raw_items():
        try:
            text = str(_POLICY.header_fetch_parse(name, value))
        except Exception:
            try:
                text = str(make_header(decode_header(_FOLD.sub(" ", value))))
            except Exception:
                text = value
        decoded.append((clean_text(name), clean_text(_FOLD.sub(" ", text))))
    return decoded


def _body(message: EmailMessage, kind: str, notes: list[str]) -> tuple[Message | None, str | None]:
    """The preferred ``text/<kind>`` body part and its decoded text."""
    try:
        part = message.get_body(preferencelist=(kind,))
    except Exception as exc:
        notes.append(f"Could not locate the text/{kind} body ({_describe(exc)}).")
        return None, None
    if part is None:
        return None, None
    return part, _part_text(part, notes)


def _part_text(part: Message, notes: list[str]) -> str:
    """Decode a text part with ``\n`` line ends, tolerating unknown charsets."""
    return _NEWLINE.sub("\n", _decode_part_text(part, notes))


def _decode_part_text(part: Message, notes: list[str]) -> str:
    try:
        content = part.get_content()  # type: ignore[attr-defined]
        if isinstance(content, str):
            return clean_text(content)
    except Exception as exc:
        kind = part.get_content_type()
        notes.append(f"The {kind} part could not be decoded cleanly ({_describe(exc)}).")
    payload = part.get_payload(decode=True)
    data = payload if isinstance(payload, bytes) else b""
    return clean_text(data.decode("utf-8", "replace"))


def _leaves(part: Message) -> Iterator[Message]:
    """Non-multipart parts in order; attached messages count as one leaf."""
    if part.get_content_maintype() == "multipart" and part.is_multipart():
        for sub in part.get_payload():
            if isinstance(sub, Message):
                yield from _leaves(sub)
    else:
        yield part


def _attachments(message: Message, bodies: set[int], notes: list[str]) -> list[Attachment]:
    found: list[Attachment] = []
    if not message.is_multipart():
        return found
    for part in _leaves(message):
        if id(part) in bodies:
            continue
        try:
            found.append(
                Attachment(
                    index=len(found),
                    filename=_filename(part),
                    content_type=part.get_content_type(),
                    content_id=_content_id(part),
                    data=_part_bytes(part),
                )
            )
        except Exception as exc:
            kind = part.get_content_type()
            notes.append(f"A {kind} part could not be decoded ({_describe(exc)}).")
    return found


def _filename(part: Message) -> str | None:
    name = part.get_filename()
    return clean_text(name) if name else None


def _content_id(part: Message) -> str | None:
    value = part.get("Content-ID")
    if not value:
        return None
    return clean_text(str(value)).strip().strip("<>").strip() or None


def _part_bytes(part: Message) -> bytes:
    if part.is_multipart():  # message/rfc822 and friends: keep the attached message whole
        inner = part.get_payload(0)
        return inner.as_bytes() if isinstance(inner, Message) else b""
    payload = part.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else b""


def _defects(message: Message) -> Iterator[str]:
    """MIME defects the parser tolerated, worth knowing when debugging a template."""
    seen: set[str] = set()
    for part in message.walk():
        for defect in part.defects:
            label = type(defect).__name__
            detail = str(defect)
            note = f"MIME defect: {label}" + (f" ({detail})" if detail else "")
            if note not in seen:
                seen.add(note)
                yield note
