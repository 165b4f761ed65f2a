"""Platforms the core itself provides (``api``, ``demo``), registered like any plugin."""
