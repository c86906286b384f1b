"""Frame filters: the matcher, the same filter over a stored chunk, the chunked scan and find-next."""

from __future__ import annotations

import dataclasses
import random
import re
from collections.abc import Iterator

import pytest

from wsinspector.core.chunks import Chunk, pack_rows
from wsinspector.core.filters import ChunkedScan, FilterError, FrameFilter, chunk_matches, find_next
from wsinspector.core.frames import Direction, Opcode, close_payload
from wsinspector.core.model import header

IN, OUT = Direction.IN, Direction.OUT
Row = tuple[int, int, bytes]


def meta(opcode: Opcode = Opcode.TEXT, direction: Direction = IN, **bits: bool | None) -> int:
    return header.pack(direction, opcode, bits.pop("fin", True), **bits)


def reference(flt: FrameFilter, meta_: int, payload: bytes) -> bool:
    """The filter semantics written the slow, obvious way."""
    if header.direction(meta_) not in flt.directions:
        return False
    opcode = header.opcode(meta_)
    if flt.opcodes is not None and opcode not in {int(op) for op in flt.opcodes}:
        return False
    if not flt.text:
        return True
    text = (payload[2:] if opcode == Opcode.CLOSE else payload).decode("utf-8", errors="replace")
    if flt.regex:
        return re.search(flt.text, text, 0 if flt.case_sensitive else re.IGNORECASE) is not None
    if flt.case_sensitive:
        return flt.text in text
    return flt.text.casefold() in text.casefold()


# -- a mixed data set ---------------------------------------------------------------------------------

MIXED_PAYLOADS: list[tuple[Opcode, bytes]] = [
    (Opcode.TEXT, b"Hello World"),
    (Opcode.TEXT, b"hello world"),
    (Opcode.TEXT, b"HELLO"),
    (Opcode.TEXT, "Straße".encode()),
    (Opcode.TEXT, b"STRASSE"),
    (Opcode.TEXT, "\u017f".encode()),  # long s: casefolds to "s"
    (Opcode.TEXT, "café Ünïcode ✓".encode()),
    (Opcode.TEXT, "a\ufffdb".encode()),  # a real U+FFFD
    (Opcode.TEXT, b"ok\xff\xfeend"),  # invalid UTF-8: decodes to ok\ufffd\ufffdend
    (Opcode.TEXT, b"\xe2\x82needle"),  # a cut-off sequence right before the text
    (Opcode.TEXT, b'{"type":"ticker","price":42}'),
    (Opcode.TEXT, b"oh hi"),
    (Opcode.TEXT, b""),
    (Opcode.BINARY, b"\x00\x01needle\x02"),
    (Opcode.BINARY, b"\x89PNG\r\n\x1a\n"),
    (Opcode.BINARY, b"\xff" * 4),
    (Opcode.BINARY, b""),
    (Opcode.CONTINUATION, b"more NEEDLE"),
    (Opcode.CONTINUATION, b"\x80\x81"),
    (Opcode.CLOSE, close_payload(1000, "bye NEEDLE")),
    (Opcode.CLOSE, close_payload(4001, "é reason")),
    (Opcode.CLOSE, b"hithere"),  # a code whose two bytes read "hi": the code is not searched
    (Opcode.CLOSE, b""),
    (Opcode.CLOSE, b"\x03"),
    (Opcode.CLOSE, b"\x03\xe8\xff"),
    (Opcode.PING, b"ping hello"),
    (Opcode.PONG, b"pong HELLO"),
    (Opcode.PONG, b""),
]


def mixed_rows() -> list[Row]:
    rows = []
    seq = 0
    for direction in Direction:
        for fin in (True, False, None):
            for opcode, payload in MIXED_PAYLOADS:
                rows.append((seq, meta(opcode, direction, fin=fin, masked=direction is OUT), payload))
                seq += 1
    return rows


MIXED = mixed_rows()

