"""A real hub polling the fake Magento on its own, mailing over SMTP; then a restart."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from tests.hub_runner import RunningHub, config_text
from tests.plugins.magento.conftest import magento_store
from tests.plugins.magento.fake_magento import (
    FakeMagento,
    make_creditmemo,
    make_invoice,
    make_order,
    make_shipment,
)
from tests.smtp_capture import CaptureServer

CURSOR = "searchCriteria[filter_groups][0][filters][0][value]"


def _text(mail: object) -> str:
    message = mail.message  # type: ignore[attr-defined]
    body = message.get_body(preferencelist=("plain",))
    return f"{message['Subject']}\n{body.get_content() if body else ''}"


def test_each_mail_once_in_its_language_and_polling_resumes_after_a_restart(
        tmp_path: Path, smtp: CaptureServer, fake: FakeMagento) -> None:
    path = tmp_path / "tidings.toml"
    path.write_text(config_text(tmp_path, smtp.port, store=magento_store(
        fake.url, poll_interval=0.05)), encoding="utf-8")
    with RunningHub(path):
        now = datetime.now(UTC)  # after the baseline the hub took at start-up
        de = fake.put("orders", make_order(1, created=now, store_id=2, currency="EUR",
                                           grand_total=49.9, email="kunde@example.de"))
        fake.put("shipments", make_shipment(5, de, created=now,
                                            tracks=[("dhl", "DHL Paket", "JJD000390007")]))
        mails = smtp.wait_for(3)  # placed + owner + shipped
        fake.wait_requests("orders", len(fake.requests("orders")) + 3)  # more polls went by
        assert len(smtp.received) == 3
        german = "\n".join(_text(m) for m in mails if m.rcpt_tos == ["kunde@example.de"])
        assert "Bestellung" in german and "49,90" in german and "€" in german
        assert "JJD000390007" in german and "DHL Paket" in german
        last_window = fake.requests("orders")[-1].params[CURSOR]
        polls = len(fake.requests("orders"))

    # While the hub is down, the order is paid and partly refunded.
    later = datetime.now(UTC)
    fake.put("invoices", make_invoice(6, de, created=later))
    fake.put("creditmemos", make_creditmemo(7, de, created=later, amount=10))
    with RunningHub(path):
        mails = smtp.wait_for(5)
        fake.wait_requests("creditmemos", len(fake.requests("creditmemos")) + 3)
        assert len(smtp.received) == 5
        new = "\n".join(_text(m) for m in mails[3:])
        assert "Zahlung" in new and "10,00" in new  # paid, and the partial refund's amount
    # It went on from its persisted cursors and baseline, not from a fresh start: what
    # happened while it was down was mailed, and nothing twice.
    assert fake.requests("orders")[polls].params[CURSOR] == last_window
