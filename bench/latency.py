"""Figure 5 (child): event accepted → mail accepted by the SMTP server, at a steady rate.

usage: latency.py [--rate R] [--seconds S]

A hub (uvloop, as ``tidings serve``) delivers to an aiosmtpd sink in another
process that logs when each mail's DATA completed. Events are accepted through
``Hub.accept`` on a fixed open-loop schedule; "accepted" is the moment
``accept`` returned (the event and its message are durable). Latency is
sink arrival − accepted, per message; one round per --seconds window.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import BENCH, PY, QUICK, ROUNDS, emit, free_port, hub_toml, percentile, stop, wait_port  # noqa: E402

from tidings.core.events import EventData, Recipient  # noqa: E402
from tidings.core.hub import Hub  # noqa: E402
from tidings.core.samples import SAMPLE_ORDER  # noqa: E402


async def one_round(hub: Hub, rnd: int, rate: float, seconds: float) -> dict[str, float]:
    n = int(rate * seconds)
    data = EventData(order=SAMPLE_ORDER)
    accepted: dict[str, float] = {}

    async def fire(i: int) -> None:
        email = f"r{rnd}-{i}@example.net"
        await hub.accept("shop", "order.placed", Recipient(email=email, name=f"Customer {i}",
                                                           locale="en"), data)
        accepted[email] = time.time()

    start = time.perf_counter()
    tasks = []
    for i in range(n):
        delay = start + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(fire(i)))
    await asyncio.gather(*tasks)
    return accepted


async def run(args: argparse.Namespace, cfg: Path, log: Path) -> list[dict[str, float]]:
    hub = Hub.from_config(cfg)
    await hub.start()
    rounds = []
    try:
        await one_round(hub, -1, args.rate, 2.0)  # warm-up: template compile, SMTP pool
        await asyncio.sleep(1.0)
        for rnd in range(ROUNDS):
            accepted = await one_round(hub, rnd, args.rate, args.seconds)
            deadline = time.monotonic() + 30
            while True:
                await asyncio.sleep(0.2)
                arrived = dict(line.split("\t") for line in log.read_text().splitlines())
                if all(k in arrived for k in accepted) or time.monotonic() > deadline:
                    break
            lat = sorted((float(arrived[k]) - t) * 1000 for k, t in accepted.items()
                         if k in arrived)
            rounds.append({"n": len(accepted), "arrived": len(lat),
                           "p50_ms": percentile(lat, 50), "p90_ms": percentile(lat, 90),
                           "p99_ms": percentile(lat, 99), "max_ms": lat[-1]})
            await asyncio.sleep(0.5)
    finally:
        await hub.stop()
    return rounds


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rate", type=float, default=100)
    ap.add_argument("--seconds", type=float, default=3 if QUICK else 20)
    args = ap.parse_args()
    work = BENCH / "work" / "latency"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    log, port = work / "arrivals.tsv", free_port()
    log.write_text("")
    sink = subprocess.Popen([PY, str(BENCH / "aiosink.py"), str(port), str(log)])
    try:
        wait_port(port)
        cfg = work / "tidings.toml"
        cfg.write_text(hub_toml(work / "tidings.db", port, concurrency=64, pool_size=16))
        import uvloop

        rounds = uvloop.run(run(args, cfg, log))
    finally:
        stop(sink)
    emit({"rounds": rounds, "rate": args.rate, "seconds": args.seconds})


if __name__ == "__main__":
    main()
