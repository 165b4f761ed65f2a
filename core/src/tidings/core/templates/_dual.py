"""The dual template: a mail's HTML and text parts rendered in one pass.

The text part is html2text over the same compiled HTML, so both parts hold the
same Jinja statements in the same order, and between two statements the text
shows some of the HTML's expressions (``_("…")``, ``money(…)``…). Rendered as
separate templates, each such expression runs twice. Here the two sources are
interleaved segment by segment (the HTML between two statements, then the text
between the same two) into one template: the HTML segment keeps each value it
computes in a local and the text segment reads it back. Outputs go to two lists,
not through a generator (the code generator is ``_codegen._DualCodeGenerator``).

Then, per store and formatter (language, currency), a *variant* folds what is
the same for every mail: the store's name, URL and colours, and helper calls on
constants such as ``_("Order summary")``, which become escaped constants in the
compiled code and drop out of the per-mail work.

This is a fast path only. A template it cannot express the same way (macros,
blocks, raw blocks…) keeps the separate parts, and any error while rendering the
dual template makes :class:`~._compile.Compiled` render the separate parts,
which give the exact output or the exact error: a fast path that disagrees (a
mapping read as ``x.key``, a callable that wants the Jinja context) costs time,
never correctness.
"""

from __future__ import annotations

import operator
import threading
from collections.abc import Callable
from functools import partial
from types import MethodType
from typing import Any, cast

import jinja2
from jinja2 import nodes
from jinja2.nodes import EvalContext
from jinja2.runtime import new_context

from ._codegen import Environments
from ._placeholders import LineMap, Placeholders, Tag

__all__ = ["DualPart", "dual_part"]

_OPEN, _CLOSE = "{% tidings_text %}", "{% endtidings_text %}"
# Context names whose values are the same for every mail of one store and formatter
# (Renderer keeps one StoreView per store, and the formatter its locale name, so
# they are the same objects too).
_STATIC_NAMES = ("store", "locale")
# Filters that give the same text whether or not autoescaping is on, for text input.
_PURE_FILTERS = frozenset({"replace", "join", "upper", "lower", "trim", "title", "capitalize"})
_MAX_VARIANTS = 16  # per template version (~120 kB each): stores × formatters in use

# What a value both parts use may be made of: nothing whose result depends on
# autoescaping (filters and tests may take the eval context; ``~`` joins
# Markup-aware when escaping).
_NEUTRAL = (nodes.Name, nodes.Const, nodes.Getattr, nodes.Getitem, nodes.Slice, nodes.Call,
            nodes.Keyword, nodes.Compare, nodes.Operand, nodes.And, nodes.Or, nodes.Not,
            nodes.Neg, nodes.Pos, nodes.CondExpr, nodes.BinExpr, nodes.Tuple, nodes.List,
            nodes.Dict, nodes.Pair)
# Everything a dual template may contain. Statements that buffer output
# elsewhere (macros, call and filter blocks, {% set %} blocks), include other
# templates or switch autoescaping are not here.
_ALLOWED = (nodes.Template, nodes.Output, nodes.TemplateData, nodes.If, nodes.For,
            nodes.Assign, *_NEUTRAL, nodes.Filter, nodes.Test, nodes.Concat)


class _Variant:
    """One compiled dual template."""

    def __init__(self, env: jinja2.Environment, tree: nodes.Template, name: str,
                 free: frozenset[str], direct: frozenset[str]) -> None:
        tree.tidings_free, tree.tidings_direct = free, direct  # type: ignore[attr-defined]
        code = env.compile(tree, name=name, filename=f"<tidings:{name}:dual>")
        self.template = env.template_class.from_code(env, code, dict(env.globals))

    def render(self, ctx: jinja2.runtime.Context) -> tuple[str, str]:
        html: list[str] = []
        text: list[str] = []
        ctx.html_parts, ctx.text_parts = html, text  # type: ignore[attr-defined]
        for _ in self.template.root_render_func(ctx):
            pass
        return "".join(html), "".join(text)


