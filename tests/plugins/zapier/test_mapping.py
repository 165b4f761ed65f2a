"""The pure mapping: Zapier's flat fields in, catalogue events out; trigger items out."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.plugins.zapier.conftest import ORDER_FIELDS
from tidings.core.events import EventData
from tidings.core.store.base import MessageState
from tidings.plugins.zapier.mapping import (
    InvalidCatch,
    event_payload,
    flatten,
    map_catch,
    message_kind,
    message_payload,
    unflatten,
)


def problems(fields: dict[str, object]) -> dict[str, str]:
    with pytest.raises(InvalidCatch) as caught:
        map_catch(fields.items())
    return {p.path: p.reason for p in caught.value.problems}


def test_dotted_fields_nest_and_numeric_parts_become_lists() -> None:
    tree, found = unflatten([("order.number", "7"), ("order.items.1.name", "b"),
                             ("order.items.0.name", "a"), ("order.items.0.price", "1.50"),
                             ("extra.gift", "yes"), ("order.note", "")])
    assert found == []
    assert tree == {"order": {"number": "7", "items": [{"name": "a", "price": "1.50"},
                                                       {"name": "b"}]},
                    "extra": {"gift": "yes"}}


def test_sparse_indexes_keep_their_order() -> None:
    tree, _ = unflatten([("order.items.5.name", "late"), ("order.items.2.name", "early")])
    assert tree == {"order": {"items": [{"name": "early"}, {"name": "late"}]}}


def test_conflicts_and_repeats_are_reported_by_path() -> None:
    _, found = unflatten([("order", "x"), ("order.number", "1"), ("a.b", "1"), ("a.b", "2"),
                          ("c..d", "1")])
    assert {p.path: p.reason for p in found} == {
        "order": "is both a value and a group of fields",
        "a.b": "was sent more than once",
        "c..d": "has an empty part between dots"}


def test_json_is_read_like_dotted_fields_and_numbers_stay_exact() -> None:
    fields = flatten({"type": "order.placed", "email": "a@example.com",
                      "order": {"number": 1001, "currency": "EUR", "total": 19.9,
                                "items": [{"name": "x", "price": 19.9, "quantity": 2}]}})
    event = map_catch(fields)
    assert event.data.order is not None
    assert event.data.order.number == "1001"
    assert event.data.order.total == Decimal("19.9")
    assert event.data.order.items[0].quantity == 2


def test_a_full_catch_maps_to_an_event() -> None:
    event = map_catch([*ORDER_FIELDS.items(), ("id", "zap-run-1")])
    assert event.type == "order.placed"
    assert event.recipient.email == "ana@example.com" and event.recipient.locale == "en"
    assert event.idempotency_key == "zapier:zap-run-1"
    assert event.data.order is not None and event.data.order.total == Decimal("59.90")
    assert [i.name for i in event.data.order.items] == ["Linen shirt", "Socks"]


def test_without_id_there_is_no_idempotency_key() -> None:
    assert map_catch(ORDER_FIELDS.items()).idempotency_key is None


def test_blank_values_count_as_absent() -> None:
    event = map_catch({**ORDER_FIELDS, "name": "", "order.tracking.url": " "}.items())
    assert event.recipient.name is None
    assert event.data.order is not None and event.data.order.tracking is None


def test_every_problem_is_reported_with_the_field_name_as_sent() -> None:
    fields = {**ORDER_FIELDS, "email": "not-an-address", "order.total": "lots",
              "order.items.1.price": "", "colour": "red"}
    found = problems(fields)
    assert set(found) == {"email", "order.total", "order.items.1.price", "colour"}
    assert "extra.<name>" in found["colour"]


def test_type_and_email_are_required_and_checked() -> None:
    assert set(problems({})) == {"type", "email"}
    assert "not a catalogue event" in problems({**ORDER_FIELDS, "type": "order.exploded"})["type"]


def test_required_data_of_the_type_is_checked() -> None:
    found = problems({"type": "order.refunded", "email": "a@example.com",
                      **{k: v for k, v in ORDER_FIELDS.items() if k.startswith("order.")}})
    assert found == {"refund": "is required for order.refunded"}


def test_trigger_items_have_stable_ids() -> None:
    data = EventData.model_validate({"order": {"number": "1", "currency": "EUR", "total": "1"}})
    item = event_payload("zap", 12, "order.placed", [3], data, {"email": "a@example.com"})
    assert item["id"] == "zap:event:12" and item["data"]["order"]["total"] == "1"
    assert message_kind(MessageState.SENT) == "message.sent"
    assert message_kind(MessageState.DEAD) == message_kind(MessageState.FAILED) == "message.failed"
    assert message_kind(MessageState.DEFERRED) is None
    sent = message_payload("message.sent", store_id="zap", message_id=3, event_id=12,
                           event_type="order.placed", template="order.placed",
                           recipient="a@example.com", state="sent", transport="main",
                           detail="250 ok", subject="Thanks")
    assert sent["id"] == "zap:message:3:sent"
