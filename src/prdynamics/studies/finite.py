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

from ..claims import Claim, check, finding
from ..flow import STAT_NAMES, Trajectory, check_times, trajectory_statistics
from ..gd import gd_record_steps
from ..model import check_problem
from ..phases import first_upcrossing
from ..population import hessian
from ..seeding import FINITE_STREAM, rng_for
from ..statistics import geometric_mean_ci, mean_ci, power_law_fit
from . import StudyInputError

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
    lam, wstar, w = check_problem(lam, wstar, w0)
    t_eval = check_times(t_eval)
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
        stats[k, :-1] = trajectory_statistics(lam, wstar, w, sstar)
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


def population_match(t: np.ndarray, run: dict, ref: dict, t_end: float, u_level: float = 0.9) -> dict:
    """How closely one finite-sample run follows the population run of its seed.

    escape_shift: |T_u / T_u^pop - 1| with T_u the time |u| first reaches u_level;
    dev_loss, dev_mse: max |log(run / ref)| of the population loss and of the MSE over the record
    times from T_u^pop to t_end (after the escape a time shift no longer dominates the values).
    NaN entries in run (divergence) give NaN.
    """
    t = np.asarray(t, dtype=np.float64)
    t_ref = first_upcrossing(t, np.abs(ref["u"]), u_level)
    t_run = first_upcrossing(t, np.abs(run["u"]), u_level)
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
    return power_law_fit(x, y, min_points=2)[0]


# ---- summary ----

#: What summarise reads from each file of scripts/simulate_finite.py.
RUN_KEYS = ("t", "loss", "mse", "u", "train", "pop_loss", "pop_mse", "pop_u", "lam", "wstar", "a", "d",
            "seed", "n_over_d", "n", "sigma2", "eta", "horizon", "t_recovery", "diverged")

#: The per-run columns of the summary, in order.
ROW_KEYS = ("a", "sigma2", "seed", "n_over_d", "n", "loss_T", "pop_loss_T", "mse_T", "pop_mse_T", "train_T",
            "ratio_loss", "ratio_mse", "train_over_test", "escape_shift", "dev_loss", "dev_mse",
            "mse_exponent", "pop_mse_exponent", "noise_excess", "noise_pred", "diverged")


def summarise(runs: list[dict]) -> dict:
    """One row per (a, sigma^2, seed, n/d) over the files of simulate_finite (RUN_KEYS), and per
    (a, sigma^2) the predicted n/d of the noise crossover (pred_a, pred_sigma2,
    pred_crossover_n_over_d: the median over seeds of sigma^2 k_eff / (L_pop(T) d)).

    Each file needs the noiseless file of its a among runs, on the same grid (t, seeds, n/d):
    the reference of the noise excess.  Raises StudyInputError otherwise.
    """
    clean = {float(r["a"]): r for r in runs if r["sigma2"] == 0}
    rows = {k: [] for k in ROW_KEYS}
    predicted = {}
    for r in runs:
        a, s2 = float(r["a"]), float(r["sigma2"])
        if a not in clean:
            raise StudyInputError(f"the run of a = {a:g}, sigma2 = {s2:g}: no noiseless run for a = {a:g} "
                                  "among the inputs")
        ref = clean[a]
        if not (np.array_equal(ref["t"], r["t"]) and np.array_equal(ref["seed"], r["seed"])
                and np.array_equal(ref["n_over_d"], r["n_over_d"])):
            raise StudyInputError(f"the run of a = {a:g}, sigma2 = {s2:g}: grid differs from its noiseless "
                                  "run")
        t, eta = r["t"], float(r["eta"])
        steps = int(round(t[-1] / eta))
        t_from = t[-1] / 10.0  # last decade of the horizon
        for i, seed in enumerate(r["seed"]):
            pop = {k: r[f"pop_{k}"][i] for k in ("u", "loss", "mse")}
            pred_unit = noise_floor(r["lam"], r["wstar"][i], eta, steps, 1.0, 1.0)  # k_eff(N)
            predicted.setdefault((a, s2), []).append(s2 * pred_unit / (float(r["pop_loss"][i, -1]) * r["d"]))
            for j, ratio in enumerate(r["n_over_d"]):
                run = {k: r[k][i, j] for k in ("u", "loss", "mse")}
                match = population_match(t, run, pop, float(r["t_recovery"]))
                loss_T, pop_T = float(r["loss"][i, j, -1]), float(pop["loss"][-1])
                vals = {
                    "a": a, "sigma2": s2, "seed": int(seed), "n_over_d": int(ratio), "n": int(r["n"][j]),
                    "loss_T": loss_T, "pop_loss_T": pop_T, "mse_T": float(r["mse"][i, j, -1]),
                    "pop_mse_T": float(pop["mse"][-1]), "train_T": float(r["train"][i, j, -1]),
                    "ratio_loss": loss_T / pop_T, "ratio_mse": float(r["mse"][i, j, -1] / pop["mse"][-1]),
                    "train_over_test": float(r["train"][i, j, -1] / (loss_T + s2)),
                    **match,
                    "mse_exponent": decay_exponent(t, r["mse"][i, j], t_from),
                    "pop_mse_exponent": decay_exponent(t, pop["mse"], t_from),
                    "noise_excess": loss_T - float(ref["loss"][i, j, -1]),
                    "noise_pred": s2 * pred_unit / float(r["n"][j]),
                    "diverged": bool(r["diverged"][i, j]),
                }
                for k, v in vals.items():
                    rows[k].append(v)
    rows = {k: np.array(v) for k, v in rows.items()}
    predicted = {k: float(np.median(v)) for k, v in predicted.items()}
    pred_keys = sorted(predicted)
    return rows | {
        "pred_a": np.array([k[0] for k in pred_keys]), "pred_sigma2": np.array([k[1] for k in pred_keys]),
        "pred_crossover_n_over_d": np.array([predicted[k] for k in pred_keys]),
    }


