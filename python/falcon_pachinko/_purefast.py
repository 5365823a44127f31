"""The pure scanner's fast path: whole-frame work at C speed, no per-token loop.

``_pure_frame._Scanner`` is the specification of ``scan_frame``: it walks the frame
one Python iteration per token, so a 1 MiB token-dense frame (``[[],[],...]``)
would block the event loop for about a second. This module answers every
frame with a bounded number of whole-buffer operations that run in C
(msgspec, ``bytes`` methods, ``re``, ``itertools.accumulate``, big-int
bitwise ``&``), so the pure twin's cost per MiB stays a small multiple of the
native scanner's whatever a client sends:

* a valid frame: msgspec validates it and finds the last top-level tag and
  payload as ``msgspec.Raw`` spans;
* positions the specification reports for a valid frame (the first opener
  nested too deep, a non-string tag, a lone surrogate in a top-level key or
  the tag) come from the frame's depth profile (the nesting depth after every
  byte) and its depth-1 bytes, searched with ``bytes.find`` and regexes;
* a malformed frame: msgspec names the first byte that cannot continue valid
  JSON; the prefix before it is a viable JSON prefix whose open containers
  and last comma, colon or closer say where the exact walk restarts
  (``Resume``), so the walk covers only the last token or two.

Results, error kinds and positions are the specification's; where this
module cannot be sure it answers ``None`` and the whole walk decides (only
with ``max_depth`` above msgspec's recursion limit, or a tag key spelled
with ``"`` or ``\\``). ``tests/accel/test_scan_resume.py`` holds every answer
equal to the whole walk's. Only ``_pure_frame`` imports this module.
"""

from __future__ import annotations

import json
import re
import sys
from array import array
from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate
from typing import Any

import msgspec

from .exceptions import FrameError

__all__ = ["Resume", "decode_string", "fast_scan", "first_nonspace", "resume_point"]

_HEX = rb"[0-9a-fA-F]"
#: A surrogate escape JSON decoding cannot pair (in a buffer whose escaped
#: backslashes and quotes are neutralised, so every ``\\`` left starts an
#: escape): a high one not followed by a low one, or a low one not preceded
#: by a high one. Pairs are what ``json.dumps`` sends for emoji.
_LONE = re.compile(
    rb"\\u[dD][89abAB]" + _HEX + _HEX + rb"(?!\\u[dD][c-fC-F])"
    rb"|(?<!\\u[dD][89abAB]" + _HEX + _HEX + rb")\\u[dD][c-fC-F]" + _HEX + _HEX
)
#: A top-level key (searched in the depth-1 bytes, where a key's quote
#: follows ``{`` or ``,``) holding a lone surrogate: its body runs possessively
#: over plain text, other escapes and surrogate pairs, and stops at a
#: surrogate escape no pair took. String bodies hold no NUL (JSON escapes
#: control characters) and text outside strings no backslash, so no match
#: can start inside a string or run on past one.
_LONE_KEY = re.compile(
    rb'[{,][ \t\n\r]*+("(?:[^"\\\x00]++|\\[^u]|\\u(?![dD][89a-fA-F])' + _HEX + rb"{4}"
    rb"|\\u[dD][89abAB]" + _HEX + _HEX + rb"\\u[dD][c-fC-F]" + _HEX + _HEX + rb")*+"
    rb'\\u[dD][89a-fA-F](?:[^"\\\x00]++|\\.)*+"[ \t\n\r]*+:)'
)
_WS = re.compile(rb"[ \t\n\r]*+")

_NOT_BRACKET = bytes(c for c in range(256) if c not in b"[]{}")
_SQUARE = bytes.maketrans(b"{}", b"[]")
#: +1 for an opener, -1 (``0xff`` read as a signed byte) for a closer.
_DELTA = bytes(1 if c in b"[{" else 0xFF if c in b"]}" else 0 for c in range(256))
#: Depth 1 (the top-level object's own members) -> ``0xff``, else 0.
_DEPTH_ONE = bytes(0xFF if c == 1 else 0 for c in range(256))
#: Innermost-pair removals tried before the depth profile: wide, shallow
#: frames (the usual kind, and ``[[],[],...]``) empty out in two or three.
_PASSES = 4
#: Depth profiles are built in chunks so one deeper than 255 falls back to
#: 32-bit counting only where it is.
_CHUNK = 1 << 16
_LOW_BYTE = 0 if sys.byteorder == "little" else 3
#: From this ``max_depth`` on, depths no longer fit a byte: positions at the
#: top level come from the whole walk.
_WIDE_DEPTH = 255

