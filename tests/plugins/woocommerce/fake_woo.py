"""A fake WooCommerce REST API v3 on loopback, speaking the real wire format.

It runs a Starlette app under uvicorn in its own thread (plain http, or TLS
with a throw-away self-signed certificate) and behaves as WooCommerce does
where the client could get it wrong:

* authentication as ``WC_REST_Authentication``: over TLS, HTTP Basic (or the
  ``consumer_key``/``consumer_secret`` query); over plain http Basic is ignored
  and OAuth 1.0a one-legged is checked — signature recomputed here by hand
  (not with oauthlib, so the client's use of the library is cross-checked),
  ±15 min timestamp window, nonces never reused — with WooCommerce's error
  codes and messages;
* ``modified_after``/``before`` etc. read in the *site* time zone unless
  ``dates_are_gmt=true`` (the site here is UTC-3, like the fixture's shop);
* ``page``/``per_page`` (max 100), ``X-WP-Total``, ``X-WP-TotalPages`` and an
  RFC 5988 ``Link`` header; ``orderby``/``order``; customers' ``role``.

Tests script failures (a 500 on page 2, a slow answer) with :meth:`FakeWoo.fail`.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import hashlib
import hmac
import json
import math
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from tests.asgi_server import ThreadedServer

FIXTURES = Path(__file__).parent / "fixtures"
SITE_OFFSET = timedelta(hours=-3)  # the fixture's shop: date_created 16:28 local, 19:28 GMT
WINDOW = 15 * 60  # WooCommerce's OAuth timestamp window, seconds
_WP_DATE = re.compile(  # rest_parse_date's pattern
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}(?::\d{2})?)?$")
_OAUTH_REQUIRED = ("oauth_consumer_key", "oauth_timestamp", "oauth_nonce", "oauth_signature",
                   "oauth_signature_method")


def wc_date(moment: datetime) -> str:
    """A datetime as WooCommerce writes it: ``YYYY-MM-DDTHH:MM:SS``, no offset."""
    return moment.replace(tzinfo=None, microsecond=0).isoformat()


def _fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return data


def make_order(order_id: int, *, status: str = "processing", created: datetime,
               modified: datetime | None = None, email: str | None = None,
               home: str = "https://example.com") -> dict[str, Any]:
    """The fixture order with another id, status and dates (GMT given; local derived)."""
    wc = copy.deepcopy(_fixture("woocommerce-order.json"))
    modified = modified or created
    wc.update(id=order_id, number=str(order_id), order_key=f"wc_order_{order_id:013x}",
              status=status,
              date_created=wc_date(created + SITE_OFFSET), date_created_gmt=wc_date(created),
              date_modified=wc_date(modified + SITE_OFFSET), date_modified_gmt=wc_date(modified))
    wc["billing"]["email"] = email or f"buyer{order_id}@example.com"
    wc["billing"]["first_name"] = f"Buyer{order_id}"
    wc["line_items"][0]["quantity"] = 1 + order_id % 3
    wc["_links"] = {"self": [{"href": f"{home}/wp-json/wc/v3/orders/{order_id}"}],
                    "collection": [{"href": f"{home}/wp-json/wc/v3/orders"}]}
    return wc


def make_customer(customer_id: int, *, created: datetime, role: str = "customer",
                  email: str | None = None) -> dict[str, Any]:
    wc = copy.deepcopy(_fixture("woocommerce-customer.json"))
    email = email or f"customer{customer_id}@example.com"
    wc.update(id=customer_id, email=email, username=email.split("@")[0], role=role,
              date_created=wc_date(created + SITE_OFFSET), date_created_gmt=wc_date(created),
              date_modified=wc_date(created + SITE_OFFSET), date_modified_gmt=wc_date(created))
    wc["billing"]["email"] = email
    return wc


def make_webhook(webhook_id: int, topic: str, delivery_url: str, *,
                 status: str = "active") -> dict[str, Any]:
    """A webhook as ``GET /wc/v3/webhooks`` lists it (``action.*`` topics: resource 'action')."""
    resource, event = topic.split(".", 1)
    now = wc_date(datetime.now(UTC))
    return {"id": webhook_id, "name": f"Tidings {topic}", "status": status, "topic": topic,
            "resource": resource, "event": event, "hooks": [f"woocommerce_{event}_{resource}"],
            "delivery_url": delivery_url, "date_created": now, "date_created_gmt": now,
            "date_modified": now, "date_modified_gmt": now}


@dataclass
class ApiKey:
    """A REST key as WooCommerce stores it: secret, permissions, its user's capability."""

    secret: str
    permissions: str = "read"  # read | write | read_write
    can_view: bool = True  # False: the key's WordPress user may not list orders etc.


