"""A tab's session read through its decoder: what the timeline's Protocol and Decoded columns, the detail pane's
Decoded tab and the decoded filters show.

Decoding is a view (core/decoders): a message is decoded when a row showing it is painted or it is selected, never
while frames arrive; :class:`TabDecoding` holds the session's :class:`SessionDecoding`, made again when the
connection's decoding setting, its URL or negotiated subprotocol, or the session changes."""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterator

from PySide6.QtCore import QObject, Signal

from wsinspector.app.tasks import ChunkedTask
from wsinspector.core.decoders.base import Decoded
from wsinspector.core.decoders.filters import DecodedFilter
from wsinspector.core.decoders.registry import decoder_registry
from wsinspector.core.decoders.session import SNIFF_FRAMES, SessionDecoding, session_source
from wsinspector.core.filters import FrameFilter
from wsinspector.core.frames import Opcode
from wsinspector.core.model import header
from wsinspector.core.profiles import Decoding
from wsinspector.core.session import Session
from wsinspector.ui.message_view import MessageRows, message_end

#: decoders whose rows say no more than the preview does: their columns are not shown by themselves
PLAIN_DECODERS = frozenset({"json"})
#: frames a decoded filter reads per step (a step is a few milliseconds of decoding)
FILTER_STEP = 500
#: how far before the newest frame decoded forms are read again as frames arrive (a Socket.IO event before its
#: binary attachments, an MQTT packet spread over frames)
_SETTLING = 64


#: the longest decoded line a cell shows (its tool tip has it all)
SUMMARY_CHARS = 200


def decoded_cell(decoding: TabDecoding | None, rows: MessageRows, source: Session, seq: int, protocol: bool,
                 tip: bool = False) -> str:
    """The Protocol (``protocol``) or Decoded cell of the row of ``seq`` ("" when its frame is not decoded: a
    control frame, a fragment before its message's last); ``tip``: the Decoded cell's whole line."""
    if decoding is None:
        return ""
    decoded = decoding.decoded(message_end(rows, source, seq))
    if decoded is None:
        return ""
    if protocol:
        return "" if decoded.error and decoded.protocol == "none" else decoded.protocol
    # a decoder chosen in the settings that cannot read the session as set says why, on every row
    summary = decoded.error if decoded.protocol == "none" else decoded.summary
    return summary if tip or len(summary) <= SUMMARY_CHARS else summary[: SUMMARY_CHARS - 1] + "…"


