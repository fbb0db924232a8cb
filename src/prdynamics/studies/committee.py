"""Committees of p student and k teacher units (prdynamics.committee): what one run measures, the
summary over runs and the study's claims.

Per flow run (quadratic units unless said):
* Phase I rate (``phase1_rate``): the slope of log |R[j, m]| with the linear share of the
  subleading modes of L divided out, over the top rate rho_1 of L (committee.theory), and the bound
  the cubic term leaves on it; the uncorrected least-squares slope on the same window; rho_1 over
  each teacher's own rate.
* Learning sequence (``learning_times``, ``learned_order``): the r-th direction is learned when
  l_r = g_r / pi_r reaches a level, g_r the r-th largest eigenvalue of the learned operator
  G = (k/p) P^{-1/2} R^T R P^{-1/2} (committee.learned_spectrum: the student's part of the target on
  the teacher span, with scale; G = P at a minimum), pi_r P's; T_learn[r] the first time it does.
  Whether the directions come in the order of their spectral weight: the overlap of G's top-r
  eigenspace at T_learn[r] with P's.  Invariant under W -> O W, the symmetry of quadratic units.
* Phase III (``tail_fit``, ``tail_constant_fit``): the exponent of L(t0 + tau) ~ tau^-beta by
  phases.tail_exponent, the origin t0 the first time L falls below a fraction of L(0) (located by
  the flow run, which records densely in tau after it); the constant C of L ~ C tau^-(1 - 1/a) on
  the same window, against the committee law committee.theory.tail_constant (p >= k); and both
  for the linearised tail loss committee.theory.phase3_loss on the same samples (the window's own
  bias, the analogue of phases.tail_exponent_exact); both fits again from a second origin,
  T_last, the first time every l_r >= level, i.e. the last teacher direction learned (located by
  the flow run, dense in tau after it), and the loss there against the linearised loss with the r-th
  strongest eigendirection of P started at T_learn[r] (``own_origin_tail``).
* Threshold (``threshold_crossings``, ``threshold_time``, ``threshold_end_law``): for each rank
  r = 1 .. min(p, k) the r-th largest eigenvalue of M against the saddle level mu_r = p tr P /
  (k (r + 2)) of committee.theory.saddle_level (r = 1: s = 1/3 for one unit): crossings, start and
  end side, the first crossing time T_cross[r], and the end value a zero-loss minimum would give.
* Plateaus (``plateau_times``): the gaps between T_cross[1] and the sorted learning times.
* erf and relu (``early_exponent``): |R(t) - R(0)| ~ t^q at small t; a constant force at W = 0
  gives q = 1.
Per SGD run, against the flow of its seed: the largest |log L_sgd / L_flow| over the SGD record,
and where SGD leaves the flow (``departure``): the first recorded time |log L_sgd / L_flow| exceeds
log(1 + rtol), with the flow's loss there over its start (about 1 in Phase I, small in Phase III)
and the log ratio at the end of the record (0 when SGD ends where the flow does).
"""

from __future__ import annotations

import math

import numpy as np

from ..claims import Claim, check, finding
from ..committee.population import learned_operator, learned_spectrum
from ..committee.theory import escape_operator, own_escape_rates, saddle_level, tail_constant
from ..committee.theory import phase3_loss as linearised_tail_loss
from ..phases import first_upcrossing, tail_exponent, tail_window
from ..statistics import count_interval, geometric_mean_ci, loglog_interp, mean_ci
from ..theory import loss_law_constant
from . import StudyInputError

#: What summarise reads from each file of scripts/simulate_committee.py.
RUN_KEYS = ("t", "loss", "M", "R", "lam", "Wstar", "W0", "a", "d", "p", "k", "seed", "activation", "method",
            "eta", "diverged")
#: And from each flow file: the tail origins it located and the levels that define them.
FLOW_RUN_KEYS = (*RUN_KEYS, "t0", "phase3_loss", "T_last", "learn_level")


def _two_point(y, t, i1, i2):
    return float((y[i2] - y[i1]) / (t[i2] - t[i1]))


def phase1_rate(t, R, M, lam, Wstar, W0, s_max: float, e_max: float) -> dict:
    """The Phase I rate of R[j, m] against rho_1, the top eigenvalue of L (quadratic units).

    Linear theory: R[j, m](t) = sum_r a_r e^{mu_r t} = a_0 e^{rho_1 t} (1 + eps(t)), with
    a = (W0[j] V) * (V^T Q w*_m) in the eigenbasis V of L and |eps(t)| <= E(t) = sum_{r>0}
    |a_r / a_0| e^{-(rho_1 - mu_r) t}.  The window of entry (j, m) runs from the first record time
    with E <= e_max (no sign change of 1 + eps) to the last with tr M / p <= s_max; there the
    two-point slope of log |R| - log |1 + eps| is rho_1 up to the cubic term, which changes it by
    at most 1.5 kappa (tr M(t1) + tr M(t2)) / (t2 - t1), kappa = 6 lam_1 / (p^2 rho_1)
    (tests/test_committee_escape.py).  Returns ratio (mean corrected slope / rho_1 over the
    entries with a window), allowance (the largest bound / rho_1), raw_ratio (least squares of
    log |R| on the same windows, uncorrected, / rho_1), own_ratio (rho_1 / each teacher's own
    rate), entries (how many have a window).  NaN ratios when none has.
    """
    t, R, M = (np.asarray(x, float) for x in (t, R, M))
    lam, Wstar, W0 = (np.asarray(x, float) for x in (lam, Wstar, W0))
    p, k = R.shape[1], R.shape[2]
    mu, V = np.linalg.eigh(escape_operator(lam, Wstar, p))
    mu, V = mu[::-1], V[:, ::-1]
    rho = float(mu[0])
    trm = np.trace(M, axis1=1, axis2=2)
    big = np.flatnonzero(trm / p > s_max)
    stop = int(big[0]) if big.size else len(t)  # records [0, stop) are in Phase I
    kappa = 6.0 * float(lam.max()) / (p**2 * rho)
    slopes, raws, bounds = [], [], []
    for m in range(k):
        proj = V.T @ (lam * Wstar[m])
        for j in range(p):
            a = (W0[j] @ V) * proj
            if a[0] == 0:
                continue
            ratio = a[1:] / a[0]
            decay = np.exp(-np.outer(t[:stop], rho - mu[1:]))
            E = decay @ np.abs(ratio)
            ok = np.flatnonzero(E <= e_max)
            if ok.size < 2 or ok[-1] - ok[0] < 1:
                continue
            i1, i2 = int(ok[0]), stop - 1
            if i2 <= i1:
                continue
            corr = np.log(np.abs(R[:stop, j, m])) - np.log(np.abs(1.0 + decay @ ratio))
            slopes.append(_two_point(corr, t, i1, i2))
            w = slice(i1, i2 + 1)
            raws.append(float(np.polyfit(t[w], np.log(np.abs(R[w, j, m])), 1)[0]))
            bounds.append(1.5 * kappa * (trm[i1] + trm[i2]) / (t[i2] - t[i1]))
    own = own_escape_rates(lam, Wstar, p)
    if not slopes:
        return {"rho": rho, "ratio": math.nan, "allowance": math.nan, "raw_ratio": math.nan,
                "own_ratio": rho / own, "entries": 0}
    return {"rho": rho, "ratio": float(np.mean(slopes)) / rho, "allowance": float(np.max(bounds)) / rho,
            "raw_ratio": float(np.mean(raws)) / rho, "own_ratio": rho / own, "entries": len(slopes)}