@dataclass(frozen=True)
class Seen:
    """One request as the fake received it."""

    path: str
    params: dict[str, str]
    auth: str | None  # "basic", "oauth" or None
    authorization: str | None
    status: int


@dataclass
class _Failure:
    path: str
    page: int | None
    status: int
    delay: float
    times: int


@dataclass
class FakeWoo:
    """The fake shop. Use as a context manager; ``url`` is its home URL."""

    tls: bool = False
    keys: dict[str, ApiKey] = field(default_factory=dict)
    orders: dict[int, dict[str, Any]] = field(default_factory=dict)
    customers: dict[int, dict[str, Any]] = field(default_factory=dict)
    webhooks: dict[int, dict[str, Any]] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)
    clock_skew: float = 0.0  # seconds added to the fake's clock (for timestamp checks)
    cert_dir: Path | None = None
    url: str = ""
    _failures: list[_Failure] = field(default_factory=list)
    _nonces: set[tuple[str, str]] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # -- lifecycle ---------------------------------------------------------------------------

    def __enter__(self) -> FakeWoo:
        app = Starlette(routes=[
            Route("/wp-json/wc/v3/orders", self._orders),
            Route("/wp-json/wc/v3/orders/{order_id:int}", self._order),
            Route("/wp-json/wc/v3/customers", self._customers),
            Route("/wp-json/wc/v3/webhooks", self._webhooks),
        ])
        ssl: dict[str, Any] = {}
        if self.tls:
            if self.cert_dir is None:
                raise ValueError("tls needs cert_dir")
            cert, key = self_signed_cert(self.cert_dir)
            ssl = {"ssl_certfile": str(cert), "ssl_keyfile": str(key)}
        self._server = ThreadedServer(app, **ssl)
        self.url = self._server.__enter__().url
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.__exit__(*exc)

    @property
    def cafile(self) -> Path:
        assert self.cert_dir is not None
        return self.cert_dir / "cert.pem"

    # -- scripting ---------------------------------------------------------------------------

    def add_key(self, key: str, secret: str, **kw: Any) -> None:
        with self._lock:
            self.keys[key] = ApiKey(secret, **kw)

    def put_order(self, order: dict[str, Any]) -> None:
        with self._lock:
            self.orders[int(order["id"])] = order

    def put_customer(self, customer: dict[str, Any]) -> None:
        with self._lock:
            self.customers[int(customer["id"])] = customer

    def put_webhook(self, webhook: dict[str, Any]) -> None:
        with self._lock:
            self.webhooks[int(webhook["id"])] = webhook

    def fail(self, path: str, *, page: int | None = None, status: int = 500,
             delay: float = 0.0, times: int = 1) -> None:
        """Answer the next ``times`` matching requests with ``status`` (after ``delay`` s)."""
        with self._lock:
            self._failures.append(_Failure(path, page, status, delay, times))

    def requests(self, path: str | None = None) -> list[Seen]:
        with self._lock:
            return [s for s in self.seen if path is None or s.path == path]

    # -- authentication (WC_REST_Authentication) ---------------------------------------------

    def _authenticate(self, request: Request) -> tuple[ApiKey | None, str | None, Response | None]:
        """The user's key, how it authenticated, or WooCommerce's error response."""
        params = dict(request.query_params)
        error: tuple[str, str] | None = None
        if self.tls:  # is_ssl(): Basic first (query credentials win over the header)
            key_id, secret = params.get("consumer_key"), params.get("consumer_secret")
            if not (key_id and secret):
                key_id, secret = _basic(request.headers.get("authorization", ""))
            if key_id and secret:
                found = self.keys.get(key_id)
                if found is not None and hmac.compare_digest(found.secret, secret):
                    return found, "basic", None
                if found is not None:
                    error = ("woocommerce_rest_authentication_error", "Consumer secret is invalid.")
        if error is None:
            key, error = self._oauth(request, params)
            if key is not None:
                return key, "oauth", None
        if error is not None:
            headers = {}
            if self.tls:
                headers["WWW-Authenticate"] = ('Basic realm="WooCommerce API. Use a consumer key '
                                               'in the username field and a consumer secret in '
                                               'the password field."')
            return None, None, _wp_error(401, *error, headers=headers)
        return None, None, None

    def _oauth(self, request: Request, params: dict[str, str]
               ) -> tuple[ApiKey | None, tuple[str, str] | None]:
        present = [p for p in _OAUTH_REQUIRED if params.get(p)]
        if not present:
            return None, None
        missing = [p for p in _OAUTH_REQUIRED if not params.get(p)]
        if missing:
            noun = "parameter" if len(missing) == 1 else "parameters"
            return None, ("woocommerce_rest_authentication_missing_parameter",
                          f"Missing OAuth {noun} {', '.join(missing)}")
        key = self.keys.get(params["oauth_consumer_key"])
        if key is None:
            return None, ("woocommerce_rest_authentication_error", "Consumer key is invalid.")
        method = params["oauth_signature_method"]
        if method not in ("HMAC-SHA1", "HMAC-SHA256"):
            return None, ("woocommerce_rest_authentication_error",
                          "Invalid signature - signature method is invalid.")
        given = unquote(params.pop("oauth_signature").replace(" ", "+"))
        expected = oauth_signature(request.method, self.url + request.url.path, params,
                                   key.secret, method)
        if not hmac.compare_digest(expected, given):
            return None, ("woocommerce_rest_authentication_error",
                          "Invalid signature - provided signature does not match.")
        try:
            stamp = int(params["oauth_timestamp"])
        except ValueError:
            stamp = 0
        now = time.time() + self.clock_skew
        if not now - WINDOW <= stamp <= now + WINDOW:
            return None, ("woocommerce_rest_authentication_error", "Invalid timestamp.")
        nonce = (params["oauth_consumer_key"], params["oauth_nonce"])
        if nonce in self._nonces:
            return None, ("woocommerce_rest_authentication_error",
                          "Invalid nonce - nonce has already been used.")
        self._nonces.add(nonce)
        return key, None

    async def _guard(self, request: Request, what: str
                     ) -> tuple[dict[str, str], Response | None]:
        """Authenticate, check read permission and capability, then any scripted failure."""
        params = {k: v for k, v in request.query_params.items() if not k.startswith("oauth_")
                  and k not in ("consumer_key", "consumer_secret")}
        with self._lock:
            key, how, refused = self._authenticate(request)
        if refused is None and key is not None and key.permissions not in ("read", "read_write"):
            refused = _wp_error(401, "woocommerce_rest_authentication_error",
                                "The API key provided does not have read permissions.")
        if refused is None and (key is None or not key.can_view):
            refused = _wp_error(401 if key is None else 403, "woocommerce_rest_cannot_view",
                                f"Sorry, you cannot {what}.")
        if refused is None:
            refused = await self._scripted(request.url.path, params)
        with self._lock:
            self.seen.append(Seen(request.url.path, dict(request.query_params), how,
                                  request.headers.get("authorization"),
                                  refused.status_code if refused else 200))
        return params, refused

    async def _scripted(self, path: str, params: dict[str, str]) -> Response | None:
        with self._lock:
            page = int(params.get("page", "1") or 1)
            for rule in self._failures:
                if rule.path == path and rule.page in (None, page) and rule.times > 0:
                    rule.times -= 1
                    break
            else:
                return None
        if rule.delay:
            await asyncio.sleep(rule.delay)
        if rule.status >= 500:  # what PHP's fatal-error handler shows
            return HTMLResponse("<p>There has been a critical error on this website.</p>",
                                status_code=rule.status)
        if rule.status == 200:  # e.g. a maintenance or caching plugin answering instead
            return HTMLResponse("<!doctype html><title>Down for maintenance</title>")
        return _wp_error(rule.status, "fake_failure", f"scripted HTTP {rule.status}")

    # -- endpoints ---------------------------------------------------------------------------

    async def _orders(self, request: Request) -> Response:
        params, refused = await self._guard(request, "list resources")
        if refused:
            return refused
        try:
            gmt = _bool(params.get("dates_are_gmt", "false"))
            statuses = [s for s in params.get("status", "any").split(",") if s]
            window = {name: _date(params, name) for name in
                      ("after", "before", "modified_after", "modified_before")}
            order_by = _choice(params, "orderby", "date",
                               ("date", "id", "include", "title", "slug", "modified"))
            descending = _choice(params, "order", "desc", ("asc", "desc")) == "desc"
        except _Invalid as exc:
            return exc.response()
        suffix = "_gmt" if gmt else ""

        def wanted(order: dict[str, Any]) -> bool:
            if "any" in statuses and order["status"] == "trash":
                return False
            if "any" not in statuses and order["status"] not in statuses:
                return False
            created, modified = order[f"date_created{suffix}"], order[f"date_modified{suffix}"]
            return all(cmp(value, bound) for value, bound, cmp in (
                (created, window["after"], str.__gt__), (created, window["before"], str.__lt__),
                (modified, window["modified_after"], str.__gt__),
                (modified, window["modified_before"], str.__lt__)) if bound is not None)

        sort_key: Callable[[dict[str, Any]], Any] = {
            "id": lambda o: o["id"], "modified": lambda o: (o["date_modified_gmt"], o["id"]),
        }.get(order_by, lambda o: (o["date_created_gmt"], o["id"]))
        with self._lock:
            found = sorted((copy.deepcopy(o) for o in self.orders.values() if wanted(o)),
                           key=sort_key, reverse=descending)
        return self._page(request, params, found)

    async def _order(self, request: Request) -> Response:
        _params, refused = await self._guard(request, "view this resource")
        if refused:
            return refused
        with self._lock:
            order = self.orders.get(int(request.path_params["order_id"]))
        if order is None:
            return _wp_error(404, "woocommerce_rest_shop_order_invalid_id", "Invalid ID.")
        return JSONResponse(order)

    async def _customers(self, request: Request) -> Response:
        params, refused = await self._guard(request, "list resources")
        if refused:
            return refused
        try:
            order_by = _choice(params, "orderby", "name",
                               ("id", "include", "name", "registered_date"))
            descending = _choice(params, "order", "asc", ("asc", "desc")) == "desc"
        except _Invalid as exc:
            return exc.response()
        role = params.get("role", "customer")
        sort_key: Callable[[dict[str, Any]], Any] = {
            "id": lambda c: c["id"], "registered_date": lambda c: (c["date_created_gmt"], c["id"]),
        }.get(order_by, lambda c: (c["username"], c["id"]))
        with self._lock:
            found = sorted((copy.deepcopy(c) for c in self.customers.values()
                            if role == "all" or c["role"] == role),
                           key=sort_key, reverse=descending)
        return self._page(request, params, found)

    async def _webhooks(self, request: Request) -> Response:
        params, refused = await self._guard(request, "list resources")
        if refused:
            return refused
        status = params.get("status", "all")
        with self._lock:
            found = sorted((copy.deepcopy(w) for w in self.webhooks.values()
                            if status == "all" or w["status"] == status),
                           key=lambda w: (w["date_created_gmt"], w["id"]), reverse=True)
        return self._page(request, params, found)

    def _page(self, request: Request, params: dict[str, str],
              items: list[dict[str, Any]]) -> Response:
        try:
            per_page = _int(params, "per_page", 10, 1, 100)
            page = _int(params, "page", 1, 1, None)
        except _Invalid as exc:
            return exc.response()
        total = len(items)
        pages = math.ceil(total / per_page)
        body = items[(page - 1) * per_page: page * per_page]
        base = f"{self.url}{request.url.path}"
        links = []
        if page > 1:
            links.append(f'<{base}?{urlencode({**params, "page": page - 1})}>; rel="prev"')
        if page < pages:
            links.append(f'<{base}?{urlencode({**params, "page": page + 1})}>; rel="next"')
        headers = {"X-WP-Total": str(total), "X-WP-TotalPages": str(pages)}
        if links:
            headers["Link"] = ", ".join(links)
        return JSONResponse(body, headers=headers)


