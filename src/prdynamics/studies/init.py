"""Initialisation study: the same (w*, spectrum) started from other points than the paper's.

Starts (``study_starts``): the named starts of ``robustness.named_starts`` (sphere of radius
d^-1/2, 1 and sqrt(d), N(0, I/d), a warm start with u(0) = 0.1, the sphere of the first ten
coordinates) and one strongly "from above" start, the sphere of radius d.  With tr Q = 1 a
random direction of norm r has s = w^T Q w ~ r^2 / d, so the norm-sqrt(d) start has s(0) ~ 1
(not ~ d; it fluctuates around 1 with the top modes' chi-square draws) and the norm-d start
s(0) ~ d, where the early flow is stiff (rate 4 lam_1 (1 - 3 s) ~ -12 d lam_1).

Randomness (``start_state``).  Every start of a run shares the run's target (seeding.problem).
The three sphere radii share the paper's direction (the run's INIT_STREAM draw, rescaled):
common random numbers, so the radius is the only difference between them and T1 shifts by
log(1/r) / rho seed by seed.  The other starts draw from their own streams (START_STREAMS).

Measurements on a recorded trajectory (pure functions, no I/O):
``threshold_passages`` (how s meets 1/3, from below or from above), ``mse_ratio`` and
``phase3_gap`` (MSE(T2 + tau) / MSE(T2) and its largest relative gap to a reference run),
``decay_exponent`` (log-log slope of the loss in a Phase III window), ``phase3_taus``
(the window 1 <= x_d <= x_hi d of theory.recovery_index) and ``log_d_exponent`` (slope of
rho T1 against log d: T1 ~ p log(d) / rho when |u(0)| ~ d^-p).
"""

from __future__ import annotations

import math

import numpy as np

from ..model import harmonic
from ..phases import THRESHOLD
from ..robustness import initial_state, named_starts
from ..seeding import INIT_STREAM, rng_for

#: Streams of the starts that do not reuse the paper's direction (seeding.py uses 0, 1, 2).
START_STREAMS = {"gaussian": 41, "warm_u0.1": 42, "top_k10": 43}

#: The paper's start, the reference of every comparison.
PAPER_START = "sphere_r1"

#: Sphere starts that rescale the paper's direction.
SPHERE_STARTS = ("sphere_r1", "sphere_rinvsqrtd", "sphere_rsqrtd", "sphere_rd")


def study_starts(d: int) -> dict[str, tuple[str, dict]]:
    """name -> (kind, params) of robustness.initial_state: named_starts(d) plus sphere_rd (norm d)."""
    starts = named_starts(d)
    starts["sphere_rd"] = ("sphere", {"r": float(d)})
    return starts


def start_state(name: str, lam: np.ndarray, wstar: np.ndarray, seed: int, base_seed: int = 0) -> np.ndarray:
    """w(0) of the named start for run (d = len(lam), seed), sharing the run's target w*."""
    d = int(np.asarray(lam).shape[0])
    starts = study_starts(d)
    if name not in starts:
        raise ValueError(f"unknown start {name!r}; choose one of {', '.join(starts)}")
    kind, params = starts[name]
    stream = INIT_STREAM if name in SPHERE_STARTS else START_STREAMS[name]
    return initial_state(kind, lam, wstar, rng_for(base_seed, d, seed, stream), **params)


def initial_statistics(w0: np.ndarray, lam: np.ndarray, wstar: np.ndarray) -> dict[str, float]:
    """s(0), u(0), u^(2)(0) and ||w(0)|| of a start."""
    w0, lam, wstar = (np.asarray(x, float) for x in (w0, lam, wstar))
    return {"s": float(np.sum(lam * w0 * w0)), "u": float(np.sum(lam * w0 * wstar)),
            "u2": float(np.sum(lam * lam * w0 * wstar)), "norm": float(np.linalg.norm(w0))}


def threshold_passages(s: np.ndarray, s_init: float) -> dict:
    """How s meets the saddle level 1/3 along a trajectory sampled at s (s_init = s(0)).

    Returns from_above (s(0) >= 1/3), up and down (numbers of upward and downward crossings,
    counting the step from s(0) to the first sample), final_above (s ends >= 1/3) and
    min_margin: min(s - 1/3) over the samples from the last upward crossing on (from the
    start when s never crosses upwards and starts above; NaN when it ends below).
    The paper's picture is from_above = False, up = 1, down = 0, min_margin > 0.
    """
    s = np.concatenate([[float(s_init)], np.asarray(s, float)])
    if not np.all(np.isfinite(s)):
        raise ValueError("s has non-finite entries")
    above = s >= THRESHOLD
    ups = np.flatnonzero(~above[:-1] & above[1:]) + 1
    down = int(np.sum(above[:-1] & ~above[1:]))
    if not above[-1]:
        min_margin = float("nan")
    else:
        start = int(ups[-1]) if ups.size else 0
        min_margin = float(np.min(s[start:] - THRESHOLD))
    return {"from_above": bool(above[0]), "up": int(ups.size), "down": down,
            "final_above": bool(above[-1]), "min_margin": min_margin}


