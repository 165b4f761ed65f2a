"""Every extension point of the hub, and nothing else.

Rules the loader enforces (see :mod:`tidings.core.plugins`):

* Registration hooks hand the plugin a ``register`` callable; the core keeps
  the registry, so duplicates and listings are handled in one place.
* Observer hooks (``startup``, ``shutdown``, ``event_accepted``,
  ``after_send``) may be ``async def``. Each implementation runs on its own:
  one that raises is logged with its plugin's name and the others still run.
* ``resolve_locale`` (the only first-result hook: a coroutine would count as
  an answer even when it means "no answer"), ``template_context`` and
  ``before_send`` run inside the send path and must be plain functions.
* A hook implementation whose name is not below is an error at start-up.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import click
    from starlette.routing import BaseRoute

    from tidings.core.config import StoreConfig
    from tidings.core.events import EventData, Recipient
    from tidings.core.hub import Hub
    from tidings.core.mime import OutgoingMail
    from tidings.core.platform import Platform
    from tidings.core.transports.base import TransportType
    from tidings.core.worker import SendReport

PROJECT = "tidings"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

# -- registration -------------------------------------------------------------------------


@hookspec
def register_platforms(register: Callable[[Platform], None]) -> None:
    """Declare the shop platforms this plugin provides.

    Call ``register(Platform(name=..., title=..., options=Model))`` once per
    platform; ``Model`` validates ``[stores.<id>.options]`` of every store whose
    ``platform`` is that name. Two plugins registering one name is an error.
    """


@hookspec
def register_transports(register: Callable[[TransportType], None]) -> None:
    """Declare delivery transports (``type = "..."`` under ``[transports.<name>]``).

    Call ``register(TransportType(name=..., options=Model, factory=...))``;
    ``factory(name, options)`` builds a :class:`~tidings.core.transports.base.Transport`.
    """


@hookspec
def register_routes(register: Callable[[BaseRoute], None], hub: Hub) -> None:
    """Add HTTP routes (webhook receivers, catch endpoints) to the hub's app.

    Routes receive raw requests; a webhook route must verify, parse and hand
    events to ``hub.accept``, nothing more.
    """


@hookspec
def register_commands(cli: click.Group) -> None:
    """Add subcommands to the ``tidings`` command, e.g. ``tidings woocommerce check``.

    Use ``@cli.group()`` / ``@cli.command()``; name the group after the platform.
    """


# -- lifecycle ----------------------------------------------------------------------------


@hookspec
def startup(hub: Hub) -> Awaitable[None] | None:
    """The hub is ready: storage open, worker about to run. Start pollers with ``hub.spawn``.

    May be ``async def``. A failing implementation is logged and does not stop the others.
    """


@hookspec
def shutdown(hub: Hub) -> Awaitable[None] | None:
    """The hub is stopping; tasks started with ``hub.spawn`` are cancelled after this."""


# -- the path of one mail -----------------------------------------------------------------


@hookspec(firstresult=True)
def resolve_locale(
    store_id: str, store: StoreConfig, recipient: Recipient, data: EventData
) -> str | None:
    """Choose the locale of a customer's mail when the event did not say it.

    Stops at the first non-``None`` answer; the store's ``locale`` is the fallback.
    Must be a plain function (not ``async``).
    """


@hookspec
def event_accepted(
    hub: Hub, store_id: str, event_id: int, event_type: str, message_ids: list[int],
    data: EventData,
) -> Awaitable[None] | None:
    """An event is on disk and its mails are queued. Observers only (e.g. Zapier triggers).

    May be ``async def``; runs after the sender got its answer, so it cannot slow ingest.
    """


@hookspec
def template_context(
    template: str, store_id: str, store: StoreConfig, recipient: Recipient, data: EventData
) -> Mapping[str, Any] | None:
    """Return extra variables for a template; every answer is merged, later plugins win."""


@hookspec
def before_send(mail: OutgoingMail, store_id: str) -> None:
    """Adjust a rendered mail just before it is handed to a transport.

    Plugins may add headers (``mail.headers``) or tags; they may not change the
    recipients. Raising marks the message failed with the plugin's error.
    """


@hookspec
def after_send(hub: Hub, report: SendReport) -> Awaitable[None] | None:
    """A delivery attempt ended (sent, deferred, failed or dead). Observers only.

    May be ``async def``; an exception is logged and never changes the message's state.
    """
