"""A wsinspector decoder for frames such as ``op=move;x=3;y=4``."""

from wsinspector.core.decoders.base import DecodeContext, Decoded, DecodeError, Decoder, FrameView


class KeyValueDecoder(Decoder):
    name = "kv"
    title = "Key=value pairs"
    priority = 50
    subprotocols = ("kv.v1",)
    url_patterns = (r"/kv(\?|$)",)

    def sniff(self, frame: FrameView) -> bool:
        return frame.text and frame.payload.startswith(b"op=")

    def decode(self, frame: FrameView, context: DecodeContext) -> Decoded:
        pairs = {}
        for part in frame.as_text().split(";"):
            key, eq, value = part.partition("=")
            if not eq:
                raise DecodeError(f"{part!r} is not key=value")
            pairs[key] = value
        return Decoded(self.name, f"{pairs.get('op', '?')} {len(pairs) - 1} values", pairs,
                       {"type": pairs.get("op", "")})
