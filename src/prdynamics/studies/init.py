"""Initialisation study: the same (w*, spectrum) started from other points than the paper's.

Starts (``study_starts``): the named starts of ``named_starts`` (kinds of ``initial_state``) (sphere of radius
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

from ..claims import Claim, finding
from ..model import check_problem, harmonic, init_sphere
from ..phases import THRESHOLD, stopping_times, tail_exponent
from ..seeding import INIT_STREAM, START_STREAMS, rng_for
from ..statistics import count_interval, linear_fit, loglog_interp, t_interval

#: The paper's start, the reference of every comparison.
PAPER_START = "sphere_r1"

#: Sphere starts that rescale the paper's direction.
SPHERE_STARTS = ("sphere_r1", "sphere_rinvsqrtd", "sphere_rsqrtd", "sphere_rd")


#: Initialisation kinds of ``initial_state``.
INIT_KINDS = ("sphere", "gaussian", "warm", "top")


def initial_state(
    kind: str, lam: np.ndarray, wstar: np.ndarray, rng: np.random.Generator, **params
) -> np.ndarray:
    """A start w(0) of the given kind; the paper's is kind="sphere" with r = 1.

    sphere    uniform on the sphere of radius r (default 1); model.init_sphere, so with
              r = 1 and the run's init stream it is exactly the paper's (seeding.problem) start.
    gaussian  N(0, I_d / d) (norm about 1, not exactly).
    warm      prescribed overlap u0 = w^T Q w* (required) and norm r (optional):
              w = alpha e + beta v, e = w* / ||w*||, v a uniform unit vector Euclidean-orthogonal
              to both w* and Q w* (so v.e = 0 and v^T Q w* = 0).  Then u = alpha e^T Q w*
              = alpha s* / ||w*||, so alpha = u0 ||w*|| / s*, and ||w||^2 = alpha^2 + beta^2,
              so beta = sqrt(r^2 - alpha^2), which needs |u0| <= r s* / ||w*||.  With r
              omitted, beta = 1 (the signal is added to a unit-norm random part; ||w||^2 =
              1 + alpha^2).  Note ||w*|| ~ sqrt(d), so at r = 1 only u0 <~ d^-1/2 is possible.
    top       uniform on the sphere of radius r (default 1) within the first k coordinates
              (k required, 1 <= k <= d), zero elsewhere.
    """
    lam, wstar, _ = check_problem(lam, wstar)
    if kind not in INIT_KINDS:
        raise ValueError(f"unknown initialisation {kind!r}; choose one of {', '.join(INIT_KINDS)}")
    allowed = {"sphere": {"r"}, "gaussian": set(), "warm": {"u0", "r"}, "top": {"k", "r"}}[kind]
    extra = set(params) - allowed
    if extra:
        raise ValueError(f"initialisation {kind!r} takes parameters {sorted(allowed)}, got {sorted(extra)}")
    d = lam.shape[0]
    if kind == "sphere":
        return init_sphere(d, rng, _check_radius(params.get("r", 1.0)))
    if kind == "gaussian":
        return rng.standard_normal(d) / math.sqrt(d)
    if kind == "top":
        k, r = params.get("k"), _check_radius(params.get("r", 1.0))
        if k is None or int(k) != k or not (1 <= k <= d):
            raise ValueError(f"top needs an integer k with 1 <= k <= d = {d}, got {k}")
        w = np.zeros(d)
        w[: int(k)] = init_sphere(int(k), rng, r)
        return w
    return _warm(lam, wstar, rng, params.get("u0"), params.get("r"))


def named_starts(d: int) -> dict[str, tuple[str, dict]]:
    """The study's named starts: name -> (kind, params) for initial_state.

    sphere_r1 is the paper's start.  sphere_rsqrtd (norm sqrt(d), entries O(1) like w*) is
    also the reviewer's "norm sqrt(d)" start: one run serves both.
    """
    if int(d) != d or d < 2:
        raise ValueError(f"d must be an integer >= 2, got {d}")
    return {
        "sphere_r1": ("sphere", {"r": 1.0}),
        "sphere_rinvsqrtd": ("sphere", {"r": 1.0 / math.sqrt(d)}),
        "sphere_rsqrtd": ("sphere", {"r": math.sqrt(d)}),
        "gaussian": ("gaussian", {}),
        "warm_u0.1": ("warm", {"u0": 0.1}),
        "top_k10": ("top", {"k": min(10, int(d))}),
    }


def _warm(lam, wstar, rng, u0, r):
    if u0 is None or not math.isfinite(u0):
        raise ValueError(f"warm needs a finite overlap u0, got {u0}")
    d = lam.shape[0]
    if d < 3:
        raise ValueError(f"warm needs d >= 3 (a direction orthogonal to w* and Q w*), got d = {d}")
    norm_ws = float(np.linalg.norm(wstar))
    ss = float(np.sum(lam * wstar * wstar))
    if not ss > 0:
        raise ValueError("warm needs s* = w*^T Q w* > 0")
    alpha = u0 * norm_ws / ss
    if r is None:
        beta = 1.0
    else:
        r = _check_radius(r)
        if abs(alpha) > r:
            raise ValueError(
                f"|u0| = {abs(u0):g} is not reachable with ||w|| = {r:g} along w*: need "
                f"|u0| <= r s* / ||w*|| = {r * ss / norm_ws:.4g} (or r >= {abs(alpha):.4g})"
            )
        beta = math.sqrt(max(0.0, r * r - alpha * alpha))
    basis, tri = np.linalg.qr(np.stack([wstar, lam * wstar], axis=1))
    if abs(tri[1, 1]) <= 1e-12 * abs(tri[0, 1]):  # Q w* parallel to w* (a = 0): one constraint
        basis = basis[:, :1]
    g = rng.standard_normal(d)
    v = g - basis @ (basis.T @ g)  # Q-orthogonal to w* (and Euclidean-orthogonal to it)
    v /= np.linalg.norm(v)
    return alpha * wstar / norm_ws + beta * v


def _check_radius(r):
    r = float(r)
    if not (math.isfinite(r) and r > 0):
        raise ValueError(f"the radius r must be positive and finite, got {r}")
    return r



def study_starts(d: int) -> dict[str, tuple[str, dict]]:
    """name -> (kind, params) of initial_state: named_starts(d) plus sphere_rd (norm d)."""
    starts = named_starts(d)
    starts["sphere_rd"] = ("sphere", {"r": float(d)})
    return starts


def start_state(name: str, lam: np.ndarray, wstar: np.ndarray, seed: int, base_seed: int) -> np.ndarray:
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


def mse_ratio(t: np.ndarray, mse: np.ndarray, t2: float, taus: np.ndarray) -> np.ndarray:
    """MSE(T2 + tau) / MSE(T2), log-log interpolated on the output grid; NaN beyond the run's end."""
    taus = np.asarray(taus, float)
    if not (math.isfinite(t2) and t2 > 0):
        return np.full(taus.shape, np.nan)
    m2 = loglog_interp(t, mse, np.array([t2]))[0]
    return loglog_interp(t, mse, t2 + taus) / m2


