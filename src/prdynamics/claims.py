"""The paper's claims as numbers: each function measures one claim and returns a Claim.

A Claim records what was measured, what was expected and with which
tolerance, and whether it passed.  Functions take plain arrays (already
loaded), so the same checks run on any config.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class Claim:
    id: str
    statement: str
    measured: object
    expected: object
    tolerance: object
    passed: bool

    def as_dict(self) -> dict:
        return _plain(asdict(self))


def threshold_s_one_third(reports: list[dict]) -> Claim:
    """Every population run crosses s = 1/3 exactly once and stays above it afterwards."""
    crossings = [r["crossings"] for r in reports]
    margins = [r["min_margin"] for r in reports]
    single = sum(c == 1 for c in crossings)
    min_margin = float(np.nanmin(margins)) if margins else float("nan")
    passed = bool(reports) and single == len(reports) and min_margin > 0
    return Claim(
        "threshold.s_one_third",
        "In every population run s crosses 1/3 once and never returns below it.",
        {"runs": len(reports), "single_crossing": single, "min_s_minus_third_after_crossing": min_margin},
        {"single_crossing": len(reports), "min_s_minus_third_after_crossing": "> 0"},
        None,
        passed,
    )


def escape_log_d(by_a: dict[float, tuple[list[int], list[float]]], r2_min: float) -> Claim:
    """T1 grows linearly in log d: per a, fit median T1 = c0 + c1 log d (c1 > 0, R^2 >= r2_min)."""
    fits = {}
    passed = bool(by_a)
    for a, (d_values, t1_medians) in sorted(by_a.items()):
        x, y = np.log(np.asarray(d_values, float)), np.asarray(t1_medians, float)
        if len(x) < 3 or not np.all(np.isfinite(y)):
            fits[a] = {"slope": float("nan"), "r2": float("nan"), "d": list(d_values)}
            passed = False
            continue
        slope, intercept = np.polyfit(x, y, 1)
        resid = y - (intercept + slope * x)
        r2 = 1 - np.sum(resid**2) / np.sum((y - y.mean()) ** 2)
        fits[a] = {"slope": float(slope), "intercept": float(intercept), "r2": float(r2), "d": list(d_values)}
        passed &= bool(slope > 0 and r2 >= r2_min)
    return Claim(
        "escape.log_d",
        "The escape time T1 grows linearly in log d (median over seeds, linear fit per a).",
        {str(a): f for a, f in fits.items()},
        {"slope": "> 0", "r2": f">= {r2_min}"},
        {"r2_min": r2_min},
        passed,
    )


def escape_rate(a_values, d_values, ratios, rtol: float, d_min: int = 10_000) -> Claim:
    """Per a, the median over seeds (d >= d_min) of fitted growth rate / rho_true is within rtol of 1.

    Runs whose fit window holds too few samples (NaN ratio) are counted and left out; the
    spread (min, max) is reported, since top-mode transients make single runs scatter.
    """
    a_values, d_values, ratios = (np.asarray(x, float) for x in (a_values, d_values, ratios))
    d_cut = d_min if np.any(d_values >= d_min) else float(d_values.max())
    measured, passed = {}, True
    for a in sorted(set(a_values.tolist())):
        r = ratios[(a_values == a) & (d_values >= d_cut)]
        ok = r[np.isfinite(r)]
        med = float(np.median(ok)) if ok.size else float("nan")
        measured[str(a)] = {"median_ratio": med, "min": float(ok.min()) if ok.size else float("nan"),
                            "max": float(ok.max()) if ok.size else float("nan"),
                            "fitted_runs": int(ok.size), "runs": int(r.size)}
        passed &= bool(ok.size >= 3 and abs(med - 1) <= rtol)
    return Claim(
        "escape.rate",
        f"The Phase I growth rate fitted on each run (fixed window rule: t >= 1/(rho - 4 lam_1), "
        f"s <= s_max) has median over seeds within the tolerance of rho_true, per a, at d >= {d_cut:g}.",
        measured,
        1.0,
        rtol,
        passed,
    )


def volterra(phase1_rel_err, theta_abs_err, delta_abs_err, s_phase1: float, phase1_rtol: float,
             theta_atol: float) -> list[Claim]:
    """The Volterra reduction reproduces the simulated u: the Phase I form while s is small
    (it drops the -3 int s of Theta, an error ~ e^{3 rho int s} - 1), the exact form throughout,
    and the Phase IIb equation for Delta = 1 - u from T1' on (same tolerance as the exact form)."""
    p1, th = np.asarray(phase1_rel_err, float), np.asarray(theta_abs_err, float)
    de = np.asarray(delta_abs_err, float)
    return [
        Claim(
            "volterra.phase1",
            f"The Phase I Volterra form (Theta = t) matches the simulated u within the relative "
            f"tolerance (relative to the largest |u| of the window) until s exceeds {s_phase1:g}, "
            "in every run.",
            {"max_relative_error": float(p1.max()), "per_run": p1.tolist()},
            0.0,
            phase1_rtol,
            bool(p1.size) and bool(np.all(p1 <= phase1_rtol)),
        ),
        Claim(
            "volterra.theta_exact",
            "The exact-Theta Volterra form, fed the simulated s(t), reproduces the simulated u(t) "
            "through all three phases within the absolute tolerance, in every run.",
            {"max_abs_error": float(th.max()), "per_run": th.tolist()},
            0.0,
            theta_atol,
            bool(th.size) and bool(np.all(th <= theta_atol)),
        ),
        Claim(
            "volterra.phase2b",
            "From T1' on, Delta = 1 - u solved from the Phase IIb Volterra equation (kernel K_Theta, "
            "started from w(T1'), fed the simulated s) matches 1 - |u| of the simulation within the "
            "absolute tolerance, in every run.",
            {"max_abs_error": float(de.max()) if de.size else float("nan"), "per_run": de.tolist()},
            0.0,
            theta_atol,
            bool(de.size) and bool(np.all(de <= theta_atol)),
        ),
    ]


def escape_faster_with_a(a_values: list[float], t1_medians: list[float]) -> Claim:
    """At fixed d the median T1 decreases strictly with a."""
    order = np.argsort(a_values)
    t1 = np.asarray(t1_medians, float)[order]
    passed = bool(len(t1) >= 2 and np.all(np.isfinite(t1)) and np.all(np.diff(t1) < 0))
    return Claim(
        "escape.faster_with_a",
        "At fixed d, larger a escapes faster: the median T1 decreases with a.",
        {"a": [float(a_values[i]) for i in order], "T1_median": t1.tolist()},
        "strictly decreasing",
        None,
        passed,
    )


