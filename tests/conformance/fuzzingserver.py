"""kosoku's command line, with the Autobahn text payloads kosoku 0.1.0 double-encodes put right.

    python -m tests.conformance.fuzzingserver [--kosoku-as-is] -m fuzzingserver 127.0.0.1:0 -o OUTDIR [-i CASE ...]

The arguments after ``--kosoku-as-is`` (which skips the fix) are kosoku's own. The process exits as soon as
its standard input reaches its end, so a server started by a run that dies does not outlive it.

Autobahn's case files were written for Python 2, where ``'\\xef\\xbf\\xbe'`` is three bytes. kosoku runs them
under Python 3, where it is a string of three Latin-1 characters, and sends a string payload as UTF-8: the
valid-UTF-8 cases of group 6 that spell their payload in byte escapes (6.2.4 and most of 6.5 to 6.23) put
``C3 AF C2 BF C2 BE`` on the wire instead of ``EF BF BE``. The message is still valid UTF-8, so a client that
mangled U+FFFE, a 4-byte sequence or a noncharacter would pass them anyway. :func:`fix_utf8_payloads` gives
those cases the text their bytes spell, which kosoku then encodes back to exactly the bytes Autobahn sends
(and expects echoed). Invalid-UTF-8 payloads are bytes in kosoku already and are left alone.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Sequence


def fix_utf8_payloads() -> list[str]:
    """Patch kosoku's loaded case classes; return the ids of the cases whose payload changed."""
    import kosoku.cases

    fixed = []
    for case_id, case in kosoku.cases.CASES.items():
        if not case_id.startswith("6."):
            continue
        payload = getattr(case, "PAYLOAD", None)
        if not isinstance(payload, str) or getattr(case, "isValid", True) is False:
            continue
        try:
            text = payload.encode("latin-1").decode("utf-8")
        except UnicodeError:
            continue  # real text already (6.2.1: "Hello-µ@ßöäüàá-UTF-8!!"), sent as it should be
        if text != payload:
            case.PAYLOAD = text
            fixed.append(case_id)
    return fixed


def _exit_when_stdin_ends() -> None:
    # the file descriptor itself: a thread blocked inside sys.stdin would hold its lock at interpreter exit
    with contextlib.suppress(OSError):
        while os.read(0, 4096):
            pass
    os._exit(3)


def main(argv: Sequence[str] | None = None) -> None:
    import kosoku.cases  # noqa: F401  (the case index, built here on the main thread in either mode)

    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["--kosoku-as-is"]:
        args = args[1:]
    else:
        fix_utf8_payloads()
    threading.Thread(target=_exit_when_stdin_ends, name="stdin-watch", daemon=True).start()
    from kosoku._cli import main as kosoku_main

    sys.argv = ["kosoku", *args]
    try:
        kosoku_main()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    # The reports are written. Leave without finalizing the interpreter: kosoku's tokio threads may still be
    # waking asyncio futures then, and a thread that meets a finalizing interpreter aborts the process.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    main()
