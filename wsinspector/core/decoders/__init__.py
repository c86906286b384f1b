"""Decoders: what runs on top of WebSocket (Socket.IO, SignalR, STOMP, GraphQL, MQTT, Phoenix) and the binary
formats (msgpack, CBOR, protobuf, JSON), read from a frame's bytes as a view; the recording never changes.

The package is imported only when something is decoded, never at start-up (see ``registry.py``)."""
