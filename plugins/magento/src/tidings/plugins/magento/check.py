"""``tidings magento check``: can Tidings read this shop? Said in plain words.

An integration's access is an ACL tree ticked in the admin; a missing tick
shows up only as Magento's terse "The consumer isn't authorized to access
%resources." on one endpoint, and since 2.4.4 an integration token used as
Bearer fails the same way. So the command asks every endpoint polling uses
and translates each refusal into what to click.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from tidings.core.config import Settings
from tidings.core.setup_check import CheckLine, Level, register_check
from tidings.plugins.magento.client import (
    MagentoAuthError,
    MagentoClient,
    MagentoError,
    MagentoNotFound,
    MagentoUnreachable,
)
from tidings.plugins.magento.config import MagentoOptions
from tidings.plugins.magento.poll import RESOURCES, client_for
from tidings.plugins.magento.webhook import load_public_key

if TYPE_CHECKING:
    from tidings.core.hub import Hub

__all__ = ["CheckLine", "Level", "check_store", "delivery_url", "explain", "register"]

INTEGRATIONS_PAGE = "System › Extensions › Integrations"
# What each polled endpoint needs ticked under the integration's "API" tab.
NEEDS = {
    "orders": ("orders", "Sales › Operations › Orders › Actions › View",
               "Magento_Sales::actions_view"),
    "invoices": ("invoices", "Sales › Operations › Invoices", "Magento_Sales::sales_invoice"),
    "shipments": ("shipments", "Sales › Operations › Shipments", "Magento_Sales::shipment"),
    "creditmemos": ("credit memos", "Sales › Operations › Credit Memos",
                    "Magento_Sales::sales_creditmemo"),
    "customers": ("customers", "Customers › All Customers", "Magento_Customer::customer"),
}
UNAUTHORIZED = "isn't authorized"




def delivery_url(settings: Settings, store_id: str) -> str:
    base = settings.server.public_url or f"http://{settings.server.host}:{settings.server.port}"
    return f"{base.rstrip('/')}/webhooks/magento/{store_id}"


def explain(exc: MagentoError, options: MagentoOptions, what: str = "the shop",
            acl: str | None = None) -> str:
    """What a REST failure means for the owner, and what to do, with Magento's words."""
    said = f" Magento said: \"{exc.magento_message}\"" if exc.magento_message else ""
    if isinstance(exc, MagentoAuthError):
        message = exc.magento_message or ""
        if "signature is invalid" in message:
            advice = ("Magento rejected the OAuth signature: consumer_secret or "
                      "access_token_secret does not match the integration. Copy all four "
                      f"values again from {INTEGRATIONS_PAGE} › (your integration) › Integration "
                      "Info (after 'Reauthorize' they change).")
        elif "consumer" in message.lower() and "not exist" in message.lower():
            advice = ("Magento does not know this consumer_key. Copy it again from "
                      f"{INTEGRATIONS_PAGE} › Integration Info; the integration must be "
                      "Activated.")
        elif "token" in message.lower():
            advice = ("Magento does not accept the access_token. Copy access_token and "
                      f"access_token_secret again from {INTEGRATIONS_PAGE}; if the integration "
                      "was reauthorized, the old tokens are gone.")
        elif UNAUTHORIZED in message and options.bearer_token is not None:
            advice = (f"Magento refused the bearer_token for {what}. Either the token is wrong "
                      "or expired (admin tokens last 4 hours), or it is an integration token: "
                      "since Magento 2.4.4 those are refused as Bearer unless Stores › "
                      "Configuration › Services › OAuth › Consumer Settings › 'Allow OAuth "
                      "Access Tokens to be used as standalone Bearer tokens' is Yes. Better: "
                      "use the four OAuth credentials instead of bearer_token.")
        elif UNAUTHORIZED in message:
            needed = exc.resources or acl or "a resource"
            label = next((n[1] for n in NEEDS.values() if n[2] == needed), None)
            where = f" ('{label}', {needed})" if label else f" ({needed})"
            advice = (f"The integration may not read {what}: grant{where} under "
                      f"{INTEGRATIONS_PAGE} › (your integration) › API › Resource Access, "
                      "save, and click 'Reauthorize'.")
        else:
            advice = "Magento refused the credentials."
        return f"{advice}{said}"
    if isinstance(exc, MagentoNotFound):
        return (f"There is no Magento REST API at {exc.url}. Check url (the shop's base "
                f"address) and store_code ('{options.store_code}').{said}")
    if isinstance(exc, MagentoUnreachable):
        return f"The shop could not be reached: {exc}. Check url and try again later."
    return f"The shop's answer was not usable: {exc}"


