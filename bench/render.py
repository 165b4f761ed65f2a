"""Figure 1: per-message render cost, Tidings' Renderer vs Node's mjml on the same mail.

Tidings: ``Renderer.render('order.placed', …)`` with the 5-item sample order
(compiled-once MJML, then Jinja for subject, HTML and text). Node: the same
template with its Jinja expanded once in Python (so it is plain MJML), rendered
by ``mjml2html`` in one warm Node process.
"""

from __future__ import annotations

import gc
import json
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import BENCH, QUICK, ROUNDS, emit, store_toml  # noqa: E402

from tidings.core.config import StoreConfig  # noqa: E402
from tidings.core.samples import sample  # noqa: E402
from tidings.core.templates import Renderer  # noqa: E402
from tidings.core.templates._codegen import make_environments  # noqa: E402
from tidings.core.templates._compile import Compiled  # noqa: E402
from tidings.core.templates._render import DEFAULTS_DIR  # noqa: E402

TEMPLATE = "order.placed"
_INCLUDE = re.compile(r"<mj-include\s+path=\"([^\"]+)\"\s*/>")


def bench_store() -> StoreConfig:
    import tomllib

    raw = tomllib.loads(store_toml())["stores"]["shop"]
    return StoreConfig.model_validate(raw)


def expanded_mjml(renderer: Renderer, store: StoreConfig) -> str:
    """The template's MJML with includes inlined and Jinja run once with the real context."""
    captured: dict[str, Any] = {}
    original = Compiled.render

    def spy(self: Compiled, context: dict[str, Any]) -> tuple[str, str, str]:
        captured.update(context)
        return original(self, context)

    recipient, data = sample(TEMPLATE)
    with mock.patch.object(Compiled, "render", spy):
        renderer.render(TEMPLATE, store=store, store_id="shop", recipient=recipient, data=data,
                        locales=[recipient.locale, store.locale])
    source = (DEFAULTS_DIR / f"{TEMPLATE}.mjml").read_text()
    while (m := _INCLUDE.search(source)) is not None:
        source = (source[:m.start()] + (DEFAULTS_DIR / m.group(1)).read_text()
                  + source[m.end():])
    html_env = make_environments().html
    return html_env.from_string(source).render(captured)


def main() -> None:
    # Short rounds of about equal length (~0.3 s each side), many of them, alternating:
    # the noisiest figure on a machine whose speed drifts, and a cheap one.
    per_round = 100 if QUICK else 5000
    node_per_round = 20 if QUICK else 50
    rounds = ROUNDS if QUICK else 5 * ROUNDS
    store = bench_store()
    renderer = Renderer()
    recipient, data = sample(TEMPLATE)

    def render_once() -> Any:
        return renderer.render(TEMPLATE, store=store, store_id="shop", recipient=recipient,
                               data=data, locales=[recipient.locale, store.locale])

    mail = render_once()
    for _ in range(50):
        render_once()
    gc.freeze()  # as Hub.start does once started: the cyclic GC skips the templates and modules

    work = BENCH / "work"
    work.mkdir(exist_ok=True)
    mjml_file = work / "order.placed.expanded.mjml"
    mjml_file.write_text(expanded_mjml(renderer, store), encoding="utf-8")
    node = subprocess.Popen(
        ["node", str(BENCH / "node" / "bench_mjml.js"), str(mjml_file), str(node_per_round)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=BENCH / "node")
    assert node.stdin is not None and node.stdout is not None
    about = json.loads(node.stdout.readline())
    ours: list[float] = []
    theirs: list[float] = []
    try:
        # Rounds alternate, so both sides see the same state of a machine whose speed drifts.
        for _ in range(rounds):
            t0 = time.perf_counter()
            for _ in range(per_round):
                render_once()
            ours.append((time.perf_counter() - t0) * 1000 / per_round)
            node.stdin.write("round\n")
            node.stdin.flush()
            theirs.append(json.loads(node.stdout.readline())["ms"])
    finally:
        node.stdin.close()
        node.wait(timeout=30)
    emit({"ours_ms": ours, "node_ms": theirs, "node_version": about["node"],
          "mjml_version": about["mjml"], "node_html_bytes": about["html_bytes"],
          "ours_html_bytes": len(mail.html.encode()), "ours_text_bytes": len(mail.text.encode()),
          "mjml_bytes": mjml_file.stat().st_size, "per_round": per_round,
          "node_per_round": node_per_round})


if __name__ == "__main__":
    main()
