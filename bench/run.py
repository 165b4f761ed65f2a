"""Run every benchmark and print one table (a full run also writes bench/results.md).

Environment: BENCH_QUICK=1 (tiny smoke run), BENCH_ROUNDS (default 3),
BENCH_ONLY=render,e2e,webhook,memory,latency (a subset),
BENCH_PROFILE=1 (also py-spy the end-to-end drain; summary in bench/work/profile.txt).
"""

from __future__ import annotations

import datetime
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import BENCH, PY, QUICK, ROUNDS, run_child, smtp_sink, stats

ONLY = [x for x in os.environ.get("BENCH_ONLY", "").split(",") if x]
Row = tuple[str, str, str, str, str, str]
rows: list[Row] = []
notes: list[str] = []


def want(name: str) -> bool:
    return not ONLY or name in ONLY


def f(x: float, digits: int = 0) -> str:
    return f"{x:,.{digits}f}"


def mmm(values: list[float], digits: int = 0, unit: str = "") -> str:
    s = stats(values)
    return "/".join(f(s[k], digits) for k in ("min", "median", "max")) + unit


def bench_render() -> None:
    r = run_child(["bench/render.py"])
    ours, node = statistics.median(r["ours_ms"]), statistics.median(r["node_ms"])
    # Rounds alternate (see render.py): the ratio is the median of the paired rounds'.
    ratios = [n / o for o, n in zip(r["ours_ms"], r["node_ms"], strict=True)]
    rows.append((
        "1. Render order.placed (5 items), ms/message, warm",
        f"{ours:.3f} ms", f"{node:.2f} ms (Node mjml {r['mjml_version']})",
        f"{statistics.median(ratios):,.0f}× faster",
        f"T {mmm(r['ours_ms'], 3)}; N {mmm(r['node_ms'], 2)}; ratio {mmm(ratios, 0)}",
        "≥100× faster"))
    notes.append(f"Render: Tidings = Renderer.render (subject + {r['ours_html_bytes']:,} B HTML + "
                 f"{r['ours_text_bytes']:,} B text) × {r['per_round']}/round; Node = "
                 f"mjml2html on the Jinja-expanded MJML ({r['mjml_bytes']:,} B → "
                 f"{r['node_html_bytes']:,} B HTML, no text part) × {r['node_per_round']}/round, "
                 f"{r['node_version']}; {len(ratios)} rounds each, alternating, in one process "
                 "each after warm-up; the ratio is the median of the paired rounds' ratios.")


def smtp_source(port: int, n: int, size: int) -> float:
    exe = shutil.which("smtp-source") or "/usr/sbin/smtp-source"
    t0 = time.perf_counter()
    subprocess.run([exe, "-d", "-s", "10", "-m", str(n), "-l", str(size),
                    f"127.0.0.1:{port}"], check=True, stdout=subprocess.DEVNULL)
    return n / (time.perf_counter() - t0)


def bench_e2e() -> None:
    n = 2000 if QUICK else 20_000
    conc, pool, procs = 128, 16, 2
    ours, single, ref, size = [], [], [], 0
    for _ in range(ROUNDS):
        with smtp_sink() as port:
            for processes, into in ((procs, ours), (1, single)):
                r = run_child(["bench/e2e.py", str(port), str(n), "--concurrency", str(conc),
                               "--pool", str(pool), "--processes", str(processes)])
                into.append(r["rate"])
                size = r["mail_bytes"]
            ref.append(smtp_source(port, n, size))
    o, one, s = statistics.median(ours), statistics.median(single), statistics.median(ref)
    what = f"{n:,} queued order mails ({size / 1000:.1f} kB) → smtp-sink, mails/s"
    source = f"{f(s)} (smtp-source -d -s 10 -l {size})"
    rows.append((f"2. End-to-end delivery, {what}, delivery.processes = {procs}", f(o), source,
                 f"{100 * o / s:.1f} %", f"T {mmm(ours)}; S {mmm(ref)}",
                 "≥1,500/s and ≥25 %"))
    rows.append((f"2′. The same with one process (delivery.processes = 1), mails/s", f(one),
                 source, f"{100 * one / s:.1f} %", f"T {mmm(single)}", ""))
    notes.append(f"End-to-end: a hub (uvloop) from a config with delivery.concurrency={conc}, "
                 f"transports.main.pool_size={pool} and delivery.processes={procs} (the serving "
                 "process plus one `tidings worker` it starts; 2′: one process); the clock runs "
                 "from hub.start(), extra processes' start-up included, until no message is "
                 "queued or sending; every message checked 'sent'.")
    if os.environ.get("BENCH_PROFILE"):
        profile_e2e(n, conc, pool)


