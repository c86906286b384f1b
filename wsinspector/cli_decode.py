"""``wsinspector decode``: frames from standard input, decoded, as JSON lines on standard output.

Each input line is one whole message:

- ``text`` as it is (the line's end is not part of it);
- ``hex:48656c6c6f`` or ``base64:SGVsbG8=`` a binary message;
- ``json:"CONNECT\\naccept-version:1.2\\n\\n\\u0000"`` a text message written as a JSON string (for text with line
  breaks or NULs);

optionally after a direction, ``>`` (sent by the client) or ``<`` (received; the default) and one space.
A blank line is skipped. Each output line is a JSON object: ``line``, ``direction``, ``kind`` (text or binary),
``protocol`` (the decoder that read it, or null when none recognises it), ``summary``, and either ``fields`` and
``tree`` or ``error`` (one line saying why it does not decode).

The decoder is ``--protocol`` when given, else the one the ``--subprotocol`` or ``--url`` points to, else the
first that recognises a frame (kept for the following ones). ``--filter`` prints only the messages whose decoded
form matches (core/decoders/filters.py; a message that does not decode is printed all the same). Exit status: 0
when every line decoded, 1 when one did not (each such line has its ``error``), 2 for a usage error (an unknown
protocol, a bad ``--option`` or ``--filter``).
"""

from __future__ import annotations

import argparse
import base64
import binascii
import json
import sys
from typing import TYPE_CHECKING, Any, BinaryIO, TextIO

from wsinspector.cli_output import err

if TYPE_CHECKING:
    from wsinspector.core.decoders.base import Decoder
    from wsinspector.core.decoders.filters import DecodedFilter
    from wsinspector.core.decoders.registry import DecoderRegistry

EXIT_OK = 0
EXIT_UNDECODED = 1
EXIT_USAGE = 2


def add_parser(sub: Any) -> None:
    parser = sub.add_parser("decode", help="decode frames read from standard input (one per line: text, or "
                            "hex:/base64:/json: prefixed; > or < for the direction) and print each as JSON",
                            description=(__doc__ or "").split("\n\n", 1)[1],
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--protocol", metavar="NAME", default="",
                        help="the decoder to use (--list names them; default: detect)")
    parser.add_argument("--subprotocol", metavar="S", default="", help="the negotiated subprotocol, for detection")
    parser.add_argument("--url", metavar="U", default="", help="the connection's URL, for detection")
    parser.add_argument("--option", metavar="KEY=VALUE", action="append", default=[],
                        help="an option of the decoder (protobuf: descriptors=FILE.desc, message=pkg.Type)")
    parser.add_argument("--filter", metavar="EXPR", action="append", default=[],
                        help="print only the messages whose decoded form matches: a field (event=chat, "
                             "topic=a/b, destination=/topic/x, operation=1, event~part) or a JSON path "
                             "($.socketio.args[0].user = \"ann\"); several must all match")
    parser.add_argument("--list", action="store_true", help="list the installed decoders and exit")


def _err(message: str) -> None:
    err(f"decode: {message}")


def read_line(raw: bytes) -> tuple[bool, bytes, bool] | str:
    """(outgoing, payload, is_text) of one input line, or a sentence saying why it cannot be read."""
    line = raw.rstrip(b"\r\n")
    outgoing = False
    if line[:1] in (b">", b"<"):
        outgoing = line[:1] == b">"
        line = line[2:] if line[1:2] == b" " else line[1:]
    try:
        if line.startswith(b"hex:"):
            return outgoing, bytes.fromhex(line[4:].decode("ascii")), False
        if line.startswith(b"base64:"):
            return outgoing, base64.b64decode(line[7:], validate=True), False
        if line.startswith(b"json:"):
            text = json.loads(line[5:])
            if not isinstance(text, str):
                return "json: must be followed by a JSON string"
            return outgoing, text.encode("utf-8", "surrogatepass"), True
    except (ValueError, binascii.Error, UnicodeError) as exc:
        prefix = line.split(b":", 1)[0].decode()
        return f"the {prefix}: payload cannot be read ({' '.join(str(exc).split())})"
    return outgoing, line, True


def _options(pairs: list[str]) -> dict[str, str] | str:
    options: dict[str, str] = {}
    for option in pairs:
        key, eq, value = option.partition("=")
        if not eq or not key:
            return f"--option {option!r}: write KEY=VALUE"
        options[key] = value
    return options


def run_decode(args: argparse.Namespace, stdin: BinaryIO | None = None, stdout: TextIO | None = None) -> int:
    from wsinspector.core.decoders.base import DecodeError
    from wsinspector.core.decoders.filters import DecodedFilterError, parse_decoded_filter
    from wsinspector.core.decoders.registry import configured, decoder_registry

    registry = decoder_registry()
    out = stdout or sys.stdout
    for problem in registry.problems:
        _err(problem)
    if args.list:
        for name in registry.names():
            decoder = registry.get(name)
            assert decoder is not None
            out.write(f"{name}\t{decoder.title}\t{registry.origin(name)}\n")
        return EXIT_OK
    options = _options(args.option)
    if isinstance(options, str):
        _err(options)
        return EXIT_USAGE
    try:
        conditions = [parse_decoded_filter(text) for text in args.filter]
    except DecodedFilterError as exc:
        _err(f"--filter: {exc}")
        return EXIT_USAGE
    try:
        chosen = registry.choose(override=args.protocol, subprotocol=args.subprotocol, url=args.url)
        decoder = configured(chosen, options) if chosen is not None else None
    except (KeyError, DecodeError) as exc:
        _err(str(exc.args[0] if exc.args else exc))
        return EXIT_USAGE
    if options and chosen is None:
        _err("--option needs --protocol (the decoder the options are for)")
        return EXIT_USAGE
    return _decode_lines(registry, decoder, stdin or sys.stdin.buffer, out, conditions)


def _decode_lines(registry: DecoderRegistry, decoder: Decoder | None, stdin: BinaryIO, out: TextIO,
                  conditions: list[DecodedFilter]) -> int:
    from wsinspector.core.decoders.base import FrameView
    from wsinspector.core.decoders.session import SessionContext

    frames: list[FrameView] = []
    context = SessionContext(lambda index: frames[index] if index < len(frames) else None)
    status = EXIT_OK
    reported = len(registry.problems)
    for number, raw in enumerate(stdin, 1):
        if not raw.strip(b"\r\n"):
            continue
        read = read_line(raw)
        result: dict[str, Any] = {"line": number}
        if isinstance(read, str):
            result.update(protocol=None, error=read)
        else:
            outgoing, payload, text = read
            frame = FrameView(payload, text, outgoing, len(frames))
            frames.append(frame)
            result.update(direction="out" if outgoing else "in", kind="text" if text else "binary")
            decoder = decoder or registry.sniffed(frame)
            if decoder is None:
                result.update(protocol=None, error="no decoder recognises this frame")
            else:
                decoded = registry.decode(decoder, frame, context)
                result.update(decoded.as_json())
                if decoded.ok and not all(condition.matches(decoded) for condition in conditions):
                    continue  # a line that does not decode is shown whatever the filter: it might have matched
        if "error" in result:
            status = EXIT_UNDECODED
        out.write(json.dumps(result, ensure_ascii=False) + "\n")
        out.flush()
        for problem in registry.problems[reported:]:
            _err(problem)
        reported = len(registry.problems)
    return status
