"""What every shop platform's REST client shares: its address, its HTTP pool, closing.

Subclasses add the platform's auth, resources and error mapping; the
``http`` argument lets tests and the poller share one pool.
"""

from __future__ import annotations

from types import TracebackType
from typing import Self
from urllib.parse import urlsplit

import httpx

__all__ = ["ShopClient"]


class ShopClient:
    """Read access to one shop. Close it (or use ``async with``) unless ``http`` was given."""

    def __init__(self, url: str, *, http: httpx.AsyncClient | None = None,
                 timeout: float = 30) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"{url!r} is not an http(s) address")
        self.url = url.rstrip("/")
        self.https = parts.scheme == "https"
        self._timeout = timeout
        self._own_http = http is None
        self._http = http if http is not None else httpx.AsyncClient()

    async def aclose(self) -> None:
        if self._own_http:
            await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.aclose()
