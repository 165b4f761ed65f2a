"""The :class:`Renderer`: template lookup, the compile cache, and the per-message context."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import mjml

from tidings.core.config import Branding, StoreConfig
from tidings.core.errors import TemplateError
from tidings.core.events import CATALOGUE, EventData, Recipient

from ._codegen import Environments, make_environments
from ._compile import Compiled, CompileError, Source, compile_template, version_of
from ._i18n import HELPER_NAMES, Formatter, formatter, resolve_locale

__all__ = ["DEFAULTS_DIR", "EventView", "RenderedMail", "Renderer", "StoreView", "template_names"]

DEFAULTS_DIR = Path(__file__).parent / "defaults"
_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,99}$")
_INCLUDE = re.compile(r"<mj-include\b[^>]*?\bpath\s*=\s*([\"'])(.*?)\1", re.S)

_Stat = tuple[int, int] | None


@dataclass(frozen=True)
class RenderedMail:
    """One rendered message, ready for MIME assembly."""

    subject: str
    html: str
    text: str
    locale: str
    template_version: str


@dataclass(frozen=True)
class StoreView:
    """What templates see as ``store``: the shop's public face, never its secrets."""

    id: str
    name: str
    url: str | None
    locale: str
    timezone: str
    branding: Branding
    from_email: str
    from_name: str | None
    reply_to: str | None


@dataclass(frozen=True)
class EventView:
    """What templates see as ``event``."""

    type: str
    id: str | None


def template_names() -> list[str]:
    """Every template name the event catalogue can ask for."""
    return sorted(event.template for event in CATALOGUE.values())


def _stat(path: Path) -> _Stat:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size)


@dataclass(frozen=True)
class _Resolved:
    """A lookup result plus the store files whose change must trigger a new lookup."""

    compiled: Compiled | None
    error: str | None
    watch: tuple[tuple[Path, _Stat], ...]
    override: Path | None

    def fresh(self) -> bool:
        return all(_stat(path) == seen for path, seen in self.watch)


