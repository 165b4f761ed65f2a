"""The ``demo`` platform: a pretend shop that, at start-up, sends one sample of every event.

It exists so that ``make run`` shows a newcomer a real mail of every type in
the test inbox within seconds, through the very path a real shop's events take.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from tidings.core.events import CATALOGUE, Audience, Recipient
from tidings.core.hookspecs import hookimpl
from tidings.core.platform import Platform
from tidings.core.samples import sample

if TYPE_CHECKING:
    from tidings.core.hub import Hub


class DemoOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    seed: bool = Field(default=True, description="Send the samples at every start.")
    extra_locales: list[str] = Field(
        default_factory=lambda: ["es", "fr", "de"],
        description="Also send the shipping mail in these languages, to show translation.")


@hookimpl
def register_platforms(register: Callable[[Platform], None]) -> None:
    register(Platform(name="demo", title="Demo shop (sample events)", options=DemoOptions))


@hookimpl
async def startup(hub: Hub) -> None:
    boot = uuid.uuid4().hex[:8]
    for store_id, store in hub.settings.stores.items():
        if store.platform != "demo":
            continue
        options = DemoOptions.model_validate(store.options)
        if not options.seed:
            continue
        for event_type, spec in CATALOGUE.items():
            recipient, data = sample(event_type)
            if spec.audience is Audience.ADMIN and store.admin_email is not None:
                recipient = Recipient(email=store.admin_email.email, name=store.admin_email.name)
            await hub.accept(store_id, event_type, recipient, data,
                             idempotency_key=f"demo:{boot}:{event_type}", source="demo")
        for locale in options.extra_locales:
            recipient, data = sample("order.shipped")
            recipient = recipient.model_copy(update={"locale": locale})
            await hub.accept(store_id, "order.shipped", recipient, data,
                             idempotency_key=f"demo:{boot}:order.shipped:{locale}", source="demo")