#: msgspec's error offset: ``JSON is malformed: ... (byte N)``.
_ERROR_AT = re.compile(r"\(byte (\d+)\)$")
_TRUNCATED = "Input data was truncated"
#: Structural bytes after which the walk can restart in a known state.
_EVENTS = (b",", b":", b"]", b"}")
_OPENER = re.compile(rb"[\[{]")

#: Marks an absent member (a present ``msgspec.Raw`` is never empty).
_ABSENT = msgspec.Raw(b"")
#: Validates JSON without building objects (a ``Raw`` of the whole text).
_VALIDATE = msgspec.json.Decoder(msgspec.Raw)
_SHORT_ESCAPES = {"/": b"/", "\b": b"b", "\f": b"f", "\n": b"n", "\r": b"r", "\t": b"t"}


@dataclass(frozen=True, slots=True)
class Resume:
    """Where the exact walk restarts in a malformed frame (see ``_Scanner.resume``).

    ``opened``: the containers open at ``at``, outermost first (``{`` is the
    top-level object); ``state``: ``"value"``, ``"key"`` or ``"after"``.
    """

    at: int
    opened: bytes
    state: str


@lru_cache(maxsize=64)
def _decoder(key: str, *, plain: bool = False) -> msgspec.json.Decoder[Any]:
    """A decoder finding the last top-level ``key`` and ``"payload"`` values.

    ``plain`` (for :func:`_plain`): the tag typed ``str`` (``None`` when
    absent), so a string tag comes back decoded and anything else fails at
    its first byte; otherwise both are kept raw. Keys are developer-chosen
    (one per resource class), so the cache is bounded by the application,
    never by client input.
    """
    fields: list[tuple[str, Any, Any]] = [
        ("tag", str | None, None) if plain else ("tag", msgspec.Raw, _ABSENT)
    ]
    rename = {"tag": key}
    if key != "payload":
        fields.append(("body", msgspec.Raw, _ABSENT))
        rename["body"] = "payload"
    envelope = msgspec.defstruct("_Envelope", fields, rename=rename)
    return msgspec.json.Decoder(envelope)


@lru_cache(maxsize=32)
def _last_key(key: str) -> re.Pattern[bytes] | None:
    """Finds the last ``"key" :`` (any JSON spelling) in depth-1 bytes.

    The pattern is written for the reversed bytes and opens with the colon
    (a literal, which ``re`` finds with a fast scan), so ``search`` stops at
    the last occurrence after one pass. A match is a real key: between two
    strings at depth 1 there is always a ``:`` or ``,``, so a quote pair
    around text outside strings never spells a key without those (keys with
    them, or with ``"`` or ``\\``, which the searched bytes neutralise,
    get ``None``). Bounded by the application's keys, never by input.
    """
    if any(char in key for char in '":,\\'):
        return None
    chars: list[bytes] = []
    for char in key:
        # Each spelling as single-character atoms, so it can be reversed.
        spellings = [[re.escape(bytes((byte,))) for byte in char.encode("utf-8")]]
        if char in _SHORT_ESCAPES:
            spellings.append([rb"\\", re.escape(_SHORT_ESCAPES[char])])
        units = char.encode("utf-16-be")
        escape: list[bytes] = []
        for i in range(0, len(units), 2):
            escape += [rb"\\", b"u"]
            escape += [b"[%s%s]" % (d.upper(), d.lower()) for d in _hex_digits(units[i : i + 2])]
        spellings.append(escape)
        chars.append(b"(?:" + b"|".join(b"".join(reversed(atoms)) for atoms in spellings) + b")")
    return re.compile(b':[ \t\n\r]*+"' + b"".join(reversed(chars)) + b'"')


def _hex_digits(unit: bytes) -> list[bytes]:
    """The four hex digits of one UTF-16 code unit, one ``bytes`` each."""
    text = b"%04x" % int.from_bytes(unit, "big")
    return [text[i : i + 1] for i in range(4)]


def decode_string(token: bytes, position: int) -> str:
    """Decode a JSON string token that has escapes; lone surrogates refused."""
    text: str = json.loads(token.decode("utf-8"))
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise FrameError("escape", position) from None
    return text


