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

import bisect
import hashlib
import html
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property, partial
from keyword import iskeyword as is_python_keyword
from types import MethodType, TracebackType
from typing import Any, Protocol

import html2text
import jinja2
from jinja2 import StrictUndefined, TemplateSyntaxError, UndefinedError, nodes
from jinja2.compiler import CodeGenerator, Frame, optimizeconst
from markupsafe import escape

_escape_str: Callable[[str], str]
try:  # MarkupSafe 3's C escaper: escape() without the Markup it wraps around the result
    from markupsafe._speedups import _escape_inner as _escape_str
except ImportError:  # MarkupSafe 2, or a build without the C extension
    _escape_str = escape

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


_JINJA_TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.S)
_RAW_START = re.compile(r"^\{%[-+]?\s*raw\s*[-+]?%\}$")
_RAW_END = re.compile(r"^\{%[-+]?\s*endraw\s*[-+]?%\}$")
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


@dataclass(frozen=True)
class _Tag:
    text: str
    label: str
    line: int


@dataclass
class _Placeholders:
    """The placeholder table shared by a template and its partials during one compile."""

    nonce: str = field(default_factory=lambda: "".join(secrets.choice("bcdfghjkmnpqrstvwxz")
                                                       for _ in range(8)))
    tags: list[_Tag] = field(default_factory=list)

    @cached_property
    def pattern(self) -> re.Pattern[str]:
        return re.compile(f"jj{self.nonce}(\\d+)q")

    @property
    def statement_pattern(self) -> re.Pattern[str]:
        """Matches the placeholders of ``{% %}`` tags only."""
        ids = "|".join(str(i) for i, t in enumerate(self.tags) if t.text.startswith("{%"))
        return re.compile(f"jj{self.nonce}(?:{ids})q" if ids else "(?!)")

    def source_of(self, text: str) -> str:
        """``text`` with placeholders swapped back for their tags, whitespace-normalised."""
        restored = self.pattern.sub(lambda m: self.tags[int(m.group(1))].text, text)
        return " ".join(restored.replace("{{", "{{ ").replace("}}", " }}").split())

    def protect(self, text: str, label: str, first_line: int = 1) -> str:
        """Swap each Jinja tag for a placeholder, remembering where the author wrote it."""
        pieces: list[str] = []
        pos, line = 0, first_line
        for m in _JINJA_TAG.finditer(text):
            line += text.count("\n", pos, m.start())
            pieces.append(text[pos:m.start()])
            self.tags.append(_Tag(m.group(), label, line))
            pieces.append(f"jj{self.nonce}{len(self.tags) - 1}q")
            line += m.group().count("\n")
            pos = m.end()
        pieces.append(text[pos:])
        return "".join(pieces)

    def restore(self, text: str) -> tuple[str, _LineMap]:
        """Put the tags back, each starting on a line of its own (see module docstring)."""
        out: list[str] = []
        starts: list[int] = []
        spans: list[tuple[int, _Tag]] = []
        pos, line, in_raw = 0, 1, False
        for m in self.pattern.finditer(text):
            chunk = text[pos:m.start()]
            out.append(chunk)
            line += chunk.count("\n")
            tag = self.tags[int(m.group(1))]
            tag_text = tag.text
            if _RAW_END.match(tag_text):
                in_raw = False
            if not in_raw and not tag_text.startswith("{#"):
                cut = 3 if tag_text[2] in "-+" else 2
                tag_text = f"{tag_text[:cut]}\n{tag_text[cut:]}"
                starts.append(line + 1)
                spans.append((line + tag_text.count("\n"), tag))
            if _RAW_START.match(tag.text):
                in_raw = True
            out.append(tag_text)
            line += tag_text.count("\n")
            pos = m.end()
        out.append(text[pos:])
        return "".join(out), _LineMap(starts, spans)


@dataclass(frozen=True)
class _LineMap:
    """Compiled-template line → the tag (file, line, text) the author wrote."""

    starts: list[int]
    spans: list[tuple[int, _Tag]]

    def find(self, line: int | None) -> _Tag | None:
        if line is None:
            return None
        i = bisect.bisect_right(self.starts, line) - 1
        if i >= 0 and line <= self.spans[i][0]:
            return self.spans[i][1]
        return None


