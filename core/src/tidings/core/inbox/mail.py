"""The captured-mail record shared by the SMTP side, the pages and the JSON API.

It is immutable and fully decoded once, at capture time, so that rendering a
page never has to touch the ``email`` package (or fail on a broken message).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

__all__ = ["Attachment", "CapturedMail"]


@dataclass(frozen=True)
class Attachment:
    """A MIME leaf part that is neither the HTML nor the text body.

    Inline images (with a ``Content-ID``) land here too, so the HTML view can
    resolve ``cid:`` links the way a real mail client does.
    """

    index: int
    filename: str | None
    content_type: str
    content_id: str | None
    data: bytes = field(repr=False)

    @property
    def size(self) -> int:
        """Decoded size in bytes, shown next to the download link."""
        return len(self.data)

    @property
    def display_name(self) -> str:
        """A name to show and download as, even for parts that carry none."""
        if self.filename:
            return self.filename
        subtype = self.content_type.partition("/")[2] or "bin"
        return f"part-{self.index}.{subtype}"


@dataclass(frozen=True)
class CapturedMail:
    """One message as received by the test inbox, decoded for display."""

    id: str
    received_at: datetime
    mail_from: str
    rcpt_tos: list[str]
    subject: str
    from_: str
    to: str
    headers: list[tuple[str, str]]
    html: str | None
    text: str | None
    raw: bytes = field(repr=False)
    size: int
    #: Why the message may look incomplete (parse errors, MIME defects).
    notes: list[str] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)

    @property
    def has_html(self) -> bool:
        """Whether an HTML body was found."""
        return self.html is not None

    @property
    def has_text(self) -> bool:
        """Whether a plain-text body was found."""
        return self.text is not None

    def header(self, name: str) -> str | None:
        """The first header called ``name`` (case-insensitive), decoded."""
        wanted = name.lower()
        return next((value for key, value in self.headers if key.lower() == wanted), None)

    def attachment_by_cid(self, content_id: str) -> Attachment | None:
        """The part an HTML ``cid:`` reference points at, if any."""
        return next((a for a in self.attachments if a.content_id == content_id), None)
