import numpy as np
import pytest

from prdynamics import phases


def test_first_upcrossing_interpolates():
    t = np.array([1.0, 2.0, 3.0, 4.0])
    x = np.array([0.0, 0.2, 0.6, 1.0])
    assert phases.first_upcrossing(t, x, 0.4) == pytest.approx(2.5)
    assert np.isnan(phases.first_upcrossing(t, x, 2.0))
    assert phases.first_upcrossing(t, x, -1.0) == 1.0


def test_stopping_times_on_a_logistic_trajectory():
    t = np.geomspace(1e-2, 1e3, 2001)
    s = 1 / (1 + np.exp(-(t - 10.0)))  # crosses 1/3 at t = 10 - log 2
    u = -s  # the sign of u is irrelevant
    u2 = 0.5 * u
    assert phases.threshold_time(t, s) == pytest.approx(10 - np.log(2), abs=1e-3)
    # times defined by conditions are resolved to the first grid time at or after the exact one
    def next_grid_time(exact):
        return t[np.searchsorted(t, exact)]

    # T1 with delta = 0.1: all of |u|, s, |u2| > 0.1 -> |u2| = s/2 > 0.1 -> s > 0.2
    assert phases.escape_time(t, s, u, u2, 0.1) == next_grid_time(10 - np.log(4))
    # T2(0.05): s >= 0.95 -> t = 10 + log 19
    assert phases.convergence_time(t, s, u, 0.05) == next_grid_time(10 + np.log(19))
    times = phases.stopping_times(t, {"s": s, "u": u, "u2": u2}, 0.1, [0.1, 0.05], s0=0.05)
    assert set(times) == {"T1", "T_third", "T1_prime", "T2_eps0.1", "T2_eps0.05"}


def test_settled_time():
    t = np.arange(6.0)
    assert phases.settled_time(t, np.array([0.1, 0.5, 0.2, 0.6, 0.7, 0.8]), 0.4) == 3.0
    assert phases.settled_time(t, np.full(6, 0.5), 0.4) == 0.0
    assert np.isnan(phases.settled_time(t, np.array([0.5] * 5 + [0.1]), 0.4))


def test_threshold_report_counts_crossings():
    s = np.array([0.1, 0.2, 0.4, 0.5, 0.3, 0.6, 0.9])
    rep = phases.threshold_report(np.arange(7.0), s)
    assert rep["crossings"] == 2
    assert rep["min_margin"] == pytest.approx(0.3 - 1 / 3)
    assert not rep["stays_above"]
    rep = phases.threshold_report(np.arange(4.0), np.array([0.1, 0.4, 0.8, 1.0]))
    assert rep["crossings"] == 1 and rep["stays_above"]
    assert rep["min_margin"] == pytest.approx(0.4 - 1 / 3)