def phase2_converges(t2_by_eps: dict[float, list[float]]) -> Claim:
    """Every run reaches s, |u| in [1 - eps, 1] (T2(eps) finite) for every eps."""
    reached = {str(eps): int(np.sum(np.isfinite(v))) for eps, v in t2_by_eps.items()}
    runs = {str(eps): len(v) for eps, v in t2_by_eps.items()}
    return Claim(
        "phase2.converges",
        "Every population run reaches s and |u| within eps of 1 (T2(eps) is finite) for every eps.",
        {"reached": reached},
        {"reached": runs},
        None,
        bool(t2_by_eps) and reached == runs,
    )


def frozen_approximation(max_relative_gaps: list[float], rtol: float) -> Claim:
    """After T2 the flow's MSE matches the frozen-statistics approximation within rtol."""
    worst = float(np.max(max_relative_gaps)) if max_relative_gaps else float("nan")
    return Claim(
        "phase3.frozen_approx",
        "After T2 (|u| = 0.9) the MSE of the flow matches dw_i/dt = 8 lam_i (w*_i - w_i) "
        "within the tolerance, relative, at every time.",
        {"max_relative_mse_gap": worst, "per_run": [float(g) for g in max_relative_gaps]},
        0.0,
        rtol,
        bool(max_relative_gaps) and worst <= rtol,
    )


def gd_matches_flow(gaps: list[dict[str, float]], rtol: float) -> Claim:
    """Population GD matches the flow: every relative gap of every run is within rtol.

    gaps[r] maps a measure (a crossing time, the MSE) to the relative GD-flow gap of run r.
    """
    worst = {k: float(max(g[k] for g in gaps)) for k in gaps[0]} if gaps else {}
    finite = all(math.isfinite(v) for v in worst.values())
    return Claim(
        "gd.matches_flow",
        "Population GD with the paper's step matches the gradient flow on the same seeds: the times "
        "at which s crosses 1/3 and |u| crosses 0.9, and the MSE at every GD time, agree within the "
        "relative tolerance.",
        {"max_relative_gap": worst, "runs": len(gaps)},
        0.0,
        rtol,
        bool(worst) and finite and max(worst.values()) <= rtol,
    )


def time_warp_gap(t, x, t_ref, x_ref, value_rtol: float, floor: float = 0.0) -> float:
    """How far in time a positive curve strays from a reference, allowing a relative value tolerance.

    The reference is the piecewise-linear interpolant of log x_ref in log t. For every sample
    (t_k, x_k) inside the reference's time range, find the reference time t' closest to t_k in
    log t where x_ref(t') lies within [x_k / (1 + value_rtol), x_k / (1 - value_rtol)]; return
    max_k (max(t'/t_k, t_k/t') - 1), or inf if some sample matches nowhere. An escape shifted
    in time, or a slightly different rate, gives a small gap; a different shape does not.
    Samples with x_k < floor are skipped: below the reference's own absolute accuracy a relative
    comparison carries no information.
    """
    if not 0 < value_rtol < 1:
        raise ValueError(f"value_rtol must lie in (0, 1), got {value_rtol}")
    lt, lx = np.log(np.asarray(t, float)), np.log(np.asarray(x, float))
    lr, vr = np.log(np.asarray(t_ref, float)), np.log(np.asarray(x_ref, float))
    l0, l1, v0, v1 = lr[:-1], lr[1:], vr[:-1], vr[1:]
    log_floor = np.log(floor) if floor > 0 else -np.inf
    worst = 0.0
    for tk, xk in zip(lt, lx, strict=True):
        if not (lr[0] <= tk <= lr[-1]) or xk < log_floor:
            continue
        lo, hi = xk - np.log1p(value_rtol), xk - np.log1p(-value_rtol)
        dv = v1 - v0
        flat = dv == 0
        with np.errstate(divide="ignore", invalid="ignore"):
            a = np.where(flat, 0.0, (lo - v0) / dv)
            b = np.where(flat, 1.0, (hi - v0) / dv)
        th0, th1 = np.maximum(np.minimum(a, b), 0.0), np.minimum(np.maximum(a, b), 1.0)
        ok = (th0 <= th1) & np.where(flat, (v0 >= lo) & (v0 <= hi), True)
        if not ok.any():
            return float("inf")
        s0, s1 = l0[ok] + th0[ok] * (l1[ok] - l0[ok]), l0[ok] + th1[ok] * (l1[ok] - l0[ok])
        dist = np.where((tk >= s0) & (tk <= s1), 0.0, np.minimum(np.abs(tk - s0), np.abs(tk - s1)))
        worst = max(worst, float(np.expm1(dist.min())))
    return worst


def sgd_tracks_flow(gaps_by_a: dict[float, list[float]], time_rtol: float, value_rtol: float) -> Claim:
    """Small-eta SGD follows the flow from the same (w*, w0) within a time-and-value band.

    gaps_by_a[a][r] is replica r's time_warp_gap of its MSE against the flow's (inf if diverged).
    """
    worst = {str(a): float(max(g)) for a, g in sorted(gaps_by_a.items())}
    return Claim(
        "sgd.tracks_flow",
        "Online SGD with a small step follows the population flow from the same (w*, w0): at every "
        "recorded time its MSE equals, within the value tolerance, the flow's MSE at a time within "
        "the relative time band, wherever its MSE is above 1e-10 (noise shifts the escape; the step "
        "changes rates at O(eta)).",
        {"max_time_warp_gap": worst},
        0.0,
        {"time_rtol": time_rtol, "value_rtol": value_rtol},
        bool(worst) and all(math.isfinite(v) and v <= time_rtol for v in worst.values()),
    )


# ---- studies beyond the paper: one block each ----

# study: scaling


def _groups(a_values, d_values):
    """(a, d, mask) for every (a, d) pair, sorted."""
    a_values, d_values = np.asarray(a_values, float), np.asarray(d_values, float)
    for a, d in sorted({(float(a), float(d)) for a, d in zip(a_values, d_values, strict=True)}):
        yield a, d, (a_values == a) & (d_values == d)