FILTERS = [
    FrameFilter(),
    FrameFilter(directions=frozenset({IN})),
    FrameFilter(directions=frozenset({OUT})),
    FrameFilter(directions=frozenset()),
    FrameFilter(opcodes=frozenset({Opcode.TEXT})),
    FrameFilter(opcodes=frozenset({Opcode.CLOSE, Opcode.PING, Opcode.PONG})),
    FrameFilter(opcodes=frozenset()),
    FrameFilter(opcodes=frozenset(Opcode)),
    FrameFilter(text="hello"),
    FrameFilter(text="hello", case_sensitive=True),
    FrameFilter(text="HELLO", case_sensitive=True),
    FrameFilter(text="needle"),
    FrameFilter(text="needle", case_sensitive=True),
    FrameFilter(text="NEEDLE", case_sensitive=True),
    FrameFilter(text="hi"),
    FrameFilter(text="hi", case_sensitive=True),
    FrameFilter(text="strasse"),
    FrameFilter(text="STRAßE"),
    FrameFilter(text="Straße", case_sensitive=True),
    FrameFilter(text="s"),
    FrameFilter(text="ünï"),
    FrameFilter(text="✓", case_sensitive=True),
    FrameFilter(text="\ufffd"),
    FrameFilter(text="\ufffd", case_sensitive=True),
    FrameFilter(text="\ud800", case_sensitive=True),
    FrameFilter(text="\ud800"),
    FrameFilter(text="é reason", case_sensitive=True),
    FrameFilter(text=" "),
    FrameFilter(text=r"h.llo", regex=True),
    FrameFilter(text=r"^h.llo", regex=True, case_sensitive=True),
    FrameFilter(text=r"^$", regex=True),
    FrameFilter(text=r"\d+", regex=True),
    FrameFilter(text=r"ok.+end", regex=True),
    FrameFilter(text=r"^bye", regex=True),
    FrameFilter(text=r"[\ud800-\udfff]|PNG", regex=True),
    FrameFilter(text="hello", directions=frozenset({OUT}), opcodes=frozenset({Opcode.PING, Opcode.TEXT})),
    FrameFilter(text="needle", directions=frozenset({IN}), opcodes=frozenset({Opcode.CLOSE})),
    FrameFilter(text="world", regex=True, directions=frozenset({IN}), opcodes=frozenset({Opcode.TEXT})),
]


def filter_id(flt: FrameFilter) -> str:
    """The filter's settings, its sets in a fixed order: the same id in every process (a set's order follows the
    process's hash seed, and the test runner's workers must agree on the ids)."""
    def shown(value: object) -> str:
        if isinstance(value, frozenset):
            return "{" + ",".join(sorted(str(getattr(item, "value", item)) for item in value)) + "}"
        return repr(value)
    return "(" + ", ".join(f"{f.name}={shown(getattr(flt, f.name))}" for f in dataclasses.fields(flt)) + ")"


@pytest.mark.parametrize("flt", FILTERS, ids=filter_id)
def test_matcher_agrees_with_the_reference_semantics(flt: FrameFilter) -> None:
    match = flt.matcher()
    got = [seq for seq, m, payload in MIXED if match(m, payload)]
    expected = [seq for seq, m, payload in MIXED if reference(flt, m, payload)]
    assert got == expected


def as_chunk(rows: list[Row]) -> Chunk:
    """The rows as the store keeps them: one chunk, packed and read back."""
    packed = pack_rows([(seq, seq * 10, m, None, None, None, payload) for seq, m, payload in rows])
    return Chunk(packed.first, packed.count, packed.ts, packed.meta, packed.ends, bytes(packed.payload),
                 packed.extras)


#: the mixed data set without a byte above 0x7F: a chunk of these takes the lower-cased search
ASCII = [(seq, m, p) for seq, (_, m, p) in enumerate(r for r in MIXED if r[2].isascii())]