def phase3_gap(ratio: np.ndarray, ratio_ref: np.ndarray) -> float:
    """max over tau of |ratio / ratio_ref - 1| (NaN when either has a NaN: a window not covered)."""
    ratio, ratio_ref = np.asarray(ratio, float), np.asarray(ratio_ref, float)
    if ratio.shape != ratio_ref.shape or ratio.size == 0:
        raise ValueError("ratio and ratio_ref must be non-empty arrays of one shape")
    if not (np.all(np.isfinite(ratio)) and np.all(np.isfinite(ratio_ref))):
        return float("nan")
    return float(np.max(np.abs(ratio / ratio_ref - 1.0)))


#: Start of the init study's Phase III window in x_d (``phase3_taus``: 1 <= x_d <= x_hi d) and the
#: fewest grid samples of its tail fit.
PHASE3_X_LO = 1.0
TAIL_MIN_POINTS = 3


def decay_exponent(t: np.ndarray, loss: np.ndarray, t2: float, d: int, a: float, x_hi: float) -> float:
    """beta with L(T2 + tau) ~ tau^-beta: the library's one tail exponent (``phases.tail_exponent``,
    origin T2 = ``phases.tail_origin``) on the grid samples of the window 1 <= x_d <= x_hi d."""
    return tail_exponent(t, loss, t2, d, a, PHASE3_X_LO, x_hi, TAIL_MIN_POINTS)[0]


