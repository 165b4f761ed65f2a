"""Per-transport rate limits and circuit breaker: whether a transport may be used now.

One place decides both, so the worker's failover loop only asks ``admit``.
Rate limits are a token bucket per second (burst = one second's worth) and a
rolling count per UTC day; a transport that keeps failing transiently is
skipped for a cool-down that doubles while it stays broken, then probed
again with one message (half-open). This state lives in memory, per delivery
process, each with its share of the limits (:meth:`GateOptions.share`); the
PostgreSQL scale-out moves it into a shared row (research/scale.md, GCRA).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from pydantic import BaseModel, Field

__all__ = ["Gate", "GateOptions", "Refusal"]


class GateOptions(BaseModel):
    """Settings every transport takes, whatever its kind."""

    rate_per_second: float | None = Field(default=None, gt=0)
    rate_per_day: int | None = Field(default=None, gt=0)
    failure_threshold: int = Field(
        default=5, ge=1, description="Consecutive transient failures that open the circuit.")
    cooldown: float = Field(default=30.0, gt=0, description="Seconds before the first probe.")

    def share(self, processes: int) -> GateOptions:
        """One delivery process's part of the limits, when ``processes`` share a transport."""
        if processes == 1:
            return self
        day = None if self.rate_per_day is None else max(1, self.rate_per_day // processes)
        second = None if self.rate_per_second is None else self.rate_per_second / processes
        return self.model_copy(update={"rate_per_day": day, "rate_per_second": second})


@dataclass(frozen=True)
class Refusal:
    reason: str
    retry_after: float  # seconds until the transport may be tried again
    brief: bool = False  # a per-second pause, short enough to wait out in place


@dataclass
class Gate:
    options: GateOptions
    clock: object = field(default=time.monotonic, repr=False)
    _tokens: float = 0.0
    _refilled: float = 0.0
    _day: int = -1
    _sent_today: int = 0
    _failures: int = 0
    _open_until: float = 0.0
    _cooldown: float = 0.0
    _probing: bool = False
    _paused_until: float = 0.0

    def __post_init__(self) -> None:
        self._tokens = self.options.rate_per_second or 0.0
        self._refilled = self._now()

    def _now(self) -> float:
        return self.clock()  # type: ignore[operator,no-any-return]

    def admit(self) -> Refusal | None:
        """Take one send slot, or say why not and for how long."""
        now = self._now()
        if now < self._paused_until:
            return Refusal("the provider asked to wait", self._paused_until - now)
        if self._failures >= self.options.failure_threshold:
            if now < self._open_until or self._probing:
                return Refusal(f"circuit open after {self._failures} failures in a row",
                               max(self._open_until - now, 1.0))
            self._probing = True  # half-open: this message is the probe
        day = int(time.time() // 86400)
        if day != self._day:
            self._day, self._sent_today = day, 0
        per_day = self.options.rate_per_day
        if per_day is not None and self._sent_today >= per_day:
            self._probing = False
            return Refusal(f"daily limit of {per_day} reached", 86400 - time.time() % 86400)
        per_second = self.options.rate_per_second
        if per_second is not None:
            self._tokens = min(per_second, self._tokens + (now - self._refilled) * per_second)
            self._refilled = now
            if self._tokens < 1:
                self._probing = False
                return Refusal(f"rate limit of {per_second:g}/s",
                               (1 - self._tokens) / per_second, brief=True)
            self._tokens -= 1
        self._sent_today += 1
        return None

    def succeeded(self) -> None:
        self._failures, self._cooldown, self._probing = 0, 0.0, False

    def failed(self, retry_after: float | None = None) -> None:
        """A transient failure; permanent refusals say nothing about the transport's health.

        ``retry_after`` is the pause the provider announced (HTTP 429); it is honoured
        for every message, not just the one that was refused.
        """
        if retry_after:
            self._paused_until = max(self._paused_until, self._now() + min(retry_after, 3600))
        self._failures += 1
        self._probing = False
        if self._failures >= self.options.failure_threshold:
            self._cooldown = min(self._cooldown * 2 or self.options.cooldown, 600.0)
            self._open_until = self._now() + self._cooldown
