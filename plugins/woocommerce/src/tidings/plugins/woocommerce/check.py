"""``tidings woocommerce check``: is this shop wired to the hub? Said in plain words.

A WooCommerce webhook that fails more than five times in a row is disabled by
WooCommerce without telling anyone, and lost deliveries are never retried, so
the owner needs one command that reads the shop's own settings (REST keys,
webhooks) and says what is missing and where to click.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import click

from tidings.core.config import Settings
from tidings.core.setup_check import CheckLine, Level, register_check
from tidings.plugins.woocommerce.client import (
    WooAuthError,
    WooClient,
    WooError,
    WooNotFound,
    WooUnreachable,
)
from tidings.plugins.woocommerce.config import WooOptions

if TYPE_CHECKING:
    from tidings.core.hub import Hub

__all__ = ["CheckLine", "Level", "check_store", "delivery_url", "register"]

NOTE_TOPIC = "action.woocommerce_new_customer_note"
TOPICS = ("order.created", "order.updated", "order.deleted", "order.restored",
          "customer.created", NOTE_TOPIC)
TOPIC_TITLES = {
    "order.created": "Order created", "order.updated": "Order updated",
    "order.deleted": "Order deleted", "order.restored": "Order restored",
    "customer.created": "Customer created",
    NOTE_TOPIC: "Action, with action event 'woocommerce_new_customer_note'",
}
WEBHOOKS_PAGE = "WooCommerce → Settings → Advanced → Webhooks"
KEYS_PAGE = "WooCommerce → Settings → Advanced → REST API"




def delivery_url(settings: Settings, store_id: str) -> str:
    """Where this store's webhooks must deliver: the public URL, else host:port."""
    base = settings.server.public_url or f"http://{settings.server.host}:{settings.server.port}"
    return f"{base.rstrip('/')}/webhooks/woocommerce/{store_id}"


async def check_store(hub_settings: Settings, store_id: str, options: WooOptions,
                      client: WooClient | None) -> list[CheckLine]:
    """Every finding about one store, most basic first; talks to the shop read-only."""
    lines: list[CheckLine] = []
    hooks, rest_ok = await _check_rest(lines, options, client)
    if hooks is not None:
        _check_webhooks(lines, hub_settings, store_id, options, hooks)
    elif options.webhook_secret is not None:
        lines.append(CheckLine(Level.FAIL, "The webhooks could not be checked (see above)."))
    lines.append(_polling_line(options, rest_ok=rest_ok))
    return lines


# -- REST keys ------------------------------------------------------------------------------


async def _check_rest(lines: list[CheckLine], options: WooOptions, client: WooClient | None
                      ) -> tuple[list[dict[str, Any]] | None, bool]:
    """Prove the keys read orders, customers and webhooks: (the webhooks, polling can work)."""
    if client is None:
        missing = " and ".join(name for name, value in (
            ("url", options.url), ("consumer_key", options.consumer_key)) if value is None)
        lines.append(CheckLine(Level.FAIL, f"No {missing} in this store's options, so the shop "
                               f"cannot be asked. Create read-only keys under {KEYS_PAGE} "
                               "(Add key, Permissions: Read) and set url, consumer_key and "
                               "consumer_secret."))
        return None, False
    try:
        total = await client.count_orders()
    except WooError as exc:
        lines.append(CheckLine(Level.FAIL, explain(exc)))
        return None, False
    how = "https (Basic auth)" if client.https else "plain http (OAuth 1.0a signatures)"
    lines.append(CheckLine(Level.OK, f"The REST keys work and can read orders ({total} in the "
                           f"shop), over {how}."))
    rest_ok = True
    try:
        await client.latest_customer_id()
    except WooError as exc:
        rest_ok = not options.poll_interval
        lines.append(CheckLine(Level.WARN if rest_ok else Level.FAIL,
                               "The keys cannot read customer accounts, so polling cannot find "
                               f"new accounts. {explain(exc)}"))
    else:
        lines.append(CheckLine(Level.OK, "The keys can read customer accounts."))
    try:
        return await client.webhooks(), rest_ok
    except WooError as exc:
        lines.append(CheckLine(Level.FAIL, f"The keys cannot list the shop's webhooks. "
                               f"{explain(exc)}"))
        return None, rest_ok


