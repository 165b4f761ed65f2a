"""The single-pass render gives byte for byte what the separate HTML and text templates give.

The single-pass (dual) template is a fast path over the separate parts (see
``templates/_dual.py``): each case renders with it and with
``Renderer(single_pass=False)`` and compares, and checks the fast path really
ran, or really stepped aside, as the case expects.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import jinja2
import pytest
from markupsafe import Markup

from tidings.core.config import StoreConfig
from tidings.core.errors import TemplateError
from tidings.core.events import EventData, Recipient
from tidings.core.samples import SAMPLE_ORDER, sample
from tidings.core.templates import RenderedMail, Renderer, template_names

LOCALES = ["en", "fr", "de", "es", "it", "nl", "pl", "ja"]


def _render(renderer: Renderer, store: StoreConfig, name: str, locale: str = "en",
            data: EventData | None = None, **extra: Any) -> RenderedMail:
    recipient, sample_data = sample(name)
    return renderer.render(name, store=store, store_id="s1", recipient=recipient,
                           data=data or sample_data, locales=[locale, store.locale],
                           event_id="evt_1", extra=extra)


def _single_passes(renderer: Renderer, store: StoreConfig, name: str) -> int | None:
    """Mails of ``name`` rendered in one pass; ``None`` once it stepped aside or was not built."""
    compiled = renderer._lookup(name, store).compiled  # what ran, not only what came out
    assert compiled is not None
    dual = compiled.dual
    return dual.renders if dual is not None and dual.enabled else None


def _same(name: str, store: StoreConfig, *, expect: str, locale: str = "en",
          fast: Renderer | None = None, data: EventData | None = None,
          **extra: Any) -> RenderedMail:
    """Render with and without the single pass; ``expect``: 'on', 'off' (stepped aside) or
    'none' (the template has no single-pass version)."""
    fast = fast or Renderer()
    before = _single_passes(fast, store, name) or 0
    mail = _render(fast, store, name, locale, data, **extra)
    reference = _render(Renderer(single_pass=False), store, name, locale, data, **extra)
    assert mail == reference
    after = _single_passes(fast, store, name)
    if expect == "on":
        assert after == before + 1
    else:
        assert after is None
        compiled = fast._lookup(name, store).compiled
        assert compiled is not None and (compiled.dual is None) == (expect == "none")
    return mail


@pytest.mark.parametrize("name", template_names())
def test_every_builtin_template_in_every_language(
    name: str, make_store: Callable[..., StoreConfig]
) -> None:
    fast = Renderer()  # one renderer: a variant per store and language, side by side
    full = make_store(name="Smith & <Sons>", url="https://shop.example/?a=1&b=2",
                      branding={"logo_url": "https://cdn.example/logo.png",
                                "colour": "#1f4e79", "address": "Street 1\nTown"})
    bare = make_store(url=None, branding={})
    for locale in LOCALES:
        for store in (full, bare):
            _same(name, store, expect="on", locale=locale, fast=fast)


def test_other_currencies_and_an_order_without_optional_fields(
    make_store: Callable[..., StoreConfig]
) -> None:
    fast, store = Renderer(), make_store()
    euros = SAMPLE_ORDER.model_copy(update={"currency": "EUR", "discount_total": Decimal(0)})
    bare = SAMPLE_ORDER.model_copy(update={
        "shipping_address": None, "url": None, "payment_method": None, "created_at": None})
    for order in (euros, bare, SAMPLE_ORDER):
        for locale in ("en", "de"):
            _same("order.placed", store, expect="on", locale=locale, fast=fast,
                  data=EventData(order=order))


def _override(directory: Path, body: str, name: str = "order.placed") -> None:
    path = directory / f"{name}.mjml"
    before = path.stat().st_mtime_ns if path.exists() else 0
    path.write_text(f"""<mjml>
  <mj-head><mj-title>{{{{ _("Order #{{number}}", number=order.number) }}}}</mj-title></mj-head>
  <mj-body><mj-section><mj-column>
    {body}
  </mj-column></mj-section></mj-body>
