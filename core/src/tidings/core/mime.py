"""Turn a rendered mail into RFC 5322 bytes, safely and cheaply.

Why not ``email.message.EmailMessage``: it costs ~2 ms a message and
aiosmtplib would re-serialise it on every send (research/perf.md). The body
parts are plain base64 of UTF-8, which needs no per-line logic; headers go
through :func:`_clean` first, so no value a shop sends (a name with CR/LF, a
subject with a NUL) can add a header or break the structure.
"""

from __future__ import annotations

import binascii
import re
import secrets
import time
from dataclasses import dataclass, field
from email.header import Header
from email.utils import format_datetime, formataddr, localtime

from tidings.core.config import MailAddress

__all__ = ["OutgoingMail", "clean_header", "make_message_id"]

_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
_HEADER_NAME = re.compile(r"^[!-9;-~]+$")  # RFC 5322 ftext
_RESERVED = frozenset(
    h.lower()
    for h in ("From", "To", "Cc", "Bcc", "Reply-To", "Subject", "Date", "Message-ID",
              "MIME-Version", "Content-Type", "Content-Transfer-Encoding", "Sender", "Return-Path")
)


def clean_header(value: str) -> str:
    """Collapse control characters (CR, LF, NUL, TAB…) to a single space."""
    return _CONTROL.sub(" ", value).strip()


def _encode(value: str) -> str:
    value = clean_header(value)
    if value.isascii() and len(value) < 900:
        return value
    return Header(value, "utf-8", maxlinelen=76).encode(linesep="\r\n")


def _address(addr: MailAddress) -> str:
    name = clean_header(addr.name) if addr.name else ""
    return formataddr((name, clean_header(addr.email)), charset="utf-8")


def _b64(text: str) -> bytes:
    # Canonical form first (CRLF line breaks, RFC 2045 §6.8), on bytes, where replace
    # is a memchr scan; then one C call for the whole body and 76-character lines by
    # slicing: base64.encodebytes loops in Python over 57-byte chunks (twice the cost).
    raw = text.encode("utf-8")
    if b"\r" in raw:
        raw = raw.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    encoded = binascii.b2a_base64(raw.replace(b"\n", b"\r\n"), newline=False)
    if not encoded:
        return b""
    lines = [encoded[i:i + 76] for i in range(0, len(encoded), 76)]
    lines.append(b"")
    return b"\r\n".join(lines)


def make_message_id(domain: str) -> str:
    return f"<{int(time.time() * 1000):x}.{secrets.token_hex(8)}@{clean_header(domain)}>"


@dataclass
class OutgoingMail:
    """A rendered mail ready for a transport; ``headers`` are extra ones plugins may add."""

    message_id: str
    sender: MailAddress
    to: MailAddress
    subject: str
    html: str
    text: str
    reply_to: MailAddress | None = None
    headers: dict[str, str] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)

    def to_bytes(self) -> bytes:
        """The whole message in wire form: CRLF line endings only (folds included),
        ending in CRLF, lines under 998 bytes; SMTP sends it as it is, dot-stuffed."""
        boundary = f"=_tidings_{secrets.token_hex(12)}"
        lines = [
            f"From: {_address(self.sender)}",
            f"To: {_address(self.to)}",
        ]
        if self.reply_to is not None:
            lines.append(f"Reply-To: {_address(self.reply_to)}")
        lines += [
            f"Subject: {_encode(self.subject)}",
            f"Date: {format_datetime(localtime())}",
            f"Message-ID: {clean_header(self.message_id)}",
            "MIME-Version: 1.0",
            "Auto-Submitted: auto-generated",
        ]
        for name, value in self.headers.items():
            if _HEADER_NAME.match(name) and name.lower() not in _RESERVED:
                lines.append(f"{name}: {_encode(value)}")
        lines.append(f'Content-Type: multipart/alternative; boundary="{boundary}"')
        head = "\r\n".join(lines).encode("ascii")
        part_head = (
            "\r\n--{b}\r\nContent-Type: text/{kind}; charset=utf-8\r\n"
            "Content-Transfer-Encoding: base64\r\n\r\n"
        )
        return b"".join((
            head, b"\r\n\r\nThis is a multi-part message in MIME format.\r\n",
            part_head.format(b=boundary, kind="plain").encode("ascii"), _b64(self.text),
            part_head.format(b=boundary, kind="html").encode("ascii"), _b64(self.html),
            f"\r\n--{boundary}--\r\n".encode("ascii"),
        ))
