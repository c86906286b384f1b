"""A decoder with a bug: it claims every frame starting with "!" and then fails on it."""

from wsinspector.core.decoders.base import DecodeContext, Decoded, Decoder, FrameView


class CrashingDecoder(Decoder):
    name = "crashing"
    title = "Crashes"
    priority = 100

    def sniff(self, frame: FrameView) -> bool:
        return frame.payload.startswith(b"!")

    def decode(self, frame: FrameView, context: DecodeContext) -> Decoded:
        return {"not": "a Decoded"}[frame.payload.decode()]
