"""The ``api`` platform: a store fed only through ``POST /api/v1/events``."""

from __future__ import annotations

from collections.abc import Callable

from pydantic import BaseModel, ConfigDict

from tidings.core.hookspecs import hookimpl
from tidings.core.platform import Platform


class ApiOptions(BaseModel):
    """An API store has no options of its own; any key here is a mistake."""

    model_config = ConfigDict(extra="forbid")


@hookimpl
def register_platforms(register: Callable[[Platform], None]) -> None:
    register(Platform(name="api", title="HTTP API", options=ApiOptions))
