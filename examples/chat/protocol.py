"""The chat's wire protocol: flat tagged frames, ``{"type": "<tag>", ...}``.

Every frame either way is a tagged msgspec Struct. The client's frames are
the resource's ``schema`` (schema dispatch decodes and validates them in one
step); the server's are its ``sends`` declaration. Both are therefore in the
AsyncAPI document (``/asyncapi.json``), with the constraints below as JSON
Schema keywords, so the contract is the code.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

__all__ = [
    "MAX_NAME",
    "MAX_TEXT",
    "ClientFrame",
    "Error",
    "Joined",
    "Left",
    "Notice",
    "Presence",
    "Rename",
    "Renamed",
    "Said",
    "Say",
    "ServerFrame",
    "Typing",
    "TypingState",
    "Welcome",
]

MAX_TEXT = 500
MAX_NAME = 24

# At least one non-space character: blank messages and names are refused by
# validation (and say so), not silently dropped.
NotBlank = r"\S"
Text = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_TEXT, pattern=NotBlank)]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_NAME, pattern=NotBlank)]
Names = Annotated[list[str], msgspec.Meta(description="everyone in the room, sorted")]


class _Frame(msgspec.Struct, tag_field="type", forbid_unknown_fields=True):
    """Base of every frame: tagged by ``type``; unknown fields are a mistake."""


# -- client -> server ------------------------------------------------------------


class Say(_Frame, tag="say"):
    """Say something to the room."""

    text: Text


class Rename(_Frame, tag="rename"):
    """Change your name (unique in the room, not blank)."""

    name: Name


class Typing(_Frame, tag="typing"):
    """Started (``active``) or stopped typing."""

    active: bool = True


ClientFrame = Say | Rename | Typing


# -- server -> client ------------------------------------------------------------


class Said(_Frame, tag="said"):
    """Someone (the sender too) said something; ``at`` is Unix time in seconds."""

    name: str
    text: str
    at: float


class Welcome(_Frame, tag="welcome"):
    """Sent to you once, on join: your name, who is here and the recent history."""

    name: str
    room: str
    members: Names
    history: list[Said]


class Joined(_Frame, tag="joined"):
    name: str
    members: Names


class Left(_Frame, tag="left"):
    name: str
    members: Names


class Renamed(_Frame, tag="renamed"):
    old: str
    name: str
    members: Names


class TypingState(_Frame, tag="typing"):
    """Someone else started or stopped typing."""

    name: str
    active: bool


class Presence(_Frame, tag="presence"):
    """From a background worker every few seconds: this room and the whole server."""

    count: int
    online: int
    rooms: int


class Notice(_Frame, tag="notice"):
    """Something you should know that is not an error (e.g. your name was taken)."""

    text: str


class Error(_Frame, tag="error"):
    """Your last frame was refused; ``detail`` says why, ``field`` where."""

    detail: str
    field: str | None = None


ServerFrame = Said | Welcome | Joined | Left | Renamed | TypingState | Presence | Notice | Error
