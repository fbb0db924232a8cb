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


# --------------------------------------------------------------------------- Phase III tail exponent


def tail_origin(t, s, u, eps: float) -> float:
    """The time origin of every Phase III tail fit: T2(eps), the paper's start of Phase III.

    One origin for every study (scaling, init, inputs), each with its own Phase III eps.  The
    tail modes fitted (x_d >= x_lo, far beyond the x_d(T2) modes learned by T2) start decaying
    at rate 8 lam_i somewhere in [T1', T2]; the fit is insensitive to that choice to relative
    order (T2 - T1') / tau_lo (``tail_exponent_bias``), which is why one origin suffices.
    """
    return convergence_time(t, s, u, eps)


def tail_window(t, t_origin: float, d: int, a: float, x_lo: float, x_hi_frac: float) -> np.ndarray:
    """Mask of the grid samples with tau = t - t_origin > 0 and x_lo <= x_d(tau) <= x_hi_frac d.

    x_d(tau) = (16 tau / H_{d,a})^{1/a} (``theory.recovery_index``): 1 << x_d keeps the
    linearisation error O(x_d^{1-a}) small, x_d << d the missing tail a (x_d/d)^{a-1} / ((a-1) Gamma).
    Empty when the origin is NaN or x_lo > x_hi_frac d.
    """
    from .theory import recovery_index

    if not (x_lo > 0 and 0 < x_hi_frac <= 1):
        raise ValueError(f"need x_lo > 0 and 0 < x_hi_frac <= 1, got x_lo = {x_lo}, x_hi_frac = {x_hi_frac}")
    t = np.asarray(t, float)
    if not np.isfinite(t_origin):
        return np.zeros(t.shape, bool)
    tau = t - t_origin
    x = recovery_index(np.maximum(tau, 0.0), int(d), float(a))
    return (tau > 0) & (x >= x_lo) & (x <= x_hi_frac * d)


def tail_exponent(t, loss, t_origin: float, d: int, a: float, x_lo: float, x_hi_frac: float,
                  min_points: int) -> tuple[float, int]:
    """(beta, n): the tail exponent of L(t_origin + tau) ~ tau^-beta and its sample count.

    The one definition used by every study: origin t_origin = ``tail_origin`` (T2(eps)), window
    ``tail_window`` on the recorded grid samples, beta = minus the least-squares slope of log L
    against log tau there.  NaN when the window holds fewer than min_points samples or a loss
    there is not positive and finite.
    """
    t, loss = np.asarray(t, float), np.asarray(loss, float)
    if t.shape != loss.shape or t.ndim != 1:
        raise ValueError(f"t and loss must be 1-D of one length, got {t.shape} and {loss.shape}")
    if int(min_points) != min_points or min_points < 2:
        raise ValueError(f"min_points must be an integer >= 2, got {min_points}")
    window = tail_window(t, t_origin, d, a, x_lo, x_hi_frac)
    n = int(window.sum())
    if n < min_points or not np.all(np.isfinite(loss[window]) & (loss[window] > 0)):
        return float("nan"), n
    tau = t[window] - t_origin
    slope, _ = np.polyfit(np.log(tau), np.log(loss[window]), 1)
    return -float(slope), n


def tail_exponent_exact(t, t_origin: float, lam, e0, a: float, x_lo: float, x_hi_frac: float,
                        min_points: int) -> float:
    """The exact finite-window value of ``tail_exponent``: the same fit, on the same samples, of the
    linearised Phase III loss 4 sum_i lam_i e0_i^2 e^{-16 lam_i tau} (``theory.phase3_loss``).

    It holds the window's own bias (discrete sum, missing tail i > d, curvature over the window),
    which 1 - 1/a does not: at a = 1.5 it is 0.351 on a window where 1 - 1/a = 0.333.
    """
    from .theory import phase3_loss

    t = np.asarray(t, float)
    lam = np.asarray(lam, float)
    window = tail_window(t, t_origin, lam.size, a, x_lo, x_hi_frac)
    if window.sum() < min_points:
        return float("nan")
    model = np.full(t.shape, np.nan)
    model[window] = phase3_loss(t[window] - t_origin, lam, e0)
    return tail_exponent(t, model, t_origin, lam.size, a, x_lo, x_hi_frac, min_points)[0]


def tail_exponent_bias(a: float, d: int, x_lo: float, origin_spread: float) -> float:
    """Derived bound on |beta_run - beta_exact| left by the linearisation and the time origin.

    Linearisation: L = 4q + 8p^2 + 12pq + 3q^2 with p ~ -q (``theory.loss_law_constant``), so
    L = 4q (1 - q/4 + ...) with q ~ the tail mass x_d^{1-a} / ((a-1) H_{d,a}); a relative
    correction c x_d^{1-a} changes the log-log slope by (a-1)/a c x_d^{1-a}, at most
    x_lo^{1-a} / (4 a H_{d,a}) on the window.  Origin: the effective start of the tail decay lies
    in [T1', T2], so tau is uncertain by origin_spread = T2 - T1', changing the slope by at most
    beta origin_spread / tau_lo with beta <= 1 and tau_lo = H_{d,a} x_lo^a / 16 the window's start.
    The bound is the sum of the two.
    """
    from .model import harmonic

    h = harmonic(d, a)
    return float(x_lo ** (1.0 - a) / (4.0 * a * h) + abs(origin_spread) / (h * x_lo**a / 16.0))