@pytest.mark.parametrize("flt", FILTERS, ids=filter_id)
@pytest.mark.parametrize("rows", [MIXED, ASCII], ids=["mixed", "ascii"])
def test_a_stored_chunk_selects_exactly_what_the_matcher_selects(rows: list[Row], flt: FrameFilter) -> None:
    chunk = as_chunk(rows)
    match = flt.matcher()
    expected = [seq for seq, m, payload in rows if match(m, payload)]
    assert chunk_matches(flt, chunk, 0, len(rows)) == expected
    # any part of the chunk: the search stays inside it
    for lo, hi in ((1, 7), (5, len(rows) - 3), (len(rows) - 1, len(rows)), (4, 4)):
        assert chunk_matches(flt, chunk, lo, hi) == [seq for seq in expected if lo <= seq < hi]


def test_a_text_split_across_two_payloads_is_no_match_but_the_search_goes_on() -> None:
    rows: list[Row] = [(0, meta(), b"xxnee"), (1, meta(), b"dle"), (2, meta(), b"needle"), (3, meta(), b"neeneedle")]
    for flt in (FrameFilter(text="needle"), FrameFilter(text="needle", case_sensitive=True)):
        assert chunk_matches(flt, as_chunk(rows), 0, 4) == [2, 3]


def test_the_mixed_data_set_exercises_every_kind_of_result() -> None:
    # Guard against an equivalence test that passes because everything (or nothing) matches.
    counts = {filter_id(f): sum(f.matcher()(m, p) for _, m, p in MIXED) for f in FILTERS}
    everything = {filter_id(FrameFilter()), filter_id(FrameFilter(opcodes=frozenset(Opcode)))}
    nothing = {filter_id(f) for f in (FrameFilter(directions=frozenset()), FrameFilter(opcodes=frozenset()),
                                      FrameFilter(text="\ud800"), FrameFilter(text="\ud800", case_sensitive=True))}
    assert {name for name, count in counts.items() if count == len(MIXED)} == everything
    assert {name for name, count in counts.items() if count == 0} == nothing


# -- semantics, case by case ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "opcode", "payload", "expected"),
    [
        ({"text": "world"}, Opcode.TEXT, b"Hello World", True),
        ({"text": "world", "case_sensitive": True}, Opcode.TEXT, b"Hello World", False),
        ({"text": "World", "case_sensitive": True}, Opcode.TEXT, b"Hello World", True),
        ({"text": "needle"}, Opcode.BINARY, b"\x00\x01NEEDLE\x02", True),  # binary frames are searched too
        ({"text": "strasse"}, Opcode.TEXT, "Straße".encode(), True),  # casefold, not lower
        ({"text": "STRASSE", "case_sensitive": True}, Opcode.TEXT, "Straße".encode(), False),
        ({"text": "ok\ufffd"}, Opcode.TEXT, b"ok\xffend", True),  # invalid bytes read as U+FFFD
        ({"text": "ok\ufffd", "case_sensitive": True}, Opcode.TEXT, b"ok\xffend", True),
        ({"text": "needle", "case_sensitive": True}, Opcode.TEXT, b"\xe2\x82needle", True),
        ({"text": "hi"}, Opcode.CLOSE, b"hithere", False),  # the close code is skipped
        ({"text": "there"}, Opcode.CLOSE, b"hithere", True),
        ({"text": "bye"}, Opcode.CLOSE, close_payload(1000, "Bye now"), True),
        ({"text": "x"}, Opcode.CLOSE, b"x", False),
        ({"text": "x"}, Opcode.TEXT, b"", False),
        ({"text": "^$", "regex": True}, Opcode.CLOSE, close_payload(1000), True),
        ({"text": "^$", "regex": True}, Opcode.TEXT, b"x", False),
        ({"text": r"price\":\d+", "regex": True}, Opcode.TEXT, b'{"price":42}', True),
        ({"text": "HELLO", "regex": True}, Opcode.TEXT, b"hello", True),
        ({"text": "HELLO", "regex": True, "case_sensitive": True}, Opcode.TEXT, b"hello", False),
        ({"text": "\ud800"}, Opcode.TEXT, b"\xed\xa0\x80", False),  # a surrogate never occurs in decoded text
    ],
)
def test_text_semantics(kwargs: dict[str, object], opcode: Opcode, payload: bytes, expected: bool) -> None:
    flt = FrameFilter(**kwargs)  # type: ignore[arg-type]
    assert flt.matcher()(meta(opcode), payload) is expected


