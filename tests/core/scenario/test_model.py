"""The model of a test file: steps that cannot be, refused as they are made."""

from __future__ import annotations

import re

import pytest

from wsinspector.core.frames import Opcode
from wsinspector.core.scenario.from_session import test_from_frames
from wsinspector.core.scenario.jsonpath import JsonPathError
from wsinspector.core.scenario.model import ExpectStep, JsonMatcher, OpcodeMatcher, RegexMatcher, TestFile, WaitStep
from wsinspector.core.scenario.yaml_io import TestFileError


def test_model_rejects_inconsistent_steps():
    with pytest.raises(ValueError):
        WaitStep()
    with pytest.raises(ValueError):
        WaitStep(seconds=1, until=OpcodeMatcher(Opcode.TEXT))
    with pytest.raises(ValueError):
        WaitStep(seconds=1, timeout_s=2)
    with pytest.raises(JsonPathError):
        JsonMatcher({}, ("ts",))
    with pytest.raises(JsonPathError):
        ExpectStep(OpcodeMatcher(Opcode.TEXT), capture=(("x", "$.a[*]"),))
    with pytest.raises(ValueError):
        ExpectStep(OpcodeMatcher(Opcode.TEXT), capture=(("1x", "$.a"),))
    with pytest.raises(re.error):
        RegexMatcher("(")


def test_pytest_does_not_mistake_the_model_for_tests():
    assert TestFile.__test__ is False
    assert TestFileError.__test__ is False
    assert test_from_frames.__test__ is False  # type: ignore[attr-defined]