def _largest_d(a_values, d_values):
    """(a, d_max, mask of the runs at d_max) for every a."""
    a_values, d_values = np.asarray(a_values, float), np.asarray(d_values, float)
    for a in sorted(set(a_values.tolist())):
        d = float(d_values[a_values == a].max())
        yield a, d, (a_values == a) & (d_values == d)


def _median(x):
    x = np.asarray(x, float)
    x = x[np.isfinite(x)]
    return float(np.median(x)) if x.size else float("nan")


def phase3_gamma_law(groups: dict, rtol: float) -> Claim:
    """Phase III collapse, per (a, d): the median over seeds of 1 - MSE(T2 + tau)/MSE(T2) over
    1 - S_d(tau), and 1 - S_d over the Gamma law Gamma(1 - 1/a) x_d / d, stay within rtol of 1
    over their windows (``scaling.collapse_windows``).  groups maps (a, d) to
    {"run_vs_S_d": (min, max), "S_d_vs_gamma_law": (min, max)} (NaN: empty window).  A pair
    whose Gamma-law window is empty (the tail correction is never small enough at that d) is
    reported as such; every pair needs a non-empty window against S_d."""
    measured, passed, evaluated = {}, bool(groups), 0
    for (a, d), g in sorted(groups.items()):
        row = {}
        for name in ("run_vs_S_d", "S_d_vs_gamma_law"):
            lo, hi = (float(v) for v in g[name])
            if math.isfinite(lo):
                row[name] = {"min": lo, "max": hi}
                passed &= bool(abs(lo - 1) <= rtol and abs(hi - 1) <= rtol)
                evaluated += name == "S_d_vs_gamma_law"
            else:
                row[name] = "window empty at this d"
                passed &= name != "run_vs_S_d"
        measured[f"a={a:g}, d={d:g}"] = row
    return Claim(
        "phase3.gamma_law",
        "After T2 the MSE ratio follows the ideal Phase III dynamics S_d(tau) = d^-1 sum e^{-16 lam_i tau} "
        "once the front x_d(tau) has passed the modes learned by T2, and S_d follows "
        "1 - Gamma(1 - 1/a) x_d / d where the tail correction is small (median over seeds, extremes "
        "over each window, per a and d).",
        measured,
        1.0,
        rtol,
        bool(passed and evaluated),
    )


def loss_tail_exponent(a_values, d_values, exponents, constant_ratios, decades, atol: float) -> Claim:
    """Phase III loss law L ~ C tau^{-(1 - 1/a)}: per a, at the largest d, the mean over seeds of
    the fitted exponent is within atol of 1 - 1/a, on a window spanning >= 2 decades of tau.
    The fitted constant over the prediction C sigma*^2 is reported, not tested."""
    measured, passed = {}, True
    for a, d, m in _largest_d(a_values, d_values):
        e = np.asarray(exponents, float)[m]
        span = float(np.min(np.asarray(decades, float)[m]))
        mean = float(np.mean(e)) if np.all(np.isfinite(e)) else float("nan")
        measured[f"a={a:g}"] = {"d": d, "exponent_mean": mean, "exponent_min": float(np.min(e)),
                                "exponent_max": float(np.max(e)), "expected": 1 - 1 / a,
                                "window_decades_of_tau": span,
                                "constant_over_prediction_median": _median(np.asarray(constant_ratios)[m])}
        passed &= bool(math.isfinite(mean) and abs(mean - (1 - 1 / a)) <= atol and span >= 2)
    return Claim(
        "loss.tail_exponent",
        "In Phase III the population loss decays as C tau^{-(1 - 1/a)} (tau = t - T1') in the window "
        "1 << x_d << d: the fitted exponent, mean over seeds at the largest d, is within the tolerance.",
        measured,
        "1 - 1/a",
        atol,
        passed,
    )


def phase2_T2_exponent(a_values, d_values, exponents, exponents_below, predictions: dict) -> Claim:
    """Phase II time T2(eps) - T1' ~ eps^{-p}: per a, at the largest d, the exponent fitted over
    the paper's range (d^{-(a-1)/2} <= eps <= eps_max) respects the paper's bound p <= 2a/(a-1)
    (the bound's log(1/eps) factor only loosens it); the measured p and which of the bound and
    the tail-mass heuristic a/(a-1) it is closer to are reported, as is the exponent below the
    bound's floor.  The bound is not assumed tight."""
    measured, passed = {}, True
    for a, d, m in _largest_d(a_values, d_values):
        bound, heuristic = predictions[a]
        p = np.asarray(exponents, float)[m]
        mean = float(np.mean(p)) if np.all(np.isfinite(p)) else float("nan")
        closer = "heuristic a/(a-1)" if abs(mean - heuristic) < abs(mean - bound) else "bound 2a/(a-1)"
        measured[f"a={a:g}"] = {"d": d, "exponent_mean": mean, "exponent_min": float(np.min(p)),
                                "exponent_max": float(np.max(p)), "bound": bound, "heuristic": heuristic,
                                "closer_to": closer if math.isfinite(mean) else None,
                                "exponent_below_floor_median": _median(np.asarray(exponents_below)[m])}
        passed &= bool(math.isfinite(mean) and float(np.max(p)) <= bound)
    return Claim(
        "phase2.T2_exponent",
        "The Phase II time T2(eps) - T1' grows no faster than the paper's bound eps^{-2a/(a-1)} log(1/eps) "
        "over d^{-(a-1)/2} <= eps <= eps_max (every seed's fitted exponent below 2a/(a-1)); the measured "
        "exponent is reported beside the bound and the tail-mass heuristic a/(a-1).",
        measured,
        "exponent <= 2a/(a-1)",
        None,
        passed,
    )


# study: sgd_grid


