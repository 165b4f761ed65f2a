"""The ``tidings`` command."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import secrets
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import click
from pydantic import ValidationError

from tidings.core.config import DEFAULT_CONFIG_PATH, describe_errors
from tidings.core.errors import ConfigError, PluginError, TemplateError, TidingsError
from tidings.core.events import CATALOGUE, EventData, Recipient
from tidings.core.example_config import example_config
from tidings.core.hub import Hub
from tidings.core.plugins import Plugins, load_plugins
from tidings.core.samples import sample

config_option = click.option(
    "--config", "-c", "config_path", type=click.Path(path_type=Path), envvar="TIDINGS_CONFIG",
    default=DEFAULT_CONFIG_PATH, show_default=True, help="The config file (or $TIDINGS_CONFIG).")


@click.group()
@click.version_option(package_name="tidings")
def main() -> None:
    """Tidings: transactional email for online shops."""


def _plugins() -> Plugins:
    """The plugins ``run`` loaded (once per process), or load them now."""
    ctx = click.get_current_context()
    root = ctx.find_root()
    if not isinstance(root.obj, Plugins):
        root.obj = load_plugins()
    return root.obj


def _hub(config_path: Path) -> Hub:
    """Load config and plugins, or print every problem and exit 1."""
    try:
        return Hub.from_config(config_path, plugins=_plugins())
    except ConfigError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    except PluginError as exc:
        click.echo(f"plugin problem: {exc}", err=True)
        sys.exit(1)


@main.command()
@click.argument("path", type=click.Path(path_type=Path), default=DEFAULT_CONFIG_PATH)
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def init(path: Path, force: bool) -> None:
    """Write a commented example config (the demo setup with a test inbox)."""
    if path.exists() and not force:
        raise click.ClickException(f"{path} exists; pass --force to overwrite it")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(example_config(api_key=secrets.token_urlsafe(24)), encoding="utf-8")
    click.echo(f"wrote {path}; check it with 'tidings check-config -c {path}'")


@main.command("check-config")
@config_option
def check_config(config_path: Path) -> None:
    """Report every problem in the config at once (exit 1 if any)."""
    hub = _hub(config_path)
    problems = [f"stores.{sid}: {p}" for sid, store in hub.settings.stores.items()
                for p in hub.renderer.check(store)]
    if problems:
        click.echo(f"{config_path} has {len(problems)} problem(s):", err=True)
        for p in problems:
            click.echo(f"  - {p}", err=True)
        sys.exit(1)
    s = hub.settings
    click.echo(f"{config_path} is valid: {len(s.stores)} store(s), "
               f"{len(s.transports)} transport(s), {len(s.api.keys)} API key(s)")


@main.command()
@config_option
@click.option("--host", help="Override [server] host.")
@click.option("--port", type=int, help="Override [server] port.")
def serve(config_path: Path, host: str | None, port: int | None) -> None:
    """Run the hub: HTTP API, worker, plugins' pollers and, if enabled, the test inbox."""
    import uvicorn

    from tidings.core.api import create_app

    hub = _hub(config_path)
    server = uvicorn.Server(uvicorn.Config(
        create_app(hub), host=host or hub.settings.server.host,
        port=port if port is not None else hub.settings.server.port,
        lifespan="on", access_log=False, log_level="info"))
    if hub.inbox is not None:
        click.echo(f"test inbox: SMTP on {hub.settings.inbox.host}:{hub.settings.inbox.port}, "
                   f"page at http://{server.config.host}:{server.config.port}/inbox")
    server.run()
    if not server.started:
        sys.exit(1)


@main.command(hidden=True)
@config_option
@click.option("--report-fd", type=int, required=True,
              help="The pipe for send reports to the serving hub.")
def worker(config_path: Path, report_fd: int) -> None:
    """One extra delivery process (``delivery.processes``); ``tidings serve`` starts these."""
    from tidings.core.processes import deliver_only

    hub = _hub(config_path)
    _event_loop(deliver_only(hub, report_fd))