class Renderer:
    """Renders mails from MJML templates, compiling each template version only once.

    ``compile_mjml`` is the MJML compiler (``mjml.mjml2html``); it is a
    parameter so tests can count compiles and other builds can swap it.
    ``single_pass=False`` renders HTML and text as separate templates, without
    the faster single-pass template of ``_dual``: the reference it is tested
    against.
    Store overrides are re-checked on every render with one ``stat`` per file,
    so an edited template is picked up without a restart; the built-in
    templates are read once.
    """

    def __init__(
        self,
        *,
        compile_mjml: Callable[..., str] = mjml.mjml2html,
        defaults_dir: Path = DEFAULTS_DIR,
        single_pass: bool = True,
    ) -> None:
        self._compile_mjml: Callable[..., str] = compile_mjml
        self._defaults = defaults_dir
        self._single_pass = single_pass
        self._envs: Environments = make_environments(frozenset({Formatter}), HELPER_NAMES)
        self._globals = dict(self._envs.html.globals)
        self._compiled: dict[str, Compiled] = {}
        self._failed: dict[str, str] = {}
        self._resolved: dict[tuple[str, Path | None], _Resolved] = {}
        self._builtin_text: dict[Path, str | None] = {}
        self._views: dict[str, tuple[StoreConfig, StoreView]] = {}

    # -- public API ------------------------------------------------------------------------

    def render(
        self,
        template: str,
        *,
        store: StoreConfig,
        store_id: str,
        recipient: Recipient,
        data: EventData,
        locales: Sequence[str | None],
        event_id: str | None = None,
        extra: Mapping[str, Any] | None = None,
        event_type: str | None = None,
    ) -> RenderedMail:
        """Render ``template`` for one recipient; raises :class:`TemplateError`, never half-renders.

        ``locales`` is a priority list (the recipient's, then the store's); the
        first with a translation catalogue picks the wording, and its full
        locale the number and date formats. ``event_type`` defaults to the
        template name.
        """
        resolved = self._lookup(template, store)
        if resolved.compiled is None:
            raise TemplateError(template, resolved.error or "cannot be compiled")
        compiled = resolved.compiled
        locale, language = resolve_locale(locales)
        order = data.order
        fmt = formatter(locale, language, store.timezone, order.currency if order else None)
        context: dict[str, Any] = {
            **self._globals,  # what Jinja would copy in for every part (range, namespace…)
            "store": self._store_view(store_id, store),
            "recipient": recipient,
            "data": data,
            "order": order,
            "event": EventView(type=event_type or template, id=event_id),
            "locale": fmt.locale_name,
            **fmt.helpers,
        }
        if extra:
            context.update(extra)
        try:
            subject, body, text = compiled.render(context)
        except CompileError as exc:
            raise TemplateError(template, str(exc)) from exc.__cause__
        return RenderedMail(subject, body, text, fmt.locale_name, compiled.version)

    def _store_view(self, store_id: str, store: StoreConfig) -> StoreView:
        """One view per store config: the dual templates specialise on it (see ``_dual``)."""
        cached = self._views.get(store_id)
        if cached is not None and cached[0] is store:
            return cached[1]
        view = StoreView(
            id=store_id,
            name=store.name,
            url=store.url,
            locale=store.locale,
            timezone=store.timezone,
            branding=store.branding,
            from_email=store.from_.email,
            from_name=store.from_.name,
            reply_to=store.reply_to.email if store.reply_to else None,
        )
        self._views[store_id] = (store, view)
        return view

    def check(self, store: StoreConfig, *, render_samples: bool = True) -> list[str]:
        """Compile every template the store would use, overrides included.

        With ``render_samples`` each is also rendered with the demo data in the
        store's locale, which catches misspelt variables that compile fine (an
        override that relies on plugin ``extra`` variables needs
        ``render_samples=False``). Returns problems as sentences; ``[]`` means
        all is well.
        """
        from tidings.core.samples import sample

        problems: list[str] = []
        names = template_names()
        for name in names:
            resolved = self._lookup(name, store)
            if resolved.compiled is None:
                problems.append(f"Template {name!r} cannot be compiled: {resolved.error}")
                continue
            if not render_samples:
                continue
            recipient, data = sample(name)
            try:
                self.render(name, store=store, store_id="check", recipient=recipient,
                            data=data, locales=[store.locale])
            except TemplateError as exc:
                problems.append(f"Template {name!r} fails with the sample data: {exc.reason}")
        if store.templates_dir is not None and store.templates_dir.is_dir():
            for path in sorted(store.templates_dir.glob("*.mjml")):
                if path.stem not in names:
                    problems.append(
                        f"{path} does not override any template (known names: "
                        f"{', '.join(names)})"
                    )
        return problems

    def source(self, template: str, store: StoreConfig) -> tuple[str, Path | None]:
        """The MJML source a store uses for ``template``, and its override file if any."""
        main, override = self._main_source(template, store.templates_dir)
        return main.text, override

    # -- lookup and caching ----------------------------------------------------------------

    def _lookup(self, template: str, store: StoreConfig) -> _Resolved:
        key = (template, store.templates_dir)
        resolved = self._resolved.get(key)
        if resolved is None or not resolved.fresh():
            resolved = self._resolve(template, store.templates_dir)
            self._resolved[key] = resolved
        return resolved

    def _resolve(self, template: str, store_dir: Path | None) -> _Resolved:
        watch: list[tuple[Path, _Stat]] = []
        try:
            main, override = self._main_source(template, store_dir, watch)
        except CompileError as exc:
            return _Resolved(None, str(exc), tuple(watch), None)
        includes: dict[str, Source] = {}
        problems: dict[str, str] = {}
        pending = [main]
        while pending:
            for m in _INCLUDE.finditer(pending.pop().text):
                path = m.group(2)
                if path in includes or path in problems:
                    continue
                try:
                    includes[path] = self._include(path, store_dir, watch)
                    pending.append(includes[path])
                except CompileError as exc:
                    # Reported only if MJML really asks for it (it may sit in a comment).
                    problems[path] = str(exc)
        version = version_of([(main.label, main.text)]
                             + [(s.label, s.text) for _, s in sorted(includes.items())])
        frozen_watch = tuple(watch)
        if version in self._compiled:
            return _Resolved(self._compiled[version], None, frozen_watch, override)
        if version in self._failed:
            return _Resolved(None, self._failed[version], frozen_watch, override)

        def load_include(path: str) -> Source:
            if path in includes:
                return includes[path]
            if path in problems:
                raise CompileError(problems[path])
            return self._include(path, store_dir, [])

        try:
            compiled = compile_template(
                template, main, load_include, self._compile_mjml, self._envs, version,
                single_pass=self._single_pass,
            )
        except CompileError as exc:
            self._failed[version] = str(exc)
            return _Resolved(None, str(exc), frozen_watch, override)
        self._compiled[version] = compiled
        return _Resolved(compiled, None, frozen_watch, override)

    def _main_source(
        self, template: str, store_dir: Path | None, watch: list[tuple[Path, _Stat]] | None = None
    ) -> tuple[Source, Path | None]:
        if not _NAME.match(template) or ".." in template:
            raise CompileError(f"{template!r} is not a valid template name")
        filename = f"{template}.mjml"
        if store_dir is not None:
            path = store_dir / filename
            text = self._read_store_file(path, watch)
            if text is not None:
                return Source(str(path), text), path
        text = self._read_builtin(self._defaults / filename)
        if text is None:
            where = f" and {store_dir} has no {filename}" if store_dir is not None else ""
            raise CompileError(f"there is no built-in template {template!r}{where}")
        return Source(f"built-in {filename}", text), None

    def _include(
        self, path: str, store_dir: Path | None, watch: list[tuple[Path, _Stat]]
    ) -> Source:
        rel = PurePosixPath(path.strip())
        if not path.strip() or rel.is_absolute() or ".." in rel.parts or "\\" in path:
            raise CompileError(
                f"<mj-include path={path!r}> must name a file inside the templates folder "
                "(a relative path without '..')"
            )
        names = [rel] if rel.suffix else [rel, rel.with_name(rel.name + ".mjml")]
        if store_dir is not None:
            for name in names:
                candidate = store_dir / name
                text = self._read_store_file(candidate, watch, root=store_dir)
                if text is not None:
                    return Source(str(candidate), text)
        for name in names:
            text = self._read_builtin(self._defaults / name, root=self._defaults)
            if text is not None:
                return Source(f"built-in {name}", text)
        where = f"{store_dir} or " if store_dir is not None else ""
        raise CompileError(
            f"<mj-include path={path!r}>: no such file in {where}the built-in templates"
        )

    def _read_store_file(
        self, path: Path, watch: list[tuple[Path, _Stat]] | None, root: Path | None = None
    ) -> str | None:
        seen = _stat(path)
        if watch is not None:
            watch.append((path, seen))
        if seen is None:
            return None
        if root is not None and not _inside(path, root):
            raise CompileError(f"{path} points outside {root}")
        try:
            return path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CompileError(f"{path} cannot be read: {exc}") from None

    def _read_builtin(self, path: Path, root: Path | None = None) -> str | None:
        if path not in self._builtin_text:
            if root is not None and path.exists() and not _inside(path, root):
                raise CompileError(f"{path} points outside the built-in templates")
            try:
                self._builtin_text[path] = path.read_text(encoding="utf-8")
            except FileNotFoundError:
                self._builtin_text[path] = None
        return self._builtin_text[path]


def _inside(path: Path, root: Path) -> bool:
    return path.resolve().is_relative_to(root.resolve())
