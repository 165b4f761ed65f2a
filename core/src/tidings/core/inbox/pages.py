"""The browser-facing routes: list, detail, and the mail's own content.

The hub's pages and the mail's content live on different URLs on purpose:
the pages are trusted and escaped, the content is served with a sandboxing
CSP and only ever framed or downloaded.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from tidings.core.inbox.httputil import SANDBOX_CSP, base_path, content_disposition, safe_media_type
from tidings.core.inbox.mail import Attachment, CapturedMail
from tidings.core.inbox.store import MailStore
from tidings.core.inbox.views import html_document, render_detail, render_list, render_not_found

__all__ = ["InboxPages"]


def _page_headers(nonce: str) -> dict[str, str]:
    """Defense in depth: even if escaping failed, injected markup could not run."""
    return {
        "Content-Security-Policy": (
            f"default-src 'none'; script-src 'nonce-{nonce}'; style-src 'unsafe-inline'; "
            "img-src 'self' data:; connect-src 'self'; frame-src 'self'; base-uri 'none'; "
            "form-action 'none'; frame-ancestors 'self'"
        ),
        "Cache-Control": "no-store",
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
    }


def _content_headers(disposition: str) -> dict[str, str]:
    return {
        "Content-Security-Policy": SANDBOX_CSP,
        "Content-Disposition": disposition,
        "Cache-Control": "no-store",
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
    }


class InboxPages:
    """HTML routes over one :class:`MailStore`."""

    def __init__(self, store: MailStore, smtp_address: Callable[[], str | None]) -> None:
        self._store = store
        self._smtp_address = smtp_address

    def routes(self) -> list[BaseRoute]:
        """Routes relative to the mount point (``/`` is the inbox list)."""
        return [
            Route("/", self.index, methods=["GET"]),
            Route("/{mail_id}", self.detail, methods=["GET"]),
            Route("/{mail_id}/html", self.html_body, methods=["GET"]),
            Route("/{mail_id}/raw", self.raw, methods=["GET"]),
            Route("/{mail_id}/attachments/{index:int}", self.attachment, methods=["GET"]),
            Route("/{mail_id}/cid/{content_id:path}", self.inline_part, methods=["GET"]),
        ]

    async def index(self, request: Request) -> Response:
        """All captured mail, newest first."""
        nonce = secrets.token_urlsafe(16)
        page = render_list(
            base=base_path(request), mails=self._store.messages(), smtp=self._smtp_address(),
            nonce=nonce,
        )
        return HTMLResponse(page, headers=_page_headers(nonce))

    async def detail(self, request: Request) -> Response:
        """One mail: meta data, sandboxed HTML, text, headers, source, files."""
        mail = self._mail(request)
        if mail is None:
            return self._not_found(request)
        nonce = secrets.token_urlsafe(16)
        page = render_detail(
            base=base_path(request), mail=mail, total=len(self._store),
            smtp=self._smtp_address(), nonce=nonce,
        )
        return HTMLResponse(page, headers=_page_headers(nonce))

    async def html_body(self, request: Request) -> Response:
        """The mail's HTML for the iframe, locked down by a sandboxing CSP."""
        mail = self._mail(request)
        if mail is None or mail.html is None:
            return self._not_found(request)
        document = html_document(mail, base_path(request))
        headers = _content_headers(content_disposition("inline", f"{mail.id}.html"))
        return HTMLResponse(document, headers=headers)

    async def raw(self, request: Request) -> Response:
        """The message exactly as received, as an ``.eml`` download."""
        mail = self._mail(request)
        if mail is None:
            return self._not_found(request)
        headers = _content_headers(content_disposition("attachment", f"{mail.id}.eml"))
        return Response(mail.raw, media_type="message/rfc822", headers=headers)

    async def attachment(self, request: Request) -> Response:
        """Download one attached part."""
        mail = self._mail(request)
        index: int = request.path_params["index"]
        part = mail.attachments[index] if mail and 0 <= index < len(mail.attachments) else None
        return self._part(request, part, "attachment")

    async def inline_part(self, request: Request) -> Response:
        """An inline part referenced from the HTML body as ``cid:...``."""
        mail = self._mail(request)
        part = mail.attachment_by_cid(request.path_params["content_id"]) if mail else None
        return self._part(request, part, "inline")

    def _part(self, request: Request, part: Attachment | None, kind: str) -> Response:
        if part is None:
            return self._not_found(request)
        headers = _content_headers(content_disposition(kind, part.display_name))
        return Response(part.data, media_type=safe_media_type(part.content_type), headers=headers)

    def _mail(self, request: Request) -> CapturedMail | None:
        return self._store.get(request.path_params["mail_id"])

    def _not_found(self, request: Request) -> Response:
        nonce = secrets.token_urlsafe(16)
        page = render_not_found(
            base=base_path(request), mail_id=request.path_params.get("mail_id", ""),
            total=len(self._store), smtp=self._smtp_address(), nonce=nonce,
        )
        return HTMLResponse(page, status_code=404, headers=_page_headers(nonce))
