"""Call void Qt methods many times; PySide6 6.12.0 on CPython 3.11 aborts here (refcount of None).

Run as a script so a crash shows up as an exit status, not as a dead test runner.
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QApplication, QLabel


def main(calls: int) -> int:
    app = QApplication.instance() or QApplication([])
    obj = QObject()
    timer = QTimer()
    label = QLabel()
    done = 0
    while done < calls:
        obj.setObjectName("x")
        timer.setInterval(5)
        label.setText("y")
        label.setEnabled(True)
        done += 4
    print(f"ok {done} calls, Qt {app.applicationName() or 'app'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 200_000))