# -- OAuth 1.0a as WooCommerce computes it (check_oauth_signature), written out by hand -------


def _rfc3986(text: str) -> str:
    """PHP's rawurlencode (what wc_rest_urlencode_rfc3986 uses)."""
    return quote(text, safe="~")


def oauth_signature(method: str, base_uri: str, params: dict[str, str], secret: str,
                    signature_method: str = "HMAC-SHA256") -> str:
    """``base64(hmac(METHOD&enc(uri)&enc(k)%3Denc(v)%26…, secret&))``, keys sorted by strcmp."""
    pairs = [_rfc3986(f"{_rfc3986(k)}={_rfc3986(v)}") for k, v in
             sorted(params.items(), key=lambda kv: kv[0].encode())]
    base_string = f"{method.upper()}&{_rfc3986(base_uri)}&{'%26'.join(pairs)}"
    algorithm = hashlib.sha256 if signature_method == "HMAC-SHA256" else hashlib.sha1
    digest = hmac.new(f"{secret}&".encode(), base_string.encode(), algorithm).digest()
    return base64.b64encode(digest).decode()


# -- helpers --------------------------------------------------------------------------------


class _Invalid(Exception):
    def __init__(self, param: str, reason: str) -> None:
        self.param, self.reason = param, reason

    def response(self) -> Response:
        return JSONResponse({"code": "rest_invalid_param",
                             "message": f"Invalid parameter(s): {self.param}",
                             "data": {"status": 400, "params": {self.param: self.reason}}},
                            status_code=400)


