"""Random, cut and damaged bytes never make a decoder raise: each answers with its decoded form or one line
saying why not, and the registry records no decoder failure (a failure is an exception other than DecodeError)."""

from __future__ import annotations

import random

import pytest

from tests.core.decoders.examples import SPEC_FRAMES
from wsinspector.core.decoders.base import DecodeContext, Decoded, FrameView
from wsinspector.core.decoders.registry import DecoderRegistry, Loaded, decoder_registry

NAMES = ("json", "msgpack", "cbor", "protobuf", "socket.io", "signalr", "stomp", "graphql", "mqtt", "phoenix")


def _samples(name: str, seed: int) -> list[tuple[bytes, bool]]:
    rng = random.Random(seed)
    samples: list[tuple[bytes, bool]] = []
    for _ in range(300):
        size = rng.choice((0, 1, 2, 3, 5, 8, 16, 40, 120))
        samples.append((bytes(rng.getrandbits(8) for _ in range(size)), rng.random() < 0.5))
    alphabet = b'{}[]",:0123456789/\n\x00\x1e\\abcSENDtype-'
    for _ in range(300):
        samples.append((bytes(rng.choice(alphabet) for _ in range(rng.randrange(40))), True))
    own = [(payload, text) for decoder, text, payload, _ in SPEC_FRAMES if decoder == name] or [
        (payload, text) for _, text, payload, _ in SPEC_FRAMES[::5]]
    for payload, text in own:
        samples.extend((payload[:cut], text) for cut in range(len(payload)))  # every truncation
        for _ in range(40):
            damaged = bytearray(payload)
            if damaged:
                damaged[rng.randrange(len(damaged))] ^= 1 << rng.randrange(8)
            samples.append((bytes(damaged), text))
    return samples


@pytest.mark.parametrize("name", NAMES)
def test_no_input_makes_a_decoder_raise(name: str):
    # a fresh registry: problems recorded here are this decoder's alone
    shared = decoder_registry()
    decoder = shared.get(name)
    assert decoder is not None
    registry = DecoderRegistry([Loaded(decoder, shared.origin(name))])
    context = DecodeContext()
    undecoded = 0
    for index, (payload, text) in enumerate(_samples(name, NAMES.index(name))):
        frame = FrameView(payload, text, index % 3 == 0, index)
        registry.sniffed(frame)
        decoded = registry.decode(decoder, frame, context)
        assert isinstance(decoded, Decoded)
        assert decoded.summary and "\n" not in decoded.error
        undecoded += not decoded.ok
    assert registry.problems == []
    assert undecoded > 0  # the samples do reach the decoders' refusals


@pytest.mark.parametrize("name", NAMES)
def test_every_spec_frame_cut_short_in_a_session_is_still_answered(name: str):
    """The same frames decoded as a session (the stateful decoders look at their neighbours)."""
    shared = decoder_registry()
    registry = DecoderRegistry([Loaded(shared.get(name), shared.origin(name))])
    frames = [FrameView(payload[:cut], text, cut % 2 == 0, 0)
              for decoder, text, payload, _ in SPEC_FRAMES for cut in (len(payload) // 2, len(payload))]
    frames = [FrameView(f.payload, f.text, f.outgoing, index) for index, f in enumerate(frames)]

    class Session(DecodeContext):
        def frame(self, index: int) -> FrameView | None:
            return frames[index] if 0 <= index < len(frames) else None

    context = Session()
    for frame in reversed(frames):  # out of order, as a view scrolled upwards asks
        registry.decode(registry.get(name), frame, context)
    assert registry.problems == []
