"""Plain population gradient descent w <- w - eta grad L(w), the paper's discrete-time method.

Recorded at t = steps * eta, the first step at or after each output time, so a GD run and a
flow run on the same grid compare at nearly the same continuous times.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from .flow import STAT_NAMES, ProgressFn, Trajectory, check_times, trajectory_statistics
from .model import FAST_REDUCTIONS, check_problem


@njit(cache=True, fastmath=FAST_REDUCTIONS)
def _gd_advance(lam, wstar, w, eta, n_steps, sstar):
    """n_steps of w <- w - eta grad L(w), in place; returns False on a non-finite value.  The sums of
    s and u are vectorised (FAST_REDUCTIONS: 4x faster at d = 1000 than in strict order)."""
    d = lam.shape[0]
    s = 0.0
    u = 0.0
    for i in range(d):
        s += lam[i] * w[i] * w[i]
        u += lam[i] * w[i] * wstar[i]
    for _ in range(n_steps):
        alpha = 4.0 * (sstar - 3.0 * s)
        beta = 8.0 * u
        s = 0.0
        u = 0.0
        for i in range(d):
            wi = w[i] + eta * lam[i] * (alpha * w[i] + beta * wstar[i])
            w[i] = wi
            s += lam[i] * wi * wi
            u += lam[i] * wi * wstar[i]
        if not (math.isfinite(s) and math.isfinite(u)):
            return False
    return True


def gd_record_steps(t_eval: np.ndarray, eta: float) -> np.ndarray:
    """Step counts at which GD with step eta records: the first step at or after each time."""
    steps = np.unique(np.maximum(1, np.ceil(np.asarray(t_eval) / eta - 1e-9).astype(np.int64)))
    return steps


def integrate_gd(
    lam: np.ndarray,
    wstar: np.ndarray,
    w0: np.ndarray,
    t_eval: np.ndarray,
    eta: float,
    progress: ProgressFn | None = None,
) -> Trajectory:
    """Population GD w <- w - eta grad L(w), recorded at t = steps * eta near t_eval."""
    lam, wstar, w = check_problem(lam, wstar, w0)
    t_eval = check_times(t_eval)
    if not (eta > 0 and np.isfinite(eta)):
        raise ValueError(f"eta must be positive and finite, got {eta}")
    sstar = float(np.sum(lam * wstar * wstar))
    steps = gd_record_steps(t_eval, eta)
    stats = np.empty((len(steps), len(STAT_NAMES)))
    done = 0
    for k, n in enumerate(steps):
        if not _gd_advance(lam, wstar, w, eta, int(n - done), sstar):
            raise FloatingPointError(f"population GD diverged before step {n} (eta = {eta})")
        done = int(n)
        stats[k] = trajectory_statistics(lam, wstar, w, sstar)
        if progress is not None:
            progress(done * eta, done)
    return Trajectory(
        t=steps * eta,
        stats={name: stats[:, j].copy() for j, name in enumerate(STAT_NAMES)},
        w_final=w.copy(),
        n_steps=int(steps[-1]),
        info={"method": "gd", "eta": eta},
    )
