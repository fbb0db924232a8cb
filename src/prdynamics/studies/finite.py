"""Full-batch gradient descent on a fixed sample of n points (finite-sample phase retrieval).

Sample: x_k = sqrt(lam) * z_k, z_k ~ N(0, I_d), y_k = (x_k . w*)^2 + xi_k, xi_k ~ N(0, sigma^2),
k = 1..n, reused at every step.  Empirical loss and gradient (per-sample loss without a 1/2):
    L_n(w)      = mean_k ((x_k.w)^2 - y_k)^2,
    grad L_n(w) = 4 mean_k ((x_k.w)^2 - y_k) (x_k.w) x_k,
and GD is w <- w - eta grad L_n(w), with time t = steps * eta.  Over the draw of the sample,
E L_n(w) = L(w) + sigma^2 and E grad L_n(w) = grad L(w), with L the population loss of
prdynamics.population (the noise is independent of x and has mean zero).  So the test loss of w
is L(w) + sigma^2 (closed form), and L(w) is its excess over the noise level.

Streams.  z comes from rng_for(base_seed, d, seed, FINITE_STREAM) and the standardised noise
from rng_for(base_seed, d, seed, FINITE_STREAM, 1); both are drawn row by row, so the sample of
size n is the first n rows of any larger one (nested samples, common random numbers across n)
and the noise of every sigma is the same standard normal vector times sigma.

Noise floor.  Near w* the linearised GD error after N steps is e_N = -(I - (I - eta H)^N) H^{-1} g
with H = 8 Q + 16 Q w* w*^T Q the population Hessian at w* and g the noise part of the empirical
gradient, Cov(g) = 16 sigma^2 (Q + 2 Q w* w*^T Q) / n = 2 sigma^2 H / n.  Hence the excess test
loss (1/2) e^T H e has mean (sigma^2 / n) sum_j (1 - (1 - eta h_j)^N)^2 over the eigenvalues h_j
of H: sigma^2 d / n once every mode is learned (noise_floor below; leading order in d / n).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from numba import njit

from ..flow import STAT_NAMES, Trajectory, _check_problem, _check_times, _summary, gd_record_steps
from ..population import hessian
from ..seeding import rng_for

#: Stream id of the finite-sample draws (0-2 are the target, start and online-SGD streams).
FINITE_STREAM = 5

#: Statistics of a finite-sample run: the population ones plus the empirical (train) loss.
FINITE_STAT_NAMES = (*STAT_NAMES, "train")

#: |w| beyond this counts as divergence (|w*| is O(sqrt(d)), the start has norm 1).
W_LIMIT = 1e6

ProgressFn = Callable[[float, int], None]


def draw_sample(lam: np.ndarray, wstar: np.ndarray, n: int, sigma: float, base_seed: int, d: int,
                seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The sample (X, y) of n points of one run: X of shape (n, d), y of length n."""
    lam = np.asarray(lam, dtype=np.float64)
    wstar = np.asarray(wstar, dtype=np.float64)
    if int(n) != n or n < 1:
        raise ValueError(f"n must be a positive integer, got {n}")
    if not (sigma >= 0 and math.isfinite(sigma)):
        raise ValueError(f"sigma must be finite and >= 0, got {sigma}")
    if lam.shape != (d,) or wstar.shape != (d,):
        raise ValueError(f"lam and wstar must have length d = {d}")
    z = rng_for(base_seed, d, seed, FINITE_STREAM).standard_normal((int(n), d))
    xi = rng_for(base_seed, d, seed, FINITE_STREAM, 1).standard_normal(int(n))
    X = z * np.sqrt(lam)
    y = (X @ wstar) ** 2 + sigma * xi
    return X, y


def empirical_loss(w: np.ndarray, X: np.ndarray, y: np.ndarray) -> float:
    """L_n(w) = mean_k ((x_k.w)^2 - y_k)^2."""
    z = X @ w
    return float(np.mean((z * z - y) ** 2))


