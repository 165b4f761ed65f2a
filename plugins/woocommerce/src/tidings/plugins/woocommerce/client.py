"""A small async client for the WooCommerce REST API v3: what polling and ``check`` need.

Authentication is what WooCommerce documents (research/platforms.md §1.3):
HTTP Basic over https; over plain http, OAuth 1.0a "one-legged" with the
parameters in the query string (signed by ``oauthlib``), because WooCommerce
refuses Basic credentials on a connection it does not consider secure.

Every failure (httpx's exceptions, HTTP statuses, unreadable bodies) becomes a
:class:`WooError` in :meth:`WooClient._get`, the one place they are mapped.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncGenerator, Mapping
from contextlib import aclosing
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import httpx
from oauthlib import oauth1

from tidings.core.errors import TidingsError
from tidings.core.shop_client import ShopClient, failure, where

__all__ = [
    "API_PREFIX",
    "WooAuthError",
    "WooClient",
    "WooError",
    "WooNotFound",
    "WooUnreachable",
    "wc_datetime",
]

API_PREFIX = "/wp-json/wc/v3"
PER_PAGE = 100  # the schema's maximum


class WooError(TidingsError):
    """The shop's REST API did not give a usable answer.

    ``code`` and ``wc_message`` are WooCommerce's own words (e.g.
    ``woocommerce_rest_authentication_error`` / "Consumer key is invalid."),
    kept so that ``tidings woocommerce check`` can explain them.
    """

    def __init__(self, reason: str, *, url: str, status: int | None = None,
                 code: str | None = None, wc_message: str | None = None) -> None:
        self.reason = reason
        self.url = url
        self.status = status
        self.code = code
        self.wc_message = wc_message
        said = f" ({code}: {wc_message})" if code or wc_message else ""
        super().__init__(f"{reason}{said}")


class WooAuthError(WooError):
    """401/403: the keys are unknown, wrong, lack read permission, or the user may not read."""


class WooNotFound(WooError):
    """404: no such route or object (wrong url, WooCommerce inactive, plain permalinks)."""


class WooUnreachable(WooError):
    """The shop could not answer now: connection refused, timeout, TLS failure, 5xx, 429."""


def wc_datetime(value: datetime) -> str:
    """A datetime as WooCommerce's REST dates: UTC, ``YYYY-MM-DDTHH:MM:SS``, no offset."""
    if value.tzinfo is None:
        raise ValueError("naive datetime: say which zone it is in")
    return value.astimezone(UTC).replace(tzinfo=None, microsecond=0).isoformat()


class _WooOAuth1(oauth1.Client):
    """oauthlib's client minus ``oauth_version``, which WooCommerce's docs say to omit."""

    def get_oauth_params(self, request: Any) -> list[tuple[str, str]]:
        params: list[tuple[str, str]] = super().get_oauth_params(request)  # type: ignore[no-untyped-call]  # untyped in the stubs
        return [(k, v) for k, v in params if k != "oauth_version"]