async def check_store(settings: Settings, store_id: str, options: MagentoOptions,
                      client: MagentoClient | None) -> list[CheckLine]:
    """Every finding about one store, most basic first; talks to the shop read-only."""
    lines: list[CheckLine] = []
    rest_ok = False
    if client is None:
        lines.append(CheckLine(Level.FAIL if options.poll_interval else Level.WARN,
                               "No API credentials, so the shop cannot be polled. Create an "
                               f"integration under {INTEGRATIONS_PAGE} (Add New Integration, "
                               "API: the resources below), Activate it, and set consumer_key, "
                               "consumer_secret, access_token and access_token_secret."))
    else:
        rest_ok = True
        how = "OAuth 1.0a (HMAC-SHA256)" if client.oauth is not None else "a Bearer token"
        for resource, (path, _field, _key) in RESOURCES.items():
            title, _label, acl = NEEDS[resource]
            try:
                total = await client.count(path)
            except MagentoError as exc:
                rest_ok = False
                lines.append(CheckLine(Level.FAIL, f"Cannot read {title}: "
                                       f"{explain(exc, options, title, acl)}"))
                if not isinstance(exc, MagentoAuthError) or UNAUTHORIZED not in str(exc):
                    break  # the same cause would repeat for every endpoint
            else:
                lines.append(CheckLine(Level.OK, f"Can read {title} ({total}) with {how}."))
    lines.append(_webhook_line(settings, store_id, options))
    lines.append(_polling_line(options, rest_ok=rest_ok))
    return lines


def _webhook_line(settings: Settings, store_id: str, options: MagentoOptions) -> CheckLine:
    if options.webhook_public_key is None:
        return CheckLine(Level.OK, "Webhooks are not used (no webhook_public_key); orders are "
                         "learned by polling.")
    try:
        load_public_key(options.webhook_public_key)
    except ValueError as exc:
        return CheckLine(Level.FAIL, f"webhook_public_key is not a usable RSA public key ({exc})"
                         ". Paste the public key shown under Stores › Configuration › Adobe "
                         "Services › Webhooks, including the BEGIN/END lines.")
    return CheckLine(Level.OK, "webhook_public_key is a valid RSA key. Webhooks for "
                     "observer.sales_order_place_after must call "
                     f"{delivery_url(settings, store_id)}.")


def _polling_line(options: MagentoOptions, *, rest_ok: bool) -> CheckLine:
    if options.poll_interval and not rest_ok:
        return CheckLine(Level.FAIL, f"Polling every {options.poll_interval:g} s is configured "
                         "but cannot work until the problems above are fixed.")
    if options.poll_interval:
        return CheckLine(Level.OK, f"Polling every {options.poll_interval:g} s.")
    return CheckLine(Level.WARN, "Polling is off, so payments, shipments, refunds, "
                     "cancellations and new accounts are not mailed (webhooks cover new orders "
                     "only). Set poll_interval (e.g. 120).")


def register(cli: click.Group) -> None:
    """Add ``tidings magento check`` to the ``tidings`` command."""
    register_check(cli, platform="magento", title="Magento", options=MagentoOptions,
                   describe=lambda sid, o: f"Magento store '{sid}' ({o.url}, store view "
                                           f"'{o.store_code}'):",
                   checks=_checks,
                   summary="Check a store's API credentials, permissions and webhook key; "
                           "exit 1 on problems.")


async def _checks(hub: Hub, store_id: str, options: MagentoOptions) -> list[CheckLine]:
    if not options.can_read:
        return await check_store(hub.settings, store_id, options, None)
    async with client_for(options, timeout=20) as client:
        return await check_store(hub.settings, store_id, options, client)
