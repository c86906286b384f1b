"""Names the dead-code check (tests/test_quality.py) cannot see used: libraries call them by name.

Each entry is read by vulture, never run.
"""

from typing import Any

_: Any = None

#: overrides of Qt's virtual methods: events and event filters, and the item model interface views call
qt_overrides = (
    _.changeEvent,
    _.closeEvent,
    _.eventFilter,
    _.hideEvent,
    _.resizeEvent,
    _.showEvent,
    _.minimumSizeHint,
    _.sizeHint,
    _.columnCount,
    _.data,
    _.multiData,
    _.flags,
    _.headerData,
    _.rowCount,
    _.setData,
    _.mimeTypes,
    _.supportedDragActions,
    _.supportedDropActions,
    _.insertFromMimeData,
    _.createMimeDataFromSelection,
    _.contextMenuEvent,
)

#: sqlite3 calls a connection's text_factory for every TEXT value it reads (core/store.py)
sqlite_hooks = (_.text_factory,)

#: PyYAML calls Dumper.increase_indent with this keyword (core/scenario/yaml_io.py)
yaml_keywords = (_.indentless,)

#: the connection records' slots for settings still to come (proxy and authentication): serialised, kept on a
#: round trip and shown to nothing yet (core/profiles.py Settings)
connection_record_slots = (_.proxy, _.auth)

#: the built-in decoders, which importlib.metadata loads by the names pyproject.toml gives them in the
#: wsinspector.decoders entry point group (core/decoders/registry.py)
decoder_entry_points = (_.JsonDecoder, _.MsgpackDecoder, _.CborDecoder, _.GraphQlDecoder, _.MqttDecoder,
                        _.PhoenixDecoder, _.SignalRDecoder, _.SocketIoDecoder, _.StompDecoder)

#: the fields of a style option a delegate paints from, which Qt reads (ui/timeline_paint.py)
style_option_fields = (_.features,)

#: keyring reads a backend class's viability when it looks for backends itself (app/secret_service.py)
keyring_backend_attributes = (_.viable,)
