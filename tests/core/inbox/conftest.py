"""Real servers for the inbox tests: an Inbox on an ephemeral SMTP port and
its routes served by uvicorn on an ephemeral loopback HTTP port."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tidings.core.inbox import Inbox

from .support import Stack, running_stack


@pytest.fixture
async def inbox() -> AsyncIterator[Inbox]:
    box = Inbox()
    await box.start(port=0)
    try:
        yield box
    finally:
        await box.stop()


@pytest.fixture
async def stack(inbox: Inbox) -> AsyncIterator[Stack]:
    async with running_stack(inbox) as running:
        yield running