@pytest.mark.parametrize(
    ("flt", "frame_meta", "expected"),
    [
        (FrameFilter(directions=frozenset({IN})), meta(Opcode.TEXT, IN), True),
        (FrameFilter(directions=frozenset({IN})), meta(Opcode.TEXT, OUT), False),
        (FrameFilter(directions=frozenset({OUT})), meta(Opcode.PING, OUT, fin=None, rsv1=True), True),
        (FrameFilter(opcodes=frozenset({Opcode.PING})), meta(Opcode.PONG), False),
        (FrameFilter(opcodes=frozenset({Opcode.PING})), meta(Opcode.PING, OUT, masked=True), True),
        (FrameFilter(opcodes=frozenset()), meta(Opcode.PING), False),
        # The high bits (FIN, RSV, masked, and the log's own flags above bit 15) never confuse the filter.
        (FrameFilter(directions=frozenset({IN}), opcodes=frozenset({Opcode.TEXT})),
         meta(Opcode.TEXT, IN, fin=True, rsv1=True, rsv2=True, rsv3=True, masked=True)
         | header.COMPLETES | header.LENGTH_IS_PAYLOAD, True),
    ],
)
def test_direction_and_opcode(flt: FrameFilter, frame_meta: int, expected: bool) -> None:
    assert flt.matcher()(frame_meta, b"") is expected


@pytest.mark.parametrize(
    ("flt", "empty"),
    [
        (FrameFilter(), True),
        (FrameFilter(opcodes=frozenset(Opcode)), True),
        (FrameFilter(regex=True, case_sensitive=True), True),
        (FrameFilter(text="x"), False),
        (FrameFilter(text="(", regex=True), False),
        (FrameFilter(directions=frozenset({IN})), False),
        (FrameFilter(directions=frozenset()), False),
        (FrameFilter(opcodes=frozenset({Opcode.TEXT, Opcode.BINARY})), False),
        (FrameFilter(opcodes=frozenset()), False),
    ],
)
def test_is_empty(flt: FrameFilter, empty: bool) -> None:
    assert flt.is_empty() is empty
    if empty:
        assert all(flt.matcher()(m, p) for _, m, p in MIXED)


def test_the_fast_paths_agree_with_decoding_on_random_bytes() -> None:
    """Byte search and the ASCII case-folding shortcut must give what decoding would, on any bytes."""
    rnd = random.Random(6455)
    pieces = [b"a", b"A", b"s", b"S", b"b", "ß".encode(), "ſ".encode(), "é".encode(), "É".encode(), "✓".encode(),
              "\ufffd".encode(), b"\xff", b"\xc3", b"\xe2\x9c", b"\x80", b"\xf0\x9f", b"\x00", b" "]
    needles = ["a", "as", "sS", "ß", "ss", "é", "É", "✓", "é✓", "a\ufffd", "\ufffd", "s", "S a", "ab"]
    filters = [FrameFilter(text=n, case_sensitive=cs, opcodes=None) for n in needles for cs in (False, True)]
    matchers = [(f, f.matcher()) for f in filters]
    for _ in range(3000):
        payload = b"".join(rnd.choice(pieces) for _ in range(rnd.randrange(0, 8)))
        opcode = rnd.choice([Opcode.TEXT, Opcode.BINARY, Opcode.CLOSE])
        m = meta(opcode)
        for flt, match in matchers:
            assert match(m, payload) == reference(flt, m, payload), (flt, payload, opcode)


