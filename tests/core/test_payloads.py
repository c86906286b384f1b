"""Payloads: encoding what the user typed, decoding and displaying what arrived."""

from __future__ import annotations

import re

import pytest

from wsinspector.core.payloads import (
    EncodedPayload,
    PayloadError,
    PayloadMode,
    decode_text,
    encode,
    hexdump,
    human_size,
    parse_base64,
    parse_hex,
    parse_json,
    parse_line,
    pretty_json,
    preview,
)

# -- encode -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "source", "expected"),
    [
        (PayloadMode.TEXT, "héllo ✓", EncodedPayload("héllo ✓".encode(), True)),
        (PayloadMode.TEXT, "", EncodedPayload(b"", True)),
        (PayloadMode.TEXT, "not {json", EncodedPayload(b"not {json", True)),
        # JSON is sent exactly as typed (spacing and key order kept), only validated
        (PayloadMode.JSON, '{ "b": 1,  "a": "é" }', EncodedPayload('{ "b": 1,  "a": "é" }'.encode(), True)),
        (PayloadMode.HEX, "de ad be ef", EncodedPayload(b"\xde\xad\xbe\xef", False)),
        (PayloadMode.BASE64, "3q2+7w==", EncodedPayload(b"\xde\xad\xbe\xef", False)),
    ],
)
def test_encode(mode: PayloadMode, source: str, expected: EncodedPayload) -> None:
    assert encode(mode, source) == expected


@pytest.mark.parametrize("mode", list(PayloadMode))
def test_binary_modes_send_binary_frames(mode: PayloadMode) -> None:
    source = {"Text": "hi", "JSON": "[1]", "Binary (hex)": "00ff", "Binary (base64)": "AP8="}[mode.value]
    assert encode(mode, source).is_text is not mode.is_binary


@pytest.mark.parametrize(
    ("mode", "source"),
    [
        (PayloadMode.JSON, "{"),
        (PayloadMode.JSON, ""),
        (PayloadMode.HEX, "abc"),
        (PayloadMode.HEX, "zz"),
        (PayloadMode.BASE64, "a*b="),
    ],
)
def test_encode_invalid_input_raises_payload_error(mode: PayloadMode, source: str) -> None:
    with pytest.raises(PayloadError):
        encode(mode, source)


# -- JSON -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "line", "column", "words"),
    [
        ('{\n  "a": 1,\n  "b": \n}', 4, 1, "Expecting value"),
        ('{\n  "a": 1\n  "b": 2\n}', 3, 3, "Expecting ',' delimiter"),
        ("[1, 2,]", 1, 7, "Expecting value"),
        ("{'single': 1}", 1, 2, "double quotes"),
    ],
)
def test_json_errors_carry_line_and_column(source: str, line: int, column: int, words: str) -> None:
    with pytest.raises(PayloadError) as info:
        parse_json(source)
    assert (info.value.line, info.value.column) == (line, column)
    assert words in str(info.value)
    assert f"line {line}, column {column}" in str(info.value)


@pytest.mark.parametrize("source", ["", "   ", "\n\t"])
def test_empty_json_is_an_error_without_position(source: str) -> None:
    with pytest.raises(PayloadError, match="JSON is empty") as info:
        parse_json(source)
    assert info.value.line is None
    assert info.value.column is None


def test_deeply_nested_json_is_an_error_not_a_crash() -> None:
    with pytest.raises(PayloadError, match="nested too deeply"):
        parse_json("[" * 100_000 + "]" * 100_000)


@pytest.mark.parametrize("source", ["NaN", "[Infinity]", '{"a": -Infinity}'])
def test_json_mode_rejects_non_standard_constants(source: str) -> None:
    # NaN/Infinity are Python extensions, not JSON (RFC 8259): a peer's JSON parser rejects them.
    with pytest.raises(PayloadError):
        encode(PayloadMode.JSON, source)


def test_parse_json_returns_the_value() -> None:
    assert parse_json(' {"a": [1, 2.5, null, true, "é"]} ') == {"a": [1, 2.5, None, True, "é"]}


def test_pretty_json() -> None:
    assert pretty_json('{"b":[1,2],"a":"é","c":{}}') == (
        '{\n  "b": [\n    1,\n    2\n  ],\n  "a": "é",\n  "c": {}\n}'
    )


def test_pretty_json_of_invalid_json_raises_with_position() -> None:
    with pytest.raises(PayloadError) as info:
        pretty_json('{"a":\n  }')
    assert (info.value.line, info.value.column) == (2, 3)