def log_d_exponent(d_values, rho_t1) -> dict:
    """Fit rho T1 = c + p log d over runs: p (d-exponent of the Phase I plateau), its standard error.

    When |u(0)| ~ d^-p the escape u ~ A e^{rho t} needs rho T1 ~ p log d + O(1) (p = 1/2 for the
    paper's start).  NaN runs are left out; fewer than two d values give NaN.
    """
    fit = linear_fit(np.log(np.asarray(d_values, float)), rho_t1)
    return {"p": fit["slope"], "p_se": fit["slope_se"], "dof": fit["dof"], "runs": fit["points"]}


def overlap_rms(a: float, d: int, name: str, seeds, base_seed: int) -> float:
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
    fit = linear_fit(np.log(1.0 / np.abs(np.asarray(u_init, float))), rho_t1)
    if fit["points"] < 3:
        fit = {**fit, "slope": math.nan, "intercept": math.nan, "slope_se": math.nan, "r2": math.nan}
    return {"q": fit["slope"], "c": fit["intercept"], "q_se": fit["slope_se"], "dof": fit["dof"],
            "r2": fit["r2"], "runs": fit["points"]}


# ---- summary ----

#: What summarise reads from each file of scripts/simulate_init.py.
RUN_KEYS = ("t", "s", "u", "u2", "mse", "loss", "a", "d", "seed", "starts", "s_init", "u_init", "norm_init",
            "rho_true", "diverged")


def value_at(t, mse, t2):
    """MSE at T2, log-log interpolated."""
    if not np.isfinite(t2):
        return np.nan
    return float(np.exp(np.interp(np.log(t2), np.log(t), np.log(mse))))


def run_rows(run: dict, *, delta: float, eps, s0: float, phase3_eps: float, x_hi: float) -> dict[str, list]:
    """One row per (start, seed) of one (a, d) file: stopping times, threshold passages, and the
    Phase III gap and decay exponent against the paper's start of the same seed."""
    t, a, d = run["t"], float(run["a"]), int(run["d"])
    starts, seeds = [str(s) for s in run["starts"]], np.atleast_1d(run["seed"])
    taus = phase3_taus(d, a, x_hi) if a > 0 else np.array([])
    ref = starts.index(PAPER_START) if PAPER_START in starts else None
    rows: dict[str, list] = {}
    ratios = {}
    for j, name in enumerate(starts):
        for k, seed in enumerate(seeds):
            stats = {key: run[key][j, k] for key in ("s", "u", "u2", "mse", "loss")}
            ok = not bool(run["diverged"][j, k]) and np.all(np.isfinite(stats["s"]))
            times = stopping_times(t, stats, delta, eps, s0) if ok else {}
            t2 = times.get(f"T2_eps{phase3_eps:g}", np.nan)
            ratio = mse_ratio(t, stats["mse"], t2, taus) if ok and taus.size else np.full(taus.shape, np.nan)
            ratios[j, k] = ratio
            passages = threshold_passages(stats["s"], run["s_init"][j, k]) if ok else {}
            row = {
                "a": a, "d": d, "seed": int(seed), "start": name, "ok": ok,
                "s_init": float(run["s_init"][j, k]), "u_init": float(run["u_init"][j, k]),
                "norm_init": float(run["norm_init"][j, k]), "rho_true": float(run["rho_true"][k]),
                "t_first": float(t[0]),
                **{key: float(times.get(key, np.nan)) for key in ("T1", "T_third", "T1_prime")},
                **{f"T2_eps{e:g}": float(times.get(f"T2_eps{e:g}", np.nan)) for e in eps},
                "from_above": bool(passages.get("from_above", False)), "up": int(passages.get("up", -1)),
                "down": int(passages.get("down", -1)),
                "final_above": bool(passages.get("final_above", False)),
                "min_margin": float(passages.get("min_margin", np.nan)),
                "mse_T2": value_at(t, stats["mse"], t2) if ok else np.nan,
                "beta": decay_exponent(t, stats["loss"], t2, d, a, x_hi) if ok and taus.size else np.nan,
            }
            for key, value in row.items():
                rows.setdefault(key, []).append(value)
    # gaps to the paper's start of the same seed (same target)
    for j, _ in enumerate(starts):
        for k, _ in enumerate(seeds):
            gap = phase3_gap(ratios[j, k], ratios[ref, k]) if ref is not None and taus.size else np.nan
            rows.setdefault("phase3_gap", []).append(gap)
            beta_ref = rows["beta"][ref * len(seeds) + k] if ref is not None else np.nan
            rows.setdefault("beta_paper", []).append(beta_ref)
    return rows