class TabDecoding(QObject):
    """The decoded form of what a tab shows.

    Signals:
        changed(): another decoder reads the session now (or none): decoded cells and the detail pane are shown
            again
    """

    changed = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._session: Session | None = None
        self._setting = Decoding()
        self._url = ""
        self._subprotocol = ""
        self._decoding: SessionDecoding | None = None
        #: frames the session held when its decoder was chosen by its first frames (None: not chosen yet)
        self._chosen_with: int | None = None
        self._newest = -1

    # -- what is decoded, and how ------------------------------------------------------------------------

    def set_session(self, session: Session | None, url: str = "", subprotocol: str = "") -> None:
        self._session, self._url, self._subprotocol = session, url, subprotocol
        self._renew()

    def set_setting(self, setting: Decoding) -> None:
        """The connection's decoding setting (its decoder and options); a change decodes the session again."""
        if setting != self._setting:
            self._setting = setting
            self._renew()

    def set_endpoint(self, url: str, subprotocol: str) -> None:
        """What the handshake settled: the URL connected to and the subprotocol the server chose."""
        if (url, subprotocol) != (self._url, self._subprotocol):
            self._url, self._subprotocol = url, subprotocol
            self._renew()

    def _make(self, cache_size: int | None = None) -> SessionDecoding | None:
        if self._session is None:
            return None
        extra = {} if cache_size is None else {"cache_size": cache_size}
        return SessionDecoding(decoder_registry(), session_source(self._session), override=self._setting.decoder,
                               subprotocol=self._subprotocol, url=self._url, options=dict(self._setting.options),
                               **extra)

    def _renew(self) -> None:
        self._decoding = self._make()
        self._chosen_with = None
        self._newest = -1
        self.changed.emit()

    @property
    def decoder_name(self) -> str:
        """The decoder reading the session ("" when none does)."""
        decoding = self._decoding
        if decoding is None:
            return ""
        if self._chosen_with is None and self._session is not None:
            self._chosen_with = len(self._session)
        decoder = decoding.decoder
        return decoder.name if decoder is not None else ""

    @property
    def problem(self) -> str:
        """Why the connection's chosen decoder cannot read it as set (an unknown name, a bad option), or ""."""
        if self._decoding is None:
            return ""
        self.decoder_name  # noqa: B018  (the choice is made, and its problem found, when first asked)
        return self._decoding.problem

    @property
    def applies(self) -> bool:
        """Whether the decoded columns say more than the preview: a protocol or binary decoder reads the session,
        or the connection names its decoder (whose reading, or why it cannot read, they show)."""
        chosen = self._setting.decoder not in ("", "auto")  # the user named one: its reading is shown
        return chosen or bool(self.problem) or self.decoder_name not in ("", *PLAIN_DECODERS)

    def decoded(self, seq: int) -> Decoded | None:
        """The message completed by frame ``seq`` decoded; None for a control frame, a fragment before its
        message's last, or when no decoder reads the session."""
        if self._decoding is None:
            return None
        if self._chosen_with is None:
            self.decoder_name  # noqa: B018
        self._newest = max(self._newest, seq)
        return self._decoding.decoded(seq)

    def frames_appended(self, first: int, last: int) -> None:
        """A live session grew: a decoder is looked for again while none recognised its first frames, and the
        decoded forms of the newest messages, which later frames may complete, are read again."""
        if self._decoding is None or self._chosen_with is None:
            return
        if (self._decoding.decoder is None and not self._decoding.problem and self._chosen_with < SNIFF_FRAMES
                and last + 1 > self._chosen_with):
            self._renew()
            return
        if self._newest >= first - _SETTLING:
            self._decoding.forget_from(first - _SETTLING)

    # -- decoded filters ---------------------------------------------------------------------------------

    def keeps(self, flt: DecodedFilter) -> Callable[[int], bool]:
        """Whether a frame arriving later passes ``flt`` (over the tab's own decoding: its cache serves the
        rows shown next)."""
        return lambda seq: self._passes(self._decoding, flt, seq)

    def _passes(self, decoding: SessionDecoding | None, flt: DecodedFilter, seq: int) -> bool:
        return decoding is not None and flt.matches(decoding.decoded(seq))

    def filter_task(self, source: Session, frames: FrameFilter, flt: DecodedFilter, parent: QObject | None = None,
                    upto: int | None = None) -> ChunkedTask:
        """The seqs below ``upto`` that pass ``frames`` (direction, opcode, text) and whose message decoded
        passes ``flt``, a step at a time; its result is (array of seqs, frames scanned). A message folded from
        fragments is decoded at its last frame: its first frame passes with it (the message view's row)."""
        total = len(source) if upto is None else min(upto, len(source))
        decoding = self._make(cache_size=256)  # its own: scanning leaves the tab's cache of visible rows alone
        matches: array[int] = array("q")
        frames.validate()
        everything = frames.is_empty()

        def steps() -> Iterator[tuple[int, int]]:
            for first in range(0, total, FILTER_STEP):
                last = min(first + FILTER_STEP, total) - 1
                candidates = range(first, last + 1) if everything else source.match_seqs(frames, first, last)
                for seq in candidates:
                    if not self._passes(decoding, flt, seq):
                        continue
                    if header.opcode(source.meta(seq)) is Opcode.CONTINUATION:
                        message = source.message_for(seq)
                        if message is not None and message.first_seq not in matches[-1:]:
                            matches.append(message.first_seq)
                    matches.append(seq)
                yield last + 1, total
            yield total, total

        def result() -> tuple[array[int], int]:
            return array("q", sorted(set(matches))), total

        return ChunkedTask("Filtering decoded messages", steps(), result, parent=parent)
