"""The notes the Wire engine puts on frames: why a frame was refused, left unanswered or sent as it was."""

from __future__ import annotations

__all__ = ["FORBIDDEN_CLOSE_OUT", "INVALID_TEXT_CUT", "INVALID_TEXT_IN", "INVALID_TEXT_OUT", "NO_PONG",
           "UNSOLICITED_PONG_OUT"]

#: a ping left unanswered
NO_PONG = "not answered: automatic pongs are off for this connection"
INVALID_TEXT_IN = "not valid UTF-8: the connection is failed with 1007"
#: a text frame failed before the rest of it came: the bytes shown are the ones that had arrived
INVALID_TEXT_CUT = ("not valid UTF-8 in its first {got} of {length} bytes: the connection is failed with 1007 "
                    "without waiting for the rest")
#: notes on frames a user sent on purpose to test the peer (Faults menu)
INVALID_TEXT_OUT = "deliberately not valid UTF-8 (Faults ▸ Send the bytes as a text frame)"
UNSOLICITED_PONG_OUT = "sent by hand (Faults ▸ Send an unsolicited pong)"
FORBIDDEN_CLOSE_OUT = "deliberately a code RFC 6455 forbids on the wire (Faults ▸ Close with this code, unchecked)"
