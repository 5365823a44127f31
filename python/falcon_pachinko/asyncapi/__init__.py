"""AsyncAPI 3.0 documents generated from a Falcon app's WebSocket routers.

The document is the contract of a real-time API (DESIGN §5.11); generating
it from the routes, the handlers' payload annotations and the resources'
``sends`` declarations keeps code and contract from drifting. The result is
a plain ``dict`` (JSON-ready); :func:`to_json` and :func:`to_yaml` render it,
``python -m falcon_pachinko asyncapi module:app`` prints it, and
:class:`DocumentResource` serves it from the app itself. See
``docs/asyncapi.md`` for the mapping.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterable
from typing import Any

from ..router import WebSocketRouter
from ._discover import (
    AsyncAPIWarning,
    ChannelSpec,
    MessageSpec,
    channels_of,
    find_routers,
    received_messages,
    sanitize_key,
    sent_messages,
)
from ._params import address_of, parameter_object, template_fields
from ._schemas import SchemaSet, UnsupportedType, accepts_none

__all__ = [
    "ASYNCAPI_VERSION",
    "AsyncAPIWarning",
    "DocumentResource",
    "build_document",
    "find_routers",
    "to_json",
    "to_yaml",
]

ASYNCAPI_VERSION = "3.0.0"
CONTENT_TYPE = "application/json"


def _routers_of(target: Any) -> list[tuple[WebSocketRouter, str]]:
    if isinstance(target, WebSocketRouter):
        return [(target, target.mount_prefix)]
    if isinstance(target, Iterable) and not isinstance(target, str | bytes):
        items = list(target)
        if all(isinstance(r, WebSocketRouter) for r in items):
            return [(r, r.mount_prefix) for r in items]
        raise TypeError("expected a Falcon app, a WebSocketRouter or an iterable of routers")
    if hasattr(target, "add_sink") or hasattr(target, "add_route"):
        return find_routers(target)
    raise TypeError(
        f"expected a Falcon app, a WebSocketRouter or an iterable of routers, "
        f"not {type(target).__name__}"
    )


def _collect(routers: list[tuple[WebSocketRouter, str]]) -> list[ChannelSpec]:
    taken: set[str] = set()
    channels = []
    for router, prefix in routers:
        for template, name, cls in channels_of(router, prefix):
            key = sanitize_key(name or address_of(template), taken, "root")
            spec = ChannelSpec(key, template, cls)
            if cls is not None:
                spec.receives = received_messages(cls)
                spec.sends = sent_messages(cls)
            channels.append(spec)
    return channels


def _register(schemas: SchemaSet, channel: ChannelSpec, message: MessageSpec) -> None:
    try:
        message.handle = schemas.add(message.payload_type)
    except UnsupportedType as exc:
        warnings.warn(
            f"{channel.template}: message {message.name!r}: msgspec cannot describe the "
            f"payload type ({exc}); documented as any JSON value",
            AsyncAPIWarning,
            stacklevel=4,
        )
        message.handle = schemas.add(Any)


def _payload(schemas: SchemaSet, message: MessageSpec) -> Any:
    """The message's payload schema: the whole frame as the client writes it."""
    assert message.handle is not None
    inner = schemas.schema(message.handle)
    if message.fmt == "flat":
        return inner
    struct_config = getattr(message.payload_type, "__struct_config__", None)
    if message.strict and struct_config is not None and not struct_config.forbid_unknown_fields:
        # Strict handlers refuse unknown fields of a top-level Struct payload
        # even when the Struct itself allows them (dispatch.payload_decoder).
        inner = {**(schemas.resolved(message.handle) or inner), "additionalProperties": False}
    required = ["type"] if accepts_none(message.payload_type) else ["type", "payload"]
    return {
        "type": "object",
        "properties": {"type": {"type": "string", "const": message.name}, "payload": inner},
        "required": required,
    }


def _message_object(schemas: SchemaSet, message: MessageSpec) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "name": message.name,
        "contentType": CONTENT_TYPE,
        "payload": _payload(schemas, message),
        "x-pachinko-format": message.fmt,
    }
    if message.title:
        obj["title"] = message.title
    if message.summary:
        obj["summary"] = message.summary
    return obj


