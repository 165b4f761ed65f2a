"""A fake PrestaShop 8 webservice on loopback, speaking the real query syntax and JSON.

It behaves as ``WebserviceRequest`` / ``WebserviceOutputJSON`` do where a
client could get it wrong:

* the key is the HTTP Basic user (empty password); unknown key → 401 with
  ``WWW-Authenticate``; a resource the key may not GET → 401; webservice off → 503;
* ``filter[f]=[a,b]`` is an inclusive BETWEEN (values sorted), ``[v1|v2]`` an
  OR, ``[v]`` equality, ``>[x]`` / ``<[x]``; a filter or sort on ``date_add`` /
  ``date_upd`` without ``date=1`` is refused (400), as PrestaShop removes those
  fields from the allowed filters;
* ``sort=[field_ASC,field2_DESC]``, ``limit=n`` or ``offset,n``;
  ``display=full`` or ``[f1,f2]``; no ``display`` lists ids only;
* JSON only with ``output_format=JSON`` (else XML for ``/api/``, 400 elsewhere,
  so a client that forgets it is caught); an empty list is ``[]``; every
  scalar is a string; customers carry a ``passwd`` hash, as the real one does.

Tests script failures with :meth:`FakePrestaShop.fail` and move the shop's
clock (shop-local time, no zone) with :meth:`FakePrestaShop.tick`.
"""

from __future__ import annotations

import base64
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.asgi_server import ThreadedServer

KEY = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
SINGULAR = {"orders": "order", "order_histories": "order_history", "customers": "customer",
            "order_states": "order_state", "languages": "language", "currencies": "currency",
            "addresses": "address", "order_slips": "order_slip",
            "order_carriers": "order_carrier"}
DATE_FIELDS = ("date_add", "date_upd")
_INTERVAL = re.compile(r"^[\d.:\-\s]+,[\d.:\-\s]+$")  # getSQLRetrieveFilter's pattern
# Default PrestaShop states, with ids shifted so that a client hard-coding ids fails.
STATES = {
    101: ("Awaiting bank wire payment", "bankwire", 0, 0, 0),
    102: ("Payment accepted", "payment", 1, 0, 0),
    103: ("Processing in progress", "preparation", 1, 0, 0),
    104: ("Shipped", "shipped", 1, 1, 0),
    105: ("Delivered", "", 1, 1, 1),
    106: ("Canceled", "order_canceled", 0, 0, 0),
    107: ("Refunded", "refund", 1, 0, 0),
    108: ("Payment error", "payment_error", 0, 0, 0),
}
AWAITING, PAID, PROCESSING, SHIPPED, DELIVERED, CANCELED, REFUNDED, ERROR = STATES


@dataclass(frozen=True)
class Seen:
    path: str
    params: dict[str, str]


@dataclass
class _Failure:
    path: str
    status: int
    times: int
    offset: int | None


