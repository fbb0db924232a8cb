"""Measurements shared by every study: power-law fits, log-log interpolation, seed statistics.

One implementation of each, so that a fitted exponent or a median band means the same thing in
every table and figure.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
from scipy import stats


def power_law_fit(x, y, min_points: int = 3) -> tuple[float, float]:
    """(exponent p, constant C) of the least-squares fit log y = log C + p log x.

    Points with x or y not positive and finite are left out; fewer than min_points left is an error.
    """
    x, y = np.asarray(x, float), np.asarray(y, float)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError("x and y must be 1-D arrays of one length")
    ok = np.isfinite(x) & np.isfinite(y) & (x > 0) & (y > 0)
    if ok.sum() < max(min_points, 2):
        raise ValueError(f"a power-law fit needs at least {min_points} positive finite points, "
                         f"got {int(ok.sum())}")
    p, log_c = np.polyfit(np.log(x[ok]), np.log(y[ok]), 1)
    return float(p), float(math.exp(log_c))


def loglog_interp(x, y, xq) -> np.ndarray:
    """y(xq) interpolated linearly in log y against log x over the positive finite points of (x, y);
    NaN outside their range, or everywhere with fewer than two such points."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    ok = np.isfinite(x) & np.isfinite(y) & (x > 0) & (y > 0)
    if ok.sum() < 2:
        return np.full(np.shape(xq), np.nan)
    return np.exp(np.interp(np.log(xq), np.log(x[ok]), np.log(y[ok]), left=np.nan, right=np.nan))


def median_curve(grid, xs, ys) -> np.ndarray:
    """Median over runs of y(x), each run log-log interpolated onto grid (NaN outside its range)."""
    rows = [loglog_interp(x, y, grid) for x, y in zip(xs, ys, strict=True)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns outside every run
        return np.nanmedian(np.asarray(rows), axis=0)


def mean_ci(values, level: float = 0.95) -> tuple[float, float, float]:
    """(mean, lower, upper): Student-t confidence interval of the mean over seeds (NaNs dropped).

    With a single value the interval is (value, NaN, NaN): one seed gives no spread.
    """
    v = np.asarray(values, float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return (math.nan, math.nan, math.nan)
    m = float(v.mean())
    if v.size == 1:
        return (m, math.nan, math.nan)
    half = float(stats.t.ppf(0.5 + level / 2, v.size - 1) * v.std(ddof=1) / math.sqrt(v.size))
    return (m, m - half, m + half)


def binomial_interval(k: int, n: int, level: float) -> tuple[float, float]:
    """Clopper-Pearson (exact) confidence interval of a proportion, k successes in n trials."""
    if not (0 <= k <= n and n > 0):
        raise ValueError(f"need 0 <= k <= n, n > 0; got k={k}, n={n}")
    alpha = 1 - level
    lo = 0.0 if k == 0 else float(stats.beta.ppf(alpha / 2, k, n - k + 1))
    hi = 1.0 if k == n else float(stats.beta.ppf(1 - alpha / 2, k + 1, n - k))
    return lo, hi


def count_interval(k: int, n: int, level: float) -> dict:
    """A count out of n with its Clopper-Pearson interval, ready for a finding's ``interval``."""
    lo, hi = binomial_interval(k, n, level)
    return {"count": int(k), "of": int(n), "fraction": k / n, "level": level, "fraction_ci": [lo, hi]}


def linear_fit(x, y) -> dict:
    """Least-squares line y = intercept + slope x over the finite points: slope, intercept, the
    slope's standard error, the residual degrees of freedom and R^2 (NaNs with < 2 distinct x)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    if np.unique(x).size < 2:
        return {"slope": math.nan, "intercept": math.nan, "slope_se": math.nan, "dof": 0, "r2": math.nan,
                "points": int(x.size)}
    slope, intercept = np.polyfit(x, y, 1)
    resid = y - (intercept + slope * x)
    dof = x.size - 2
    sxx = float(np.sum((x - x.mean()) ** 2))
    se = math.sqrt(float(resid @ resid) / dof / sxx) if dof > 0 else math.nan
    syy = float(np.sum((y - y.mean()) ** 2))
    r2 = 1.0 - float(resid @ resid) / syy if syy > 0 else math.nan
    return {"slope": float(slope), "intercept": float(intercept), "slope_se": se, "dof": int(dof), "r2": r2,
            "points": int(x.size)}


def t_interval(value: float, se: float, dof: int, level: float) -> list[float]:
    """value -+ the Student-t quantile of the level times se ([NaN, NaN] without residual dof)."""
    if dof < 1 or not math.isfinite(se):
        return [math.nan, math.nan]
    half = float(stats.t.ppf(0.5 + level / 2, dof)) * se
    return [value - half, value + half]


def ratio_of_means(y, x) -> dict:
    """Ratio of means sum y / sum x of paired i.i.d. draws with its delta-method standard error,
    se = sd(y - r x) / (sqrt(n) mean x), and dof n - 1 (for ``t_interval``)."""
    y, x = np.asarray(y, float), np.asarray(x, float)
    if y.shape != x.shape or y.ndim != 1 or y.size < 2:
        raise ValueError("y and x must be 1-D arrays of one length >= 2")
    r = float(y.sum() / x.sum())
    se = float(np.std(y - r * x, ddof=1) / (math.sqrt(y.size) * x.mean()))
    return {"ratio": r, "se": se, "dof": int(y.size - 1)}


def geometric_mean_ci(values, level: float) -> dict:
    """Geometric mean of positive values with the Student-t interval of the mean of their logs."""
    v = np.asarray(values, float)
    m, lo, hi = mean_ci(np.log(v[v > 0]), level)
    return {"geometric_mean": math.exp(m), "lower": math.exp(lo), "upper": math.exp(hi), "level": level}


def log2_ratio_interval(x, y, level: float) -> dict:
    """log2(mean x / mean y) of paired positive samples (x_r, y_r), with its delta-method interval.

    Pairs may be correlated (the same replica measured twice): the delta method linearises each
    pair, l_r = x_r / mean x - y_r / mean y, so the standard error std(l) / (sqrt(n) ln 2) carries
    the covariance; the interval is value -+ the Student-t quantile (n - 1 dof) times it.
    """
    x, y = np.asarray(x, float), np.asarray(y, float)
    if x.shape != y.shape or x.ndim != 1 or x.size < 2:
        raise ValueError(f"need two 1-D arrays of one length >= 2, got shapes {x.shape} and {y.shape}")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        nan = math.nan
        return {"value": nan, "se": nan, "interval": [nan, nan], "level": level, "n": int(x.size)}
    mx, my = float(x.mean()), float(y.mean())
    value = math.log2(mx / my)
    se = float(np.std(x / mx - y / my, ddof=1)) / math.sqrt(x.size) / math.log(2)
    return {"value": value, "se": se, "interval": t_interval(value, se, x.size - 1, level), "level": level,
            "n": int(x.size)}