def phase3_taus(d: int, a: float, x_hi: float, n: int = 25) -> np.ndarray:
    """n log-spaced tau with recovery index x_d(tau) = (16 tau / H_{d,a})^{1/a} from 1 to x_hi d."""
    if not (0 < x_hi <= 1) or n < 2:
        raise ValueError(f"need 0 < x_hi <= 1 and n >= 2, got x_hi={x_hi}, n={n}")
    if not a > 0:
        raise ValueError(f"the Phase III window needs a > 0, got a={a}")
    x = np.geomspace(1.0, max(x_hi * d, 1.0 + 1e-9), n)
    return harmonic(d, a) * x**a / 16.0


def _loglog_interp(t, y, tq):
    t, y = np.asarray(t, float), np.asarray(y, float)
    ok = np.isfinite(y) & (y > 0)
    if ok.sum() < 2:
        return np.full(np.shape(tq), np.nan)
    out = np.exp(np.interp(np.log(tq), np.log(t[ok]), np.log(y[ok]), left=np.nan, right=np.nan))
    return out


def mse_ratio(t: np.ndarray, mse: np.ndarray, t2: float, taus: np.ndarray) -> np.ndarray:
    """MSE(T2 + tau) / MSE(T2), log-log interpolated on the output grid; NaN beyond the run's end."""
    taus = np.asarray(taus, float)
    if not (math.isfinite(t2) and t2 > 0):
        return np.full(taus.shape, np.nan)
    m2 = _loglog_interp(t, mse, np.array([t2]))[0]
    return _loglog_interp(t, mse, t2 + taus) / m2


def phase3_gap(ratio: np.ndarray, ratio_ref: np.ndarray) -> float:
    """max over tau of |ratio / ratio_ref - 1| (NaN when either has a NaN: a window not covered)."""
    ratio, ratio_ref = np.asarray(ratio, float), np.asarray(ratio_ref, float)
    if ratio.shape != ratio_ref.shape or ratio.size == 0:
        raise ValueError("ratio and ratio_ref must be non-empty arrays of one shape")
    if not (np.all(np.isfinite(ratio)) and np.all(np.isfinite(ratio_ref))):
        return float("nan")
    return float(np.max(np.abs(ratio / ratio_ref - 1.0)))


def decay_exponent(t: np.ndarray, loss: np.ndarray, t2: float, taus: np.ndarray) -> float:
    """beta with L(T2 + tau) ~ tau^-beta: least-squares slope of log L against log tau on taus."""
    taus = np.asarray(taus, float)
    values = _loglog_interp(t, loss, t2 + taus) if math.isfinite(t2) else np.full(taus.shape, np.nan)
    if not np.all(np.isfinite(values)) or taus.size < 3:
        return float("nan")
    slope, _ = np.polyfit(np.log(taus), np.log(values), 1)
    return float(-slope)


def log_d_exponent(d_values, rho_t1) -> dict:
    """Fit rho T1 = c + p log d over runs: p (d-exponent of the Phase I plateau), its standard error.

    When |u(0)| ~ d^-p the escape u ~ A e^{rho t} needs rho T1 ~ p log d + O(1) (p = 1/2 for the
    paper's start).  NaN runs are left out; fewer than two d values give NaN.
    """
    x, y = np.log(np.asarray(d_values, float)), np.asarray(rho_t1, float)
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    if np.unique(x).size < 2:
        return {"p": float("nan"), "p_se": float("nan"), "runs": int(x.size)}
    p, c = np.polyfit(x, y, 1)
    resid = y - (c + p * x)
    dof = max(x.size - 2, 1)
    se = math.sqrt(float(resid @ resid) / dof / float(np.sum((x - x.mean()) ** 2)))
    return {"p": float(p), "p_se": se, "runs": int(x.size)}


def overlap_rms(a: float, d: int, name: str, seeds, base_seed: int = 0) -> float:
    """sqrt(mean u(0)^2) of the named start over the given seeds (each with its own target).

    Costs no integration, so many seeds pin down the d-scaling |u(0)| ~ d^-p_u of a start, which
    a handful of flow runs cannot (u(0) is dominated by the top modes and scatters by O(1) factors).
    """
    from ..seeding import problem

    values = []
    for seed in seeds:
        lam, wstar, _ = problem(a, d, int(seed), base_seed)
        w0 = start_state(name, lam, wstar, int(seed), base_seed)
        values.append(float(np.sum(lam * w0 * wstar)) ** 2)
    if not values:
        raise ValueError("overlap_rms needs at least one seed")
    return math.sqrt(float(np.mean(values)))


def plateau_law(rho_t1, u_init) -> dict:
    """Fit rho T1 = c + q log(1 / |u(0)|) over runs: q = 1 when the plateau lasts log(1/|u(0)|) / rho."""
    x = np.log(1.0 / np.abs(np.asarray(u_init, float)))
    y = np.asarray(rho_t1, float)
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    if x.size < 3 or np.ptp(x) == 0:
        return {"q": float("nan"), "c": float("nan"), "r2": float("nan"), "runs": int(x.size)}
    q, c = np.polyfit(x, y, 1)
    resid = y - (c + q * x)
    r2 = 1.0 - float(resid @ resid) / float(np.sum((y - y.mean()) ** 2))
    return {"q": float(q), "c": float(c), "r2": r2, "runs": int(x.size)}
