"""The allocator keeps the memory payloads pass through (glibc): a large payload comes from the heap, not from a
mapping made for it and unmapped when it is freed. Checked in fresh processes through glibc's own counters."""

from __future__ import annotations

import ctypes
import json
import os
import platform
import subprocess
import sys

import pytest

from wsinspector.core.allocator import MMAP_THRESHOLD, glibc


def _has_mallinfo2() -> bool:
    try:
        return hasattr(ctypes.CDLL(None), "mallinfo2")
    except OSError:
        return False


ON_GLIBC = platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"
pytestmark = [
    pytest.mark.skipif(not ON_GLIBC, reason="glibc's allocator only: elsewhere nothing is changed"),
    pytest.mark.skipif(ON_GLIBC and not _has_mallinfo2(),
                       reason="this glibc is older than 2.33: no mallinfo2 to count its mapped blocks"),
]


def test_glibc_is_recognised() -> None:
    assert glibc()

#: prints the mapped blocks glibc counts while a payload of 8 MiB is alive, after the statement given runs
_PROBE = """
import ctypes, json, sys
class Info(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks",
                 "keepcost")]
mallinfo2 = ctypes.CDLL(None).mallinfo2
mallinfo2.restype = Info
exec(sys.argv[1])
before = mallinfo2().hblks
payload = bytearray(8 << 20)
print(json.dumps({"mapped": mallinfo2().hblks - before, "set": globals().get("done")}))
"""


def probe(statement: str, **env: str) -> dict[str, object]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("MALLOC_", "GLIBC_TUNABLES"))}
    out = subprocess.run([sys.executable, "-c", _PROBE, statement], env=clean | env, capture_output=True,
                         text=True, check=True, timeout=60)
    return json.loads(out.stdout.splitlines()[-1])


def test_without_it_glibc_maps_a_large_payload_of_its_own() -> None:
    assert probe("done = None") == {"mapped": 1, "set": None}


def test_a_large_payload_comes_from_the_heap() -> None:
    assert MMAP_THRESHOLD > 8 << 20
    statement = "from wsinspector.core.allocator import keep_freed_memory; done = keep_freed_memory()"
    assert probe(statement) == {"mapped": 0, "set": True}


@pytest.mark.parametrize("setting", [{"MALLOC_MMAP_THRESHOLD_": str(1 << 20)},
                                     {"GLIBC_TUNABLES": "glibc.malloc.mmap_threshold=1048576"}],
                         ids=["variable", "tunable"])
def test_a_users_own_setting_wins(setting: dict[str, str]) -> None:
    statement = "from wsinspector.core.allocator import keep_freed_memory; done = keep_freed_memory()"
    assert probe(statement, **setting) == {"mapped": 1, "set": False}


def test_a_tunable_of_something_else_is_not_a_setting_of_the_allocator() -> None:
    statement = "from wsinspector.core.allocator import keep_freed_memory; done = keep_freed_memory()"
    assert probe(statement, GLIBC_TUNABLES="glibc.rtld.optional_static_tls=2048") == {"mapped": 0, "set": True}


def test_once_a_burst_is_over_the_free_memory_goes_back() -> None:
    """48 MiB of payloads allocated and freed stay with the process (under the trim threshold); give_back
    returns them; without the thresholds set (a user's own setting) it has nothing to do."""
    statement = """
import ctypes
from wsinspector.core import allocator
allocator.keep_freed_memory()
def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096
burst = [bytearray(1 << 20) for _ in range(48)]  # touched: zero-filled by calloc, written here
for block in burst:
    block[::4096] = b"x" * len(block[::4096])
del burst
held = rss()
given = allocator.give_back()
done = [held - rss() > 24 << 20, given]
"""
    assert probe(statement)["set"] == [True, True]
    assert probe(statement, MALLOC_TRIM_THRESHOLD_=str(256 << 20))["set"] == [False, False]
