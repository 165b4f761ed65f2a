"""In-memory ring buffer of captured mail, with a way to wait for arrivals.

The test inbox is for looking at recent mail, not for archiving it: keeping
only the newest ``keep`` messages bounds memory however long the hub runs.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict

from tidings.core.inbox.mail import CapturedMail

__all__ = ["MailStore"]


class MailStore:
    """Newest-``keep`` mails by id; all methods must run on the event loop thread."""

    def __init__(self, keep: int = 500) -> None:
        if keep < 1:
            raise ValueError(f"keep must be at least 1, got {keep}")
        self.keep = keep
        self._mails: OrderedDict[str, CapturedMail] = OrderedDict()
        self._waiters: set[asyncio.Event] = set()

    def __len__(self) -> int:
        return len(self._mails)

    def add(self, mail: CapturedMail) -> None:
        """Store ``mail``, dropping the oldest beyond ``keep``, and wake waiters."""
        self._mails[mail.id] = mail
        while len(self._mails) > self.keep:
            self._mails.popitem(last=False)
        for waiter in self._waiters:
            waiter.set()

    def messages(self) -> list[CapturedMail]:
        """All held mails, newest first."""
        return list(reversed(self._mails.values()))

    def get(self, mail_id: str) -> CapturedMail | None:
        """The mail with ``mail_id``, or None once it is unknown or evicted."""
        return self._mails.get(mail_id)

    def clear(self) -> None:
        """Forget every mail (ids are never reused, so old links just 404)."""
        self._mails.clear()

    async def wait_for(
        self,
        count: int,
        timeout: float = 10.0,  # noqa: ASYNC109 - a plain timeout is friendlier in tests
    ) -> list[CapturedMail]:
        """Wait until at least ``count`` mails are held; return them newest first.

        Raises ``TimeoutError`` after ``timeout`` seconds, and ``ValueError``
        at once when ``count`` exceeds ``keep`` (it could never be reached).
        """
        if count > self.keep:
            raise ValueError(f"cannot wait for {count} mails, the inbox keeps only {self.keep}")
        waiter = asyncio.Event()
        self._waiters.add(waiter)
        try:
            async with asyncio.timeout(timeout):
                while len(self._mails) < count:
                    await waiter.wait()
                    waiter.clear()
        except TimeoutError:
            raise TimeoutError(
                f"the test inbox holds {len(self._mails)} mail(s) after {timeout:g}s, "
                f"expected at least {count}"
            ) from None
        finally:
            self._waiters.discard(waiter)
        return self.messages()
