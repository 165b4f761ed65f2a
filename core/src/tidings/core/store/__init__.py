"""Storage: the seam (:mod:`.base`) and its embedded SQLite implementation."""

from tidings.core.store.base import Store
from tidings.core.store.sqlite import SqliteStore

__all__ = ["SqliteStore", "Store"]