# ---- claims ----


def _finite_groups(keys, *arrays):
    """Group parallel arrays by the tuple of key arrays: {key tuple: [arrays restricted to it]}."""
    keys = [np.asarray(k) for k in keys]
    out = {}
    for key in sorted(set(zip(*(k.tolist() for k in keys), strict=True))):
        mask = np.logical_and.reduce([k == v for k, v in zip(keys, key, strict=True)])
        out[key] = [np.asarray(a)[mask] for a in arrays]
    return out


def _finite_medians(n_over_d, values):
    """Sorted grid of n/d and the median over seeds at each (NaN propagates: a diverged run)."""
    grid = np.unique(n_over_d)
    return grid, np.array([np.median(values[n_over_d == r]) for r in grid])


def _noiseless(summary: dict) -> dict:
    """The rows of the noiseless runs (sigma^2 = 0) of a summary."""
    keep = np.asarray(summary["sigma2"]) == 0
    return {k: np.asarray(summary[k])[keep] for k in ROW_KEYS}


def _predicted(summary: dict) -> dict:
    """{(a, sigma^2): predicted crossover n/d} of a summary."""
    a, s2, n_over_d = (np.asarray(summary[k]).tolist()
                       for k in ("pred_a", "pred_sigma2", "pred_crossover_n_over_d"))
    return dict(zip(zip(a, s2, strict=True), n_over_d, strict=True))


def _per_seed_slopes(seed, n_over_d, values, keep):
    """{seed: log-log slope of values against n/d over the rows in keep} (NaN unless >= 2 positive values)."""
    out = {}
    for sd in np.unique(seed):
        m = keep & (seed == sd)
        out[int(sd)] = loglog_slope(n_over_d[m], values[m]) if np.unique(n_over_d[m]).size >= 2 else math.nan
    return out


