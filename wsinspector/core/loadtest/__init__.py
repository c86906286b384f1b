"""Load tests on engines that scale past one machine: a test file (or a recorded session, made a test first)
written as a k6 script (:mod:`.k6`) or an Artillery scenario (:mod:`.artillery`), secrets as environment
variables, and what an engine cannot express said at the top of the file (:mod:`.plan`)."""

from .artillery import artillery_scenario
from .k6 import k6_script
from .plan import (
    DEFAULT_DURATION_S,
    DEFAULT_VUS,
    LoadOptions,
    LoadPlan,
    LoadTestError,
    env_name,
    load_plan,
    parse_duration,
    plan_from_session,
)

__all__ = ["DEFAULT_DURATION_S", "DEFAULT_VUS", "LoadOptions", "LoadPlan", "LoadTestError", "artillery_scenario",
           "env_name", "k6_script", "load_plan", "parse_duration", "plan_from_session"]