@dataclass
class FakePrestaShop:
    keys: dict[str, set[str]] = field(default_factory=dict)  # key → readable resources
    enabled: bool = True
    now: datetime = field(default_factory=lambda: datetime(2024, 5, 1, 10, 0, 0))
    data: dict[str, dict[int, dict[str, Any]]] = field(
        default_factory=lambda: {name: {} for name in SINGULAR})
    seen: list[Seen] = field(default_factory=list)
    failures: list[_Failure] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.keys.setdefault(KEY, set(SINGULAR))
        for sid, (name, template, paid, shipped, delivery) in STATES.items():
            self.put("order_states", sid, name=[{"id": "1", "value": name}],
                     template=template, paid=paid, shipped=shipped, delivery=delivery,
                     send_email=1, invoice=paid, logable=paid, color="#000000")
        self.put("languages", 1, name="English (English)", iso_code="en", locale="en-US",
                 language_code="en-us", active=1)
        self.put("languages", 2, name="Français (French)", iso_code="fr", locale="fr-FR",
                 language_code="fr-fr", active=1)
        self.put("currencies", 1, name="Euro", iso_code="EUR", conversion_rate="1.000000")
        self.put("currencies", 2, name="US Dollar", iso_code="USD", conversion_rate="1.080000")

    # -- the shop, as tests drive it ------------------------------------------------------

    def __enter__(self) -> FakePrestaShop:
        self._server = ThreadedServer(self.app())
        self.url = self._server.__enter__().url
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.__exit__(*exc)

    def stamp(self) -> str:
        return self.now.strftime("%Y-%m-%d %H:%M:%S")

    def tick(self, seconds: float = 1) -> str:
        self.now += timedelta(seconds=seconds)
        return self.stamp()

    def put(self, resource: str, row_id: int, **fields: Any) -> dict[str, Any]:
        with self.lock:
            row = self.data[resource].setdefault(row_id, {"id": row_id})
            row.update(fields)
            return row

    def add_customer(self, cid: int, email: str, *, lang: int = 1, guest: bool = False,
                     first: str = "Jane", last: str = "Doe") -> None:
        self.put("customers", cid, email=email, firstname=first, lastname=last, id_lang=lang,
                 is_guest=int(guest), passwd="$2y$10$SECRETHASHSECRETHASHSECRETHASH",
                 secure_key="0123456789abcdef", active=1, date_add=self.stamp(),
                 date_upd=self.stamp())

    def add_order(self, oid: int, customer: int, *, state: int, currency: int = 1,
                  lang: int = 1, total: str = "49.90", date: str | None = None) -> None:
        """An order with one row and an address; its first status change is recorded too."""
        stamp = date or self.stamp()
        self.put("addresses", 1000 + oid, id_customer=customer, firstname="Jane",
                 lastname="Doe", address1="16, Main street", address2="", city="Paris",
                 postcode="75002", id_country=8, phone="0102030405", alias="Mon adresse",
                 date_add=stamp, date_upd=stamp)
        amount = Decimal(total)
        self.put("orders", oid, reference=f"REF{oid:06d}", id_customer=customer,
                 id_currency=currency, id_lang=lang, id_address_delivery=1000 + oid,
                 id_address_invoice=1000 + oid, id_carrier=2, current_state=state,
                 module="ps_wirepayment", payment="Bank wire", valid=0, shipping_number="",
                 total_paid=f"{amount:.6f}", total_paid_tax_incl=f"{amount:.6f}",
                 total_paid_tax_excl=f"{amount / Decimal('1.2'):.6f}",
                 total_paid_real="0.000000", total_products=f"{amount - 7:.6f}",
                 total_products_wt=f"{amount - 7:.6f}", total_shipping="7.000000",
                 total_shipping_tax_incl="7.000000", total_shipping_tax_excl="5.833333",
                 total_discounts="0.000000", total_discounts_tax_incl="0.000000",
                 conversion_rate="1.000000", date_add=stamp, date_upd=stamp,
                 associations={"order_rows": [{
                     "id": str(oid * 10), "product_id": "1", "product_attribute_id": "0",
                     "product_quantity": "2", "product_name": "Hummingbird T-shirt - Size : M",
                     "product_reference": "demo_1", "product_price": f"{(amount - 7) / 2:.6f}",
                     "unit_price_tax_incl": f"{(amount - 7) / 2:.6f}",
                     "unit_price_tax_excl": f"{(amount - 7) / 2 / Decimal('1.2'):.6f}"}]})
        self.change(oid, state, date=stamp)

    def change(self, oid: int, state: int, *, date: str | None = None) -> int:
        """A status change, as OrderHistory::add writes it; returns the history id."""
        stamp = date or self.stamp()
        with self.lock:
            hid = max(self.data["order_histories"], default=0) + 1
        self.put("order_histories", hid, id_order=oid, id_order_state=state, id_employee=0,
                 date_add=stamp)
        self.put("orders", oid, current_state=state, date_upd=stamp)
        return hid

    def add_slip(self, sid: int, oid: int, products: str, shipping: str = "0") -> None:
        order = self.data["orders"][oid]
        self.put("order_slips", sid, id_customer=order["id_customer"], id_order=oid,
                 conversion_rate="1.000000", total_products_tax_incl=products,
                 total_products_tax_excl=products, total_shipping_tax_incl=shipping,
                 total_shipping_tax_excl=shipping, amount=products, shipping_cost=0,
                 shipping_cost_amount=shipping, partial=1, order_slip_type=0,
                 date_add=self.stamp(), date_upd=self.stamp())

    def fail(self, path: str, *, status: int = 500, times: int = 1,
             offset: int | None = None) -> None:
        """Answer the next ``times`` GETs of ``path`` (at page ``offset``) with an error."""
        self.failures.append(_Failure(path, status, times, offset))

    def requests(self, path: str) -> list[Seen]:
        return [s for s in self.seen if s.path == path]

    # -- the webservice -------------------------------------------------------------------

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/api/", self._root), Route("/api/{resource}", self._list),
                                 Route("/api/{resource}/{row_id:int}", self._one)])

    def _gate(self, request: Request, resource: str | None) -> Response | None:
        self.seen.append(Seen(request.url.path, dict(request.query_params)))
        if not self.enabled:
            return _error(503, 22, "The PrestaShop webservice is disabled. Please activate it "
                          "in the PrestaShop Back Office")
        auth = request.headers.get("Authorization", "")
        key = ""
        if auth.startswith("Basic "):
            user, _, password = base64.b64decode(auth[6:]).decode().partition(":")
            key = user if password == "" else ""
        if key not in self.keys:
            response = _error(401, 18, "Invalid authentication key")
            response.headers["WWW-Authenticate"] = (
                'Basic realm="Welcome to PrestaShop Webservice, please enter the '
                'authentication key as the login. No password required."')
            return response
        if resource is not None and resource not in self.keys[key]:
            return _error(401, 26, f'Resource of type "{resource}" is not allowed with this '
                          "authentication key")
        offset = (request.query_params.get("limit") or "0,").split(",")[0]
        for failure in self.failures:
            if failure.path == request.url.path and failure.times > 0 and (
                    failure.offset is None or str(failure.offset) == offset):
                failure.times -= 1
                return _error(failure.status, 0, "Internal error")
        if resource is not None and request.query_params.get("output_format") != "JSON":
            return _error(400, 0, "this fake only speaks JSON; send output_format=JSON")
        return None

    async def _root(self, request: Request) -> Response:
        refused = self._gate(request, None)
        if refused is not None:
            return refused
        allowed = self.keys[_key(request)]
        nodes = "".join(
            f'<{name} xlink:href="{self.url}/api/{name}" get="{str(name in allowed).lower()}" '
            'put="false" post="false" patch="false" delete="false" '
            f'head="{str(name in allowed).lower()}"><description xlink:href="{self.url}'
            f'/api/{name}">{name}</description></{name}>'
            for name in sorted(SINGULAR))
        body = ('<?xml version="1.0" encoding="UTF-8"?>\n<prestashop xmlns:xlink='
                f'"http://www.w3.org/1999/xlink"><api shopName="Fake">{nodes}</api></prestashop>')
        return Response(body, media_type="text/xml")

    async def _one(self, request: Request) -> Response:
        resource = request.path_params["resource"]
        refused = self._gate(request, resource)
        if refused is not None:
            return refused
        row = self.data.get(resource, {}).get(request.path_params["row_id"])
        if row is None:
            return _error(404, 0, f"Id(s) not exists: {request.path_params['row_id']}")
        return JSONResponse({SINGULAR[resource]: _strings(row)})

    async def _list(self, request: Request) -> Response:
        resource = request.path_params["resource"]
        if resource not in SINGULAR:
            self.seen.append(Seen(request.url.path, dict(request.query_params)))
            return _error(400, 0, f'Resource of type "{resource}" does not exists')
        refused = self._gate(request, resource)
        if refused is not None:
            return refused
        query = request.query_params
        dates = query.get("date") == "1"
        with self.lock:
            rows = [dict(r) for r in self.data[resource].values()]
        for name, value in query.items():
            match = re.fullmatch(r"filter\[(\w+)\]", name)
            if not match:
                continue
            column = match.group(1)
            if column in DATE_FIELDS and not dates:
                return _error(400, 32, f'This filter does not exist. Did you mean: "{column}"?'
                              " (date fields need date=1)")
            try:
                rows = [r for r in rows if _matches(r.get(column), value)]
            except ValueError as exc:
                return _error(400, 33, str(exc))
        for part in reversed((query.get("sort") or "[id_ASC]").strip("[]").split(",")):
            column, _, direction = part.rpartition("_")
            if column in DATE_FIELDS and not dates:
                return _error(400, 32, "sort on a date field needs date=1")
            rows.sort(key=_by(column), reverse=direction == "DESC")
        limit = query.get("limit")
        if limit:
            start, _, count = limit.rpartition(",")
            rows = rows[int(start or 0):int(start or 0) + int(count)]
        display = query.get("display")
        if display is None:
            rows = [{"id": r["id"]} for r in rows]
        elif display != "full":
            fields = display.strip("[]").split(",")
            rows = [{f: r[f] for f in fields if f in r} for r in rows]
        if not rows:
            return JSONResponse([])
        return JSONResponse({resource: [_strings(r) for r in rows]})


