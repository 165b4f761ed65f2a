"""The catalogue's models: addresses are checked on the way in, not again on the way out."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from tidings.core.events import STORED, Address, EventData
from tidings.core.samples import SAMPLE_ORDER


def test_addresses_are_checked_and_normalized_on_the_way_in() -> None:
    assert Address(email="Ana@EXAMPLE.com").email == "Ana@example.com"
    with pytest.raises(ValidationError, match="not a valid email address"):
        Address(email="ana-at-example.com")


def test_stored_data_is_read_back_whole_without_checking_addresses_again() -> None:
    stored = EventData(order=SAMPLE_ORDER).model_dump_json(exclude_none=True)
    assert EventData.model_validate_json(stored, context=STORED) == EventData(order=SAMPLE_ORDER)
    # What the store holds was checked when it was accepted; it is not re-judged.
    assert Address.model_validate({"email": "legacy"}, context=STORED).email == "legacy"
