"""Zapier fields ↔ the catalogue. Pure functions: no I/O, no hub.

Inbound ("Webhooks by Zapier" → Tidings): a flat set of fields, form-encoded
or JSON. ``type``, ``email``, ``name``, ``locale`` and ``id`` are reserved;
every other field is event data, where dots nest (``order.number``) and
numeric parts are list positions (``order.items.0.name``). Blank values count
as absent, because Zapier sends an empty string for a mapped field that had
no value in this run. Amounts stay strings and become decimals in the model.

Outbound (Tidings → a Zap's REST hook): one JSON object per trigger with a
stable ``id`` (the same id for every retry and every subscriber).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from tidings.core.config import describe_errors
from tidings.core.errors import ConfigProblem
from tidings.core.events import CATALOGUE, EventData, Recipient
from tidings.core.store.base import MessageState

__all__ = [
    "KINDS",
    "MESSAGE_KINDS",
    "Catch",
    "InvalidCatch",
    "event_payload",
    "flatten",
    "map_catch",
    "message_kind",
    "message_payload",
    "unflatten",
]

RESERVED = ("type", "email", "name", "locale", "id")
MESSAGE_KINDS: dict[str, str] = {
    "message.sent": "A mail was handed to the transport.",
    "message.delivered": "The provider confirmed delivery (fires once provider event "
                         "webhooks exist).",
    "message.bounced": "The provider reported a bounce (fires once provider event "
                       "webhooks exist).",
    "message.failed": "A mail failed for good (refused, or out of retries).",
}
KINDS: tuple[str, ...] = (*CATALOGUE, *MESSAGE_KINDS)


@dataclass(frozen=True)
class Catch:
    """One accepted catch: what :meth:`Hub.accept` needs."""

    type: str
    recipient: Recipient
    data: EventData
    idempotency_key: str | None


class InvalidCatch(ValueError):
    """The fields cannot make an event; ``problems`` says where (field names as sent) and why."""

    def __init__(self, problems: list[ConfigProblem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


# -- inbound ------------------------------------------------------------------------------


def flatten(value: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """A JSON document as dotted fields, so nested JSON and dotted keys are read alike."""
    if isinstance(value, Mapping):
        out: list[tuple[str, Any]] = []
        for key, inner in value.items():
            out.extend(flatten(inner, f"{prefix}.{key}" if prefix else str(key)))
        return out
    if isinstance(value, list):
        out = []
        for index, inner in enumerate(value):
            out.extend(flatten(inner, f"{prefix}.{index}" if prefix else str(index)))
        return out
    return [(prefix, value)]


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _scalar(value: Any) -> Any:
    # Amounts stay strings: a JSON 19.9 becomes "19.9", never a binary float.
    if isinstance(value, float | int) and not isinstance(value, bool):
        return str(value)
    return value


def unflatten(fields: Iterable[tuple[str, Any]]) -> tuple[dict[str, Any], list[ConfigProblem]]:
    """Dotted fields → nested data; all-numeric groups become lists in index order."""
    root: dict[str, Any] = {}
    problems: list[ConfigProblem] = []
    seen: set[str] = set()
    for key, value in fields:
        if _blank(value):
            continue
        parts = [p.strip() for p in key.split(".")]
        if any(not p for p in parts):
            problems.append(ConfigProblem(key, "has an empty part between dots"))
            continue
        path = ".".join(parts)
        if path in seen:
            problems.append(ConfigProblem(path, "was sent more than once"))
            continue
        seen.add(path)
        node = root
        for depth, part in enumerate(parts[:-1]):
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                problems.append(ConfigProblem(".".join(parts[:depth + 1]),
                                              "is both a value and a group of fields"))
                break
            node = child
        else:
            if isinstance(node.get(parts[-1]), dict):
                problems.append(ConfigProblem(path, "is both a value and a group of fields"))
            else:
                node[parts[-1]] = _scalar(value)
    return _listify(root), problems


def _listify(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    if node and all(k.isdigit() for k in node):
        return [_listify(node[k]) for k in sorted(node, key=int)]
    return {k: _listify(v) for k, v in node.items()}


def _describe(exc: ValidationError, prefix: tuple[str, ...] = ()) -> list[ConfigProblem]:
    problems = []
    for err in exc.errors(include_url=False):
        if err["type"] == "extra_forbidden":
            path = ".".join(str(p) for p in (*prefix, *err["loc"]))
            reason = ("is not a field of the event data (custom values go under extra.<name>)"
                      if len(err["loc"]) == 1 else "is not a known field here")
            problems.append(ConfigProblem(path, reason))
        else:
            problems.extend(describe_errors([err], prefix))
    return problems


def map_catch(fields: Iterable[tuple[str, Any]]) -> Catch:
    """Fields as Zapier sent them → a validated catalogue event, or :class:`InvalidCatch`."""
    reserved: dict[str, Any] = {}
    rest: list[tuple[str, Any]] = []
    problems: list[ConfigProblem] = []
    for key, value in fields:
        name = key.strip()
        if name in RESERVED:
            if name in reserved:
                problems.append(ConfigProblem(name, "was sent more than once"))
            reserved[name] = None if _blank(value) else _scalar(value)
        else:
            rest.append((key, value))
    event_type = reserved.get("type")
    if event_type is None:
        problems.append(ConfigProblem("type", "is required: a catalogue event such as "
                                      "order.placed"))
    elif not isinstance(event_type, str) or event_type.strip() not in CATALOGUE:
        problems.append(ConfigProblem("type", f"{event_type!r} is not a catalogue event; "
                                      f"known: {', '.join(CATALOGUE)}"))
    if reserved.get("email") is None:
        problems.append(ConfigProblem("email", "is required: the recipient's address"))
    recipient: Recipient | None = None
    try:
        recipient = Recipient.model_validate(
            {k: reserved.get(k) for k in ("email", "name", "locale") if reserved.get(k)})
    except ValidationError as exc:
        problems.extend(p for p in _describe(exc) if p.path != "email"
                        or reserved.get("email") is not None)
    tree, tree_problems = unflatten(rest)
    problems.extend(tree_problems)
    data: EventData | None = None
    try:
        data = EventData.model_validate(tree)
    except ValidationError as exc:
        problems.extend(_describe(exc))
    if data is not None and isinstance(event_type, str) and event_type.strip() in CATALOGUE:
        spec = CATALOGUE[event_type.strip()]
        for field in spec.requires:
            if getattr(data, field) is None:
                problems.append(ConfigProblem(field, f"is required for {spec.name}"))
    if problems or recipient is None or data is None or not isinstance(event_type, str):
        raise InvalidCatch(problems)
    dedup = reserved.get("id")
    return Catch(event_type.strip(), recipient, data,
                 f"zapier:{str(dedup).strip()[:190]}" if dedup is not None else None)


# -- outbound -----------------------------------------------------------------------------


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def event_payload(store_id: str, event_id: int, event_type: str, message_ids: list[int],
                  data: EventData, recipient: Mapping[str, Any] | None) -> dict[str, Any]:
    """A catalogue event as a trigger item."""
    return {
        "id": f"{store_id}:event:{event_id}",
        "kind": event_type,
        "store": store_id,
        "event_id": event_id,
        "message_ids": list(message_ids),
        "recipient": dict(recipient or {}),
        "data": data.model_dump(mode="json", exclude_none=True),
        "occurred_at": _now(),
    }


def message_kind(state: MessageState) -> str | None:
    """Which trigger an attempt's end fires, if any (deferred fires nothing)."""
    if state is MessageState.SENT:
        return "message.sent"
    if state in (MessageState.FAILED, MessageState.DEAD):
        return "message.failed"
    return None


def message_payload(kind: str, *, store_id: str, message_id: int, event_id: int,
                    event_type: str, template: str, recipient: str, state: str,
                    transport: str | None, detail: str, subject: str | None) -> dict[str, Any]:
    """A message outcome as a trigger item; the id is stable per message and outcome."""
    return {
        "id": f"{store_id}:message:{message_id}:{kind.removeprefix('message.')}",
        "kind": kind,
        "store": store_id,
        "message_id": message_id,
        "event_id": event_id,
        "event_type": event_type,
        "template": template,
        "recipient": recipient,
        "state": state,
        "transport": transport,
        "subject": subject,
        "detail": detail,
        "occurred_at": _now(),
    }
