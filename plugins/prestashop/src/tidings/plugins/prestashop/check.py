"""``tidings prestashop check``: can the hub read this shop? Said in plain words.

``GET /api/`` lists the resources the key may use, with its methods as
attributes, so one request tells which of the resources polling needs are
missing; then one read proves the key really works for the status stream.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from tidings.core.setup_check import CheckLine, Level, register_check
from tidings.plugins.prestashop.client import (
    PsAuthError,
    PsClient,
    PsDisabled,
    PsError,
    PsNotFound,
    PsUnreachable,
)
from tidings.plugins.prestashop.config import PrestaShopOptions

if TYPE_CHECKING:
    from tidings.core.hub import Hub

__all__ = ["NEEDED", "OPTIONAL", "CheckLine", "Level", "check_store", "explain", "register"]

WEBSERVICE_PAGE = "Advanced Parameters → Webservice"
# Resource → what it is for; without these, polling cannot work.
NEEDED = {
    "order_histories": "order status changes (every order mail starts here)",
    "orders": "the orders themselves",
    "customers": "customers' e-mail addresses and new accounts",
    "order_states": "what each status means (paid, shipped, delivered…)",
    "languages": "each customer's language",
    "currencies": "the orders' currencies",
    "order_slips": "credit slips (refund mails)",
}
# Resource → what is lost without it; mails still go.
OPTIONAL = {
    "addresses": "mails show no billing or shipping address",
    "order_carriers": "shipping mails carry no tracking number (only the order's own)",
}




def explain(exc: PsError) -> str:
    """What a webservice failure means for the owner, and what to do."""
    said = f" (PrestaShop said: {exc.ps_message})" if exc.ps_message else ""
    if isinstance(exc, PsAuthError):
        return ("PrestaShop refused the webservice key (HTTP 401): it is wrong, disabled, or "
                f"was deleted. Copy the key again from {WEBSERVICE_PAGE}, and check that its "
                "Status is enabled. On Apache with CGI/FastCGI the Authorization header may "
                f"be dropped: add 'CGIPassAuth On' to the shop's .htaccess.{said}")
    if isinstance(exc, PsDisabled):
        return ("The shop's webservice is turned off (HTTP 503). Enable it: "
                f"{WEBSERVICE_PAGE} → 'Enable PrestaShop's webservice' → Yes, Save.{said}")
    if isinstance(exc, PsNotFound):
        return (f"There is no PrestaShop webservice at {exc.url}. Check url (the shop's home "
                "address) and that URL rewriting (friendly URLs) lets /api/ through.")
    if isinstance(exc, PsUnreachable):
        return f"The shop could not be reached: {exc}. Check url and try again later."
    return f"The shop's answer was not usable: {exc}"


async def check_store(options: PrestaShopOptions, client: PsClient) -> list[CheckLine]:
    """Every finding about one store, most basic first; talks to the shop read-only."""
    lines: list[CheckLine] = []
    try:
        allowed = await client.permissions()
    except PsError as exc:
        return [CheckLine(Level.FAIL, explain(exc)), _polling(options, ok=False)]
    lines.append(CheckLine(Level.OK, f"The webservice answers at {client.url}/api/ and knows "
                           "the key."))
    missing = [name for name in NEEDED if "get" not in allowed.get(name, set())]
    if missing:
        what = "; ".join(f"{name} — {NEEDED[name]}" for name in missing)
        lines.append(CheckLine(Level.FAIL, f"The key may not read (GET) {len(missing)} "
                               f"resource(s) the hub needs: {what}. Edit the key under "
                               f"{WEBSERVICE_PAGE} and tick 'View (GET)' for "
                               f"{', '.join(missing)}."))
    else:
        lines.append(CheckLine(Level.OK, f"The key may read everything polling needs "
                               f"({', '.join(NEEDED)})."))
    for name, loss in OPTIONAL.items():
        if "get" not in allowed.get(name, set()):
            lines.append(CheckLine(Level.WARN, f"The key may not read {name}, so {loss}. Tick "
                                   f"'View (GET)' for {name} under {WEBSERVICE_PAGE}."))
    writes = sorted(n for n, methods in allowed.items() if methods - {"get", "head"})
    if writes:
        lines.append(CheckLine(Level.WARN, "The key may also change data (" + ", ".join(writes)
                               + "). The hub only reads; a read-only key is safer."))
    ok = not missing
    if "get" in allowed.get("order_histories", set()):
        try:
            await client.latest_history()
        except PsError as exc:
            ok = False
            lines.append(CheckLine(Level.FAIL, f"Reading order_histories failed. {explain(exc)}"))
    lines.append(_polling(options, ok=ok))
    return lines


def _polling(options: PrestaShopOptions, *, ok: bool) -> CheckLine:
    if not options.poll_interval:
        return CheckLine(Level.WARN, "Polling is off (poll_interval = 0), so no mail is sent "
                         "for this shop. Set poll_interval, e.g. 60.")
    if not ok:
        return CheckLine(Level.FAIL, f"Polling every {options.poll_interval:g} s is configured "
                         "but cannot work until the problems above are fixed.")
    return CheckLine(Level.OK, f"Polling every {options.poll_interval:g} s (each poll looks "
                     f"back {options.poll_overlap:g} s more).")


def register(cli: click.Group) -> None:
    """Add ``tidings prestashop check`` to the ``tidings`` command."""
    register_check(cli, platform="prestashop", title="PrestaShop", options=PrestaShopOptions,
                   describe=lambda sid, o: f"PrestaShop store '{sid}' ({o.url}):",
                   checks=_checks,
                   summary="Check a store's webservice key and its permissions; exit 1 if "
                           "anything fails.")


async def _checks(hub: Hub, store_id: str, options: PrestaShopOptions) -> list[CheckLine]:
    async with PsClient(options.url, options.api_key.get_secret_value(), timeout=20) as client:
        return await check_store(options, client)
