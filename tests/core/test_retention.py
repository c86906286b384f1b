"""Retention of stored sessions: by age, by size, or both; a recording session and the newest one stay."""

from __future__ import annotations

from wsinspector.core.retention import DAY_S, Retention

NOW = 1_800_000_000.0


def test_sessions_older_than_the_age_go_but_one_still_recording_stays() -> None:
    sessions = [(1, NOW - 40 * DAY_S, False, 10), (2, NOW - 40 * DAY_S, True, 10), (3, NOW - 29 * DAY_S, False, 10),
                (4, NOW - 31 * DAY_S, False, 10)]
    assert Retention(max_age_days=30).expired(sessions, NOW) == [1, 4]
    assert Retention().expired(sessions, NOW) == [] and Retention().keeps_everything


def test_the_oldest_go_until_the_rest_fit_the_size_and_the_newest_stays_whatever_its_size() -> None:
    sessions = [(1, NOW - 400, False, 300), (2, NOW - 300, False, 100), (3, NOW - 200, False, 500),
                (4, NOW - 100, False, 400)]
    assert Retention(max_bytes=999).expired(sessions, NOW) == [1, 2]  # 400 + 500 fit, 100 more would not
    assert Retention(max_bytes=300).expired(sessions, NOW) == [1, 2, 3]  # the newest is bigger, and stays
    # a session still recording counts, but never goes
    assert Retention(max_bytes=450).expired([*sessions[:3], (4, NOW - 100, True, 400)], NOW) == [1, 2, 3]
    both = Retention(max_age_days=1, max_bytes=1000)
    assert both.expired([(9, NOW - 2 * DAY_S, False, 1), *sessions], NOW) == [9, 1]


def test_the_setting_round_trips_and_a_damaged_one_keeps_everything() -> None:
    retention = Retention(max_age_days=7.5, max_bytes=1 << 30)
    assert Retention.from_json(retention.to_json()) == retention
    assert retention.describe() == "keep 7.5 days and 1.0 GiB"
    assert Retention().describe() == "keep everything"
    for damaged in (None, "", "not json", "[1, 2]", '{"max_age_days": "x"}', '{"max_bytes": 1.5}',
                    '{"max_age_days": true}'):
        assert Retention.from_json(damaged) == Retention(), damaged
    assert Retention.from_json('{"max_age_days": -3, "max_bytes": -1}') == Retention()