def _neutral(buf: bytes) -> bytes:
    """``buf`` with escaped backslashes and quotes as ``@@`` (same length).

    Every backslash left starts a real escape and every quote delimits a
    string, so quotes pair up left to right.
    """
    if b"\\" not in buf:
        return buf
    return buf.replace(b"\\\\", b"@@").replace(b'\\"', b"@@")


def depth_profile(masked: bytes) -> bytes:
    """The nesting depth after every byte of a masked frame, modulo 256.

    One C-level ``accumulate`` over the bracket deltas; the top-level object
    is depth 1. A chunk deeper than 255 is counted in 32 bits and its low
    bytes kept, so searches for the first byte of a given depth stay exact.
    """
    deltas = memoryview(masked.translate(_DELTA)).cast("b")
    chunks: list[bytes] = []
    depth = 0
    for low in range(0, len(deltas), _CHUNK):
        part = deltas[low : low + _CHUNK]
        try:
            chunk = bytes(accumulate(part, initial=depth))[1:]
            depth = chunk[-1]
        except ValueError:
            wide = array("i", accumulate(part, initial=depth))
            depth = wide[-1]
            chunk = memoryview(wide).cast("B")[_LOW_BYTE::4].tobytes()[1:]
        chunks.append(chunk)
    return b"".join(chunks)


class _Text:
    """A frame or viable prefix and what is derived from it, each made once.

    ``neutral``: escaped backslashes and quotes as ``@@``; ``masked``:
    string bodies zeroed; ``depths``: the depth profile (below 256 levels).
    """

    __slots__ = ("_depth_one", "_depths", "_masked", "_parts", "_reversed_one", "neutral")

    def __init__(self, neutral: bytes) -> None:
        self.neutral = neutral
        self._masked: bytes | None = None
        self._depths: bytes | None = None
        self._parts: list[bytes] | None = None
        self._depth_one: bytes | None = None
        self._reversed_one: bytes | None = None

    def parts(self, end: int) -> list[bytes]:
        """``neutral[:end]`` split at quotes: string bodies at odd indexes."""
        if end != len(self.neutral):
            return self.neutral[:end].split(b'"')
        if self._parts is None:
            self._parts = self.neutral.split(b'"')
        return self._parts

    @property
    def masked(self) -> bytes:
        if self._masked is None:
            parts = list(self.parts(len(self.neutral)))
            parts[1::2] = map(bytes, map(len, parts[1::2]))
            self._masked = b'"'.join(parts)
        return self._masked

    @property
    def depths(self) -> bytes:
        if self._depths is None:
            self._depths = depth_profile(self.masked)
        return self._depths

    @property
    def depth_one(self) -> bytes:
        """The depth-1 bytes (see :func:`top_level`), within 255 levels."""
        if self._depth_one is None:
            self._depth_one = top_level(self)
        return self._depth_one

    @property
    def reversed_one(self) -> bytes:
        """``depth_one`` reversed, for searches from the end (made once)."""
        if self._reversed_one is None:
            self._reversed_one = self.depth_one[::-1]
        return self._reversed_one


def over_deep(text: _Text, limit: int) -> int:
    """Position of the first opener nested deeper than ``limit``, or -1.

    ``text`` is a valid frame or viable prefix. Before the first such opener
    the depth never exceeds ``limit``, so the first byte whose depth is
    ``limit + 1`` (modulo 256 for limits below 255) is it.
    """
    brackets = text.masked.translate(_SQUARE, _NOT_BRACKET)
    if brackets.count(b"[") <= limit:
        return -1
    spent = 0
    while spent < min(limit, _PASSES):
        before = len(brackets)
        brackets = brackets.replace(b"[]", b"")
        spent += 1
        # What is left of a viable prefix may be its open containers alone:
        # every point lies within them and one closed group of height
        # <= spent.
        if b"]" not in brackets and len(brackets) + spent <= limit:
            return -1
        if len(brackets) * 4 > before * 3:
            break  # deep rather than wide: passes would each remove little
    if limit < _WIDE_DEPTH:
        return text.depths.find(bytes((limit + 1,)))
    depths = array("i", accumulate(memoryview(text.masked.translate(_DELTA)).cast("b")))
    try:
        return depths.index(limit + 1)
    except ValueError:
        return -1


def top_level(text: _Text) -> bytes:
    """The depth-1 bytes of a frame within 255 levels, the rest zeroed.

    These are the top-level object's keys and scalar values: everything the
    specification reads at the top level, with nested values blanked out
    (one ``&`` of two big integers).
    """
    keep = text.depths.translate(_DEPTH_ONE)
    both = int.from_bytes(text.neutral, "little") & int.from_bytes(keep, "little")
    return both.to_bytes(len(text.neutral), "little")


