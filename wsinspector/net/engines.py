"""Choosing a connection engine by the name a profile stores."""

from __future__ import annotations

from PySide6.QtCore import QObject

from wsinspector.core.profiles import ENGINE_QT, ENGINE_WIRE
from wsinspector.core.wire.sinks import FrameSink, WholeInSink
from wsinspector.net.client import QtConnection
from wsinspector.net.wire import WireConnection

Connection = QtConnection | WireConnection


def make_connection(engine: str, parent: QObject | None = None, sink: FrameSink | None = None,
                    whole_in: WholeInSink | None = None) -> Connection:
    if engine == ENGINE_WIRE:
        return WireConnection(parent, sink=sink, whole_in=whole_in)
    if engine == ENGINE_QT:
        return QtConnection(parent, sink=sink, whole_in=whole_in)
    raise ValueError(f"unknown engine {engine!r}")