def empirical_gradient(w: np.ndarray, X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """grad L_n(w) = 4 mean_k ((x_k.w)^2 - y_k) (x_k.w) x_k."""
    z = X @ w
    return 4.0 * (X.T @ ((z * z - y) * z)) / X.shape[0]


@njit(cache=True, fastmath={"reassoc", "contract"})
def _gd_advance(X, y, w, eta, n_steps, w_limit):
    """n_steps of full-batch GD in place, one pass over X per step (each row is read once: its
    dot product with w, then its share of the gradient, while it is in cache).  Returns the
    number of steps done before a non-finite or too large w (n_steps when none)."""
    n, d = X.shape
    g = np.empty(d)
    c = 4.0 * eta / n
    for step in range(n_steps):
        g[:] = 0.0
        for k in range(n):
            row = X[k]
            z = 0.0
            for i in range(d):
                z += row[i] * w[i]
            r = (z * z - y[k]) * z
            for i in range(d):
                g[i] += r * row[i]
        big = 0.0
        for i in range(d):
            w[i] -= c * g[i]
            big = max(big, abs(w[i]))
        if not big <= w_limit:  # also catches NaN
            return step + 1
    return n_steps


def run_gd(X: np.ndarray, y: np.ndarray, lam: np.ndarray, wstar: np.ndarray, w0: np.ndarray,
           t_eval: np.ndarray, eta: float, progress: ProgressFn | None = None) -> Trajectory:
    """Full-batch GD on the sample (X, y) from w0, recorded at t = steps * eta near t_eval.

    Records the population statistics of prdynamics.flow (s, u, s2, u2, mse and the population
    loss L(w)) and the empirical loss "train" = L_n(w).  A run whose w becomes non-finite or
    exceeds W_LIMIT is flagged (info["diverged"], info["t_diverged"]) and its statistics are NaN
    from that step on; it does not raise.
    """
    lam, wstar, w = _check_problem(lam, wstar, w0)
    t_eval = _check_times(t_eval)
    X = np.ascontiguousarray(X, dtype=np.float64)
    y = np.ascontiguousarray(y, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != lam.shape[0] or y.shape != (X.shape[0],):
        raise ValueError(f"X must have shape (n, {lam.shape[0]}) and y shape (n,), got {X.shape}, {y.shape}")
    if not (np.all(np.isfinite(X)) and np.all(np.isfinite(y))):
        raise ValueError("X and y must be finite")
    if not (eta > 0 and math.isfinite(eta)):
        raise ValueError(f"eta must be positive and finite, got {eta}")
    sstar = float(np.sum(lam * wstar * wstar))
    steps = gd_record_steps(t_eval, eta)
    stats = np.full((len(steps), len(FINITE_STAT_NAMES)), np.nan)
    done, diverged, t_div = 0, False, math.nan
    for k, n_rec in enumerate(steps):
        todo = int(n_rec - done)
        made = _gd_advance(X, y, w, eta, todo, W_LIMIT)
        if made < todo:
            diverged, t_div = True, (done + made) * eta
            break
        done = int(n_rec)
        stats[k, :-1] = _summary(lam, wstar, w, sstar)
        stats[k, -1] = empirical_loss(w, X, y)
        if progress is not None:
            progress(done * eta, done)
    return Trajectory(
        t=steps * eta,
        stats={name: stats[:, j].copy() for j, name in enumerate(FINITE_STAT_NAMES)},
        w_final=w.copy() if not diverged else np.full_like(w, np.nan),
        n_steps=done,
        info={"method": "finite_gd", "eta": eta, "n": X.shape[0], "diverged": diverged,
              "t_diverged": t_div},
    )


def learned_modes(lam: np.ndarray, wstar: np.ndarray, eta: float, n_steps: int) -> float:
    """k_eff(N) = sum_j (1 - (1 - eta h_j)^N)^2 over the eigenvalues h_j of the population Hessian
    at w* (the number of modes GD has fitted after N steps; d once all are learned)."""
    if not (eta > 0) or n_steps < 0:
        raise ValueError(f"need eta > 0 and n_steps >= 0, got {eta}, {n_steps}")
    wstar = np.asarray(wstar, dtype=np.float64)
    h = np.linalg.eigvalsh(hessian(wstar, np.asarray(lam, dtype=np.float64), wstar))
    return float(np.sum((1.0 - (1.0 - eta * h) ** int(n_steps)) ** 2))


def noise_floor(lam: np.ndarray, wstar: np.ndarray, eta: float, n_steps: int, sigma2: float, n) -> np.ndarray:
    """Predicted mean excess test loss from label noise after N GD steps: sigma^2 k_eff(N) / n."""
    if sigma2 < 0:
        raise ValueError(f"sigma2 must be >= 0, got {sigma2}")
    return sigma2 * learned_modes(lam, wstar, eta, n_steps) / np.asarray(n, dtype=np.float64)


def sample_limited_threshold(n_over_d, ratio, factor: float) -> dict:
    """The rule of the sample-floor finding, on a grid of n/d and the horizon ratios
    ratio = (test loss of the finite-sample run) / (test loss of the population run).

    n/d is sample-limited when ratio >= factor (the finite-sample excess is at least
    (factor - 1) times the spectral-tail term).  Returns the largest sample-limited n/d
    (NaN if none), the smallest n/d from which every larger grid value is tail-limited
    (NaN if the largest is still sample-limited), and whether the grid is monotone (no
    sample-limited n/d above a tail-limited one).
    """
    x = np.asarray(n_over_d, dtype=np.float64)
    r = np.asarray(ratio, dtype=np.float64)
    if x.shape != r.shape or x.ndim != 1 or x.size == 0:
        raise ValueError("n_over_d and ratio must be 1-D arrays of one length")
    if not factor > 1:
        raise ValueError(f"factor must be > 1, got {factor}")
    order = np.argsort(x)
    x, r = x[order], r[order]
    limited = ~(r < factor)  # NaN (a diverged run) counts as sample-limited
    lim_max = float(x[limited].max()) if limited.any() else math.nan
    tail_from = math.nan
    for k in range(x.size):
        if not limited[k:].any():
            tail_from = float(x[k])
            break
    monotone = bool(not limited.any() or not (~limited[: int(np.flatnonzero(limited).max())]).any())
    return {"sample_limited_max": lim_max, "tail_limited_from": tail_from, "monotone": monotone}


def crossing_time(t: np.ndarray, x: np.ndarray, level: float) -> float:
    """First time x reaches level, interpolated linearly in x against log t; NaN if x never
    reaches it, or already has at the first record time."""
    t = np.asarray(t, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    hit = np.flatnonzero(x >= level)
    if hit.size == 0 or hit[0] == 0:
        return math.nan
    k = int(hit[0])
    frac = (level - x[k - 1]) / (x[k] - x[k - 1])
    return float(np.exp(np.log(t[k - 1]) + frac * (np.log(t[k]) - np.log(t[k - 1]))))


def population_match(t: np.ndarray, run: dict, ref: dict, t_end: float, u_level: float = 0.9) -> dict:
    """How closely one finite-sample run follows the population run of its seed.

    escape_shift: |T_u / T_u^pop - 1| with T_u the time |u| first reaches u_level;
    dev_loss, dev_mse: max |log(run / ref)| of the population loss and of the MSE over the record
    times from T_u^pop to t_end (after the escape a time shift no longer dominates the values).
    NaN entries in run (divergence) give NaN.
    """
    t = np.asarray(t, dtype=np.float64)
    t_ref = crossing_time(t, np.abs(ref["u"]), u_level)
    t_run = crossing_time(t, np.abs(run["u"]), u_level)
    window = (t >= t_ref) & (t <= t_end * (1 + 1e-12))
    out = {"escape_shift": abs(t_run / t_ref - 1.0)}
    for key in ("loss", "mse"):
        if not window.any():
            out[f"dev_{key}"] = math.nan
            continue
        dev = np.abs(np.log(np.asarray(run[key])[window] / np.asarray(ref[key])[window]))
        out[f"dev_{key}"] = float(dev.max()) if np.all(np.isfinite(dev)) else math.nan
    return out


def decay_exponent(t: np.ndarray, x: np.ndarray, t_from: float) -> float:
    """Log-log slope of x between the record time nearest t_from and the last one."""
    t = np.asarray(t, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    k = int(np.argmin(np.abs(np.log(t / t_from))))
    if k >= len(t) - 1:
        raise ValueError(f"t_from = {t_from} leaves no interval before the last time {t[-1]}")
    return float(np.log(x[-1] / x[k]) / np.log(t[-1] / t[k]))


def loglog_slope(x, y) -> float:
    """Least-squares slope of log y against log x (NaN unless every y is positive and finite)."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.size < 2 or not (np.all(np.isfinite(y)) and np.all(y > 0)):
        return math.nan
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])
