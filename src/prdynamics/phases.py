"""Phase detection and stopping times measured on a recorded trajectory.

All functions take the output grid t (increasing) and the statistics recorded
on it.  Times are resolved to the grid: a crossing of a level is placed by
linear interpolation between the two samples around it; a time defined by
several conditions at once is the first grid time where all of them hold.
A time that never occurs is NaN.
"""

from __future__ import annotations

import numpy as np

THRESHOLD = 1.0 / 3.0  # the saddle level s = s*/3 with s* = 1


def first_upcrossing(t: np.ndarray, x: np.ndarray, level: float) -> float:
    """First time x reaches level from below, interpolated linearly; NaN if never."""
    t, x = np.asarray(t, float), np.asarray(x, float)
    above = np.flatnonzero(x >= level)
    if above.size == 0:
        return float("nan")
    k = int(above[0])
    if k == 0:
        return float(t[0])
    x0, x1 = x[k - 1], x[k]
    return float(t[k - 1] + (level - x0) * (t[k] - t[k - 1]) / (x1 - x0))


def first_time_all(t: np.ndarray, mask: np.ndarray) -> float:
    """First grid time where mask holds; NaN if never."""
    hits = np.flatnonzero(np.asarray(mask, bool))
    return float(t[hits[0]]) if hits.size else float("nan")


def escape_time(t, s, u, u2, delta: float) -> float:
    """T1: first time |u|, s and |u^(2)| all exceed delta (end of Phase I)."""
    s, u, u2 = (np.asarray(x, float) for x in (s, u, u2))
    return first_time_all(t, (np.abs(u) > delta) & (s > delta) & (np.abs(u2) > delta))


def threshold_time(t, s) -> float:
    """T_{1/3}: first time s crosses the saddle level 1/3."""
    return first_upcrossing(t, s, THRESHOLD)


def convergence_time(t, s, u, eps: float) -> float:
    """T2(eps): first time s and |u| are both within eps of 1.

    The paper's band is [1 - eps, 1]; s and |u| approach 1 from below, and the
    band is taken symmetric so that a rounding overshoot past 1 still counts.
    """
    s, u = np.asarray(s, float), np.abs(np.asarray(u, float))
    return first_time_all(t, (np.abs(1 - s) <= eps) & (np.abs(1 - u) <= eps))


def settled_time(t, x, level: float) -> float:
    """First grid time from which x stays >= level until the end; NaN if x ends below it."""
    x = np.asarray(x, float)
    below = np.flatnonzero(x < level)
    if below.size == 0:
        return float(t[0])
    k = int(below[-1]) + 1
    return float(t[k]) if k < len(t) else float("nan")


def threshold_report(t, s, margin_floor: float = 0.0) -> dict:
    """Upward crossings of s = 1/3, and the smallest s - 1/3 after the first one.

    Returns {"crossings", "min_margin", "stays_above"}: the number of upward
    crossings, min(s - 1/3) over samples after the first crossing (the measured
    s0), and whether s stayed above 1/3 + margin_floor after crossing.
    """
    s = np.asarray(s, float)
    above = s >= THRESHOLD
    crossings = int(np.sum(~above[:-1] & above[1:])) + int(above[0])
    first = np.flatnonzero(above)
    if first.size == 0:
        return {"crossings": 0, "min_margin": float("nan"), "stays_above": False}
    after = s[first[0] :] - THRESHOLD
    min_margin = float(np.min(after))
    return {"crossings": crossings, "min_margin": min_margin, "stays_above": bool(min_margin >= margin_floor)}


def stopping_times(t, stats: dict, delta: float, eps_list, s0: float) -> dict:
    """T1, T_{1/3}, T1' (s >= 1/3 + s0 from then on) and T2(eps) for every eps."""
    out = {
        "T1": escape_time(t, stats["s"], stats["u"], stats["u2"], delta),
        "T_third": threshold_time(t, stats["s"]),
        "T1_prime": settled_time(t, stats["s"], THRESHOLD + s0),
    }
    for eps in eps_list:
        out[f"T2_eps{eps:g}"] = convergence_time(t, stats["s"], stats["u"], eps)
    return out


def growth_rate(t, u, s, t_start: float, s_max: float, min_points: int = 5) -> float:
    """Phase I growth rate: least-squares slope of log|u| against t on the window
    t >= t_start, s <= s_max (while s is small, Theta(t) ~ t and u ~ A e^{rho t}).

    NaN when the window holds fewer than min_points samples.
    """
    t, u, s = (np.asarray(x, float) for x in (t, u, s))
    end = np.flatnonzero(s > s_max)
    stop = int(end[0]) if end.size else len(t)
    window = np.flatnonzero(t[:stop] >= t_start)
    if window.size < min_points:
        return float("nan")
    slope, _ = np.polyfit(t[window], np.log(np.abs(u[window])), 1)
    return float(slope)
