"""The command line's entry point sets the allocator up (core/allocator.py) for every command and the window:
in a fresh process that went through ``main``, a large payload comes from the heap."""

from __future__ import annotations

from tests.core.test_allocator import probe, pytestmark

__all__ = ["pytestmark"]


def test_the_command_line_entry_sets_it_for_every_command_and_the_window() -> None:
    statement = ("import contextlib, io\nfrom wsinspector.cli import main\n"
                 "with contextlib.redirect_stdout(io.StringIO()): main(['--version'])")
    assert probe(statement)["mapped"] == 0
