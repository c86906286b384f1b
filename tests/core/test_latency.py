"""RTT bookkeeping and statistics, without Qt or sockets."""

from __future__ import annotations

import random
import statistics

import pytest

from wsinspector.core.latency import PingPayloads, PongMatcher, percentile, rtt_stats

MS = 1_000_000


def test_payloads_are_unique_short_and_marked_as_ours() -> None:
    pings = PingPayloads()
    payloads = [pings.next_payload() for _ in range(10_000)]
    assert len(set(payloads)) == len(payloads)
    assert all(p.startswith(b"wsi:") and len(p) <= 125 for p in payloads)
    assert PingPayloads().next_payload() != pings.next_payload()  # two clients do not collide


def test_a_pong_closes_its_ping_with_the_time_between_them() -> None:
    matcher = PongMatcher()
    matcher.ping_sent(0, b"a", 1_000)
    assert matcher.pong_received(1, b"a", 1_000 + 3 * MS + 250) == 3 * MS + 250
    assert matcher.rtt == {1: 3 * MS + 250}
    assert matcher.samples == [(1, 1_000 + 3 * MS + 250, 3 * MS + 250)]
    assert matcher.oldest_open_ns() is None


def test_a_pong_acknowledges_earlier_open_pings_without_giving_them_an_rtt() -> None:
    matcher = PongMatcher()
    for i, payload in enumerate((b"1", b"2", b"3", b"4")):
        matcher.ping_sent(i, payload, i * MS)
    assert matcher.pong_received(10, b"3", 10 * MS) == 8 * MS
    assert matcher.oldest_open_ns() == 3 * MS  # "4" is still waiting
    assert matcher.pong_received(11, b"1", 11 * MS) is None  # already acknowledged: its late pong is not counted
    assert matcher.rtt == {10: 8 * MS, 11: None}
    assert [rtt for _, _, rtt in matcher.samples] == [8 * MS]


def test_unsolicited_pongs_give_no_rtt_and_close_nothing() -> None:
    matcher = PongMatcher()
    matcher.ping_sent(0, b"mine", 0)
    assert matcher.pong_received(1, b"someone else's", 5 * MS) is None
    assert matcher.rtt == {1: None} and matcher.samples == []
    assert matcher.oldest_open_ns() == 0


def test_a_reused_payload_is_answered_in_send_order() -> None:
    matcher = PongMatcher()
    matcher.ping_sent(0, b"same", 0)
    matcher.ping_sent(1, b"same", 4 * MS)
    assert matcher.pong_received(2, b"same", 5 * MS) == 5 * MS
    assert matcher.pong_received(3, b"same", 6 * MS) == 2 * MS


def test_pings_of_an_ended_connection_are_never_answered() -> None:
    matcher = PongMatcher()
    matcher.ping_sent(0, b"old", 0)
    matcher.reset()
    assert matcher.oldest_open_ns() is None
    assert matcher.pong_received(1, b"old", 3 * MS) is None


def test_percentile_matches_linear_interpolation() -> None:
    values = sorted(random.Random(3).uniform(0, 100) for _ in range(101))
    for q in (0, 1, 25, 50, 95, 99, 100):
        expected = statistics.quantiles(values, n=100, method="inclusive")[q - 1] if 0 < q < 100 else None
        if expected is not None:
            assert percentile(values, q) == pytest.approx(expected)
    assert percentile(values, 0) == values[0] and percentile(values, 100) == values[-1]
    assert percentile([1.0, 2.0], 50) == 1.5
    assert percentile([7.0], 99) == 7.0
    with pytest.raises(ValueError):
        percentile([], 50)


def test_stats_of_a_known_series() -> None:
    stats = rtt_stats([10.0, 12.0, 11.0, 30.0, 10.0])
    assert stats is not None
    assert (stats.count, stats.min_ms, stats.max_ms) == (5, 10.0, 30.0)
    assert stats.p50_ms == 11.0
    assert stats.jitter_ms == pytest.approx((2 + 1 + 19 + 20) / 4)
    assert rtt_stats([]) is None
    single = rtt_stats([4.0])
    assert single is not None and single.jitter_ms == 0.0 and single.p99_ms == 4.0


def test_pong_matcher_keeps_the_samples_in_the_order_the_pongs_came() -> None:
    matcher = PongMatcher()
    matcher.ping_sent(0, b"a", 100)
    matcher.ping_sent(1, b"b", 200)
    assert matcher.oldest_open_ns() == 100
    matcher.pong_received(2, b"b", 900)   # answers 1, acknowledges 0
    matcher.pong_received(3, b"a", 950)   # unsolicited now
    matcher.ping_sent(4, b"c", 1_000)
    matcher.pong_received(5, b"c", 1_300)
    assert matcher.samples == [(2, 900, 700), (5, 1_300, 300)]
    assert matcher.rtt == {2: 700, 3: None, 5: 300}
    assert matcher.oldest_open_ns() is None
