"""The SQLite store against the storage seam's promises."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from tidings.core.store import SqliteStore
from tidings.core.store.base import MessageState, NewEvent, NewMessage, Outcome
from tidings.core.store.migrations import MIGRATIONS


def new_event(key: str) -> NewEvent:
    return NewEvent("shop", "order.paid", key, "api", {"email": "a@example.com"}, {"order": {}})


MESSAGE = NewMessage("order.paid", "customer", "a@example.com", "A", "en", run_at=0.0)


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
    first = await store.accept(new_event("k"), [MESSAGE, MESSAGE])
    again = await store.accept(new_event("k"), [MESSAGE])
    assert not first.duplicate and again.duplicate
    assert again.message_ids == first.message_ids and len(first.message_ids) == 2
    # Visible to an independent connection: it was committed before accept returned.
    conn = sqlite3.connect(tmp_path / "t.db")
    assert conn.execute("SELECT count(*) FROM messages").fetchone()[0] == 2
    conn.close()


async def test_concurrent_accepts_share_commits_without_mixing(store: SqliteStore) -> None:
    results = await asyncio.gather(*(store.accept(new_event(f"k{i % 50}"), [MESSAGE])
                                     for i in range(200)))
    assert sum(not r.duplicate for r in results) == 50
    assert (await store.counts())["queued"] == 50


async def test_a_failing_write_does_not_undo_its_batch_mates(store: SqliteStore) -> None:
    bad = NewEvent("shop", "order.paid", "bad", "api", {}, {})
    bad_message = NewMessage(None, "customer", "a@example.com", None, None, 0.0)  # type: ignore[arg-type]
    outcomes = await asyncio.gather(
        store.accept(new_event("good1"), [MESSAGE]),
        store.accept(bad, [bad_message]),
        store.accept(new_event("good2"), [MESSAGE]),
        return_exceptions=True)
    assert isinstance(outcomes[1], sqlite3.IntegrityError)
    assert (await store.counts())["queued"] == 2
    # The failed event left nothing behind, so the same key is still free.
    assert not (await store.accept(bad, [MESSAGE])).duplicate


async def test_each_message_is_claimed_once(store: SqliteStore) -> None:
    for i in range(30):
        await store.accept(new_event(f"k{i}"), [MESSAGE])
    batches = await asyncio.gather(*(store.claim(f"w{i}", 7, 60) for i in range(6)))
    ids = [c.id for batch in batches for c in batch]
    assert len(ids) == len(set(ids)) == 30


async def test_expired_lease_comes_back_and_stale_owner_cannot_complete(
    store: SqliteStore,
) -> None:
    await store.accept(new_event("k"), [MESSAGE])
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
    await store.accept(new_event("k"), [MESSAGE])
    [c] = await store.claim("w", 10, 60)
    later = Outcome(c.id, MessageState.DEFERRED, 9e12, "main", "451 busy")
    assert await store.complete("w", later)
    assert await store.claim("w", 10, 60) == []
    assert await store.next_due() == 9e12


async def test_plugin_state_round_trips(store: SqliteStore) -> None:
    assert await store.get_state("woo", "cursor") is None
    await store.set_state("woo", "cursor", {"after": "2026-01-01T00:00:00"})
    await store.set_state("woo", "cursor", {"after": "2026-02-01T00:00:00"})
    assert await store.get_state("woo", "cursor") == {"after": "2026-02-01T00:00:00"}