def learning_times(t, spectrum, level: float) -> np.ndarray:
    """Per column of spectrum (T, k), the first time it reaches level (NaN if never).  With the
    learned spectrum l_r (committee.learned_spectrum), column r - 1 gives T_learn[r], the time the
    student's r-th strongest direction reaches level of the target's r-th."""
    spectrum = np.asarray(spectrum, float)
    return np.array([first_upcrossing(t, spectrum[:, m], level) for m in range(spectrum.shape[1])])


def learned_order(t, R, P, p: int, k: int, T_learn) -> np.ndarray:
    """Per rank r = 1 .. k - 1, at the first record time t >= T_learn[r]: |E_r^T V_r|_F^2 / r, the
    mean squared cosine of the principal angles between the top-r eigenspace E_r of the learned
    operator G (``committee.learned_operator``: the r strongest directions the student carries) and
    the top-r eigenspace V_r of P (the r teacher directions of largest Q-norm), both in the
    orthonormal basis of the teacher span where the target's operator is P; shape (k - 1,).  1: the
    directions were learned in the order of their spectral weight; a random r-space gives r / k on
    average.  NaN where T_learn[r] is NaN or P's r-th and (r + 1)-th eigenvalues coincide (relative
    gap below 1e-8, rounding for P's entries: V_r is not defined, e.g. Q-orthogonal teachers)."""
    t = np.asarray(t, float)
    pi, V = np.linalg.eigh(np.asarray(P, float))
    pi, V = pi[::-1], V[:, ::-1]
    out = np.full(k - 1, np.nan)
    for r in range(1, k):
        if not np.isfinite(T_learn[r - 1]) or pi[r - 1] - pi[r] <= 1e-8 * pi[r - 1]:
            continue
        i = int(np.searchsorted(t, T_learn[r - 1], side="left"))
        E = np.linalg.eigh(learned_operator(R[i], P, p, k))[1][:, ::-1]
        out[r - 1] = float(np.sum((E[:, :r].T @ V[:, :r]) ** 2)) / r
    return out


def tail_fit(t, loss, d: int, a: float, loss_frac: float, x_lo: float, x_hi_frac: float, min_points: int,
             t0: float | None = None):
    """(beta, n, t0): phases.tail_exponent from t0, the first time L <= loss_frac L(0).

    t0 as the flow run located it when given (NaN: never), else the first record time with
    L <= loss_frac L(t[0]) (the same definition on the record grid)."""
    t, loss = np.asarray(t, float), np.asarray(loss, float)
    if t0 is None:
        below = np.flatnonzero(loss <= loss_frac * loss[0])
        t0 = float(t[below[0]]) if below.size else math.nan
    beta, n = tail_exponent(t, loss, float(t0), d, a, x_lo, x_hi_frac, min_points)
    return beta, n, float(t0)


def tail_constant_fit(t, loss, t0: float, d: int, a: float, x_lo: float, x_hi_frac: float, min_points: int,
                      beta: float) -> float:
    """C of L(t0 + tau) ~ C tau^-beta with beta fixed: least squares in log L on the window of
    phases.tail_window, log C = mean(log L + beta log tau).  NaN as phases.tail_exponent."""
    t, loss = np.asarray(t, float), np.asarray(loss, float)
    window = tail_window(t, t0, d, a, x_lo, x_hi_frac)
    if window.sum() < min_points or not np.all(np.isfinite(loss[window]) & (loss[window] > 0)):
        return math.nan
    tau = t[window] - t0
    return float(np.exp(np.mean(np.log(loss[window]) + beta * np.log(tau))))


def origin_depth(loss_t0: float, C_law: float, d: int, a: float, x_lo: float) -> float:
    """How deep into Phase III the origin t0 lies: tau_eff / tau_lo, where the law C_law tau^-(1 - 1/a)
    reaches the loss at t0 at tau_eff = (C_law / L(t0))^{a/(a-1)}, and the window starts at
    tau_lo = H_{d,a} x_lo^a / 16 (x_d(tau_lo) = x_lo).  Well below 1: the origin precedes the window,
    as the fit assumes.  Of order 1 or above: L(t0) is already the law's loss inside the window, the
    true origin of the decay lies about tau_eff before t0, and L(t0 + tau) is flattened on the window
    (a beta far below 1 - 1/a); the level phase3_loss is then too deep for that d."""
    from ..model import harmonic

    tau_eff = (C_law / loss_t0) ** (a / (a - 1.0))
    return float(tau_eff / (harmonic(d, a) * x_lo**a / 16.0))


def own_origin_tail(t, loss, lam, Wstar, p: int, T_learn, T_last: float, d: int, a: float,
                    x_lo: float, x_hi_frac: float, min_points: int) -> dict:
    """Phase III from T_last against the linearised tail loss (committee.theory.phase3_loss) with one
    origin per eigendirection of P: the r-th strongest (r-th largest eigenvalue) learned at T_learn[r]
    (``learning_times`` of the learned spectrum), so at T_last + tau it has relaxed for
    max(0, tau + T_last - T_learn[r]); T_last (as the flow located it) is when every l_r >= level.
    beta_lin_last: the same fit as beta_last of the one-origin loss (every direction from T_last, the
    window's own bias); beta_own: of the own-origin loss; L_over_own: the geometric mean of L / L_own
    on the window (1 if each direction's tail is the minimum's linearised tail from its own escape,
    the directions escaping in the order of their spectral weight)."""
    t = np.asarray(t, float)
    # phase3_loss takes the lags with P's eigenvalues ascending: the weakest direction first
    lags = np.clip(T_last - np.asarray(T_learn, float)[::-1], 0.0, None)  # >= 0 up to interpolation
    after = t > T_last
    one, own = np.full(t.shape, np.nan), np.full(t.shape, np.nan)
    one[after] = linearised_tail_loss(t[after] - T_last, lam, Wstar, p)
    own[after] = linearised_tail_loss(t[after] - T_last, lam, Wstar, p, lags=lags)
    tail = (d, a, x_lo, x_hi_frac, min_points)
    window = tail_window(t, T_last, d, a, x_lo, x_hi_frac)
    ratio = math.nan
    if window.sum() >= min_points:
        ratio = float(np.exp(np.mean(np.log(np.asarray(loss, float)[window] / own[window]))))
    return {"beta_lin_last": tail_exponent(t, one, T_last, *tail)[0],
            "beta_own": tail_exponent(t, own, T_last, *tail)[0], "L_over_own": ratio}


def ranked_eigenvalue(M, r: int = 1) -> np.ndarray:
    """The r-th largest eigenvalue of M(t) (T, p, p) at every record time, shape (T,); 1 <= r <= p."""
    M = np.asarray(M, float)
    if not 1 <= r <= M.shape[-1]:
        raise ValueError(f"rank r must be in 1..{M.shape[-1]}, got {r}")
    return np.linalg.eigvalsh(M)[:, -r]