@pytest.mark.parametrize("case_sensitive", [False, True])
def test_a_bad_regex_is_a_filter_error_with_its_position(case_sensitive: bool) -> None:
    flt = FrameFilter(text="ab(c", regex=True, case_sensitive=case_sensitive)
    expected = r"^Invalid regular expression: missing \), unterminated subpattern at position 2$"
    with pytest.raises(FilterError, match=expected):
        flt.matcher()
    with pytest.raises(FilterError, match="Invalid regular expression"):
        chunk_matches(flt, as_chunk(MIXED), 0, len(MIXED))
    with pytest.raises(FilterError):
        ChunkedScan(flt, 10, lambda first, last: [])
    with pytest.raises(FilterError):
        find_next(flt, 0, 10, lambda first, last: [])
    assert issubclass(FilterError, ValueError)


def test_a_bad_regex_is_reported_even_when_nothing_else_could_match() -> None:
    with pytest.raises(FilterError):
        FrameFilter(text="[", regex=True, directions=frozenset()).matcher()


def test_the_same_text_without_regex_is_fine() -> None:
    assert FrameFilter(text="ab(c").matcher()(meta(), b"xab(cx")


# -- chunked scan -----------------------------------------------------------------------------------


class Source:
    """fetch() over a list of rows, recording the ranges asked for."""

    def __init__(self, rows: list[Row]) -> None:
        self.rows = rows
        self.calls: list[tuple[int, int]] = []

    def fetch(self, first: int, last: int) -> list[Row]:
        assert 0 <= first <= last < len(self.rows), (first, last)
        self.calls.append((first, last))
        return self.rows[first : last + 1]


def test_chunked_scan_reports_progress_chunk_by_chunk() -> None:
    rows = [(seq, meta(Opcode.TEXT, IN), b"hit" if seq % 4 == 0 else b"miss") for seq in range(10)]
    source = Source(rows)
    scan = ChunkedScan(FrameFilter(text="hit"), 10, source.fetch, chunk=3)
    assert (scan.done, scan.total, list(scan.matches)) == (0, 10, [])
    progress = []
    while True:
        finished = scan.step()
        progress.append((scan.done, finished, list(scan.matches)))
        if finished:
            break
    assert progress == [(3, False, [0]), (6, False, [0, 4]), (9, False, [0, 4, 8]), (10, True, [0, 4, 8])]
    assert source.calls == [(0, 2), (3, 5), (6, 8), (9, 9)]
    assert scan.step() is True  # finished: no more fetching
    assert len(source.calls) == 4
    assert scan.matches.typecode == "q"


