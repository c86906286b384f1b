"""How the C allocator keeps the memory that payloads pass through (glibc only; elsewhere nothing changes).

Payloads are allocated and freed in bursts: a proxy's hop threads read a flush's worth of frames (at 64 KiB a
message, tens of MiB every 50 ms) that live until the window's thread moves them into the log, then are freed
together; the log's blocks and the store's chunks are megabytes each. glibc starts out returning the top of its
heap to the system as soon as 128 KiB of it is free, and mapping every block of 128 KiB or more afresh. It
raises both thresholds by itself, but only once a mapped block is freed, and only up to the size of that block:
a steady flood kept giving memory back and taking it again, each time as newly zeroed pages. By ``perf``, the
page faults and the zeroing were an eighth of a forwarding proxy's CPU for 64 KiB messages, and setting the
thresholds below from the start took its CPU per message echoed from about 300 to 190 µs (``bench/proxy.py``).

The values are those glibc's own rule reaches after freeing its largest mapped block (32 MiB, its ceiling on
64-bit systems): blocks up to 32 MiB come from the heap, and up to 64 MiB of free heap top is kept for the
next burst rather than given back. Memory in use is what it was; while traffic flows, the process holds at
most its peak. Once a burst is over (a second after the last of a proxy's or a server's clients went),
:func:`give_back` returns what the heaps hold free to the system (``malloc_trim``) — all but the free top of
each thread's heap, up to the trim threshold each, which only a later free in that heap gives back. The cost,
measured: four clients sent 200 × 1 MiB each through the proxy and left; a second later it held 472 MiB,
against 245 MiB with glibc's starting thresholds (a trim threshold of 32 MiB held 231 MiB, and saved about
half as much CPU). glibc moves to these thresholds by itself once a process has freed a 32 MiB block.

A user's own settings (``MALLOC_MMAP_THRESHOLD_``, ``MALLOC_TRIM_THRESHOLD_``, ``MALLOC_TOP_PAD_`` or a
``glibc.malloc`` tunable) win.
"""

from __future__ import annotations

import os
from typing import Any

#: mallopt's parameters (malloc.h)
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
#: blocks this large or larger are mapped on their own
MMAP_THRESHOLD = 32 << 20
#: free memory at the top of the heap past this much is given back to the system
TRIM_THRESHOLD = 2 * MMAP_THRESHOLD
_USER_SETTINGS = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_")
_state: dict[str, Any] = {"trim": None}


def glibc() -> bool:
    """Whether this process runs on glibc."""
    try:
        return os.confstr("CS_GNU_LIBC_VERSION").startswith("glibc")  # type: ignore[union-attr]
    except (AttributeError, ValueError, OSError):  # not a GNU system
        return False


def users_own() -> bool:
    """Whether the user set glibc's allocator up themselves (the environment)."""
    return (any(name in os.environ for name in _USER_SETTINGS)
            or "glibc.malloc." in os.environ.get("GLIBC_TUNABLES", ""))


def keep_freed_memory() -> bool:
    """Set the thresholds above for this process; True if they were set (glibc, no setting of the user's)."""
    if not glibc() or users_own():
        return False
    import ctypes  # noqa: PLC0415  (only where it applies)

    try:
        libc = ctypes.CDLL(None)
        mallopt, trim = libc.mallopt, libc.malloc_trim
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    trim.argtypes, trim.restype = (ctypes.c_size_t,), ctypes.c_int
    # mallopt returns 1 on success; the mapping threshold first, so the trim threshold is not set alone
    done = bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))
    if done:
        _state["trim"] = trim
    return done


def give_back() -> bool:
    """A burst is over: what the heaps hold free goes back to the system (when :func:`keep_freed_memory` set
    the thresholds; it walks every heap, so not for each client that goes). True if it was asked to."""
    trim = _state["trim"]
    if trim is None:
        return False
    trim(0)
    return True
