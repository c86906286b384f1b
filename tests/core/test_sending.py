"""Dynamic values, saved messages, periodic-send delays, auto-reply rules and their rate limit, the composer's
history walk: the core, without Qt, sockets or clocks."""

from __future__ import annotations

import random
import re
import uuid
from datetime import UTC, datetime

import pytest

from wsinspector.core.dynamic import (
    SendContext,
    UnknownDynamicValueError,
    expand_dynamic,
    expand_for_send,
    expanded_as_typed,
    templated,
)
from wsinspector.core.profiles import UnknownVariableError
from wsinspector.core.sending import (
    AutoReplyRule,
    HistoryWalk,
    RateLimit,
    Schedule,
    SendingError,
    messages_from_json,
    messages_to_json,
)

NOW = 1_767_225_600.25  # 2026-01-01T00:00:00.250Z


def _context(counter: int = 1, seed: int = 7) -> SendContext:
    return SendContext(NOW, counter, random.Random(seed))


def test_each_dynamic_value_is_expanded() -> None:
    text = expand_dynamic('{"id": "{{$uuid}}", "t": {{$timestamp}}, "iso": "{{ $isoTimestamp }}", '
                          '"n": {{$randomInt}}, "c": {{$counter}}}', _context(counter=42))
    match = re.fullmatch(r'\{"id": "([0-9a-f-]{36})", "t": 1767225600, "iso": "2026-01-01T00:00:00.250Z", '
                         r'"n": (\d+), "c": 42\}', text)
    assert match, text
    assert uuid.UUID(match.group(1)).version == 4
    assert 0 <= int(match.group(2)) <= 1000
    assert datetime.fromisoformat("2026-01-01T00:00:00.250+00:00") == datetime.fromtimestamp(NOW, UTC)


def test_every_uuid_and_random_int_is_new_and_the_random_ints_cover_0_to_1000() -> None:
    context = _context()
    uuids = expand_dynamic("{{$uuid}} {{$uuid}} {{$uuid}}", context).split()
    assert len(set(uuids)) == 3
    values = {int(expand_dynamic("{{$randomInt}}", context)) for _ in range(20_000)}
    assert min(values) == 0 and max(values) == 1000


def test_an_unknown_dynamic_value_is_named_with_the_known_ones() -> None:
    with pytest.raises(UnknownDynamicValueError) as caught:
        expand_for_send("{{$uuid}} {{$nope}} {{$guid}} {{$nope}}", {}, _context())
    assert str(caught.value) == ("Unknown dynamic values {{$nope}}, {{$guid}} (known: {{$uuid}}, {{$timestamp}}, "
                                 "{{$isoTimestamp}}, {{$randomInt}}, {{$counter}})")


def test_variables_are_expanded_before_dynamic_values_and_unknown_ones_refused() -> None:
    assert expand_for_send("{{user}}-{{$counter}}", {"user": "ann"}, _context(counter=3)) == "ann-3"
    with pytest.raises(UnknownVariableError):
        expand_for_send("{{user}}-{{$counter}}", {}, _context())


def test_a_message_being_typed_is_checked_with_stand_ins() -> None:
    assert expanded_as_typed('{"id": {{$randomInt}}, "u": "{{$uuid}}", "who": "{{who}}"}', {}) == \
        '{"id": 0, "u": "00000000-0000-4000-8000-000000000000", "who": "0"}'


def test_a_sent_message_made_into_a_saved_one_keeps_secrets_as_names() -> None:
    variables = {"token": "s3cr3t-long", "short": "s3cr3t", "user": "ann"}
    sent = '{"auth": "s3cr3t-long", "pin": "s3cr3t", "user": "ann"}'
    assert templated(sent, variables, ["token", "short"]) == \
        '{"auth": "{{token}}", "pin": "{{short}}", "user": "ann"}'


def test_shared_messages_round_trip_and_damaged_entries_are_left_out() -> None:
    messages = (("Hello", "text", "hi {{$counter}}"), ("Bytes", "hex", "01 02"))
    assert messages_from_json(messages_to_json(messages)) == messages
    assert messages_from_json('[["ok", "weird", "x"], ["bad"], 3, ["n", "text", 5]]') == (("ok", "text", "x"),)
    assert messages_from_json("not json") == ()


def test_jitter_keeps_every_delay_within_its_bounds_and_varies_them() -> None:
    schedule = Schedule(kind="text", text="x", interval_ms=1000, jitter_pct=20, rng=random.Random(1))
    delays = [schedule.next_delay_ms() for _ in range(5000)]
    assert min(delays) >= 800 and max(delays) <= 1200
    assert min(delays) < 820 and max(delays) > 1180  # the whole range is used
    again = Schedule(kind="text", text="x", interval_ms=1000, jitter_pct=20, rng=random.Random(1))
    assert [again.next_delay_ms() for _ in range(5000)] == delays  # the seeded generator decides
    assert {Schedule(kind="text", text="x", interval_ms=250).next_delay_ms() for _ in range(10)} == {250}


