"""JSON view of the test inbox, for scripts, demos and end-to-end tests."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from tidings.core.inbox.mail import CapturedMail
from tidings.core.inbox.store import MailStore

__all__ = ["InboxApi", "mail_detail", "mail_summary"]


def mail_summary(mail: CapturedMail) -> dict[str, Any]:
    """The list entry: enough to find a mail without shipping its body."""
    return {
        "id": mail.id,
        "received_at": mail.received_at.isoformat(),
        "mail_from": mail.mail_from,
        "rcpt_tos": list(mail.rcpt_tos),
        "from": mail.from_,
        "to": mail.to,
        "subject": mail.subject,
        "size": mail.size,
        "has_html": mail.has_html,
        "has_text": mail.has_text,
    }


def mail_detail(mail: CapturedMail) -> dict[str, Any]:
    """Everything decoded; the raw bytes stay behind ``/{id}/raw``."""
    return {
        **mail_summary(mail),
        "headers": [[name, value] for name, value in mail.headers],
        "html": mail.html,
        "text": mail.text,
        "notes": list(mail.notes),
        "attachments": [
            {
                "index": part.index,
                "filename": part.filename,
                "content_type": part.content_type,
                "content_id": part.content_id,
                "size": part.size,
            }
            for part in mail.attachments
        ],
    }


def _error(status: int, error: str, message: str) -> JSONResponse:
    return JSONResponse({"error": error, "detail": message}, status_code=status)


class InboxApi:
    """``/api/messages`` routes over one :class:`MailStore`."""

    def __init__(self, store: MailStore) -> None:
        self._store = store

    def routes(self) -> list[BaseRoute]:
        """Routes relative to the mount point."""
        return [
            Route("/api/messages", self.list_messages, methods=["GET"]),
            Route("/api/messages", self.clear, methods=["DELETE"]),
            Route("/api/messages/{mail_id}", self.get_message, methods=["GET"]),
        ]

    async def list_messages(self, request: Request) -> JSONResponse:
        """Newest first; ``?limit=n`` returns only the newest n (``total`` stays exact)."""
        mails = self._store.messages()
        limit = request.query_params.get("limit")
        if limit is not None:
            if not limit.isdigit():
                return _error(400, "bad_request", "limit must be a non-negative integer")
            mails = mails[: int(limit)]
        return JSONResponse(
            {"messages": [mail_summary(m) for m in mails], "total": len(self._store)},
            headers={"Cache-Control": "no-store"},
        )

    async def get_message(self, request: Request) -> JSONResponse:
        """One mail in full, or a 404 error object."""
        mail_id = request.path_params["mail_id"]
        mail = self._store.get(mail_id)
        if mail is None:
            return _error(404, "not_found", f"no message {mail_id!r} in the test inbox")
        return JSONResponse(mail_detail(mail), headers={"Cache-Control": "no-store"})

    async def clear(self, request: Request) -> JSONResponse:
        """Delete every captured mail."""
        deleted = len(self._store)
        self._store.clear()
        return JSONResponse({"deleted": deleted, "total": 0})
