"""The embedded store: SQLite in WAL mode with ``synchronous=FULL``.

Writes are committed in groups: the requests that arrive while one
transaction commits run together in the next, each in its own savepoint so
one failing request never undoes another. That keeps full durability (an
fsync per commit) without paying one fsync per request. The statements run on
the event loop, where they need no GIL hand-offs; only the waits (another
process's write lock, the fsync of ``COMMIT``) go to a thread (:class:`_Writer`).
Reads use per-thread connections, which WAL lets run beside the writer.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar, cast

import pydantic_core

from tidings.core.store.base import (
    Accepted,
    Attempt,
    Claimed,
    MessageFilter,
    MessageRecord,
    MessageState,
    NewEvent,
    Outcome,
    StateWrite,
)
from tidings.core.store.migrations import migrate

__all__ = ["SqliteStore"]

T = TypeVar("T")
_MAX_BATCH = 512
_LOCK_WAIT = 10.0  # seconds a write waits for another process's lock before failing
_QUICK_READ_WAIT = 0.02  # seconds a read on the event loop waits before moving to a thread
# What a new message copies from its event and plan (accept, resend).
_PLAN_COLUMNS = ("event_id, store_id, event_type, template, audience, recipient_email, "
                 "recipient_name, locale")
_MESSAGE_COLUMNS = (
    "id, event_id, store_id, event_type, template, audience, recipient_email, recipient_name, "
    "locale, state, attempts, run_at, created_at, updated_at, subject, transport, "
    "message_header_id, provider_id, last_error"
)


def _connect(path: Path, *, readonly: bool = False) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA busy_timeout = 10000")
    if not readonly:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = ON")
    else:
        conn.execute("PRAGMA query_only = ON")
    return conn


def _locked(exc: sqlite3.OperationalError) -> bool:
    """The database is locked by another connection (SQLITE_BUSY or SQLITE_LOCKED, extended
    codes such as SQLITE_BUSY_RECOVERY included): waiting may help."""
    return exc.sqlite_errorcode & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


class _Writer:
    """Group commit, with the statements on the event loop and only the waits in a thread.

    Requests that arrive while a transaction commits wait, and then run
    together in the next one, each in its own savepoint so one that fails
    never undoes another. ``COMMIT`` (the fsync) and waiting for a write lock
    another process holds run in a thread; the statements, and taking a free
    lock, run on the loop: in a thread each statement would hand the GIL to and
    from the busy loop, about five hand-offs per webhook, which was the limit
    of ingest.
    """

    def __init__(self, path: Path) -> None:
        self.conn = _connect(path)
        # Waits for another process's write lock are ours (_begin): SQLite's own handler
        # sleeps 1, 2, 5, 10… ms, far longer than the few hundred µs such a lock is held.
        self.conn.execute("PRAGMA busy_timeout = 0")
        self._waiting: list[tuple[Callable[[sqlite3.Connection], Any], asyncio.Future[Any]]] = []
        self._running: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def submit(self, fn: Callable[[sqlite3.Connection], T]) -> asyncio.Future[T]:
        loop = asyncio.get_running_loop()
        if self._loop is None:
            self._loop = loop
        elif loop is not self._loop:
            raise RuntimeError("a SqliteStore is written from the event loop that opened it")
        fut: asyncio.Future[T] = loop.create_future()
        self._waiting.append((fn, fut))
        if self._running is None:
            self._running = loop.create_task(self._commit_while_waiting(),
                                             name="tidings-sqlite-commit")
        return fut

    async def close(self) -> None:
        if self._running is not None:
            await self._running
        self.conn.close()

    async def _commit_while_waiting(self) -> None:
        try:
            while self._waiting:
                try:
                    await self._lock()
                except Exception as exc:  # locked by another process for too long
                    failed: Exception | None = exc
                else:
                    failed = None
                # Taken once the lock is held: requests that came meanwhile join this batch.
                batch, self._waiting = self._waiting[:_MAX_BATCH], self._waiting[_MAX_BATCH:]
                if failed is not None:
                    results: list[tuple[bool, Any]] = [(False, failed)] * len(batch)
                else:
                    results = [self._run(fn) for fn, _ in batch]
                    try:
                        await asyncio.to_thread(self.conn.execute, "COMMIT")
                    except Exception as exc:  # disk full, I/O error: nothing was kept
                        if self.conn.in_transaction:
                            self.conn.execute("ROLLBACK")
                        results = [(False, exc)] * len(batch)
                for (_, fut), (ok, value) in zip(batch, results, strict=True):
                    if fut.done():
                        continue
                    if ok:
                        fut.set_result(value)
                    else:
                        fut.set_exception(value)
        finally:
            self._running = None

    def _run(self, fn: Callable[[sqlite3.Connection], Any]) -> tuple[bool, Any]:
        conn = self.conn
        conn.execute("SAVEPOINT job")
        try:
            return True, fn(conn)
        except Exception as exc:
            conn.execute("ROLLBACK TO job")
            return False, exc
        finally:
            conn.execute("RELEASE job")

    async def _lock(self) -> None:
        """Take the write lock: at once on the loop when it is free (the usual case, and
        no thread hop), else polling for it in a thread."""
        try:
            self.conn.execute("BEGIN IMMEDIATE")  # busy_timeout is 0: never waits here
        except sqlite3.OperationalError as exc:
            if not _locked(exc):
                raise
            await asyncio.to_thread(self._begin)

    def _begin(self) -> None:
        """Take the write lock, polling briefly while another process holds it."""
        deadline = time.monotonic() + _LOCK_WAIT
        pause = 0.0001
        while True:
            try:
                self.conn.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if not _locked(exc) or time.monotonic() > deadline:
                    raise
            time.sleep(pause)
            pause = min(pause * 2, 0.002)


class SqliteStore:
    """:class:`~tidings.core.store.base.Store` on one SQLite file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._writer: _Writer | None = None
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []

    # -- plumbing ---------------------------------------------------------------------

    async def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = _connect(self.path)
        try:
            await asyncio.to_thread(migrate, conn)
        finally:
            conn.close()
        self._writer = _Writer(self.path)

    async def close(self) -> None:
        if self._writer is not None:
            await self._writer.close()
            self._writer = None
        for conn in self._readers:
            conn.close()
        self._readers.clear()
        self._local = threading.local()

    def _write(self, fn: Callable[[sqlite3.Connection], T]) -> asyncio.Future[T]:
        if self._writer is None:
            raise RuntimeError("the store is not open")
        return self._writer.submit(fn)

    def _reader(self, *, quick: bool = False) -> sqlite3.Connection:
        """This thread's read connection; the ``quick`` one, for reads on the event loop,
        gives up on a lock after ``_QUICK_READ_WAIT``."""
        name = "quick" if quick else "conn"
        conn: sqlite3.Connection | None = getattr(self._local, name, None)
        if conn is None:
            conn = _connect(self.path, readonly=True)
            if quick:
                conn.execute(f"PRAGMA busy_timeout = {int(_QUICK_READ_WAIT * 1000)}")
            setattr(self._local, name, conn)
            self._readers.append(conn)
        return conn

    async def _read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        return await asyncio.to_thread(lambda: fn(self._reader()))

    # -- the way in -------------------------------------------------------------------

    async def accept(self, events: Sequence[NewEvent], states: Sequence[StateWrite] = ()
                     ) -> list[Accepted]:
        # JSON is encoded here, before the transaction, to keep it short.
        values = [(w.namespace, w.key, _state_json(w.value)) for w in states]

        def run(conn: sqlite3.Connection) -> list[Accepted]:
            now = time.time()
            accepted = [_insert_event(conn, e, now) for e in events]
            _upsert_states(conn, values, now)
            return accepted

        return await self._write(run)

    # -- the way out ------------------------------------------------------------------

    async def claim(self, owner: str, limit: int, lease_seconds: float) -> list[Claimed]:
        def run(conn: sqlite3.Connection) -> list[Claimed]:
            now = time.time()
            rows = conn.execute(
                "UPDATE messages SET state = 'sending', lease_owner = ?, lease_until = ?, "
                "attempts = attempts + 1, updated_at = ? WHERE id IN ("
                " SELECT id FROM messages WHERE state IN ('queued', 'deferred') AND run_at <= ?"
                " ORDER BY run_at, id LIMIT ?) "
                "RETURNING id, event_id, store_id, event_type, template, audience, "
                "recipient_email, recipient_name, locale, attempts, message_header_id",
                (owner, now + lease_seconds, now, now, limit),
            ).fetchall()
            if not rows:
                return []
            event_ids = sorted({r[1] for r in rows})
            marks = ",".join("?" * len(event_ids))
            data: dict[int, str] = dict(conn.execute(
                f"SELECT id, data FROM events WHERE id IN ({marks})",  # noqa: S608
                event_ids))
            return [Claimed(id=r[0], event_id=r[1], store_id=r[2], event_type=r[3],
                            template=r[4], audience=r[5], recipient_email=r[6],
                            recipient_name=r[7], locale=r[8], attempts=r[9],
                            message_header_id=r[10], data=data[r[1]])
                    for r in sorted(rows)]

        return await self._write(run)

    async def complete(self, owner: str, outcome: Outcome) -> bool:
        def run(conn: sqlite3.Connection) -> bool:
            now = time.time()
            o = outcome
            error = None if o.state is MessageState.SENT else o.detail
            row = conn.execute(
                "UPDATE messages SET state = ?, run_at = coalesce(?, run_at), lease_owner = NULL, "
                "lease_until = NULL, updated_at = ?, transport = coalesce(?, transport), "
                "subject = coalesce(?, subject), locale = coalesce(?, locale), "
                "message_header_id = coalesce(?, message_header_id), "
                "provider_id = coalesce(?, provider_id), last_error = ?, "
                "attempts = attempts - ? "
                "WHERE id = ? AND state = 'sending' AND lease_owner = ? RETURNING attempts",
                (o.state.value, o.run_at, now, o.transport, o.subject, o.locale,
                 o.message_header_id, o.provider_id, error, 0 if o.counts else 1,
                 o.message_id, owner),
            ).fetchone()
            if row is None:
                return False
            attempt = row[0]
            rows: list[tuple[Any, ...]] = [
                (o.message_id, attempt, name, o.started_at, now, "failover", None, None, why)
                for name, why in o.tried]
            rows.append((o.message_id, attempt, o.transport, o.started_at or now, now,
                         o.state.value, o.code, o.reply, o.detail))
            conn.executemany(
                "INSERT INTO attempts (message_id, number, transport, started_at, finished_at, "
                "outcome, code, reply, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
            return True

        return await self._write(run)

    async def resend(self, message_id: int) -> int | None:
        def run(conn: sqlite3.Connection) -> int | None:
            now = time.time()
            row = conn.execute(
                f"INSERT INTO messages ({_PLAN_COLUMNS}, state, run_at, attempts, created_at, "  # noqa: S608
                f"updated_at) SELECT {_PLAN_COLUMNS}, 'queued', ?, 0, ?, ? FROM messages "
                "WHERE id = ? RETURNING id", (now, now, now, message_id)).fetchone()
            return None if row is None else int(row[0])

        return await self._write(run)

    async def reap(self) -> int:
        def run(conn: sqlite3.Connection) -> int:
            now = time.time()
            rows = conn.execute(
                "UPDATE messages SET state = 'deferred', run_at = ?, lease_owner = NULL, "
                "lease_until = NULL, updated_at = ?, last_error = ? "
                "WHERE state = 'sending' AND lease_until < ? RETURNING id, attempts",
                (now, now, "the worker holding this message stopped answering; retrying", now),
            ).fetchall()
            conn.executemany(
                "INSERT INTO attempts (message_id, number, started_at, finished_at, outcome, "
                "detail) VALUES (?, ?, ?, ?, 'lease_expired', "
                "'lease expired before the attempt finished; the mail may or may not have left')",
                [(mid, attempts, now, now) for mid, attempts in rows])
            return len(rows)

        return await self._write(run)

    async def next_due(self) -> float | None:
        def run(conn: sqlite3.Connection) -> float | None:
            row = conn.execute("SELECT min(run_at) FROM messages "
                               "WHERE state IN ('queued', 'deferred')").fetchone()
            return None if row[0] is None else float(row[0])

        return await self._read(run)

    # -- the log ----------------------------------------------------------------------

    async def messages(self, flt: MessageFilter) -> list[MessageRecord]:
        clauses: list[str] = []
        params: list[Any] = []
        for column, value in (("store_id", flt.store_id), ("recipient_email", flt.recipient),
                              ("state", flt.state.value if flt.state else None),
                              ("event_type", flt.event_type)):
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(value)
        if flt.before_id is not None:
            clauses.append("id < ?")
            params.append(flt.before_id)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        sql = f"SELECT {_MESSAGE_COLUMNS} FROM messages {where} ORDER BY id DESC LIMIT ?"  # noqa: S608

        def run(conn: sqlite3.Connection) -> list[MessageRecord]:
            return [_record(r) for r in conn.execute(sql, (*params, flt.limit))]

        return await self._read(run)

    async def message(self, message_id: int) -> MessageRecord | None:
        def run(conn: sqlite3.Connection) -> MessageRecord | None:
            row = conn.execute(f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE id = ?",  # noqa: S608
                               (message_id,)).fetchone()
            if row is None:
                return None
            history = tuple(Attempt(*a) for a in conn.execute(
                "SELECT number, transport, started_at, finished_at, outcome, code, reply, detail "
                "FROM attempts WHERE message_id = ? ORDER BY id", (message_id,)))
            return _record(row, history)

        return await self._read(run)

    async def counts(self) -> dict[str, int]:
        def run(conn: sqlite3.Connection) -> dict[str, int]:
            found = dict(conn.execute("SELECT state, count(*) FROM messages GROUP BY state"))
            return {s.value: int(found.get(s.value, 0)) for s in MessageState}

        return await self._read(run)

    # -- plugin state -----------------------------------------------------------------

    async def get_state(self, namespace: str, key: str) -> Any | None:
        # One primary-key lookup (tens of µs) on the caller's thread: cheaper than the hop to
        # a thread and back, which waited ~10 ms for the GIL and the loop under webhook load.
        # A WAL reader does not wait for the writer; in the rare cases it must wait (another
        # process recovering the WAL index), it waits at most _QUICK_READ_WAIT here and then
        # in a thread, so the event loop is never held for the full lock timeout.
        def run(conn: sqlite3.Connection) -> Any | None:
            row = conn.execute("SELECT value FROM plugin_state WHERE namespace = ? AND key = ?",
                               (namespace, key)).fetchone()
            return None if row is None else json.loads(row[0])

        try:
            return run(self._reader(quick=True))
        except sqlite3.OperationalError as exc:
            if not _locked(exc):
                raise
            return await self._read(run)

    async def set_state(self, namespace: str, key: str, value: Any) -> None:
        values = [(namespace, key, _state_json(value))]
        await self._write(lambda conn: _upsert_states(conn, values, time.time()))


def _state_json(value: Any) -> str:
    """pydantic's serializer: models go in as they are, without a model_dump first, and it
    writes a dict of an order's size ~3x faster than json.dumps."""
    return pydantic_core.to_json(value).decode()


def _insert_event(conn: sqlite3.Connection, event: NewEvent, now: float) -> Accepted:
    """One event and its messages, or the first one's ids if its idempotency key is known.

    ``lastrowid`` rather than ``RETURNING``: one step of SQLite per row instead of two,
    and each step is a GIL hand-off with the busy event loop.
    """
    cur = conn.execute(
        "INSERT INTO events (store_id, type, idempotency_key, source, recipient, data, "
        "received_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (store_id, idempotency_key) "
        "DO NOTHING",
        (event.store_id, event.type, event.idempotency_key, event.source, event.recipient,
         event.data, now))
    if not cur.rowcount:
        (event_id,) = conn.execute(
            "SELECT id FROM events WHERE store_id = ? AND idempotency_key = ?",
            (event.store_id, event.idempotency_key)).fetchone()
        ids = [r[0] for r in conn.execute(
            "SELECT id FROM messages WHERE event_id = ? ORDER BY id", (event_id,))]
        return Accepted(event_id, ids, duplicate=True)
    event_id = _rowid(cur)
    ids = [
        _rowid(conn.execute(
            f"INSERT INTO messages ({_PLAN_COLUMNS}, state, run_at, attempts, created_at, "  # noqa: S608
            "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?, 0, ?, ?)",
            (event_id, event.store_id, event.type, m.template, m.audience, m.recipient_email,
             m.recipient_name, m.locale, m.run_at, now, now)))
        for m in event.messages
    ]
    return Accepted(event_id, ids, duplicate=False)


def _rowid(cur: sqlite3.Cursor) -> int:
    """The id of the row an INSERT just wrote (never None after one that wrote)."""
    return cast(int, cur.lastrowid)


def _upsert_states(conn: sqlite3.Connection, values: Sequence[tuple[str, str, str]],
                   now: float) -> None:
    conn.executemany(
        "INSERT INTO plugin_state (namespace, key, value, updated_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (namespace, key) DO UPDATE SET value = excluded.value, "
        "updated_at = excluded.updated_at", [(*v, now) for v in values])


def _record(row: Sequence[Any], history: tuple[Attempt, ...] = ()) -> MessageRecord:
    return MessageRecord(
        id=row[0], event_id=row[1], store_id=row[2], event_type=row[3], template=row[4],
        audience=row[5], recipient_email=row[6], recipient_name=row[7], locale=row[8],
        state=MessageState(row[9]), attempts=row[10], run_at=row[11], created_at=row[12],
        updated_at=row[13], subject=row[14], transport=row[15], message_header_id=row[16],
        provider_id=row[17], last_error=row[18], history=history)