def sgd_grid_stability_edge(batches, sigma2s, seeds, etas, diverged, loss_ratio, lo, hi, eta_ms, eta_gd,
                            div_phase, factor: float, loss_factor: float) -> Claim:
    """The mean-square edge of SGD linearised at w*, eta_ms(b), separates SGD that converges like
    the flow from SGD that does not.

    diverged, loss_ratio (batch, eta, seed): the least noisy sigma2's runs; loss_ratio is the
    late loss of SGD over the flow's (same seed, same window).  Per (b, seed) the claim needs
    (i) every grid eta <= eta_ms / factor stable, with loss_ratio <= loss_factor at the largest
    of them, and (ii) at the smallest grid eta >= factor * eta_ms, a divergence or
    loss_ratio > loss_factor.  The blow-up bracket lo, hi (sigma2, batch, seed) (largest stable,
    smallest diverged eta within the horizon) is reported as a finding, against eta_ms.
    """
    etas = np.asarray(etas, float)
    diverged, ratio = np.asarray(diverged, bool), np.asarray(loss_ratio, float)
    lo, hi, eta_ms = (np.asarray(x, float) for x in (lo, hi, eta_ms))
    per_batch, ok = {}, []
    for i, b in enumerate(batches):
        rows = []
        for j in range(len(seeds)):
            below = np.flatnonzero(etas <= eta_ms[i, j] / factor)
            above = np.flatnonzero(etas >= eta_ms[i, j] * factor)
            r_below = float(ratio[i, below[-1], j]) if below.size else float("nan")
            stable_below = bool(below.size) and not diverged[i, below, j].any()
            if above.size:
                e_above = int(above[0])
                departs = bool(diverged[i, e_above, j] or ratio[i, e_above, j] > loss_factor)
                above_state = "diverged" if diverged[i, e_above, j] else float(ratio[i, e_above, j])
            else:
                departs, above_state = False, "grid ends below"
            good = stable_below and r_below <= loss_factor and departs
            ok.append(good)
            rows.append({"eta_ms": float(eta_ms[i, j]),
                         "eta_below": float(etas[below[-1]]) if below.size else None,
                         "loss_ratio_below": r_below, "all_stable_below": stable_below,
                         "eta_above": float(etas[above[0]]) if above.size else None,
                         "above": above_state, "passed": good})
        per_batch[f"b={b}"] = {
            "per_seed": rows,
            **{f"blowup_bracket_over_eta_ms_sigma2={s2:g}": (np.stack([lo[k, i], hi[k, i]], axis=-1)
                                                              / eta_ms[i][:, None]).tolist()
               for k, s2 in enumerate(sigma2s)},
        }
    phases, counts = np.unique(np.asarray(div_phase)[np.asarray(div_phase) != "none"], return_counts=True)
    measured = {
        **per_batch,
        "gd_edge_2_over_hmax_per_seed": np.asarray(eta_gd, float).tolist(),
        "divergences_by_phase": {str(p): int(c) for p, c in zip(phases, counts, strict=True)},
    }
    return Claim(
        "sgd_grid.stability_edge",
        "The mean-square stability edge of online SGD linearised at w*, eta_ms(b) = 1 / rho(L^{-1} K_b), "
        "separates steps at which SGD converges like the flow (no divergence, late loss within "
        "loss_factor of the flow's at eta <= eta_ms / factor) from steps at which it does not "
        "(divergence or late loss above loss_factor times the flow's at the first grid eta >= "
        "factor * eta_ms), for every batch size and seed. Blow-up within the horizon comes later: "
        "its grid bracket over eta_ms is reported.",
        measured,
        "per (b, seed): stable and tracking below eta_ms / factor, departing above factor * eta_ms",
        {"factor": factor, "loss_factor": loss_factor},
        bool(ok) and all(ok),
    )


def sgd_grid_phases_survive(batches, sigma2s, etas, present, diverged, phases_seen) -> Claim:
    """Finding: for which (eta, b) every replica shows all three phases (T1 <= T_1/3 <= T1' <= T2,
    all finite), for which only some do, and which diverged. Passes when every setting was run."""
    present, diverged, seen = (np.asarray(x, bool) for x in (present, diverged, phases_seen))
    measured = {}
    for k, s2 in enumerate(sigma2s):
        for i, b in enumerate(batches):
            dv, sn = diverged[k, i], seen[k, i]
            measured[f"sigma2={s2:g}, b={b}"] = {
                "eta_all_replicas_three_phases": [e for e, x in zip(etas, sn.all(axis=-1), strict=True) if x],
                "eta_some_replicas_three_phases": [
                    e for e, x, y in zip(etas, sn.any(axis=-1), sn.all(axis=-1), strict=True) if x and not y],
                "eta_some_diverged": [
                    e for e, x, y in zip(etas, dv.any(axis=-1), dv.all(axis=-1), strict=True) if x and not y],
                "eta_all_diverged": [e for e, x in zip(etas, dv.all(axis=-1), strict=True) if x],
            }
    stable_somewhere = bool(np.all((~diverged).all(axis=-1).any(axis=-1)))
    return Claim(
        "sgd_grid.phases_survive",
        "For every (sigma2, b, eta) of the grid, which replicas show the three phases of the flow "
        "(escape T1, the passage s = 1/3 and settling above 1/3 + s0, convergence T2) in that order, "
        "and which diverged.",
        measured,
        "every setting measured, and every (sigma2, b) has a stable eta",
        None,
        bool(present.size) and bool(present.all()) and stable_somewhere,
    )


def sgd_grid_small_eta_matches_flow(sgd_times: dict, flow_times: dict, eta: float, batch: int,
                                    sigma2: float, rtol: float, median_ratio_by_batch: dict,
                                    batches, min_steps: int = 10, reported_only=("T1",)) -> Claim:
    """At the smallest eta and the largest batch, SGD's stopping times equal the flow's of the
    same seed within rtol (relative). A time the flow reaches within min_steps SGD steps is
    not resolved by SGD's grid, and the times in reported_only are ill-conditioned; both are
    reported, not compared.  T1 is: u(0) ~ d^-1/2 already exceeds delta, so T1 is where s
    grows from about 1/d to delta, a small factor, and a small relative change of s moves it
    by a large relative amount."""
    ratios, compared, unresolved = {}, [], []
    for name, flow in flow_times.items():
        flow = np.asarray(flow, float)
        sgd = np.asarray(sgd_times[name], float)
        ratio = sgd / flow
        ratios[name] = ratio.tolist()
        for j in range(flow.size):
            resolved = flow[j] >= min_steps * eta and name not in reported_only
            (compared if resolved else unresolved).append((name, j, ratio[j]))
    worst = max((abs(r - 1) if math.isfinite(r) else math.inf for _, _, r in compared), default=math.nan)
    measured = {
        "eta": eta, "batch": batch, "sigma2": sigma2,
        "sgd_over_flow_per_seed": ratios,
        "max_relative_gap": worst,
        "reported_not_compared": [f"{n} seed index {j}" for n, j, _ in unresolved],
        "median_ratio_at_smallest_eta_by_batch": {
            name: {f"b={b}": float(v) for b, v in zip(batches, np.atleast_1d(vals), strict=True)}
            for name, vals in median_ratio_by_batch.items()},
    }
    return Claim(
        "sgd_grid.small_eta_matches_flow",
        "With the smallest step and the largest batch of the grid (the least gradient noise), "
        "online SGD reaches T_1/3, T1', T2(eps) and the target MSE at the flow's times of the "
        "same seed, within the relative tolerance (T1 is reported, not compared).",
        measured,
        1.0,
        rtol,
        bool(compared) and math.isfinite(worst) and worst <= rtol,
    )