def claim_large_n_matches_population(summary: dict, *, exponent: float, fit_min: float,
                                     level: float) -> Claim:
    """Noiseless runs: the deviation of finite-sample GD from the population GD of its seed falls like
    n^exponent (exponent = -1/2), and its constant, fixed on the smaller n, predicts the largest n.

    Derivation (fixed before the data).  With d fixed, the empirical loss is an average of n i.i.d.
    terms, so the empirical gradient field and Hessian (at w*: the whitened empirical
    (x.w*)^2-weighted covariance) differ from the population ones by a centred O(n^-1/2) term (CLT;
    the operator-norm spread of the whitened spectrum is (1 + sqrt(d/n))^2 - 1 = 2 sqrt(d/n) + d/n).
    Each deviation (escape_shift = |T_u / T_u^pop - 1|, dev_loss and dev_mse = max |log ratio| from
    T_u^pop to d^a H/16) is Lipschitz in that perturbation, hence C_run sqrt(d/n) to leading order.
    The samples are nested, so within a seed every n shares one draw: the exponent is fitted per
    seed (log dev against log(n/d), n/d >= fit_min) and the check is the Student-t interval at
    `level` over seeds of those slopes, which must contain `exponent`.  The constant: per seed,
    log C = mean over fit_min <= n/d < max of log dev - exponent log(n/d); the prediction residual
    D = log dev(max n/d) - exponent log(max n/d) - log C must have a seed interval containing 0
    (the prediction dev_pred = C (n/d)^exponent, with its interval, must cover the measurement).
    Every a and each of the three deviations must pass; a diverged run (NaN) fails.
    """
    rows = _noiseless(summary)
    a, n_over_d, seed = (np.asarray(rows[k], float) for k in ("a", "n_over_d", "seed"))
    measured, passed = {}, bool(n_over_d.size)
    for (av,), (r, sd) in _finite_groups([a], n_over_d, seed).items():
        grid = np.unique(r)
        fit = grid[grid >= fit_min]
        if fit.size < 3:
            passed = False
            measured[f"a={av:g}"] = {"error": f"need >= 3 n/d >= fit_min, got {fit.tolist()}"}
            continue
        r_max = float(fit[-1])
        per_metric = {}
        for name in ("escape_shift", "dev_loss", "dev_mse"):
            v = np.asarray(rows[name], float)[a == av]
            slopes = _per_seed_slopes(sd, r, v, r >= fit_min)
            m, lo, hi = mean_ci(list(slopes.values()), level)
            finite_all = bool(np.all(np.isfinite(list(slopes.values()))) and len(slopes) >= 2)
            ok_exp = finite_all and lo <= exponent <= hi
            log_c, resid = [], []
            for s_ in np.unique(sd):
                small = (sd == s_) & (r >= fit_min) & (r < r_max)
                top = (sd == s_) & (r == r_max)
                with np.errstate(divide="ignore", invalid="ignore"):
                    lc = float(np.mean(np.log(v[small]) - exponent * np.log(r[small])))
                    res = (float(np.log(v[top][0]) - exponent * math.log(r_max)) - lc) if top.any() \
                        else math.nan
                log_c.append(lc), resid.append(res)
            dm, dlo, dhi = mean_ci(resid, level)
            ok_pred = bool(np.all(np.isfinite(resid)) and np.all(np.isfinite(log_c)) and dlo <= 0 <= dhi)
            pred = math.exp(float(np.mean(log_c))) * r_max**exponent
            per_metric[name] = {
                "exponent_per_seed": list(slopes.values()), "exponent_mean": m, "exponent_ci": [lo, hi],
                "exponent_passed": ok_exp,
                "predicted_dev_at_max_n": pred, "prediction_ci": [pred * math.exp(dlo), pred * math.exp(dhi)],
                "measured_dev_at_max_n_geometric_mean": pred * math.exp(dm),
                "log_residual_ci": [dlo, dhi], "prediction_passed": ok_pred,
            }
            passed &= ok_exp and ok_pred
        measured[f"a={av:g}"] = {"fit_n_over_d": fit.tolist(), "largest_n_over_d": r_max, **per_metric}
    return check(
        "finite.large_n_matches_population",
        "With noiseless labels, full-batch GD on n samples follows the population GD of its seed up to "
        "deviations (escape-time shift, test loss and MSE) that fall like n^-1/2: the per-seed exponent's "
        "interval over seeds contains -1/2, and the constant fixed on the smaller n predicts the largest.",
        measured,
        {"exponent": exponent, "log residual at the largest n/d": 0.0},
        {"confidence_level": level, "fit_min_n_over_d": fit_min},
        passed,
        basis=("interval: CLT at fixed d gives deviations C sqrt(d/n); the per-seed exponent's t interval "
               "over seeds must contain -1/2 and the prediction of the largest n from the smaller ones "
               "must cover it"),
    )


