"""Figure 4 (child): the hub's RSS with a large backlog waiting, then while it drains.

usage: memory.py SINK_PORT [--messages N] [--drain-seconds S]

The backlog is bulk-inserted through the store's schema by a separate process
(so its allocations do not count): N queued ``order.placed`` messages sharing
1,000 events (1 M distinct order payloads would be ~2.5 GB of disk for no
difference in the queue's behaviour). The hub then starts with its worker
held back (phase "waiting", 5 s), then the worker runs (phase "draining"); RSS
is read from /proc/self/status every 0.25 s in both phases.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import BENCH, PY, QUICK, emit, rss_mb  # noqa: E402


def prefill_only(sink_port: int, n: int) -> None:
    from e2e import create_schema, prefill, setup

    from tidings.core.hub import Hub

    db, cfg = setup(BENCH / "work" / "memory", sink_port, 64, 16)
    asyncio.run(create_schema(db))
    prefill(Hub.from_config(cfg), db, n, events=min(n, 1000), batch=50_000)


async def phases(cfg: Path, wait_s: float, drain_s: float) -> dict[str, object]:
    import sqlite3

    from tidings.core.hub import Hub

    hub = Hub.from_config(cfg)
    go = asyncio.Event()
    real_run = hub.worker.run

    async def held() -> None:
        await go.wait()
        await real_run()

    hub.worker.run = held  # type: ignore[method-assign]
    samples: dict[str, list[float]] = {"waiting": [], "draining": []}
    phase = ["start"]
    done = threading.Event()

    def sampler() -> None:
        while not done.wait(0.25):
            if phase[0] in samples:
                samples[phase[0]].append(rss_mb(_pid))

    import os

    _pid = os.getpid()
    before = rss_mb(_pid)
    thread = threading.Thread(target=sampler, daemon=True)
    thread.start()
    await hub.start()
    phase[0] = "waiting"
    await asyncio.sleep(wait_s)
    db = hub.settings.storage.path
    reader = sqlite3.connect(db)
    (queued,) = reader.execute("SELECT count(*) FROM messages WHERE state = 'queued'").fetchone()
    phase[0] = "draining"
    go.set()
    t0 = time.perf_counter()
    await asyncio.sleep(drain_s)
    phase[0] = "stop"
    elapsed = time.perf_counter() - t0
    await hub.stop()
    done.set()
    (sent,) = reader.execute("SELECT count(*) FROM messages WHERE state = 'sent'").fetchone()
    reader.close()
    return {"rss_before_start": before, "waiting": samples["waiting"],
            "draining": samples["draining"], "queued": queued, "sent": sent,
            "drain_rate": sent / elapsed}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("sink_port", type=int)
    ap.add_argument("--messages", type=int, default=50_000 if QUICK else 1_000_000)
    ap.add_argument("--drain-seconds", type=float, default=5 if QUICK else 30)
    ap.add_argument("--prefill-only", action="store_true")
    args = ap.parse_args()
    if args.prefill_only:
        prefill_only(args.sink_port, args.messages)
        return
    t = time.perf_counter()
    subprocess.run([PY, __file__, str(args.sink_port), "--messages", str(args.messages),
                    "--prefill-only"], check=True)
    fill_s = time.perf_counter() - t
    import uvloop

    result = uvloop.run(phases(BENCH / "work" / "memory" / "tidings.toml", 5, args.drain_seconds))
    db = BENCH / "work" / "memory" / "tidings.db"
    emit({**result, "messages": args.messages, "prefill_s": fill_s,
          "db_mb": db.stat().st_size / 2**20})


if __name__ == "__main__":
    main()
