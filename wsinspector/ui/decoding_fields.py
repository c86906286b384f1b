"""The connection dialog's Decoding tab: which decoder reads the connection's messages ("Automatic" or one of the
registry's, core/decoders) and a protobuf schema (a descriptor set and its message type), saved in the profile's
``decoding`` record."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QFormLayout, QLabel, QLineEdit, QPlainTextEdit, QWidget

from wsinspector.core.decoders.base import DecodeError
from wsinspector.core.decoders.registry import decoder_registry
from wsinspector.core.profiles import Decoding
from wsinspector.core.protocols.registry import MODE_AUTO, MODE_OFF, SESSIONS
from wsinspector.ui.fields import FieldWidget, PathEdit

AUTOMATIC = "Automatic"
#: the options this tab edits; any other option of the record is kept as it was
_SCHEMA_OPTIONS = ("descriptors", "message")


class DecodingFields(QWidget):
    """The decoder choice and the protobuf schema fields."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        registry = decoder_registry()
        self.decoder = QComboBox()
        self.decoder.setObjectName("decoderChoice")
        self.decoder.addItem(AUTOMATIC, "")
        for name in sorted(registry.names()):
            decoder = registry.get(name)
            title = decoder.title if decoder is not None and decoder.title else name
            self.decoder.addItem(f"{title} ({name})" if title != name else name, name)
        self.decoder.setToolTip("Automatic: the decoder of the negotiated subprotocol, else of the URL, else the "
                                "first that recognises the connection's first messages")
        self.descriptors = PathEdit("A descriptor set (protoc --include_imports --descriptor_set_out=FILE x.proto)")
        self.descriptors.setObjectName("protobufDescriptors")
        self.message = QLineEdit()
        self.message.setObjectName("protobufMessage")
        self.message.setPlaceholderText("The message type each frame holds, e.g. demo.Tick")
        note = QLabel("Decoding is a view: it never changes what is recorded. With a descriptor set and a message "
                      "type, protobuf frames show named fields; without, their field numbers and wire types. A "
                      "protocol mode speaks the protocol: it answers the server's pings and heart-beats, and what "
                      "it sends is recorded like the rest.")
        note.setWordWrap(True)
        note.setStyleSheet("color: palette(mid);")
        self.mode = QComboBox()
        self.mode.setObjectName("protocolMode")
        self.mode.addItem("Off: the messages are sent as written", MODE_OFF)
        self.mode.addItem("Automatic: the decoder's protocol", MODE_AUTO)
        for name, session in SESSIONS.items():
            self.mode.addItem(f"{session.title} ({name})", name)
        self.mode.setToolTip("A protocol mode answers the protocol's pings and heart-beats by itself (Engine.IO "
                             "pongs, STOMP heart-beats, MQTT PINGREQ…) and gives the connection its verbs")
        self.mode_options = QPlainTextEdit()
        self.mode_options.setObjectName("protocolOptions")
        self.mode_options.setPlaceholderText("name=value, one a line: namespace=/admin, keep_alive=30, "
                                             "heart_beat=10000,10000, password={{secret variable}}")
        self.mode_options.setMaximumHeight(80)
        form = QFormLayout(self)
        form.addRow("Decoder", self.decoder)
        form.addRow("Protobuf descriptor set", self.descriptors)
        form.addRow("Protobuf message type", self.message)
        form.addRow("Protocol mode", self.mode)
        form.addRow("Protocol options", self.mode_options)
        form.addRow(note)
        self._other_options: tuple[tuple[str, str], ...] = ()
        problems = registry.problems
        if problems:
            trouble = QLabel("\n".join(problems))
            trouble.setWordWrap(True)
            form.addRow("Not loaded", trouble)

    def _read_decoder(self) -> object:
        return str(self.decoder.currentData() or "")

    def _write_decoder(self, value: object) -> None:
        name = "" if value in ("", "auto", None) else str(value)
        index = self.decoder.findData(name)
        if index < 0:  # a decoder this installation lacks: kept, and said
            self.decoder.addItem(f"{name} (not installed)", name)
            index = self.decoder.count() - 1
        self.decoder.setCurrentIndex(index)

    def _read_options(self) -> object:
        schema = (("descriptors", self.descriptors.edit.text().strip()), ("message", self.message.text().strip()))
        return tuple((name, value) for name, value in schema if value) + self._other_options

    def _write_options(self, value: object) -> None:
        pairs = [(str(k), str(v)) for k, v in value] if isinstance(value, tuple) else []
        given = dict(pairs)
        self.descriptors.edit.setText(given.get("descriptors", ""))
        self.message.setText(given.get("message", ""))
        self._other_options = tuple((k, v) for k, v in pairs if k not in _SCHEMA_OPTIONS)

    def _read_mode(self) -> object:
        return str(self.mode.currentData() or "")

    def _write_mode(self, value: object) -> None:
        index = self.mode.findData(str(value))
        if index < 0:  # a mode this version does not speak: kept, and said
            self.mode.addItem(f"{value} (unknown)", str(value))
            index = self.mode.count() - 1
        self.mode.setCurrentIndex(index)

    def _read_mode_options(self) -> object:
        pairs = []
        for line in self.mode_options.toPlainText().splitlines():
            name, _, value = line.partition("=")
            if name.strip():
                pairs.append((name.strip(), value.strip()))
        return tuple(pairs)

    def _write_mode_options(self, value: object) -> None:
        pairs = [(str(k), str(v)) for k, v in value] if isinstance(value, tuple) else []
        self.mode_options.setPlainText("\n".join(f"{name}={item}" for name, item in pairs))

    def field_widgets(self) -> dict[str, FieldWidget]:
        return {"decoder": FieldWidget(self._read_decoder, self._write_decoder),
                "options": FieldWidget(self._read_options, self._write_options),
                "mode": FieldWidget(self._read_mode, self._write_mode),
                "mode_options": FieldWidget(self._read_mode_options, self._write_mode_options)}

    def problem(self) -> str:
        """Why the decoding as set cannot be used (a schema that does not load), in one line; "" when it can."""
        setting = Decoding(str(self._read_decoder()), self._read_options())  # type: ignore[arg-type]
        options = dict(setting.options)
        if not options:
            return ""
        if not setting.decoder:
            return "Decoding: a protobuf schema is used by the protobuf decoder: choose it as the decoder"
        registry = decoder_registry()
        decoder = registry.get(setting.decoder)
        if decoder is None:
            return f"No decoder is called {setting.decoder!r}"
        configure = getattr(decoder, "with_options", None)
        if configure is None:
            return f"The {decoder.name} decoder takes no options: clear the protobuf fields or choose protobuf"
        try:
            configure(options)
        except DecodeError as exc:
            return f"Decoding: {exc}"
        except OSError as exc:
            return f"Decoding: cannot read the descriptor set ({exc.strerror or exc})"
        return ""
