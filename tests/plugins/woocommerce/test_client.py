"""The REST client against the fake WooCommerce over real HTTP (and real TLS)."""

from __future__ import annotations

import secrets
import shutil
import ssl
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest

from tests.plugins.woocommerce.fake_woo import (
    FakeWoo,
    make_customer,
    make_order,
    make_webhook,
    oauth_signature,
    wc_date,
)
from tests.smtp_capture import free_port
from tidings.plugins.woocommerce.client import (
    WooAuthError,
    WooClient,
    WooError,
    WooNotFound,
    WooUnreachable,
    wc_datetime,
)

KEY, SECRET = "ck_0123456789abcdef", "cs_fedcba9876543210"
NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def fake() -> Iterator[FakeWoo]:
    with FakeWoo() as shop:
        shop.add_key(KEY, SECRET)
        yield shop


@pytest.fixture
def tls_fake(tmp_path: Path) -> Iterator[FakeWoo]:
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    with FakeWoo(tls=True, cert_dir=tmp_path) as shop:
        shop.add_key(KEY, SECRET)
        yield shop


@pytest.fixture
async def client(fake: FakeWoo) -> AsyncIterator[WooClient]:
    async with WooClient(fake.url, KEY, SECRET) as woo:
        yield woo


def orders(fake: FakeWoo, ids: range, *, modified: datetime, **kw: object) -> None:
    for i in ids:
        fake.put_order(make_order(i, created=modified - timedelta(days=1), modified=modified,
                                  **kw))


# -- authentication --------------------------------------------------------------------------


async def test_plain_http_signs_oauth1_in_the_query_as_woocommerce_checks_it(
        fake: FakeWoo, client: WooClient) -> None:
    orders(fake, range(1, 4), modified=NOW)
    got = [o["id"] async for o in client.orders_modified_after(NOW - timedelta(hours=1))]
    assert got == [1, 2, 3]
    (seen,) = fake.requests("/wp-json/wc/v3/orders")
    assert seen.auth == "oauth" and seen.authorization is None
    assert seen.params["oauth_signature_method"] == "HMAC-SHA256"
    assert "oauth_version" not in seen.params
    assert len(seen.params["oauth_nonce"]) >= 32
    assert abs(int(seen.params["oauth_timestamp"]) - datetime.now(UTC).timestamp()) < 60


async def test_https_uses_basic_auth_and_no_oauth(tls_fake: FakeWoo) -> None:
    context = ssl.create_default_context(cafile=str(tls_fake.cafile))
    async with httpx.AsyncClient(verify=context) as http:
        woo = WooClient(tls_fake.url, KEY, SECRET, http=http)
        assert await woo.latest_customer_id() == 0
    (seen,) = tls_fake.requests()
    assert seen.auth == "basic"
    assert seen.authorization is not None and seen.authorization.startswith("Basic ")
    assert not any(p.startswith("oauth_") for p in seen.params)


async def test_https_wrong_secret_is_woocommerces_consumer_secret_error(
        tls_fake: FakeWoo) -> None:
    context = ssl.create_default_context(cafile=str(tls_fake.cafile))
    async with httpx.AsyncClient(verify=context) as http:
        woo = WooClient(tls_fake.url, KEY, "cs_wrong", http=http)
        with pytest.raises(WooAuthError) as caught:
            await woo.count_orders()
    assert caught.value.status == 401
    assert caught.value.code == "woocommerce_rest_authentication_error"
    assert caught.value.wc_message == "Consumer secret is invalid."


async def test_the_fake_ignores_basic_auth_on_plain_http_like_woocommerce(
        fake: FakeWoo) -> None:
    async with httpx.AsyncClient() as http:
        response = await http.get(f"{fake.url}/wp-json/wc/v3/orders", auth=(KEY, SECRET))
    assert response.status_code == 401
    assert response.json()["code"] == "woocommerce_rest_cannot_view"