def claim_sample_floor(summary: dict, *, factor: float, level: float) -> Claim:
    """Finding: per (a, sigma^2) the n/d below which the test loss at the horizon is set by n.

    ratio_loss = L(run at T) / L(population GD at T) per run; the median over seeds at each n/d
    goes through prdynamics.studies.finite.sample_limited_threshold (sample-limited when >= factor).
    The predicted crossover of (a, sigma2): the n/d where sigma^2 k_eff / n equals the population L(T).
    """
    predicted = _predicted(summary)
    measured, passed, intervals = {}, True, {}
    groups = _finite_groups([summary["a"], summary["sigma2"]], summary["n_over_d"], summary["ratio_loss"])
    passed &= bool(groups)
    for (av, s2), (r, x) in groups.items():
        grid, med = _finite_medians(r, x)
        rule = sample_limited_threshold(grid, med, factor)
        ok = bool(np.all(np.isfinite(x)) and grid.size >= 3 and min(np.sum(r == g) for g in grid) >= 2)
        passed &= ok
        intervals[f"a={av:g}, sigma2={s2:g}"] = {
            f"n/d={g:g}": geometric_mean_ci(x[r == g], level) for g in grid}
        measured[f"a={av:g}, sigma2={s2:g}"] = rule | {
            "n_over_d": grid.tolist(), "median_ratio": med.tolist(), "complete": ok,
            "predicted_noise_crossover_n_over_d": predicted.get((av, s2), float("nan")),
        }
    return finding(
        "finite.sample_floor",
        "Per a and sigma^2, the n/d below which the test loss at the horizon is set by the sample size "
        "(at least factor times the population GD's spectral-tail value) rather than by the spectral tail.",
        measured={**measured, "complete": passed, "thresholds": {"factor": factor}},
        interval=intervals,
    )


def claim_noiseless_recovery(summary: dict, *, overfit_ratio: float, rate_fraction: float,
                             level: float) -> Claim:
    """Finding, noiseless labels: per a and n/d (medians over seeds), does GD still approach w*
    (its MSE decays over the last decade of the horizon with a log-log exponent at least
    rate_fraction times the population GD's) and does it overfit (train loss below overfit_ratio
    times the test loss)?"""
    rows = _noiseless(summary)
    measured, passed, intervals = {}, True, {}
    groups = _finite_groups([rows["a"]], rows["n_over_d"], rows["mse_exponent"], rows["train_over_test"],
                            rows["pop_mse_exponent"])
    passed &= bool(groups)
    for (av,), (r, expo, tt, pexp) in groups.items():
        grid, med_e = _finite_medians(r, expo)
        _, med_tt = _finite_medians(r, tt)
        pop_e = float(np.median(pexp))
        approaching = med_e <= rate_fraction * pop_e  # both negative; NaN counts as not approaching
        overfit = ~(med_tt >= overfit_ratio)
        conv_from = next((float(g) for k, g in enumerate(grid) if approaching[k:].all()), float("nan"))
        ok = bool(np.all(np.isfinite(expo)) and np.all(np.isfinite(tt)) and grid.size >= 3 and pop_e < 0)
        passed &= ok
        intervals[f"a={av:g}"] = {f"n/d={g:g}": dict(zip(("mean_mse_exponent", "lower", "upper"),
                                                          mean_ci(expo[r == g], level), strict=True))
                                  for g in grid}
        measured[f"a={av:g}"] = {
            "n_over_d": grid.tolist(), "median_mse_exponent": med_e.tolist(),
            "population_mse_exponent": pop_e, "median_train_over_test": med_tt.tolist(),
            "approaching_w_star": approaching.tolist(), "overfits": overfit.tolist(),
            "approaching_from_n_over_d": conv_from,
            "overfitting_up_to_n_over_d": float(grid[overfit].max()) if overfit.any() else float("nan"),
        }
    return finding(
        "finite.noiseless_recovery",
        "With noiseless labels, GD on n samples still approaches w* (its MSE decays at the horizon at least "
        "rate_fraction as fast as the population GD's) once n/d is large enough, and overfits (train loss "
        "well below the test loss) below it.",
        measured={**measured, "complete": passed,
                  "thresholds": {"rate_fraction": rate_fraction, "overfit_ratio": overfit_ratio}},
        interval=intervals,
    )


