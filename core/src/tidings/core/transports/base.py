"""The transport seam: what every way of handing a mail over must provide.

A transport gets an :class:`~tidings.core.mime.OutgoingMail` and either
returns a :class:`Delivered` or raises one of the two delivery errors of
:mod:`tidings.core.errors`; the worker's state machine decides the rest
(retry, failover, give up), so no transport retries on its own.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from tidings.core.config import describe_errors
from tidings.core.errors import ConfigProblem
from tidings.core.mime import OutgoingMail

__all__ = ["Delivered", "Transport", "TransportType"]


@dataclass(frozen=True)
class Delivered:
    """The other side accepted the mail. ``reply`` is its own words (e.g. ``250 2.0.0 Ok``)."""

    reply: str
    provider_id: str | None = None


class Transport(ABC):
    """One configured transport (``[transports.<name>]``)."""

    def __init__(self, name: str) -> None:
        self.name = name

    @abstractmethod
    async def send(self, mail: OutgoingMail) -> Delivered:
        """Hand the mail over, or raise Transient/PermanentDeliveryError."""

    async def check(self) -> str:
        """Prove the credentials work without sending; return what was verified."""
        raise NotImplementedError(f"{type(self).__name__} cannot check its connection yet")

    async def close(self) -> None:  # noqa: B027 - optional for transports without a pool
        """Release pooled connections; called once at shutdown."""


@dataclass(frozen=True)
class TransportType:
    """A kind of transport a plugin provides, e.g. ``smtp``."""

    name: str
    options: type[BaseModel]
    factory: Callable[[str, Any], Transport]

    def validate(self, path: str, raw: Mapping[str, Any]) -> list[ConfigProblem]:
        try:
            self.options.model_validate(raw)
        except ValidationError as exc:
            return describe_errors(exc, prefix=path.split("."))
        return []

    def build(self, name: str, raw: Mapping[str, Any]) -> Transport:
        return self.factory(name, self.options.model_validate(raw))