def summarise(runs: list[dict], *, delta: float, eps, s0: float, phase3_eps: float, x_hi: float,
              overlap_draws: int, base_seed: int) -> dict:
    """The study's arrays: the rows of every file (``run_rows``), rho T1, and per (a, d, start) the
    RMS overlap |u(0)| over overlap_draws draws of the start (overlap_a, overlap_d, overlap_start,
    overlap_rms)."""
    table: dict[str, list] = {}
    for run in runs:
        rows = run_rows(run, delta=delta, eps=eps, s0=s0, phase3_eps=phase3_eps, x_hi=x_hi)
        for key, values in rows.items():
            table.setdefault(key, []).extend(values)
    arrays = {key: np.asarray(v) for key, v in table.items()}
    overlaps: dict[str, list] = {"a": [], "d": [], "start": [], "rms": []}
    for a, d in sorted(set(zip(arrays["a"].tolist(), arrays["d"].tolist(), strict=True))):
        for name in sorted(set(arrays["start"].tolist())):
            overlaps["a"].append(a), overlaps["d"].append(d), overlaps["start"].append(name)
            overlaps["rms"].append(overlap_rms(a, int(d), name, range(overlap_draws), base_seed))
    arrays |= {f"overlap_{k}": np.asarray(v) for k, v in overlaps.items()}
    arrays["rho_T1"] = arrays["rho_true"] * arrays["T1"]
    return arrays


# ---- claims ----


def _init_groups(rows: dict, keys: tuple[str, ...]) -> dict[tuple, np.ndarray]:
    """Indices of the per-run rows of the init study, grouped by the given columns."""
    cols = [np.asarray(rows[k]) for k in keys]
    groups: dict[tuple, list[int]] = {}
    for i in range(len(cols[0])):
        groups.setdefault(tuple(c[i].item() if hasattr(c[i], "item") else c[i] for c in cols), []).append(i)
    return {k: np.asarray(v) for k, v in sorted(groups.items(), key=lambda kv: str(kv[0]))}


