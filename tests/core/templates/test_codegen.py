"""Our leaner Jinja code generator renders exactly what stock Jinja renders.

It rewrites how outputs, attribute reads and calls are compiled (see
``_CodeGenerator``); each case here runs through both and must give the same
text, or the same kind of error.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jinja2
import pytest
from markupsafe import Markup

from tidings.core.templates._codegen import make_environments


class Helpers:
    """Stands in for the Formatter: its bound methods take the direct-call path."""

    def shout(self, text: str, end: str = "!") -> str:
        return text.upper() + end


class Item:
    name = "Mug <large>"
    price = 7
    note = None

    @property
    def broken(self) -> str:
        raise AttributeError("inner")


@jinja2.pass_context
def from_context(context: jinja2.runtime.Context, key: str) -> Any:
    return context.get(key)


VARIABLES: dict[str, Any] = {
    "item": Item(),
    "items": [Item(), Item(), Item()],
    "mapping": {"name": "from a key", "items_": [1, 2]},
    "safe": Markup("<b>bold</b>"),
    "nothing": None,
    "number": 3.5,
    "shout": Helpers().shout,
    "from_context": from_context,
    "plain": lambda a, b=2: f"{a}-{b}",
}

CASES = [
    "{{ item.name }} {{ item.price }} {{ item.note }} {{ nothing }} {{ number }} {{ safe }}",
    "{{ mapping.name }} {{ mapping['name'] }} {{ mapping.items_ | join(',') }}",
    "{{ shout('hi') }} {{ shout(text='<x>', end='?') }} {{ plain(1) }} {{ plain(a=1, b=3) }}",
    "{% for i in items %}{{ loop.index }}{{ shout(i.name) }}{% if not loop.last %},{% endif %}"
    "{% endfor %}",
    "{% for i in items if i.price %}{{ i.name }}{% endfor %}",
    "{% set who = 'me' %}{% for i in items %}{{ from_context('who') }}{% endfor %}",
    "{% macro m(x) %}[{{ x.name }}]{% endmacro %}{% macro w() %}<{{ caller() }}>{% endmacro %}"
    "{{ m(item) }}{% call w() %}{{ item.name }}{% endcall %}",
    "{% set block %}{{ item.name }}{% endset %}{{ block }}",
    "{% autoescape false %}{{ item.name }}{% endautoescape %}{{ item.name }}",
    "{{ shout(*['a']) }} {{ plain(**{'a': 1}) }} {{ range(3) | list }}",
    "{{ (item.name ~ '!').upper() }} {{ 'x'.upper() }} {{ item.name.split(' ')[0] }}",
    "{{ missing_name }}",
    "{{ item.nope }}",
    "{{ item.broken }}",
    "{{ nothing.attr }}",
]


def _outcome(render: Callable[[], str]) -> tuple[str, str]:
    try:
        return "ok", render()
    except Exception as exc:  # the kind of error must match, not its traceback
        return "error", type(exc).__name__


@pytest.mark.parametrize("autoescape", [True, False], ids=["html", "text"])
@pytest.mark.parametrize("source", CASES)
def test_same_output_as_stock_jinja(source: str, autoescape: bool) -> None:
    ours = make_environments(frozenset({Helpers}))[0 if autoescape else 1]
    stock = jinja2.Environment(
        autoescape=autoescape, undefined=jinja2.StrictUndefined,
        finalize=lambda v: "" if v is None else v,
    )
    expected = _outcome(lambda: stock.from_string(source).render(VARIABLES))
    assert _outcome(lambda: ours.from_string(source).render(VARIABLES)) == expected