def threshold_crossings(M, level: float, r: int = 1) -> tuple[int, bool, bool]:
    """(crossings, starts_below, ends_above) of the r-th largest eigenvalue mu^(r)(t) of M(t) (T, p, p)
    through level (``ranked_eigenvalue``): the number of record steps where mu^(r) - level changes
    sign (above means strictly above), whether the first record is not above and whether the last
    is.  Crossing once and staying past it is (1, True, True).  With level the saddle level
    committee.theory.saddle_level(tr P, p, k, r), r = 1 is the analogue of s crossing 1/3; r >= 2
    asks the same of the rank-r stationary points (r units escaped)."""
    above = ranked_eigenvalue(M, r) > level
    return int(np.count_nonzero(above[1:] != above[:-1])), bool(not above[0]), bool(above[-1])


def threshold_time(t, M, level: float, r: int = 1) -> float:
    """T_cross[r]: the first time the r-th largest eigenvalue of M(t) crosses level from below, by
    linear interpolation between the two records around the first step from not above to above
    (the step ``threshold_crossings`` counts first when the path starts below).  NaN if the path
    never goes from not above to above, in particular if it starts above (no crossing from below)."""
    t = np.asarray(t, float)
    x = ranked_eigenvalue(M, r)
    up = np.flatnonzero((x[1:] > level) & ~(x[:-1] > level))
    if x[0] > level or up.size == 0:
        return math.nan
    i = int(up[0]) + 1
    return float(t[i - 1] + (level - x[i - 1]) * (t[i] - t[i - 1]) / (x[i] - x[i - 1]))


def threshold_end_law(P, p: int, k: int) -> np.ndarray:
    """Per rank r = 1 .. min(p, k): the r-th largest eigenvalue of M at a global minimum over the
    saddle level mu_r, (r + 2) pi_r / tr P (pi_r the r-th largest eigenvalue of P = W* Q W*^T);
    NaN for every r when p < k (no zero-loss minimum, nothing derived).

    Derivation: quadratic units reach zero loss (p >= k) iff W^T W / p = W*^T W* / k, so M = W Q W^T
    has the nonzero eigenvalues of Q^(1/2) W^T W Q^(1/2) = (p/k) Q^(1/2) W*^T W* Q^(1/2), i.e. (p/k)
    pi_1 >= ... >= (p/k) pi_k and p - k zeros.  Against mu_r = p tr P / (k (r + 2)) the ratio is
    (r + 2) pi_r / tr P: a flow that converges to a minimum ends above mu_r iff pi_r > tr P / (r + 2).
    For r = 1 that always holds at k <= 2 (pi_1 >= tr P / k > tr P / 3) and at k = 3 except P
    proportional to I (ratio 1); for k >= 4 it can fail (P proportional to I: ratio 3 / k < 1), so
    "crosses once and stays above" is not a property of the flow for large k.  For r >= 2 it
    depends on the teachers' spectrum even at k = 2 (ratio 4 pi_2 / tr P, above iff pi_2 > pi_1 / 3);
    r = k with P proportional to I gives (k + 2) / k > 1."""
    P = np.asarray(P, float)
    rmax = min(p, k)
    if p < k:
        return np.full(rmax, math.nan)
    pi = np.linalg.eigvalsh(P)[::-1]
    return (np.arange(1, rmax + 1) + 2) * pi[:rmax] / float(np.trace(P))


def plateau_times(T_cross1: float, T_learn) -> np.ndarray:
    """Plateau durations of one run, shape (k,): the gaps between consecutive escape events
    E_0 = T_cross1 (the top eigenvalue of M reaching the rank-one saddle level mu_1: the escape from
    W = 0 has reached the saddle) and E_1 <= ... <= E_k, the learning times T_learn[r] sorted
    (``learning_times``: l_r reaching learn_level ends the escape of the r-th direction);
    plateau_i = E_i - E_{i-1}.  Entry i is NaN where E_i or E_{i-1} is (a direction
    never learned: the unlearned ones sort last; T_cross1 NaN: entry 1 only).

    Why this definition: it is built from two measurements the run already makes, with the
    existing learn_level and the derived level mu_1, and adds no tunable number (a plateau read off
    the loss, |d log L / d log t| below some tolerance, would need one).  The time between two
    escapes is the time the flow lingers between them, i.e. near the saddle the first one led to;
    plateau_1 is how long after reaching mu_1 the first direction is learned.  It is not clipped:
    plateau_1 < 0 (the first direction learned before the top eigenvalue of M reaches mu_1) is
    reported as measured."""
    T = np.sort(np.asarray(T_learn, float))  # NaN (never learned) sorts last
    events = np.concatenate([[float(T_cross1)], T])
    return np.diff(events)


def early_exponent(t, R, R0, t_hi: float) -> float:
    """Least-squares log-log slope of |R(t) - R(0)|_F on t <= t_hi (NaN with < 3 samples)."""
    t = np.asarray(t, float)
    keep = t <= t_hi
    dr = np.sqrt(np.sum((np.asarray(R, float)[keep] - np.asarray(R0, float)[None]) ** 2, axis=(1, 2)))
    if keep.sum() < 3 or not np.all(dr > 0):
        return math.nan
    return float(np.polyfit(np.log(t[keep]), np.log(dr), 1)[0])


def _log_ratio(t_sgd, loss_sgd, t_flow, loss_flow):
    """(times, log(L_sgd / L_flow)) at the SGD record times inside the flow's record (the flow
    interpolated log-log; SGD's last time, the first step at or after t_max, may pass the flow's)."""
    t_sgd, t_flow = np.asarray(t_sgd, float), np.asarray(t_flow, float)
    keep = (t_sgd >= t_flow[0]) & (t_sgd <= t_flow[-1])
    ref = loglog_interp(t_flow, loss_flow, t_sgd[keep])
    with np.errstate(divide="ignore", invalid="ignore"):
        return t_sgd[keep], np.log(np.asarray(loss_sgd, float)[keep] / ref), ref


def sgd_gap(t_sgd, loss_sgd, t_flow, loss_flow) -> float:
    """max |log(L_sgd / L_flow)| over the SGD record (``_log_ratio``); NaN if any is not finite."""
    gap = np.abs(_log_ratio(t_sgd, loss_sgd, t_flow, loss_flow)[1])
    return float(gap.max()) if gap.size and np.all(np.isfinite(gap)) else math.nan


def departure(t_sgd, loss_sgd, t_flow, loss_flow, rtol: float) -> tuple[float, float, float]:
    """(t_leave, L_flow(t_leave) / L_flow(t_flow[0]), log(L_sgd / L_flow) at the last SGD time).

    t_leave is the first SGD record time with |log(L_sgd / L_flow)| > log(1 + rtol) (``_log_ratio``),
    NaN (and NaN loss fraction) if there is none; every value NaN if any ratio is not finite (a
    diverged replica)."""
    if not rtol > 0:
        raise ValueError(f"rtol must be positive, got {rtol}")
    t, log_ratio, ref = _log_ratio(t_sgd, loss_sgd, t_flow, loss_flow)
    if not log_ratio.size or not np.all(np.isfinite(log_ratio)):
        return math.nan, math.nan, math.nan
    out = np.flatnonzero(np.abs(log_ratio) > math.log1p(rtol))
    if out.size == 0:
        return math.nan, math.nan, float(log_ratio[-1])
    i = int(out[0])
    return float(t[i]), float(ref[i] / loss_flow[0]), float(log_ratio[-1])


