"""Turn one MJML+Jinja template version into three ready Jinja templates.

MJML and html2text are far too slow to run per message (0.3 ms and 4 ms), so
both run once per template version and each message costs only Jinja renders:

1. Every Jinja tag in the MJML (and in each ``<mj-include>``d partial) is swapped
   for an opaque alphanumeric placeholder, so MRML never sees Jinja syntax: no
   "``<`` followed by a space" parse failures, no quotes mangled inside
   attributes. Each placeholder remembers its file and line.
2. The ``<mj-title>`` content becomes the subject template, and the title itself
   ``{{ subject }}``, so the HTML ``<title>`` shows the rendered subject.
3. MRML compiles the placeholder MJML to HTML.
4. The HTML template is that HTML with the tags put back; the text template is
   html2text over the same HTML (placeholders survive it as plain words), with
   the tags put back afterwards.

When tags are put back, a newline is inserted just inside each tag's opening
delimiter (harmless to Jinja), so every tag starts on a line of its own and a
Jinja error's line number points at exactly one tag, which we translate back to
the author's file and line.
"""

from __future__ import annotations

import hashlib
import html
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Protocol

import html2text
import jinja2
from jinja2 import TemplateSyntaxError, UndefinedError

from ._codegen import Environments
from ._dual import DualPart, dual_part
from ._placeholders import LineMap, Placeholders, Tag

log = logging.getLogger(__name__)

__all__ = ["CompileError", "Compiled", "MjmlCompiler", "Source", "compile_template", "tidy_text"]


class MjmlCompiler(Protocol):
    """The ``mjml.mjml2html`` signature we rely on (a seam for tests and other builds)."""

    def __call__(
        self,
        input: str,
        *,
        disable_comments: bool = ...,
        fonts: dict[str, str] | None = ...,
        include_loader: Callable[[str], str] | None = ...,
    ) -> str: ...


class CompileError(Exception):
    """A template version cannot be compiled; ``str`` is the plain-English reason."""


@dataclass(frozen=True)
class Source:
    """One MJML file: where it came from (for messages) and its text."""

    label: str
    text: str


_TITLE = re.compile(r"(<mj-title(?:\s[^>]*)?>)(.*?)(</mj-title>)", re.S)
_DROPPED = re.compile(r"<head\b.*?</head>|<!--.*?-->|<style\b.*?</style>", re.S | re.I)
_TAG = re.compile(r"<[a-zA-Z][^>]*>")
_HREF = re.compile(r"""\bhref\s*=\s*(?:"[^"]*"|'[^']*')""")
_BUTTON_CELL = re.compile(r'(<td\b[^>]*\bvertical-align="middle"[^>]*>)')
_PREVIEW_DIV = re.compile(r'<div style="display:none;font-size:1px;[^"]*">[^<]*</div>')
_MD_LINK = re.compile(r"\[([^\]\n]*)\]\(([^)\s]*)\)")
_MD_HEADING = re.compile(r"^#{1,6} +", re.M)
_MD_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!>])")
# Any whitespace run except the no-break spaces that number formats rely on.
_FOLD = re.compile(r"[^\S\u00a0\u202f]+")
_BLANK_RUNS = re.compile(r"\n\n\n+")  # not \n{3,}: a literal prefix is 4× faster to scan for
_TRAILING_WS = re.compile(r"[ \t\u00a0]+$", re.M)
_LEADING_WS = re.compile(r"^[ \t]+", re.M)

_SUBJECT_TAG = "{{ subject }}"


def _where(tag: Tag | None) -> str:
    if tag is None:
        return ""
    text = " ".join(tag.text.split())
    if len(text) > 80:
        text = text[:77] + "..."
    return f" (at {tag.label} line {tag.line}: {text})"


def _template_line(tb: TracebackType | None, filename: str) -> int | None:
    """The template line of the innermost traceback frame Jinja attributed to ``filename``."""
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def describe(exc: BaseException) -> str:
    """A Jinja or Python error as one plain sentence."""
    if isinstance(exc, UndefinedError):
        msg = exc.message or str(exc)
        m = re.fullmatch(r"'([^']+)' is undefined", msg)
        if m:
            return f"the variable {m.group(1)!r} is not defined"
        m = re.fullmatch(r"'(.+)' has no attribute '([^']+)'", msg)
        if m:
            owner = re.sub(r"^[\w.]+\.(\w+ object)$", r"\1", m.group(1))
            return f"{owner} has no attribute {m.group(2)!r}"
        return msg
    if isinstance(exc, TemplateSyntaxError):
        return f"Jinja syntax error: {exc.message}"
    text = str(exc) or type(exc).__name__
    return text if isinstance(exc, ValueError) else f"{type(exc).__name__}: {text}"