class DualPart:
    """The HTML and the raw (untidied) text of one template version, rendered together.

    Each variant is compiled on first use, from the one parsed tree: folding
    changes it in place and is undone after the compile (a deep copy per
    variant cost more than the compile).
    """

    def __init__(self, env: jinja2.Environment, tree: nodes.Template, name: str) -> None:
        self._env, self._tree, self._name = env, tree, name
        self._globals = dict(env.globals)
        self._fast_owners: frozenset[type] = env.context_class.fast_owners  # type: ignore[attr-defined]
        #: Names read without Jinja's undefined check: ``render`` checks they are there.
        #: Helpers called directly: ``render`` checks they are the helper methods.
        self._free, self._direct = _names(tree, env.context_class.helper_names)  # type: ignore[attr-defined]
        self._generic: _Variant | None = None
        self._compiling = threading.Lock()
        self._variants: dict[tuple[int, ...], tuple[tuple[Any, ...], _Variant]] = {}
        #: Off for good once a render disagreed with the separate parts.
        self.enabled = True
        #: Mails rendered in one pass (the others fell back to the parts).
        self.renders = 0

    def render(self, context: dict[str, Any]) -> tuple[str, str] | None:
        """Both parts, or ``None`` when this context breaks the fast path's assumptions."""
        ctx = new_context(self._env, self._name, {}, context, True, self._globals)  # no copy
        names = ctx.parent
        if not self._free.issubset(names):
            return None
        owner = None
        for name in self._direct:
            f = names[name]
            if type(f) is not MethodType or type(f.__self__) not in self._fast_owners:
                return None
            if owner is None:
                owner = f.__self__
            elif f.__self__ is not owner:
                owner = False  # helpers of several objects: no variant
        both = self._variant(names, owner).render(ctx)
        self.renders += 1
        return both

    def _variant(self, names: dict[str, Any], owner: Any) -> _Variant:
        statics = (owner, *(names.get(name) for name in _STATIC_NAMES))
        key = tuple(map(id, statics))
        variant = self._compiled(key, statics)
        if variant is not None:
            return variant
        with self._compiling:  # folding edits the shared tree: one compile at a time
            return self._compiled(key, statics) or self._compile(key, statics, names, owner)

    def _compiled(self, key: tuple[int, ...], statics: tuple[Any, ...]) -> _Variant | None:
        entry = self._variants.get(key)
        if entry is not None and all(map(operator.is_, entry[0], statics)):
            return entry[1]
        return None

    def _compile(self, key: tuple[int, ...], statics: tuple[Any, ...], names: dict[str, Any],
                 owner: Any) -> _Variant:
        if not owner or len(self._variants) >= _MAX_VARIANTS:
            if self._generic is None:
                self._generic = _Variant(self._env, self._tree, self._name, self._free,
                                         self._direct)
            return self._generic
        helpers = {name: names[name] for name in self._direct}
        values = {name: names[name] for name in _STATIC_NAMES if name in names}
        undo = _fold(self._tree, values, helpers)
        try:
            free, direct = _names(self._tree, frozenset(helpers))
            variant = _Variant(self._env, self._tree, self._name, free, direct)
        finally:
            for restore in reversed(undo):
                restore()
        self._variants[key] = (statics, variant)  # holding them keeps their ids unique
        return variant


def _names(tree: nodes.Template, helpers: frozenset[str]
           ) -> tuple[frozenset[str], frozenset[str]]:
    """The names a template reads and never sets, and the helpers among them it calls."""
    stored: set[str] = set()
    loaded: set[str] = set()
    called: set[str] = set()
    for node in tree.find_all((nodes.Name, nodes.Call, nodes.Test, nodes.Filter)):
        if isinstance(node, nodes.Name):
            (loaded if node.ctx == "load" else stored).add(node.name)
        elif isinstance(node, nodes.Call):
            if isinstance(node.node, nodes.Name):
                called.add(node.node.name)
        elif isinstance(node, (nodes.Test, nodes.Filter)) and isinstance(node.node, nodes.Name):
            stored.add(node.node.name)  # tested (``is defined``), filtered (``| default``)
    free = frozenset(loaded - stored - {"loop"})
    return free, frozenset(called & free & helpers)


