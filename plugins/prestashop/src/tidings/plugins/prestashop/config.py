"""The PrestaShop store options (``[stores.<id>.options]``)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

__all__ = ["PrestaShopOptions"]


class PrestaShopOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(pattern=r"^https?://", description="The shop's address, e.g. "
                     "https://shop.example (the webservice is at <url>/api/).")
    api_key: SecretStr = Field(description="The webservice key (Advanced Parameters → "
                               "Webservice), 32 characters.")
    poll_interval: float = Field(default=60, ge=0, description="Seconds between polls of the "
                                 "webservice; 0 = do not poll (check only).")
    poll_overlap: float = Field(default=300, ge=0, description="Seconds each poll looks back "
                                "before the newest status change seen, for changes saved late.")

    @field_validator("api_key")
    @classmethod
    def _key_shape(cls, value: SecretStr) -> SecretStr:
        key = value.get_secret_value()
        if len(key) != 32 or not key.isalnum():
            raise ValueError("a PrestaShop webservice key is exactly 32 letters and digits; "
                             "copy it from Advanced Parameters → Webservice")
        return value
