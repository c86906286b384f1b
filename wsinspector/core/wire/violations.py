"""What a peer did wrong, in words: the sentence a protocol failure gives for the frame the engine refused.

The protocol library says *that* a frame broke the protocol ("invalid status code", "reserved bits must be
0"); a verdict has to say *what* the peer sent. :func:`describe_violation` names the frame (its opcode, the
close code it carried, the bits it set) and the rule it broke.
"""

from __future__ import annotations

from websockets.exceptions import ProtocolError

from wsinspector.core.wire.head import Head

__all__ = ["describe_violation"]

_NAMES = {0x0: "continuation", 0x1: "text", 0x2: "binary", 0x8: "close", 0x9: "ping", 0xA: "pong"}


def _frame(b0: int, masked: bool = False) -> str:
    """``a text frame``, ``a masked close frame``, ``a frame with the reserved opcode 0x3``."""
    opcode = b0 & 0x0F
    name = _NAMES.get(opcode)
    if name is None:
        return f"a frame with the reserved opcode 0x{opcode:x}"
    if masked:
        return f"a masked {name} frame"
    return f"an {name} frame" if name[0] in "aeiou" else f"a {name} frame"


def _rsv_bits(b0: int) -> str:
    bits = [name for name, bit in (("RSV1", 0x40), ("RSV2", 0x20), ("RSV3", 0x10)) if b0 & bit]
    return " and ".join(bits) or "a reserved bit"


def _close_rule(payload: bytes | None, message: str) -> str:
    if payload is not None and len(payload) == 1:
        return "a close frame with a 1-byte body (a close body is empty, or a 2-byte code and a reason)"
    if payload is not None and len(payload) >= 2 and "status code" in message:
        code = int.from_bytes(payload[:2], "big")
        return f"a close frame with the code {code}, which RFC 6455 does not allow on the wire"
    return f"a close frame that is not valid ({message})"


def describe_violation(exc: ProtocolError, head: Head | None, close_payload: bytes | None,
                       peer: str = "the server") -> str:
    """``the server sent …``: the frame at ``head`` (None: not known) and the rule ``exc`` says it broke;
    ``close_payload``: the body of the close frame refused, when that was one."""
    message = str(exc)
    if head is None:
        return f"{peer} broke the protocol: {message}"
    b0, masked, _key, length, _size = head
    opcode = b0 & 0x0F
    if message == "incorrect masking":
        what = f"{_frame(b0, masked=True)} (a server must not mask its frames)" if masked else (
            f"{_frame(b0)} without a mask (a client must mask its frames)")
    elif message == "invalid opcode":
        what = _frame(b0)
    elif message == "reserved bits must be 0":
        what = f"{_frame(b0)} with {_rsv_bits(b0)} set, which no negotiated extension allows"
    elif message == "control frame too long":
        what = f"{_frame(b0)} of {length:,} bytes (a control frame holds at most 125)"
    elif message == "fragmented control frame":
        what = f"{_frame(b0)} without FIN (control frames cannot be fragmented)"
    elif message == "unexpected continuation frame":
        what = "a continuation frame while no fragmented message was under way"
    elif message == "expected a continuation frame":
        what = f"{_frame(b0)} in the middle of a fragmented message (a continuation frame was due)"
    elif opcode == 0x8:
        what = _close_rule(close_payload, message)
    else:
        what = f"{_frame(b0)} that breaks the protocol ({message})"
    return f"{peer} sent {what}"
