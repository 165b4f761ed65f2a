"""The web view and JSON API, over real HTTP through a real ``/inbox`` mount."""

from __future__ import annotations

import re
from datetime import datetime
from email.message import EmailMessage

from tidings.core.inbox import Inbox

from .support import GARBAGE, Stack, html_part, order_mail, running_stack, text_mail

EVIL = "<script>alert(1)</script> & \"quotes\""


async def test_mount_root_with_and_without_slash(stack: Stack) -> None:
    slash = await stack.http.get("/inbox/")
    assert slash.status_code == 200
    assert "No mail yet" in slash.text
    assert "Mail sent to the test inbox appears here" in slash.text
    assert f"127.0.0.1:{stack.inbox.port}" in slash.text  # tells newcomers where to send

    bare = await stack.http.get("/inbox", follow_redirects=True)
    assert bare.status_code == 200
    assert str(bare.url) == f"{stack.base_url}/inbox/"
    assert bare.text.count("No mail yet") == 1


async def test_list_is_newest_first_and_escaped(stack: Stack) -> None:
    await stack.send(order_mail())
    await stack.send(text_mail(EVIL))
    await stack.inbox.wait_for(2)

    page = await stack.http.get("/inbox/")
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    html = page.text
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &#34;quotes&#34;" in html
    assert html.index("&lt;script&gt;alert(1)") < html.index("Bestellbestätigung #1001")
    assert "Jörg Müller" in html and "Zoë Čapek &lt;zoe@example.org&gt;" in html
    newest, oldest = stack.inbox.messages()
    assert f'href="/inbox/{newest.id}"' in html and f'href="/inbox/{oldest.id}"' in html
    assert "refresh" in html  # a no-JS fallback for the live list
    assert "http://" not in html.replace("http-equiv", "")  # no external assets
    # Our own page only runs our own (nonce'd) script.
    csp = page.headers["content-security-policy"]
    nonce = re.search(r"'nonce-([^']+)'", csp)
    assert nonce and html.count(f'nonce="{nonce.group(1)}"') == html.count("<script")


async def test_detail_page(stack: Stack) -> None:
    await stack.send(order_mail())
    [mail] = await stack.inbox.wait_for(1)

    page = await stack.http.get(f"/inbox/{mail.id}")
    assert page.status_code == 200
    html = page.text
    assert "<title>Bestellbestätigung #1001 — Grüße aus Köln · Tidings</title>" in html
    assert "Jörg Müller &lt;shop@example.com&gt;" in html
    assert "Mon, 01 Jul 2024 10:00:00 +0000" in html
    iframe = re.search(r"<iframe[^>]*>", html)
    assert iframe
    assert f'src="/inbox/{mail.id}/html"' in iframe.group(0)
    assert "sandbox=" in iframe.group(0) and "allow-scripts" not in iframe.group(0)
    assert "allow-same-origin" not in iframe.group(0)
    assert "<pre>Hallo Zoë,\n\ndanke für Ihre Bestellung über 12,50 €.\n</pre>" in html
    assert "<th scope=\"row\">Content-Type</th>" in html
    assert f'href="/inbox/{mail.id}/raw"' in html
    assert 'href="/inbox/"' in html


async def test_detail_escapes_everything(stack: Stack) -> None:
    msg = text_mail(EVIL)
    msg.set_content("<b>not bold</b>\n")
    msg["X-Evil"] = "<img src=x onerror=alert(1)>"
    await stack.send(msg)
    [mail] = await stack.inbox.wait_for(1)

    html = (await stack.http.get(f"/inbox/{mail.id}")).text
    assert "<script>alert" not in html and "<img src=x" not in html and "<b>not bold" not in html
    assert "<title>&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;b&gt;not bold&lt;/b&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


async def test_html_body_is_sandboxed(stack: Stack) -> None:
    await stack.send(order_mail())
    [mail] = await stack.inbox.wait_for(1)

    body = await stack.http.get(f"/inbox/{mail.id}/html")
    assert body.status_code == 200
    assert body.headers["content-type"] == "text/html; charset=utf-8"
    csp = body.headers["content-security-policy"]
    assert csp.startswith("sandbox")
    assert "allow-scripts" not in csp and "allow-same-origin" not in csp
    assert "default-src 'none'" in csp and "script-src" not in csp
    assert body.headers["x-content-type-options"] == "nosniff"
    assert '<head><base target="_blank"><title>x</title>' in body.text
    assert "<b>12,50 €</b>" in body.text

    text_only = await stack.http.get(f"/inbox/{mail.id}x/html")
    assert text_only.status_code == 404


async def test_raw_download(stack: Stack) -> None:
    await stack.send(order_mail())
    [mail] = await stack.inbox.wait_for(1)
    raw = await stack.http.get(f"/inbox/{mail.id}/raw")
    assert raw.status_code == 200
    assert raw.headers["content-type"] == "message/rfc822"
    assert f'filename="{mail.id}.eml"' in raw.headers["content-disposition"]
    assert raw.content == mail.raw


