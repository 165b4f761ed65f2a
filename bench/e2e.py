"""Figure 2 (child): drain N queued order confirmations through the hub's real worker.

usage: e2e.py SINK_PORT N [--concurrency C] [--pool P] [--processes K] [--workdir DIR]

The queue is pre-filled through the store's own schema (one event + one
``order.placed`` message per order, exactly the rows ``Hub.accept`` writes),
then a Hub is started from a config file whose SMTP transport points at the
sink, and the clock runs from ``hub.start()`` until every message is ``sent``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sqlite3
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import BENCH, emit, hub_toml  # noqa: E402

from tidings.core.config import MailAddress  # noqa: E402
from tidings.core.events import CATALOGUE, Recipient  # noqa: E402
from tidings.core.hub import Hub  # noqa: E402
from tidings.core.mime import OutgoingMail  # noqa: E402
from tidings.core.samples import SAMPLE_ORDER  # noqa: E402
from tidings.core.store import SqliteStore  # noqa: E402

EVENT = "order.placed"


def recipients(n: int) -> list[Recipient]:
    return [Recipient(email=f"customer{i}@example.net", name=f"Customer {i}", locale="en")
            for i in range(n)]


async def create_schema(db: Path) -> None:
    store = SqliteStore(db)
    await store.open()
    await store.close()


def prefill(hub: Hub, db: Path, n: int, *, events: int | None = None,
            batch: int = 20_000) -> None:
    """Insert ``n`` queued messages (and their events) the way ``Store.accept`` would.

    ``events`` < n makes messages share events (the 1 M backlog: the message rows are
    what the queue holds; the event payloads would be 2.5 kB x 1 M on disk otherwise).
    """
    from tidings.core.events import EventData

    events = events or n
    spec = CATALOGUE[EVENT]
    data = json.dumps(EventData(order=SAMPLE_ORDER).model_dump(mode="json", exclude_none=True))
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    now = time.time()
    people = recipients(min(n, 1000))
    m = hub.plan("shop", spec, people[0], EventData(order=SAMPLE_ORDER))
    for start in range(0, events, batch):
        conn.execute("BEGIN")
        rows = []
        for i in range(start, min(events, start + batch)):
            r = people[i % len(people)]
            rows.append(("shop", EVENT, f"bench:{uuid.uuid4().hex}", "api",
                         json.dumps(r.model_dump(mode="json")), data, now))
        conn.executemany("INSERT INTO events (store_id, type, idempotency_key, source, "
                         "recipient, data, received_at) VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
        conn.execute("COMMIT")
    (first_id,) = conn.execute("SELECT min(id) FROM events").fetchone()
    for start in range(0, n, batch):
        conn.execute("BEGIN")
        rows = []
        for i in range(start, min(n, start + batch)):
            r = people[i % len(people)]
            rows.append((first_id + i % events, "shop", EVENT, m.template, m.audience,
                         f"customer{i}@example.net", f"Customer {i}", m.locale, now, now, now))
        conn.executemany(
            "INSERT INTO messages (event_id, store_id, event_type, template, audience, "
            "recipient_email, recipient_name, locale, state, run_at, attempts, created_at, "
            "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?, 0, ?, ?)", rows)
        conn.execute("COMMIT")
    conn.close()


def mail_size(hub: Hub) -> int:
    """Bytes of one order mail exactly as the worker builds it."""
    from tidings.core.events import EventData
    from tidings.core.mime import make_message_id

    r = recipients(1)[0]
    store = hub.settings.stores["shop"]
    rendered = hub.render(CATALOGUE[EVENT].template, "shop", r, EventData(order=SAMPLE_ORDER),
                          EVENT, "1")
    mail = OutgoingMail(message_id=make_message_id("northwind.example"), sender=store.from_,
                        to=MailAddress(email=r.email, name=r.name), subject=rendered.subject,
                        html=rendered.html, text=rendered.text, reply_to=store.reply_to,
                        tags=[EVENT])
    return len(mail.to_bytes())


def setup(workdir: Path, sink_port: int, concurrency: int, pool: int,
          processes: int = 1) -> tuple[Path, Path]:
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    db = workdir / "tidings.db"
    cfg = workdir / "tidings.toml"
    cfg.write_text(hub_toml(db, sink_port, concurrency=concurrency, pool_size=pool,
                            processes=processes))
    return db, cfg


async def drain(hub: Hub, db: Path, n: int, timeout: float) -> tuple[float, dict[str, int]]:
    """Time from ``hub.start()`` until no message is queued or sending (polled every 20 ms,
    off the event loop, through the partial indexes so the poll costs the hub nothing)."""
    reader = sqlite3.connect(db, check_same_thread=False)

    def pending() -> int:
        (busy,) = reader.execute(
            "SELECT (SELECT count(*) FROM messages WHERE state IN ('queued', 'deferred')"
            " AND run_at > 0) + (SELECT count(*) FROM messages WHERE state = 'sending'"
            " AND lease_until > 0)").fetchone()
        return int(busy)

    await hub.start()
    t0 = time.perf_counter()
    try:
        while await asyncio.to_thread(pending):
            await asyncio.sleep(0.02)
            if time.perf_counter() - t0 > timeout:
                raise RuntimeError("drain timed out")
        elapsed = time.perf_counter() - t0
    finally:
        await hub.stop()
    counts = dict(reader.execute("SELECT state, count(*) FROM messages GROUP BY state"))
    reader.close()
    if counts.get("sent", 0) != n:
        raise RuntimeError(f"delivery went wrong: {counts}")
    return elapsed, counts


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("sink_port", type=int)
    ap.add_argument("n", type=int)
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--pool", type=int, default=16)
    ap.add_argument("--processes", type=int, default=1)
    ap.add_argument("--workdir", type=Path, default=BENCH / "work" / "e2e")
    args = ap.parse_args()
    db, cfg = setup(args.workdir, args.sink_port, args.concurrency, args.pool, args.processes)
    import uvloop

    hub = Hub.from_config(cfg)
    size = mail_size(hub)
    asyncio.run(create_schema(db))
    t = time.perf_counter()
    prefill(hub, db, args.n)
    fill_s = time.perf_counter() - t
    hub = Hub.from_config(cfg)  # fresh, as a restarted hub would find its queue
    elapsed, counts = uvloop.run(drain(hub, db, args.n, timeout=600))
    emit({"n": args.n, "seconds": elapsed, "rate": args.n / elapsed, "mail_bytes": size,
          "prefill_s": fill_s, "counts": counts, "concurrency": args.concurrency,
          "pool": args.pool, "processes": args.processes})


if __name__ == "__main__":
    main()