# ---- summary ----

#: The per-flow-run columns of the summary.  T_learn (per rank r, T_learn[r] in column r - 1) and
#: plateau are (runs, k_max), order_overlap (runs, k_max - 1); the per-rank
#: threshold columns (RANK_KEYS) are (runs, r_max), r_max = max min(p, k), column r - 1 for rank r;
#: all NaN-padded (and NaN for erf and relu, except T_learn and plateau from its second entry on).
#: thr_level, thr_crossings, thr_once are rank 1 (column 0 of thr_levels, thr_crossings_r, ...).
RANK_KEYS = ("thr_levels", "thr_crossings_r", "thr_starts_below", "thr_ends_above", "T_cross",
             "thr_end_ratio", "thr_end_law")
#: The columns that name a run (the first of FLOW_KEYS and, after eta, of SGD_KEYS).
RUN_NAME = ("activation", "a", "p", "k", "d", "seed")
FLOW_KEYS = (*RUN_NAME, "rho", "rate_ratio", "rate_allowance", "raw_ratio",
             "own_ratio_min", "own_ratio_max", "rate_entries", "T_learn", "n_learned", "order_overlap",
             "spread", "beta", "beta_n", "t0", "C_fit", "C_law", "C_single", "beta_lin", "C_lin",
             "origin_depth", "T_last", "beta_last", "C_last", "beta_lin_last", "beta_own", "L_over_own",
             "origin_depth_last",
             "thr_level", "thr_crossings", "thr_once",
             *RANK_KEYS, "plateau", "early_q", "loss_end")
#: The per-SGD-run columns (prefixed sgd_ in the summary).
SGD_KEYS = ("eta", *RUN_NAME[1:], "gap", "diverged", "leave_t", "leave_loss", "end_log_ratio")


def _key(r):
    return (str(r["activation"]), float(r["a"]), int(r["p"]), int(r["k"]), int(r["d"]), int(r["seed"]))


def summarise(flows, sgds, *, tail_x_lo: float, tail_x_hi_frac: float, tail_min_points: int,
              phase3_loss: float, learn_level: float, phase1_s_max: float, early_t_max: float,
              rate_e_max: float, leave_rtol: float) -> dict:
    """One row per flow run (FLOW_KEYS) and one per SGD run (sgd_*); each SGD run needs the flow of its
    (activation, a, p, k, d, seed) among flows (StudyInputError otherwise).  The Phase I rate only at
    the smallest d of the flows (the study's; NaN at larger d, which only claim_large_d reads).  The
    tail origins t0 and T_last as each flow run located them (at the study's phase3_loss and
    learn_level, StudyInputError otherwise), else the same definitions on its record grid."""
    rows = {k: [] for k in FLOW_KEYS}
    d_study = min(int(r["d"]) for r in flows)  # the claims' d; larger ones: claim_large_d
    k_max = max(int(r["k"]) for r in flows)
    r_max = max(min(int(r["p"]), int(r["k"])) for r in flows)
    by_key = {}
    for r in flows:
        act, a, p, k, d, seed = key = _key(r)
        by_key[key] = r
        t, M, R, lam, Ws = r["t"], r["M"], r["R"], r["lam"], r["Wstar"]
        P = (Ws * lam) @ Ws.T
        T = np.full(k_max, np.nan)
        vals = dict.fromkeys(FLOW_KEYS[len(RUN_NAME):], math.nan)
        vals |= {n: np.full(r_max, np.nan) for n in RANK_KEYS}
        vals["plateau"], vals["order_overlap"] = np.full(k_max, np.nan), np.full(k_max - 1, np.nan)
        learned = learned_spectrum(R, P, p, k)
        T[:k] = learning_times(t, learned, learn_level)
        vals["n_learned"] = int(np.sum(learned[-1] >= learn_level))
        if act == "quadratic":
            if d == d_study:  # phase1_rate diagonalises the d x d L: O(d^3), minutes at d = 1e4
                ph = phase1_rate(t, R, M, lam, Ws, r["W0"], phase1_s_max, rate_e_max)
                vals |= {"rho": ph["rho"], "rate_ratio": ph["ratio"], "rate_allowance": ph["allowance"],
                         "raw_ratio": ph["raw_ratio"], "own_ratio_min": float(np.min(ph["own_ratio"])),
                         "own_ratio_max": float(np.max(ph["own_ratio"])), "rate_entries": ph["entries"]}
            for rank in range(1, min(p, k) + 1):
                mu = saddle_level(float(np.trace(P)), p, k, rank)
                n_cross, below0, above1 = threshold_crossings(M, mu, rank)
                for name, v in (("thr_levels", mu), ("thr_crossings_r", n_cross),
                                ("thr_starts_below", below0), ("thr_ends_above", above1),
                                ("T_cross", threshold_time(t, M, mu, rank)),
                                ("thr_end_ratio", ranked_eigenvalue(M[-1:], rank)[0] / mu)):
                    vals[name][rank - 1] = float(v)
            vals["thr_end_law"][:min(p, k)] = threshold_end_law(P, p, k)
            vals["thr_level"], vals["thr_crossings"] = vals["thr_levels"][0], int(vals["thr_crossings_r"][0])
            vals["thr_once"] = float(vals["thr_crossings"] == 1 and vals["thr_starts_below"][0] == 1
                                     and vals["thr_ends_above"][0] == 1)
            vals["order_overlap"][:k - 1] = learned_order(t, R, P, p, k, T[:k])
        else:
            R0 = (r["W0"] * lam) @ Ws.T
            vals["early_q"] = early_exponent(t, R, R0, early_t_max)
        if k >= 2 and np.all(np.isfinite(T[:k])):
            vals["spread"] = float(np.max(T[:k]) / np.min(T[:k]))
        vals["plateau"][:k] = plateau_times(vals["T_cross"][0], T[:k])
        for origin, name, want in (("t0", "phase3_loss", phase3_loss),
                                   ("T_last", "learn_level", learn_level)):
            if name in r and not math.isclose(float(r[name]), want):
                raise StudyInputError(f"flow run {_key(r)}: {origin} located at {name} {float(r[name])}, "
                                      f"the study asks {want}")
        tail = (d, a, tail_x_lo, tail_x_hi_frac, tail_min_points)
        beta, n, t0 = tail_fit(t, r["loss"], d, a, phase3_loss, *tail[2:], t0=r.get("t0"))
        vals |= {"beta": beta, "beta_n": n, "t0": t0, "loss_end": float(r["loss"][-1])}
        # the second origin, every teacher direction learned: as the flow located it, else on the record grid
        T_last = r.get("T_last")
        if T_last is None:
            T_last = first_upcrossing(t, learned.min(axis=1), learn_level)
        vals["T_last"] = float(T_last)
        vals["beta_last"] = tail_exponent(t, r["loss"], vals["T_last"], *tail)[0]
        if a > 1:
            b_law = 1 - 1 / a
            vals["C_single"] = loss_law_constant(a, d)
            vals["C_fit"] = tail_constant_fit(t, r["loss"], t0, *tail, b_law)
            vals["C_last"] = tail_constant_fit(t, r["loss"], vals["T_last"], *tail, b_law)
            if act == "quadratic" and p >= k:
                vals["C_law"] = tail_constant(a, lam, Ws, p)
                if np.isfinite(t0):
                    lin = np.full(t.shape, np.nan)
                    after = t > t0
                    lin[after] = linearised_tail_loss(t[after] - t0, lam, Ws, p)
                    vals["beta_lin"] = tail_exponent(t, lin, t0, *tail)[0]
                    vals["C_lin"] = tail_constant_fit(t, lin, t0, *tail, b_law)
                    vals["origin_depth"] = origin_depth(float(np.interp(t0, t, r["loss"])), vals["C_law"], d,
                                                        a, tail_x_lo)
                if np.isfinite(vals["T_last"]):
                    vals |= own_origin_tail(t, r["loss"], lam, Ws, p, T[:k], vals["T_last"], *tail)
                    vals["origin_depth_last"] = origin_depth(float(np.interp(vals["T_last"], t, r["loss"])),
                                                             vals["C_law"], d, a, tail_x_lo)
        for name, v in zip(RUN_NAME, key, strict=True):
            rows[name].append(v)
        rows["T_learn"].append(T)
        for name in FLOW_KEYS[len(RUN_NAME):]:
            if name != "T_learn":
                rows[name].append(vals[name])
    srows = {k: [] for k in SGD_KEYS}
    for r in sgds:
        key = _key(r)
        if key not in by_key:
            raise StudyInputError(f"SGD run {key}: no flow run of the same (activation, a, p, k, d, seed)")
        f = by_key[key]
        diverged = bool(r["diverged"])
        gap = math.nan if diverged else sgd_gap(r["t"], r["loss"], f["t"], f["loss"])
        leave = (math.nan,) * 3 if diverged else departure(r["t"], r["loss"], f["t"], f["loss"], leave_rtol)
        for name, v in zip(SGD_KEYS, (float(r["eta"]), *key[1:], gap, diverged, *leave), strict=True):
            srows[name].append(v)
    out = {k: np.array(v) for k, v in rows.items()}
    return out | {f"sgd_{k}": np.array(v, dtype=bool if k == "diverged" else float) for k, v in srows.items()}


