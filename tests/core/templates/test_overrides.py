"""Store overrides win over the built-in templates, and edits are picked up."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from tidings.core.config import StoreConfig
from tidings.core.samples import sample
from tidings.core.templates import Renderer

OVERRIDE = """<mjml>
  <mj-head><mj-title>Custom {{ order.number }} {{ version }}</mj-title></mj-head>
  <mj-body>
    <mj-section><mj-column><mj-text>Custom body {{ version }}</mj-text></mj-column></mj-section>
    <mj-include path="partials/footer.mjml" />
  </mj-body>
</mjml>
"""


def _render(renderer: Renderer, store: StoreConfig, name: str = "order.placed",
            **extra: object) -> tuple[str, str, str, str]:
    recipient, data = sample(name)
    mail = renderer.render(name, store=store, store_id="demo", recipient=recipient, data=data,
                           locales=["en"], extra=extra)
    return mail.subject, mail.html, mail.text, mail.template_version


def _write(path: Path, text: str) -> None:
    """Write and move the mtime forward, as an editor saving a second later would."""
    before = path.stat().st_mtime_ns if path.exists() else 0
    path.write_text(text)
    os.utime(path, ns=(before + 2_000_000_000, before + 2_000_000_000))


def test_override_wins_and_changes_are_picked_up(
    renderer: Renderer, make_store: Callable[..., StoreConfig], templates_dir: Path
) -> None:
    store = make_store(templates_dir=templates_dir)
    subject, _, _, builtin_version = _render(renderer, store)
    assert subject == "Order #1042 confirmed"

    _write(templates_dir / "order.placed.mjml", OVERRIDE)
    subject, html, text, v1 = _render(renderer, store, version="one")
    assert subject == "Custom 1042 one"
    assert "Custom body one" in html and "Custom body one" in text
    # The built-in footer is still found through the include loader.
    assert "You received this email because you placed an order at Northwind Supply." in text
    assert v1 != builtin_version

    _write(templates_dir / "order.placed.mjml", OVERRIDE.replace("Custom body", "Edited body"))
    _, _, text, v2 = _render(renderer, store, version="two")
    assert "Edited body two" in text
    assert v2 != v1

    (templates_dir / "order.placed.mjml").unlink()
    subject, _, _, version = _render(renderer, store)
    assert subject == "Order #1042 confirmed"
    assert version == builtin_version


def test_partial_override_applies_to_builtin_templates(
    renderer: Renderer, make_store: Callable[..., StoreConfig], templates_dir: Path
) -> None:
    store = make_store(templates_dir=templates_dir)
    _, _, text, before = _render(renderer, store, "order.shipped")
    assert "Custom footer" not in text
    _write(templates_dir / "partials" / "footer.mjml",
           "<mj-section><mj-column><mj-text>Custom footer for {{ store.name }}</mj-text>"
           "</mj-column></mj-section>")
    _, html, text, after = _render(renderer, store, "order.shipped")
    assert "Custom footer for Northwind Supply" in text
    assert "Custom footer for Northwind Supply" in html
    assert after != before


def test_other_stores_keep_the_builtin(
    renderer: Renderer, make_store: Callable[..., StoreConfig], templates_dir: Path
) -> None:
    _write(templates_dir / "order.placed.mjml", OVERRIDE)
    custom = make_store(templates_dir=templates_dir)
    plain = make_store()
    assert _render(renderer, custom, version="x")[0] == "Custom 1042 x"
    assert _render(renderer, plain)[0] == "Order #1042 confirmed"


def test_source_helper(
    renderer: Renderer, make_store: Callable[..., StoreConfig], templates_dir: Path
) -> None:
    store = make_store(templates_dir=templates_dir)
    text, path = renderer.source("order.placed", store)
    assert path is None and "<mj-title>" in text
    _write(templates_dir / "order.placed.mjml", OVERRIDE)
    text, path = renderer.source("order.placed", store)
    assert path == templates_dir / "order.placed.mjml"
    assert text == OVERRIDE


def test_extra_variables_reach_the_template(
    renderer: Renderer, make_store: Callable[..., StoreConfig], templates_dir: Path
) -> None:
    _write(templates_dir / "order.placed.mjml", OVERRIDE.replace(
        "Custom body {{ version }}",
        "{{ coupon }} {{ event.type }} {{ event.id }} {{ store.id }} {{ locale }} {{ subject }}"))
    store = make_store(templates_dir=templates_dir)
    recipient, data = sample("order.placed")
    mail = Renderer().render("order.placed", store=store, store_id="north", recipient=recipient,
                             data=data, locales=["fr_CA"], event_id="evt_9",
                             extra={"coupon": "SAVE10", "version": "v"})
    assert "SAVE10 order.placed evt_9 north fr_CA Custom 1042 v" in mail.text


def test_check_reports_problems(
    renderer: Renderer, make_store: Callable[..., StoreConfig], templates_dir: Path
) -> None:
    store = make_store(templates_dir=templates_dir)
    assert renderer.check(store) == []
    assert renderer.check(make_store()) == []

    _write(templates_dir / "order.paid.mjml", OVERRIDE.replace("{{ version }}", "{{ nope }}"))
    _write(templates_dir / "order.shipped.mjml", "<mjml><mj-body>{% if %}</mj-body></mjml>")
    _write(templates_dir / "order.shiped.mjml", OVERRIDE)
    problems = renderer.check(store)
    assert len(problems) == 3, problems
    assert any("'order.paid'" in p and "'nope'" in p for p in problems)
    assert any("'order.shipped'" in p and "Jinja syntax error" in p for p in problems)
    assert any("order.shiped.mjml does not override any template" in p for p in problems)
    assert len(renderer.check(store, render_samples=False)) == 2