def claim_escape_needs_small_start(rows: dict, *, p_min: float, escaped_max: float,
                                   level: float) -> Claim:
    """Finding: which starts have a Phase I plateau, and whose plateau grows like log d.

    Two measured pieces.  The plateau law: over the runs of the starts that have a plateau (at
    most escaped_max of their runs already past T1's levels at the first output time),
    rho T1 = c + q log(1/|u(0)|) per a, q = 1 when the plateau lasts log(1/|u(0)|) / rho.  The
    overlap scaling: |u(0)| ~ d^-p_u, p_u the slope of -log RMS u(0) (over many draws of the
    start, ``initialisation.overlap_rms``) against log d.  Together T1 ~ q p_u log(d) / rho: a
    start "grows like log d" when it has a plateau and p_u >= p_min (the paper's start:
    p_u = 1/2).  p is the direct slope of rho T1 against log d over the flow runs (noisy at these
    d and seed counts, reported with its standard error).  radius_shift is, for the d^-1/2 sphere
    (the paper's direction rescaled), the median of rho (T1 - T1_paper) / log(sqrt(d)): 1 when the
    plateau is longer by exactly log(1/r) / rho.  rows: the summary (``summarise``), with the
    per-run rows and the overlaps (overlap_a, overlap_d, overlap_start, overlap_rms).
    """
    ok = np.asarray(rows["ok"], bool)
    start, a, d = np.asarray(rows["start"]), np.asarray(rows["a"], float), np.asarray(rows["d"], float)
    t1, rho_t1, t_first = (np.asarray(rows[k], float) for k in ("T1", "rho_T1", "t_first"))
    u_init = np.asarray(rows["u_init"], float)
    ov_a, ov_d = np.asarray(rows["overlap_a"], float), np.asarray(rows["overlap_d"], float)
    ov_start, ov_rms = np.asarray(rows["overlap_start"]), np.asarray(rows["overlap_rms"], float)
    per_start, grows, skips, other, plateau_starts, intervals = {}, [], [], [], [], {}
    valid = bool(ok.size) and bool(ok.all()) and np.unique(d).size >= 2
    for (name,), idx in _init_groups(rows, ("start",)).items():
        by_a, has_plateau, p_u_ok = {}, [], []
        for a_val in sorted(set(a[idx].tolist())):
            sel = idx[(a[idx] == a_val) & ok[idx]]
            fit = log_d_exponent(d[sel], rho_t1[sel])
            o = (ov_start == name) & (ov_a == a_val)
            p_u = log_d_exponent(ov_d[o], -np.log(ov_rms[o]))["p"] if o.any() else float("nan")
            n_escaped = int(np.sum(t1[sel] <= t_first[sel]))
            escaped = n_escaped / sel.size if sel.size else float("nan")
            intervals.setdefault(str(name), {})[f"{a_val:g}"] = {
                "p": t_interval(fit["p"], fit["p_se"], fit["dof"], level),
                "escaped_at_start": count_interval(n_escaped, sel.size, level) if sel.size else None}
            valid &= bool(np.isfinite(p_u)) and bool(np.all(np.isfinite(t1[sel])))
            by_a[f"{a_val:g}"] = {
                "escaped_at_start": escaped, "p_u": p_u, "p": fit["p"], "p_se": fit["p_se"],
                "T1_median_by_d": {f"{dv:g}": float(np.median(t1[sel][d[sel] == dv]))
                                   for dv in sorted(set(d[sel]))},
            }
            has_plateau.append(escaped <= escaped_max)
            p_u_ok.append(p_u >= p_min)
        per_start[str(name)] = by_a
        if all(has_plateau):
            plateau_starts.append(str(name))
        if all(has_plateau) and all(p_u_ok):
            grows.append(str(name))
        elif not any(has_plateau) or not any(p_u_ok):
            skips.append(str(name))
        else:
            other.append(str(name))
    law = {}
    for (a_val,), idx in _init_groups(rows, ("a",)).items():
        sel = idx[np.isin(start[idx], plateau_starts) & ok[idx]]
        law[f"{a_val:g}"] = plateau_law(rho_t1[sel], u_init[sel])
        valid &= bool(np.isfinite(law[f"{a_val:g}"]["q"]))
    shift = {}
    seed, rho = np.asarray(rows["seed"]), np.asarray(rows["rho_true"], float)
    for (a_val,), idx in _init_groups(rows, ("a",)).items():
        ref = {(d[i], seed[i]): t1[i] for i in idx if start[i] == PAPER_START}
        vals = [rho[i] * (t1[i] - ref[d[i], seed[i]]) / (0.5 * math.log(d[i]))
                for i in idx if start[i] == "sphere_rinvsqrtd" and (d[i], seed[i]) in ref]
        if vals:
            shift[f"{a_val:g}"] = float(np.median(vals))
    return finding(
        "init.escape_needs_small_start",
        "Finding: a Phase I plateau appears only for starts with a small overlap; its length is "
        "log(1/|u(0)|) / rho up to O(1) (q ~ 1), so it grows like log d only for starts whose overlap "
        "vanishes as d^-p_u (p_u >= p_min); starts with an O(1) overlap or norm skip it. A start has a "
        "plateau when at most escaped_max of its runs are past T1's levels at t_min.",
        measured={"grows_like_log_d": grows, "skips_plateau": skips, "other": other, "plateau_law": law,
                  "radius_shift_d_invsqrt": shift, "per_start": per_start, "complete": valid,
                  "thresholds": {"p_min": p_min, "escaped_max": escaped_max},
                  "paper_values": {"paper_start": {"p_u": 0.5, "q": 1.0},
                                   "sphere_rinvsqrtd": {"p_u": 1.0, "radius_shift": 1.0}}},
        interval={"level": level,
                  "plateau_law_q": {a_: t_interval(v["q"], v["q_se"], v["dof"], level)
                                    for a_, v in law.items()},
                  "per_start": intervals},
    )


