"""The HTTP API: app factory and routes."""

from tidings.core.api.app import create_app

__all__ = ["create_app"]