def explain(exc: WooError) -> str:
    """What a REST failure means for the owner, and what to do, with WooCommerce's words."""
    said = f" (WooCommerce said: {exc.code}: {exc.wc_message})" if exc.code else ""
    message = (exc.wc_message or "").lower()
    if isinstance(exc, WooAuthError):
        if "consumer key is invalid" in message:
            advice = ("WooCommerce does not know this consumer_key. Copy it again from "
                      f"{KEYS_PAGE} (it starts with ck_), or create a new key there.")
        elif "consumer secret is invalid" in message or "signature does not match" in message:
            advice = ("The consumer_secret does not belong to this consumer_key. Copy it again "
                      "(it starts with cs_; WooCommerce shows it only once, so you may need a "
                      "new key). Over plain http the signature also covers the address: url "
                      "must be exactly the shop's Site Address (Settings → General).")
        elif "timestamp" in message:
            advice = ("This computer's clock and the shop's differ by more than 15 minutes, so "
                      "WooCommerce rejects the signed requests. Correct the clock (NTP), or use "
                      "https, which needs no timestamps.")
        elif "read permissions" in message:
            advice = (f"The key may only write. Edit it under {KEYS_PAGE} and set Permissions "
                      "to Read (or Read/Write).")
        elif exc.code == "woocommerce_rest_cannot_view" and exc.status == 403:
            advice = ("The keys work, but the WordPress user they belong to may not see this. "
                      "Create the keys for an Administrator or Shop manager.")
        elif exc.code == "woocommerce_rest_cannot_view":
            advice = ("WooCommerce treated the request as anonymous: the consumer_key is not "
                      "one it knows, or the web server removed the Authorization header "
                      "(on Apache with CGI/FastCGI, add 'CGIPassAuth On').")
        else:
            advice = "WooCommerce refused the REST keys."
        return f"{advice}{said}"
    if isinstance(exc, WooNotFound):
        return (f"There is no WooCommerce REST API at {exc.url}. Check url (the shop's home "
                "address), that WooCommerce is active, and that Settings → Permalinks is not "
                f"'Plain'.{said}")
    if isinstance(exc, WooUnreachable):
        return f"The shop could not be reached: {exc}. Check url and try again later."
    return f"The shop's answer was not usable: {exc}"


# -- webhooks -------------------------------------------------------------------------------


def _check_webhooks(lines: list[CheckLine], settings: Settings, store_id: str,
                    options: WooOptions, hooks: Sequence[dict[str, Any]]) -> None:
    expected = delivery_url(settings, store_id)
    ours = [h for h in hooks if _same_url(str(h.get("delivery_url", "")), expected)]
    strays = [h for h in hooks if h not in ours
              and "/webhooks/woocommerce/" in str(h.get("delivery_url", ""))]
    for hook in strays:
        lines.append(CheckLine(Level.WARN, f"{_name(hook)} delivers to {hook.get('delivery_url')}"
                               f", not to {expected}. If it is meant for this store, change its "
                               f"Delivery URL under {WEBHOOKS_PAGE}."))
    if options.webhook_secret is None:
        if ours:
            lines.append(CheckLine(Level.FAIL, f"{len(ours)} webhook(s) deliver to {expected}, "
                                   "but this store has no webhook_secret, so the hub refuses "
                                   "them. Set webhook_secret to the Secret shown on the webhooks."))
        else:
            lines.append(CheckLine(Level.OK, "Webhooks are not used (no webhook_secret); the "
                                   "hub learns about orders by polling."))
        return
    if settings.server.public_url is None:
        lines.append(CheckLine(Level.WARN, f"server.public_url is not set, so the expected "
                               f"address is {expected}; the shop must be able to reach it. Set "
                               "server.public_url to the address the shop sees the hub at."))
    active = [t for t in TOPICS
              if any(h.get("topic") == t and h.get("status") == "active" for h in ours)]
    if active:
        lines.append(CheckLine(Level.OK, f"Webhooks deliver to {expected}: {', '.join(active)}."))
    for hook in ours:
        if hook.get("status") != "active":
            lines.append(CheckLine(Level.FAIL, _inactive(hook, options)))
    for topic in TOPICS:
        count = sum(h.get("topic") == topic for h in ours)
        if count > 1:
            lines.append(CheckLine(Level.WARN, f"{count} webhooks send {topic} to the hub; one "
                                   "is enough (the hub mails once anyway). Delete the others."))
    present = {h.get("topic") for h in ours}
    needed = [t for t in TOPICS if t not in present and t != NOTE_TOPIC]
    if needed:
        covered = (f" Polling catches these changes within {options.poll_interval:g} s, "
                   "so they are late, not lost.") if options.poll_interval else ""
        titles = ", ".join(f"'{TOPIC_TITLES[t]}'" for t in needed)
        lines.append(CheckLine(
            Level.WARN if covered else Level.FAIL,
            f"No webhook sends {', '.join(needed)} to the hub.{covered} Add them under "
            f"{WEBHOOKS_PAGE} → Add webhook, one per topic: Topic {titles}; "
            f"{_settings_for(expected)}"))
    if NOTE_TOPIC not in present:
        lines.append(CheckLine(
            Level.WARN, "Recommended: notes to customers are mailed only through a webhook. Add "
            f"one under {WEBHOOKS_PAGE} → Add webhook: Topic 'Action', Action event "
            f"'woocommerce_new_customer_note'; {_settings_for(expected)}"))


