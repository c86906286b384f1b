"""Read-only data: as root, file permissions cannot stop writes, so the check runs as an unprivileged user."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = r"""
import os, stat, sys
sys.path.insert(0, sys.argv[2])
from wsinspector.core.store import Store, StoreError
from wsinspector.core.profiles import ConnectionProfile, Endpoint
data = os.path.join(sys.argv[1], "data")
os.mkdir(data)
db = os.path.join(data, "wsinspector.sqlite3")
store = Store(db)
store.save_profile(ConnectionProfile(name="kept", endpoint=Endpoint("ws://127.0.0.1:1/")))
store.close()
before = open(db, "rb").read()
results = []
# 1. read-only file in a writable folder
os.chmod(db, 0o444)
try:
    Store(db).save_profile(ConnectionProfile(name="x", endpoint=Endpoint("ws://127.0.0.1:1/")))
    results.append("file: no error")
except StoreError as exc:
    results.append("file: " + str(exc))
# 2. read-only file in a read-only folder
os.chmod(data, 0o555)
try:
    Store(db)
    results.append("folder: no error")
except StoreError as exc:
    results.append("folder: " + str(exc))
os.chmod(data, 0o755)
os.chmod(db, 0o644)
results.append("unchanged" if open(db, "rb").read() == before else "CHANGED")
print("\n".join(results))
"""


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_read_only_database_is_reported_and_left_untouched():
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root without setpriv: cannot drop privileges to test read-only files")
        prefix = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"]
    else:
        prefix = []
    work = tempfile.mkdtemp(prefix="wsi-ro-")
    try:
        os.chmod(work, 0o777)
        result = subprocess.run([*prefix, sys.executable, "-c", SCRIPT, work, str(ROOT)],
                                capture_output=True, text=True, timeout=60)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    assert result.returncode == 0, result.stderr
    file_line, folder_line, unchanged = result.stdout.strip().splitlines()
    assert "read-only" in file_line and "needs to write" in file_line, file_line
    assert "read-only" in folder_line, folder_line
    assert unchanged == "unchanged"
