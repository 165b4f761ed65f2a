"""Reading the loosely typed values shop APIs send: amounts, text, zone-less UTC dates.

Shops send amounts as strings or numbers, empty strings for "none", nested
objects where a plain value was expected, and dates without an offset. Every
platform's mapping reads them through these, so they are read one way.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

__all__ = ["amount", "text", "utc"]


def amount(value: Any) -> Decimal:
    """An exact amount; ``None`` and ``""`` mean zero. Raises ``ValueError`` on garbage."""
    try:
        return Decimal(str(value if value not in (None, "") else "0"))
    except InvalidOperation:
        raise ValueError(f"{value!r} is not an amount") from None


def text(value: Any) -> str | None:
    """A stripped string, or None for missing, empty or structured values."""
    if value is None or isinstance(value, list | dict):
        return None
    found = str(value).strip()
    return found or None


def utc(value: Any) -> datetime | None:
    """An ISO date-time without an offset that the platform documents as UTC."""
    if not value:
        return None
    return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)
