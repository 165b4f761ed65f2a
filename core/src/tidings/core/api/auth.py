"""Bearer-key authentication, compared in constant time against every configured key."""

from __future__ import annotations

import hmac

from fastapi import HTTPException, Request, status

__all__ = ["require_api_key"]


def require_api_key(request: Request) -> None:
    keys = request.app.state.hub.settings.api.keys
    scheme, _, presented = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not presented:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED,
                            {"error": "missing_api_key",
                             "detail": "send 'Authorization: Bearer <key>' with a key "
                                       "from [api] keys"},
                            headers={"WWW-Authenticate": "Bearer"})
    given = presented.strip().encode()
    # Compare with every key (no early exit), so timing does not reveal which one nearly matched.
    matched = False
    for key in keys:
        matched |= hmac.compare_digest(given, key.get_secret_value().encode())
    if not matched:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED,
                            {"error": "invalid_api_key", "detail": "the API key is not valid"},
                            headers={"WWW-Authenticate": "Bearer"})
