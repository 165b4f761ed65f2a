"""Server-side rendering of the inbox pages (Jinja2, autoescaped).

Everything shown comes from untrusted mail, so it only ever reaches the page
through autoescaping; the mail's own HTML is never inlined (see
:func:`html_document`, served separately into a sandboxed iframe).
"""

from __future__ import annotations

import re
import zlib
from datetime import datetime
from email.utils import parseaddr
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from tidings.core.inbox.mail import CapturedMail

__all__ = [
    "html_document",
    "render_detail",
    "render_list",
    "render_not_found",
]

#: Longest raw source shown inline; the full message is one click away as .eml.
SOURCE_PREVIEW_LIMIT = 512 * 1024
_TAG = re.compile(r"<(style|script|head)\b.*?</\1\s*>|<[^>]*>", re.IGNORECASE | re.DOTALL)
_ENTITY = re.compile(r"&(nbsp|amp|lt|gt|quot|#39|zwnj);", re.IGNORECASE)
_ENTITIES = {"nbsp": " ", "amp": "&", "lt": "<", "gt": ">", "quot": '"', "#39": "'", "zwnj": ""}
_SPACE = re.compile(r"\s+")
_HEAD = re.compile(r"<head\b[^>]*>", re.IGNORECASE)


def human_size(size: int) -> str:
    """1536 -> '1.5 kB': sizes as people read them."""
    value = float(size)
    for unit in ("B", "kB", "MB"):
        if value < 1000 or unit == "MB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")  # pragma: no cover


def utc_label(moment: datetime) -> str:
    """Fallback timestamp shown until (or unless) the page script localizes it."""
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def preview(mail: CapturedMail, length: int = 140) -> str:
    """A one-line snippet of the body, like mail clients show under the subject."""
    if mail.text is not None:
        source = mail.text
    elif mail.html is not None:
        source = _ENTITY.sub(lambda m: _ENTITIES[m.group(1).lower()], _TAG.sub(" ", mail.html))
    else:
        return ""
    snippet = _SPACE.sub(" ", source).strip()
    return snippet if len(snippet) <= length else snippet[: length - 1].rstrip() + "…"


def sender(mail: CapturedMail) -> dict[str, Any]:
    """Display name, address and avatar data for the sender column."""
    value = mail.from_ or mail.mail_from
    name, address = parseaddr(value)
    name = name or address or value or "(unknown sender)"
    return {
        "name": name,
        "address": address if address and address != name else "",
        "initial": next((c.upper() for c in name if c.isalnum()), "?"),
        "hue": zlib.crc32((address or name).lower().encode("utf-8", "replace")) % 360,
    }


def recipients(mail: CapturedMail) -> str:
    """The To header, or the envelope recipients when there is none (e.g. Bcc)."""
    return mail.to or ", ".join(mail.rcpt_tos)


def html_document(mail: CapturedMail, base: str) -> str:
    """The mail's HTML body made viewable inside the sandboxed iframe.

    Links open in a new tab (the sandbox forbids navigating the hub page), and
    ``cid:`` references point at the inline parts served by the inbox.
    """
    body = mail.html or ""
    for part in mail.attachments:
        if part.content_id:
            url = f"{base}/{mail.id}/cid/{quote(part.content_id, safe='')}"
            body = body.replace(f"cid:{part.content_id}", url)
    base_tag = '<base target="_blank">'
    head = _HEAD.search(body)
    if head:
        return body[: head.end()] + base_tag + body[head.end() :]
    return base_tag + body


_env = Environment(
    loader=FileSystemLoader(Path(__file__).with_name("templates")),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.filters["human_size"] = human_size
_env.filters["utc_label"] = utc_label
_env.globals.update(preview=preview, sender=sender, recipients=recipients)


def _render(template: str, **context: Any) -> str:
    return _env.get_template(template).render(**context)


def render_list(*, base: str, mails: list[CapturedMail], smtp: str | None, nonce: str) -> str:
    """The inbox overview, newest first."""
    signature = f"{len(mails)}:{mails[0].id if mails else ''}"
    return _render(
        "list.html", base=base, mails=mails, total=len(mails), smtp=smtp, nonce=nonce,
        signature=signature,
    )


def render_detail(
    *, base: str, mail: CapturedMail, total: int, smtp: str | None, nonce: str
) -> str:
    """One message with HTML, text, headers, source and attachment views."""
    source = mail.raw[:SOURCE_PREVIEW_LIMIT].decode("utf-8", "replace")
    return _render(
        "detail.html", base=base, mail=mail, total=total, smtp=smtp, nonce=nonce,
        source=source, source_truncated=len(mail.raw) > SOURCE_PREVIEW_LIMIT,
    )


def render_not_found(*, base: str, mail_id: str, total: int, smtp: str | None, nonce: str) -> str:
    """Shown for unknown or already evicted message ids."""
    return _render(
        "not_found.html", base=base, mail_id=mail_id, total=total, smtp=smtp, nonce=nonce
    )
