"""Validation helpers for AsyncAPI tests: the official schema and payload checks."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import jsonschema

SCHEMA_FILE = Path(__file__).parent.parent / "data" / "asyncapi" / "asyncapi-3.0.0.schema.json"


@functools.cache
def official_validator() -> jsonschema.Draft7Validator:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def assert_valid_document(doc: dict[str, Any]) -> None:
    """Fail with every violation of the official AsyncAPI 3.0.0 schema listed."""
    errors = sorted(official_validator().iter_errors(doc), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message[:300]}" for e in errors)


def _resolve(doc: dict[str, Any], ref: str) -> Any:
    node: Any = doc
    for part in ref.removeprefix("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def messages(doc: dict[str, Any], channel: str, action: str) -> dict[str, dict[str, Any]]:
    """key -> Message Object of a channel's operations with ``action``."""
    out = {}
    for op in doc["operations"].values():
        if op["action"] == action and op["channel"]["$ref"] == f"#/channels/{channel}":
            for ref in op["messages"]:
                out[ref["$ref"].rsplit("/", 1)[-1]] = _resolve(doc, ref["$ref"])
    return out


def payload_matches(doc: dict[str, Any], message: dict[str, Any], frame: Any) -> bool:
    """Whether ``frame`` (decoded JSON) validates against the message's payload schema.

    The payload's ``$ref``s point into ``#/components``; wrapping it in a
    schema that carries the components makes them resolvable.
    """
    schema = {"allOf": [message["payload"]], "components": doc.get("components", {})}
    return jsonschema.Draft7Validator(schema).is_valid(frame)


def matching(doc: dict[str, Any], channel: str, action: str, frame: Any) -> list[str]:
    """Keys of the channel's ``action`` messages that ``frame`` validates against."""
    found = messages(doc, channel, action)
    return [key for key, msg in found.items() if payload_matches(doc, msg, frame)]
