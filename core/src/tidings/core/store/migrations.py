"""Versioned schema migrations for the SQLite store (``PRAGMA user_version``).

Each migration is applied once, in order, inside one transaction with the
version bump, so a crash mid-migration leaves the previous schema intact.
Never edit a released migration; append a new one.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

import sqlite_utils

__all__ = ["MIGRATIONS", "migrate"]


def _v1_initial(db: sqlite_utils.Database) -> None:
    db["events"].create(  # type: ignore[union-attr]
        {"id": int, "store_id": str, "type": str, "idempotency_key": str, "source": str,
         "recipient": str, "data": str, "received_at": float},
        pk="id", not_null={"store_id", "type", "idempotency_key", "source", "data"},
    )
    db["events"].create_index(["store_id", "idempotency_key"], unique=True)  # type: ignore[union-attr]
    db["messages"].create(  # type: ignore[union-attr]
        {"id": int, "event_id": int, "store_id": str, "event_type": str, "template": str,
         "audience": str, "recipient_email": str, "recipient_name": str, "locale": str,
         "state": str, "run_at": float, "attempts": int, "lease_owner": str,
         "lease_until": float, "created_at": float, "updated_at": float, "subject": str,
         "transport": str, "message_header_id": str, "provider_id": str, "last_error": str},
        pk="id", foreign_keys=[("event_id", "events", "id")],
        not_null={"event_id", "store_id", "template", "state", "run_at", "attempts"},
        defaults={"attempts": 0},
    )
    db.execute("CREATE INDEX messages_due ON messages(run_at, id) "
               "WHERE state IN ('queued', 'deferred')")
    db.execute("CREATE INDEX messages_leased ON messages(lease_until) WHERE state = 'sending'")
    db.execute("CREATE INDEX messages_store ON messages(store_id, id)")
    db.execute("CREATE INDEX messages_recipient ON messages(recipient_email, id)")
    db.execute("CREATE INDEX messages_event ON messages(event_id)")
    db["attempts"].create(  # type: ignore[union-attr]
        {"id": int, "message_id": int, "number": int, "transport": str, "started_at": float,
         "finished_at": float, "outcome": str, "code": int, "reply": str, "detail": str},
        pk="id", foreign_keys=[("message_id", "messages", "id")],
    )
    db["attempts"].create_index(["message_id", "id"])  # type: ignore[union-attr]
    db["plugin_state"].create(  # type: ignore[union-attr]
        {"namespace": str, "key": str, "value": str, "updated_at": float},
        pk=("namespace", "key"),
    )


MIGRATIONS: list[Callable[[sqlite_utils.Database], None]] = [_v1_initial]


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the schema to the newest version; return that version."""
    db = sqlite_utils.Database(conn)
    current = conn.execute("PRAGMA user_version").fetchone()[0]
    if current > len(MIGRATIONS):
        raise RuntimeError(
            f"the database is at schema version {current}, newer than this Tidings "
            f"({len(MIGRATIONS)}); upgrade Tidings")
    for version, step in enumerate(MIGRATIONS[current:], start=current + 1):
        conn.execute("BEGIN IMMEDIATE")
        try:
            step(db)
            conn.execute(f"PRAGMA user_version = {version}")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    return len(MIGRATIONS)