# ---- claims ----


def _base_d(summary) -> np.ndarray:
    """Rows at the study's d, the smallest in the summary (committee.d; the larger committee.large_d runs
    have a claim of their own, ``claim_large_d``); every row if the summary has no d column."""
    if "d" not in summary:
        return np.ones(len(summary["activation"]), bool)
    d = np.asarray(summary["d"])
    return d == d.min()


def _groups(summary, activation, *extra):
    """{(a, p, k): row mask} of one activation's rows at the study's d (``_base_d``; with an extra mask,
    optional)."""
    act = np.asarray(summary["activation"]).astype(str)
    a, p, k = (np.asarray(summary[n]) for n in ("a", "p", "k"))
    base = (act == activation) & _base_d(summary)
    for m in extra:
        base = base & m
    keys = sorted({(float(x), int(y), int(z)) for x, y, z in zip(a[base], p[base], k[base], strict=True)})
    return {key: base & (a == key[0]) & (p == key[1]) & (k == key[2]) for key in keys}


def _larger_d_groups(summary):
    """{(a, p, k, d): row mask} of the quadratic rows above the study's d (``_base_d``: the
    committee.large_d runs)."""
    larger = (np.asarray(summary["activation"]).astype(str) == "quadratic") & ~_base_d(summary)
    if not larger.any():
        return {}
    cols = [np.asarray(summary[n]) for n in ("a", "p", "k", "d")]
    keys = sorted({(float(x), int(y), int(z), int(w)) for x, y, z, w in zip(*(c[larger] for c in cols),
                                                                               strict=True)})
    return {key: larger & np.all([c == v for c, v in zip(cols, key, strict=True)], axis=0) for key in keys}


def _name(key):
    return f"a={key[0]:g},p={key[1]},k={key[2]}"


def claim_escape_rate(summary: dict, *, level: float) -> Claim:
    """Quadratic units: the Phase I growth of R is the top eigenvalue rho_1 of L.

    Derivation (fixed before the data; ``phase1_rate``, config committee.claims.rate_e_max): with
    the linear share of the subleading modes divided out, the fitted slope / rho_1 is 1 up to the
    cubic term's bound b (per run).  Check, per (a, p, k): every seed has a window, and the
    Student-t interval (level) over seeds of the mean ratio, widened by the largest b of the group,
    contains 1.
    """
    measured, passed = {}, True
    for key, m in _groups(summary, "quadratic").items():
        r = np.asarray(summary["rate_ratio"], float)[m]
        b = np.asarray(summary["rate_allowance"], float)[m]
        mean, lo, hi = mean_ci(r, level)
        width = float(np.nanmax(b)) if np.any(np.isfinite(b)) else math.nan
        ok = bool(np.all(np.isfinite(r)) and r.size >= 2 and lo - width <= 1.0 <= hi + width)
        measured[_name(key)] = {"mean_ratio": mean, "ci": [lo, hi], "allowance": width, "runs": int(r.size),
                                "ok": ok}
        passed &= ok
    passed &= bool(measured)
    return check(
        "committee.escape_rate",
        "Quadratic units: the Phase I slope of log |R[j, m]| (the subleading modes' linear share divided "
        "out) "
        "over the top eigenvalue rho_1 of L = (4 tr(P) Q + 8 Q W*^T W* Q)/(pk): the seed interval of its "
        "mean, widened by the cubic term's bound, contains 1 for every (a, p, k).",
        measured, 1.0, {"level": level, "widened_by": "max per-run cubic-term bound"}, passed,
        basis="interval: Student-t CI over seeds of the mean fitted/rho_1, widened by the derived cubic-term "
              "bound 1.5 kappa (tr M(t1) + tr M(t2)) / (t2 - t1), must contain 1",
    )


def claim_own_rates(summary: dict, *, level: float) -> Claim:
    """rho_1 over each teacher's own rate (the top root of its own secular equation), and the raw
    (uncorrected) fitted slope over rho_1: do teachers escape at their own rates?"""
    measured, intervals = {}, {}
    for key, m in _groups(summary, "quadratic", np.asarray(summary["k"]) >= 2).items():
        lo_own = mean_ci(np.asarray(summary["own_ratio_min"], float)[m], level)
        hi_own = mean_ci(np.asarray(summary["own_ratio_max"], float)[m], level)
        raw = mean_ci(np.asarray(summary["raw_ratio"], float)[m], level)
        measured[_name(key)] = {"rho1_over_own_min": lo_own[0], "rho1_over_own_max": hi_own[0],
                                "raw_fit_over_rho1": raw[0]}
        intervals[_name(key)] = {"rho1_over_own_min": list(lo_own[1:]), "rho1_over_own_max": list(hi_own[1:]),
                                 "raw_fit_over_rho1": list(raw[1:]), "level": level}
    return finding(
        "committee.own_rates",
        "k >= 2: the common Phase I rate rho_1 over each teacher's own rate (1 would mean a teacher escapes "
        "at its own rate), and the uncorrected fitted slope over rho_1.",
        measured=measured, interval=intervals)


