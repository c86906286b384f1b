"""The decoders a session can be read with, found through the ``wsinspector.decoders`` entry point group (the
built-in ones are registered there too, in pyproject.toml), and the choice of one for a connection.

Loading is lazy: nothing here runs until the first frame is decoded, and the group is read once
(:func:`decoder_registry`). A decoder that cannot be loaded, or that raises while it reads a frame, is named in
one line in :attr:`DecoderRegistry.problems` (once) and the others go on working."""

from __future__ import annotations

import functools
import importlib.metadata
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from wsinspector.core.decoders.base import DecodeContext, Decoded, DecodeError, Decoder, FrameView, failed

ENTRY_POINT_GROUP = "wsinspector.decoders"
#: the name that means "choose for me" in a connection's settings and on the command line
AUTO = "auto"


@dataclass(frozen=True, slots=True)
class Loaded:
    """A decoder and where it came from (the distribution and entry point, for the user)."""

    decoder: Decoder
    origin: str


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class DecoderRegistry:
    """Decoders by name, the problems met loading or running them, and the choice of one for a connection."""

    def __init__(self, loaded: Iterable[Loaded] = (), problems: Iterable[str] = ()) -> None:
        self._loaded: dict[str, Loaded] = {}
        self.problems: list[str] = list(problems)
        self._failed_once: set[str] = set()
        for item in loaded:
            name = item.decoder.name
            if name in self._loaded:
                self._note(f"decoder {name!r} from {item.origin} is ignored: {self._loaded[name].origin} "
                           "has the same name")
                continue
            self._loaded[name] = item

    def _note(self, line: str) -> None:
        if line not in self.problems:
            self.problems.append(line)

    def names(self) -> list[str]:
        """The decoders' names, the highest priority first."""
        return [item.decoder.name for item in self._ordered()]

    def _ordered(self) -> list[Loaded]:
        return sorted(self._loaded.values(), key=lambda item: (-item.decoder.priority, item.decoder.name))

    def get(self, name: str) -> Decoder | None:
        """The decoder called ``name``, also as written without its punctuation or in other case
        (``socketio``, ``Socket.IO`` and ``socket.io`` are one)."""
        item = self._loaded.get(name)
        if item is None:
            wanted = _plain(name)
            item = next((each for key, each in self._loaded.items() if _plain(key) == wanted), None)
        return item.decoder if item else None

    def origin(self, name: str) -> str:
        item = self._loaded.get(name)
        return item.origin if item else ""

    def choose(self, *, override: str = "", subprotocol: str = "", url: str = "",
               frames: Iterable[FrameView] = ()) -> Decoder | None:
        """The decoder for a connection: the one named by ``override`` (unless it is "" or "auto"), else the
        highest-priority one whose subprotocol was negotiated, else whose URL pattern matches, else the first
        that recognises one of ``frames``; None when none does. An unknown override raises ``KeyError`` with
        a sentence naming the known ones."""
        if override and override != AUTO:
            chosen = self.get(override)
            if chosen is None:
                raise KeyError(f"no decoder is called {override!r}: choose one of {', '.join(self.names())}")
            return chosen
        ordered = [item.decoder for item in self._ordered()]
        if subprotocol:
            wanted = subprotocol.strip().lower()
            for decoder in ordered:
                if wanted in (p.lower() for p in decoder.subprotocols):
                    return decoder
        if url:
            for decoder in ordered:
                if any(self._searches(decoder, pattern, url) for pattern in decoder.url_patterns):
                    return decoder
        for frame in frames:
            found = self.sniffed(frame, ordered)
            if found is not None:
                return found
        return None

    def _searches(self, decoder: Decoder, pattern: str, url: str) -> bool:
        try:
            return re.search(pattern, url) is not None
        except re.error as exc:
            self._note(f"decoder {decoder.name!r} ({self.origin(decoder.name)}) has a URL pattern that is not a "
                       f"regular expression: {pattern!r} ({exc})")
            return False

    def sniffed(self, frame: FrameView, ordered: list[Decoder] | None = None) -> Decoder | None:
        """The highest-priority decoder that recognises this one frame."""
        for decoder in ordered if ordered is not None else [item.decoder for item in self._ordered()]:
            try:
                if decoder.sniff(frame):
                    return decoder
            except Exception as exc:
                self._failed(decoder, exc)
        return None

    def decode(self, decoder: Decoder, frame: FrameView, context: DecodeContext | None = None) -> Decoded:
        """``decoder`` over ``frame``: what it decodes, or one line saying why not; never an exception."""
        try:
            decoded = decoder.decode(frame, context if context is not None else DecodeContext())
        except DecodeError as exc:
            return failed(decoder.name, str(exc))
        except RecursionError:
            return failed(decoder.name, "nested too deeply")
        except Exception as exc:
            self._failed(decoder, exc)
            return failed(decoder.name, f"the decoder failed ({_one_line(exc)})")
        if not isinstance(decoded, Decoded):
            self._failed(decoder, TypeError(f"decode returned {type(decoded).__name__}, not Decoded"))
            return failed(decoder.name, "the decoder gave no decoded form")
        return decoded

    def _failed(self, decoder: Decoder, exc: BaseException) -> None:
        if decoder.name not in self._failed_once:
            self._failed_once.add(decoder.name)
            self._note(f"decoder {decoder.name!r} ({self.origin(decoder.name)}) failed: {_one_line(exc)}")


