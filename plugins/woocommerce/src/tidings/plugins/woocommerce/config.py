"""The WooCommerce store options (``[stores.<id>.options]``)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

__all__ = ["WooOptions"]


class WooOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(
        default=None, pattern=r"^https?://",
        description="The shop's address, e.g. https://shop.example (needed for polling and "
        "'tidings woocommerce check').")
    webhook_secret: SecretStr | None = Field(
        default=None, description="The secret pasted into WooCommerce → Settings → Advanced → "
        "Webhooks; without it webhooks are refused.")
    consumer_key: SecretStr | None = None
    consumer_secret: SecretStr | None = None
    poll_interval: float = Field(
        default=0, ge=0, description="Seconds between REST polls; 0 = webhooks only.")
    poll_overlap: float = Field(
        default=300, ge=0, description="Seconds each poll looks back before the last cursor, "
        "for orders whose modification was saved late.")

    @model_validator(mode="after")
    def _consistent(self) -> WooOptions:
        if (self.consumer_key is None) != (self.consumer_secret is None):
            raise ValueError("consumer_key and consumer_secret must be given together")
        if self.poll_interval and (self.consumer_key is None or self.url is None):
            raise ValueError("polling (poll_interval > 0) needs url, consumer_key and "
                             "consumer_secret")
        if self.webhook_secret is None and not self.poll_interval:
            raise ValueError("set webhook_secret (webhooks), or poll_interval with REST keys "
                             "(polling), or both")
        return self