def profile_e2e(n: int, conc: int, pool: int) -> None:
    spy = Path(PY).parent / "py-spy"
    if not spy.exists():
        subprocess.run([PY, "-m", "pip", "install", "--quiet", "py-spy"], check=True)
    raw = BENCH / "work" / "e2e-profile.txt"
    with smtp_sink() as port:
        subprocess.run([str(spy), "record", "-r", "200", "--threads", "-f", "raw", "-o",
                        str(raw), "--", PY, "bench/e2e.py", str(port), str(n), "--concurrency",
                        str(conc), "--pool", str(pool)], check=True, cwd=BENCH.parent,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    summary = subprocess.run([PY, str(BENCH / "profile_summary.py"), str(raw), "40"],
                             capture_output=True, text=True, check=True).stdout
    (BENCH / "work" / "profile.txt").write_text(summary)
    notes.append("Profile of the drain: bench/work/profile.txt")


def bench_webhook() -> None:
    r = run_child(["bench/webhook.py"], timeout=1200)
    ours = [x["rate"] for x in r["ours"]]
    nowrite = [x["rate"] for x in r["nowrite"]]
    bare = [x["rate"] for x in r["bare"]]
    o, s, b = statistics.median(ours), statistics.median(nowrite), statistics.median(bare)
    c = r["connections"]
    # Each round runs Tidings then the reference back to back: the ratio is the median of
    # the paired rounds', as for the render (a drift in disk or CPU speed hits both).
    paired = [100 * a / b for a, b in zip(ours, nowrite, strict=True)]
    rows.append((f"3a. Webhook ingest, signed WooCommerce order.updated, wrk -c{c}, req/s",
                 f(o), f"{f(s)} (same hub app, store writes nothing)",
                 f"{statistics.median(paired):.1f} %",
                 f"T {mmm(ours)}; R {mmm(nowrite)}; ratio {mmm(paired, 1)} %", "≥60 %"))
    rows.append(("3a′. Floor, not the goal's reference: bare Starlette app, signature + JSON "
                 "only, req/s", f(o), f"{f(b)} (bare Starlette)", f"{100 * o / b:.1f} %",
                 f"floor {mmm(bare)}", ""))
    med = lambda rs, k: statistics.median(x[k] for x in rs) / 1000  # noqa: E731
    rows.append((f"3b. Webhook latency at max rate (-c{c}), p50 / p99 ms",
                 f"{med(r['ours'], 'p50_us'):.1f} / {med(r['ours'], 'p99_us'):.1f}",
                 f"{med(r['nowrite'], 'p50_us'):.1f} / {med(r['nowrite'], 'p99_us'):.1f} "
                 "(no write)", "",
                 f"T p99 {mmm([x['p99_us'] / 1000 for x in r['ours']], 1)}", ""))
    half = r["half"]
    rows.append((f"3c. Webhook p99 at half the max rate, random think time (target "
                 f"{f(r['target_rate'])}/s; "
                 f"achieved {mmm([x['rate'] for x in half])}/s), p50 / p99 ms",
                 f"{med(half, 'p50_us'):.1f} / {med(half, 'p99_us'):.1f}", "", "",
                 f"p99 {mmm([x['p99_us'] / 1000 for x in half], 1)}", "p99 ≤25 ms"))
    steady = r["steady"]
    rows.append(("3c′. The same with a constant think time (connections fall into step with "
                 f"the commits; achieved {mmm([x['rate'] for x in steady])}/s), p50 / p99 ms",
                 f"{med(steady, 'p50_us'):.1f} / {med(steady, 'p99_us'):.1f}", "", "",
                 f"p99 {mmm([x['p99_us'] / 1000 for x in steady], 1)}", ""))
    dl = [x["rate"] for x in r["deliver"]]
    rows.append(("3d. Webhook ingest while the worker delivers to smtp-sink, req/s",
                 f(statistics.median(dl)), f"{f(s)} (no write)",
                 f"{100 * statistics.median(dl) / s:.1f} %",
                 f"T {mmm(dl)}; p99 {med(r['deliver'], 'p99_us'):.0f} ms", ""))
    mine = r["ours"] + r["half"] + r["steady"] + r["deliver"]
    bad = [x for x in mine + r["nowrite"] + r["bare"] if x["errors"]]
    for x in mine:
        if x.get("warning"):
            notes.append(f"Webhook: {x['warning']}")
        if x["events_written"] < 2 * x["requests"] * 0.99:
            notes.append(f"Webhook: only {x['events_written']} events for {x['requests']} "
                         "requests (expected 2 per request)")
    notes.append(f"Webhook: {r['bodies']:,} unique pre-signed bodies of {r['body_bytes']:,} B; "
                 f"{r['seconds']:g} s per round after a 1 s warm-up; fresh hub and database "
                 "per round; 3a-3c with the delivery loop paused (ingest alone); each request "
                 "= 1 state read + 1 transaction (2 events with their messages: customer + "
                 "owner; the order's new state), synchronous=FULL. Reference: the same config "
                 "and app on bench/nowrite.py (answers writes with fresh ids, keeps nothing); "
                 f"3a: {len(paired)} rounds, each Tidings then the reference, the ratio is the "
                 "median of the paired rounds' ratios. "
                 f"Non-2xx/socket errors: {sum(x['errors'] for x in bad)}.")


def bench_memory() -> None:
    with smtp_sink() as port:
        r = run_child(["bench/memory.py", str(port)], timeout=1800)
    w, d = r["waiting"], r["draining"]
    rows.append((f"4a. RSS with {r['queued']:,} messages waiting, MB", f(statistics.median(w)),
                 f"{r['rss_before_start']:.0f} (process before hub.start)", "",
                 mmm(w, 0, " MB"), "≤200 MB, flat"))
    rows.append((f"4b. RSS while draining that backlog ({r['sent']:,} sent, "
                 f"{r['drain_rate']:,.0f}/s), MB", f(statistics.median(d)), "", "",
                 mmm(d, 0, " MB") + f"; last {d[-1]:.0f}", "≤200 MB, flat"))
    notes.append(f"Memory: backlog bulk-inserted through the store's schema in "
                 f"{r['prefill_s']:.0f} s (database {r['db_mb']:,.0f} MB); RSS sampled every "
                 "0.25 s, 5 s waiting then draining.")


def bench_latency() -> None:
    r = run_child(["bench/latency.py"], timeout=900)
    rs = r["rounds"]
    p50 = [x["p50_ms"] for x in rs]
    p99 = [x["p99_ms"] for x in rs]
    rows.append((f"5. Latency accepted → SMTP server has the mail, {r['rate']:g} events/s × "
                 f"{r['seconds']:g} s, p50 / p99 ms",
                 f"{statistics.median(p50):.1f} / {statistics.median(p99):.1f}", "", "",
                 f"p50 {mmm(p50, 1)}; p99 {mmm(p99, 1)}", ""))
    lost = sum(x["n"] - x["arrived"] for x in rs)
    notes.append(f"Latency: aiosmtpd sink (another process) logs DATA completion; {lost} of "
                 f"{sum(x['n'] for x in rs)} mails missing.")


def machine() -> str:
    model = "?"
    with open("/proc/cpuinfo") as fh:
        for line in fh:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return (f"{os.cpu_count()} CPU ({model}), Python {platform.python_version()}, "
            f"{platform.system()} {platform.release()}")


def main() -> None:
    t0 = time.monotonic()
    for name, fn in (("render", bench_render), ("e2e", bench_e2e), ("webhook", bench_webhook),
                     ("memory", bench_memory), ("latency", bench_latency)):
        if not want(name):
            continue
        print(f"== {name} …", file=sys.stderr, flush=True)
        try:
            fn()
        except Exception:
            traceback.print_exc()
            rows.append((f"{name}: FAILED", "", "", "", "see stderr", ""))
    head = ("figure", "Tidings", "reference", "ratio", "min/median/max over rounds", "goal")
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    when = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    full = not QUICK and not ONLY
    kind = "full run" if full else "partial run" if not QUICK else "QUICK smoke run"
    text = "\n".join([
        f"# Benchmark results ({kind}, {when})", "",
        f"Machine: {machine()}. Rounds: {ROUNDS}. Wall time: {time.monotonic() - t0:.0f} s.",
        "T = Tidings, N = Node, S = smtp-source, R = reference server.", "",
        *lines, "", *[f"- {n}" for n in notes], ""])
    print(text)
    # Only a full run replaces the committed table; the others go to the scratch folder.
    out = BENCH / "results.md" if full else BENCH / "work" / "results.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
