"""A small async client for the Magento 2 REST API: what polling and ``check`` need.

Authentication (platforms.md §2.2): OAuth 1.0a with the integration's four
credentials, HMAC-SHA256, parameters in the ``Authorization`` header (signed
by ``oauthlib``); or ``Authorization: Bearer`` when a bearer token is given.

Searches use the ``searchCriteria`` bracket syntax. Magento answers a page
past the end with the last page again, so paging stops on ``total_count``,
never on an empty page. Every failure becomes a :class:`MagentoError` in
:meth:`MagentoClient._get`, the one place they are mapped.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncGenerator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import httpx
from oauthlib import oauth1

from tidings.core.errors import TidingsError
from tidings.core.shop_client import ShopClient, failure, where

__all__ = [
    "Filter",
    "MagentoAuthError",
    "MagentoClient",
    "MagentoError",
    "MagentoNotFound",
    "MagentoUnreachable",
    "OAuthCredentials",
    "search_params",
]


class MagentoError(TidingsError):
    """The shop's REST API did not give a usable answer.

    ``magento_message`` is Magento's own sentence with its ``%parameters``
    filled in (e.g. "The consumer isn't authorized to access
    Magento_Sales::actions_view."), kept so ``tidings magento check`` can explain it.
    """

    def __init__(self, reason: str, *, url: str, status: int | None = None,
                 magento_message: str | None = None, resources: str | None = None) -> None:
        self.reason = reason
        self.url = url
        self.status = status
        self.magento_message = magento_message
        self.resources = resources
        super().__init__(f"{reason} ({magento_message})" if magento_message else reason)


class MagentoAuthError(MagentoError):
    """401/403: bad credentials, a signature Magento rejects, or an ACL resource missing."""


class MagentoNotFound(MagentoError):
    """404: no such route or object (wrong url or store code, REST disabled)."""


class MagentoUnreachable(MagentoError):
    """The shop could not answer now: connection refused, timeout, TLS failure, 5xx, 429."""


@dataclass(frozen=True)
class OAuthCredentials:
    consumer_key: str
    consumer_secret: str
    access_token: str
    access_token_secret: str


@dataclass(frozen=True)
class Filter:
    """One ``searchCriteria`` filter; filters in one group are ORed, groups ANDed."""

    field: str
    value: str
    condition_type: str = "eq"


def search_params(groups: Sequence[Sequence[Filter]], *, sort: Sequence[tuple[str, str]] = (),
                  page_size: int | None = None, current_page: int | None = None
                  ) -> list[tuple[str, str]]:
    """The bracket-syntax query for a search (AdobeDocs ``performing-searches.md``)."""
    params: list[tuple[str, str]] = []
    for g, group in enumerate(groups):
        for f, item in enumerate(group):
            prefix = f"searchCriteria[filter_groups][{g}][filters][{f}]"
            params += [(f"{prefix}[field]", item.field), (f"{prefix}[value]", item.value),
                       (f"{prefix}[condition_type]", item.condition_type)]
    for i, (field, direction) in enumerate(sort):
        params += [(f"searchCriteria[sortOrders][{i}][field]", field),
                   (f"searchCriteria[sortOrders][{i}][direction]", direction)]
    if page_size is not None:
        params.append(("searchCriteria[pageSize]", str(page_size)))
    if current_page is not None:
        params.append(("searchCriteria[currentPage]", str(current_page)))
    return params


class MagentoClient(ShopClient):
    """Read-only access to one store view. Close it (``async with``) unless ``http`` was given."""

    def __init__(self, url: str, *, store_code: str = "default",
                 oauth: OAuthCredentials | None = None, bearer_token: str | None = None,
                 http: httpx.AsyncClient | None = None, timeout: float = 30,
                 page_size: int = 100) -> None:
        if (oauth is None) == (bearer_token is None):
            raise ValueError("give exactly one of oauth or bearer_token")
        super().__init__(url, http=http, timeout=timeout)
        self.store_code = store_code
        self.oauth = oauth
        self._bearer = bearer_token
        self.page_size = page_size


    # -- resources --------------------------------------------------------------------------

    async def since(self, path: str, field: str, value: str, *, key: str = "entity_id"
                    ) -> AsyncGenerator[dict[str, Any], None]:
        """Every row of ``path`` (e.g. ``/orders``) with ``field >= value``, ascending by it.

        ``key`` breaks ties, so rows sharing a second keep one order across pages.
        """
        async for item in self.search(path, [[Filter(field, value, "gteq")]],
                                      sort=[(field, "ASC"), (key, "ASC")]):
            yield item

    async def search(self, path: str, groups: Sequence[Sequence[Filter]], *,
                     sort: Sequence[tuple[str, str]] = ()) -> AsyncGenerator[dict[str, Any], None]:
        """Page through a search; stops on ``total_count`` (re-read on every page)."""
        page = 1
        while True:
            body = await self._search_page(path, groups, sort, page)
            items = body["items"]
            for item in items:
                yield item
            if not items or page * self.page_size >= body["total_count"]:
                return
            page += 1

    async def count(self, path: str) -> int:
        """How many rows the credentials can see: a cheap proof of read access."""
        body = await self._search_page(path, [], (), 1, page_size=1)
        return int(body["total_count"])

    async def order(self, entity_id: int | str) -> dict[str, Any]:
        body = _json(await self._get(f"/orders/{int(entity_id)}"))
        if not isinstance(body, dict):
            raise MagentoError(f"order {entity_id}: the answer is not a JSON object",
                               url=self._endpoint(f"/orders/{entity_id}"))
        return body

    async def _search_page(self, path: str, groups: Sequence[Sequence[Filter]],
                           sort: Sequence[tuple[str, str]], page: int, *,
                           page_size: int | None = None) -> dict[str, Any]:
        params = search_params(groups, sort=sort, page_size=page_size or self.page_size,
                               current_page=page)
        response = await self._get(path, params)
        body = _json(response)
        if (not isinstance(body, dict) or not isinstance(body.get("items"), list)
                or not isinstance(body.get("total_count"), int)):
            raise MagentoError(f"{self._endpoint(path)} did not answer a search result "
                               "(items, total_count)", url=self._endpoint(path),
                               status=response.status_code)
        body["items"] = [i for i in body["items"] if isinstance(i, dict)]
        return body

    # -- transport --------------------------------------------------------------------------

    def _endpoint(self, path: str) -> str:
        return f"{self.url}/rest/{self.store_code}/V1{path}"

    async def _get(self, path: str, params: Sequence[tuple[str, str]] = ()) -> httpx.Response:
        """GET one API path, authenticated, with every failure mapped to our error tree."""
        shown = self._endpoint(path)
        # %20, not '+', for spaces: the dates' space must survive every signer's decoding.
        url = f"{shown}?{urlencode(params, quote_via=quote)}" if params else shown
        headers = {"Accept": "application/json"}
        if self.oauth is not None:
            headers["Authorization"] = self._oauth_header(url)
        else:
            headers["Authorization"] = f"Bearer {self._bearer}"
        try:
            response = await self._http.get(url, headers=headers, timeout=self._timeout,
                                            follow_redirects=False)
        except httpx.TimeoutException as exc:
            raise MagentoUnreachable(f"{shown} did not answer within {self._timeout:g} s",
                                     url=shown) from exc
        except (httpx.TransportError, httpx.InvalidURL) as exc:
            raise MagentoUnreachable(
                f"cannot connect to {shown}: {str(exc) or type(exc).__name__}", url=shown) from exc
        if response.is_success:
            return response
        raise _status_error(response, shown)

    def _oauth_header(self, url: str) -> str:
        assert self.oauth is not None
        signer = oauth1.Client(
            self.oauth.consumer_key, client_secret=self.oauth.consumer_secret,
            resource_owner_key=self.oauth.access_token,
            resource_owner_secret=self.oauth.access_token_secret,
            signature_method=oauth1.SIGNATURE_HMAC_SHA256,  # the only one Magento accepts
            nonce=secrets.token_hex(16))
        _url, headers, _body = signer.sign(url, http_method="GET")
        return str(headers["Authorization"])


# -- helpers --------------------------------------------------------------------------------


def _fill(message: str, parameters: Any) -> str:
    """Magento's phrases carry ``%name`` or ``%1`` placeholders beside their values."""
    if isinstance(parameters, Mapping):
        for key in sorted(parameters, key=lambda k: -len(str(k))):
            message = message.replace(f"%{key}", str(parameters[key]))
    elif isinstance(parameters, list):
        for i in range(len(parameters), 0, -1):
            message = message.replace(f"%{i}", str(parameters[i - 1]))
    return message


def _status_error(response: httpx.Response, url: str) -> MagentoError:
    """Turn a non-2xx answer into the matching error, keeping Magento's own sentence."""
    status = response.status_code
    message = resources = None
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        parameters = body.get("parameters")
        message = _fill(body["message"], parameters)
        if isinstance(parameters, Mapping) and isinstance(parameters.get("resources"), str):
            resources = parameters["resources"]
    kind, reason = failure(response, url)
    cls = {"auth": MagentoAuthError, "not_found": MagentoNotFound,
           "unreachable": MagentoUnreachable}.get(kind, MagentoError)
    return cls(reason, url=url, status=status, magento_message=message, resources=resources)


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError as exc:
        shown = where(response)
        kind = response.headers.get("Content-Type", "no content type")
        raise MagentoError(f"{shown} did not answer JSON ({kind}); is this a Magento shop?",
                           url=shown, status=response.status_code) from exc
