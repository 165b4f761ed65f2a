"""A small async client for the PrestaShop webservice: what polling and ``check`` need.

The webservice key is the HTTP Basic user with an empty password; answers are
asked as JSON (``output_format=JSON``), except the root listing ``GET /api/``,
whose per-resource permissions only the XML carries as attributes
(research/platforms.md §3). Lists come back as ``{"orders": [...]}``, or as a
bare ``[]`` when nothing matches. Customers are always read with an explicit
field list, so password hashes never leave the shop.

Every failure becomes a :class:`PsError` in :meth:`PsClient._get`.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Any

import httpx

from tidings.core.errors import TidingsError
from tidings.core.shop_client import ShopClient, failure, where

__all__ = [
    "CUSTOMER_FIELDS",
    "FAR_FUTURE",
    "PAGE",
    "PsAuthError",
    "PsClient",
    "PsDisabled",
    "PsError",
    "PsNotFound",
    "PsUnreachable",
]

PAGE = 100
FAR_FUTURE = "9999-12-31 23:59:59"  # an open upper bound for [a,b] date windows
MAX_ID = 2**63 - 1
# Never display=full for customers: that would include the passwd hash.
CUSTOMER_FIELDS = "[id,email,firstname,lastname,id_lang,is_guest,date_add]"


class PsError(TidingsError):
    """The webservice did not give a usable answer; ``ps_message`` is PrestaShop's own text."""

    def __init__(self, reason: str, *, url: str, status: int | None = None,
                 ps_message: str | None = None) -> None:
        self.reason = reason
        self.url = url
        self.status = status
        self.ps_message = ps_message
        super().__init__(f"{reason} ({ps_message})" if ps_message else reason)


class PsAuthError(PsError):
    """401: unknown or inactive key, or a resource the key may not read."""


class PsDisabled(PsError):
    """503: the webservice is switched off in the back office."""


class PsNotFound(PsError):
    """404: no such object, or no webservice at this address."""


class PsUnreachable(PsError):
    """The shop could not answer now: connection refused, timeout, other 5xx, 429."""


