"""The packed header of a frame: one integer holding every header field but the payload.

The in-memory log keeps one such integer per frame, the store writes it to disk (a chunk's ``meta``
column, the ``meta`` column of old databases), filters and views read it. This module is the only place
that knows where a field sits in it; everything else reads and writes it through the functions and named
constants below.

Layout (on disk in every recording: bits are never renumbered)::

    bits 0-3    opcode
    bit  4      direction (1: out)
    bits 5-14   two bits a field, 0 unknown / 1 false / 2 true: FIN (5-6), RSV1 (7-8), RSV2 (9-10),
                RSV3 (11-12), masked (13-14)
    bit  15     the frame was found damaged when read back from the store (a stored session only; never
                written: a stored integer with it set is itself damaged)
    bit  16     the frame completes a message (the live log only; never stored)
    bit  17     the wire length is known and equals the payload length (the live log and the store)
    bit  18     we sent the frame from a periodic schedule (the live log and the store)
    bit  19     we sent the frame as an auto-reply (the live log and the store)
    bit  20     unused (``1 << 20`` is a MiB wherever sizes are written: a flag there would read as one)
    bit  21     the frame travelled on a recording proxy's upstream hop, between wsinspector and the upstream
                server (the live log and the store); clear: the proxy's client hop, or a frame of a connection
                that has one hop only

``meta`` in a row, a filter's matcher or a view always means the header fields alone (:data:`HEADER_BITS`);
the flags above them belong to the log's and the store's columns.

The functions on one integer also take numpy arrays of them where noted (``np.uint32`` columns), so a
filter over a packed column needs no layout of its own.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from wsinspector.core.frames import Direction, Frame, Opcode

if TYPE_CHECKING:
    import numpy.typing as npt

    #: a numpy column of packed integers (``np.uint32``), or what an operation on one gives
    Column = npt.NDArray[Any]

__all__ = [
    "AUTO_REPLY",
    "COMPLETES",
    "DAMAGED",
    "HEADER_BITS",
    "KIND_BITS",
    "LENGTH_IS_PAYLOAD",
    "MARK_BITS",
    "OPCODE_BITS",
    "ORIGIN_BITS",
    "OUT_BIT",
    "SCHEDULED",
    "STORED_BITS",
    "TRI_FIELDS",
    "UPSTREAM",
    "completes",
    "completes_column",
    "damaged",
    "damaged_column",
    "damaged_meta",
    "direction",
    "fields",
    "fin",
    "header_and_hop",
    "header_and_origin",
    "header_of",
    "is_out",
    "kind",
    "kinds",
    "length_is_payload",
    "masked",
    "of_frame",
    "opcode",
    "opcode_column",
    "origin",
    "origin_label",
    "out_column",
    "pack",
    "rsv1",
    "rsv2",
    "rsv3",
    "stored_column",
    "upstream",
    "whole_in",
    "whole_in_fields",
    "with_length_is_payload",
    "with_origin",
]

# -- the layout --------------------------------------------------------------------------------------

#: the opcode
OPCODE_BITS = 0xF
#: set for an outgoing frame
OUT_BIT = 1 << 4
#: opcode and direction: what a filter on kinds of frames looks at (see :func:`kind`)
KIND_BITS = OPCODE_BITS | OUT_BIT
#: the two-bit fields, in order, with where each starts
TRI_FIELDS = (("fin", 5), ("rsv1", 7), ("rsv2", 9), ("rsv3", 11), ("masked", 13))
_TRI_MASK = 0b11
_TRI_UNKNOWN, _TRI_FALSE, _TRI_TRUE = 0, 1, 2
#: a frame read back damaged (see :func:`damaged_meta`); never written to the store
DAMAGED = 1 << 15
#: every field of the header: what ``meta`` means outside the log's and the store's columns
HEADER_BITS = (1 << 16) - 1
#: in the live log: a data frame that completes a message (a whole one, or the last fragment)
COMPLETES = 1 << 16
#: in the live log and the store: the wire length is known and equals the payload length
LENGTH_IS_PAYLOAD = 1 << 17
#: in the live log and the store: a frame we sent from a periodic schedule
SCHEDULED = 1 << 18
#: in the live log and the store: a frame we sent as an auto-reply
AUTO_REPLY = 1 << 19
#: what sent an outgoing frame, when it was not the user's own send
ORIGIN_BITS = SCHEDULED | AUTO_REPLY
#: in the live log and the store: a frame of a recording proxy's upstream hop (wsinspector <-> the upstream
#: server); a frame without it is on the proxy's client hop (the client <-> wsinspector), or a connection's own
UPSTREAM = 1 << 21
#: what a frame is marked with beyond its header: what sent it and the hop it travelled
MARK_BITS = ORIGIN_BITS | UPSTREAM
#: what the store keeps of a log's integer
STORED_BITS = HEADER_BITS | LENGTH_IS_PAYLOAD | MARK_BITS

#: bits a stored (32-bit) integer never has set, and bit 2 of the opcode (set in every opcode RFC 6455 reserves
#: but 11, which has bits 0 and 1 both set, as 3 has)
_UNSTORED_OR_OPCODE_BIT_2 = (0xFFFF_FFFF & ~(STORED_BITS & ~DAMAGED)) | 0b100

_FIN_SHIFT, _RSV1_SHIFT, _RSV2_SHIFT, _RSV3_SHIFT, _MASKED_SHIFT = (shift for _, shift in TRI_FIELDS)
#: the lower bit of each two-bit field, and bit 0 of the opcode: where ``x & (x >> 1)`` finds both bits of a pair
_BOTH_BITS_LOW = sum(1 << shift for _, shift in TRI_FIELDS) | 1
_DIRECTIONS = (Direction.IN, Direction.OUT)
#: each opcode's member by its value (None: no such opcode), looked up rather than made by ``Opcode(value)``, a
#: call of Enum's in Python, per frame read back
_OPCODES: tuple[Opcode | None, ...] = tuple({int(member): member for member in Opcode}.get(value)
                                             for value in range(OPCODE_BITS + 1))


# -- building ----------------------------------------------------------------------------------------

def _tri(value: bool | None) -> int:
    return _TRI_UNKNOWN if value is None else (_TRI_TRUE if value else _TRI_FALSE)


def _untri(bits: int) -> bool | None:
    return None if bits == _TRI_UNKNOWN else bits == _TRI_TRUE


def pack(direction: Direction, opcode: Opcode, fin: bool | None, rsv1: bool | None = None,
         rsv2: bool | None = None, rsv3: bool | None = None, masked: bool | None = None) -> int:
    """The header fields of a frame as one integer (``None``: the engine could not see the field)."""
    meta = int(opcode) | (OUT_BIT if direction is Direction.OUT else 0)
    for value, (_, shift) in zip((fin, rsv1, rsv2, rsv3, masked), TRI_FIELDS, strict=True):
        meta |= _tri(value) << shift
    return meta


def of_frame(frame: Frame) -> int:
    """:func:`pack` of a frame's fields."""
    return pack(frame.direction, frame.opcode, frame.fin, frame.rsv1, frame.rsv2, frame.rsv3, frame.masked)


