"""The packed frame header: every combination of fields survives a round trip, and the bits stay where the
files on disk have them."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from wsinspector.core.frames import Direction, Frame, Opcode
from wsinspector.core.model import header

IN, OUT = Direction.IN, Direction.OUT
TRI = (None, False, True)
FLAG_SETS = (0, header.COMPLETES, header.LENGTH_IS_PAYLOAD, header.COMPLETES | header.LENGTH_IS_PAYLOAD)


def combinations() -> list[tuple[Direction, Opcode, bool | None, bool | None, bool | None, bool | None, bool | None]]:
    """Every direction, opcode and value of the five two-bit fields: 2 * 6 * 3**5 = 2916 headers."""
    return [(d, op, *tri) for d in Direction for op in Opcode for tri in itertools.product(TRI, repeat=5)]


def test_every_combination_round_trips() -> None:
    seen = set()
    for direction, opcode, fin, rsv1, rsv2, rsv3, masked in combinations():
        meta = header.pack(direction, opcode, fin, rsv1, rsv2, rsv3, masked)
        seen.add(meta)
        assert header.header_of(meta) == meta, "the fields stay inside HEADER_BITS"
        expected = {"direction": direction, "opcode": opcode, "fin": fin, "rsv1": rsv1, "rsv2": rsv2, "rsv3": rsv3,
                    "masked": masked}
        for flags in FLAG_SETS:  # the log's and the store's flags never change a field
            bits = meta | flags
            assert header.fields(bits) == expected
            assert (header.direction(bits), header.opcode(bits), header.fin(bits), header.rsv1(bits),
                    header.rsv2(bits), header.rsv3(bits), header.masked(bits)) == tuple(expected.values())
            assert header.is_out(bits) is (direction is OUT)
            assert header.header_of(bits) == meta
            assert header.kind(direction, opcode) == bits & header.KIND_BITS
            assert header.completes(bits) is bool(flags & header.COMPLETES)
            assert header.length_is_payload(bits) is bool(flags & header.LENGTH_IS_PAYLOAD)
    assert len(seen) == len(combinations()), "no two headers pack to the same integer"


def test_a_frame_packs_its_own_fields() -> None:
    for direction, opcode, fin, rsv1, rsv2, rsv3, masked in combinations()[::7]:
        frame = Frame(seq=0, ts_ns=0, direction=direction, opcode=opcode, payload=b"", fin=fin, rsv1=rsv1, rsv2=rsv2,
                      rsv3=rsv3, masked=masked)
        meta = header.of_frame(frame)
        assert meta == header.pack(direction, opcode, fin, rsv1, rsv2, rsv3, masked)
        assert Frame(seq=0, ts_ns=0, payload=b"", **header.fields(meta)) == frame  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("fields", "stored"),
    [
        # what recordings on disk hold: these integers must keep meaning these headers
        ((IN, Opcode.CONTINUATION, None, None, None, None, None), 0),
        ((IN, Opcode.TEXT, True, None, None, None, None), 0x41),
        ((OUT, Opcode.TEXT, True, False, False, False, True), 0x4AD1),
        ((IN, Opcode.BINARY, False, True, False, False, False), 0x2B22),
        ((IN, Opcode.CLOSE, True, False, False, False, False), 0x2AC8),
        ((OUT, Opcode.PING, True, False, False, False, True), 0x4AD9),
        ((IN, Opcode.PONG, None, True, True, True, None), 0x150A),
    ],
)
def test_the_layout_on_disk_does_not_move(fields: tuple[object, ...], stored: int) -> None:
    assert header.pack(*fields) == stored  # type: ignore[arg-type]
    assert tuple(header.fields(stored).values()) == fields


def test_the_flags_sit_above_the_header() -> None:
    assert header.HEADER_BITS == 0xFFFF
    assert header.COMPLETES == 0x10000 and header.LENGTH_IS_PAYLOAD == 0x20000
    assert header.SCHEDULED == 0x40000 and header.AUTO_REPLY == 0x80000
    assert header.UPSTREAM == 0x200000 and header.MARK_BITS == 0x2C0000
    assert header.STORED_BITS == 0x2EFFFF, (
        "the store keeps LENGTH_IS_PAYLOAD, what sent a frame and its hop, never COMPLETES")
    assert header.KIND_BITS == header.OPCODE_BITS | header.OUT_BIT == 0x1F
    assert header.with_length_is_payload(0x41) == 0x41 | header.LENGTH_IS_PAYLOAD


def test_kinds() -> None:
    assert header.kinds([IN], [Opcode.TEXT]) == {header.kind(IN, Opcode.TEXT)}
    assert header.kinds([IN, OUT], [Opcode.PING, Opcode.PONG]) == {
        header.kind(d, op) for d in Direction for op in (Opcode.PING, Opcode.PONG)}
    assert header.kinds([OUT]) == {header.kind(OUT, op) for op in range(16)}, "None: every value the bits hold"
    assert header.kinds([], [Opcode.TEXT]) == frozenset() == header.kinds([IN], [])


@pytest.mark.parametrize("opcode", [Opcode.TEXT, Opcode.BINARY])
@pytest.mark.parametrize("header_known", [True, False])
@pytest.mark.parametrize("length_known", [True, False])
def test_whole_incoming_message(opcode: Opcode, header_known: bool, length_known: bool) -> None:
    meta = header.whole_in(opcode, header_known=header_known, length_known=length_known)
    known = False if header_known else None
    assert header.header_of(meta) == header.pack(IN, opcode, True, known, known, known, known)
    assert header.completes(meta)
    assert header.length_is_payload(meta) is length_known
    assert header.whole_in_fields(meta, b"four", 9) == (IN, opcode, b"four", 9, True, known, known, known, known,
                                                        4 if length_known else None)


@pytest.mark.parametrize("opcode", [Opcode.CONTINUATION, Opcode.CLOSE, Opcode.PING, Opcode.PONG])
def test_whole_incoming_message_is_data(opcode: Opcode) -> None:
    with pytest.raises(ValueError, match="TEXT or BINARY"):
        header.whole_in(opcode, header_known=True, length_known=True)


def test_columns_read_like_single_integers() -> None:
    metas = [header.pack(d, op, fin, masked=m) | flags for (d, op, fin, *_rest, m) in combinations()[::5]
             for flags in FLAG_SETS]
    column = np.array(metas, dtype=np.uint32)
    assert header.opcode_column(column).tolist() == [int(header.opcode(m)) for m in metas]
    assert header.out_column(column).tolist() == [header.is_out(m) for m in metas]
    assert header.stored_column(column).tolist() == [
        header.header_of(m) | (m & header.LENGTH_IS_PAYLOAD) for m in metas]
    shown = [*metas, *(header.damaged_meta(m) for m in metas[:50])]  # a damaged frame is a row of its own
    assert header.starts_row_column(np.array(shown, dtype=np.uint32)).tolist() == [header.starts_row(m) for m in shown]
    assert any(header.starts_row(m) for m in shown) and not all(header.starts_row(m) for m in shown)
