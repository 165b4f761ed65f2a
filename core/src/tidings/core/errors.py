"""One exception tree for the whole hub.

Third-party exceptions (aiosmtplib, httpx, jinja2, mjml, sqlite3) are mapped
into it at one place each, so callers handle only these::

    TidingsError                  every error the hub raises on purpose
    ├── ConfigError               the config file or environment is invalid (carries all problems)
    ├── PluginError               a plugin broke a rule of the hook contract
    ├── EventRejected             an inbound event is invalid; ``key`` is a stable error key
    ├── TemplateError             a template could not be compiled or rendered
    └── DeliveryError             a transport could not hand a message over
        ├── TransientDeliveryError    try again later (4xx, timeouts, connection loss)
        └── PermanentDeliveryError    will never succeed as is (5xx, refused recipient)

Every error carries its context (store, message id, server reply) in
attributes, and its ``str`` is the sentence shown to the shop owner.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "ConfigError",
    "ConfigProblem",
    "DeliveryError",
    "EventRejected",
    "PermanentDeliveryError",
    "PluginError",
    "TemplateError",
    "TidingsError",
    "TransientDeliveryError",
]


class TidingsError(Exception):
    """Base of every error the hub raises on purpose."""


@dataclass(frozen=True)
class ConfigProblem:
    """One problem in the configuration: where, and why in plain words."""

    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


class ConfigError(TidingsError):
    """The configuration is invalid; ``problems`` lists every problem found."""

    def __init__(self, problems: Sequence[ConfigProblem], source: str = "config") -> None:
        self.problems = list(problems)
        self.source = source
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"{source} has {len(self.problems)} problem(s):\n{lines}")


class PluginError(TidingsError):
    """A plugin broke the hook contract (unknown hook, async first-result hook, duplicate name)."""


class EventRejected(TidingsError):
    """An inbound event cannot be accepted. ``key`` is stable; ``detail`` is for people."""

    def __init__(self, key: str, detail: str, *, status: int = 422) -> None:
        self.key = key
        self.detail = detail
        self.status = status
        super().__init__(f"{key}: {detail}")


class TemplateError(TidingsError):
    """A template failed to compile or render; the mail is never sent half-made."""

    def __init__(self, template: str, reason: str) -> None:
        self.template = template
        self.reason = reason
        super().__init__(f"template {template!r}: {reason}")


class DeliveryError(TidingsError):
    """A transport could not hand the message over. ``reply`` is the server's own words."""

    def __init__(self, reason: str, *, code: int | None = None, reply: str | None = None) -> None:
        self.reason = reason
        self.code = code
        self.reply = reply
        super().__init__(reason if reply is None else f"{reason}: {reply}")


class TransientDeliveryError(DeliveryError):
    """Worth retrying later: temporary refusals, timeouts, lost connections.

    ``retry_after`` is the pause the other side asked for (e.g. HTTP 429's
    ``Retry-After``), in seconds, when it said one.
    """

    def __init__(self, reason: str, *, code: int | None = None, reply: str | None = None,
                 retry_after: float | None = None) -> None:
        super().__init__(reason, code=code, reply=reply)
        self.retry_after = retry_after


class PermanentDeliveryError(DeliveryError):
    """Retrying will not help: the server refused for good."""