def _value_after_last(text: _Text, key: str) -> int | None:
    """Start of the last top-level ``key`` member's value, -1 if absent.

    ``None`` when the key cannot be searched for (see ``_last_key``).
    """
    pattern = _last_key(key)
    if pattern is None:
        return None
    found = pattern.search(text.reversed_one)
    if found is None:
        return -1
    # The colon's position; the value starts after the whitespace following it.
    colon = len(text.neutral) - found.start()
    return _WS.match(text.depth_one, colon).end()  # type: ignore[union-attr]


def _lone_key(text: _Text, end: int) -> int:
    """Start of the first top-level key holding a lone surrogate before ``end``."""
    found = _LONE_KEY.search(text.depth_one, 0, end)
    return -1 if found is None else found.start(1)


def fast_scan(buf: bytes, key: str, max_depth: int) -> tuple[str, bytes | None] | Resume | None:
    """``(tag, payload)`` for a valid frame, else where the exact scanner starts.

    Raises the specification's ``FrameError`` where it can tell it from the
    whole buffer; a ``Resume`` for a malformed frame (walk on from there to
    its error); ``None`` where only the whole walk can tell (walk it all).
    ``buf`` is valid UTF-8 within the size limit.
    """
    if buf[:1] == b"{" and max_depth >= 1 and b"\\" not in buf:
        plain = _plain(buf, key, max_depth)
        if plain is not None:
            return plain
    start = first_nonspace(buf)
    if max_depth < 1 or start >= len(buf) or buf[start] != 0x7B:
        return None  # the exact scanner answers at the first byte
    neutral = _neutral(buf)
    # Surrogate pairs (what ``json.dumps`` sends for emoji) decode as they
    # are; only a lone surrogate needs the checks below.
    surrogates = b"\\u" in neutral and _LONE.search(neutral) is not None
    # msgspec refuses every lone surrogate; the specification only those in
    # top-level keys and the tag (checked below). Same-length harmless
    # escapes in their place keep every position.
    # (Every ``\\uD...`` escape, surrogate or not, becomes ``\\u0...``: two
    # literal replaces, and still only the validity and lengths are read.)
    checked = neutral.replace(b"\\ud", b"\\u0").replace(b"\\uD", b"\\u0") if surrogates else buf
    try:
        envelope = _decoder(key).decode(checked)
    except msgspec.ValidationError:
        return None  # not an object: the exact scanner says so at once
    except msgspec.DecodeError as exc:
        return resume_point(buf, str(exc), max_depth, checked=checked if surrogates else None)
    except RecursionError:
        return None  # nesting beyond msgspec's own limit (max_depth ~1,000+)
    raw_tag = bytes(envelope.tag)
    if max_depth >= _WIDE_DEPTH and (surrogates or raw_tag[:1] not in (b"", b'"')):
        return None  # depth-1 bytes are told apart only below 256 levels
    if surrogates:
        _raise_early_lone_key(neutral, max_depth)
    text = _Text(neutral)
    too_deep = over_deep(text, max_depth) if buf.count(b"[") + buf.count(b"{") > max_depth else -1
    if surrogates or too_deep >= 0:
        if max_depth >= _WIDE_DEPTH:
            raise FrameError("depth", too_deep)
        lone = _lone_key(text, len(buf) if too_deep < 0 else too_deep) if surrogates else -1
        if lone >= 0:
            raise FrameError("escape", lone)
        if too_deep >= 0:
            raise FrameError("depth", too_deep)
    if not raw_tag:
        raise FrameError("missing_tag", start)
    if raw_tag[0] != 0x22 or surrogates:
        # The tag's own position is needed (or its original bytes).
        tag_start = _value_after_last(text, key)
        if tag_start is None or tag_start < 0:
            return None
        if raw_tag[0] != 0x22:
            raise FrameError("tag_type", tag_start)
        raw_tag = buf[tag_start : tag_start + len(raw_tag)]
        tag = decode_string(raw_tag, tag_start) if b"\\" in raw_tag else raw_tag[1:-1].decode()
    elif b"\\" in raw_tag:
        tag = msgspec.json.decode(raw_tag)
    else:
        tag = raw_tag[1:-1].decode("utf-8")
    # With key "payload" the tag shadows the payload, as in the specification.
    if key == "payload":
        return tag, None
    body = bytes(envelope.body)
    if surrogates and body:
        body_start = _value_after_last(text, "payload")
        if body_start is None or body_start < 0:
            return None
        body = buf[body_start : body_start + len(body)]
    return tag, (None if body in (b"", b"null") else body)


