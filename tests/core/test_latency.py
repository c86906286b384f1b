"""RTT bookkeeping and statistics, without Qt or sockets."""

from __future__ import annotations

import random
import statistics

import pytest

from wsinspector.core.latency import PingTracker, RollingRtt, RttSample, percentile, rtt_stats

MS = 1_000_000


def test_payloads_are_unique_short_and_marked_as_ours() -> None:
    tracker = PingTracker()
    payloads = [tracker.next_payload() for _ in range(10_000)]
    assert len(set(payloads)) == len(payloads)
    assert all(p.startswith(b"wsi:") and len(p) <= 125 for p in payloads)
    assert PingTracker().next_payload() != tracker.next_payload()  # two trackers do not collide


def test_a_pong_closes_its_ping_with_the_time_between_them() -> None:
    tracker = PingTracker()
    tracker.sent(b"a", 1_000)
    result = tracker.pong(b"a", 1_000 + 3 * MS + 250)
    assert result.sample == RttSample(1_000, 3 * MS + 250)
    assert result.sample is not None and result.sample.rtt_ms == pytest.approx(3.00025)
    assert not result.unsolicited and result.acknowledged == ()
    assert tracker.open_pings == 0


def test_a_pong_acknowledges_earlier_open_pings_without_giving_them_an_rtt() -> None:
    tracker = PingTracker()
    for i, payload in enumerate((b"1", b"2", b"3", b"4")):
        tracker.sent(payload, i * MS)
    result = tracker.pong(b"3", 10 * MS)
    assert result.sample == RttSample(2 * MS, 8 * MS)
    assert result.acknowledged == (b"1", b"2")
    assert tracker.open_pings == 1  # "4" is still waiting
    assert tracker.pong(b"1", 11 * MS).unsolicited  # already acknowledged: its late pong is not counted


def test_unsolicited_pongs_are_counted_but_give_no_rtt() -> None:
    tracker = PingTracker()
    tracker.sent(b"mine", 0)
    result = tracker.pong(b"someone else's", 5 * MS)
    assert result.unsolicited and result.sample is None
    assert tracker.unsolicited == 1
    assert tracker.open_pings == 1


def test_expired_pings_are_closed_and_reported() -> None:
    tracker = PingTracker()
    tracker.sent(b"old", 0)
    tracker.sent(b"new", 9 * MS)
    assert tracker.expired(10 * MS, timeout_ns=5 * MS) == [(b"old", 0)]
    assert tracker.open_pings == 1
    assert tracker.pong(b"old", 11 * MS).unsolicited


@pytest.mark.parametrize("payload", [b"x" * 126, b"\xff" * 200])
def test_oversized_payload_is_refused(payload: bytes) -> None:
    with pytest.raises(ValueError, match="125 bytes"):
        PingTracker().sent(payload, 0)


def test_a_payload_still_open_cannot_be_reused() -> None:
    tracker = PingTracker()
    tracker.sent(b"same", 0)
    with pytest.raises(ValueError, match="still open"):
        tracker.sent(b"same", 1)


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


def test_rolling_window_agrees_with_the_stats_of_the_samples_inside_it() -> None:
    rng = random.Random(11)
    rolling = RollingRtt(window_ns=1_000 * MS)
    samples = []
    t = 0
    for _ in range(2_000):
        t += rng.randint(1, 40) * MS
        sample = RttSample(t, rng.randint(1, 200) * MS // 10)
        samples.append(sample)
        rolling.add(sample)
        inside = [s.rtt_ms for s in samples if t - s.ping_ns <= 1_000 * MS]
        assert rolling.stats() == rtt_stats(inside)
    # time passes with no new samples: the window empties
    assert rolling.stats(now_ns=t + 2_000 * MS) is None
    assert len(rolling) == 0


def test_pong_matcher_keeps_the_samples_in_the_order_the_pongs_came() -> None:
    from wsinspector.core.latency import PongMatcher

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