class WooClient(ShopClient):
    """Read-only access to one shop. Close it (``async with``) unless ``http`` was given."""

    def __init__(self, url: str, consumer_key: str, consumer_secret: str, *,
                 http: httpx.AsyncClient | None = None, timeout: float = 30) -> None:
        super().__init__(url, http=http, timeout=timeout)
        self._key = consumer_key
        self._secret = consumer_secret


    # -- resources --------------------------------------------------------------------------

    async def orders_modified_after(self, after: datetime) -> AsyncGenerator[dict[str, Any], None]:
        """Every order (any status but trash) modified after ``after``, by ascending id.

        Ordering by id keeps pages stable while the shop keeps working: an order
        changed mid-way can only be seen twice, never skipped.
        """
        params = {"modified_after": wc_datetime(after), "dates_are_gmt": "true",
                  "orderby": "id", "order": "asc", "status": "any"}
        async for order in self._paginate("/orders", params):
            yield order

    async def order(self, order_id: int) -> dict[str, Any]:
        return _object(await self._get(f"/orders/{int(order_id)}"))

    async def count_orders(self) -> int:
        """How many orders the keys can see (``X-WP-Total``): a cheap proof of read access."""
        response = await self._get("/orders", {"per_page": "1", "status": "any"})
        return _header_int(response, "X-WP-Total", 0)

    async def customers_after_id(self, last_id: int) -> list[dict[str, Any]]:
        """Accounts with an id above ``last_id``, oldest first.

        ``/customers`` has no date filter, so this walks newest-first (every
        role) and stops at the first id already known.
        """
        found: dict[int, dict[str, Any]] = {}
        params = {"orderby": "id", "order": "desc", "role": "all"}
        async with aclosing(self._paginate("/customers", params)) as customers:
            async for customer in customers:
                customer_id = int(customer.get("id", 0))
                if customer_id <= last_id:
                    break
                found[customer_id] = customer
        return [found[i] for i in sorted(found)]

    async def latest_customer_id(self) -> int:
        """The highest customer id (0 when there is none): where customer polling starts."""
        body = _list(await self._get(
            "/customers", {"orderby": "id", "order": "desc", "role": "all", "per_page": "1"}))
        return int(body[0].get("id", 0)) if body else 0

    async def webhooks(self) -> list[dict[str, Any]]:
        """Every webhook defined in the shop (all statuses)."""
        return [hook async for hook in self._paginate("/webhooks", {})]

    # -- transport --------------------------------------------------------------------------

    async def _paginate(self, path: str, params: Mapping[str, str]
                        ) -> AsyncGenerator[dict[str, Any], None]:
        """Follow ``page`` until ``X-WP-TotalPages`` (re-read on every page) or an empty page."""
        page, pages = 1, 1
        while page <= pages:
            response = await self._get(path, {**params, "per_page": str(PER_PAGE),
                                               "page": str(page)})
            items = _list(response)
            for item in items:
                yield item
            if not items:
                return
            pages = _header_int(response, "X-WP-TotalPages", page)
            page += 1

    async def _get(self, path: str, params: Mapping[str, str] | None = None) -> httpx.Response:
        """GET one API path, signed, with every failure mapped to our error tree."""
        url = f"{self.url}{API_PREFIX}{path}"
        if params:
            url = f"{url}?{urlencode(params)}"
        auth: httpx.Auth | None = None
        if self.https:
            auth = httpx.BasicAuth(self._key, self._secret)
        else:
            url = self._oauth_sign(url)
        shown = url.split("?", 1)[0]
        try:
            response = await self._http.get(url, auth=auth, timeout=self._timeout,
                                            follow_redirects=False)
        except httpx.TimeoutException as exc:
            raise WooUnreachable(f"{shown} did not answer within {self._timeout:g} s",
                                 url=shown) from exc
        except (httpx.TransportError, httpx.InvalidURL) as exc:
            raise WooUnreachable(f"cannot connect to {shown}: {str(exc) or type(exc).__name__}",
                                 url=shown) from exc
        if response.is_success:
            return response
        raise _status_error(response, shown)

    def _oauth_sign(self, url: str) -> str:
        """Sign ``url`` as WooCommerce checks it: HMAC-SHA256 with key ``secret&``, in the query."""
        signer = _WooOAuth1(
            self._key, client_secret=self._secret,
            signature_method=oauth1.SIGNATURE_HMAC_SHA256,
            signature_type=oauth1.SIGNATURE_TYPE_QUERY,
            nonce=secrets.token_hex(16))  # 32 characters, as WooCommerce recommends
        signed, _headers, _body = signer.sign(url, http_method="GET")
        return str(signed)


# -- helpers --------------------------------------------------------------------------------


def _status_error(response: httpx.Response, url: str) -> WooError:
    """Turn a non-2xx answer into the matching error, keeping WooCommerce's code and message."""
    status = response.status_code
    code = message = None
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        code = body.get("code") if isinstance(body.get("code"), str) else None
        message = body.get("message") if isinstance(body.get("message"), str) else None
    kind, reason = failure(response, url, "the REST keys")
    cls = {"auth": WooAuthError, "not_found": WooNotFound,
           "unreachable": WooUnreachable}.get(kind, WooError)
    return cls(reason, url=url, status=status, code=code, wc_message=message)



def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError as exc:
        kind = response.headers.get("Content-Type", "no content type")
        raise WooError(f"{where(response)} did not answer JSON ({kind}); is this the "
                       "WordPress site running WooCommerce?", url=where(response),
                       status=response.status_code) from exc


def _list(response: httpx.Response) -> list[dict[str, Any]]:
    body = _json(response)
    if not isinstance(body, list) or not all(isinstance(item, dict) for item in body):
        raise WooError(f"{where(response)} did not answer a JSON list of objects",
                       url=where(response), status=response.status_code)
    return body


def _object(response: httpx.Response) -> dict[str, Any]:
    body = _json(response)
    if not isinstance(body, dict):
        raise WooError(f"{where(response)} did not answer a JSON object",
                       url=where(response), status=response.status_code)
    return body


def _header_int(response: httpx.Response, name: str, default: int) -> int:
    try:
        return int(response.headers[name])
    except (KeyError, ValueError):
        return default