# -- hex --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "source",
    [
        "deadbeef",
        "DEADBEEF",
        "de ad be ef",
        "de:ad:be:ef",
        "de,ad,be,ef",
        "de, ad, be, ef",
        "de-ad-be-ef",
        "0xde 0xad 0xbe 0xef",
        "0XDE,0XAD,0XBE,0XEF",
        "0xdeadbeef",
        "  de ad\nbe\tef  \n",
    ],
)
def test_parse_hex_accepts_common_notations(source: str) -> None:
    assert parse_hex(source) == b"\xde\xad\xbe\xef"


@pytest.mark.parametrize("source", ["", "   ", "\n"])
def test_parse_hex_of_nothing_is_empty(source: str) -> None:
    assert parse_hex(source) == b""


@pytest.mark.parametrize(("source", "digits"), [("abc", 3), ("de ad b", 5), ("0", 1)])
def test_parse_hex_rejects_odd_digit_count(source: str, digits: int) -> None:
    with pytest.raises(PayloadError, match=rf"Odd number of hex digits \({digits}\)"):
        parse_hex(source)


@pytest.mark.parametrize(
    ("source", "char", "position"),
    [
        ("zz", "z", 1),
        ("12 zz", "z", 4),
        ("de ad bg", "g", 8),
        ("00 11 22 #3", "#", 10),
        ("0x12 x3", "x", 6),  # the stray x, not the x of the valid 0x prefix
    ],
)
def test_parse_hex_rejects_non_hex_with_position(source: str, char: str, position: int) -> None:
    with pytest.raises(PayloadError) as info:
        parse_hex(source)
    assert f"Not a hex digit: {char!r} at position {position}" in str(info.value)
    assert info.value.column == position


# -- base64 -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "data"),
    [
        ("aGVsbG8=", b"hello"),
        ("aGVsbG8", b"hello"),  # missing padding is added
        ("aGk", b"hi"),
        ("aGk=", b"hi"),
        ("", b""),
        ("aGVs\nbG8g\r\nd29y bGQ=", b"hello world"),  # wrapped lines and spaces
        ("+/+/", b"\xfb\xff\xbf"),  # standard alphabet
        ("-_-_", b"\xfb\xff\xbf"),  # URL-safe alphabet gives the same bytes
        ("-_-_AA", b"\xfb\xff\xbf\x00"),  # URL-safe without padding
    ],
)
def test_parse_base64(source: str, data: bytes) -> None:
    assert parse_base64(source) == data


@pytest.mark.parametrize(("source", "char"), [("aGV*bG8=", "*"), ("aGVs.bG8=", "."), ("aGVsbG8=é", "é")])
def test_parse_base64_rejects_invalid_characters(source: str, char: str) -> None:
    with pytest.raises(PayloadError, match=re.escape(f"Not a base64 character: {char!r}")):
        parse_base64(source)


@pytest.mark.parametrize("source", ["QUFBQ", "Q", "QQ==QQ==", "QQ==="])
def test_parse_base64_rejects_impossible_lengths_and_misplaced_padding(source: str) -> None:
    with pytest.raises(PayloadError, match="Invalid base64"):
        parse_base64(source)


# -- decode_text ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "text", "clean"),
    [
        (b"", "", True),
        (b"plain", "plain", True),
        ("héllo ✓ 😀".encode(), "héllo ✓ 😀", True),
        (b"a\xffb", "a\ufffdb", False),
        (b"cut \xc3", "cut \ufffd", False),  # truncated multi-byte sequence
        (b"\xed\xa0\x80", "\ufffd\ufffd\ufffd", False),  # encoded surrogate is not UTF-8
    ],
)
def test_decode_text(payload: bytes, text: str, clean: bool) -> None:
    assert decode_text(payload) == (text, clean)


# -- preview ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "is_text", "limit", "shown"),
    [
        (b"", True, 200, ""),
        (b"", False, 200, ""),
        (b"hello", True, 200, "hello"),
        (b"one\ntwo\r\nthree\rfour", True, 200, "one⏎two⏎three⏎four"),
        (b"a\tb", True, 200, "a b"),
        (b"nul\x00bell\x07esc\x1bdel\x7f", True, 200, "nul·bell·esc·del·"),
        (b"bad \xff byte", True, 200, "bad \ufffd byte"),
        (b"x" * 10, True, 5, "xxxxx…"),
        (b"x" * 5, True, 5, "xxxxx"),
        ("é".encode() * 10, True, 5, "ééééé…"),  # the limit counts characters, not bytes
        (b"\x00\x01\xfe\xff", False, 200, "00 01 fe ff"),
        (bytes(range(100)), False, 30, "00 01 02 03 04 05 06 07 08 09 …"),
        (bytes(range(10)), False, 30, "00 01 02 03 04 05 06 07 08 09"),
        (b"text-as-binary", False, 200, "74 65 78 74 2d 61 73 2d 62 69 6e 61 72 79"),
    ],
)
def test_preview(payload: bytes, is_text: bool, limit: int, shown: str) -> None:
    assert preview(payload, is_text, limit) == shown


