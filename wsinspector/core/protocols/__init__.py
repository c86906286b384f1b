"""Speaking what runs on top of WebSocket: a Qt-free session object per protocol (Socket.IO, STOMP, GraphQL,
MQTT, SignalR, Phoenix) that does the protocol's housekeeping and offers its verbs. Sans-I/O, like core/wire:
the caller hands over what arrived and the time, and sends what it is given back."""
