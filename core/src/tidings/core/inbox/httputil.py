"""Small HTTP helpers shared by the inbox pages and its JSON API."""

from __future__ import annotations

import re
from urllib.parse import quote

from starlette.requests import Request

__all__ = ["SANDBOX_CSP", "base_path", "content_disposition", "safe_media_type"]

#: For anything that carries mail content (HTML body, attachments): even when
#: opened directly, it runs in an opaque origin without script, so it can
#: never act on the hub's own pages or API.
SANDBOX_CSP = (
    "sandbox allow-popups allow-popups-to-escape-sandbox; default-src 'none'; "
    "img-src * data:; style-src 'unsafe-inline' *; font-src * data:; "
    "form-action 'none'; frame-ancestors 'self'"
)
_MEDIA_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*$")


def base_path(request: Request) -> str:
    """URL prefix the inbox is mounted under (e.g. ``/inbox``), without trailing slash."""
    return str(request.scope.get("root_path", "")).rstrip("/")


def safe_media_type(value: str) -> str:
    """The mail's declared part type, unless it could break the header."""
    return value if _MEDIA_TYPE.match(value) else "application/octet-stream"


def content_disposition(kind: str, filename: str) -> str:
    """``attachment``/``inline`` with an ASCII fallback and an RFC 5987 UTF-8 name."""
    fallback = "".join(
        c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in filename
    )
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"
