"""The SQLite store against the storage seam's promises."""

from __future__ import annotations

import asyncio
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from tidings.core.store import SqliteStore
from tidings.core.store.base import (
    Accepted,
    MessageState,
    NewEvent,
    NewMessage,
    Outcome,
    StateWrite,
)
from tidings.core.store.migrations import MIGRATIONS

MESSAGE = NewMessage("order.paid", "customer", "a@example.com", "A", "en", run_at=0.0)


def new_event(key: str, *messages: NewMessage) -> NewEvent:
    return NewEvent("shop", "order.paid", key, "api", '{"email": "a@example.com"}', '{"order": {}}',
                    messages=messages or (MESSAGE,))


async def accept(store: SqliteStore, event: NewEvent) -> Accepted:
    (result,) = await store.accept([event])
    return result


@pytest.fixture
async def store(tmp_path: Path) -> SqliteStore:
    s = SqliteStore(tmp_path / "t.db")
    await s.open()
    yield s  # type: ignore[misc]
    await s.close()


async def test_schema_is_versioned_and_reopens(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    for _ in range(2):
        s = SqliteStore(path)
        await s.open()
        await s.close()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


async def test_accept_is_durable_and_idempotent(store: SqliteStore, tmp_path: Path) -> None:
    first = await accept(store, new_event("k", MESSAGE, MESSAGE))
    again = await accept(store, new_event("k"))
    assert not first.duplicate and again.duplicate
    assert again.message_ids == first.message_ids and len(first.message_ids) == 2
    # Visible to an independent connection: it was committed before accept returned.
    conn = sqlite3.connect(tmp_path / "t.db")
    assert conn.execute("SELECT count(*) FROM messages").fetchone()[0] == 2
    conn.close()


async def test_concurrent_accepts_share_commits_without_mixing(store: SqliteStore) -> None:
    results = await asyncio.gather(*(accept(store, new_event(f"k{i % 50}"))
                                     for i in range(200)))
    assert sum(not r.duplicate for r in results) == 50
    assert (await store.counts())["queued"] == 50


async def test_a_failing_write_does_not_undo_its_batch_mates(store: SqliteStore) -> None:
    bad = NewEvent("shop", "order.paid", "bad", "api", "{}", "{}")
    bad_message = NewMessage(None, "customer", "a@example.com", None, None, 0.0)  # type: ignore[arg-type]
    outcomes = await asyncio.gather(
        accept(store, new_event("good1")),
        accept(store, replace(bad, messages=(bad_message,))),
        accept(store, new_event("good2")),
        return_exceptions=True)
    assert isinstance(outcomes[1], sqlite3.IntegrityError)
    assert (await store.counts())["queued"] == 2
    # The failed event left nothing behind, so the same key is still free.
    assert not (await accept(store, replace(bad, messages=(MESSAGE,)))).duplicate


async def test_a_delivery_is_written_whole_in_one_transaction(
    store: SqliteStore, tmp_path: Path,
) -> None:
    order = StateWrite("woo", "order:1", {"status": "processing"})
    first, owner = await store.accept([new_event("a"), new_event("a:owner", MESSAGE, MESSAGE)],
                                      [order])
    assert len(first.message_ids) == 1 and len(owner.message_ids) == 2
    assert await store.get_state("woo", "order:1") == {"status": "processing"}
    bad = NewEvent("shop", "order.paid", "b", "api", "{}", "{}",
                   messages=(NewMessage(None, "customer", "a@example.com", None, None, 0.0),))  # type: ignore[arg-type]
    with pytest.raises(sqlite3.IntegrityError):
        await store.accept([new_event("c"), bad], [StateWrite("woo", "order:1", "changed")])
    # Nothing of the failed delivery is on disk: not its good event, not its state.
    conn = sqlite3.connect(tmp_path / "t.db")
    assert conn.execute("SELECT count(*) FROM events").fetchone()[0] == 2
    conn.close()
    assert await store.get_state("woo", "order:1") == {"status": "processing"}


async def test_a_delivery_dedups_each_event_by_its_key(store: SqliteStore) -> None:
    once, again = await store.accept([new_event("a"), new_event("a")])
    assert not once.duplicate and again == Accepted(once.event_id, once.message_ids, True)
    old, new = await store.accept([new_event("a"), new_event("b")], [StateWrite("w", "k", 1)])
    assert old.duplicate and old.message_ids == once.message_ids and not new.duplicate
    assert await store.get_state("w", "k") == 1
    assert (await store.counts())["queued"] == 2


async def test_each_message_is_claimed_once(store: SqliteStore) -> None:
    for i in range(30):
        await accept(store, new_event(f"k{i}"))
    batches = await asyncio.gather(*(store.claim(f"w{i}", 7, 60) for i in range(6)))
    ids = [c.id for batch in batches for c in batch]
    assert len(ids) == len(set(ids)) == 30


async def test_expired_lease_comes_back_and_stale_owner_cannot_complete(
    store: SqliteStore,
) -> None:
    await accept(store, new_event("k"))
    [claimed] = await store.claim("crashed", 10, lease_seconds=0.01)
    await asyncio.sleep(0.05)
    assert await store.reap() == 1
    [again] = await store.claim("healthy", 10, 60)
    assert again.id == claimed.id and again.attempts == 2
    sent = Outcome(claimed.id, MessageState.SENT, None, "main", "250 ok")
    assert not await store.complete("crashed", sent)
    assert await store.complete("healthy", sent)
    record = await store.message(claimed.id)
    assert record is not None and record.state is MessageState.SENT
    assert [a.outcome for a in record.history] == ["lease_expired", "sent"]


async def test_deferred_waits_for_its_time(store: SqliteStore) -> None:
    await accept(store, new_event("k"))
    [c] = await store.claim("w", 10, 60)
    later = Outcome(c.id, MessageState.DEFERRED, 9e12, "main", "451 busy")
    assert await store.complete("w", later)
    assert await store.claim("w", 10, 60) == []
    assert await store.next_due() == 9e12


async def test_a_state_read_that_must_wait_does_not_hold_the_event_loop(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    writer = SqliteStore(path)
    await writer.open()
    await writer.set_state("woo", "cursor", {"after": "x"})
    await writer.close()
    # Another process holds the database exclusively (its WAL index in its own memory),
    # which even WAL readers must wait for.
    locker = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    locker.execute("PRAGMA locking_mode = EXCLUSIVE")
    locker.execute("BEGIN EXCLUSIVE")
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    loop = asyncio.get_running_loop()
    loop.call_later(0.5, lambda: (locker.execute("COMMIT"), locker.close()))
    ticker = asyncio.create_task(tick())
    reader = SqliteStore(path)  # reads need no open(), which would write (migrations)
    try:
        started = loop.time()
        assert await reader.get_state("woo", "cursor") == {"after": "x"}
        assert loop.time() - started >= 0.4  # it did wait for the lock…
        assert ticks >= 20  # …beside the loop, which kept running
    finally:
        ticker.cancel()
        await reader.close()


async def test_plugin_state_round_trips(store: SqliteStore) -> None:
    assert await store.get_state("woo", "cursor") is None
    await store.set_state("woo", "cursor", {"after": "2026-01-01T00:00:00"})
    await store.set_state("woo", "cursor", {"after": "2026-02-01T00:00:00"})
    assert await store.get_state("woo", "cursor") == {"after": "2026-02-01T00:00:00"}