def claim_sequence(summary: dict, *, level: float) -> Claim:
    """p >= k >= 2: are the teacher directions learned one after another, in the order of their
    spectral weight?  Per (a, p, k): runs where every direction is learned (every T_learn[r] finite),
    the spread max_r T_learn / min_r T_learn (geometric mean, seed interval), and per rank r < k the overlap
    of the r learned directions with P's top r (``learned_order``; mean with its seed interval,
    beside r / k, a random r-space's)."""
    p, k = np.asarray(summary["p"]), np.asarray(summary["k"])
    overlap = np.atleast_2d(np.asarray(summary["order_overlap"], float))
    measured, intervals = {}, {}
    for key, m in _groups(summary, "quadratic", (k >= 2) & (p >= k)).items():
        kk = key[2]
        spread = np.asarray(summary["spread"], float)[m]
        spread = spread[np.isfinite(spread)]  # finite iff every direction is learned
        g = geometric_mean_ci(spread, level) if spread.size else None
        measured[_name(key)] = {"runs": int(m.sum()), "all_learned": int(spread.size),
                                "spread_last_over_first": None if g is None else g["geometric_mean"],
                                "order_overlap": {}}
        intervals[_name(key)] = {"spread": g, "order_overlap": {}, "level": level}
        for r in range(1, kk):
            x = overlap[m, r - 1]
            ci = mean_ci(x, level)
            measured[_name(key)]["order_overlap"][str(r)] = {"mean": ci[0], "random": r / kk,
                                                             "runs": int(np.isfinite(x).sum())}
            intervals[_name(key)]["order_overlap"][str(r)] = list(ci[1:])
    return finding(
        "committee.sequence",
        "p >= k >= 2, quadratic: runs where every teacher direction is learned (T_learn[r] finite for every "
        "r: l_r = g_r / pi_r reaches learn_level, g_r the r-th eigenvalue of the learned operator "
        "G = (k/p) P^-1/2 R^T R P^-1/2, which is P at a minimum), the spread max_r T_learn / min_r T_learn, "
        "and per rank r < k the mean squared cosine between G's top-r eigenspace at T_learn[r] and P's "
        "(1: learned in the order of spectral weight; r / k: a random r-space).",
        measured=measured, interval=intervals)


def claim_underparam(summary: dict, *, level: float) -> Claim:
    """p < k: how many teacher directions reach the learned level by t_max (l_r >= learn_level: at
    most p), and the final loss."""
    p, k = np.asarray(summary["p"]), np.asarray(summary["k"])
    measured, intervals = {}, {}
    for key, m in _groups(summary, "quadratic", p < k).items():
        n = mean_ci(np.asarray(summary["n_learned"], float)[m], level)
        loss = geometric_mean_ci(np.asarray(summary["loss_end"], float)[m], level)
        measured[_name(key)] = {"teachers_learned": n[0], "loss_end": loss["geometric_mean"]}
        intervals[_name(key)] = {"teachers_learned": list(n[1:]), "loss_end": loss}
    return finding(
        "committee.underparam",
        "p < k, quadratic: teacher directions learned by t_max (l_r >= learn_level, at most p; mean over "
        "seeds) and the loss at t_max.",
        measured=measured, interval=intervals)


def _paired(x, m, ref, seed):
    """x[m] and x[ref] of the seeds both groups have, in seed order."""
    both = sorted(set(seed[m].tolist()) & set(seed[ref].tolist()))
    return (np.array([x[m & (seed == s)][0] for s in both]),
            np.array([x[ref & (seed == s)][0] for s in both]))


def claim_tail_exponent(summary: dict, *, level: float) -> Claim:
    """The Phase III loss exponent per (activation, a, p, k) against 1 - 1/a and against beta_lin, the
    same fit of the linearised tail loss (committee.theory.phase3_loss) on the same samples, and the
    change from p = k to p > k (paired by seed): does over-parameterisation change the exponent?
    beta from t0 (the configured loss level) and beta_last from T_last, the time the last teacher
    direction is learned (learn_level), the end of the last escape: two origins, since a loss level
    that is reached only inside the window flattens the fit (``origin_depth``).  From T_last also
    beta_lin_last and beta_own (``own_origin_tail``): the linearised loss with one origin, resp. with
    each direction of P from its own escape, fitted on the same samples."""
    measured, intervals = {}, {}
    cols = {n: np.asarray(summary[n], float)
            for n in ("beta", "beta_lin", "beta_last", "beta_lin_last", "beta_own")}
    seed = np.asarray(summary["seed"])
    for act in sorted(set(np.asarray(summary["activation"]).astype(str).tolist())):
        groups = _groups(summary, act)
        for key, m in groups.items():
            ci = {n: mean_ci(v[m], level) for n, v in cols.items()}
            name = f"{act}:{_name(key)}"
            measured[name] = {n: c[0] for n, c in ci.items()} | {
                "one_minus_1_over_a": 1 - 1 / key[0], "fitted_runs": int(np.isfinite(cols["beta"][m]).sum()),
                "fitted_runs_last": int(np.isfinite(cols["beta_last"][m]).sum()), "runs": int(m.sum())}
            intervals[name] = {n: list(c[1:]) for n, c in ci.items()} | {"level": level}
            a, p, k = key
            ref = groups.get((a, k, k))
            if p > k and ref is not None:
                for n, out in (("beta", "minus_p_eq_k"), ("beta_last", "last_minus_p_eq_k")):
                    x, y = _paired(cols[n], m, ref, seed)
                    dd = mean_ci(x - y, level)
                    measured[name][out] = dd[0]
                    intervals[name][out] = list(dd[1:])
    return finding(
        "committee.tail_exponent",
        "Phase III: beta of L(t0 + tau) ~ tau^-beta (phases.tail_exponent on the committee's window, t0 the "
        "first time L <= phase3_loss L(0), located by the flow) per (activation, a, p, k), beside 1 - 1/a "
        "and beta_lin (the same fit of the linearised tail loss); beta_last the same fit from T_last (every "
        "teacher direction learned, located by the flow), beside beta_lin_last and beta_own (the linearised "
        "loss from T_last with one origin, resp. each eigendirection of P from its own escape); for p > k "
        "also beta(p) - beta(p = k) paired by seed, from both origins.",
        measured=measured, interval=intervals)