def _plain(buf: bytes, key: str, max_depth: int) -> tuple[str, bytes | None] | None:
    """The usual frame, answered with one msgspec decode.

    An object from its first byte with no backslash anywhere (so no escape
    and no surrogate: the frame is its own neutral form), a string tag, and
    fewer opening brackets in all than ``max_depth`` (so none is nested too
    deep; a frame no longer than ``max_depth`` cannot have more): what
    :func:`fast_scan`'s general path returns for it, without building the
    derived texts it needs for everything else. ``None``: that path decides
    (every error, a non-string or missing tag, duplicate keys whose first
    value is not a string).

    PERF: the pure twin's cost per ordinary frame was mostly the general
    path's checks such a frame cannot fail (4.3 -> ~2.3 µs per route).
    """
    # Counted first (two C-speed passes): a bracket-dense frame, the costly
    # hostile kind, goes to the general path without a decode here first.
    if len(buf) > max_depth and buf.count(b"[") + buf.count(b"{") > max_depth:
        return None
    try:
        envelope = _decoder(key, plain=True).decode(buf)
    except (msgspec.DecodeError, RecursionError):
        return None
    tag = envelope.tag
    if tag is None:
        return None
    if key == "payload":  # the tag shadows the payload, as in the specification
        return tag, None
    body = bytes(envelope.body)
    return tag, (None if body in (b"", b"null") else body)


def _raise_early_lone_key(neutral: bytes, max_depth: int) -> None:
    """The first key with a lone surrogate, if it is a top-level one: raise.

    Work in the length of the frame before it only, so a lone surrogate in
    the first key costs what the walk would spend to meet it (the frame is
    known valid). A nested first match settles nothing: the caller goes on.
    """
    first = _LONE_KEY.search(neutral)
    if first is None:
        return
    head = _Text(neutral[: first.start(1)])
    masked = head.masked
    depth = masked.count(b"[") + masked.count(b"{") - masked.count(b"]") - masked.count(b"}")
    if depth == 1 and over_deep(head, max_depth) < 0:
        raise FrameError("escape", first.start(1))


def resume_point(
    buf: bytes, message: str, max_depth: int, *, checked: bytes | None = None
) -> Resume | None:
    """Where to walk on from in a frame msgspec rejected, or ``None``.

    msgspec names a byte at or just past the first one that cannot continue
    valid JSON (up to a few bytes past it for a literal or trailing text).
    The prefix a little before it is then a viable JSON prefix: its structure
    (which containers are open, the last comma, colon or closer) says where
    the exact walk restarts, so the walk covers only the last token or two,
    whatever came before. Every such claim is checked: the prefix, closed
    with the brackets it leaves open, must decode. Errors the walk would
    meet earlier (an opener nested too deep, a lone surrogate in a top-level
    key) are raised here after the same check. ``None`` (walk the whole
    frame) when the error has no offset or a check fails.

    ``checked`` is ``buf`` as msgspec saw it (surrogate escapes replaced,
    same length) when the frame has surrogate escapes.
    """
    found = _ERROR_AT.search(message)
    if found is not None:
        end = int(found.group(1))
    elif message == _TRUNCATED:
        end = len(buf)
    else:
        return None
    end = max(0, end - _SLACK)
    surrogates = checked is not None
    valid = buf if checked is None else checked
    if surrogates and max_depth >= _WIDE_DEPTH:
        return None  # depth-1 bytes are told apart only below 256 levels
    text = _Text(_neutral(buf[:end]))
    # An opener nested too deep, or a lone surrogate in a top-level key,
    # before the error: the walk meets it first.
    brackets = text.neutral.count(b"[") + text.neutral.count(b"{")
    if (surrogates or brackets > max_depth) and not _raise_before(
        text, valid, max_depth, surrogates=surrogates
    ):
        return None
    resume = _structure(text, end, max_depth)
    if resume is None or not _viable(valid, resume):
        return None
    return resume


#: How far before msgspec's offset the walk restarts at the latest (msgspec
#: reports a bad literal after its four bytes, trailing text one byte late).
_SLACK = 8
_CLOSE = bytes.maketrans(b"[{", b"]}")
#: What completes a prefix in each state so that it decodes when viable.
_FILLER = {"value": b"null", "key": b'"":null', "after": b""}