def _key(request: Request) -> str:
    return base64.b64decode(request.headers["Authorization"][6:]).decode().partition(":")[0]


def _by(column: str) -> Callable[[dict[str, Any]], tuple[int, Decimal | str]]:
    return lambda row: _order_key(row.get(column))


def _order_key(value: Any) -> tuple[int, Decimal | str]:
    try:
        return 0, Decimal(str(value))
    except ArithmeticError:
        return 1, str(value)


def _matches(value: Any, spec: str) -> bool:
    text = "" if value is None else str(value)
    if spec.startswith(">[") and spec.endswith("]"):
        return _order_key(text) > _order_key(spec[2:-1])
    if spec.startswith("<[") and spec.endswith("]"):
        return _order_key(text) < _order_key(spec[2:-1])
    if not (spec.startswith("[") and spec.endswith("]")):
        raise ValueError(f"unsupported filter {spec!r}")
    inner = spec[1:-1]
    if "," in inner:
        if not _INTERVAL.match(inner):
            raise ValueError(f"bad interval {spec!r}")
        low, high = sorted((v.strip() for v in inner.split(",")), key=_order_key)
        return _order_key(low) <= _order_key(text) <= _order_key(high)
    return text in inner.split("|")


def _strings(value: Any) -> Any:
    """WebserviceOutputJSON: every scalar a string, nested lists and objects kept."""
    if isinstance(value, dict):
        return {k: _strings(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_strings(v) for v in value]
    return "" if value is None else str(value)


def _error(status: int, code: int, message: str) -> JSONResponse:
    return JSONResponse({"errors": [{"code": code, "message": message}]}, status_code=status)