def test_a_schedule_counts_to_its_end() -> None:
    schedule = Schedule(kind="text", text="x", interval_ms=10, count=3)
    for _ in range(3):
        assert not schedule.done
        schedule.sent += 1
    assert schedule.done
    assert not Schedule(kind="text", text="x", interval_ms=10, count=0, sent=10 ** 6).done


@pytest.mark.parametrize(("values", "message"), [
    ({"interval_ms": 0}, "The interval must be at least 1 ms"),
    ({"interval_ms": 10, "count": -1}, "The count is a number of messages (0: until stopped)"),
    ({"interval_ms": 10, "jitter_pct": 150}, "The jitter is a percentage from 0 to 100"),
], ids=["interval", "count", "jitter"])
def test_a_schedule_that_cannot_run_says_why(values: dict[str, float], message: str) -> None:
    with pytest.raises(SendingError, match=re.escape(message)):
        Schedule(kind="text", text="x", **values)  # type: ignore[arg-type]


def test_rules_match_text_regex_and_json_path_values() -> None:
    def rule(match: str, pattern: str, path: str = "") -> AutoReplyRule:
        return AutoReplyRule(name="r", match=match, pattern=pattern, path=path, reply="pong")

    assert rule("equals", "ping").matches("ping") and not rule("equals", "ping").matches("ping!")
    assert rule("contains", "ing").matches("ping") and not rule("contains", "x").matches("ping")
    assert rule("regex", r"^pi+ng$").matches("piiing") and not rule("regex", r"^pi+ng$").matches("pong")
    by_type = rule("json", "ping", "$.type")
    assert by_type.matches('{"type": "ping", "id": 3}')
    assert not by_type.matches('{"type": "pong"}') and not by_type.matches("ping") and not by_type.matches("[1]")
    assert rule("json", "3", "$.id").matches('{"id": 3}') and rule("json", "true", "$.ok").matches('{"ok": true}')


@pytest.mark.parametrize(("rule", "message"), [
    (AutoReplyRule(name="a", match="regex", pattern="(", reply=""), "Rule “a”: not a regular expression"),
    (AutoReplyRule(name="b", match="json", pattern="", path="type", reply=""), "Rule “b”: 'type' is not a path"),
    (AutoReplyRule(name="c", match="glob", pattern="", reply=""), "Rule “c”: match by equals, contains"),
], ids=["regex", "path", "kind"])
def test_a_rule_that_cannot_work_says_why(rule: AutoReplyRule, message: str) -> None:
    with pytest.raises(SendingError, match=re.escape(message)):
        rule.check()


def test_the_rate_limit_allows_so_many_a_second_and_counts_the_rest() -> None:
    limit = RateLimit(3)
    allowed = [limit.allow(100.0 + i * 0.1) for i in range(10)]  # ten in one second
    assert allowed == [True] * 3 + [False] * 7 and limit.refused == 7
    assert limit.allow(101.0)  # the first one's second is over
    unlimited = RateLimit(0)
    assert all(unlimited.allow(5.0) for _ in range(1000)) and unlimited.refused == 0


def test_up_and_down_walk_the_history_and_keep_the_draft() -> None:
    walk = HistoryWalk()
    walk.reset([("text", "one"), ("json", "{}"), ("json", "{}"), ("text", "three")])
    draft = ("text", "being typed")
    assert walk.back(draft) == ("text", "three")
    assert walk.walking
    assert walk.back(("text", "three")) == ("json", "{}")
    assert walk.back(("json", "{}")) == ("text", "one")  # a message sent twice in a row counts once
    assert walk.back(("text", "one")) is None  # the oldest
    assert walk.forward() == ("json", "{}")
    assert walk.forward() == ("text", "three")
    assert walk.forward() == draft
    assert not walk.walking and walk.forward() is None
    # editing what is shown makes it the draft
    assert walk.back(draft) == ("text", "three")
    walk.leave()
    assert walk.back(("text", "three, edited")) == ("text", "three")


def test_a_connections_rules_and_saved_messages_are_kept_in_its_stored_form() -> None:
    from wsinspector.core.profiles import ConnectionProfile, Endpoint, profile_from_json, profile_to_json

    profile = ConnectionProfile(
        name="rules", endpoint=Endpoint("ws://h/"), messages=(("Hi", "text", "hi {{$counter}}"),),
        auto_replies=(("pings", "json", "ping", "$.type", "json", '{"type": "pong"}', True),
                      ("off", "regex", "^x", "", "text", "y", False)), auto_reply_limit=4)
    again = profile_from_json(profile.id, profile_to_json(profile))
    assert (again.messages, again.auto_replies, again.auto_reply_limit) == \
        (profile.messages, profile.auto_replies, 4)
    # a connection stored before rules existed reads with none
    assert profile_from_json("old", '{"version": 2, "name": "old", "endpoint": {"url": "ws://h/"}}').auto_replies == ()