</mjml>
""")
    os.utime(path, ns=(before + 2_000_000_000,) * 2)


@pytest.fixture
def custom(make_store: Callable[..., StoreConfig], templates_dir: Path
           ) -> Callable[[str], StoreConfig]:
    def write(body: str) -> StoreConfig:
        _override(templates_dir, body)
        return make_store(templates_dir=templates_dir, name="A & B")
    return write


def test_values_both_parts_show_escaped_only_in_html(
    custom: Callable[[str], StoreConfig]
) -> None:
    store = custom("""<mj-text>{{ store.name }} {{ who }} {{ bold }} {{ n }} {{ nothing }}
      {% for item in order.items %}{{ item.name }}: {{ money(item.line_total) }}
      {% if not loop.last %}, {% endif %}{% endfor %}
      {% set total = money(order.total) %}{{ _("Total") }} {{ total }}</mj-text>
      <mj-button href="{{ order.url }}">{{ _("View your order") }}</mj-button>""")
    mail = _same("order.placed", store, expect="on", who="<script>", bold=Markup("<b>x</b>"),
                 n=3, nothing=None)
    assert "A &amp; B &lt;script&gt; <b>x</b> 3" in mail.html
    assert "A & B <script> <b>x</b> 3" in mail.text


def test_loops_and_what_they_read_of_loop(custom: Callable[[str], StoreConfig]) -> None:
    store = custom("""<mj-text>{% for item in order.items %}{{ loop.index }}/{{ loop.length }}
      {{ loop.index0 }} {{ loop.revindex }} {{ loop.revindex0 }} {% if loop.first %}first{% endif %}
      {% if not loop.last %}, {% endif %}{{ item.name }}{% endfor %}
      {% for item in order.items if item.sku %}{{ loop.index }}{{ loop.last }}{% endfor %}
      {% for item in order.items %}{{ loop.cycle("odd", "even") }}{% endfor %}
      {% for item in order.items[:0] %}x{% else %}none{% endfor %}
      {% for a in order.items %}{% for b in [1, 2] %}{{ loop.index }}{% endfor %}{% endfor %}
      </mj-text>""")
    mail = _same("order.placed", store, expect="on")
    assert "1/5 0 5 4 first" in mail.text and "5/5 4 1 0" in mail.text
    assert "5True oddeven" in mail.text and "none 1212" in mail.text


def test_a_helper_called_with_a_python_keyword_as_argument_name(
    custom: Callable[[str], StoreConfig]
) -> None:
    store = custom("<mj-text>{{ _('No. {lambda}', lambda=order.number) }}</mj-text>")
    assert "No. 1042" in _same("order.placed", store, expect="on").text


def test_filters_that_escape_differently_per_part(custom: Callable[[str], StoreConfig]) -> None:
    store = custom("""<mj-text>{{ pieces | join(" & ") }} {{ ("<" ~ store.name ~ ">") }}
      {{ who | default("nobody") }} {{ locale | replace("_", "-") }}</mj-text>""")
    mail = _same("order.placed", store, expect="on", pieces=[Markup("<i>a</i>"), "<b>"])
    assert "<i>a</i> &amp; &lt;b&gt;" in mail.html and "<i>a</i> & <b>" in mail.text


def test_a_mapping_read_as_an_attribute_steps_aside_for_good(
    custom: Callable[[str], StoreConfig]
) -> None:
    store = custom("<mj-text>{{ settings.greeting }} {{ order.number }}</mj-text>")
    fast = Renderer()
    mail = _same("order.placed", store, expect="off", fast=fast,
                 settings={"greeting": "Hi <you>"})
    assert "Hi &lt;you&gt; 1042" in mail.html
    _same("order.placed", store, expect="off", fast=fast, settings={"greeting": "Again"})


@jinja2.pass_context
def _from_context(context: jinja2.runtime.Context, key: str) -> str:
    return f"[{context.eval_ctx.autoescape}:{context.get(key)}]"


def test_a_callable_that_wants_the_jinja_context(custom: Callable[[str], StoreConfig]) -> None:
    store = custom("<mj-text>{{ peek('locale') }}</mj-text>")
    mail = _same("order.placed", store, expect="off", peek=_from_context)
    assert "[True:en]" in mail.html and "[False:en]" in mail.text


@pytest.mark.parametrize("body", [
    "{% macro cell(x) %}<b>{{ x }}</b>{% endmacro %}<mj-text>{{ cell(order.number) }}</mj-text>",
    "<mj-text>{% raw %}{{ not jinja }}{% endraw %} {{ order.number }}</mj-text>",
    "<mj-text>{% autoescape false %}{{ who }}{% endautoescape %} {{ who }}</mj-text>",
    "<mj-text>{% set line %}{{ order.number }}!{% endset %}{{ line }}</mj-text>",
])
def test_what_the_single_pass_cannot_express_keeps_the_parts(
    custom: Callable[[str], StoreConfig], body: str
) -> None:
    _same("order.placed", custom(body), expect="none", who="<i>")


def test_errors_read_the_same_as_from_the_parts(custom: Callable[[str], StoreConfig]) -> None:
    store = custom("<mj-text>{{ order.number }}</mj-text>\n<mj-text>{{ order.nope }}</mj-text>")
    messages = []
    for renderer in (Renderer(), Renderer(single_pass=False)):
        with pytest.raises(TemplateError) as caught:
            _render(renderer, store, "order.placed")
        messages.append(str(caught.value))
    assert messages[0] == messages[1]
    assert "nope" in messages[0] and "line 5" in messages[0]


def test_stores_and_languages_get_their_own_constants(
    make_store: Callable[..., StoreConfig]
) -> None:
    fast = Renderer()
    one, two = make_store(name="First Shop"), make_store(name="Second Shop", locale="de")
    for _ in range(2):  # the second round reuses the variants
        for store in (one, two):
            for locale in ("en", "fr"):
                mail = _same("order.placed", store, expect="on", locale=locale, fast=fast)
                assert store.name in mail.text
    recipient = Recipient(email="x@example.com", locale="fr")
    mail = fast.render("order.placed", store=one, store_id="s1", recipient=recipient,
                       data=sample("order.placed")[1], locales=["fr"])
    assert "First Shop" in mail.text and "Merci" in mail.text
