"""A leaner Jinja code generator, and the environments templates are compiled in."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from functools import partial
from keyword import iskeyword as is_python_keyword
from types import MethodType
from typing import Any, NamedTuple, cast

import jinja2
from jinja2 import StrictUndefined, nodes
from jinja2.compiler import CodeGenerator, Frame, optimizeconst
from jinja2.ext import Extension
from jinja2.nodes import EvalContext
from jinja2.parser import Parser
from markupsafe import escape

_escape_str: Callable[[str], str]
try:  # MarkupSafe 3's C escaper: escape() without the Markup it wraps around the result
    from markupsafe._speedups import _escape_inner as _escape_str
except ImportError:  # MarkupSafe 2, or a build without the C extension
    _escape_str = escape

__all__ = ["Environments", "NotShareable", "make_environments"]


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

    callee_method = "callee"
    # How the generated code reaches the output helpers of _Environment.
    escape_str, html_out, text_out = ("environment.escape_str", "environment.html_out",
                                      "environment.text_out")

    def _output_child_pre(
        self, node: nodes.Expr, frame: Frame, finalize: CodeGenerator._FinalizeInfo
    ) -> None:
        if frame.eval_ctx.volatile:  # inside {% autoescape %}: keep Jinja's runtime choice
            super()._output_child_pre(node, frame, finalize)
        elif frame.eval_ctx.autoescape:
            self.write(f"({self.escape_str}(_tv) if type(_tv := ")
        else:
            self.write("(_tv if type(_tv := ")

    def _output_child_post(
        self, node: nodes.Expr, frame: Frame, finalize: CodeGenerator._FinalizeInfo
    ) -> None:
        if frame.eval_ctx.volatile:
            super()._output_child_post(node, frame, finalize)
        elif frame.eval_ctx.autoescape:
            self.write(f") is str else {self.html_out}(_tv))")
        else:
            self.write(f") is str else {self.text_out}(_tv))")

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
        if not self._plain_call(node, forward_caller):
            super().visit_Call(node, frame, forward_caller=forward_caller)
            return
        self.write(f"context.{self.callee_method}(")
        self.visit(node.node, frame)
        self.write(f", {'_loop_vars' if frame.loop_frame else 'None'}, "
                   f"{'_block_vars' if frame.block_frame else 'None'})")
        self._arguments(node, frame)

    def _plain_call(self, node: nodes.Call, forward_caller: bool) -> bool:
        """A call of a name with plain arguments, which Python can make as written."""
        return (isinstance(node.node, nodes.Name) and not forward_caller
                and not self.environment.is_async
                and node.dyn_args is None and node.dyn_kwargs is None
                and not any(is_python_keyword(k.key) for k in node.kwargs))

    def _arguments(self, node: nodes.Call, frame: Frame) -> None:
        self.write("(")
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
    if type(value) is int:  # quantities: nothing to escape, and no Markup to build
        return str(value)
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


class _DualContext(_Context):
    """The context of a dual template (see ``_dual``): its two output lists."""

    helper_names: frozenset[str] = frozenset()
    html_parts: list[str]
    text_parts: list[str]

    def shared_callee(
        self,
        obj: Callable[..., Any],
        loop_vars: dict[str, Any] | None = None,
        block_vars: dict[str, Any] | None = None,
    ) -> Callable[..., Any]:
        """:meth:`callee`, for a value both parts use: nothing that sees the eval context.

        The eval context is the one thing that differs between the parts
        (autoescaping), so a callable that takes it raises and the mail is
        rendered part by part instead.
        """
        if getattr(obj, "jinja_pass_arg", None) is not None:
            raise NotShareable(f"{obj!r} takes Jinja's context")
        return self.callee(obj, loop_vars, block_vars)


class NotShareable(Exception):
    """A value shared by both parts of a dual template would differ between them."""


class _TextTag(Extension):
    """``{% tidings_text %}…{% endtidings_text %}``: the text part's share of a segment.

    Jinja forbids new node types, so it parses to an ``{% autoescape false %}``
    block marked with a ``tidings_text`` attribute.
    """

    tags = {"tidings_text"}

    def parse(self, parser: Parser) -> nodes.Node:
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(("name:endtidings_text",), drop_needle=True)
        node = nodes.ScopedEvalContextModifier(
            [nodes.Keyword("autoescape", nodes.Const(False))], body, lineno=lineno)
        node.tidings_text = True  # type: ignore[attr-defined]
        return node


class _DualCodeGenerator(_CodeGenerator):
    """Compiles a dual template (see ``_dual``, which marks its tree).

    Both parts are appended to lists bound at the top of the root function; a
    ``tidings_text`` block switches to the text list and to unescaped output;
    a node marked ``tidings_slot`` keeps its value in the local ``_s<slot>``,
    which a node marked ``tidings_ref`` reads back. Names the render checked
    are present (``tidings_free``) are read without the undefined check, the
    helpers it checked (``tidings_direct``) are called directly, and ``a.b`` is
    plain attribute access: a miss raises, and the mail is rendered part by part.
    """

    escape_str, html_out, text_out = "_esc", "_hout", "_tout"  # locals of the root function

    def visit_Template(  # noqa: N802 (Jinja API)
        self, node: nodes.Template, frame: Frame | None = None
    ) -> None:
        self.free: frozenset[str] = node.tidings_free  # type: ignore[attr-defined]
        self.direct: frozenset[str] = node.tidings_direct  # type: ignore[attr-defined]
        super().visit_Template(node, frame)

    def blockvisit(self, nodes_: Iterable[nodes.Node], frame: Frame) -> None:
        if frame.buffer is None and frame.rootlevel:
            self.writeline("_hbuf = context.html_parts")
            self.writeline("_tbuf = context.text_parts")
            self.writeline(f"{self.escape_str}, {self.html_out}, {self.text_out} = "
                           "environment.escape_str, environment.html_out, environment.text_out")
            frame.buffer = "_hbuf"
        super().blockvisit(nodes_, frame)

    def visit(self, node: nodes.Node, *args: Any, **kwargs: Any) -> Any:
        ref = getattr(node, "tidings_ref", None)
        if ref is not None:
            self.write(f"_s{ref}")
            return None
        slot = getattr(node, "tidings_slot", None)
        if slot is None:
            return super().visit(node, *args, **kwargs)
        self.write(f"(_s{slot} := ")
        outer, self.callee_method = self.callee_method, "shared_callee"
        node.tidings_slot = None  # type: ignore[attr-defined]
        try:
            super().visit(node, *args, **kwargs)
        finally:
            node.tidings_slot = slot  # type: ignore[attr-defined]
            self.callee_method = outer
        self.write(")")
        return None

    def visit_ScopedEvalContextModifier(  # noqa: N802 (Jinja API)
        self, node: nodes.ScopedEvalContextModifier, frame: Frame
    ) -> None:
        if not getattr(node, "tidings_text", False):
            super().visit_ScopedEvalContextModifier(node, frame)
            return
        text = frame.copy()
        text.buffer = "_tbuf"
        text.eval_ctx = EvalContext(self.environment, self.name)
        text.eval_ctx.autoescape = False
        # Filters, tests and Context.call read the eval context at run time too.
        runtime = any(self._reads_eval_context(child) for child in node.body)
        if runtime:
            self.writeline("context.eval_ctx.autoescape = False")
        self.blockvisit(node.body, text)
        if runtime:
            self.writeline("context.eval_ctx.autoescape = True")

    def _reads_eval_context(self, node: nodes.Node) -> bool:
        if getattr(node, "tidings_ref", None) is not None:
            return False  # computed on the HTML side
        if isinstance(node, (nodes.Filter, nodes.Test)) or (
                isinstance(node, nodes.Call) and not (
                    isinstance(node.node, nodes.Name) and node.node.name in self.direct)):
            return True
        return any(self._reads_eval_context(child) for child in node.iter_child_nodes())

    def visit_Name(self, node: nodes.Name, frame: Frame) -> None:  # noqa: N802 (Jinja API)
        if node.ctx == "load" and node.name in self.free:
            self.write(frame.symbols.ref(node.name))
        else:
            super().visit_Name(node, frame)

    def visit_Call(  # noqa: N802 (Jinja API)
        self, node: nodes.Call, frame: Frame, forward_caller: bool = False
    ) -> None:
        if (self._plain_call(node, forward_caller)
                and cast(nodes.Name, node.node).name in self.direct):
            self.visit(node.node, frame)
            self._arguments(node, frame)
        else:
            super().visit_Call(node, frame, forward_caller)

    def visit_For(self, node: nodes.For, frame: Frame) -> None:  # noqa: N802 (Jinja API)
        self._lean_loop = _lean_loop_will_do(node)
        super().visit_For(node, frame)

    def choose_async(self, async_value: str = "async ", sync_value: str = "") -> str:
        # Jinja writes the loop header as f"{choose_async('Async')}LoopContext(".
        if async_value == "Async" and getattr(self, "_lean_loop", False):
            self._lean_loop = False
            return "environment.Lean"
        return super().choose_async(async_value, sync_value)

    def visit_Getattr(self, node: nodes.Getattr, frame: Frame) -> None:  # noqa: N802 (Jinja API)
        if not node.attr.isidentifier() or is_python_keyword(node.attr):
            super().visit_Getattr(node, frame)
            return
        self.write("(")
        self.visit(node.node, frame)
        self.write(f").{node.attr}")


class _LeanLoop:
    """What a template reads of ``loop`` in a plain for loop, without LoopContext's look-ahead.

    LoopContext costs ~0.4 µs an iteration, most of it finding out whether this
    is the last item; an address block pays that for every line.
    """

    __slots__ = ("index0", "length")
    index0: int
    length: int

    @property
    def index(self) -> int:
        return self.index0 + 1

    @property
    def first(self) -> bool:
        return self.index0 == 0

    @property
    def last(self) -> bool:
        return self.index0 == self.length - 1

    @property
    def revindex(self) -> int:
        return self.length - self.index0

    @property
    def revindex0(self) -> int:
        return self.length - self.index0 - 1


_LEAN_LOOP_READS = frozenset(name for name in vars(_LeanLoop) if not name.startswith("_"))


def _lean_loop_context(iterable: Any, undefined: Any) -> Iterator[tuple[Any, _LeanLoop]]:
    items = list(iterable)
    loop = _LeanLoop()
    loop.length = len(items)
    for loop.index0, item in enumerate(items):
        yield item, loop


def _lean_loop_will_do(node: nodes.For) -> bool:
    """Whether the body reads nothing of ``loop`` but what :class:`_LeanLoop` has."""
    if node.recursive or node.else_ or any(node.find_all(nodes.For)):
        return False
    uses = [n for n in node.find_all(nodes.Name) if n.name == "loop"]
    reads = [g for g in node.find_all(nodes.Getattr)
             if isinstance(g.node, nodes.Name) and g.node.name == "loop"]
    return len(uses) == len(reads) and all(g.attr in _LEAN_LOOP_READS for g in reads)


class _DualEnvironment(_Environment):
    code_generator_class = _DualCodeGenerator
    LeanLoopContext = staticmethod(_lean_loop_context)


class Environments(NamedTuple):
    """The environments one Renderer compiles in."""

    html: jinja2.Environment
    text: jinja2.Environment
    dual: jinja2.Environment


def make_environments(fast_owners: frozenset[type] = frozenset(),
                      helper_names: frozenset[str] = frozenset()) -> Environments:
    """HTML (autoescaped), text and dual environments; all fail on undefined names.

    ``fast_owners``: classes whose bound methods templates call often, which
    never need the Jinja context and are pure (see :class:`_CodeGenerator`).
    ``helper_names``: the context names such methods are passed under; a dual
    template calls them directly and folds their calls with constant arguments.
    """
    common: dict[str, Any] = {
        "undefined": StrictUndefined,
        "finalize": _finalize,
        "auto_reload": False,
        "cache_size": 0,
    }
    html = _Environment(autoescape=True, **common)
    text = _Environment(autoescape=False, **common)
    html.context_class = text.context_class = type(
        "Context", (_Context,), {"fast_owners": fast_owners})
    dual = _DualEnvironment(autoescape=True, extensions=[_TextTag], **common)
    dual.context_class = type("DualContext", (_DualContext,), {
        "fast_owners": fast_owners, "helper_names": helper_names})
    return Environments(html, text, dual)