@pytest.mark.parametrize("chunk", [1, 7, 50, 50_000])
@pytest.mark.parametrize(
    "flt",
    [
        FrameFilter(),
        FrameFilter(directions=frozenset({OUT})),
        FrameFilter(text="hello"),
        FrameFilter(text=r"h.llo", regex=True),
        FrameFilter(text="world", regex=True, directions=frozenset({IN}), opcodes=frozenset({Opcode.TEXT})),
    ],
    ids=filter_id,
)
def test_chunked_scan_finds_what_a_one_shot_scan_finds(chunk: int, flt: FrameFilter) -> None:
    scan = ChunkedScan(flt, len(MIXED), Source(MIXED).fetch, chunk=chunk)
    steps = 0
    while not scan.step():
        steps += 1
    match = flt.matcher()
    assert list(scan.matches) == [seq for seq, m, p in MIXED if match(m, p)]
    assert scan.done == scan.total == len(MIXED)
    assert steps == -(-len(MIXED) // chunk) - 1


def test_chunked_scan_of_nothing_is_finished_at_once() -> None:
    source = Source([])
    scan = ChunkedScan(FrameFilter(text="x"), 0, source.fetch)
    assert scan.step() is True
    assert source.calls == [] and list(scan.matches) == []


def test_chunked_scan_run_and_rejects_a_bad_chunk() -> None:
    assert list(ChunkedScan(FrameFilter(text="NEEDLE", case_sensitive=True), len(MIXED), Source(MIXED).fetch,
                            chunk=5).run()) == [seq for seq, _, p in MIXED if b"NEEDLE" in p]
    with pytest.raises(ValueError):
        ChunkedScan(FrameFilter(), 3, Source(MIXED).fetch, chunk=0)


# -- find next ----------------------------------------------------------------------------------------

HITS = {2, 5, 9}
FIND_ROWS = [(seq, meta(), b"hit" if seq in HITS else b"none") for seq in range(12)]


@pytest.mark.parametrize("chunk", [1, 2, 5, 50_000])
@pytest.mark.parametrize(
    ("start", "backwards", "wrap", "expected"),
    [
        (-1, False, True, 2),
        (0, False, True, 2),
        (2, False, True, 5),  # never the start itself
        (3, False, True, 5),
        (5, False, True, 9),
        (9, False, True, 2),  # wraps to the top
        (9, False, False, None),
        (11, False, True, 2),
        (12, False, True, 2),
        (12, True, True, 9),  # from below the end, backwards
        (11, True, True, 9),
        (9, True, True, 5),
        (5, True, True, 2),
        (2, True, True, 9),  # wraps to the bottom
        (2, True, False, None),
        (0, True, True, 9),
        (-1, True, True, 9),
    ],
)
def test_find_next(start: int, backwards: bool, wrap: bool, expected: int | None, chunk: int) -> None:
    source = Source(FIND_ROWS)
    found = find_next(FrameFilter(text="hit"), start, len(FIND_ROWS), source.fetch, backwards=backwards, wrap=wrap,
                      chunk=chunk)
    assert found == expected
    assert all(last - first < chunk for first, last in source.calls)


@pytest.mark.parametrize("backwards", [False, True])
def test_find_next_returns_none_when_no_other_frame_matches(backwards: bool) -> None:
    rows = [(seq, meta(), b"hit" if seq == 4 else b"none") for seq in range(8)]
    flt = FrameFilter(text="hit")
    assert find_next(flt, 4, 8, Source(rows).fetch, backwards=backwards) is None
    assert find_next(flt, 0, 8, Source(rows).fetch, backwards=backwards) == 4
    assert find_next(FrameFilter(text="absent"), 3, 8, Source(rows).fetch, backwards=backwards) is None
    assert find_next(flt, 0, 0, Source([]).fetch, backwards=backwards) is None


def test_find_next_stops_fetching_at_the_first_hit() -> None:
    rows = [(seq, meta(), b"hit" if seq in (3, 900) else b"none") for seq in range(1000)]
    source = Source(rows)
    assert find_next(FrameFilter(text="hit"), 0, len(rows), source.fetch, chunk=10) == 3
    assert source.calls == [(1, 10)]
    source.calls.clear()
    assert find_next(FrameFilter(text="hit"), 999, len(rows), source.fetch, backwards=True, chunk=10) == 900
    assert source.calls == [(989, 998), (979, 988), (969, 978), (959, 968), (949, 958), (939, 948), (929, 938),
                            (919, 928), (909, 918), (899, 908)]


def test_matcher_over_a_million_small_frames_completes() -> None:
    """Not a timing assertion: only that a scan this size runs through (measured separately)."""
    payload = b'{"type":"ticker","price":42.5,"seq":1234567,"pad":"' + b"x" * 11 + b'"}'
    total = 1_000_000
    metas = [meta(Opcode.TEXT, IN), meta(Opcode.TEXT, OUT)] * (total // 2)
    payloads = ([payload] * 9 + [payload.upper()]) * (total // 10)
    assert len(payload) == 64 and len(metas) == len(payloads) == total

    def fetch(first: int, last: int) -> Iterator[Row]:
        return zip(range(first, last + 1), metas[first : last + 1], payloads[first : last + 1], strict=True)

    scan = ChunkedScan(FrameFilter(text="TICKER", case_sensitive=True), total, fetch)
    scan.run()
    assert len(scan.matches) == total // 10
    assert scan.matches[:2].tolist() == [9, 19]
