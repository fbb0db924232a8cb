"""The shared measurements (prdynamics.statistics) against closed forms."""

import numpy as np
import pytest

from prdynamics import statistics


def test_loglog_interp_is_exact_on_a_power_law():
    x = np.geomspace(1.0, 1e3, 7)
    xq = np.array([2.0, 30.0, 999.0])
    assert np.allclose(statistics.loglog_interp(x, 5.0 * x**-0.7, xq), 5.0 * xq**-0.7, rtol=1e-12)


def test_loglog_interp_is_nan_outside_and_skips_bad_points():
    x = np.array([1.0, 10.0, 100.0, 1000.0])
    y = np.array([1.0, np.nan, 0.01, -1.0])  # only (1, 1) and (100, 0.01) are usable: y = 1/x
    got = statistics.loglog_interp(x, y, np.array([0.5, 10.0, 200.0]))
    assert np.isnan(got[0]) and np.isnan(got[2])
    assert got[1] == pytest.approx(0.1, rel=1e-12)
    assert np.all(np.isnan(statistics.loglog_interp(x[:1], y[:1], x)))


def test_median_curve_is_the_pointwise_median_of_the_runs():
    grid = np.geomspace(1.0, 10.0, 5)
    xs = [np.geomspace(1.0, 10.0, 3)] * 3
    ys = [c * xs[0] ** 2 for c in (1.0, 2.0, 7.0)]
    assert np.allclose(statistics.median_curve(grid, xs, ys), 2.0 * grid**2, rtol=1e-12)


def test_power_law_fit_drops_bad_points_and_needs_enough():
    x = np.array([1.0, 2.0, 4.0, 8.0, -1.0])
    y = np.array([3.0, 1.5, 0.75, 0.375, 5.0])
    p, c = statistics.power_law_fit(x, y)
    assert p == pytest.approx(-1.0, abs=1e-12) and c == pytest.approx(3.0, rel=1e-12)
    with pytest.raises(ValueError, match="at least 5"):
        statistics.power_law_fit(x, y, min_points=5)