def dual_part(
    envs: Environments, table: Placeholders, html: str, text: str, name: str
) -> DualPart | None:
    """The dual template of one version, or ``None`` where it cannot render the same."""
    if table.has_raw():
        return None
    merged = _interleave(table, html, text)
    if merged is None:
        return None
    source, lines = table.restore(merged)
    try:
        tree = envs.dual.parse(source)
    except jinja2.TemplateSyntaxError:
        return None
    for node in tree.find_all(nodes.Node):
        if not (isinstance(node, _ALLOWED) or getattr(node, "tidings_text", False)):
            return None
        if isinstance(node, nodes.For) and node.recursive:
            return None
    _share(tree.body, lines, {})
    return DualPart(envs.dual, tree, name)


def _interleave(table: Placeholders, html: str, text: str) -> str | None:
    """HTML and text, still with placeholders, interleaved between their statements."""
    statements = table.statement_pattern
    found = statements.findall(html)
    if found != statements.findall(text):
        return None
    out = []
    html_parts, text_parts = statements.split(html), statements.split(text)
    for i, (h, t) in enumerate(zip(html_parts, text_parts, strict=True)):
        out += [h, _OPEN, t, _CLOSE]
        if i < len(found):
            out.append(found[i])
    return "".join(out)


def _share(body: list[nodes.Node], lines: LineMap, slots: dict[int, int]) -> None:
    """Mark the values each text segment can take from the HTML segment before it.

    ``restore`` starts every tag on a line of its own, so an output's line
    number tells which tag (placeholder) it came from; the same tag in both
    segments is the same expression.
    """
    seen: dict[int, int] = {}  # id(tag) → slot, in the current HTML segment
    for stmt in body:
        if isinstance(stmt, nodes.Output):
            for child in stmt.nodes:
                tag = _tag_of(child, lines)
                if tag is not None and _worth_sharing(child):
                    seen[id(tag)] = slots.setdefault(id(tag), len(slots))
                    child.tidings_slot = seen[id(tag)]  # type: ignore[attr-defined]
        elif getattr(stmt, "tidings_text", False):
            for out in stmt.find_all(nodes.Output):
                for child in out.nodes:
                    tag = _tag_of(child, lines)
                    if tag is not None and id(tag) in seen:
                        child.tidings_ref = seen[id(tag)]  # type: ignore[attr-defined]
            seen = {}
        else:
            seen = {}
            for field in ("body", "else_"):
                inner = getattr(stmt, field, None)
                if isinstance(inner, list):
                    _share(inner, lines, slots)
            for branch in getattr(stmt, "elif_", None) or ():
                _share(branch.body, lines, slots)


def _tag_of(expr: nodes.Node, lines: LineMap) -> Tag | None:
    return None if isinstance(expr, nodes.TemplateData) else lines.find(expr.lineno)


def _worth_sharing(expr: nodes.Node) -> bool:
    if isinstance(expr, (nodes.Name, nodes.Const)):
        return False  # cheaper to read again than to keep
    return isinstance(expr, _NEUTRAL) and all(
        isinstance(n, _NEUTRAL) for n in expr.find_all(nodes.Node))


_UNKNOWN = object()
# Only for folding pure filters over plain text (_plain), never for rendering.
_TEXT_ENV = jinja2.Environment(autoescape=False)  # noqa: S701
_TEXT_FILTERS = _TEXT_ENV.filters