def kind(direction: Direction, opcode: int) -> int:
    """The :data:`KIND_BITS` of a frame of this direction and opcode (``meta & KIND_BITS``)."""
    return opcode | (OUT_BIT if direction is Direction.OUT else 0)


def kinds(directions: Iterable[Direction], opcodes: Iterable[int] | None = None) -> frozenset[int]:
    """Every :func:`kind` of these directions and opcodes; ``opcodes=None``: every value the opcode bits hold."""
    values = range(OPCODE_BITS + 1) if opcodes is None else [int(op) for op in opcodes]
    return frozenset(kind(d, op) for d in set(directions) for op in values)


def whole_in(opcode: Opcode, *, header_known: bool, length_known: bool) -> int:
    """The log's integer for an incoming TEXT or BINARY frame that is a whole message (what
    ``FrameLog.append_whole_in`` takes): FIN set; RSV1-3 clear and unmasked when the engine sees the header
    (``header_known``), else unknown; its wire length equal to the payload length when ``length_known``."""
    if opcode not in (Opcode.TEXT, Opcode.BINARY):
        raise ValueError("a whole message is a TEXT or BINARY frame")
    known = False if header_known else None
    meta = pack(Direction.IN, opcode, True, known, known, known, known) | COMPLETES
    return meta | LENGTH_IS_PAYLOAD if length_known else meta


def whole_in_fields(meta: int, payload: bytes, ts_ns: int) -> tuple[object, ...]:
    """The frame :func:`whole_in` describes, with its payload and time stamp, as the arguments an engine's
    frame sink and ``FrameLog.append_fields`` take: (direction, opcode, payload, ts_ns, fin, rsv1, rsv2, rsv3,
    masked, payload_length)."""
    return (direction(meta), opcode(meta), payload, ts_ns, True, rsv1(meta), rsv2(meta), rsv3(meta), masked(meta),
            len(payload) if meta & LENGTH_IS_PAYLOAD else None)


# -- reading -----------------------------------------------------------------------------------------

def direction(meta: int) -> Direction:
    return _DIRECTIONS[(meta & OUT_BIT) != 0]


def is_out(meta: int) -> bool:
    return meta & OUT_BIT != 0


def opcode(meta: int) -> Opcode:
    found = _OPCODES[meta & OPCODE_BITS]
    return found if found is not None else Opcode(meta & OPCODE_BITS)  # no such opcode: Opcode's ValueError


def fin(meta: int) -> bool | None:
    return _untri((meta >> _FIN_SHIFT) & _TRI_MASK)


def rsv1(meta: int) -> bool | None:
    return _untri((meta >> _RSV1_SHIFT) & _TRI_MASK)


def rsv2(meta: int) -> bool | None:
    return _untri((meta >> _RSV2_SHIFT) & _TRI_MASK)


def rsv3(meta: int) -> bool | None:
    return _untri((meta >> _RSV3_SHIFT) & _TRI_MASK)


