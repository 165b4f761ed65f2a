"""The Zapier store options (``[stores.<id>.options]`` of a store with ``platform = "zapier"``)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr

__all__ = ["ZapierOptions"]


class ZapierOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: SecretStr = Field(
        min_length=16, description="The secret a 'Webhooks by Zapier' action sends to "
        "/zapier/catch/<store> (X-Tidings-Token header or ?token=). Make one with "
        "python -c 'import secrets; print(secrets.token_urlsafe(24))'.")
    retry_base: float = Field(
        default=30.0, gt=0, description="Seconds before a failed trigger delivery is retried; "
        "doubled at each further failure.")
    retry_max: float = Field(default=3600.0, gt=0,
                             description="The longest wait between two delivery attempts.")
    max_attempts: int = Field(
        default=10, ge=1, le=100,
        description="Delivery attempts per trigger payload before it is dropped (and logged).")
    timeout: float = Field(default=10.0, gt=0,
                           description="Seconds to wait for Zapier to answer one delivery.")
    samples: int = Field(default=10, ge=1, le=100,
                         description="Recent items kept per trigger for Zapier's sample step.")
