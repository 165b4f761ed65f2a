"""Delivery transports: a small base and one module per kind."""
