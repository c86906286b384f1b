"""Shared by the importer tests: where the sample files are."""

from __future__ import annotations

from pathlib import Path

SAMPLES = Path(__file__).parent / "samples"
