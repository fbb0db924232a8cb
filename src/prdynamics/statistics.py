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