async def test_json_api(stack: Stack) -> None:
    await stack.send(order_mail())
    await stack.send(text_mail())
    second, first = await stack.inbox.wait_for(2)

    listing = (await stack.http.get("/inbox/api/messages")).json()
    assert listing["total"] == 2
    assert [m["id"] for m in listing["messages"]] == [second.id, first.id]
    entry = listing["messages"][1]
    assert entry == {
        "id": first.id,
        "received_at": first.received_at.isoformat(),
        "mail_from": "shop@example.com",
        "rcpt_tos": ["zoe@example.org"],
        "from": "Jörg Müller <shop@example.com>",
        "to": "Zoë Čapek <zoe@example.org>",
        "subject": "Bestellbestätigung #1001 — Grüße aus Köln",
        "size": first.size,
        "has_html": True,
        "has_text": True,
    }
    assert datetime.fromisoformat(entry["received_at"]).utcoffset() is not None

    limited = (await stack.http.get("/inbox/api/messages?limit=1")).json()
    assert [m["id"] for m in limited["messages"]] == [second.id] and limited["total"] == 2
    assert (await stack.http.get("/inbox/api/messages?limit=x")).status_code == 400

    detail = (await stack.http.get(f"/inbox/api/messages/{first.id}")).json()
    assert {k: detail[k] for k in entry} == entry
    assert ["Subject", "Bestellbestätigung #1001 — Grüße aus Köln"] in detail["headers"]
    assert "<b>12,50 €</b>" in detail["html"]
    assert detail["text"].startswith("Hallo Zoë")
    assert detail["notes"] == [] and detail["attachments"] == []

    missing = await stack.http.get("/inbox/api/messages/nope")
    assert missing.status_code == 404
    assert missing.json()["error"] == "not_found"


async def test_clear_via_api(stack: Stack) -> None:
    await stack.send(text_mail())
    [mail] = await stack.inbox.wait_for(1)
    cleared = await stack.http.delete("/inbox/api/messages")
    assert cleared.status_code == 200 and cleared.json() == {"deleted": 1, "total": 0}
    assert stack.inbox.messages() == []
    assert (await stack.http.get("/inbox/api/messages")).json() == {"messages": [], "total": 0}
    gone = await stack.http.get(f"/inbox/{mail.id}")
    assert gone.status_code == 404 and "This message is gone" in gone.text


async def test_ring_buffer_over_http() -> None:
    box = Inbox(keep=2)
    await box.start(port=0)
    try:
        async with running_stack(box) as small:
            for n in range(4):
                await small.send(text_mail(f"mail {n}"))
            await box.wait_for(2)
            listing = (await small.http.get("/inbox/api/messages")).json()
            assert [m["subject"] for m in listing["messages"]] == ["mail 3", "mail 2"]
            assert listing["total"] == 2
            page = (await small.http.get("/inbox/")).text
            assert "mail 3" in page and "mail 1" not in page
    finally:
        await box.stop()


async def test_garbage_and_text_only_pages(stack: Stack) -> None:
    await stack.send(GARBAGE, sender="robot@example.com", recipients=["a@example.org"])
    await stack.send(text_mail())
    text, garbage = await stack.inbox.wait_for(2)

    page = (await stack.http.get(f"/inbox/{garbage.id}")).text
    assert "(no subject)" in page
    assert "This message may not display as intended" in page
    assert "No headers were found" in page
    assert "this is not a mail" in page

    page = (await stack.http.get(f"/inbox/{text.id}")).text
    assert 'id="tab-html"' not in page and 'id="tab-text"' in page
    assert "<iframe" not in page
    assert (await stack.http.get(f"/inbox/{text.id}/html")).status_code == 404

    listing = (await stack.http.get("/inbox/")).text
    assert "(no subject)" in listing and "CHECK" in listing


async def test_attachments_and_cid_images(stack: Stack) -> None:
    msg = EmailMessage()
    msg["Subject"] = "Your invoice"
    msg["From"] = "shop@example.com"
    msg["To"] = "zoe@example.org"
    msg.set_content("Invoice attached.")
    msg.add_alternative('<img src="cid:logo@shop" alt="logo">', subtype="html")
    html_part(msg).add_related(b"PNGDATA", "image", "png", cid="<logo@shop>")
    msg.add_attachment(b"%PDF-1.4", "application", "pdf", filename="Rechnung März.pdf")
    await stack.send(msg)
    [mail] = await stack.inbox.wait_for(1)

    body = (await stack.http.get(f"/inbox/{mail.id}/html")).text
    assert f'src="/inbox/{mail.id}/cid/logo%40shop"' in body
    logo = await stack.http.get(f"/inbox/{mail.id}/cid/logo%40shop")
    assert logo.content == b"PNGDATA" and logo.headers["content-type"] == "image/png"

    page = (await stack.http.get(f"/inbox/{mail.id}")).text
    assert "Rechnung März.pdf" in page
    pdf = await stack.http.get(f"/inbox/{mail.id}/attachments/1")
    assert pdf.content == b"%PDF-1.4"
    assert pdf.headers["content-type"] == "application/pdf"
    assert "filename*=UTF-8''Rechnung%20M%C3%A4rz.pdf" in pdf.headers["content-disposition"]
    assert pdf.headers["content-security-policy"].startswith("sandbox")
    assert (await stack.http.get(f"/inbox/{mail.id}/attachments/9")).status_code == 404


async def test_unknown_ids_are_404(stack: Stack) -> None:
    for path in ("/inbox/nope", "/inbox/nope/raw", "/inbox/nope/html", "/inbox/nope/cid/x"):
        reply = await stack.http.get(path)
        assert reply.status_code == 404, path
