"""A fake Magento 2 REST API on loopback, speaking the real wire format.

Starlette under uvicorn in its own thread. Where a client could get Magento
wrong, it behaves as Magento does (platforms.md §2):

* ``searchCriteria`` bracket syntax: filter groups (filters ORed within a
  group, groups ANDed), the condition types ``eq neq gt gteq lt lteq in nin
  like null notnull from to``, several ``sortOrders``, ``pageSize`` and
  ``currentPage`` — and a page past the end answers the **last page again**;
* OAuth 1.0a as ``Magento\\Framework\\Oauth\\Oauth``: header parameters, only
  HMAC-SHA256, signature recomputed here by hand (not with oauthlib, so the
  client's use of the library is cross-checked), nonces never reused, with
  Magento's messages ("The signature is invalid. Verify and try again.");
* ``Authorization: Bearer`` tokens; unknown ones make the caller anonymous;
* ACL: each integration or token has a set of resources, and a missing one
  answers 401 "The consumer isn't authorized to access %resources.".

Tests script failures (a 500 on page 2) with :meth:`FakeMagento.fail`.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import math
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.asgi_server import ThreadedServer

FIXTURES = Path(__file__).parent / "fixtures"
ACL = {
    "orders": "Magento_Sales::actions_view",
    "invoices": "Magento_Sales::sales_invoice",
    "shipments": "Magento_Sales::shipment",
    "creditmemos": "Magento_Sales::sales_creditmemo",
    "customers": "Magento_Customer::customer",
}
ALL = frozenset(ACL.values())
_CRITERIA = re.compile(
    r"^searchCriteria\[filter_groups\]\[(\d+)\]\[filters\]\[(\d+)\]\[(field|value|condition_type)\]$")
_SORT = re.compile(r"^searchCriteria\[sortOrders\]\[(\d+)\]\[(field|direction)\]$")


def mg_date(moment: datetime) -> str:
    """A datetime as Magento writes it: UTC ``YYYY-MM-DD HH:MM:SS``."""
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def _fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return data


def make_order(entity_id: int, *, created: datetime, updated: datetime | None = None,
               state: str = "new", status: str | None = None, email: str | None = None,
               guest: bool = False, store_id: int = 1, currency: str = "USD",
               grand_total: float = 165, name: str = "Jane") -> dict[str, Any]:
    """The fixture order with another id, state, customer, store view and money."""
    mg = copy.deepcopy(_fixture("magento-order.json"))
    email = email or f"buyer{entity_id}@example.com"
    mg.update(entity_id=entity_id, increment_id=f"{store_id}{entity_id:08d}",
              created_at=mg_date(created), updated_at=mg_date(updated or created), state=state,
              status=status or {"new": "pending", "canceled": "canceled"}.get(state, state),
              customer_email=email, customer_firstname=name, store_id=store_id,
              order_currency_code=currency, base_currency_code=currency,
              grand_total=grand_total, base_grand_total=grand_total,
              customer_is_guest=1 if guest else 0, customer_id=None if guest else 100 + entity_id)
    mg["billing_address"]["email"] = email
    for item in mg["items"]:
        item["order_id"] = entity_id
    return mg


def make_invoice(entity_id: int, order: dict[str, Any], *, created: datetime
                 ) -> dict[str, Any]:
    return {"entity_id": entity_id, "increment_id": f"{entity_id:09d}",
            "order_id": order["entity_id"], "store_id": order["store_id"],
            "grand_total": order["grand_total"], "order_currency_code":
            order["order_currency_code"], "state": 2, "created_at": mg_date(created),
            "updated_at": mg_date(created), "items": [], "comments": []}


def make_shipment(entity_id: int, order: dict[str, Any], *, created: datetime,
                  tracks: list[tuple[str, str, str]] = ()) -> dict[str, Any]:  # type: ignore[assignment]
    """``tracks``: (carrier_code, title, track_number)."""
    return {"entity_id": entity_id, "increment_id": f"{entity_id:09d}",
            "order_id": order["entity_id"], "store_id": order["store_id"],
            "created_at": mg_date(created), "updated_at": mg_date(created), "items": [],
            "comments": [], "packages": [],
            "tracks": [{"entity_id": entity_id * 10 + i, "order_id": order["entity_id"],
                        "parent_id": entity_id, "carrier_code": code, "title": title,
                        "track_number": number, "created_at": mg_date(created)}
                       for i, (code, title, number) in enumerate(tracks)]}


def make_creditmemo(entity_id: int, order: dict[str, Any], *, created: datetime,
                    amount: float) -> dict[str, Any]:
    return {"entity_id": entity_id, "increment_id": f"{entity_id:09d}",
            "order_id": order["entity_id"], "store_id": order["store_id"],
            "grand_total": amount, "order_currency_code": order["order_currency_code"],
            "state": 2, "created_at": mg_date(created), "updated_at": mg_date(created),
            "items": [], "comments": []}


def make_customer(customer_id: int, *, created: datetime, store_id: int = 1,
                  email: str | None = None) -> dict[str, Any]:
    mg = copy.deepcopy(_fixture("magento-customer.json"))
    mg.update(id=customer_id, email=email or f"customer{customer_id}@example.com",
              created_at=mg_date(created), updated_at=mg_date(created), store_id=store_id)
    return mg


@dataclass
class Integration:
    """An activated integration: its four credentials and the ACL resources ticked."""

    consumer_key: str
    consumer_secret: str
    access_token: str
    access_token_secret: str
    resources: set[str] = field(default_factory=lambda: set(ALL))


@dataclass(frozen=True)
class Seen:
    path: str
    params: dict[str, str]
    auth: str | None  # "oauth", "bearer" or None
    status: int


@dataclass
class _Failure:
    resource: str
    page: int | None
    status: int
    times: int


def _enc(value: str) -> str:
    """RFC 3986 percent-encoding, as OAuth 1.0a §3.6 requires."""
    return quote(value, safe="~")


def _num(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _compare(left: Any, right: str) -> int:
    a, b = _num(left), _num(right)
    if a is not None and b is not None:
        return (a > b) - (a < b)
    x = "" if left is None else str(left)
    return (x > right) - (x < right)


def _matches(row: dict[str, Any], fld: str, value: str, cond: str) -> bool:
    actual = row.get(fld)
    if cond == "null":
        return actual is None
    if cond == "notnull":
        return actual is not None
    if cond in ("in", "nin"):
        inside = any(_compare(actual, v.strip()) == 0 for v in value.split(","))
        return inside if cond == "in" else not inside
    if cond in ("like", "nlike"):
        pattern = "^" + ".*".join(re.escape(p) for p in value.split("%")) + "$"
        hit = actual is not None and re.match(pattern, str(actual), re.I) is not None
        return hit if cond == "like" else not hit
    if actual is None:
        return False
    c = _compare(actual, value)
    return {"eq": c == 0, "neq": c != 0, "gt": c > 0, "gteq": c >= 0, "from": c >= 0,
            "moreq": c >= 0, "lt": c < 0, "lteq": c <= 0, "to": c <= 0}[cond]


class FakeMagento:
    """The fake shop. Use as a context manager; ``url`` is its base URL."""

    def __init__(self) -> None:
        self.rows: dict[str, dict[int, dict[str, Any]]] = {r: {} for r in ACL}
        self.integrations: dict[str, Integration] = {}
        self.bearer: dict[str, set[str]] = {}
        self.store_codes = {"default", "de", "fr", "all"}
        self.seen: list[Seen] = []
        self._nonces: set[tuple[str, str]] = set()
        self._failures: list[_Failure] = []
        self._lock = threading.Condition()
        app = Starlette(routes=[Route("/rest/{code}/V1/{path:path}", self._handle)])
        self._server = ThreadedServer(app)
        self.url = ""

    def __enter__(self) -> FakeMagento:
        self.url = self._server.__enter__().url
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.__exit__(*exc)

    # -- scripting ----------------------------------------------------------------------

    def add_integration(self, integration: Integration) -> Integration:
        self.integrations[integration.consumer_key] = integration
        return integration

    def put(self, resource: str, row: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            self.rows[resource][int(row["id" if resource == "customers" else "entity_id"])] = \
                copy.deepcopy(row)
        return row

    def fail(self, resource: str, *, page: int | None = None, status: int = 500,
             times: int = 1) -> None:
        with self._lock:
            self._failures.append(_Failure(resource, page, status, times))

    def requests(self, resource: str) -> list[Seen]:
        """The searches of ``resource`` (``orders``… ``customers``), single reads excluded."""
        path = "customers/search" if resource == "customers" else resource
        with self._lock:
            return [s for s in self.seen if s.path == path]

    def wait_requests(self, resource: str, count: int, timeout: float = 15) -> None:
        """Block until ``count`` answered searches of ``resource``: a poll cycle went by."""
        deadline = time.monotonic() + timeout
        with self._lock:
            path = "customers/search" if resource == "customers" else resource
            while len([s for s in self.seen if s.path == path and s.status == 200]) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"fewer than {count} requests for {resource}")
                self._lock.wait(left)

    # -- the API ------------------------------------------------------------------------

    async def _handle(self, request: Request) -> JSONResponse:
        path = request.path_params["path"]
        params = parse_qsl(request.url.query, keep_blank_values=True)
        kind, resources, problem = self._authenticate(request, params)
        response = self._answer(request, path, params, resources, problem)
        with self._lock:
            self.seen.append(Seen(path, dict(params), kind, response.status_code))
            self._lock.notify_all()
        return response

    def _answer(self, request: Request, path: str, params: list[tuple[str, str]],
                resources: set[str], problem: str | None) -> JSONResponse:
        if request.path_params["code"] not in self.store_codes:
            return _message(400, "The store that was requested wasn't found. Verify the store "
                            "and try again.")
        if problem is not None:
            return _message(401, problem)
        resource = "customers" if path == "customers/search" else path.split("/")[0]
        if resource not in ACL or (resource == "customers" and path != "customers/search"):
            return _message(404, "Request does not match any route.")
        if ACL[resource] not in resources:
            return JSONResponse({"message": "The consumer isn't authorized to access %resources.",
                                 "parameters": {"resources": ACL[resource]}}, status_code=401)
        if "/" in path and resource != "customers":
            row = self.rows[resource].get(int(path.split("/")[1]))
            if row is None:
                return _message(404, "The entity that was requested doesn't exist. Verify the "
                                "entity and try again.")
            return JSONResponse(row)
        return self._search(resource, params)

    def _authenticate(self, request: Request, query: list[tuple[str, str]]
                      ) -> tuple[str | None, set[str], str | None]:
        """(kind, ACL resources, Magento's refusal or None). Unknown bearer = anonymous."""
        header = request.headers.get("authorization", "")
        if header.lower().startswith("bearer "):
            return "bearer", self.bearer.get(header[7:].strip(), set()), None
        if not header.startswith("OAuth "):
            return None, set(), None
        oauth = {k: v for k, v in (
            (m.group(1), _unquote(m.group(2)))
            for m in re.finditer(r'(\w+)="([^"]*)"', header[6:]))}
        for name in ("oauth_consumer_key", "oauth_signature", "oauth_signature_method",
                     "oauth_nonce", "oauth_timestamp", "oauth_token"):
            if name not in oauth:
                return "oauth", set(), f'"{name}" is required. Enter and try again.'
        if oauth.get("oauth_version", "1.0") != "1.0":
            return "oauth", set(), f'The "{oauth["oauth_version"]}" Oauth version isn\'t supported.'
        if oauth["oauth_signature_method"] != "HMAC-SHA256":
            return "oauth", set(), (f"Signature method {oauth['oauth_signature_method']} is not "
                                    "supported")
        integration = self.integrations.get(oauth["oauth_consumer_key"])
        if integration is None:
            return "oauth", set(), "A consumer having the specified key does not exist"
        if abs(time.time() - int(oauth["oauth_timestamp"])) > 600:
            return "oauth", set(), "The timestamp is outside the allowed window"
        nonce = (oauth["oauth_consumer_key"], oauth["oauth_nonce"])
        if nonce in self._nonces:
            return "oauth", set(), "The nonce is already being used by the consumer with ID " \
                "1. Verify the nonce and try again."
        self._nonces.add(nonce)
        if oauth["oauth_token"] != integration.access_token:
            return "oauth", set(), "Specified token does not exist"
        pairs = [(k, v) for k, v in oauth.items() if k not in ("oauth_signature", "realm")]
        pairs += query
        normalized = "&".join(f"{k}={v}" for k, v in sorted(
            (_enc(k), _enc(v)) for k, v in pairs))
        base_url = f"{request.url.scheme}://{request.url.netloc}{request.url.path}"
        base = "&".join([request.method.upper(), _enc(base_url), _enc(normalized)])
        key = f"{_enc(integration.consumer_secret)}&{_enc(integration.access_token_secret)}"
        expected = base64.b64encode(
            hmac.new(key.encode(), base.encode(), hashlib.sha256).digest()).decode()
        if not hmac.compare_digest(expected, oauth["oauth_signature"]):
            return "oauth", set(), "The signature is invalid. Verify and try again."
        return "oauth", integration.resources, None

    def _search(self, resource: str, params: list[tuple[str, str]]) -> JSONResponse:
        groups: dict[int, dict[int, dict[str, str]]] = {}
        sorts: dict[int, dict[str, str]] = {}
        page_size = current = None
        for key, value in params:
            if m := _CRITERIA.match(key):
                groups.setdefault(int(m[1]), {}).setdefault(int(m[2]), {})[m[3]] = value
            elif m := _SORT.match(key):
                sorts.setdefault(int(m[1]), {})[m[2]] = value
            elif key == "searchCriteria[pageSize]":
                page_size = int(value)
            elif key == "searchCriteria[currentPage]":
                current = int(value)
        page = self._scripted_failure(resource, current or 1)
        if page is not None:
            return _message(page, "Internal Error. Details are available in Magento log file.")
        with self._lock:
            rows = [copy.deepcopy(r) for r in self.rows[resource].values()]
        for group in groups.values():
            rows = [r for r in rows if any(
                _matches(r, f["field"], f.get("value", ""), f.get("condition_type", "eq"))
                for f in group.values())]
        for index in sorted(sorts, reverse=True):
            order = sorts[index]
            rows.sort(key=lambda r, f=order["field"]: (_num(r.get(f)) is None, _num(r.get(f))
                                                       or 0, str(r.get(f))),
                      reverse=order.get("direction", "DESC").upper() == "DESC")
        total = len(rows)
        items = rows
        if page_size:
            pages = max(1, math.ceil(total / page_size))
            shown = min(current or 1, pages)  # past the end: the last page again
            items = rows[(shown - 1) * page_size: shown * page_size]
        return JSONResponse({"items": items, "search_criteria": {
            "filter_groups": [{"filters": list(g.values())} for g in groups.values()],
            "sort_orders": list(sorts.values()), "page_size": page_size,
            "current_page": current}, "total_count": total})

    def _scripted_failure(self, resource: str, page: int) -> int | None:
        with self._lock:
            for failure in self._failures:
                if failure.resource == resource and failure.page in (None, page) \
                        and failure.times > 0:
                    failure.times -= 1
                    return failure.status
        return None


def _unquote(value: str) -> str:
    from urllib.parse import unquote
    return unquote(value)


def _message(status: int, message: str) -> JSONResponse:
    return JSONResponse({"message": message}, status_code=status)