def claim_tail_constant(summary: dict, *, level: float) -> Claim:
    """The Phase III constant: C of L ~ C tau^-(1 - 1/a) fitted on the window, per quadratic (a, p, k)
    with p >= k, over the derived committee law C_law (committee.theory.tail_constant, which is not
    k C_1: C_law / (k C_1) is listed beside the measured C / (k C_1)), over C_lin (the same fit of the
    linearised loss: the window's bias), and for p > k the paired C(p) / C(p = k) over the law's
    (p / k)^(1 - 1/a) (the whole over-parameterisation effect if the exponent stays); origin_depth
    (``origin_depth``, geometric mean) says whether t0 precedes the window, as both fits assume, and
    origin_depth_last the same for T_last; L_over_own (``own_origin_tail``) compares the loss from
    T_last with one origin per direction of P."""
    measured, intervals = {}, {}
    names = ("C_fit", "C_law", "C_lin", "origin_depth", "C_last", "L_over_own", "origin_depth_last")
    C, law, lin, depth, last, own, depth_last = (np.asarray(summary[n], float) for n in names)
    kk = np.asarray(summary["k"], float)
    single = np.asarray(summary["C_single"], float) * kk
    seed = np.asarray(summary["seed"])
    p_all, k_all = np.asarray(summary["p"]), np.asarray(summary["k"])
    groups = _groups(summary, "quadratic", p_all >= k_all)
    for key, m in groups.items():
        a, p, k = key
        if a <= 1:
            continue
        name = _name(key)
        ratios = {"C_over_law": C / law, "C_lin_over_law": lin / law, "C_over_lin": C / lin,
                  "C_over_k_C_single": C / single, "law_over_k_C_single": law / single,
                  "origin_depth": depth, "C_last_over_law": last / law, "L_over_own": own,
                  "origin_depth_last": depth_last}
        gm = {n: geometric_mean_ci(v[m], level) for n, v in ratios.items()}
        measured[name] = {n: g["geometric_mean"] for n, g in gm.items()}
        measured[name] |= {"fitted_runs": int(np.isfinite(C[m]).sum()), "runs": int(m.sum())}
        intervals[name] = {n: [g["lower"], g["upper"]] for n, g in gm.items()} | {"level": level}
        ref = groups.get((a, k, k))
        if p > k and ref is not None:
            measured[name]["law_p_over_k"] = (p / k) ** (1 - 1 / a)
            for v, out in ((C, "C_over_C_p_eq_k_over_law"), (last, "C_last_over_C_last_p_eq_k_over_law")):
                x, y = _paired(v, m, ref, seed)
                g = geometric_mean_ci(x / y / (p / k) ** (1 - 1 / a), level)
                measured[name][out] = g["geometric_mean"]
                intervals[name][out] = [g["lower"], g["upper"]]
    return finding(
        "committee.tail_constant",
        "Phase III, quadratic, p >= k: the constant C of L ~ C tau^-(1 - 1/a) on the tail window over the "
        "derived law C_1 p^(1-1/a) k^(-1-1/a) sum_r s_r pi_r^(1/a) (C_1 the single-neuron constant; not "
        "k C_1), over the same fit of the linearised tail loss, and C / (k C_1) beside the law's; for "
        "p > k the paired C(p) / C(p = k) over (p/k)^(1-1/a); origin_depth = tau_eff(L(t0)) / tau_lo (<< 1: "
        "t0 precedes the window); C_last the same fit from T_last (the last teacher direction learned), "
        "origin_depth_last the same depth for T_last; "
        "L_over_own the loss over the linearised loss with each direction of P from its own escape, on the "
        "window from T_last (1 if the committee's tail is the sum of single-neuron tails, each from its "
        "escape).",
        measured=measured, interval=intervals)


def claim_threshold(summary: dict, *, level: float) -> Claim:
    """Quadratic units, per (a, p, k): the saddle levels mu_r = p tr P / (k (r + 2)) of the R = 0
    stationary points (committee.theory.saddle_level; r = 1 is the analogue of s = 1/3) and the
    plateaus between escapes.  A finding, not a check: whether the r-th eigenvalue of M ends above
    mu_r is derived only at a zero-loss minimum, where it holds iff pi_r > tr P / (r + 2)
    (``threshold_end_law``), which can fail for r = 1 at k >= 4 and for r >= 2 at any k.

    Per rank r = 1 .. min(p, k): runs whose r-th largest eigenvalue crosses mu_r exactly once and
    stays above it, never crosses, crosses more than once, starts below, ends above (the last two
    counts with Clopper-Pearson intervals), the runs whose minimum lies above mu_r (p >= k), the
    geometric mean of the measured end value over mu_r, and the first crossing time T_cross[r]
    (geometric mean with its seed interval, over the runs that cross).  Plateaus
    (``plateau_times``): per index i = 1 .. k, the runs where plateau_i is defined and where it
    is <= 0, and the geometric mean (seed interval) of the positive ones.  The rank-1 entries of
    earlier versions (once_and_stays, never, more_than_once, level_mean) stay at the top level."""
    measured, intervals = {}, {}
    once = np.asarray(summary["thr_once"], float)
    n_cross = np.asarray(summary["thr_crossings"], float)
    ranked = {n: np.atleast_2d(np.asarray(summary[n], float)) for n in RANK_KEYS}
    plateau = np.atleast_2d(np.asarray(summary["plateau"], float))
    for key, m in _groups(summary, "quadratic").items():
        a, p, k = key
        n, hit = int(m.sum()), int(np.nansum(once[m]))
        name = _name(key)
        measured[name] = {"runs": n, "once_and_stays": hit, "never": int(np.sum(n_cross[m] == 0)),
                          "more_than_once": int(np.sum(n_cross[m] > 1)),
                          "level_mean": float(np.mean(np.asarray(summary["thr_level"], float)[m])),
                          "rank": {}, "plateau": {}}
        intervals[name] = {"once_and_stays": count_interval(hit, n, level), "rank": {}, "plateau": {}}
        for rank in range(1, min(p, k) + 1):
            col = {n_: v[m, rank - 1] for n_, v in ranked.items()}
            cr = col["thr_crossings_r"]
            below, above = col["thr_starts_below"] == 1, col["thr_ends_above"] == 1
            stays = int(np.sum((cr == 1) & below & above))
            T = col["T_cross"][np.isfinite(col["T_cross"])]
            law = col["thr_end_law"]
            measured[name]["rank"][str(rank)] = {
                "level": float(np.mean(col["thr_levels"])), "once_and_stays": stays,
                "never": int(np.sum(cr == 0)), "more_than_once": int(np.sum(cr > 1)),
                "starts_below": int(below.sum()), "ends_above": int(above.sum()),
                "ends_above_at_minimum": int(np.sum(law > 1)) if p >= k else None,
                "end_over_level": geometric_mean_ci(col["thr_end_ratio"], level)["geometric_mean"],
                "minimum_over_level": geometric_mean_ci(law, level)["geometric_mean"] if p >= k else None,
                "crossed": int(T.size),
                "T_cross": geometric_mean_ci(T, level)["geometric_mean"] if T.size else None}
            intervals[name]["rank"][str(rank)] = {
                "once_and_stays": count_interval(stays, n, level),
                "ends_above": count_interval(int(above.sum()), n, level),
                "T_cross": geometric_mean_ci(T, level) if T.size else None}
        for i in range(1, k + 1):
            x = plateau[m, i - 1]
            x = x[np.isfinite(x)]
            pos = x[x > 0]
            g = geometric_mean_ci(pos, level) if pos.size else None
            measured[name]["plateau"][str(i)] = {"defined": int(x.size), "nonpositive": int(np.sum(x <= 0)),
                                                 "geometric_mean": None if g is None else g["geometric_mean"]}
            intervals[name]["plateau"][str(i)] = g
    return finding(
        "committee.threshold",
        "Quadratic units: runs whose top eigenvalue of M crosses mu_1 = p tr P / (3k) (the rank-one "
        "stationary points with R = 0; 1/3 for p = k = 1) exactly once and stay above it, with the "
        "Clopper-Pearson interval of that fraction; per rank r <= min(p, k) the same for the r-th "
        "eigenvalue against mu_r = p tr P / (k (r + 2)), the runs ending above it (measured, and at the "
        "zero-loss minimum, above iff pi_r > tr P / (r + 2)) and the first crossing time T_cross[r]; "
        "plateaus: the gaps between T_cross[1] and the sorted teacher learning times (learn_level).",
        measured=measured, interval=intervals)


