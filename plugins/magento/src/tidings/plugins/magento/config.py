"""The Magento 2 / Adobe Commerce store options (``[stores.<id>.options]``)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

__all__ = ["OAUTH_FIELDS", "MagentoOptions"]

OAUTH_FIELDS = ("consumer_key", "consumer_secret", "access_token", "access_token_secret")


class MagentoOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(pattern=r"^https?://", description="The shop's base address, e.g. "
                     "https://shop.example (REST lives under <url>/rest/<store_code>/V1).")
    store_code: str = Field(default="default", pattern=r"^[a-z0-9_]+$",
                            description="The store view code in REST paths.")
    consumer_key: SecretStr | None = None
    consumer_secret: SecretStr | None = None
    access_token: SecretStr | None = None
    access_token_secret: SecretStr | None = None
    bearer_token: SecretStr | None = Field(
        default=None, description="Instead of OAuth 1.0a signing: an integration access token "
        "used as Bearer (needs enable_integration_as_bearer since 2.4.4) or an admin token.")
    webhook_public_key: str | None = Field(
        default=None, description="The PEM public key of Adobe Commerce Webhooks' signing key "
        "pair; without it webhooks are refused.")
    poll_interval: float = Field(default=0, ge=0,
                                 description="Seconds between REST polls; 0 = no polling.")
    poll_overlap: float = Field(
        default=300, ge=0, description="Seconds each poll looks back before its cursor, for "
        "rows committed late (Magento stamps updated_at before the transaction commits).")
    page_size: int = Field(default=100, ge=1, le=1000)
    locales: dict[str, str] = Field(
        default_factory=dict, description="Magento store_id (store view) → locale, e.g. "
        "{\"1\" = \"en_US\", \"2\" = \"de_DE\"}; unmapped views use the store's locale.")

    @field_validator("locales", mode="before")
    @classmethod
    def _keys_as_text(cls, value: object) -> object:
        """TOML keys are text already; a dict built in Python may use the int ids."""
        if isinstance(value, dict):
            return {str(k): v for k, v in value.items()}
        return value

    @property
    def oauth(self) -> bool:
        return all(getattr(self, name) is not None for name in OAUTH_FIELDS)

    @property
    def can_read(self) -> bool:
        return self.oauth or self.bearer_token is not None

    @model_validator(mode="after")
    def _consistent(self) -> MagentoOptions:
        given = [name for name in OAUTH_FIELDS if getattr(self, name) is not None]
        if given and len(given) != len(OAUTH_FIELDS):
            missing = ", ".join(n for n in OAUTH_FIELDS if n not in given)
            raise ValueError(f"OAuth 1.0a needs all four integration credentials; missing: "
                             f"{missing}")
        if given and self.bearer_token is not None:
            raise ValueError("give either the four OAuth credentials or bearer_token, not both")
        if self.poll_interval and not self.can_read:
            raise ValueError("polling (poll_interval > 0) needs the integration's consumer_key, "
                             "consumer_secret, access_token and access_token_secret (or "
                             "bearer_token)")
        if self.webhook_public_key is None and not self.poll_interval:
            raise ValueError("set poll_interval with API credentials (polling), or "
                             "webhook_public_key (webhooks), or both")
        return self
