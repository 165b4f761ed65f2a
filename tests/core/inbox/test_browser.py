"""The pages in a real headless Chromium: rendered, escaped, scripts confined.

Set ``TIDINGS_INBOX_SCREENSHOTS=/some/dir`` to keep screenshots of the list
and detail pages for a visual check.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path

import pytest

from .support import Stack, html_part, order_mail, text_mail

_CANDIDATES = ("/usr/bin/chromium", shutil.which("chromium") or "")
CHROMIUM = next((p for p in _CANDIDATES if p and os.access(p, os.X_OK)), None)
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="needs headless Chromium at /usr/bin/chromium (apt-get install -y chromium)",
)
EVIL = "<script>document.documentElement.dataset.pwned = 1</script>"


async def chromium(profile: Path, *args: str) -> str:
    """Run headless Chromium to completion; returns its stdout (e.g. the DOM)."""
    assert CHROMIUM is not None
    proc = await asyncio.create_subprocess_exec(
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--no-first-run", "--no-default-browser-check", "--no-proxy-server",
        "--hide-scrollbars", f"--user-data-dir={profile}", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout=90)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    assert proc.returncode == 0, err.decode(errors="replace")[-2000:]
    return out.decode()


async def test_pages_in_headless_chromium(stack: Stack, tmp_path: Path) -> None:
    await stack.send(text_mail(EVIL))
    html_mail = order_mail()
    html_part(html_mail).set_content(
        "<html><body><h1>Hallo Zoë</h1>"
        "<script>document.body.dataset.pwned = 1</script></body></html>",
        subtype="html",
    )
    await stack.send(html_mail)
    await stack.send(order_mail("Ihre Bestellung #1002 wurde versandt"))
    newest, order, evil = await stack.inbox.wait_for(3)

    dom = await chromium(tmp_path / "p1", "--dump-dom", f"{stack.base_url}/inbox")
    assert "Ihre Bestellung #1002 wurde versandt" in dom
    assert "Bestellbestätigung #1001" in dom
    assert "&lt;script&gt;document.documentElement.dataset.pwned" in dom  # shown as text
    assert "pwned=" not in dom  # and never run
    assert " UTC</time>" not in dom  # our own nonce'd script did run (times localized)

    dom = await chromium(tmp_path / "p2", "--dump-dom", f"{stack.base_url}/inbox/{order.id}")
    assert "Bestellbestätigung #1001" in dom and "<iframe" in dom

    # Even opened directly, the mail's HTML runs no script (CSP sandbox).
    dom = await chromium(tmp_path / "p3", "--dump-dom", f"{stack.base_url}/inbox/{order.id}/html")
    assert "Hallo Zoë" in dom and "pwned" not in dom.replace("dataset.pwned = 1", "")

    shots = [("list", "/inbox/"), ("detail", f"/inbox/{newest.id}"), ("text", f"/inbox/{evil.id}")]
    keep = os.environ.get("TIDINGS_INBOX_SCREENSHOTS")
    for name, path in shots:
        png = tmp_path / f"inbox-{name}.png"
        await chromium(
            tmp_path / f"s-{name}", f"--screenshot={png}", "--window-size=1200,900",
            "--virtual-time-budget=2000", f"{stack.base_url}{path}",
        )
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        if keep:
            shutil.copy(png, Path(keep) / png.name)
