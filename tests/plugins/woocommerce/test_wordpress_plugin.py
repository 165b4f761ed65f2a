"""The companion WordPress plugin, run by php-cli against stubbed WordPress and WooCommerce.

``wp_harness/harness.php`` loads ``plugins/woocommerce/wordpress/tidings-companion.php``,
fires the WooCommerce hooks in WooCommerce's order and reports whether WooCommerce's own
email would still go out. The plugin's HTTP calls really travel to a server on loopback:
a recorder here, or a running Tidings hub in the end-to-end tests.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import shutil
import socket
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from tests.hub_runner import API_KEY, RunningHub
from tests.plugins.woocommerce.conftest import (
    SECRET_AS_CONFIGURED,
    SECRET_AS_SIGNED,
    fixture,
    wc_sign,
)
from tests.smtp_capture import CaptureServer

ROOT = Path(__file__).resolve().parents[3]
PLUGIN = ROOT / "plugins/woocommerce/wordpress/tidings-companion.php"
HARNESS = Path(__file__).parent / "wp_harness" / "harness.php"
PHP = shutil.which("php")

pytestmark = pytest.mark.skipif(
    PHP is None, reason="php-cli is not installed (apt-get install -y php-cli); "
    "the companion WordPress plugin cannot be run")

SITE = "https://shop.example"
LOGIN = "ana garcia@home"  # WooCommerce allows spaces and @ in logins: the URLs must encode them
LOGIN_Q = quote(LOGIN, safe="")
USER = {"ID": 42, "user_login": LOGIN, "user_email": "ana@example.com", "first_name": "Ana",
        "last_name": "García", "display_name": "ana", "locale": "de_DE"}
RECIPIENT = {"email": "ana@example.com", "name": "Ana García", "locale": "de_DE"}
ACCOUNT = f"{SITE}/my-account/"
LOST = f"{SITE}/my-account/lost-password/"
ORDER = fixture("woocommerce-order.json")  # what GET /wc/v3/orders/727 answers
ORDER_EMAIL = ORDER["billing"]["email"]
INVOICE_HEADERS = {"Content-Type": "application/json",
                   "X-WC-Webhook-Topic": "action.tidings_order_invoice",
                   "X-WC-Webhook-Resource": "action", "X-WC-Webhook-Event": "tidings_order_invoice"}
UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


@dataclass
class Recorder:
    """A loopback HTTP server that records each request and answers ``status`` / ``body``."""

    status: int = 202
    body: dict[str, Any] = field(default_factory=lambda: {
        "event_id": 1, "message_ids": [1], "duplicate": False})
    requests: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    rec = Recorder()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            rec.requests.append({"path": self.path, "headers": dict(self.headers),
                                 "json": json.loads(raw), "raw": raw})
            payload = json.dumps(rec.body).encode()
            self.send_response(rec.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    rec.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield rec
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"  # nothing listens there any more: connection refused


def settings(url: str, store: str = "woo", key: str = "secret-key") -> dict[str, str]:
    return {"TIDINGS_HUB_URL": url, "TIDINGS_API_KEY": key, "TIDINGS_STORE_ID": store}


def run(flow: str, *, constants: dict[str, str] | None = None,
        options: dict[str, str] | None = None, **extra: Any) -> dict[str, Any]:
    scenario = {"plugin": str(PLUGIN), "site": SITE, "user": USER, "flow": flow,
                "constants": constants or {}, "options": options or {}, **extra}
    done = subprocess.run([str(PHP), str(HARNESS), json.dumps(scenario)], capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stderr == "", done.stderr
    report: dict[str, Any] = json.loads(done.stdout)
    assert report["php_errors"] == []  # no notices, warnings or deprecations
    return report


def only_mail(report: dict[str, Any]) -> dict[str, Any]:
    [mail] = report["wc_mails"]
    assert isinstance(mail, dict)
    return mail


def reset_key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:16]


# ---- the file itself ------------------------------------------------------------------------


def test_php_lint() -> None:
    for path in (PLUGIN, HARNESS):
        done = subprocess.run([str(PHP), "-l", str(path)], capture_output=True, text=True,
                              check=False)
        assert done.returncode == 0 and "No syntax errors" in done.stdout, done.stdout + done.stderr


def test_plugin_header() -> None:
    head = PLUGIN.read_text(encoding="utf-8")[:1500]
    for line in ("Plugin Name:", "Description:", "Version:", "Requires PHP:         7.4",
                 "WC requires at least: 6.0"):
        assert line in head


# ---- password reset -------------------------------------------------------------------------


@pytest.mark.parametrize(("status", "duplicate"), [(202, False), (200, True)])
def test_password_reset_accepted_switches_off_woocommerce_copy(
    recorder: Recorder, status: int, duplicate: bool
) -> None:
    recorder.status = status
    recorder.body = {"event_id": 7, "message_ids": [] if duplicate else [9], "duplicate": duplicate}
    report = run("reset", constants=settings(recorder.url))

    [key] = report["issued_keys"]
    [request] = recorder.requests
    assert request["path"] == "/api/v1/events"
    assert request["headers"]["Authorization"] == "Bearer secret-key"
    assert request["headers"]["Content-Type"] == "application/json"
    reset_url = f"{LOST}?key={key}&id=42&login={LOGIN_Q}"
    assert request["json"] == {
        "store": "woo", "type": "account.password_reset",
        "idempotency_key": f"woo:reset:42:{reset_key_hash(key)}",
        "recipient": RECIPIENT,
        "data": {"reset_url": reset_url, "username": LOGIN, "login_url": ACCOUNT},
    }
    mail = only_mail(report)
    # The link is the one WooCommerce's own email would have carried, key still valid.
    assert mail == {"id": "customer_reset_password", "sent": False, "reset_url": reset_url}
    assert report["valid_keys"] == {"42": key}
    assert report["requests"] == [{"url": f"{recorder.url}/api/v1/events", "args": {
        "timeout": 5, "blocking": True, "redirection": 0, "data_format": "body",
        "headers": {"Authorization": "Bearer secret-key", "Content-Type": "application/json"}}}]
    assert report["logs"] == []


# ---- new account ----------------------------------------------------------------------------


@pytest.mark.parametrize("flow", ["created", "created_background"])
def test_new_account_with_generated_password_carries_a_valid_set_password_link(
    recorder: Recorder, flow: str
) -> None:
    report = run(flow, constants=settings(recorder.url), password_generated=True)

    # WooCommerce's trigger makes a key before asking is_enabled(); WordPress keeps only the
    # newest one. The event must carry that one, so exactly one key exists and it is valid.
    [key] = report["issued_keys"]
    assert report["valid_keys"] == {"42": key}
    set_password_url = f"{LOST}?action=newaccount&key={key}&login={LOGIN_Q}"
    [request] = recorder.requests
    assert request["headers"]["Authorization"] == "Bearer secret-key"
    assert request["json"] == {
        "store": "woo", "type": "account.created", "idempotency_key": "woo:customer:42",
        "recipient": RECIPIENT,
        "data": {"username": LOGIN, "login_url": ACCOUNT, "set_password_url": set_password_url},
    }
    assert only_mail(report) == {"id": "customer_new_account", "sent": False,
                                 "set_password_url": set_password_url}


def test_new_account_with_own_password_has_no_set_password_link(recorder: Recorder) -> None:
    report = run("created", constants=settings(recorder.url), password_generated=False)
    [request] = recorder.requests
    assert request["json"]["idempotency_key"] == "woo:customer:42"
    assert request["json"]["data"] == {"username": LOGIN, "login_url": ACCOUNT}
    assert only_mail(report)["sent"] is False


def test_name_falls_back_to_display_name(recorder: Recorder) -> None:
    user = {**USER, "first_name": "", "last_name": "", "display_name": "Ana G."}
    run("created", constants=settings(recorder.url), user=user)
    assert recorder.requests[0]["json"]["recipient"]["name"] == "Ana G."


# ---- never lose the mail --------------------------------------------------------------------

FLOWS = [("reset", "customer_reset_password"), ("created", "customer_new_account")]


@pytest.mark.parametrize(("flow", "email_id"), FLOWS)
@pytest.mark.parametrize("status", [500, 503])
def test_hub_5xx_leaves_woocommerce_copy_on(
    recorder: Recorder, flow: str, email_id: str, status: int
) -> None:
    recorder.status, recorder.body = status, {"error": "busy", "detail": "try later"}
    report = run(flow, constants=settings(recorder.url), password_generated=True)
    assert len(recorder.requests) == 1
    mail = only_mail(report)
    assert (mail["id"], mail["sent"]) == (email_id, True)
    [log] = report["logs"]
    assert log["level"] == "warning" and f"HTTP {status}: try later" in log["message"]


@pytest.mark.parametrize(("flow", "email_id"), FLOWS)
def test_hub_down_leaves_woocommerce_copy_on(flow: str, email_id: str) -> None:
    report = run(flow, constants=settings(closed_port_url()), password_generated=True)
    assert len(report["requests"]) == 1  # it tried
    mail = only_mail(report)
    assert (mail["id"], mail["sent"]) == (email_id, True)
    [log] = report["logs"]
    assert "Tidings is unreachable" in log["message"] and "refused" in log["message"]


@pytest.mark.parametrize(("flow", "email_id"), FLOWS)
def test_rejected_4xx_is_logged_with_detail_and_woocommerce_copy_stays_on(
    recorder: Recorder, flow: str, email_id: str
) -> None:
    recorder.status = 422
    recorder.body = {"error": "invalid_request", "detail": "recipient.email: not a valid address",
                     "problems": []}
    report = run(flow, constants=settings(recorder.url), password_generated=True)
    assert only_mail(report)["sent"] is True
    [log] = report["logs"]
    assert log["level"] == "error"
    assert log["context"] == {"source": "tidings-companion"}
    assert "HTTP 422" in log["message"]
    assert "invalid_request: recipient.email: not a valid address" in log["message"]
    assert "secret-key" not in log["message"]


@pytest.mark.parametrize(("flow", "email_id"), FLOWS)
@pytest.mark.parametrize("missing", ["TIDINGS_HUB_URL", "TIDINGS_API_KEY", "TIDINGS_STORE_ID"])
def test_missing_settings_send_nothing_and_leave_woocommerce_copy_on(
    recorder: Recorder, flow: str, email_id: str, missing: str
) -> None:
    constants = settings(recorder.url)
    del constants[missing]
    report = run(flow, constants=constants)
    assert recorder.requests == [] and report["requests"] == []
    assert only_mail(report)["sent"] is True
    assert "settings incomplete" in report["logs"][0]["message"]


@pytest.mark.parametrize(("flow", "email_id"), FLOWS)
def test_a_mail_the_shop_switched_off_stays_off(flow: str, email_id: str) -> None:
    report = run(flow, constants=settings(closed_port_url()), wc_enabled={email_id: False})
    assert only_mail(report)["sent"] is False  # we never switch WooCommerce's email ON


def test_unrelated_calls_of_the_filters_change_nothing(recorder: Recorder) -> None:
    report = run("unrelated_filters", constants=settings(recorder.url))
    assert only_mail(report)["enabled"] == {"customer_reset_password": True,
                                            "customer_new_account": True}
    assert recorder.requests == []


# ---- order details ("invoice") sent by the shop owner ----------------------------------------

INVOICE_ACCEPTED = {"ok": True, "topic": "action.tidings_order_invoice",
                    "events": [{"event_id": 3, "message_ids": [5], "duplicate": False}]}
WC_INVOICE_SENT = [{"id": "customer_invoice", "sent": True, "to": ORDER_EMAIL}]
WC_INVOICE_HELD = [{"id": "customer_invoice", "sent": False, "to": ""}]


def invoice_settings(url: str, secret: str = SECRET_AS_CONFIGURED) -> dict[str, str]:
    """No API key: the order details travel as a signed webhook."""
    return {"TIDINGS_HUB_URL": url, "TIDINGS_STORE_ID": "woo", "TIDINGS_WEBHOOK_SECRET": secret}


def run_invoice(flow: str = "invoice", **extra: Any) -> dict[str, Any]:
    return run(flow, order=ORDER, **extra)


def hmac_b64(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


@pytest.mark.parametrize("duplicate", [False, True])
def test_order_details_go_to_tidings_as_a_signed_woocommerce_webhook(
    recorder: Recorder, duplicate: bool
) -> None:
    recorder.status = 200
    recorder.body = {**INVOICE_ACCEPTED, "events": [
        {"event_id": 3, "message_ids": [] if duplicate else [5], "duplicate": duplicate}]}
    report = run_invoice(constants=invoice_settings(recorder.url))

    [request] = recorder.requests
    assert request["path"] == "/webhooks/woocommerce/woo"
    raw: bytes = request["raw"]
    # The signature, recomputed here as WC_Webhook::generate_signature() makes it: HMAC-SHA256
    # over the exact body bytes, keyed with the secret after its HTML entities are decoded.
    signature = hmac_b64(SECRET_AS_SIGNED, raw)
    assert signature != hmac_b64(SECRET_AS_CONFIGURED, raw)
    assert {name: request["headers"][name] for name in INVOICE_HEADERS} == INVOICE_HEADERS
    assert request["headers"]["X-WC-Webhook-Signature"] == signature
    assert "Authorization" not in request["headers"]
    assert report["requests"] == [{"url": f"{recorder.url}/webhooks/woocommerce/woo", "args": {
        "timeout": 5, "blocking": True, "redirection": 0, "data_format": "body",
        "headers": {**INVOICE_HEADERS, "X-WC-Webhook-Signature": signature}}}]

    body = json.loads(raw)
    assert set(body) == {"action", "arg", "request_id"}
    assert body["action"] == "tidings_order_invoice"
    assert body["arg"] == ORDER  # the REST v3 order, as the order.* webhooks carry it
    assert UUID4.match(body["request_id"])
    assert report["rest_calls"] == ["/wc/v3/orders/727"]

    # Tidings took it: WooCommerce's own mail is not sent (its order note still is).
    assert report["wc_mails"] == WC_INVOICE_HELD
    assert report["order_notes"] == ["Order details manually sent to customer."]
    assert report["logs"] == []


def test_each_click_is_a_new_request(recorder: Recorder) -> None:
    recorder.status, recorder.body = 200, INVOICE_ACCEPTED
    report = run_invoice("invoice_twice", constants=invoice_settings(recorder.url))
    first, second = (r["json"] for r in recorder.requests)
    assert first["arg"] == second["arg"] == ORDER
    assert first["request_id"] != second["request_id"]  # Tidings mails each click once
    assert report["wc_mails"] == WC_INVOICE_HELD * 2


def test_the_switch_ends_with_the_resend(recorder: Recorder) -> None:
    # Another plugin mailing the invoice later in the same request, without the resend
    # hooks, is not touched: WooCommerce sends that one.
    recorder.status, recorder.body = 200, INVOICE_ACCEPTED
    report = run_invoice("invoice_then_direct", constants=invoice_settings(recorder.url))
    assert len(recorder.requests) == 1
    assert report["wc_mails"] == WC_INVOICE_HELD + WC_INVOICE_SENT


def test_resending_the_new_order_notification_is_left_alone(recorder: Recorder) -> None:
    report = run_invoice("resend_new_order", constants=invoice_settings(recorder.url))
    assert recorder.requests == [] and report["rest_calls"] == [] and report["logs"] == []


def test_woocommerce_9_0_without_wc_api_endpoint_data(recorder: Recorder) -> None:
    # WC 9.0 moved get_endpoint_data() to RestApiUtil (what WC_Webhook uses since);
    # 9.1 put it back on WC()->api.
    recorder.status, recorder.body = 200, INVOICE_ACCEPTED
    report = run_invoice(constants=invoice_settings(recorder.url), wc_api="stub_9_0")
    assert recorder.requests[0]["json"]["arg"] == ORDER
    assert report["rest_calls"] == ["/wc/v3/orders/727"]
    assert report["wc_mails"] == WC_INVOICE_HELD


def test_order_details_settings_from_options(recorder: Recorder) -> None:
    recorder.status, recorder.body = 200, INVOICE_ACCEPTED
    options = {"tidings_hub_url": recorder.url + "/", "tidings_store_id": "woo",
               "tidings_webhook_secret": SECRET_AS_CONFIGURED}
    report = run_invoice(options=options)
    [request] = recorder.requests
    assert request["path"] == "/webhooks/woocommerce/woo"
    assert request["headers"]["X-WC-Webhook-Signature"] == hmac_b64(SECRET_AS_SIGNED,
                                                                     request["raw"])
    assert report["wc_mails"] == WC_INVOICE_HELD


@pytest.mark.parametrize("status", [500, 503])
def test_order_details_hub_5xx_leaves_woocommerce_copy_on(recorder: Recorder, status: int) -> None:
    recorder.status, recorder.body = status, {"error": "busy", "detail": "try later"}
    report = run_invoice(constants=invoice_settings(recorder.url))
    assert len(recorder.requests) == 1
    assert report["wc_mails"] == WC_INVOICE_SENT
    [log] = report["logs"]
    assert log["level"] == "warning" and f"HTTP {status}: try later" in log["message"]


def test_order_details_hub_down_leaves_woocommerce_copy_on() -> None:
    report = run_invoice(constants=invoice_settings(closed_port_url()))
    assert len(report["requests"]) == 1
    assert report["wc_mails"] == WC_INVOICE_SENT
    [log] = report["logs"]
    assert "Tidings is unreachable" in log["message"] and "refused" in log["message"]


def test_order_details_rejected_signature_leaves_woocommerce_copy_on(recorder: Recorder) -> None:
    recorder.status = 401
    recorder.body = {"error": "invalid_signature",
                     "detail": "the signature does not match; check the webhook's secret"}
    report = run_invoice(constants=invoice_settings(recorder.url))
    assert report["wc_mails"] == WC_INVOICE_SENT
    [log] = report["logs"]
    assert log["level"] == "error" and log["context"] == {"source": "tidings-companion"}
    message = log["message"]
    assert "order.invoice of order 727 (HTTP 401): invalid_signature: the signature" in message
    assert "s3cr" not in message


def test_a_hub_that_queues_nothing_leaves_woocommerce_copy_on(recorder: Recorder) -> None:
    # What a hub without the order.invoice topic answers: 200, nothing queued.
    recorder.status = 200
    recorder.body = {"ok": True, "topic": "action.tidings_order_invoice", "events": [],
                     "detail": "topic not used by Tidings"}
    report = run_invoice(constants=invoice_settings(recorder.url))
    assert len(recorder.requests) == 1
    assert report["wc_mails"] == WC_INVOICE_SENT
    [log] = report["logs"]
    assert log["level"] == "warning" and "queued no mail" in log["message"]


@pytest.mark.parametrize("missing",
                         ["TIDINGS_HUB_URL", "TIDINGS_STORE_ID", "TIDINGS_WEBHOOK_SECRET"])
def test_order_details_missing_settings_send_nothing(recorder: Recorder, missing: str) -> None:
    constants = {**settings(recorder.url), "TIDINGS_WEBHOOK_SECRET": SECRET_AS_CONFIGURED}
    del constants[missing]
    report = run_invoice(constants=constants)
    assert recorder.requests == [] and report["requests"] == []
    assert report["wc_mails"] == WC_INVOICE_SENT
    [log] = report["logs"]
    assert "settings incomplete" in log["message"] and "TIDINGS_WEBHOOK_SECRET" in log["message"]


@pytest.mark.parametrize(("rest", "reason"), [
    ("forbidden", "Sorry, you cannot view this resource."),
    ("unavailable", "The Rest API is unavailable."),
])
def test_order_details_unreadable_order_leaves_woocommerce_copy_on(
    recorder: Recorder, rest: str, reason: str
) -> None:
    report = run_invoice(constants=invoice_settings(recorder.url), rest=rest)
    assert recorder.requests == []
    assert report["wc_mails"] == WC_INVOICE_SENT
    [log] = report["logs"]
    assert log["level"] == "error"
    assert f"order 727 from WooCommerce's REST API ({reason})" in log["message"]


# ---- settings ---------------------------------------------------------------------------------


def test_options_work_without_constants_and_constants_win(recorder: Recorder) -> None:
    options = {"tidings_hub_url": recorder.url + "/", "tidings_api_key": "opt-key",
               "tidings_store_id": "from-options"}
    run("reset", options=options)
    assert recorder.requests[0]["path"] == "/api/v1/events"  # trailing slash trimmed
    assert recorder.requests[0]["headers"]["Authorization"] == "Bearer opt-key"
    assert recorder.requests[0]["json"]["store"] == "from-options"

    run("reset", options=options, constants={"TIDINGS_STORE_ID": "from-constant"})
    assert recorder.requests[1]["json"]["store"] == "from-constant"
    assert recorder.requests[1]["headers"]["Authorization"] == "Bearer opt-key"


def test_settings_page(recorder: Recorder) -> None:
    report = run("admin", constants={"TIDINGS_HUB_URL": recorder.url},
                 options={"tidings_api_key": "stored-key", "tidings_store_id": "woo",
                          "tidings_webhook_secret": "stored-secret"})
    admin = report["admin"]
    assert admin["pages"] == [{"page_title": "Tidings", "menu_title": "Tidings",
                               "capability": "manage_options", "slug": "tidings",
                               "callback": True}]
    assert {name: s["group"] for name, s in admin["settings"].items()} == {
        "tidings_hub_url": "tidings", "tidings_store_id": "tidings", "tidings_api_key": "tidings",
        "tidings_webhook_secret": "tidings"}
    # An empty API key or secret field keeps the stored one; the page never prints either.
    assert admin["settings"]["tidings_api_key"]["empty_input_becomes"] == "stored-key"
    assert admin["settings"]["tidings_webhook_secret"]["empty_input_becomes"] == "stored-secret"
    html = report["html"]
    assert "stored-key" not in html and "stored-secret" not in html
    assert 'name="tidings_webhook_secret" value=""' in html
    assert 'name="tidings_store_id" value="woo"' in html
    assert 'name="tidings_hub_url"' in html and "Set by TIDINGS_HUB_URL in wp-config.php." in html
    assert html.count(" disabled>") == 1


# ---- end to end: the plugin against a real Tidings hub -------------------------------------


def test_end_to_end_with_a_running_hub(woo_hub: RunningHub, smtp: CaptureServer) -> None:
    constants = settings(woo_hub.url, store="woo", key=API_KEY)
    report = run("reset", constants=constants)
    assert only_mail(report)["sent"] is False
    [key] = report["issued_keys"]
    created = run("created", constants=constants, password_generated=True)
    assert only_mail(created)["sent"] is False
    [set_key] = created["issued_keys"]

    # The same customer again (a retried request): Tidings answers 200 duplicate, still
    # accepted, so WooCommerce's copy stays off and nobody gets a second mail.
    again = run("created", constants=constants, password_generated=True)
    assert only_mail(again)["sent"] is False
    # WooCommerce's customer.created webhook for the same customer uses the same key: no 2nd mail.
    customer = {**fixture("woocommerce-customer.json"), "id": 42}
    body = json.dumps(customer).encode()
    hook = httpx.post(f"{woo_hub.url}/webhooks/woocommerce/woo", content=body, headers={
        "Content-Type": "application/json", "X-WC-Webhook-Topic": "customer.created",
        "X-WC-Webhook-Resource": "customer", "X-WC-Webhook-Event": "created",
        "X-WC-Webhook-Source": f"{SITE}/", "X-WC-Webhook-ID": "7",
        "X-WC-Webhook-Signature": wc_sign(body, SECRET_AS_SIGNED)})
    assert hook.status_code == 200, hook.text
    assert [e["duplicate"] for e in hook.json()["events"]] == [True]

    messages = httpx.get(f"{woo_hub.url}/api/v1/messages", params={"limit": 10},
                         headers={"Authorization": f"Bearer {API_KEY}"}).json()["messages"]
    assert sorted(m["type"] for m in messages) == ["account.created", "account.password_reset"]
    assert {m["recipient"]["email"] for m in messages} == {"ana@example.com"}
    for message in messages:
        woo_hub.wait_status(message["id"], "sent")
    texts = []
    for mail in smtp.wait_for(2):
        plain = mail.message.get_body(("plain",))
        assert plain is not None
        texts.append(plain.get_content())
    reset_url = f"{LOST}?key={key}&id=42&login={LOGIN_Q}"
    set_password_url = f"{LOST}?action=newaccount&key={set_key}&login={LOGIN_Q}"
    assert any(reset_url in text for text in texts), texts
    assert any(set_password_url in text for text in texts), texts


def test_order_details_end_to_end_with_a_running_hub(woo_hub: RunningHub,
                                                     smtp: CaptureServer) -> None:
    constants = {**settings(woo_hub.url, store="woo", key=API_KEY),
                 "TIDINGS_WEBHOOK_SECRET": SECRET_AS_CONFIGURED}  # as in tidings.toml
    assert run_invoice(constants=constants)["wc_mails"] == WC_INVOICE_HELD
    # The owner clicks again: a new request, so a second mail, as WooCommerce would send.
    assert run_invoice(constants=constants)["wc_mails"] == WC_INVOICE_HELD
    # A wrong secret: Tidings refuses the delivery and WooCommerce mails as before.
    wrong = run_invoice(constants={**constants, "TIDINGS_WEBHOOK_SECRET": "not-the-secret"})
    assert wrong["wc_mails"] == WC_INVOICE_SENT
    assert "invalid_signature" in wrong["logs"][0]["message"]

    messages = httpx.get(f"{woo_hub.url}/api/v1/messages", params={"limit": 10},
                         headers={"Authorization": f"Bearer {API_KEY}"}).json()["messages"]
    assert [m["type"] for m in messages] == ["order.invoice", "order.invoice"]
    assert {m["recipient"]["email"] for m in messages} == {ORDER_EMAIL}
    for message in messages:
        woo_hub.wait_status(message["id"], "sent")
    mails = smtp.wait_for(2)
    assert all(f"<{ORDER_EMAIL}>" in str(mail.message["To"]) for mail in mails)
    plain = mails[0].message.get_body(("plain",))
    assert plain is not None and str(ORDER["number"]) in plain.get_content()
