"""Failures become TemplateError with a plain reason; nothing is ever half-rendered."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from tidings.core.config import StoreConfig
from tidings.core.errors import TemplateError
from tidings.core.events import EventData, Recipient
from tidings.core.samples import sample
from tidings.core.templates import Renderer

MINIMAL = """<mjml>
  <mj-head><mj-title>{title}</mj-title></mj-head>
  <mj-body><mj-section><mj-column>
    <mj-text>{body}</mj-text>
  </mj-column></mj-section></mj-body>
</mjml>
"""


def _render(renderer: Renderer, store: StoreConfig, name: str = "order.placed",
            recipient: Recipient | None = None, data: EventData | None = None) -> str:
    default_recipient, default_data = sample(name)
    mail = renderer.render(name, store=store, store_id="demo",
                           recipient=recipient or default_recipient,
                           data=data or default_data, locales=["en"])
    return mail.html


def test_undefined_variable_raises_and_names_it(
    renderer: Renderer, make_store: Callable[..., StoreConfig], templates_dir: Path
) -> None:
    (templates_dir / "order.placed.mjml").write_text(MINIMAL.format(
        title="Order {{ order.number }}", body="Hello {{ custmer.name }}"))
    store = make_store(templates_dir=templates_dir)
    with pytest.raises(TemplateError) as info:
        _render(renderer, store)
    err = info.value
    assert err.template == "order.placed"
    assert "'custmer'" in err.reason
    assert "order.placed.mjml line 4" in err.reason


def test_missing_attribute_raises(
    renderer: Renderer, make_store: Callable[..., StoreConfig], templates_dir: Path
) -> None:
    (templates_dir / "order.placed.mjml").write_text(MINIMAL.format(
        title="x", body="{{ order.nmber }}"))
    with pytest.raises(TemplateError, match="has no attribute 'nmber'"):
        _render(renderer, make_store(templates_dir=templates_dir))


def test_undefined_in_subject_names_the_title(
    renderer: Renderer, make_store: Callable[..., StoreConfig], templates_dir: Path
) -> None:
    (templates_dir / "order.placed.mjml").write_text(MINIMAL.format(
        title="Order {{ ordr.number }}", body="x"))
    with pytest.raises(TemplateError) as info:
        _render(renderer, make_store(templates_dir=templates_dir))
    assert "'ordr'" in info.value.reason
    assert "<mj-title> line 2" in info.value.reason


def test_failing_filter_or_helper_raises(
    renderer: Renderer, make_store: Callable[..., StoreConfig], templates_dir: Path
) -> None:
    (templates_dir / "order.placed.mjml").write_text(MINIMAL.format(
        title="x", body='{{ _("Hi {name}", nam="x") }}'))
    with pytest.raises(TemplateError, match=r"placeholder \{name\}"):
        _render(renderer, make_store(templates_dir=templates_dir))


def test_jinja_syntax_error_names_file_and_line(
    renderer: Renderer, make_store: Callable[..., StoreConfig], templates_dir: Path
) -> None:
    (templates_dir / "order.placed.mjml").write_text(MINIMAL.format(
        title="x", body="{% if order %}unclosed"))
    with pytest.raises(TemplateError) as info:
        _render(renderer, make_store(templates_dir=templates_dir))
    assert "Jinja syntax error" in info.value.reason
    assert "order.placed.mjml" in info.value.reason


def test_mjml_syntax_error_raises(
    renderer: Renderer, make_store: Callable[..., StoreConfig], templates_dir: Path
) -> None:
    (templates_dir / "order.placed.mjml").write_text(
        "<mjml><mj-head><mj-title>x</mj-title></mj-head><mj-body><mj-section><mj-column>"
        "<mj-text>oops</mj-column></mj-section></mj-body></mjml>")
    with pytest.raises(TemplateError, match="MJML could not be compiled"):
        _render(renderer, make_store(templates_dir=templates_dir))


def test_less_than_inside_jinja_is_fine(
    renderer: Renderer, make_store: Callable[..., StoreConfig], templates_dir: Path
) -> None:
    # MRML alone rejects "< " (pitfall P2); Jinja tags never reach it.
    (templates_dir / "order.placed.mjml").write_text(MINIMAL.format(
        title="x", body="{% if order.items|length < 10 %}few{% endif %}"))
    assert "few" in _render(renderer, make_store(templates_dir=templates_dir))


def test_missing_title_is_reported(
    renderer: Renderer, make_store: Callable[..., StoreConfig], templates_dir: Path
) -> None:
    (templates_dir / "order.placed.mjml").write_text(
        "<mjml><mj-body><mj-section><mj-column><mj-text>x</mj-text></mj-column></mj-section>"
        "</mj-body></mjml>")
    with pytest.raises(TemplateError, match="no <mj-title>"):
        _render(renderer, make_store(templates_dir=templates_dir))


def test_unknown_template(renderer: Renderer, store: StoreConfig) -> None:
    recipient, data = sample("order.placed")
    with pytest.raises(TemplateError, match="no built-in template"):
        renderer.render("order.nope", store=store, store_id="demo", recipient=recipient,
                        data=data, locales=["en"])
    with pytest.raises(TemplateError, match="not a valid template name"):
        renderer.render("../etc/passwd", store=store, store_id="demo", recipient=recipient,
                        data=data, locales=["en"])


def test_order_template_without_order(renderer: Renderer, store: StoreConfig) -> None:
    with pytest.raises(TemplateError, match="has no attribute 'number'"):
        _render(renderer, store, data=EventData())


@pytest.mark.parametrize("path", ["../secret.mjml", "/etc/passwd", "partials/../../x.mjml"])
def test_includes_cannot_escape(
    renderer: Renderer, make_store: Callable[..., StoreConfig], templates_dir: Path, path: str
) -> None:
    (templates_dir.parent / "secret.mjml").write_text("<mj-text>secret</mj-text>")
    (templates_dir / "order.placed.mjml").write_text(
        "<mjml><mj-head><mj-title>x</mj-title></mj-head><mj-body>"
        f'<mj-include path="{path}" /></mj-body></mjml>')
    with pytest.raises(TemplateError, match="must name a file inside the templates folder"):
        _render(renderer, make_store(templates_dir=templates_dir))


def test_missing_include(
    renderer: Renderer, make_store: Callable[..., StoreConfig], templates_dir: Path
) -> None:
    (templates_dir / "order.placed.mjml").write_text(
        "<mjml><mj-head><mj-title>x</mj-title></mj-head><mj-body>"
        '<mj-include path="partials/nope.mjml" /></mj-body></mjml>')
    with pytest.raises(TemplateError, match=re.escape("partials/nope.mjml'>: no such file")):
        _render(renderer, make_store(templates_dir=templates_dir))


def test_html_escapes_but_text_does_not(renderer: Renderer, store: StoreConfig) -> None:
    _, data = sample("order.placed")
    evil = Recipient(email="x@example.com", name='<script>alert("x")</script>')
    mail = renderer.render("order.placed", store=store, store_id="demo", recipient=evil,
                           data=data, locales=["en"])
    assert "<script>" not in mail.html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in mail.html
    assert 'Hi <script>alert("x")</script>,' in mail.text


def test_subject_is_one_line(
    renderer: Renderer, make_store: Callable[..., StoreConfig]
) -> None:
    store = make_store(name="Evil\r\nBcc: victim@example.com\n\tShop")
    recipient, data = sample("account.created")
    mail = renderer.render("account.created", store=store, store_id="demo",
                           recipient=recipient, data=data, locales=["en"])
    assert mail.subject == "Welcome to Evil Bcc: victim@example.com Shop"
    assert "\r" not in mail.subject and "\n" not in mail.subject


def test_none_renders_as_nothing_but_undefined_raises(
    renderer: Renderer, make_store: Callable[..., StoreConfig], templates_dir: Path
) -> None:
    (templates_dir / "order.placed.mjml").write_text(MINIMAL.format(
        title="x", body="[{{ order.tracking }}]"))
    store = make_store(templates_dir=templates_dir)
    assert "[]" in _render(renderer, store)


def test_failed_compile_is_not_retried_every_time(
    make_store: Callable[..., StoreConfig], templates_dir: Path
) -> None:
    calls: list[str] = []

    def counting(source: str, **kwargs: object) -> str:
        calls.append(source)
        raise ValueError("unable to parse next template in root template")

    renderer = Renderer(compile_mjml=counting)
    (templates_dir / "order.placed.mjml").write_text(MINIMAL.format(title="x", body="y"))
    store = make_store(templates_dir=templates_dir)
    for _ in range(3):
        with pytest.raises(TemplateError, match="MJML could not be compiled"):
            _render(renderer, store)
    assert len(calls) == 1


def test_error_in_a_partial_names_the_partial(
    renderer: Renderer, make_store: Callable[..., StoreConfig], templates_dir: Path
) -> None:
    (templates_dir / "partials" / "footer.mjml").write_text(
        "<mj-section><mj-column>\n"
        "  <mj-text>{{ store.name }}</mj-text>\n"
        "  <mj-text>{{ store.phone }}</mj-text>\n"
        "</mj-column></mj-section>\n")
    with pytest.raises(TemplateError) as info:
        _render(renderer, make_store(templates_dir=templates_dir), "order.shipped")
    reason = info.value.reason
    assert "has no attribute 'phone'" in reason
    assert f"{templates_dir / 'partials' / 'footer.mjml'} line 3" in reason