class PsClient(ShopClient):
    """Read-only access to one shop's webservice. Close it unless ``http`` was given."""

    def __init__(self, url: str, api_key: str, *, http: httpx.AsyncClient | None = None,
                 timeout: float = 30) -> None:
        super().__init__(url, http=http, timeout=timeout)
        self._auth = httpx.BasicAuth(api_key, "")


    # -- resources --------------------------------------------------------------------------

    async def permissions(self) -> dict[str, set[str]]:
        """Resource → the HTTP methods the key may use on it (``GET /api/``)."""
        response = await self._get("/api/", {}, json=False)
        try:
            root = _xml(response.content)
        except ET.ParseError as exc:
            raise PsError(f"{self.url}/api/ did not answer the webservice's XML; is this a "
                          "PrestaShop shop?", url=f"{self.url}/api/",
                          status=response.status_code) from exc
        api = root.find("api")
        if api is None:
            raise PsError(f"{self.url}/api/ did not list any resources", url=f"{self.url}/api/")
        return {child.tag: {m for m in ("get", "put", "post", "patch", "delete", "head")
                            if child.get(m) == "true"} for child in api}

    async def histories_since(self, since: str) -> list[dict[str, Any]]:
        """Status changes with ``date_add`` in ``[since, ∞)`` (shop-local time), by id."""
        return await self._all("order_histories", {
            "display": "full", "date": "1", "filter[date_add]": f"[{since},{FAR_FUTURE}]",
            "sort": "[id_ASC]"})

    async def histories_of(self, order_id: int) -> list[dict[str, Any]]:
        """Every status change of one order, oldest first."""
        return await self._all("order_histories", {
            "display": "full", "filter[id_order]": f"[{int(order_id)}]", "sort": "[id_ASC]"})

    async def latest_history(self) -> dict[str, Any] | None:
        found = await self._list("order_histories", {
            "display": "full", "sort": "[id_DESC]", "limit": "1"})
        return found[0] if found else None

    async def order(self, order_id: int) -> dict[str, Any]:
        return await self._one("order", f"/api/orders/{int(order_id)}")

    async def address(self, address_id: int) -> dict[str, Any]:
        return await self._one("address", f"/api/addresses/{int(address_id)}")

    async def customer(self, customer_id: int) -> dict[str, Any] | None:
        found = await self._list("customers", {
            "display": CUSTOMER_FIELDS, "filter[id]": f"[{int(customer_id)}]"})
        return found[0] if found else None

    async def customers_after(self, last_id: int) -> list[dict[str, Any]]:
        return await self._all("customers", {
            "display": CUSTOMER_FIELDS, "filter[id]": f"[{int(last_id) + 1},{MAX_ID}]",
            "sort": "[id_ASC]"})

    async def latest_id(self, resource: str) -> int:
        """The highest id of a resource (0 when empty): where an id cursor starts."""
        found = await self._list(resource, {"display": "[id]", "sort": "[id_DESC]", "limit": "1"})
        return int(found[0]["id"]) if found else 0

    async def slips_after(self, last_id: int) -> list[dict[str, Any]]:
        return await self._all("order_slips", {
            "display": "full", "filter[id]": f"[{int(last_id) + 1},{MAX_ID}]",
            "sort": "[id_ASC]"})

    async def carriers_of(self, order_id: int) -> list[dict[str, Any]]:
        return await self._all("order_carriers", {
            "display": "full", "filter[id_order]": f"[{int(order_id)}]", "sort": "[id_ASC]"})

    async def table(self, resource: str) -> dict[str, dict[str, Any]]:
        """A small reference table (order_states, languages, currencies) by id."""
        return {str(row["id"]): row for row in await self._all(resource, {"display": "full"})}

    # -- transport --------------------------------------------------------------------------

    async def _all(self, resource: str, params: Mapping[str, str]) -> list[dict[str, Any]]:
        """Every page (``limit=offset,n``; there is no total, so read until a short page)."""
        found: list[dict[str, Any]] = []
        offset = 0
        while True:
            page = await self._list(resource, {**params, "limit": f"{offset},{PAGE}"})
            found.extend(page)
            if len(page) < PAGE:
                return found
            offset += PAGE

    async def _list(self, resource: str, params: Mapping[str, str]) -> list[dict[str, Any]]:
        response = await self._get(f"/api/{resource}", params)
        body = _json(response)
        if body == [] or body == {}:  # PrestaShop's empty result, whatever the resource
            return []
        rows = body.get(resource) if isinstance(body, dict) else None
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise PsError(f"{where(response)} did not answer a list of {resource}",
                          url=where(response), status=response.status_code)
        return rows

    async def _one(self, name: str, path: str) -> dict[str, Any]:
        response = await self._get(path, {})
        body = _json(response)
        found = body.get(name) if isinstance(body, dict) else None
        if not isinstance(found, dict):
            raise PsError(f"{where(response)} did not answer one {name}",
                          url=where(response), status=response.status_code)
        return found

    async def _get(self, path: str, params: Mapping[str, str], *, json: bool = True
                   ) -> httpx.Response:
        url = f"{self.url}{path}"
        query = {**params, "output_format": "JSON"} if json else dict(params)
        try:
            response = await self._http.get(url, params=query, auth=self._auth,
                                            timeout=self._timeout, follow_redirects=False)
        except httpx.TimeoutException as exc:
            raise PsUnreachable(f"{url} did not answer within {self._timeout:g} s",
                                url=url) from exc
        except (httpx.TransportError, httpx.InvalidURL) as exc:
            raise PsUnreachable(f"cannot connect to {url}: {str(exc) or type(exc).__name__}",
                                url=url) from exc
        if response.is_success:
            return response
        raise _status_error(response, url)


def _xml(content: bytes) -> ET.Element:
    """Parse the webservice's XML; a DTD (where entity bombs live) is refused unread."""
    if b"<!DOCTYPE" in content.upper() or b"<!ENTITY" in content.upper():
        raise ET.ParseError("XML with a DTD is refused")
    return ET.fromstring(content)  # noqa: S314  # no DTD, so no entities to expand


def _ps_message(response: httpx.Response) -> str | None:
    """PrestaShop's error text: ``{"errors":[{"code":…,"message":…}]}`` or the XML twin."""
    try:
        body = response.json()
    except ValueError:
        try:
            root = _xml(response.content)
        except ET.ParseError:
            return None
        texts = [(e.text or "").strip() for e in root.iter("message")]
        return "; ".join(t for t in texts if t) or None
    errors = body.get("errors") if isinstance(body, dict) else None
    if isinstance(errors, list):
        texts = [str(e.get("message")) for e in errors if isinstance(e, dict) and e.get("message")]
        return "; ".join(texts) or None
    return None


def _status_error(response: httpx.Response, url: str) -> PsError:
    status = response.status_code
    message = _ps_message(response)
    if status == 503:
        return PsDisabled(f"{url} answered HTTP 503: the webservice is off", url=url,
                          status=status, ps_message=message)
    kind, reason = failure(response, url, "the webservice key")
    cls = {"auth": PsAuthError, "not_found": PsNotFound,
           "unreachable": PsUnreachable}.get(kind, PsError)
    return cls(reason, url=url, status=status, ps_message=message)



def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError as exc:
        kind = response.headers.get("Content-Type", "no content type")
        raise PsError(f"{where(response)} did not answer JSON ({kind}); is this a PrestaShop "
                      "webservice (1.7 or later)?", url=where(response),
                      status=response.status_code) from exc
