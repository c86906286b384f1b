"""The model of a test file: steps that cannot be are refused as they are made."""

from __future__ import annotations

import re

import pytest

from wsinspector.core.frames import Opcode
from wsinspector.core.jsonpath import JsonPathError
from wsinspector.core.scenario.model import ExpectStep, JsonMatcher, OpcodeMatcher, RegexMatcher, WaitStep


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