def _where(tag: _Tag | None) -> str:
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

    def __init__(self, env: jinja2.Environment, source: str, lines: _LineMap,
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
        # Template.render without its extra copy of the context.
        template = self.template
        try:
            try:
                return "".join(template.root_render_func(template.new_context(context)))
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

    def render(self, context: dict[str, Any]) -> tuple[str, str, str]:
        """Subject (one line), HTML and text; raises :class:`CompileError` on any failure."""
        subject = _FOLD.sub(" ", self.subject.render(context)).strip()
        context["subject"] = subject
        body = self.html.render(context)
        text = tidy_text(self.text.render(context))
        return subject, body, text


def tidy_text(text: str) -> str:
    """Fold the blank lines left where ``{% if %}`` blocks rendered nothing."""
    return _BLANK_RUNS.sub("\n\n", text).strip() + "\n"


class _Context(jinja2.runtime.Context):
    """Jinja's context, plus the runtime half of :class:`_CodeGenerator`'s direct calls."""

    fast_owners: frozenset[type] = frozenset()

    def callee(
        self,
        obj: Callable[..., Any],
        loop_vars: dict[str, Any] | None = None,
        block_vars: dict[str, Any] | None = None,
    ) -> Callable[..., Any]:
        """``obj`` itself if it never takes a context, else a ``Context.call`` of it."""
        if type(obj) is MethodType and type(obj.__self__) in self.fast_owners:
            return obj
        return partial(self.call, obj, _loop_vars=loop_vars, _block_vars=block_vars)


class _CodeGenerator(CodeGenerator):
    """Jinja's code generator, emitting leaner Python for its three hottest constructs.

    An order mail outputs ~80 expressions, reads ~120 attributes and calls the
    helpers (``_``, ``money``…) ~40 times per part. Jinja wraps each output in
    ``escape(environment.finalize(…))`` (three Python calls and a ``Markup``),
    each attribute read in ``environment.getattr`` and each call in
    ``Context.call``, which inspects the callee for ``pass_context`` markers;
    together that was over half of the render time. Here:

    * an output that is a ``str`` is escaped inline (others go through
      :func:`_html_out` / :func:`_text_out`, Jinja's behaviour in one call);
    * ``a.b`` is Python's ``getattr(a, "b", missing)``, falling back to
      ``environment.getattr`` (``a["b"]``, then undefined) only when that misses;
    * a call to a plain name is ``context.callee(f)(…)``: a direct call for the
      methods of the ``fast_owners`` classes, ``Context.call`` otherwise.

    The walrus temporaries (``_tv``, ``_ta``, ``_to``) are always read right after
    they are set, so nested uses cannot clobber each other.
    """

    def _output_child_pre(
        self, node: nodes.Expr, frame: Frame, finalize: CodeGenerator._FinalizeInfo
    ) -> None:
        if frame.eval_ctx.volatile:  # inside {% autoescape %}: keep Jinja's runtime choice
            super()._output_child_pre(node, frame, finalize)
        elif frame.eval_ctx.autoescape:
            self.write("(environment.escape_str(_tv) if type(_tv := ")
        else:
            self.write("(_tv if type(_tv := ")

    def _output_child_post(
        self, node: nodes.Expr, frame: Frame, finalize: CodeGenerator._FinalizeInfo
    ) -> None:
        if frame.eval_ctx.volatile:
            super()._output_child_post(node, frame, finalize)
        elif frame.eval_ctx.autoescape:
            self.write(") is str else environment.html_out(_tv))")
        else:
            self.write(") is str else environment.text_out(_tv))")

    @optimizeconst
    def visit_Getattr(self, node: nodes.Getattr, frame: Frame) -> None:  # noqa: N802 (Jinja API)
        if self.environment.is_async:
            super().visit_Getattr(node, frame)
            return
        self.write("(_ta if (_ta := getattr(_to := ")
        self.visit(node.node, frame)
        self.write(f", {node.attr!r}, missing)) is not missing "
                   f"else environment.getattr(_to, {node.attr!r}))")

    def visit_Call(  # noqa: N802 (Jinja API)
        self, node: nodes.Call, frame: Frame, forward_caller: bool = False
    ) -> None:
        plain = (
            isinstance(node.node, nodes.Name) and not forward_caller
            and not self.environment.is_async
            and node.dyn_args is None and node.dyn_kwargs is None
            and not any(is_python_keyword(k.key) for k in node.kwargs)
        )
        if not plain:
            super().visit_Call(node, frame, forward_caller=forward_caller)
            return
        self.write("context.callee(")
        self.visit(node.node, frame)
        self.write(f", {'_loop_vars' if frame.loop_frame else 'None'}, "
                   f"{'_block_vars' if frame.block_frame else 'None'})(")
        for i, arg in enumerate([*node.args, *node.kwargs]):
            if i:
                self.write(", ")
            self.visit(arg, frame)
        self.write(")")


def _finalize(value: Any) -> Any:
    """An absent optional field (None) renders as nothing rather than "None"."""
    return "" if value is None else value


def _html_out(value: Any) -> str:
    """``escape(_finalize(value))`` as Jinja would output it."""
    return escape(_finalize(value))


def _text_out(value: Any) -> str:
    """``str(_finalize(value))`` as Jinja would output it."""
    return str(_finalize(value))


class _Environment(jinja2.Environment):
    """A Jinja environment compiling with :class:`_CodeGenerator`, which calls these."""

    code_generator_class = _CodeGenerator
    escape_str = staticmethod(_escape_str)
    html_out = staticmethod(_html_out)
    text_out = staticmethod(_text_out)


def make_environments(
    fast_owners: frozenset[type] = frozenset(),
) -> tuple[jinja2.Environment, jinja2.Environment]:
    """(HTML env with autoescape, text env without); both fail on undefined names.

    ``fast_owners``: classes whose bound methods templates call often and which
    never need the Jinja context (see :class:`_CodeGenerator`).
    """
    context_class = type("Context", (_Context,), {"fast_owners": fast_owners})
    common: dict[str, Any] = {
        "undefined": StrictUndefined,
        "finalize": _finalize,
        "auto_reload": False,
        "cache_size": 0,
    }
    html_env = _Environment(autoescape=True, **common)
    text_env = _Environment(autoescape=False, **common)
    html_env.context_class = text_env.context_class = context_class
    return html_env, text_env


def _html_to_text(compiled: str, table: _Placeholders) -> str:
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


def _link(m: re.Match[str], table: _Placeholders) -> str:
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
    envs: tuple[jinja2.Environment, jinja2.Environment],
    version: str,
) -> Compiled:
    """Compile one template version; raises :class:`CompileError` with a plain reason."""
    html_env, text_env = envs
    table = _Placeholders()
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
    subject_table = _Placeholders()
    protected = subject_table.protect(raw_title, f"{title_label} <mj-title>", title_line)
    subject_source, subject_lines = subject_table.restore(html.unescape(protected))

    return Compiled(
        version=version,
        subject=_Part(text_env, subject_source, subject_lines, "subject", name),
        html=_Part(html_env, html_source, html_lines, "HTML", name),
        text=_Part(text_env, text_source, text_lines, "text", name),
        files=tuple(files),
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