def masked(meta: int) -> bool | None:
    return _untri((meta >> _MASKED_SHIFT) & _TRI_MASK)


def fields(meta: int) -> dict[str, object]:
    """direction, opcode, fin, rsv1, rsv2, rsv3, masked: the :class:`Frame` fields an integer holds."""
    out: dict[str, object] = {"direction": direction(meta), "opcode": opcode(meta)}
    for name, shift in TRI_FIELDS:
        out[name] = _untri((meta >> shift) & _TRI_MASK)
    return out


def completes(meta: int) -> bool:
    """Whether the log marked the frame as completing a message."""
    return meta & COMPLETES != 0


def length_is_payload(meta: int) -> bool:
    """Whether the wire length is known and equals the payload length."""
    return meta & LENGTH_IS_PAYLOAD != 0


def header_of(meta: int) -> int:
    """The header fields alone, without the log's and the store's flags."""
    return meta & HEADER_BITS


def with_length_is_payload(meta: int) -> int:
    """The integer with :data:`LENGTH_IS_PAYLOAD` set."""
    return meta | LENGTH_IS_PAYLOAD


def origin(flags: int) -> int:
    """The :data:`MARK_BITS` of a log's or a chunk's integer: what sent the frame (:data:`ORIGIN_BITS`; none:
    the user sent it, or it came in) and whether it travelled on a proxy's upstream hop (:data:`UPSTREAM`)."""
    return flags & MARK_BITS


def upstream(flags: int) -> bool:
    """Whether the frame travelled on a recording proxy's upstream hop."""
    return flags & UPSTREAM != 0


def header_and_hop(meta: int) -> int:
    """The header fields with the hop the frame travelled: what a stored frame's row keeps of an integer."""
    return meta & (HEADER_BITS | UPSTREAM)


def with_origin(meta: int, flags: int) -> int:
    """A log's integer with what sent the frame (:data:`SCHEDULED` or :data:`AUTO_REPLY`) added."""
    return meta | (flags & ORIGIN_BITS)


def header_and_origin(meta: int) -> int:
    """The header fields with what sent the frame and its hop: what a stored page of summaries keeps of an
    integer."""
    return meta & (HEADER_BITS | MARK_BITS)


def origin_label(flags: int) -> str:
    """What sent the frame, in a word: "scheduled", "auto-reply" or ""."""
    if flags & SCHEDULED:
        return "scheduled"
    return "auto-reply" if flags & AUTO_REPLY else ""


def damaged(meta: int) -> bool:
    """Whether the frame was found damaged when read back (its fields are then placeholders)."""
    return meta & DAMAGED != 0


def damaged_meta(stored: int) -> int:
    """The integer a reader shows for a damaged stored one: :data:`DAMAGED`, the direction bit as it was, a
    CONTINUATION opcode (no message starts with it) and every two-bit field unknown."""
    return DAMAGED | (stored & OUT_BIT)


# -- columns -----------------------------------------------------------------------------------------

def opcode_column(metas: Column) -> Column:
    """The opcode of each integer of a numpy column."""
    return metas & OPCODE_BITS


def completes_column(metas: Column) -> Column:
    """Whether each integer of a numpy column completes a message (booleans)."""
    return (metas & COMPLETES).astype(bool)


def out_column(metas: Column) -> Column:
    """Whether each integer of a numpy column is an outgoing frame (booleans)."""
    return (metas & OUT_BIT).astype(bool)


def stored_column(metas: Column) -> Column:
    """What the store keeps of each integer of a log's column."""
    return metas & STORED_BITS


def readable_column(stored: Column) -> Column:
    """A stored numpy column (``np.uint32``) as a reader shows it: the header bits, a damaged integer read as
    :func:`damaged_meta`."""
    out = stored & HEADER_BITS
    bad = damaged_column(stored) != 0
    if bad.any():
        out[bad] = DAMAGED | (stored[bad] & OUT_BIT)
    return out


def starts_row(meta: int) -> bool:
    """Whether one packed header starts a row of the message view (what :func:`starts_row_column` says of each
    integer of a column)."""
    return bool(meta & (OPCODE_BITS | DAMAGED))


def starts_row_column(metas: Column) -> Column:
    """Whether each integer of a numpy column starts a row of the message view (booleans): every frame but a
    continuation (control frames and damaged frames have a row of their own)."""
    starts: Column = ((metas & OPCODE_BITS) != 0) | ((metas & DAMAGED) != 0)
    return starts


def damaged_column(stored: Column) -> Column:
    """Nonzero where an integer of a stored numpy column (``np.uint32``) is damaged: an opcode RFC 6455 reserves
    (3-7, 11-15: bit 2 set, or bits 0 and 1 both), a two-bit field holding 3 (both its bits set), or a bit the
    store never writes. Four operations on the column: it is checked each time a chunk is read."""
    bad = stored >> 1
    bad &= stored
    bad &= _BOTH_BITS_LOW
    bad |= stored & _UNSTORED_OR_OPCODE_BIT_2
    return bad
