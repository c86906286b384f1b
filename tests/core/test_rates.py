"""Rates from running counters: the window they look over, and what they say."""

from __future__ import annotations

import pytest

from wsinspector.core.rates import Counters, RateMeter, Rates


def test_the_first_sample_has_no_span_yet() -> None:
    assert RateMeter().sample(10.0, Counters(5, 5, 50, 50)) is None


def test_rates_are_the_difference_over_the_span() -> None:
    meter = RateMeter()
    meter.sample(10.0, Counters(0, 0, 0, 0))
    rates = meter.sample(10.5, Counters(100, 50, 1_000, 500))
    assert rates == Rates(200.0, 100.0, 2_000.0, 1_000.0)


def test_old_samples_leave_the_window() -> None:
    meter = RateMeter(window_s=1.0)
    meter.sample(0.0, Counters(0, 0, 0, 0))  # a burst long ago
    meter.sample(0.5, Counters(1_000, 0, 1_000, 0))
    meter.sample(1.5, Counters(1_000, 0, 1_000, 0))
    rates = meter.sample(2.5, Counters(1_010, 0, 1_010, 0))
    assert rates is not None
    # the span starts at 1.5 s, the newest sample at least a second old: the burst no longer counts
    assert rates.frames_in == pytest.approx(10.0)


def test_a_quiet_link_reads_zero_and_a_still_clock_reads_nothing() -> None:
    meter = RateMeter()
    meter.sample(1.0, Counters(7, 7, 70, 70))
    assert meter.sample(2.0, Counters(7, 7, 70, 70)) == Rates()
    assert meter.sample(2.0, Counters(7, 7, 70, 70)) is not None  # the span is still from 1.0 s


def test_a_clock_that_goes_back_starts_again() -> None:
    meter = RateMeter()
    meter.sample(5.0, Counters(0, 0, 0, 0))
    assert meter.sample(1.0, Counters(10, 0, 0, 0)) is None


def test_reset_forgets_the_history() -> None:
    meter = RateMeter()
    meter.sample(1.0, Counters(0, 0, 0, 0))
    meter.reset()
    assert meter.sample(2.0, Counters(100, 0, 0, 0)) is None


def test_the_summary_a_user_reads() -> None:
    assert Rates(1234.4, 2.0, 2048.0, 10.0).summary() == "↓ 1,234 fr/s 2.0 KiB/s   ↑ 2 fr/s 10 B/s"


def _steady_one_a_second(jitter: tuple[float, ...]) -> list[float]:
    """The frame rates a meter reads every 0.5 s (give or take ``jitter``, in turn) of a peer sending one
    message a second, each at 0.3 s past the second: what the status bar and the Health page show."""
    meter = RateMeter(window_s=1.0)
    read = []
    for tick in range(40):
        now = tick * 0.5 + jitter[tick % len(jitter)]
        sent = sum(1 for second in range(30) if second + 0.3 <= now)
        rates = meter.sample(now, Counters(sent, 0, sent * 10, 0))
        if rates is not None and tick >= 4:
            read.append(rates.frames_in)
    return read


@pytest.mark.parametrize("jitter", [(0.0,), (0.004, -0.003), (-0.02, 0.015, 0.0, 0.02), (0.03, -0.03)],
                         ids=["exact", "small", "uneven", "alternating"])
def test_a_steady_rate_reads_steady_whatever_the_timer_jitter(jitter: tuple[float, ...]) -> None:
    read = _steady_one_a_second(jitter)
    assert read
    # a span stretched by one sampling interval would read 0.67 and 1.33 in turn
    assert min(read) > 0.9
    assert max(read) < 1.1