def claim_noise_floor_slope(summary: dict, *, fit_min: float, slope: float, bias_c: float,
                            level: float) -> Claim:
    """With label noise, the excess test loss it adds at the horizon (noisy minus noiseless run on the
    same sample) falls like n^-1.

    Derivation (fixed before the data): the mean excess is sigma^2 k_eff / n (module docstring) times
    (1 + bias_c d/n + ...), the leading correction of the inverse empirical Hessian, whose weight
    (x.w*)^2 has kurtosis 3 (bias_c = 3).  Over n/d >= fit_min the fitted log-log slope is then
    slope - b with 0 <= b <= bias_c / fit_min (the slope of log(1 + c/r) in log r is in [-c/r, 0]).
    The samples are nested within a seed, so the slope is fitted per seed and the check is that the
    Student-t interval at `level` over seeds of those slopes meets [slope - bias_c / fit_min, slope],
    for every (a, sigma^2 > 0); a non-positive or NaN excess in the fit range fails.  The level
    against sigma^2 k_eff / n (noise_pred) is reported.
    """
    measured, passed = {}, True
    sigma2 = np.asarray(summary["sigma2"], float)
    noisy = sigma2 > 0
    a, n_over_d, excess, predicted, seed = (np.asarray(summary[k])[noisy]
                                            for k in ("a", "n_over_d", "noise_excess", "noise_pred", "seed"))
    groups = _finite_groups([a, sigma2[noisy]], n_over_d, excess, predicted, seed)
    passed &= bool(groups)
    allowed = [slope - bias_c / fit_min, slope]
    for (av, s2), (r, ex, pr, sd) in groups.items():
        grid, med = _finite_medians(r, ex)
        _, med_ratio = _finite_medians(r, ex / pr)
        keep = grid >= fit_min
        slopes = _per_seed_slopes(sd, r.astype(float), ex.astype(float), r >= fit_min)
        m, lo, hi = mean_ci(list(slopes.values()), level)
        ok = bool(keep.sum() >= 2 and len(slopes) >= 2 and np.all(np.isfinite(list(slopes.values())))
                  and lo <= allowed[1] and hi >= allowed[0])
        passed &= ok
        measured[f"a={av:g}, sigma2={s2:g}"] = {
            "slope_per_seed": list(slopes.values()), "slope_mean": m, "slope_ci": [lo, hi],
            "allowed": allowed, "passed": ok, "fit_n_over_d": grid[keep].tolist(),
            "median_excess": med.tolist(), "n_over_d": grid.tolist(),
            "median_excess_over_prediction": med_ratio.tolist(),
        }
    return check(
        "finite.noise_floor_slope",
        "With label noise sigma^2 the excess test loss at the horizon scales like sigma^2 k_eff / n "
        "(sigma^2 d / n once all modes are learned): the seed interval of its slope in n meets "
        "[-1 - 3/fit_min, -1].",
        measured,
        {"slope": slope, "allowed_with_bias": allowed},
        {"confidence_level": level, "bias_c": bias_c, "fit_min_n_over_d": fit_min},
        passed,
        basis=("interval: ridge-less least squares gives excess sigma^2 k_eff / n (1 + 3 d/n); the per-seed "
               "slope's t interval over seeds must meet [-1 - 3/fit_min, -1]"),
    )


def claims(summary: dict, *, match_exponent: float, floor_factor: float, fit_min: float, floor_slope: float,
           floor_bias_c: float, overfit_ratio: float, rate_fraction: float,
           confidence_level: float) -> list[Claim]:
    """The study's claims on a summary of ``summarise``."""
    return [
        claim_large_n_matches_population(summary, exponent=match_exponent, fit_min=fit_min,
                                         level=confidence_level),
        claim_sample_floor(summary, factor=floor_factor, level=confidence_level),
        claim_noiseless_recovery(summary, overfit_ratio=overfit_ratio, rate_fraction=rate_fraction,
                                 level=confidence_level),
        claim_noise_floor_slope(summary, fit_min=fit_min, slope=floor_slope, bias_c=floor_bias_c,
                                level=confidence_level),
    ]
