"""The model of a test file: steps that cannot be are refused as they are made; nothing passes for a pytest test."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re

import pytest

from wsinspector.core import scenario
from wsinspector.core.frames import Opcode
from wsinspector.core.scenario.jsonpath import JsonPathError
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


def test_pytest_does_not_mistake_the_package_for_tests():
    """No class or function of the package has a name pytest collects (``Test*``, ``test*``) where a test
    module imports it, and none needs ``__test__ = False`` to say it is not a test."""
    for info in pkgutil.iter_modules(scenario.__path__, f"{scenario.__name__}."):
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if (inspect.isclass(value) or inspect.isfunction(value)) and value.__module__ == module.__name__:
                assert not name.startswith(("Test", "test")), f"{info.name}.{name}"
                assert "__test__" not in vars(value), f"{info.name}.{name}"
