"""The detail pane: everything about one frame, with its payload as text, JSON tree and hex dump, and the message
as its connection's decoder reads it."""

from __future__ import annotations

import html
import json
from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from wsinspector.core.decoders.base import Decoded
from wsinspector.core.frames import Direction, Frame, Opcode, describe_close_code
from wsinspector.core.payloads import decode_text, hexdump, human_size
from wsinspector.core.session import Session
from wsinspector.core.words import counted
from wsinspector.ui import palette
from wsinspector.ui.decoded_tab import DecodedTab, fill_json_tree, json_tree
from wsinspector.ui.qtext import set_plain_text
from wsinspector.ui.timeline import DAMAGED_LABEL

TEXT_LIMIT = 256 * 1024
HEX_LIMIT = 64 * 1024


def _flag(value: bool | None) -> str:
    return "unknown" if value is None else ("1" if value else "0")


class DetailPane(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("detail")
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self.summary = QLabel("Select a frame to see its details")
        self.summary.setObjectName("detailSummary")
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(self.summary.textInteractionFlags().TextSelectableByMouse)
        self.whole_message = QCheckBox("Whole message")
        self.whole_message.setToolTip("For a fragmented message, show all of its frames' data together")
        self.whole_message.setChecked(True)
        self.whole_message.setVisible(False)
        self.whole_message.toggled.connect(self._refresh)

        self.text = QPlainTextEdit(readOnly=True)
        self.text.setObjectName("detailText")
        self.text.setFont(mono)
        self.tree = json_tree()
        self.tree.setObjectName("detailJson")
        self.json_error = QLabel()
        self.json_error.setObjectName("detailJsonError")
        self.json_error.setWordWrap(True)
        self.json_error.setTextFormat(Qt.TextFormat.PlainText)
        self.json_error.hide()
        json_page = QWidget()
        json_layout = QVBoxLayout(json_page)
        json_layout.setContentsMargins(0, 0, 0, 0)
        json_layout.addWidget(self.json_error)
        json_layout.addWidget(self.tree)
        self.hex = QPlainTextEdit(readOnly=True)
        self.hex.setObjectName("detailHex")
        self.hex.setFont(mono)
        self.hex.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)

        self.tabs = QTabWidget()
        self.tabs.addTab(self.text, "Text")
        self.tabs.addTab(json_page, "JSON")
        self.tabs.addTab(self.hex, "Hex")
        self.decoded = DecodedTab()
        self.decoded.setObjectName("detailDecodedTab")
        self.tabs.addTab(self.decoded, "Decoded")
        #: the message completed by a frame, decoded (the tab's TabDecoding); None: nothing is decoded
        self.decoder: Callable[[int], Decoded | None] | None = None
        #: why nothing is decoded when the decoder gives nothing for a data message
        self.no_decoder = "No decoder reads this connection's messages: choose one in its settings (Decoding)"

        top = QHBoxLayout()
        top.addWidget(self.summary, 1)
        top.addWidget(self.whole_message)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.tabs)
        self._frame: Frame | None = None
        self._log: Session | None = None

    @property
    def frame(self) -> Frame | None:
        return self._frame

    @property
    def log(self) -> Session | None:
        return self._log

    def show_frame(self, frame: Frame | None, log: Session | None) -> None:
        self._frame, self._log = frame, log
        self._refresh()

    def _refresh(self) -> None:
        frame, log = self._frame, self._log
        if frame is None:
            self.summary.setText("Select a frame to see its details")
            self.whole_message.setVisible(False)
            for widget in (self.text, self.hex):
                widget.clear()
            self.tree.clear()
            self._set_json_error("")
            self.decoded.clear()
            return
        message = log.message_for(frame.seq) if log is not None else None
        fragmented = message is not None and message.frame_count > 1
        self.whole_message.setVisible(fragmented)
        payload = frame.payload
        scope = "frame"
        if fragmented and message is not None and self.whole_message.isChecked():
            payload = message.payload
            scope = f"message of frames #{message.first_seq}–#{message.last_seq}"
        self.summary.setText(self._summary(frame, log, scope, len(payload)))
        self._show_text(frame, payload)
        self._show_json(payload)
        self._show_decoded(frame, message.last_seq if message is not None else frame.seq)
        self.hex.setPlainText(hexdump(payload, HEX_LIMIT) if payload else "(empty payload)")

    def _summary(self, frame: Frame, log: Session | None, scope: str, shown: int) -> str:
        when = f"{log.relative_us(frame) / 1e6:.6f} s" if log is not None else ""
        parts = [
            f"<b>#{frame.seq}</b> {frame.direction.arrow} <b>{DAMAGED_LABEL if frame.damaged else frame.opcode.label}"
            f"</b> at {when}",
            f"FIN {_flag(frame.fin)} · RSV1 {_flag(frame.rsv1)} RSV2 {_flag(frame.rsv2)} RSV3 {_flag(frame.rsv3)}"
            f" · masked {_flag(frame.masked)}"
            + (f" · key {frame.mask_key.hex()}" if frame.mask_key else "")
            + _lengths(frame),
            f"Showing the {scope}: {counted(shown, 'byte')} ({human_size(shown)})",
        ]
        if frame.opcode is Opcode.CLOSE:
            reason = frame.close_reason
            parts.insert(1, f"Close code <b>{describe_close_code(frame.close_code)}</b>"
                            + (f", reason “{html.escape(reason)}”" if reason else ", no reason"))
        if frame.damaged:
            colour = palette.colour("error")
            parts.insert(1, f'<b style="color:{colour}">{html.escape(frame.note)}</b>')
        elif frame.note:
            parts.append(f"<i>{html.escape(frame.note)}</i>")
        return "<br>".join(parts)

    def _show_text(self, frame: Frame, payload: bytes) -> None:
        if frame.opcode is Opcode.CLOSE:
            payload = payload[2:]
        text, clean = decode_text(payload[:TEXT_LIMIT])
        if not payload:
            text = "(empty payload)"
        elif not clean:
            text = "[not valid UTF-8: invalid bytes shown as �; see Hex]\n" + text
        if len(payload) > TEXT_LIMIT:
            text += f"\n… {len(payload) - TEXT_LIMIT:,} more bytes (see Hex or export)"
        set_plain_text(self.text, text)

    def _show_json(self, payload: bytes) -> None:
        self.tree.clear()
        if not payload:
            self._set_json_error("Empty payload")
            return
        value, why_not = _json_of(payload)
        self._set_json_error(why_not)
        if not why_not:
            fill_json_tree(self.tree, value)

    def _show_decoded(self, frame: Frame, last_seq: int) -> None:
        if frame.opcode.is_control:
            self.decoded.show_decoded(None, "Control frames are not decoded: the Text and Hex tabs show them")
            return
        if frame.damaged:
            self.decoded.show_decoded(None, "This frame is damaged in the file: it is not decoded")
            return
        if frame.fin is False and last_seq == frame.seq:
            self.decoded.show_decoded(None, "This frame is part of a message that is not complete yet: it is "
                                            "decoded once its last frame comes")
            return
        decoded = self.decoder(last_seq) if self.decoder is not None else None
        self.decoded.show_decoded(decoded, self.no_decoder)

    def _set_json_error(self, text: str) -> None:
        self.json_error.setText(text)
        self.json_error.setVisible(bool(text))


def _json_of(payload: bytes) -> tuple[object, str]:
    """The payload's JSON value, or why it is not JSON in one line ("Not JSON: …")."""
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, f"Not JSON: not UTF-8 text (byte {exc.start} is 0x{payload[exc.start]:02x}); see Hex or Decoded"
    try:
        return json.loads(text), ""
    except json.JSONDecodeError as exc:
        return None, f"Not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
    except RecursionError:
        return None, "Not JSON: nested too deeply to read"


def _lengths(frame: Frame) -> str:
    """The payload length on the wire and, for a compressed frame, what it decompressed to."""
    wire = frame.payload_length
    if wire is None:
        return " · length unknown"
    if frame.note.startswith("rejected"):
        return f" · length {wire:,}"
    if wire != len(frame.payload) or frame.rsv1:  # RSV1 marks a compressed message (permessage-deflate)
        plain = "before compression" if frame.direction is Direction.OUT else "decompressed"
        return f" · {counted(wire, 'byte')} on the wire, compressed; {len(frame.payload):,} {plain}"
    return f" · length {wire:,}"