def _fold(tree: nodes.Template, values: dict[str, Any], helpers: dict[str, Any]
          ) -> list[Callable[[], None]]:
    """Replace what is constant for these values and helpers by its value, in place.

    Only outputs that evaluate to text and ``if`` tests are folded, so the
    escaping and truthiness Jinja applies to a constant are the ones it applies
    at run time. Returns the steps that undo it.
    """
    shadowed = {n.name for n in tree.find_all(nodes.Name) if n.ctx != "load"}
    values = {k: v for k, v in values.items() if k not in shadowed}
    helpers = {k: v for k, v in helpers.items() if k not in shadowed}
    undo: list[Callable[[], None]] = []
    folded: dict[int, str] = {}  # slot → value: its text-side reads fold too
    for out in tree.find_all(nodes.Output):
        for i, child in enumerate(out.nodes):
            ref = getattr(child, "tidings_ref", None)
            if ref is not None:
                value: Any = folded.get(ref, _UNKNOWN)
            else:
                value = _evaluate(child, values, helpers)
                slot = getattr(child, "tidings_slot", None)
                if slot is not None and isinstance(value, str):
                    folded[slot] = value
            if isinstance(value, str):
                out.nodes[i] = nodes.Const(value, lineno=child.lineno)
                undo.append(partial(out.nodes.__setitem__, i, child))
    for branch in tree.find_all(nodes.If):
        value = _evaluate(branch.test, values, helpers)
        if value is not _UNKNOWN:
            undo.append(partial(setattr, branch, "test", branch.test))
            branch.test = nodes.Const(bool(value), lineno=branch.test.lineno)
    return undo


def _evaluate(node: nodes.Node, values: dict[str, Any], helpers: dict[str, Any]) -> Any:
    """``node``'s value if it depends on nothing but ``values`` and ``helpers``."""
    if isinstance(node, nodes.Const):
        return node.value
    if isinstance(node, nodes.Name):
        return values.get(node.name, _UNKNOWN) if node.ctx == "load" else _UNKNOWN
    if isinstance(node, nodes.Getattr):
        obj = _evaluate(node.node, values, helpers)
        try:  # Jinja would then try obj[attr]; leaving it to run time keeps that
            return _UNKNOWN if obj is _UNKNOWN else getattr(obj, node.attr)
        except Exception:
            return _UNKNOWN
    if isinstance(node, (nodes.And, nodes.Or)):
        left = _evaluate(node.left, values, helpers)
        if left is _UNKNOWN or (bool(left) if isinstance(node, nodes.Or) else not left):
            return left
        return _evaluate(node.right, values, helpers)
    if isinstance(node, nodes.Not):
        value = _evaluate(node.node, values, helpers)
        return value if value is _UNKNOWN else not value
    if isinstance(node, (nodes.Call, nodes.Filter)) and node.dyn_args is None \
            and node.dyn_kwargs is None:
        function = _function(node, values, helpers)
        args = [_evaluate(a, values, helpers) for a in node.args]
        keywords = cast(list[nodes.Keyword], node.kwargs)
        kwargs = {k.key: _evaluate(k.value, values, helpers) for k in keywords}
        if function is _UNKNOWN or any(v is _UNKNOWN for v in (*args, *kwargs.values())):
            return _UNKNOWN
        if isinstance(node, nodes.Filter):
            subject = _evaluate(node.node, values, helpers) if node.node else _UNKNOWN
            if not _plain(subject) or not all(map(_plain, (*args, *kwargs.values()))):
                return _UNKNOWN
            args.insert(0, subject)
        try:
            return function(*args, **kwargs)
        except Exception:
            return _UNKNOWN  # the run-time render reports it
    return _UNKNOWN


def _function(node: nodes.Call | nodes.Filter, values: dict[str, Any],
              helpers: dict[str, Any]) -> Any:
    """What a foldable call calls: a helper, a method of a string, or a pure filter."""
    if isinstance(node, nodes.Filter):
        if node.name not in _PURE_FILTERS:
            return _UNKNOWN
        return partial(_TEXT_FILTERS[node.name], EvalContext(_TEXT_ENV)) \
            if node.name in ("replace", "join") else _TEXT_FILTERS[node.name]
    if isinstance(node.node, nodes.Name):
        return helpers.get(node.node.name, _UNKNOWN)
    method = _evaluate(node.node, values, helpers)
    owner = getattr(method, "__self__", None)
    return method if type(owner) is str and callable(method) else _UNKNOWN


def _plain(value: Any) -> bool:
    """Text or numbers, not Markup: pure filters treat them alike with or without escaping."""
    if isinstance(value, (list, tuple)):
        return all(map(_plain, value))
    return type(value) in (str, int)
