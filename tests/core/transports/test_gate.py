"""Rate limits and the circuit breaker: the Gate itself, then through a running hub."""

from __future__ import annotations

import time
from pathlib import Path

from tests.core.api.test_events import event
from tests.hub_runner import RunningHub, config_text
from tests.smtp_capture import CaptureServer, free_port
from tidings.core.transports.gate import Gate, GateOptions


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_per_second_bucket() -> None:
    clock = Clock()
    gate = Gate(GateOptions(rate_per_second=2), clock=clock)
    assert gate.admit() is None and gate.admit() is None
    refusal = gate.admit()
    assert refusal is not None and refusal.brief and 0 < refusal.retry_after <= 0.5
    clock.now += 0.5
    assert gate.admit() is None


def test_circuit_opens_probes_and_backs_off() -> None:
    clock = Clock()
    gate = Gate(GateOptions(failure_threshold=2, cooldown=10), clock=clock)
    gate.failed()
    assert gate.admit() is None
    gate.failed()
    refusal = gate.admit()
    assert refusal is not None and "circuit open" in refusal.reason and not refusal.brief
    clock.now += 10
    assert gate.admit() is None  # the probe
    assert gate.admit() is not None  # only one probe at a time
    gate.failed()
    clock.now += 10
    assert gate.admit() is not None  # the cool-down doubled to 20 s
    clock.now += 10
    assert gate.admit() is None
    gate.succeeded()
    assert gate.admit() is None and gate.admit() is None


def test_rate_limit_is_never_exceeded(tmp_path: Path, smtp: CaptureServer) -> None:
    config = tmp_path / "tidings.toml"
    config.write_text(config_text(tmp_path, smtp.port).replace(
        "timeout = 5", "timeout = 5\nrate_per_second = 5"))
    with RunningHub(config) as hub:
        started = time.monotonic()  # before the first send can happen
        ids = [hub.post_event(event()).json()["message_ids"][0] for _ in range(15)]
        for message_id in ids:
            hub.wait_status(message_id, "sent", timeout=20)
        elapsed = time.monotonic() - started
    assert len(smtp.wait_for(15)) == 15
    # A full bucket holds 5; the other 10 need at least 10 / 5 = 2 s of refill.
    assert elapsed >= 1.95


def test_open_circuit_skips_a_dead_transport(tmp_path: Path, smtp: CaptureServer) -> None:
    store = f"""
[transports.down]
type = "smtp"
host = "127.0.0.1"
port = {free_port()}
security = "none"
timeout = 2
failure_threshold = 2
cooldown = 60

[stores.shop]
platform = "api"
name = "Test Shop"
from = "shop@shop.example"
transport = ["down", "main"]
"""
    config = tmp_path / "tidings.toml"
    config.write_text(config_text(tmp_path, smtp.port, store=store))
    with RunningHub(config) as hub:
        records = []
        for _ in range(3):
            message_id = hub.post_event(event()).json()["message_ids"][0]
            records.append(hub.wait_status(message_id, "sent"))
    first, second, third = ([a["detail"] for a in r["history"] if a["transport"] == "down"]
                            for r in records)
    assert "connection" in first[0].lower() and "connection" in second[0].lower()
    assert third[0].startswith("skipped: circuit open after 2 failures")
    assert all(r["transport"] == "main" for r in records)


def test_daily_limit_defers_without_using_attempts(tmp_path: Path, smtp: CaptureServer) -> None:
    config = tmp_path / "tidings.toml"
    config.write_text(config_text(tmp_path, smtp.port).replace(
        "timeout = 5", "timeout = 5\nrate_per_day = 2"))
    with RunningHub(config) as hub:
        ids = [hub.post_event(event()).json()["message_ids"][0] for _ in range(3)]
        states = {}
        for message_id in ids:
            record = hub.wait_status(message_id, "sent", "deferred")
            states[message_id] = record
        assert sorted(r["status"] for r in states.values()) == ["deferred", "sent", "sent"]
        waiting = next(r for r in states.values() if r["status"] == "deferred")
        assert waiting["attempts"] == 0
        assert "daily limit of 2 reached" in waiting["last_error"]
        assert waiting["next_attempt_at"] is not None


def test_a_provider_pause_holds_the_transport() -> None:
    clock = Clock()
    gate = Gate(GateOptions(), clock=clock)
    gate.failed(retry_after=30)
    refusal = gate.admit()
    assert refusal is not None and refusal.reason == "the provider asked to wait"
    assert refusal.retry_after == 30
    clock.now += 30
    assert gate.admit() is None