def _channel_object(schemas: SchemaSet, channel: ChannelSpec) -> dict[str, Any]:
    obj: dict[str, Any] = {"address": address_of(channel.template)}
    params = {f.name: parameter_object(f) for f in template_fields(channel.template)}
    if params:
        obj["parameters"] = params
    if channel.resource is not None:
        obj["title"] = channel.resource.__name__
        doc = channel.resource.__dict__.get("__doc__")
        if isinstance(doc, str) and doc.strip():
            obj["description"] = doc.strip()
    messages = {m.key: _message_object(schemas, m) for m in (*channel.receives, *channel.sends)}
    if messages:
        obj["messages"] = messages
    return obj


def build_document(
    target: Any,
    *,
    title: str = "WebSocket API",
    version: str = "1.0.0",
    description: str | None = None,
) -> dict[str, Any]:
    """An AsyncAPI 3.0 document (a JSON-ready ``dict``) for ``target``.

    Parameters
    ----------
    target:
        A Falcon app (its mounted routers are found: ``router.mount(prefix,
        app=app)`` and ``app.add_route("/ws/{path:path}", router)``), one
        ``WebSocketRouter``, or an iterable of routers (each at its
        ``mount_prefix``).
    title, version, description:
        The document's ``info`` (``version`` is the API's, not AsyncAPI's).

    Anything that cannot be documented (a constructor that fails while
    nested subroutes are looked up, a payload type msgspec cannot describe)
    is reported as an :class:`AsyncAPIWarning`; the document stays valid.
    """
    channels = _collect(_routers_of(target))
    schemas = SchemaSet()
    for channel in channels:
        keys: set[str] = set()
        for prefix, group in (("", channel.receives), ("sent.", channel.sends)):
            for message in group:
                message.key = sanitize_key(prefix + message.name, keys, "message")
                _register(schemas, channel, message)
    schemas.build()

    info: dict[str, Any] = {"title": title, "version": version}
    if description:
        info["description"] = description
    doc: dict[str, Any] = {
        "asyncapi": ASYNCAPI_VERSION,
        "info": info,
        "defaultContentType": CONTENT_TYPE,
        "channels": {c.key: _channel_object(schemas, c) for c in channels},
        "operations": {},
    }
    for channel in channels:
        for action, group in (("receive", channel.receives), ("send", channel.sends)):
            for message in group:
                op: dict[str, Any] = {
                    "action": action,
                    "channel": {"$ref": f"#/channels/{channel.key}"},
                    "messages": [{"$ref": f"#/channels/{channel.key}/messages/{message.key}"}],
                }
                if message.summary:
                    op["summary"] = message.summary
                doc["operations"][f"{channel.key}.{action}.{message.key}"] = op
    if schemas.components:
        doc["components"] = {"schemas": schemas.components}
    return doc


def to_json(document: dict[str, Any]) -> str:
    """The document as indented JSON text."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def to_yaml(document: dict[str, Any]) -> str:
    """The document as YAML (needs PyYAML: ``pip install pyyaml``)."""
    try:
        import yaml  # type: ignore[import-untyped]
    except ImportError as exc:  # pragma: no cover - pyyaml is a dev dependency
        raise ImportError("YAML output needs PyYAML: pip install pyyaml") from exc
    text: str = yaml.safe_dump(document, sort_keys=False, allow_unicode=True)
    return text


class DocumentResource:
    """A Falcon resource serving the document as JSON (e.g. at ``/asyncapi.json``).

    The document is built on the first GET, so routes added after
    ``app.add_route("/asyncapi.json", DocumentResource(app))`` are included.
    """

    def __init__(self, target: Any, **options: Any) -> None:
        self._target = target
        self._options = options
        self._text: str | None = None

    async def on_get(self, req: Any, resp: Any) -> None:
        if self._text is None:
            self._text = to_json(build_document(self._target, **self._options))
        resp.content_type = CONTENT_TYPE
        resp.text = self._text
