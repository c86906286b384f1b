"""The allocator keeps the memory payloads pass through (glibc): a large payload comes from the heap, not from a
mapping made for it and unmapped when it is freed. Checked in fresh processes through glibc's own counters."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from wsinspector.core.allocator import MMAP_THRESHOLD, glibc

pytestmark = pytest.mark.skipif(not glibc(), reason="glibc's allocator only: elsewhere nothing is changed")

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


def test_the_command_line_entry_sets_it_for_every_command_and_the_window() -> None:
    statement = ("import contextlib, io\nfrom wsinspector.cli import main\n"
                 "with contextlib.redirect_stdout(io.StringIO()): main(['--version'])")
    assert probe(statement)["mapped"] == 0


def test_a_users_own_setting_wins() -> None:
    statement = "from wsinspector.core.allocator import keep_freed_memory; done = keep_freed_memory()"
    assert probe(statement, MALLOC_MMAP_THRESHOLD_=str(1 << 20)) == {"mapped": 1, "set": False}