def _event_loop(main: Coroutine[Any, Any, None]) -> None:
    """uvloop when installed (it is, with uvicorn[standard]), as ``serve`` has."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(main)
    else:
        uvloop.run(main)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def plugins(as_json: bool) -> None:
    """List the plugins loaded through the 'tidings' entry points."""
    try:
        loaded = _plugins()
    except PluginError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        rows = [dataclasses.asdict(p) for p in loaded.loaded]
        click.echo(json.dumps({"plugins": rows, "platforms": sorted(loaded.platforms),
                               "transports": sorted(loaded.transports)}, indent=2))
        return
    for p in loaded.loaded:
        version = f" ({p.distribution} {p.version})" if p.distribution else ""
        click.echo(f"{p.name:<14} {p.module}{version}")
        click.echo(f"{'':<14} hooks: {', '.join(p.hooks) or '-'}")
    click.echo(f"platforms: {', '.join(sorted(loaded.platforms)) or '-'}")
    click.echo(f"transports: {', '.join(sorted(loaded.transports)) or '-'}")


@main.group()
def transports() -> None:
    """Work with the configured transports."""


@transports.command("check")
@config_option
@click.option("--transport", "names", multiple=True, help="Only this transport (repeatable).")
def transports_check(config_path: Path, names: tuple[str, ...]) -> None:
    """Prove each transport's credentials with its cheapest read-only call; exit 1 on failure."""
    hub = _hub(config_path)
    unknown = [n for n in names if n not in hub.transports]
    if unknown:
        raise click.BadParameter(f"not configured: {', '.join(unknown)}", param_hint="--transport")
    chosen = {n: t for n, t in hub.transports.items() if not names or n in names}

    async def run() -> list[tuple[str, bool, str]]:
        results = []
        for name, transport in chosen.items():
            try:
                results.append((name, True, await transport.check()))
            except TidingsError as exc:
                results.append((name, False, str(exc)))
            except NotImplementedError as exc:
                results.append((name, True, f"not checked: {exc}"))
            finally:
                await transport.close()
        return results

    failed = False
    for name, ok, detail in asyncio.run(run()):
        kind = hub.settings.transports[name].type
        click.echo(f"{'ok  ' if ok else 'FAIL'} {name} ({kind}): {detail}")
        failed |= not ok
    sys.exit(1 if failed else 0)


@main.command()
@click.argument("event_type", metavar="EVENT")
@config_option
@click.option("--store", "store_id", help="Store whose branding and templates to use.")
@click.option("--locale", help="The recipient's locale (e.g. fr, de_DE).")
@click.option("--data", "data_file", type=click.Path(exists=True, path_type=Path),
              help="JSON with the event's data (or {'recipient': ..., 'data': ...}).")
@click.option("--out", type=click.Path(path_type=Path), default=Path("preview"),
              show_default=True, help="Folder for the .html and .txt files.")
def preview(event_type: str, config_path: Path, store_id: str | None, locale: str | None,
            data_file: Path | None, out: Path) -> None:
    """Render EVENT's mail with sample or given data, without sending anything."""
    spec = CATALOGUE.get(event_type)
    if spec is None:
        raise click.BadParameter(f"{event_type!r} is not in the catalogue; known: "
                                 f"{', '.join(CATALOGUE)}", param_hint="EVENT")
    hub = _hub(config_path)
    if store_id is None:
        if not hub.settings.stores:
            raise click.ClickException(f"{config_path} defines no store")
        store_id = next(iter(hub.settings.stores))
    elif store_id not in hub.settings.stores:
        raise click.BadParameter(f"no store {store_id!r} in {config_path}", param_hint="--store")
    recipient, data = _preview_input(event_type, data_file)
    out.mkdir(parents=True, exist_ok=True)
    if locale:
        recipient = recipient.model_copy(update={"locale": locale})
    mail = hub.plan(store_id, spec, recipient, data)
    to = Recipient(email=mail.recipient_email, name=mail.recipient_name, locale=mail.locale)
    try:
        rendered = hub.render(mail.template, store_id, to, data, event_type)
    except TemplateError as exc:
        raise click.ClickException(str(exc)) from exc
    base = out / f"{mail.template}.{rendered.locale}"
    base.with_suffix(base.suffix + ".html").write_text(rendered.html, encoding="utf-8")
    base.with_suffix(base.suffix + ".txt").write_text(rendered.text, encoding="utf-8")
    click.echo(f"{mail.template} [{rendered.locale}] subject: {rendered.subject}")
    click.echo(f"  {base}.html\n  {base}.txt")


def _preview_input(event_type: str, data_file: Path | None) -> tuple[Recipient, EventData]:
    recipient, data = sample(event_type)
    if data_file is None:
        return recipient, data
    try:
        raw: Any = json.loads(data_file.read_text(encoding="utf-8"))
        if isinstance(raw, dict) and "data" in raw:
            if "recipient" in raw:
                recipient = Recipient.model_validate(raw["recipient"])
            raw = raw["data"]
        data = EventData.model_validate(raw)
    except json.JSONDecodeError as exc:
        raise click.ClickException(f"{data_file} is not valid JSON: {exc}") from exc
    except ValidationError as exc:
        problems = "\n".join(f"  - {p}" for p in describe_errors(exc))
        raise click.ClickException(f"{data_file} does not fit the catalogue:\n{problems}") from exc
    missing = CATALOGUE[event_type].missing(data)
    if missing:
        raise click.ClickException(f"{event_type} needs {', '.join(missing)} in {data_file}")
    return recipient, data


def run() -> None:
    """The console entry point: plugins may add subcommands before the command line is read."""
    plugins = None
    try:
        plugins = load_plugins()
        plugins.pm.hook.register_commands(cli=main)
    except PluginError as exc:
        click.echo(f"warning: plugin commands unavailable: {exc}", err=True)
    main(obj=plugins)
