"""MJML and html2text run once per template version, never per message."""

from __future__ import annotations

import itertools
from collections import Counter
from typing import Any

import html2text
import mjml
import pytest

from tidings.core.config import StoreConfig
from tidings.core.samples import sample
from tidings.core.templates import Renderer, template_names


def test_mjml_runs_once_per_template(store: StoreConfig, monkeypatch: pytest.MonkeyPatch) -> None:
    compiled: Counter[str] = Counter()

    def counting_mjml2html(source: str, **kwargs: Any) -> str:
        compiled[source[:200]] += 1
        return mjml.mjml2html(source, **kwargs)

    conversions = 0
    original_handle = html2text.HTML2Text.handle

    def counting_handle(self: html2text.HTML2Text, data: str) -> str:
        nonlocal conversions
        conversions += 1
        return original_handle(self, data)

    monkeypatch.setattr(html2text.HTML2Text, "handle", counting_handle)
    renderer = Renderer(compile_mjml=counting_mjml2html)
    names = template_names()
    jobs = itertools.islice(itertools.cycle(itertools.product(names, ["en", "fr", "de", "es"])),
                            200)
    for name, locale in jobs:
        recipient, data = sample(name)
        renderer.render(name, store=store, store_id="demo", recipient=recipient, data=data,
                        locales=[locale])
    assert sum(compiled.values()) == len(names)
    assert all(count == 1 for count in compiled.values())
    assert conversions == len(names)