def claim_threshold(rows: dict, *, level: float) -> Claim:
    """Finding: how s meets the saddle level 1/3 from each start (once from below, or from above)."""
    ok = np.asarray(rows["ok"], bool)
    measured, valid = {}, bool(ok.size) and bool(ok.all())
    for (name,), idx in _init_groups(rows, ("start",)).items():
        idx = idx[ok[idx]]
        above = np.asarray(rows["from_above"], bool)[idx]
        up, down = np.asarray(rows["up"])[idx], np.asarray(rows["down"])[idx]
        margin = np.asarray(rows["min_margin"], float)[idx]
        final = np.asarray(rows["final_above"], bool)[idx]
        measured[str(name)] = {
            "runs": int(idx.size),
            "once_from_below": int(np.sum(~above & (up == 1) & (down == 0))),
            "from_above_never_below": int(np.sum(above & (down == 0))),
            "from_above_dips_below": int(np.sum(above & (down >= 1))),
            "other": int(np.sum(~above & ((up != 1) | (down != 0)))),
            "ends_above": int(final.sum()),
            "s_init_median": float(np.median(np.asarray(rows["s_init"], float)[idx])),
            "min_margin": float(np.nanmin(margin)) if np.any(np.isfinite(margin)) else float("nan"),
        }
        valid &= bool(idx.size)
    single = [k for k, v in measured.items() if v["once_from_below"] == v["runs"]]
    above = [k for k, v in measured.items() if v["from_above_never_below"] == v["runs"]]
    return finding(
        "init.threshold",
        "Finding: per start, how often s crosses 1/3 exactly once from below and stays above "
        "(the paper's picture), starts above 1/3 and never goes below, or dips below it; min_margin "
        "is min(s - 1/3) from the last upward crossing (from t = 0 for a start above) on.",
        measured={"all_runs_once_from_below": single, "all_runs_from_above_never_below": above,
                  "per_start": measured, "complete": valid},
        interval={name: {"once_from_below": count_interval(v["once_from_below"], v["runs"], level),
                         "from_above_never_below": count_interval(v["from_above_never_below"], v["runs"],
                                                                  level)}
                  for name, v in measured.items() if v["runs"]},
    )


