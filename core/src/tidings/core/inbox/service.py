"""The :class:`Inbox` facade: one object the app starts, stops and mounts."""

from __future__ import annotations

from starlette.routing import BaseRoute

from tidings.core.inbox.api import InboxApi
from tidings.core.inbox.capture import DEFAULT_MAX_SIZE, CaptureServer
from tidings.core.inbox.mail import CapturedMail
from tidings.core.inbox.pages import InboxPages
from tidings.core.inbox.store import MailStore

__all__ = ["Inbox"]


class Inbox:
    """A built-in SMTP test inbox with a web view, like a tiny Mailpit.

    Mail sent to it is kept in memory (newest ``keep``) and shown under the
    routes from :meth:`routes`, so a newcomer sees real output without any
    mail account. Use it from one event loop only.
    """

    def __init__(self, keep: int = 500, *, max_size: int = DEFAULT_MAX_SIZE) -> None:
        self._store = MailStore(keep)
        self._smtp = CaptureServer(self._store.add, max_size=max_size)

    @property
    def keep(self) -> int:
        """How many of the newest mails are kept."""
        return self._store.keep

    async def start(self, host: str = "127.0.0.1", port: int = 2525) -> None:
        """Start the SMTP server on the running loop; ``port=0`` picks a free port."""
        await self._smtp.start(host, port)

    async def stop(self) -> None:
        """Stop the SMTP server; captured mail stays viewable."""
        await self._smtp.stop()

    @property
    def port(self) -> int:
        """The SMTP port actually bound (useful after ``start(port=0)``)."""
        address = self._smtp.address
        if address is None:
            raise RuntimeError("the test inbox is not running; call start() first")
        return address[1]

    @property
    def smtp_address(self) -> str | None:
        """``host:port`` to configure a transport with, or None while stopped."""
        address = self._smtp.address
        if address is None:
            return None
        host, port = address
        return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"

    def messages(self) -> list[CapturedMail]:
        """All held mails, newest first."""
        return self._store.messages()

    def get(self, mail_id: str) -> CapturedMail | None:
        """One mail by id, or None if unknown or already evicted."""
        return self._store.get(mail_id)

    def clear(self) -> None:
        """Forget all captured mail."""
        self._store.clear()

    async def wait_for(
        self,
        count: int,
        timeout: float = 10.0,  # noqa: ASYNC109 - a plain timeout is friendlier in tests
    ) -> list[CapturedMail]:
        """Wait until at least ``count`` mails are held (raises ``TimeoutError``)."""
        return await self._store.wait_for(count, timeout)

    def routes(self) -> list[BaseRoute]:
        """Web and JSON routes, to mount with ``Mount("/inbox", routes=inbox.routes())``."""
        api = InboxApi(self._store)
        pages = InboxPages(self._store, lambda: self.smtp_address)
        return [*api.routes(), *pages.routes()]
