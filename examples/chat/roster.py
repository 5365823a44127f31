"""Who is called what in which room, and each room's recent history.

Presence itself (who is connected to a room) is the connection manager's:
:meth:`Roster.members` asks it for the room's connection ids and only maps
them to names. The roster holds what the manager does not know: display
names, unique per room, and the last :data:`HISTORY` messages.

Claims are synchronous (no ``await`` between the check and the write), so two
connections in one event loop can never take the same name.
"""

from __future__ import annotations

import re
from collections import OrderedDict, deque

import falcon_pachinko as fp

from .protocol import MAX_NAME, Said

__all__ = ["HISTORY", "MAX_ROOMS", "Roster", "clean_name", "clean_room"]

HISTORY = 50
MAX_ROOMS = 256  # histories kept (least recently used dropped): bounded memory

_ROOM = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")
_SPACES = re.compile(r"\s+")
# Control and format characters (NUL, bidi overrides, ...) would make a name
# look blank or different from what it is: they are removed.
_INVISIBLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")


def clean_name(name: str) -> str:
    """Drop control characters, trim, collapse inner whitespace and cap the
    length; ``""`` if nothing visible is left.
    """
    return _SPACES.sub(" ", _INVISIBLE.sub("", name)).strip()[:MAX_NAME].strip()


def clean_room(room: str) -> str | None:
    """The room name if it is 1-32 of ``a-z 0-9 _ -`` (not starting with ``_``/``-``)."""
    return room if _ROOM.fullmatch(room) else None


class Roster:
    """Names per room and history per room, for one process."""

    def __init__(self, manager: fp.WebSocketConnectionManager) -> None:
        self.manager = manager
        self._names: dict[str, dict[str, str]] = {}  # room -> connection id -> name
        self._history: OrderedDict[str, deque[Said]] = OrderedDict()

    def members(self, room: str) -> list[str]:
        """Names of the room's current members (the manager's presence), sorted."""
        names = self._names.get(room, {})
        return sorted(names[c] for c in self.manager.room_members(room) if c in names)

    def name_of(self, room: str, conn_id: str) -> str | None:
        return self._names.get(room, {}).get(conn_id)

    def taken(self, room: str, name: str, conn_id: str | None = None) -> bool:
        """Whether another connection in ``room`` already uses ``name`` (case-insensitive)."""
        folded = name.casefold()
        return any(
            n.casefold() == folded for c, n in self._names.get(room, {}).items() if c != conn_id
        )

    def claim(self, room: str, conn_id: str, wanted: str) -> str:
        """Give ``conn_id`` the name ``wanted``, or the first free ``wanted-2``, ``-3``..."""
        name, n = wanted, 1
        while self.taken(room, name, conn_id):
            n += 1
            suffix = f"-{n}"
            name = wanted[: MAX_NAME - len(suffix)] + suffix
        self._names.setdefault(room, {})[conn_id] = name
        return name

    def release(self, room: str, conn_id: str) -> str | None:
        names = self._names.get(room)
        if names is None:
            return None
        name = names.pop(conn_id, None)
        if not names:
            del self._names[room]
        return name

    def record(self, room: str, said: Said) -> None:
        history = self._history.get(room)
        if history is None:
            history = self._history[room] = deque(maxlen=HISTORY)
            while len(self._history) > MAX_ROOMS:
                self._history.popitem(last=False)
        self._history.move_to_end(room)
        history.append(said)

    def history(self, room: str) -> list[Said]:
        return list(self._history.get(room, ()))