def test_preview_is_one_line_even_for_huge_text() -> None:
    shown = preview(b"line\n" * 100_000, True)
    assert "\n" not in shown
    assert len(shown) == 201  # 200 characters and the ellipsis
    assert shown.endswith("…")


# -- hexdump ----------------------------------------------------------------------------------------


def test_hexdump_layout() -> None:
    dump = hexdump(b"Hello, world! 0123456789")
    assert dump.splitlines() == [
        "00000000  48 65 6c 6c 6f 2c 20 77  6f 72 6c 64 21 20 30 31  |Hello, world! 01|",
        "00000010  32 33 34 35 36 37 38 39                           |23456789|",
    ]


def test_hexdump_ascii_column_stays_aligned_and_non_printables_are_dots() -> None:
    data = bytes(range(256))
    lines = hexdump(data).splitlines()
    assert len(lines) == 16
    assert {line.index("|") for line in lines} == {60}
    assert lines[0].endswith("|................|")
    assert lines[2] == "00000020  20 21 22 23 24 25 26 27  28 29 2a 2b 2c 2d 2e 2f  |" + ' !"#$%&\'()*+,-./' + "|"
    assert lines[7].endswith("|pqrstuvwxyz{|}~.|")  # 0x7f is not printable
    assert lines[15].startswith("000000f0  f0 f1")
    # a short last line keeps the column too
    short = hexdump(bytes(range(3)))
    assert short.index("|") == 60
    assert short == "00000000  00 01 02" + " " * 42 + "|...|"


def test_hexdump_empty() -> None:
    assert hexdump(b"") == ""


def test_hexdump_limit_adds_more_bytes_line() -> None:
    lines = hexdump(bytes(range(40)), 20).splitlines()
    assert lines == [
        "00000000  00 01 02 03 04 05 06 07  08 09 0a 0b 0c 0d 0e 0f  |................|",
        "00000010  10 11 12 13" + " " * 39 + "|....|",
        "… 20 more bytes",
    ]


def test_hexdump_more_bytes_uses_thousands_separator() -> None:
    assert hexdump(b"\x00" * 5000, 16).splitlines()[-1] == "… 4,984 more bytes"


@pytest.mark.parametrize("limit", [40, 41, 1000])
def test_hexdump_limit_not_reached_has_no_more_line(limit: int) -> None:
    assert "more bytes" not in hexdump(bytes(range(40)), limit)
    assert hexdump(bytes(range(40)), limit) == hexdump(bytes(range(40)))


# -- human_size -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (0, "0 B"),
        (1, "1 B"),
        (1023, "1023 B"),
        (1024, "1.0 KiB"),
        (1536, "1.5 KiB"),
        (10 * 1024 - 1, "10.0 KiB"),
        (1024 * 1024 - 1, "1.0 MiB"),  # never "1024.0 KiB"
        (1024 * 1024, "1.0 MiB"),
        (64 * 1024 * 1024, "64.0 MiB"),
        (1024**3, "1.0 GiB"),
        (1024**4, "1.0 TiB"),
        (1024**5, "1024.0 TiB"),  # TiB is the largest unit
    ],
)
def test_human_size(n: int, text: str) -> None:
    assert human_size(n) == text


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("hex:00 ff 10", EncodedPayload(b"\x00\xff\x10", False)),
        ("base64:Af8=", EncodedPayload(b"\x01\xff", False)),
        ("base64:", EncodedPayload(b"", False)),
        ("hello there", EncodedPayload(b"hello there", True)),
        ("text:hex:not bytes", EncodedPayload(b"hex:not bytes", True)),
        ("héllo", EncodedPayload("héllo".encode(), True)),
    ],
    ids=["hex", "base64", "empty-base64", "text", "text-prefix-keeps-a-prefix", "utf8"],
)
def test_a_line_says_whether_it_is_bytes(line: str, expected: EncodedPayload) -> None:
    assert parse_line(line) == expected


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("hex:0g", "hex: Not a hex digit: 'g' at position 2"),
        ("hex:abc", "hex: Odd number of hex digits (3): every byte needs two"),
        ("base64:A*", "base64: Not a base64 character: '*'"),
    ],
    ids=["hex-digit", "hex-odd", "base64-char"],
)
def test_a_bad_line_names_its_prefix(line: str, message: str) -> None:
    with pytest.raises(PayloadError) as caught:
        parse_line(line)
    assert str(caught.value) == message