def claim_large_d(summary: dict, *, level: float) -> Claim:
    """Phase III of the quadratic runs at a d larger than the study's (committee.large_d), per
    (a, p, k, d): the fits of ``claim_tail_exponent`` and ``claim_tail_constant`` from both origins,
    the linearised loss from T_last with one origin and with each direction from its own escape, and
    T_last itself: does the committee approach the single-neuron law as the window outlasts the
    spread of the escapes?"""
    means = ("beta", "beta_lin", "beta_last", "beta_lin_last", "beta_own")
    groups, ratios = _larger_d_groups(summary), {}
    if groups:
        col = {n: np.asarray(summary[n], float)
               for n in ("C_fit", "C_last", "C_law", "L_over_own", "origin_depth_last", "T_last")}
        ratios = {"C_over_law": col["C_fit"] / col["C_law"], "C_last_over_law": col["C_last"] / col["C_law"]}
        ratios |= {n: col[n] for n in ("L_over_own", "origin_depth_last", "T_last")}
    measured, intervals = {}, {}
    for key, m in groups.items():
        name = f"{_name(key[:3])},d={key[3]}"
        ci = {n: mean_ci(np.asarray(summary[n], float)[m], level) for n in means}
        gm = {n: geometric_mean_ci(v[m], level) for n, v in ratios.items()}
        measured[name] = {n: c[0] for n, c in ci.items()} | {n: g["geometric_mean"] for n, g in gm.items()}
        measured[name] |= {"one_minus_1_over_a": 1 - 1 / key[0], "runs": int(m.sum()),
                           "with_T_last": int(np.isfinite(ratios["T_last"][m]).sum())}
        intervals[name] = {n: list(c[1:]) for n, c in ci.items()} | {
            n: [g["lower"], g["upper"]] for n, g in gm.items()} | {"level": level}
    return finding(
        "committee.large_d",
        "Quadratic runs at a d larger than the study's (committee.large_d): per (a, p, k, d) beta from t0 "
        "and from T_last beside the linearised loss's (one origin; own origin per direction), C / C_law from "
        "both origins, L / L_own, origin_depth_last and T_last (geometric means), as in "
        "committee.tail_exponent and committee.tail_constant.",
        measured=measured, interval=intervals)


def claim_early_growth(summary: dict, activation: str, *, level: float) -> Claim:
    """erf or relu: the early growth |R(t) - R(0)| ~ t^q (q = 1 for a constant force, no exponential
    escape)."""
    measured, intervals = {}, {}
    for key, m in _groups(summary, activation).items():
        q = mean_ci(np.asarray(summary["early_q"], float)[m], level)
        measured[_name(key)] = {"q": q[0]}
        intervals[_name(key)] = {"q": list(q[1:]), "level": level}
    return finding(
        f"committee.{activation}_escape",
        f"{activation} units: the log-log slope q of |R(t) - R(0)| at small t (1: driven by a constant force "
        "at W = 0, no saddle and no exponential Phase I).",
        measured=measured, interval=intervals)


def claim_sgd(summary: dict, *, level: float) -> Claim:
    """Online SGD against the flow of its seed, per (a, p, k, eta): the largest |log L_sgd / L_flow|,
    and where SGD leaves the flow (``departure``): how many replicas leave (Clopper-Pearson), the
    geometric mean of their departure times and of the flow's loss fraction there, and the mean log
    ratio at the end of the record (seed t intervals)."""
    eta, a, p, k = (np.asarray(summary[f"sgd_{n}"], float) for n in ("eta", "a", "p", "k"))
    gap, div = np.asarray(summary["sgd_gap"], float), np.asarray(summary["sgd_diverged"], bool)
    leave_t, leave_loss, end = (np.asarray(summary[f"sgd_{n}"], float)
                                for n in ("leave_t", "leave_loss", "end_log_ratio"))
    measured, intervals = {}, {}
    for key in sorted(set(zip(a.tolist(), p.tolist(), k.tolist(), eta.tolist(), strict=True))):
        m = (a == key[0]) & (p == key[1]) & (k == key[2]) & (eta == key[3])
        g, e = mean_ci(gap[m], level), mean_ci(end[m], level)
        left = m & np.isfinite(leave_t)
        name = f"a={key[0]:g},p={key[1]:g},k={key[2]:g},eta={key[3]:g}"
        measured[name] = {"max_log_gap": g[0], "diverged": int(div[m].sum()), "runs": int(m.sum()),
                          "left": int(left.sum()), "end_log_ratio": e[0]}
        intervals[name] = {"max_log_gap": list(g[1:]), "end_log_ratio": list(e[1:]),
                           "left": count_interval(int(left.sum()), int((m & ~div).sum()), level)
                           if (m & ~div).any() else None, "level": level}
        if left.any():
            intervals[name] |= {"leave_t": geometric_mean_ci(leave_t[left], level),
                                "leave_flow_loss_fraction": geometric_mean_ci(leave_loss[left], level)}
    return finding(
        "committee.sgd_tracks_flow",
        "Online SGD (quadratic units) against the flow of the same seed, per step size: the largest "
        "|log(L_sgd / L_flow)| over the record, where SGD first leaves the flow (|log ratio| > "
        "log(1 + leave_rtol)) and the flow's loss fraction L / L(0) there, and the log ratio at the end.",
        measured=measured, interval=intervals)


def claims(summary: dict, *, confidence_level: float) -> list[Claim]:
    """The committee study's claims: one check (escape_rate) and the findings."""
    kw = {"level": confidence_level}
    return [claim_escape_rate(summary, **kw), claim_own_rates(summary, **kw), claim_sequence(summary, **kw),
            claim_underparam(summary, **kw), claim_tail_exponent(summary, **kw),
            claim_tail_constant(summary, **kw), claim_large_d(summary, **kw), claim_threshold(summary, **kw),
            claim_early_growth(summary, "erf", **kw), claim_early_growth(summary, "relu", **kw),
            claim_sgd(summary, **kw)]