def test_the_fakes_hand_written_signature_matches_a_known_vector() -> None:
    # Computed independently with PHP's algorithm (sorted, rawurlencoded twice, key secret&).
    params = {"oauth_consumer_key": "ck", "oauth_nonce": "n" * 32, "oauth_timestamp": "1700000000",
              "oauth_signature_method": "HMAC-SHA1", "page": "1"}
    base = ("GET&http%3A%2F%2Fshop.test%2Fwp-json%2Fwc%2Fv3%2Forders&"
            "oauth_consumer_key%3Dck%26oauth_nonce%3D" + "n" * 32 +
            "%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D1700000000%26page%3D1")
    import base64
    import hashlib
    import hmac
    expected = base64.b64encode(hmac.new(b"cs&", base.encode(), hashlib.sha1).digest()).decode()
    assert oauth_signature("GET", "http://shop.test/wp-json/wc/v3/orders", params, "cs",
                           "HMAC-SHA1") == expected


@pytest.mark.parametrize(("key", "secret", "message"), [
    (KEY, "cs_wrong", "Invalid signature - provided signature does not match."),
    ("ck_unknown", SECRET, "Consumer key is invalid."),
])
async def test_wrong_keys_keep_woocommerces_own_words(fake: FakeWoo, key: str, secret: str,
                                                       message: str) -> None:
    async with WooClient(fake.url, key, secret) as woo:
        with pytest.raises(WooAuthError) as caught:
            await woo.count_orders()
    assert caught.value.code == "woocommerce_rest_authentication_error"
    assert caught.value.wc_message == message
    assert message in str(caught.value)
    assert "cs_" not in str(caught.value) and "oauth" not in str(caught.value)


async def test_clock_outside_the_15_minute_window_is_refused(fake: FakeWoo,
                                                             client: WooClient) -> None:
    fake.clock_skew = 20 * 60
    with pytest.raises(WooAuthError, match="Invalid timestamp"):
        await client.count_orders()


async def test_a_replayed_nonce_is_refused_and_each_request_gets_a_fresh_one(
        fake: FakeWoo, client: WooClient) -> None:
    await client.count_orders()
    await client.count_orders()
    first, second = fake.requests()
    assert first.params["oauth_nonce"] != second.params["oauth_nonce"]
    async with httpx.AsyncClient() as http:
        replay = await http.get(f"{fake.url}/wp-json/wc/v3/orders?{urlencode(first.params)}")
    assert replay.status_code == 401
    assert replay.json()["message"] == "Invalid nonce - nonce has already been used."


async def test_write_only_key_and_unprivileged_user_are_auth_errors(fake: FakeWoo) -> None:
    fake.add_key("ck_write", "cs_write", permissions="write")
    fake.add_key("ck_subscriber", "cs_subscriber", can_view=False)
    async with WooClient(fake.url, "ck_write", "cs_write") as woo:
        with pytest.raises(WooAuthError, match="does not have read permissions"):
            await woo.webhooks()
    async with WooClient(fake.url, "ck_subscriber", "cs_subscriber") as woo:
        with pytest.raises(WooAuthError) as caught:
            await woo.webhooks()
    assert (caught.value.status, caught.value.code) == (403, "woocommerce_rest_cannot_view")


# -- orders ----------------------------------------------------------------------------------


async def test_orders_follow_every_page_in_id_order(fake: FakeWoo, client: WooClient) -> None:
    orders(fake, range(1, 251), modified=NOW)
    got = [o["id"] async for o in client.orders_modified_after(NOW - timedelta(minutes=5))]
    assert got == list(range(1, 251))
    pages = fake.requests("/wp-json/wc/v3/orders")
    assert [s.params["page"] for s in pages] == ["1", "2", "3"]
    for seen in pages:
        assert seen.params["per_page"] == "100"
        assert (seen.params["orderby"], seen.params["order"]) == ("id", "asc")
        assert seen.params["status"] == "any"


async def signed_get(fake: FakeWoo, path: str, params: dict[str, str]) -> httpx.Response:
    """A request signed with the fake's own hand-written OAuth, for probing the fake."""
    oauth = {"oauth_consumer_key": KEY, "oauth_nonce": secrets.token_hex(16),
             "oauth_timestamp": str(int(time.time())), "oauth_signature_method": "HMAC-SHA256"}
    signed = {**params, **oauth}
    signed["oauth_signature"] = oauth_signature("GET", fake.url + path, signed, SECRET)
    async with httpx.AsyncClient() as http:
        return await http.get(f"{fake.url}{path}?{urlencode(signed)}")


