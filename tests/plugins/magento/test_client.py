"""The REST client against the fake Magento: auth modes, searchCriteria, paging, errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.plugins.magento.conftest import CREDS
from tests.plugins.magento.fake_magento import FakeMagento, make_order
from tidings.plugins.magento.client import (
    Filter,
    MagentoAuthError,
    MagentoClient,
    MagentoUnreachable,
    OAuthCredentials,
    search_params,
)

NOW = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)


def oauth(**change: str) -> OAuthCredentials:
    values = {"consumer_key": CREDS.consumer_key, "consumer_secret": CREDS.consumer_secret,
              "access_token": CREDS.access_token, "access_token_secret": CREDS.access_token_secret}
    return OAuthCredentials(**{**values, **change})


def test_search_params_are_the_documented_bracket_syntax() -> None:
    params = search_params([[Filter("updated_at", "2024-05-01 10:00:00", "gteq")]],
                           sort=[("updated_at", "ASC")], page_size=100, current_page=1)
    assert params == [
        ("searchCriteria[filter_groups][0][filters][0][field]", "updated_at"),
        ("searchCriteria[filter_groups][0][filters][0][value]", "2024-05-01 10:00:00"),
        ("searchCriteria[filter_groups][0][filters][0][condition_type]", "gteq"),
        ("searchCriteria[sortOrders][0][field]", "updated_at"),
        ("searchCriteria[sortOrders][0][direction]", "ASC"),
        ("searchCriteria[pageSize]", "100"),
        ("searchCriteria[currentPage]", "1"),
    ]


async def test_oauth_paging_stops_on_total_count_though_magento_repeats_the_last_page(
        fake: FakeMagento) -> None:
    for i in range(1, 26):
        fake.put("orders", make_order(i, created=NOW + timedelta(seconds=i)))
    async with MagentoClient(fake.url, oauth=oauth(), page_size=10) as client:
        got = [o["entity_id"] async for o in client.since(
            "/orders", "updated_at", "2024-05-01 10:00:05")]
    assert got == list(range(5, 26))  # gteq: the cursor's own second is included
    pages = [s.params["searchCriteria[currentPage]"] for s in fake.requests("orders")]
    assert pages == ["1", "2", "3"]
    assert {s.auth for s in fake.requests("orders")} == {"oauth"}
    # The fake really repeats the last page past the end, as Magento does.
    async with MagentoClient(fake.url, oauth=oauth(), page_size=10) as client:
        again = await client._search_page("/orders", [], [("entity_id", "ASC")], 9)
    assert [o["entity_id"] for o in again["items"]] == list(range(21, 26))


async def test_filter_groups_or_within_and_across(fake: FakeMagento) -> None:
    for i, (state, store) in enumerate([("new", 1), ("canceled", 1), ("new", 2),
                                        ("processing", 2)], start=1):
        fake.put("orders", make_order(i, created=NOW, state=state, store_id=store))
    groups = [[Filter("state", "new"), Filter("state", "canceled")], [Filter("store_id", "1")]]
    async with MagentoClient(fake.url, oauth=oauth()) as client:
        got = [o["entity_id"] async for o in client.search(
            "/orders", groups, sort=[("entity_id", "DESC")])]
    assert got == [2, 1]


async def test_bearer_token(fake: FakeMagento) -> None:
    fake.bearer["tok-123"] = {"Magento_Sales::actions_view"}
    fake.put("orders", make_order(1, created=NOW))
    async with MagentoClient(fake.url, bearer_token="tok-123") as client:
        assert await client.count("/orders") == 1
        with pytest.raises(MagentoAuthError) as refused:
            await client.count("/invoices")
    assert refused.value.resources == "Magento_Sales::sales_invoice"
    assert fake.requests("orders")[0].auth == "bearer"


@pytest.mark.parametrize(("change", "said"), [
    ({"consumer_secret": "wrong"}, "The signature is invalid. Verify and try again."),
    ({"access_token_secret": "wrong"}, "The signature is invalid. Verify and try again."),
    ({"consumer_key": "nobody"}, "A consumer having the specified key does not exist"),
])
async def test_wrong_credentials_keep_magentos_words(
        fake: FakeMagento, change: dict[str, str], said: str) -> None:
    async with MagentoClient(fake.url, oauth=oauth(**change)) as client:
        with pytest.raises(MagentoAuthError) as refused:
            await client.count("/orders")
    assert refused.value.status == 401 and refused.value.magento_message == said


async def test_a_500_and_a_dead_shop_are_unreachable(fake: FakeMagento) -> None:
    fake.fail("orders", status=500)
    async with MagentoClient(fake.url, oauth=oauth()) as client:
        with pytest.raises(MagentoUnreachable) as failed:
            await client.count("/orders")
    assert failed.value.status == 500
    async with MagentoClient("http://127.0.0.1:9", oauth=oauth(), timeout=2) as client:
        with pytest.raises(MagentoUnreachable):
            await client.count("/orders")
