"""The event catalogue and the normalized models every platform maps into.

Platforms differ in everything; the core knows only these shapes. A platform
plugin's job ends when it has produced an :class:`EventData` for one of the
:data:`CATALOGUE` types, so templates, the API and the log never see a
platform's own field names.

Amounts are :class:`~decimal.Decimal` (decimal strings on the wire) because
binary floats cannot represent prices exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    ValidationInfo,
    WithJsonSchema,
)
from pydantic.networks import validate_email

__all__ = [
    "CATALOGUE",
    "Address",
    "Audience",
    "EventData",
    "EventType",
    "LineItem",
    "Order",
    "Recipient",
    "Refund",
    "Tracking",
    "event_type",
]

ShortText = Annotated[str, StringConstraints(max_length=1000)]


def _email(value: str, info: ValidationInfo) -> str:
    # Data read back from our own store was checked when it was accepted; checking
    # an address costs ~35 µs, as much as the rest of an order's validation.
    if info.context is not None and info.context.get("stored"):
        return value
    return validate_email(value)[1]


#: ``EmailStr``, except in data validated with ``context=STORED``.
Email = Annotated[str, AfterValidator(_email),
                  WithJsonSchema({"type": "string", "format": "email"})]
#: Validation context for data the store wrote after validating it.
STORED = {"stored": True}
Money = Annotated[Decimal, Field(max_digits=20, decimal_places=6)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Address(_Model):
    name: ShortText | None = None
    company: ShortText | None = None
    line1: ShortText | None = None
    line2: ShortText | None = None
    city: ShortText | None = None
    postcode: ShortText | None = None
    state: ShortText | None = None
    country: Annotated[str, StringConstraints(min_length=2, max_length=2)] | None = None
    phone: ShortText | None = None
    email: Email | None = None


class LineItem(_Model):
    name: ShortText
    sku: ShortText | None = None
    quantity: Annotated[int, Field(ge=0)] = 1
    price: Money = Field(description="Unit price, as a decimal string.")
    total: Money | None = Field(
        default=None, description="Line total; defaults to price × quantity."
    )
    image_url: ShortText | None = None
    variant: ShortText | None = Field(default=None, description="e.g. 'Size: M, Colour: blue'.")

    @property
    def line_total(self) -> Decimal:
        return self.total if self.total is not None else self.price * self.quantity


class Tracking(_Model):
    carrier: ShortText | None = None
    number: ShortText | None = None
    url: ShortText | None = None


class Refund(_Model):
    amount: Money
    reason: ShortText | None = None
    partial: bool = Field(default=False,
                          description="True when only part of the order was refunded.")


class Order(_Model):
    number: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    created_at: datetime | None = None
    currency: Annotated[str, StringConstraints(min_length=3, max_length=3, to_upper=True)]
    items: list[LineItem] = Field(default_factory=list, max_length=1000)
    subtotal: Money | None = None
    discount_total: Money = Decimal(0)
    shipping_total: Money = Decimal(0)
    tax_total: Money = Decimal(0)
    total: Money
    billing_address: Address | None = None
    shipping_address: Address | None = None
    payment_method: ShortText | None = None
    shipping_method: ShortText | None = None
    customer_note: ShortText | None = None
    tracking: Tracking | None = None
    url: ShortText | None = Field(default=None, description="Where the customer views the order.")
    pay_url: ShortText | None = Field(default=None, description="Where an unpaid order is paid.")

    @property
    def items_subtotal(self) -> Decimal:
        """The subtotal as sent, else the sum of the line totals."""
        if self.subtotal is not None:
            return self.subtotal
        return sum((item.line_total for item in self.items), Decimal(0))


class Recipient(_Model):
    email: EmailStr
    name: ShortText | None = None
    locale: Annotated[str, StringConstraints(max_length=35)] | None = None


class EventData(_Model):
    """What an event carries. Which fields are required depends on the type."""

    order: Order | None = None
    refund: Refund | None = None
    note: Annotated[str, StringConstraints(max_length=10_000)] | None = Field(
        default=None, description="The note the shop wrote to the customer (order.note)."
    )
    reset_url: ShortText | None = Field(default=None, description="Password-reset link.")
    login_url: ShortText | None = Field(default=None, description="Where the customer signs in.")
    set_password_url: ShortText | None = None
    username: ShortText | None = None
    extra: dict[str, Any] = Field(
        default_factory=dict,
        description="Anything else a custom template needs; never read by the core.",
    )


class Audience(StrEnum):
    CUSTOMER = "customer"
    ADMIN = "admin"


@dataclass(frozen=True)
class EventType:
    """One catalogue entry: one event makes exactly one mail, from the template of its name.

    The shop owner's notifications are events of their own (``admin.*``), which
    platform plugins emit beside the customer's, so every event maps to one mail
    and one line in the log.
    """

    name: str
    title: str
    description: str
    requires: tuple[str, ...]
    audience: Audience = Audience.CUSTOMER

    @property
    def template(self) -> str:
        return self.name

    def missing(self, data: EventData) -> list[str]:
        """The required ``data`` fields that are absent, as dotted paths."""
        return [f"data.{field}" for field in self.requires if getattr(data, field) is None]


_ORDER = ("order",)
_OWNER = Audience.ADMIN

CATALOGUE: dict[str, EventType] = {
    e.name: e
    for e in (
        EventType("account.created", "Account created", "A customer account was opened.", ()),
        EventType("account.password_reset", "Password reset",
                  "The customer asked to reset their password.", ("reset_url",)),
        EventType("order.placed", "Order placed", "The order was received (confirmation).",
                  _ORDER),
        EventType("order.paid", "Order paid",
                  "Payment arrived and the order is being processed.", _ORDER),
        EventType("order.on_hold", "Order on hold",
                  "The order waits for payment confirmation.", _ORDER),
        EventType("order.shipped", "Order shipped", "The parcel left, with tracking when known.",
                  _ORDER),
        EventType("order.completed", "Order completed", "The order is fulfilled.", _ORDER),
        EventType("order.cancelled", "Order cancelled", "The order was cancelled.", _ORDER),
        EventType("order.failed", "Order failed", "Payment failed.", _ORDER),
        EventType("order.refunded", "Order refunded",
                  "Money went back, fully or partly (data.refund.partial).", ("order", "refund")),
        EventType("order.invoice", "Invoice / order details",
                  "The order's details, with a pay link when unpaid.", _ORDER),
        EventType("order.note", "Note to customer", "The shop wrote a note on the order.",
                  ("order", "note")),
        EventType("admin.order.new", "New order (shop owner)",
                  "Tells the shop owner about a new order.", _ORDER, _OWNER),
        EventType("admin.order.cancelled", "Cancelled order (shop owner)",
                  "Tells the shop owner an order was cancelled.", _ORDER, _OWNER),
        EventType("admin.order.failed", "Failed order (shop owner)",
                  "Tells the shop owner an order's payment failed.", _ORDER, _OWNER),
    )
}


def event_type(name: str) -> EventType | None:
    return CATALOGUE.get(name)