async def test_modified_after_is_sent_in_gmt_and_read_as_gmt(fake: FakeWoo,
                                                             client: WooClient) -> None:
    cursor = NOW - timedelta(hours=2)
    orders(fake, range(1, 2), modified=cursor - timedelta(minutes=1))  # before: not wanted
    orders(fake, range(2, 3), modified=cursor + timedelta(hours=1))  # after: wanted
    got = [o["id"] async for o in client.orders_modified_after(cursor)]
    assert got == [2]
    (seen,) = fake.requests("/wp-json/wc/v3/orders")
    assert seen.params["modified_after"] == wc_date(cursor) == wc_datetime(cursor)
    assert seen.params["dates_are_gmt"] == "true"
    # Without dates_are_gmt, the GMT time is read in the site's zone (UTC-3): the order
    # modified an hour after the cursor looks two hours before it, and is missed.
    forgetful = await signed_get(fake, "/wp-json/wc/v3/orders",
                                 {"modified_after": wc_date(cursor), "orderby": "id"})
    assert forgetful.status_code == 200 and forgetful.json() == []


async def test_single_order_and_missing_order(fake: FakeWoo, client: WooClient) -> None:
    orders(fake, range(7, 8), modified=NOW)
    assert (await client.order(7))["number"] == "7"
    with pytest.raises(WooNotFound) as caught:
        await client.order(8)
    assert caught.value.code == "woocommerce_rest_shop_order_invalid_id"


# -- customers and webhooks ------------------------------------------------------------------


async def test_customers_newer_than_an_id_come_oldest_first_across_pages(
        fake: FakeWoo, client: WooClient) -> None:
    for i in range(1, 231):
        fake.put_customer(make_customer(i, created=NOW, role="administrator" if i == 229
                                        else "customer"))
    got = await client.customers_after_id(95)
    assert [c["id"] for c in got] == list(range(96, 231))  # every role, 229 included
    assert [s.params["page"] for s in fake.requests()] == ["1", "2"]  # stopped at id 95
    assert all(s.params["role"] == "all" and s.params["order"] == "desc"
               for s in fake.requests())
    assert await client.latest_customer_id() == 230
    assert await client.customers_after_id(230) == []


async def test_webhooks_are_listed_across_pages(fake: FakeWoo, client: WooClient) -> None:
    for i in range(1, 106):
        fake.put_webhook(make_webhook(i, "order.updated", "https://hub.example/x"))
    hooks = await client.webhooks()
    assert sorted(h["id"] for h in hooks) == list(range(1, 106))


# -- failures --------------------------------------------------------------------------------


async def test_server_errors_and_timeouts_are_unreachable(fake: FakeWoo) -> None:
    fake.fail("/wp-json/wc/v3/orders", status=503)
    async with WooClient(fake.url, KEY, SECRET, timeout=0.3) as woo:
        with pytest.raises(WooUnreachable) as caught:
            await woo.count_orders()
        assert caught.value.status == 503
        fake.fail("/wp-json/wc/v3/orders", status=200, delay=2)
        with pytest.raises(WooUnreachable, match="did not answer within"):
            await woo.count_orders()


async def test_connection_refused_is_unreachable() -> None:
    async with WooClient(f"http://127.0.0.1:{free_port()}", KEY, SECRET) as woo:
        with pytest.raises(WooUnreachable, match="cannot connect"):
            await woo.webhooks()


async def test_not_a_woocommerce_site() -> None:
    with FakeWoo() as shop:  # any path outside the REST routes is a plain 404 page
        async with WooClient(f"{shop.url}/blog", KEY, SECRET) as woo:
            with pytest.raises(WooNotFound):
                await woo.webhooks()


async def test_an_answer_that_is_not_json_is_a_woo_error(fake: FakeWoo,
                                                         client: WooClient) -> None:
    fake.fail("/wp-json/wc/v3/webhooks", status=200)
    with pytest.raises(WooError):
        await client.webhooks()


def test_url_must_be_http() -> None:
    with pytest.raises(ValueError, match="not an http"):
        WooClient("ftp://shop.example", KEY, SECRET)