def _wp_error(status: int, code: str, message: str, *,
              headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"code": code, "message": message, "data": {"status": status}},
                        status_code=status, headers=headers)


def _basic(header: str) -> tuple[str | None, str | None]:
    if not header.lower().startswith("basic "):
        return None, None
    try:
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
    except ValueError:
        return None, None
    return user or None, password or None


def _bool(value: str) -> bool:
    if value.lower() in ("1", "true"):
        return True
    if value.lower() in ("0", "false", ""):
        return False
    raise _Invalid("dates_are_gmt", "dates_are_gmt is not of type boolean.")


def _date(params: dict[str, str], name: str) -> str | None:
    value = params.get(name)
    if value is None:
        return None
    if not _WP_DATE.match(value):
        raise _Invalid(name, "Invalid date.")
    if re.search(r"(Z|[+-]\d{2}(:?\d{2})?)$", value[10:]):
        # WordPress accepts it but reads it inconsistently; the fake refuses to guess.
        raise _Invalid(name, "fake WooCommerce: send dates without an offset.")
    return value.replace(" ", "T").split(".")[0]


def _choice(params: dict[str, str], name: str, default: str, allowed: tuple[str, ...]) -> str:
    value = params.get(name, default)
    if value not in allowed:
        raise _Invalid(name, f"{name} is not one of {', '.join(allowed)}.")
    return value


def _int(params: dict[str, str], name: str, default: int, low: int, high: int | None) -> int:
    try:
        value = int(params.get(name, default))
    except ValueError:
        raise _Invalid(name, f"{name} is not of type integer.") from None
    if value < low or (high is not None and value > high):
        bounds = f"between {low} (inclusive) and {high} (inclusive)" if high else f">= {low}"
        raise _Invalid(name, f"{name} must be {bounds}")
    return value


def self_signed_cert(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 made with the openssl command (tests skip without it)."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    if not cert.exists():
        openssl = shutil.which("openssl")
        if openssl is None:
            raise FileNotFoundError("openssl")
        subprocess.run([openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
                        "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                        "-keyout", str(key), "-out", str(cert)],
                       check=True, capture_output=True)
    return cert, key