def _load_entry_point(entry: importlib.metadata.EntryPoint) -> Loaded:
    origin = f"{entry.dist.name if entry.dist else 'an unknown package'}: {entry.name} = {entry.value}"
    target = entry.load()
    decoder = target() if isinstance(target, type) else target
    if not isinstance(decoder, Decoder):
        raise TypeError(f"{entry.value} is not a wsinspector Decoder")
    if not decoder.name or not re.fullmatch(r"[a-z0-9][a-z0-9._-]*", decoder.name):
        raise ValueError(f"{entry.value} has no usable name (lower-case letters, digits, '.', '_' or '-')")
    return Loaded(decoder, origin)


def registry_from(entries: Iterable[importlib.metadata.EntryPoint],
                  loader: Callable[[importlib.metadata.EntryPoint], Loaded] = _load_entry_point) -> DecoderRegistry:
    """A registry of the decoders these entry points name; each one that fails to load is one problem line."""
    loaded: list[Loaded] = []
    problems: list[str] = []
    seen: set[tuple[str, str]] = set()
    for entry in entries:
        if (entry.name, entry.value) in seen:  # a package found twice on the path
            continue
        seen.add((entry.name, entry.value))
        try:
            loaded.append(loader(entry))
        except Exception as exc:
            package = entry.dist.name if entry.dist else "an unknown package"
            problems.append(f"decoder {entry.name!r} from {package} could not be loaded: {_one_line(exc)}")
    return DecoderRegistry(loaded, problems)


@functools.cache
def decoder_registry() -> DecoderRegistry:
    """The decoders installed with wsinspector and by other packages: read once, on first use."""
    return registry_from(importlib.metadata.entry_points(group=ENTRY_POINT_GROUP))


def configured(decoder: Decoder, options: Mapping[str, str]) -> Decoder:
    """The decoder with a connection's options for it (a protobuf schema); the decoder itself when it takes
    none. A decoder with options has ``with_options(options) -> Decoder``, raising DecodeError for a bad one."""
    with_options = getattr(decoder, "with_options", None)
    if not options:
        return decoder
    if with_options is None:
        raise DecodeError(f"the {decoder.name} decoder takes no options (given: {', '.join(options)})")
    result = with_options(dict(options))
    if not isinstance(result, Decoder):
        raise DecodeError(f"the {decoder.name} decoder gave no decoder for its options")
    return result


def _plain(name: str) -> str:
    """A decoder's name as compared when it is not written exactly: letters and digits, lower case."""
    return "".join(ch for ch in name.lower() if ch.isalnum())