def claim_phase3_universal(rows: dict, *, rtol: float, beta_atol: float, x_hi: float,
                           eps: float, level: float) -> Claim:
    """Finding: after T2 the MSE decay is the same from every start (Phase III sees only the tail).

    Per start and (a, d): the median over seeds of gap = max over the window 1 <= x_d <= x_hi d of
    |R / R_paper - 1|, R(tau) = MSE(T2 + tau) / MSE(T2), paired with the paper's start of the same
    target; and of |beta - beta_paper|, the loss decay exponent in that window.  A start is
    universal when every median gap is <= rtol and every median |beta - beta_paper| <= beta_atol.
    """

    ok = np.asarray(rows["ok"], bool)
    gap, beta, beta_ref = (np.asarray(rows[k], float) for k in ("phase3_gap", "beta", "beta_paper"))
    mse_t2 = np.asarray(rows["mse_T2"], float)
    start = np.asarray(rows["start"])
    measured, universal, not_universal, unmeasured, intervals = {}, [], [], [], {}
    valid = bool(ok.size) and bool(ok.all())
    paper_mse = {(rows["a"][i], rows["d"][i], rows["seed"][i]): mse_t2[i]
                 for i in range(len(start)) if start[i] == PAPER_START}
    for (name,), idx in _init_groups(rows, ("start",)).items():
        if name == PAPER_START:
            continue
        cells, fine, seen = {}, True, False
        for (a_val, d_val), sub in _init_groups({k: np.asarray(rows[k])[idx] for k in ("a", "d")},
                                               ("a", "d")).items():
            sel = idx[sub]
            finite = np.isfinite(gap[sel]) & np.isfinite(beta[sel]) & np.isfinite(beta_ref[sel])
            valid &= bool(finite.all())
            # a cell is judged on its measurable runs (a tail window too short for a fit is NaN)
            g = float(np.median(gap[sel][finite])) if finite.any() else float("nan")
            db = float(np.median(np.abs(beta[sel] - beta_ref[sel])[finite])) if finite.any() else float("nan")
            mse_ratio = [mse_t2[i] / paper_mse[(rows["a"][i], rows["d"][i], rows["seed"][i])] for i in sel]
            cells[f"a{a_val:g}_d{d_val:g}"] = {"gap_median": g, "gap_max": float(np.max(gap[sel])),
                                               "beta_diff_median": db, "measured_runs": int(finite.sum()),
                                               "mse_T2_over_paper_median": float(np.median(mse_ratio))}
            if finite.any():
                seen = True
                fine &= g <= rtol and db <= beta_atol
        measured[str(name)] = cells
        (unmeasured if not seen else universal if fine else not_universal).append(str(name))
        runs = idx[np.isfinite(gap[idx]) & np.isfinite(beta[idx]) & np.isfinite(beta_ref[idx])]
        close = int(np.sum((gap[runs] <= rtol) & (np.abs(beta[runs] - beta_ref[runs]) <= beta_atol)))
        intervals[str(name)] = {"runs_within_thresholds": count_interval(close, runs.size, level)
                                if runs.size else None}
    return finding(
        "init.phase3_universal",
        f"Finding: after T2(eps = {eps:g}) the MSE ratio MSE(T2 + tau) / MSE(T2) and the loss decay "
        f"exponent over 1 <= x_d <= {x_hi:g} d match the paper's start (same target) for the starts "
        "listed as universal (median gap <= phase3_rtol and median |beta - beta_paper| <= beta_atol over "
        "the runs whose window holds a fit); the MSE level at T2 itself may differ. unmeasured: no run of "
        "the start has a tail window long enough. The interval counts the runs within both thresholds.",
        measured={"universal": universal, "not_universal": not_universal, "unmeasured": unmeasured,
                  "per_start": measured,
                  "complete": valid, "thresholds": {"rtol": rtol, "beta_atol": beta_atol}},
        interval=intervals,
    )


def claims(summary: dict, *, p_min: float, escaped_max: float, phase3_rtol: float, beta_atol: float,
           x_hi: float, phase3_eps: float, confidence_level: float) -> list[Claim]:
    """The study's claims on a summary of ``summarise`` (x_hi and phase3_eps: its Phase III window)."""
    return [
        claim_escape_needs_small_start(summary, p_min=p_min, escaped_max=escaped_max, level=confidence_level),
        claim_threshold(summary, level=confidence_level),
        claim_phase3_universal(summary, rtol=phase3_rtol, beta_atol=beta_atol, x_hi=x_hi, eps=phase3_eps,
                               level=confidence_level),
    ]