def _structure(text: _Text, end: int, max_depth: int) -> Resume | None:
    """The open containers and restart state at ``end`` of a viable prefix."""
    opened = _open_at(text, end, max_depth)
    if opened is None or (opened and opened[0] != 0x7B):
        return None
    # The last comma, colon or closer, and any openers after it, lie in the
    # last few parts (a viable prefix has at most one string between two
    # such bytes): walk back over the parts, outside strings at even ones.
    parts = text.parts(end)
    position, last, openers = end, -1, []
    for index in range(len(parts) - 1, -1, -1):
        part = parts[index]
        position -= len(part)
        if index % 2 == 0:
            at = max(part.rfind(event) for event in _EVENTS)
            for opener in _OPENER.finditer(part, at + 1):
                openers.append(position + opener.start())
                if len(openers) > max_depth:
                    return None
            if at >= 0:
                last = position + at
                break
        position -= 1  # the quote before this part
    if last < 0:
        return None  # no structure before the error: walk from the start
    if not opened:
        # The top-level object has closed: what follows it is trailing.
        return Resume(last + 1, b"", "after")
    if openers:
        if len(openers) >= len(opened):
            return None
        return Resume(min(openers), opened[: -len(openers)], "value")
    event = text.neutral[last]
    if event == 0x2C:
        state = "value" if opened[-1] == 0x5B else "key"
    else:
        state = "value" if event == 0x3A else "after"
    return Resume(last + 1, opened, state)


def _open_at(text: _Text, end: int, max_depth: int) -> bytes | None:
    """The containers open at ``end`` of a viable prefix, outermost first.

    A few passes removing closed pairs answer shallow frames; deeper ones
    read the opener of each open level from the depth profile (the last
    byte before ``end`` one level up is just before it).
    """
    opened = b"".join(text.parts(end)[0::2]).translate(None, _NOT_BRACKET)
    passes = max_depth + 1 if max_depth >= _WIDE_DEPTH else _PASSES
    for _ in range(passes):
        reduced = opened.replace(b"[]", b"").replace(b"{}", b"")
        if len(reduced) == len(opened):
            return None if opened.strip(b"[{") else opened
        opened = reduced
    if max_depth >= _WIDE_DEPTH or end == 0:
        return None
    depths, masked = text.depths, text.masked
    starts = []
    at = end
    for level in range(depths[end - 1], 0, -1):
        at = depths.rfind(bytes((level - 1,)), 0, at) + 1
        starts.append(masked[at])
    opened = bytes(reversed(starts))
    return None if opened.strip(b"[{") else opened


def _viable(valid: bytes, resume: Resume, filler: bytes | None = None) -> bool:
    """Whether the frame up to ``resume.at`` is a viable JSON prefix.

    Closed with a filler value for its state and the brackets it leaves open,
    it must decode (one msgspec pass in C, building no objects).
    """
    fill = _FILLER[resume.state] if filler is None else filler
    closed = valid[: resume.at] + fill + resume.opened[::-1].translate(_CLOSE)
    try:
        _VALIDATE.decode(closed)
    except (msgspec.DecodeError, RecursionError):
        return False
    return True


def _raise_before(text: _Text, valid: bytes, max_depth: int, *, surrogates: bool) -> bool:
    """Raise the first depth or key-escape error in a prefix, once checked.

    ``False`` when there is one that the check cannot confirm: only the whole
    walk can then tell.
    """
    too_deep = over_deep(text, max_depth)
    if surrogates:
        end = len(text.neutral) if too_deep < 0 else too_deep
        lone = _LONE_KEY.search(text.depth_one, 0, end)
        if lone is not None:
            # A valid key string after a viable prefix: the walk decodes it.
            opened = _open_at(text, lone.start(1), max_depth)
            if opened is not None and _viable(valid, Resume(lone.end(), opened, "value")):
                raise FrameError("escape", lone.start(1))
            return False
    if too_deep >= 0:
        # The opener must stand where a value may: the prefix through it
        # decodes once closed.
        opened = _open_at(text, too_deep, max_depth)
        if opened is not None and _viable(
            valid, Resume(too_deep + 1, opened + text.neutral[too_deep : too_deep + 1], "after")
        ):
            raise FrameError("depth", too_deep)
        return False
    return True


def first_nonspace(buf: bytes) -> int:
    """Index of the first byte that is not JSON whitespace."""
    match = _WS.match(buf)
    return match.end() if match else 0