class _Part:
    """One compiled Jinja template (subject, HTML or text) plus its line map."""

    def __init__(self, env: jinja2.Environment, source: str, lines: LineMap,
                 what: str, name: str) -> None:
        self.what = what
        self.lines = lines
        self.filename = f"<tidings:{name}:{what}>"
        try:
            code = env.compile(source, name=name, filename=self.filename)
        except TemplateSyntaxError as exc:
            tag = lines.find(exc.lineno)
            raise CompileError(
                f"the {what} part could not be built: {exc.message}{_where(tag)}"
                + (" (the MJML compiler or the text conversion dropped part of this block; keep "
                   "Jinja tags in text or in attribute values that reach the HTML)" if tag else "")
            ) from None
        # A plain dict, not Jinja's ChainMap: every render copies the globals, and
        # a ChainMap is copied key by key in Python code (~3 µs per part).
        self.template = env.template_class.from_code(env, code, dict(env.globals))

    def render(self, context: dict[str, Any]) -> str:
        # Template.render without its copies of the context: ``context`` already holds the
        # environment's globals (Renderer.render) and is only read (``{% set %}`` writes
        # to the Jinja context's own ``vars``).
        template = self.template
        try:
            try:
                return "".join(template.root_render_func(
                    template.new_context(context, shared=True)))
            except Exception:
                template.environment.handle_exception()  # re-raises with template line numbers
        except Exception as exc:
            line = _template_line(exc.__traceback__, self.filename)
            if line is None and isinstance(exc, TemplateSyntaxError):
                line = exc.lineno
            raise CompileError(f"{describe(exc)}{_where(self.lines.find(line))}") from exc


@dataclass(frozen=True)
class Compiled:
    """A template version ready to render: only Jinja runs per message."""

    version: str
    subject: _Part
    html: _Part
    text: _Part
    files: tuple[str, ...]
    #: Both bodies in one pass (see ``_dual``), where the template allows it.
    dual: DualPart | None = None

    def render(self, context: dict[str, Any]) -> tuple[str, str, str]:
        """Subject (one line), HTML and text; raises :class:`CompileError` on any failure."""
        subject = _FOLD.sub(" ", self.subject.render(context)).strip()
        context["subject"] = subject
        dual = self.dual
        failed = False
        if dual is not None and dual.enabled:
            try:
                both = dual.render(context)
            except Exception:
                both, failed = None, True
            if both is not None:
                return subject, both[0], tidy_text(both[1])
        body = self.html.render(context)
        text = tidy_text(self.text.render(context))
        if failed and dual is not None:
            # The parts succeeded where the fast path raised (say, a mapping read as
            # x.key): it would only cost a second render from now on.
            log.info("template %s: rendering its parts one by one from now on", self.version)
            dual.enabled = False
        return subject, body, text


def tidy_text(text: str) -> str:
    """Fold the blank lines left where ``{% if %}`` blocks rendered nothing."""
    if "\n\n\n" in text:  # a plain search is 3x cheaper than the regex finding nothing
        text = _BLANK_RUNS.sub("\n\n", text)
    return text.strip() + "\n"


def _html_to_text(compiled: str, table: Placeholders) -> str:
    """html2text over the compiled HTML, once per template version."""
    # html2text drops the head, comments (MRML puts <mj-raw> between wrapped
    # sections inside Outlook conditional comments), style blocks, the preview
    # text and most attributes. Statements ({% if %}, {% set %}…) found there must
    # survive, or the text template would differ in logic from the HTML one.
    statements = table.statement_pattern

    def keep_statements(m: re.Match[str]) -> str:
        return "".join(statements.findall(m.group()))

    def hoist_from_tag(m: re.Match[str]) -> str:
        tag = m.group()
        links = [(h.start(), h.end()) for h in _HREF.finditer(tag)]
        hoisted = [s for s in statements.finditer(tag)
                   if not any(a <= s.start() < b for a, b in links)]
        if not hoisted:
            return tag
        for s in reversed(hoisted):
            tag = tag[:s.start()] + tag[s.end():]
        return tag + "".join(s.group() for s in hoisted)

    body = _DROPPED.sub(keep_statements, compiled)
    body = _PREVIEW_DIV.sub(keep_statements, body)
    body = _TAG.sub(hoist_from_tag, body)
    # Adjacent table cells would otherwise run together ("Subtotal€189.00").
    body = body.replace("</td>", " </td>")
    # A button is a table, which html2text does not set apart; give it a paragraph.
    body = _BUTTON_CELL.sub(r"\1<div></div>", body)
    conv = html2text.HTML2Text()
    conv.body_width = 0
    conv.ignore_images = True
    conv.ignore_emphasis = True
    conv.ignore_tables = True
    conv.unicode_snob = True
    conv.use_automatic_links = False
    text: str = conv.handle(body)
    text = _MD_HEADING.sub("", text)
    text = _MD_LINK.sub(lambda m: _link(m, table), text)
    text = _MD_ESCAPE.sub(r"\1", text)
    text = _LEADING_WS.sub("", _TRAILING_WS.sub("", text))
    # Whitespace next to a statement at a line's edge, and the line break after a
    # line holding only statements, would otherwise reach every message as stray
    # indentation and blank lines; removing them here leaves render-time tidying
    # one cheap regex.
    stmt = f"(?:{table.statement_pattern.pattern})"
    text = re.sub(f"(?m)^(?:{stmt}|[ \t])+|(?:{stmt}|[ \t])+$", _unspace, text)
    text = re.sub(f"(?m)^({stmt}+)\n", r"\1", text)
    return tidy_text(text)


