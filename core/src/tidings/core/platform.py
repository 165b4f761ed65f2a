"""What a platform plugin declares about itself."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel

__all__ = ["Platform"]


@dataclass(frozen=True)
class Platform:
    """A shop platform: its config name, a human title and the model of its store options."""

    name: str
    title: str
    options: type[BaseModel]
