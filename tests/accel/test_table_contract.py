"""``TagTable``'s constructor as one contract over both twins (``impl``).

The tags are data (positional only); ``key``, the limits, ``routes`` and
``whole_frame`` are options (keyword only), converted when the table is
built: a wrong type fails there, with the same exception class from both
twins, never later inside a scan of a client's frame.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import pytest

from falcon_pachinko.exceptions import FrameError


def decode(raw: Any) -> Any:
    return ("decoded", bytes(raw))


def test_options_by_keyword(impl: ModuleType) -> None:
    table = impl.TagTable(
        {"a": 0, "b": 1},
        key="kind",
        max_size=64,
        max_depth=4,
        routes=[("A", decode), ("B", None)],
        whole_frame=False,
    )
    assert (table.key, table.max_size, table.max_depth, table.whole_frame) == ("kind", 64, 4, False)
    assert table.route('{"kind":"a","payload":[1]}') == ("A", ("decoded", b"[1]"))
    assert table.route('{"kind":"b"}') == ("B", None)
    assert table.route('{"kind":"c"}') == (None, ("c", None))
    with pytest.raises(FrameError):
        table.scan('{"kind":"a","payload":"' + "x" * 64 + '"}')


def test_defaults(impl: ModuleType) -> None:
    table = impl.TagTable({})
    assert (table.key, table.max_size, table.max_depth, table.whole_frame) == (
        "type",
        1 << 20,
        64,
        False,
    )
    assert len(table) == 0 and "a" not in table


def test_options_are_not_positional_and_tags_have_no_name(impl: ModuleType) -> None:
    with pytest.raises(TypeError):
        impl.TagTable({"a": 0}, "type")
    with pytest.raises(TypeError):
        impl.TagTable(tags={"a": 0})
    with pytest.raises(TypeError):
        impl.scan_frame('{"type":"a"}', "type")
    with pytest.raises(TypeError):
        impl.TagTable({"a": 0}).lookup(tag="a")


BAD_OPTIONS: list[tuple[dict[str, Any], type[Exception]]] = [
    ({"key": 1}, TypeError),
    ({"key": b"type"}, TypeError),
    ({"key": None}, TypeError),
    ({"max_size": "1"}, TypeError),
    ({"max_size": None}, TypeError),
    ({"max_size": 1.5}, TypeError),
    ({"max_size": -1}, OverflowError),
    ({"max_depth": -1}, OverflowError),
    ({"max_depth": 1 << 70}, OverflowError),
    ({"whole_frame": 1}, TypeError),
    ({"whole_frame": None}, TypeError),
    ({"routes": "ab"}, TypeError),
    ({"routes": 5}, TypeError),
    ({"routes": {}}, TypeError),
    ({"routes": [[1, None]]}, TypeError),
    ({"routes": [(1,)]}, ValueError),
]


@pytest.mark.parametrize(("options", "error"), BAD_OPTIONS, ids=repr)
def test_bad_options_fail_at_construction(
    impl: ModuleType, options: dict[str, Any], error: type[Exception]
) -> None:
    with pytest.raises(error):
        impl.TagTable({"a": 0}, **options)


@pytest.mark.parametrize(
    ("options", "error"),
    [({"key": 1}, TypeError), ({"key": None}, TypeError), ({"max_size": -1}, OverflowError)],
    ids=repr,
)
def test_scan_frame_options_fail_alike(
    impl: ModuleType, options: dict[str, Any], error: type[Exception]
) -> None:
    with pytest.raises(error):
        impl.scan_frame('{"type":"a"}', **options)


@pytest.mark.parametrize(
    ("tags", "error"),
    [
        ([("a", 0)], TypeError),
        ({1: 0}, TypeError),
        ({"a": "0"}, TypeError),
        ({"a": 1.0}, TypeError),
        ({"a": 1 << 70}, OverflowError),
        (None, TypeError),
    ],
    ids=repr,
)
def test_bad_tags(impl: ModuleType, tags: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        impl.TagTable(tags)


def test_accepted_oddities_agree(impl: ModuleType) -> None:
    """What the binding's conversion accepts, the pure twin accepts alike."""

    class Key(str):
        pass

    table = impl.TagTable({"a": True}, key=Key("type"), max_size=True, routes=((1, None),))
    assert table.lookup("a") == 1 and type(table.lookup("a")) is int
    assert type(table.key) is str and table.max_size == 1