def _unspace(m: re.Match[str]) -> str:
    return m.group().replace(" ", "").replace("\t", "")


def _link(m: re.Match[str], table: Placeholders) -> str:
    """``[label](url)`` → ``label: url``, or just the URL when the label shows it anyway."""
    label, url = m.group(1).strip(), m.group(2)
    target, shown = table.source_of(url), table.source_of(label)
    if not label or shown == target:
        return url
    if f"mailto:{shown}" == target:
        return label
    return f"{label}: {url}"


def compile_template(
    name: str,
    main: Source,
    load_include: Callable[[str], Source],
    compile_mjml: MjmlCompiler,
    envs: Environments,
    version: str,
    *,
    single_pass: bool = True,
) -> Compiled:
    """Compile one template version; raises :class:`CompileError` with a plain reason.

    With ``single_pass`` it also gets the dual template (see ``_dual``) where
    the template allows one.
    """
    html_env, text_env = envs.html, envs.text
    table = Placeholders()
    title: list[tuple[str, str, int]] = []
    files: list[str] = [main.label]
    include_errors: list[str] = []

    def prepare(src: Source) -> str:
        try:
            text_env.parse(src.text)
        except TemplateSyntaxError as exc:
            raise CompileError(
                f"Jinja syntax error in {src.label} line {exc.lineno}: {exc.message}"
            ) from None
        text = src.text
        m = _TITLE.search(text)
        if m and not title:
            title.append((m.group(2), src.label, text.count("\n", 0, m.start(2)) + 1))
            text = text[:m.start(2)] + _SUBJECT_TAG + text[m.end(2):]
        return table.protect(text, src.label)

    def loader(path: str) -> str:
        try:
            src = load_include(path)
            files.append(src.label)
            return prepare(src)
        except CompileError as exc:
            include_errors.append(str(exc))
            raise
        except Exception as exc:
            include_errors.append(f"<mj-include path={path!r}>: {exc}")
            raise

    prepared = prepare(main)
    try:
        compiled = compile_mjml(prepared, disable_comments=True, fonts={}, include_loader=loader)
    except Exception as exc:
        if include_errors:
            raise CompileError(include_errors[0]) from None
        raise CompileError(
            f"MJML could not be compiled ({exc}); check that every tag in {', '.join(files)} "
            "is closed and spelled right"
        ) from None
    if not title:
        raise CompileError(
            "there is no <mj-title> in the template; it holds the subject line"
        )

    missing = [
        t for i, t in enumerate(table.tags)
        if t.text.startswith("{%") and f"jj{table.nonce}{i}q" not in compiled
    ]
    if missing:
        raise CompileError(
            "the MJML compiler dropped a Jinja block tag" + _where(missing[0])
            + "; put control flow between sections inside <mj-raw>"
        )

    text_body = _html_to_text(compiled, table)
    in_html = table.statement_pattern.findall(compiled)
    in_text = table.statement_pattern.findall(text_body)
    if in_html != in_text:
        # Cannot happen with the hoisting above unless html2text changes; fail loudly.
        first = next((a for a, b in zip(in_html, in_text, strict=False) if a != b),
                     (in_html + in_text)[min(len(in_html), len(in_text))])
        m = table.pattern.fullmatch(first)
        raise CompileError(
            "the plain-text part could not keep the template's logic around"
            + _where(table.tags[int(m.group(1))] if m else None)
            + "; move that Jinja statement out of HTML attributes"
        )
    html_source, html_lines = table.restore(compiled)
    text_source, text_lines = table.restore(text_body)

    raw_title, title_label, title_line = title[0]
    subject_table = Placeholders()
    protected = subject_table.protect(raw_title, f"{title_label} <mj-title>", title_line)
    subject_source, subject_lines = subject_table.restore(html.unescape(protected))

    return Compiled(
        version=version,
        subject=_Part(text_env, subject_source, subject_lines, "subject", name),
        html=_Part(html_env, html_source, html_lines, "HTML", name),
        text=_Part(text_env, text_source, text_lines, "text", name),
        files=tuple(files),
        dual=dual_part(envs, table, compiled, text_body, name) if single_pass else None,
    )


def version_of(parts: list[tuple[str, str]]) -> str:
    """A short content hash over (label, text) pairs: the template version."""
    digest = hashlib.sha256()
    for label, text in parts:
        digest.update(label.encode())
        digest.update(b"\0")
        digest.update(text.encode())
        digest.update(b"\0")
    return digest.hexdigest()[:12]