# study: init


def _init_groups(rows: dict, keys: tuple[str, ...]) -> dict[tuple, np.ndarray]:
    """Indices of the per-run rows of the init study, grouped by the given columns."""
    cols = [np.asarray(rows[k]) for k in keys]
    groups: dict[tuple, list[int]] = {}
    for i in range(len(cols[0])):
        groups.setdefault(tuple(c[i].item() if hasattr(c[i], "item") else c[i] for c in cols), []).append(i)
    return {k: np.asarray(v) for k, v in sorted(groups.items(), key=lambda kv: str(kv[0]))}


def init_escape_needs_small_start(rows: dict, overlaps: dict, p_min: float,
                                  escaped_max: float = 0.5) -> Claim:
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
    plateau is longer by exactly log(1/r) / rho.
    """
    from .studies.init import PAPER_START, log_d_exponent, plateau_law

    ok = np.asarray(rows["ok"], bool)
    start, a, d = np.asarray(rows["start"]), np.asarray(rows["a"], float), np.asarray(rows["d"], float)
    t1, rho_t1, t_first = (np.asarray(rows[k], float) for k in ("T1", "rho_T1", "t_first"))
    u_init = np.asarray(rows["u_init"], float)
    ov_a, ov_d = np.asarray(overlaps["a"], float), np.asarray(overlaps["d"], float)
    ov_start, ov_rms = np.asarray(overlaps["start"]), np.asarray(overlaps["rms"], float)
    per_start, grows, skips, other, plateau_starts = {}, [], [], [], []
    valid = bool(ok.size) and bool(ok.all()) and np.unique(d).size >= 2
    for (name,), idx in _init_groups(rows, ("start",)).items():
        by_a, has_plateau, p_u_ok = {}, [], []
        for a_val in sorted(set(a[idx].tolist())):
            sel = idx[(a[idx] == a_val) & ok[idx]]
            fit = log_d_exponent(d[sel], rho_t1[sel])
            o = (ov_start == name) & (ov_a == a_val)
            p_u = log_d_exponent(ov_d[o], -np.log(ov_rms[o]))["p"] if o.any() else float("nan")
            escaped = float(np.mean(t1[sel] <= t_first[sel]))
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
    return Claim(
        "init.escape_needs_small_start",
        "Finding: a Phase I plateau appears only for starts with a small overlap; its length is "
        "log(1/|u(0)|) / rho up to O(1) (q ~ 1), so it grows like log d only for starts whose overlap "
        "vanishes as d^-p_u (p_u >= p_min); starts with an O(1) overlap or norm skip it.",
        {"grows_like_log_d": grows, "skips_plateau": skips, "other": other, "plateau_law": law,
         "radius_shift_d_invsqrt": shift, "per_start": per_start},
        {"paper_start": {"p_u": 0.5, "q": 1.0}, "sphere_rinvsqrtd": {"p_u": 1.0, "radius_shift": 1.0}},
        {"p_min": p_min, "escaped_max": escaped_max},
        valid,
    )


def init_threshold(rows: dict) -> Claim:
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
    return Claim(
        "init.threshold",
        "Finding: per start, how often s crosses 1/3 exactly once from below and stays above "
        "(the paper's picture), starts above 1/3 and never goes below, or dips below it; min_margin "
        "is min(s - 1/3) from the last upward crossing (from t = 0 for a start above) on.",
        {"all_runs_once_from_below": single, "all_runs_from_above_never_below": above, "per_start": measured},
        {"paper_start": "once_from_below in every run"},
        None,
        valid,
    )


def init_phase3_universal(rows: dict, rtol: float, beta_atol: float, x_hi: float, eps: float) -> Claim:
    """Finding: after T2 the MSE decay is the same from every start (Phase III sees only the tail).

    Per start and (a, d): the median over seeds of gap = max over the window 1 <= x_d <= x_hi d of
    |R / R_paper - 1|, R(tau) = MSE(T2 + tau) / MSE(T2), paired with the paper's start of the same
    target; and of |beta - beta_paper|, the loss decay exponent in that window.  A start is
    universal when every median gap is <= rtol and every median |beta - beta_paper| <= beta_atol.
    """
    from .studies.init import PAPER_START

    ok = np.asarray(rows["ok"], bool)
    gap, beta, beta_ref = (np.asarray(rows[k], float) for k in ("phase3_gap", "beta", "beta_paper"))
    mse_t2 = np.asarray(rows["mse_T2"], float)
    start = np.asarray(rows["start"])
    measured, universal, not_universal = {}, [], []
    valid = bool(ok.size) and bool(ok.all())
    paper_mse = {(rows["a"][i], rows["d"][i], rows["seed"][i]): mse_t2[i]
                 for i in range(len(start)) if start[i] == PAPER_START}
    for (name,), idx in _init_groups(rows, ("start",)).items():
        if name == PAPER_START:
            continue
        cells, fine = {}, True
        for (a_val, d_val), sub in _init_groups({k: np.asarray(rows[k])[idx] for k in ("a", "d")},
                                               ("a", "d")).items():
            sel = idx[sub]
            finite = np.isfinite(gap[sel]) & np.isfinite(beta[sel]) & np.isfinite(beta_ref[sel])
            valid &= bool(finite.all())
            g, db = float(np.median(gap[sel])), float(np.median(np.abs(beta[sel] - beta_ref[sel])))
            mse_ratio = [mse_t2[i] / paper_mse[(rows["a"][i], rows["d"][i], rows["seed"][i])] for i in sel]
            cells[f"a{a_val:g}_d{d_val:g}"] = {"gap_median": g, "gap_max": float(np.max(gap[sel])),
                                               "beta_diff_median": db,
                                               "mse_T2_over_paper_median": float(np.median(mse_ratio))}
            fine &= g <= rtol and db <= beta_atol
        measured[str(name)] = cells
        (universal if fine else not_universal).append(str(name))
    return Claim(
        "init.phase3_universal",
        f"Finding: after T2(eps = {eps:g}) the MSE ratio MSE(T2 + tau) / MSE(T2) and the loss decay "
        f"exponent over 1 <= x_d <= {x_hi:g} d match the paper's start (same target) for the starts "
        "listed as universal; the MSE level at T2 itself may differ.",
        {"universal": universal, "not_universal": not_universal, "per_start": measured},
        {"gap_median": f"<= {rtol}", "beta_diff_median": f"<= {beta_atol}"},
        {"rtol": rtol, "beta_atol": beta_atol},
        valid,
    )


# study: inputs
def _inputs_key(law: str, d: int | None = None) -> str:
    return law if d is None else f"{law}/d={int(d)}"


def inputs_threshold(rows: list[dict]) -> Claim:
    """Finding: per input law, upward crossings of s = 1/3 and the smallest s - 1/3 after the first.

    rows: one per flow run with law, d, crossings, min_margin (phases.threshold_report) and failed.
    For kappa != 0 the saddle manifold {u = 0, s = 1/3} breaks up (robustness), so whether the
    Gaussian picture (one crossing, s stays above 1/3) survives is measured, not assumed.
    passed: every run was integrated and every (law, d) group has runs, the Gaussian included.
    """
    groups: dict[str, list[dict]] = {}
    for r in rows:
        groups.setdefault(_inputs_key(r["law"], r["d"]), []).append(r)
    measured, kept = {}, []
    for key, rs in sorted(groups.items()):
        ok = [r for r in rs if not r["failed"]]
        margins = [r["min_margin"] for r in ok if math.isfinite(r["min_margin"])]
        single = sum(r["crossings"] == 1 for r in ok)
        stays = sum(math.isfinite(r["min_margin"]) and r["min_margin"] > 0 for r in ok)
        measured[key] = {"runs": len(rs), "single_crossing": single, "never_crossed": sum(r["crossings"] == 0
                         for r in ok), "stays_above_third": stays,
                         "min_s_minus_third_after_crossing": min(margins) if margins else float("nan"),
                         "max_crossings": max((r["crossings"] for r in ok), default=0)}
        if ok and single == len(rs) and stays == len(rs):
            kept.append(key)
    measured["threshold_kept"] = kept
    valid = bool(groups) and all(not r["failed"] for r in rows) and any(r["law"] == "gaussian" for r in rows)
    return Claim(
        "inputs.threshold",
        "Finding: for each input law, does s cross 1/3 exactly once and stay above it afterwards "
        "(the Gaussian s = 1/3 threshold)? Listed per (law, d): crossings and the smallest s - 1/3 "
        "after the first upcrossing; threshold_kept names the groups where every run keeps the picture.",
        measured,
        {"single_crossing": "= runs", "min_s_minus_third_after_crossing": "> 0 (Gaussian picture)"},
        None,
        valid,
    )


def inputs_phases(rows: list[dict], eps_list) -> Claim:
    """Finding: per (law, d), how many runs show each phase (T1, T_1/3, T2(eps) finite), and their
    median times over the Gaussian runs of the same seeds (the targets and starts are shared)."""
    by_key: dict[str, list[dict]] = {}
    gauss = {(r["d"], r["seed"]): r for r in rows if r["law"] == "gaussian"}
    for r in rows:
        by_key.setdefault(_inputs_key(r["law"], r["d"]), []).append(r)
    names = ["T1", "T_third"] + [f"T2_eps{e:g}" for e in eps_list]
    measured = {}
    for key, rs in sorted(by_key.items()):
        entry = {"runs": len(rs)}
        for n in names:
            vals = [r[n] for r in rs]
            entry[f"{n}_finite"] = int(sum(math.isfinite(v) for v in vals))
            ratios = [r[n] / gauss[(r["d"], r["seed"])][n] for r in rs if (r["d"], r["seed"]) in gauss
                      and math.isfinite(r[n]) and math.isfinite(gauss[(r["d"], r["seed"])][n])]
            entry[f"{n}_median_over_gaussian"] = float(np.median(ratios)) if ratios else float("nan")
        measured[key] = entry
    valid = bool(gauss) and all(not r["failed"] for r in rows)
    return Claim(
        "inputs.phases",
        "Finding: per (law, d), the number of runs that escape (T1), cross s = 1/3 and converge "
        "(T2(eps)) -- the three phases -- and the median over seeds of each time divided by the "
        "Gaussian run's from the same target and start.",
        measured,
        {"all_phases": "T1, T_third and T2(eps) finite in every run (Gaussian picture)"},
        None,
        valid,
    )


def inputs_spurious_minimum(rows: list[dict], loss_tol: float, grad_tol: float) -> Claim:
    """Finding: per (law, d), how many flows from the paper's start end at a non-global minimum.

    rows: law, d, seed, status (product_study.classify_endpoint), loss, hess_min_eig, failed.
    passed: every run was classified (none failed, none still moving at t_max).
    """
    by_key: dict[str, list[dict]] = {}
    for r in rows:
        by_key.setdefault(_inputs_key(r["law"], r["d"]), []).append(r)
    measured = {}
    for key, rs in sorted(by_key.items()):
        counts = {s: sum(r["status"] == s for r in rs) for s in ("global", "local_min", "stationary_other",
                                                                  "moving", "failed")}
        trapped = [{"seed": int(r["seed"]), "loss": float(r["loss"]),
                    "hess_min_eig": float(r["hess_min_eig"])}
                   for r in rs if r["status"] in ("local_min", "stationary_other")]
        measured[key] = counts | {"runs": len(rs), "non_global": trapped}
    valid = bool(rows) and all(r["status"] in ("global", "local_min", "stationary_other") for r in rows)
    return Claim(
        "inputs.spurious_minimum",
        "Finding: per (law, d), how many gradient flows from the paper's start end at a non-global "
        "minimum: final exact loss above loss_tol, gradient norm below grad_tol and a positive-definite "
        "Hessian (local_min); global means loss <= loss_tol.",
        measured,
        {"local_min": "0 for the Gaussian (its only minima are +-w*)"},
        {"loss_tol": loss_tol, "grad_tol": grad_tol},
        valid,
    )


def inputs_tail_exponent(rows: list[dict], theory: float, atol: float,
                         window_theory: dict[int, float] | None = None) -> Claim:
    """Finding: the late-time loss exponent per (law, d) against the Gaussian one of the same seeds.

    rows: law, d, seed, status, beta (product_study.tail_exponent; NaN if the window is too short).
    Only runs that reached the global minimum have a tail; trapped runs are counted apart.
    window_theory[d]: the same fit on the linearised Gaussian Phase III loss 4 sum lam e^{-16 lam t}
    (theory.phase3_loss), i.e. 1 - 1/a with the finite-d correction of the window.
    passed: every converging run has a fitted exponent and the Gaussian runs are there.
    """
    gauss = {(r["d"], r["seed"]): r["beta"] for r in rows
             if r["law"] == "gaussian" and r["status"] == "global"}
    by_key: dict[str, list[dict]] = {}
    for r in rows:
        by_key.setdefault(_inputs_key(r["law"], r["d"]), []).append(r)
    measured, same = {}, []
    for key, rs in sorted(by_key.items()):
        conv = [r for r in rs if r["status"] == "global"]
        betas = [r["beta"] for r in conv if math.isfinite(r["beta"])]
        diffs = [r["beta"] - gauss[(r["d"], r["seed"])] for r in conv
                 if (r["d"], r["seed"]) in gauss and math.isfinite(r["beta"])]
        med_diff = float(np.median(diffs)) if diffs else float("nan")
        measured[key] = {"converged_runs": len(conv), "median_beta": float(np.median(betas)) if betas else
                         float("nan"), "min_beta": min(betas, default=float("nan")),
                         "max_beta": max(betas, default=float("nan")),
                         "median_beta_minus_gaussian": med_diff,
                         "max_abs_beta_minus_gaussian": max((abs(x) for x in diffs), default=float("nan"))}
        if math.isfinite(med_diff) and abs(med_diff) <= atol:
            same.append(key)
    measured["same_as_gaussian"] = same
    if window_theory:
        measured["linearised_theory_same_window"] = {f"d={int(d)}": float(b)
                                                     for d, b in sorted(window_theory.items())}
    conv_all = [r for r in rows if r["status"] == "global"]
    valid = bool(gauss) and bool(conv_all) and all(math.isfinite(r["beta"]) for r in conv_all)
    return Claim(
        "inputs.tail_exponent",
        "Finding: the late-time decay exponent beta of the exact loss, L ~ t^-beta on the window "
        "tail_x_min <= x_d(t) <= tail_x_max_frac d, per (law, d), against the Gaussian exponent of "
        "the same seeds; same_as_gaussian lists the groups whose median difference is within atol.",
        measured,
        {"theory_gaussian": theory, "median_beta_minus_gaussian": 0.0},
        {"atol": atol},
        valid,
    )


def inputs_sgd_matches_population(rows: list[dict], atol: float) -> Claim:
    """Finding: does online SGD follow the exact population flow of its own law (and not the Gaussian)?

    rows: law, eta, seed, diverged, gap_own, gap_gauss (product_study.log_gap of SGD's exact loss
    against the flow of its law / of the Gaussian, same seed).  Per (law, eta): replicas,
    diverged, the largest gap to its own flow, the smallest to the Gaussian flow.
    passed: every replica was compared (a diverged replica counts as compared: gap inf).
    """
    by_key: dict[str, list[dict]] = {}
    for r in rows:
        by_key.setdefault(f"{r['law']}/eta={r['eta']:g}", []).append(r)
    measured, tracks = {}, []
    for key, rs in sorted(by_key.items()):
        own = [r["gap_own"] for r in rs]
        gauss = [r["gap_gauss"] for r in rs]
        kept = [o for o in own if math.isfinite(o)]
        finals = np.asarray([r.get("final_log_ratio_own", float("nan")) for r in rs], dtype=float)
        # for the Gaussian law its own flow is the Gaussian one: nothing to tell apart
        closer = (None if rs[0]["law"] == "gaussian"
                  else int(sum(o < g for o, g in zip(own, gauss, strict=True))))
        entry = {"replicas": len(rs), "diverged": int(sum(bool(r["diverged"]) for r in rs)),
                 "max_gap_own": max(own), "max_gap_own_not_diverged": max(kept, default=float("nan")),
                 "median_gap_own": float(np.median(own)),
                 "min_gap_gaussian": min(gauss), "median_gap_gaussian": float(np.median(gauss)),
                 "closer_to_own_than_gaussian": closer,
                 "median_final_log_ratio_own": float(np.nanmedian(finals)) if np.isfinite(finals).any()
                 else float("nan")}
        measured[key] = entry
        if max(own) <= atol:
            tracks.append(key)
    measured["tracks_own_flow"] = tracks
    valid = bool(rows) and all(not (math.isnan(r["gap_own"]) or math.isnan(r["gap_gauss"])) for r in rows)
    return Claim(
        "inputs.sgd_matches_population",
        "Finding: per (law, eta), the largest distance max_t |log L_SGD(t) - log L_flow(t)| between "
        "online SGD's exact loss and the exact population flow of its own law, from the same target "
        "and start, against the distance to the Gaussian flow; tracks_own_flow lists the groups "
        "where every replica is within atol of its own law's flow.",
        measured,
        {"max_gap_own": f"<= {atol}", "min_gap_gaussian": "> max_gap_own (the law matters)"},
        {"atol": atol},
        valid,
    )



# study: finite


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


def finite_large_n_matches_population(a, n_over_d, escape_shift, dev_loss, dev_mse, c: float,
                                      fit_min: float) -> Claim:
    """Noiseless runs: at the largest n/d every run's deviations from the population GD of its seed
    (relative shift of the time |u| = 0.9, max |log ratio| of test loss and MSE from then to the
    recovery time) are <= c sqrt(d/n); also the fitted exponent of the median deviation in n."""
    a, n_over_d = np.asarray(a, float), np.asarray(n_over_d, float)
    metrics = {"escape_shift": np.asarray(escape_shift, float), "dev_loss": np.asarray(dev_loss, float),
               "dev_mse": np.asarray(dev_mse, float)}
    r_max = float(n_over_d.max()) if n_over_d.size else float("nan")
    top = n_over_d == r_max
    bound = c / math.sqrt(r_max) if n_over_d.size else float("nan")
    measured = {"n_over_d": r_max, "runs": int(top.sum()), "bound_c_sqrt_d_over_n": bound}
    passed = bool(top.sum() >= 2)
    for name, v in metrics.items():
        worst = float(np.max(v[top])) if top.any() else float("nan")
        passed &= bool(np.all(np.isfinite(v[top])) and worst <= bound)
        per_a = {}
        for (av,), (r, x) in _finite_groups([a], n_over_d, v).items():
            grid, med = _finite_medians(r, x)
            keep = grid >= fit_min
            slope = float(np.polyfit(np.log(grid[keep]), np.log(med[keep]), 1)[0]) \
                if keep.sum() >= 2 and np.all(med[keep] > 0) else float("nan")
            big = r >= fit_min
            per_a[str(av)] = {"exponent_in_n": slope,
                              "max_dev_times_sqrt_n_over_d": float(np.nanmax(x[big] * np.sqrt(r[big])))}
        measured[name] = {"worst_at_largest_n": worst, "per_a": per_a}
    return Claim(
        "finite.large_n_matches_population",
        "With noiseless labels, full-batch GD on the largest sample follows the population GD of its seed: "
        "escape time, test loss and MSE deviate by at most c sqrt(d/n).",
        measured,
        {"escape_shift, dev_loss, dev_mse": f"<= {c} sqrt(d/n) = {bound:.4g}", "exponent_in_n": "about -1/2"},
        {"c": c, "fit_min_n_over_d": fit_min},
        passed,
    )


def finite_sample_floor(a, sigma2, n_over_d, ratio, factor: float, predicted: dict) -> Claim:
    """Finding: per (a, sigma^2) the n/d below which the test loss at the horizon is set by n.

    ratio = L(run at T) / L(population GD at T) per run; the median over seeds at each n/d goes
    through prdynamics.studies.finite.sample_limited_threshold (sample-limited when >= factor).
    predicted[(a, sigma2)]: the n/d where sigma^2 k_eff / n equals the population L(T).
    """
    from .studies.finite import sample_limited_threshold

    measured, passed = {}, True
    groups = _finite_groups([a, sigma2], n_over_d, ratio)
    passed &= bool(groups)
    for (av, s2), (r, x) in groups.items():
        grid, med = _finite_medians(r, x)
        rule = sample_limited_threshold(grid, med, factor)
        ok = bool(np.all(np.isfinite(x)) and grid.size >= 3 and min(np.sum(r == g) for g in grid) >= 2)
        passed &= ok
        measured[f"a={av:g}, sigma2={s2:g}"] = rule | {
            "n_over_d": grid.tolist(), "median_ratio": med.tolist(), "complete": ok,
            "predicted_noise_crossover_n_over_d": predicted.get((av, s2), float("nan")),
        }
    return Claim(
        "finite.sample_floor",
        "Per a and sigma^2, the n/d below which the test loss at the horizon is set by the sample size "
        "(at least factor times the population GD's spectral-tail value) rather than by the spectral tail.",
        measured,
        "finding: sample_limited_max, tail_limited_from per (a, sigma^2); passes when all ratios are finite",
        {"factor": factor},
        passed,
    )


def finite_noiseless_recovery(a, n_over_d, mse_exponent, pop_mse_exponent, train_over_test,
                              overfit_ratio: float, rate_fraction: float) -> Claim:
    """Finding, noiseless labels: per a and n/d (medians over seeds), does GD still approach w*
    (its MSE decays over the last decade of the horizon with a log-log exponent at least
    rate_fraction times the population GD's) and does it overfit (train loss below overfit_ratio
    times the test loss)?"""
    measured, passed = {}, True
    groups = _finite_groups([a], n_over_d, mse_exponent, train_over_test, pop_mse_exponent)
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
        measured[f"a={av:g}"] = {
            "n_over_d": grid.tolist(), "median_mse_exponent": med_e.tolist(),
            "population_mse_exponent": pop_e, "median_train_over_test": med_tt.tolist(),
            "approaching_w_star": approaching.tolist(), "overfits": overfit.tolist(),
            "approaching_from_n_over_d": conv_from,
            "overfitting_up_to_n_over_d": float(grid[overfit].max()) if overfit.any() else float("nan"),
        }
    return Claim(
        "finite.noiseless_recovery",
        "With noiseless labels, GD on n samples still approaches w* (its MSE decays at the horizon at least "
        "rate_fraction as fast as the population GD's) once n/d is large enough, and overfits (train loss "
        "well below the test loss) below it.",
        measured,
        "finding: approaching_from_n_over_d and overfitting_up_to_n_over_d per a; passes when complete",
        {"rate_fraction": rate_fraction, "overfit_ratio": overfit_ratio},
        passed,
    )


def finite_noise_floor_slope(a, sigma2, n_over_d, excess, predicted, fit_min: float, tol: float) -> Claim:
    """With label noise, the excess test loss it adds at the horizon (noisy minus noiseless run on the
    same sample) falls like n^-1: the log-log slope of its median over seeds, fitted over n/d >= fit_min,
    is within tol of -1 for every (a, sigma^2 > 0); the level against sigma^2 k_eff / n is reported."""
    measured, passed = {}, True
    sigma2 = np.asarray(sigma2, float)
    noisy = sigma2 > 0
    groups = _finite_groups([np.asarray(a)[noisy], sigma2[noisy]], np.asarray(n_over_d)[noisy],
                     np.asarray(excess)[noisy], np.asarray(predicted)[noisy])
    passed &= bool(groups)
    for (av, s2), (r, ex, pr) in groups.items():
        grid, med = _finite_medians(r, ex)
        _, med_ratio = _finite_medians(r, ex / pr)
        keep = grid >= fit_min
        ok = keep.sum() >= 3 and np.all(np.isfinite(med[keep])) and np.all(med[keep] > 0)
        slope = float(np.polyfit(np.log(grid[keep]), np.log(med[keep]), 1)[0]) if ok else float("nan")
        passed &= bool(ok and abs(slope + 1) <= tol)
        measured[f"a={av:g}, sigma2={s2:g}"] = {
            "slope": slope, "fit_n_over_d": grid[keep].tolist(), "median_excess": med.tolist(),
            "n_over_d": grid.tolist(), "median_excess_over_prediction": med_ratio.tolist(),
        }
    return Claim(
        "finite.noise_floor_slope",
        "With label noise sigma^2 the excess test loss at the horizon scales like sigma^2 k_eff / n "
        "(sigma^2 d / n once all modes are learned): slope -1 in n.",
        measured,
        {"slope": -1.0},
        {"slope_atol": tol, "fit_min_n_over_d": fit_min},
        passed,
    )


def _plain(obj):
    """JSON-ready: numpy scalars to Python, NaN to None."""
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_plain(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj
