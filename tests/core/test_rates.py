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
