"""Tidings: a self-hosted transactional-email hub for online shops."""

from tidings.core.hookspecs import hookimpl

__all__ = ["hookimpl"]