def _inactive(hook: dict[str, Any], options: WooOptions) -> str:
    status = str(hook.get("status"))
    how = (f"Re-enable it under {WEBHOOKS_PAGE}: open it, set Status to Active, Save webhook "
           "(WooCommerce pings the hub then).")
    if status != "disabled":
        return f"{_name(hook)} is {status}, so WooCommerce sends nothing with it. {how}"
    since = ("Polling has kept up with orders meanwhile." if options.poll_interval else
             "What it failed to deliver is lost; turn on polling (poll_interval) to catch up.")
    return (f"{_name(hook)} is disabled. WooCommerce disables a webhook by itself after more than "
            "5 failed deliveries in a row (the hub was down, unreachable from the shop, or "
            f"refused the signature) and never resends them. {how} {since}")


def _settings_for(expected: str) -> str:
    return (f"Status Active; Delivery URL {expected}; Secret: this store's webhook_secret; "
            "API version: WP REST API Integration v3.")


def _name(hook: dict[str, Any]) -> str:
    return f"Webhook #{hook.get('id')} '{hook.get('name', '')}' ({hook.get('topic')})"


def _same_url(given: str, expected: str) -> bool:
    def key(url: str) -> tuple[str, str, int | None, str]:
        parts = urlsplit(url.strip())
        scheme = parts.scheme.lower()
        try:
            port = parts.port or {"http": 80, "https": 443}.get(scheme)
        except ValueError:
            port = None
        return scheme, (parts.hostname or "").lower(), port, parts.path.rstrip("/")
    return key(given) == key(expected)


def _polling_line(options: WooOptions, *, rest_ok: bool) -> CheckLine:
    if options.poll_interval and not rest_ok:
        return CheckLine(Level.FAIL, f"Polling every {options.poll_interval:g} s is configured "
                         "but cannot work until the problems above are fixed.")
    if options.poll_interval:
        return CheckLine(Level.OK, f"Polling every {options.poll_interval:g} s (each poll looks "
                         f"back {options.poll_overlap:g} s more), so missed webhooks are caught.")
    return CheckLine(Level.WARN, "Polling is off. WooCommerce never resends a failed webhook, "
                     "so a delivery lost while the hub is down is a lost mail. Set poll_interval "
                     "(e.g. 300) with the REST keys to catch up automatically.")


# -- the command ----------------------------------------------------------------------------


def register(cli: click.Group) -> None:
    """Add ``tidings woocommerce check`` to the ``tidings`` command."""
    register_check(cli, platform="woocommerce", title="WooCommerce", options=WooOptions,
                   describe=lambda sid, o: f"WooCommerce store '{sid}' ({o.url or 'no url'}):",
                   checks=_checks,
                   summary="Check a store's REST keys, webhooks and polling; exit 1 if anything "
                           "fails.")


async def _checks(hub: Hub, store_id: str, options: WooOptions) -> list[CheckLine]:
    if options.url is None or options.consumer_key is None or options.consumer_secret is None:
        return await check_store(hub.settings, store_id, options, None)
    async with WooClient(options.url, options.consumer_key.get_secret_value(),
                         options.consumer_secret.get_secret_value(), timeout=20) as client:
        return await check_store(hub.settings, store_id, options, client)
