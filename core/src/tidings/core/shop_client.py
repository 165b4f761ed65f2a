"""What every shop platform's REST client shares: its address, its HTTP pool, closing.

Subclasses add the platform's auth, resources and error mapping; the
``http`` argument lets tests and the poller share one pool.
"""

from __future__ import annotations

from types import TracebackType
from typing import Self
from urllib.parse import urlsplit

import httpx

__all__ = ["ShopClient", "failure", "where"]


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


def failure(response: httpx.Response, url: str,
            credentials: str = "the credentials") -> tuple[str, str]:
    """``(kind, sentence)`` for a shop's non-2xx answer, the same on every platform.

    ``kind`` is ``auth`` (401/403), ``not_found`` (404), ``unreachable`` (429, 5xx:
    try later) or ``other``; each client maps the kind to its own exception class.
    """
    status = response.status_code
    if status in (401, 403):
        return "auth", f"{url} refused {credentials} (HTTP {status})"
    if status == 404:
        return "not_found", f"{url} was not found (HTTP 404)"
    if status == 429 or status >= 500:
        return "unreachable", f"{url} failed with HTTP {status}"
    if response.is_redirect:
        target = response.headers.get("Location", "elsewhere")
        return "other", f"{url} redirects to {target}; set url to the shop's final address"
    return "other", f"{url} answered HTTP {status}"


def where(response: httpx.Response) -> str:
    """The address answered, without the query (it may carry credentials)."""
    return str(response.url.copy_with(query=None))
