"""The shared measurements (prdynamics.statistics) against closed forms."""

import math

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


def test_binomial_interval_matches_the_exact_clopper_pearson_values():
    from prdynamics.statistics import binomial_interval, count_interval

    # closed forms: k = 0 gives [0, 1 - (alpha/2)^(1/n)], k = n gives [(alpha/2)^(1/n), 1]
    assert binomial_interval(0, 5, 0.95) == pytest.approx((0.0, 1 - 0.025 ** (1 / 5)))
    assert binomial_interval(5, 5, 0.95) == pytest.approx((0.025 ** (1 / 5), 1.0))
    # 1 of 2: the beta quantiles solve 1 - (1 - p)^2 = alpha/2 and p^2 = 1 - alpha/2
    lo, hi = binomial_interval(1, 2, 0.95)
    assert lo == pytest.approx(1 - math.sqrt(1 - 0.025)) and hi == pytest.approx(math.sqrt(1 - 0.025))
    c = count_interval(1, 5, 0.95)
    assert (c["count"], c["of"], c["fraction"]) == (1, 5, 0.2)
    assert c["fraction_ci"][0] < 0.2 < c["fraction_ci"][1]
    with pytest.raises(ValueError):
        binomial_interval(3, 2, 0.95)


def test_linear_fit_and_t_interval_against_a_known_line():
    from prdynamics.statistics import linear_fit, t_interval

    x = np.arange(6.0)
    fit = linear_fit(x, 2.0 + 0.5 * x)
    assert (fit["slope"], fit["intercept"], fit["dof"]) == (pytest.approx(0.5), pytest.approx(2.0), 4)
    assert fit["slope_se"] == pytest.approx(0.0, abs=1e-12) and fit["r2"] == pytest.approx(1.0)
    # residuals +-1 alternating: se = sqrt(sum r^2 / dof / Sxx) by hand
    y = 2.0 + 0.5 * x + np.array([1, -1, 1, -1, 1, -1.0])
    fit = linear_fit(x, y)
    resid = y - (fit["intercept"] + fit["slope"] * x)
    se = math.sqrt(resid @ resid / 4 / np.sum((x - x.mean()) ** 2))
    assert fit["slope_se"] == pytest.approx(se)
    lo, hi = t_interval(fit["slope"], se, 4, 0.95)
    assert (hi - lo) / 2 == pytest.approx(2.7764451 * se, rel=1e-6)  # t_{0.975, 4}
    assert linear_fit([1.0, 1.0], [0.0, 1.0])["slope"] != linear_fit([1.0, 1.0], [0.0, 1.0])["slope"]  # NaN


def test_geometric_mean_ci_is_the_mean_ci_of_the_logs():
    from prdynamics.statistics import geometric_mean_ci, mean_ci

    v = [1.0, 2.0, 4.0, 8.0]
    g = geometric_mean_ci(v, 0.9)
    m, lo, hi = mean_ci(np.log(v), 0.9)
    assert g["geometric_mean"] == pytest.approx(math.sqrt(8.0))
    assert (g["lower"], g["upper"]) == (pytest.approx(math.exp(lo)), pytest.approx(math.exp(hi)))


def test_log2_ratio_interval_covers_a_known_ratio_and_uses_the_pairing():
    # chi^2_1 gaps (one dominant direction, the worst case of sgd_grid.flow_limit): x has twice the
    # mean of y, so log2 of the ratio of means is 1; independent pairs: SE = sqrt(2 + 2) / (sqrt n ln 2)
    rng = np.random.default_rng(1)
    n, reps, level = 128, 400, 0.9
    covered, ses = 0, []
    for _ in range(reps):
        x, y = 2.0 * rng.standard_normal(n) ** 2, rng.standard_normal(n) ** 2
        r = statistics.log2_ratio_interval(x, y, level)
        covered += r["interval"][0] <= 1.0 <= r["interval"][1]
        ses.append(r["se"])
    assert abs(covered / reps - level) < 3 * math.sqrt(level * (1 - level) / reps) + 0.02
    assert np.median(ses) == pytest.approx(math.sqrt(4 / n) / math.log(2), rel=0.15)
    # fully correlated pairs (y a fixed multiple of x): no spread at all
    x = rng.standard_normal(n) ** 2
    r = statistics.log2_ratio_interval(x, x / 4, level)
    assert r["value"] == pytest.approx(2.0) and r["se"] < 1e-12
    assert math.isnan(statistics.log2_ratio_interval(np.append(x[1:], np.nan), x, level)["value"])


def test_ratio_of_means_se_is_the_jackknife_one():
    """The delta-method se of sum y / sum x against the jackknife (independent; they agree to O(1/n))."""
    from prdynamics.statistics import ratio_of_means

    rng = np.random.default_rng(3)
    x = rng.chisquare(3, 4000)
    y = 0.7 * x + rng.standard_normal(4000) * (0.5 + x)
    r = ratio_of_means(y, x)
    assert r["ratio"] == pytest.approx(y.sum() / x.sum()) and r["dof"] == 3999
    loo = (y.sum() - y) / (x.sum() - x)
    jack = math.sqrt((x.size - 1) / x.size * np.sum((loo - loo.mean()) ** 2))
    assert r["se"] == pytest.approx(jack, rel=0.02)
    exact = ratio_of_means(2.0 * x, x)
    assert exact["ratio"] == pytest.approx(2.0) and exact["se"] == pytest.approx(0.0, abs=1e-14)
    with pytest.raises(ValueError):
        ratio_of_means([1.0], [1.0])
