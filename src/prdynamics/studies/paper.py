"""The paper's own figures: the numbered claims of Figs. 1-6 and the escape and Volterra theory.

Each function measures one claim on plain arrays (already loaded) and returns a Claim, so the
same checks run on any config; the gap measurements the claims compare are here too.
``summarise`` turns the loaded runs of every figure into those measurements, ``claims`` the
measurements into the Claims.
"""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np

from ..claims import Claim, check, finding
from ..phases import THRESHOLD, first_upcrossing, stopping_times, threshold_report
from ..statistics import count_interval, linear_fit, mean_ci, t_interval


def claim_threshold_s_one_third(reports: list[dict]) -> Claim:
    """Every population run crosses s = 1/3 exactly once and stays above it afterwards."""
    crossings = [r["crossings"] for r in reports]
    margins = [r["min_margin"] for r in reports]
    single = sum(c == 1 for c in crossings)
    min_margin = float(np.nanmin(margins)) if margins else float("nan")
    passed = bool(reports) and single == len(reports) and min_margin > 0
    return check(
        "threshold.s_one_third",
        "In every population run s crosses 1/3 once and never returns below it.",
        {"runs": len(reports), "single_crossing": single, "min_s_minus_third_after_crossing": min_margin},
        {"single_crossing": len(reports), "min_s_minus_third_after_crossing": "> 0"},
        None,
        passed,
        basis=("derived: s = 1/3 is the saddle level of the flow (paper, Phase II entry); an exact "
               "property, no tolerance"),
    )


def claim_escape_log_d(a_values, d_values, t1_measured, t1_predicted, *, level: float) -> Claim:
    """T1 = log(delta / |A|) / rho_true per run, which grows like log(d) / (2 rho_true).

    Derivation (``theory.escape_amplitude``): in Phase I u(t) = A e^{rho t} + terms decaying
    relative to it, so |u| reaches delta at T1_pred = log(delta / |A|) / rho, with A a sum over
    modes of lam_i w*_i w_i(0) / (rho - 4 lam_i), w_i(0) ~ d^{-1/2}: |A| ~ d^{-1/2} and
    T1_pred = log(d) / (2 rho) + O(1) per run.  The prediction has no free constant, so the
    check is a line through the runs: per a, least squares T1_u = c + k T1_pred over the runs
    whose predicted Phase I is not empty (T1_pred > 0, i.e. |A| < delta, a theory-only selection),
    and the Student-t CI (level) of the slope k must contain 1.  A rival d-law with the same
    noise (log log d, d^0.5) moves T1 against T1_pred by a d-dependent amount correlated with
    T1_pred, which tilts k away from 1.  Fewer than three such runs fail."""
    a_values, d_values, t1m, t1p = (np.asarray(x, float) for x in (a_values, d_values, t1_measured,
                                                                     t1_predicted))
    measured, passed = {}, bool(a_values.size)
    for a in sorted(set(a_values.tolist())):
        m = (a_values == a) & (t1p > 0) & np.isfinite(t1m) & np.isfinite(t1p)
        fit = linear_fit(t1p[m], t1m[m])
        lo, hi = t_interval(fit["slope"], fit["slope_se"], fit["dof"], level)
        measured[str(a)] = {"slope": fit["slope"], "slope_ci": [lo, hi], "intercept": fit["intercept"],
                            "runs": int(m.sum()), "runs_all": int((a_values == a).sum()),
                            "d": sorted({int(x) for x in d_values[m]}),
                            "ratio_median": float(np.median(t1m[m] / t1p[m])) if m.any() else float("nan")}
        passed &= bool(m.sum() >= 3 and math.isfinite(lo) and lo <= 1 <= hi)
    return check(
        "escape.log_d",
        "The escape time follows its per-run prediction T1 = log(delta / |A|) / rho_true (|u| reaches "
        "delta; |A| ~ d^{-1/2}, so T1 ~ log(d) / (2 rho_true)): per a, the slope of the measured T1 "
        "against the prediction over the runs with a non-empty predicted Phase I has a CI containing 1.",
        measured,
        {"slope": 1.0},
        {"level": level},
        passed,
        basis=("interval: Student-t CI of the slope of measured against predicted T1 = log(delta/|A|)/rho "
               "per run (no free constant) must contain 1"),
    )


def claim_escape_rate(a_values, d_values, ratios, *, level: float, d_min: int = 10_000) -> Claim:
    """Per a, the Student-t CI (level) over seeds (d >= d_min) of the mean of fitted growth rate /
    rho_true must contain 1.

    Derivation: in Phase I (Theta = t) u = A e^{rho t} + terms whose share decays like
    e^{-(rho - 4 lam_1) t} (``theory.escape_amplitude``); the fit rule starts at
    t = 1/(rho - 4 lam_1) and stops at s = s_max, so the fitted slope estimates rho_true with a
    seed-dependent transient error; no tolerance is set beyond the seed CI.  Runs whose fit window
    holds too few samples (NaN ratio) are counted and left out; fewer than three fitted runs fail.
    """
    a_values, d_values, ratios = (np.asarray(x, float) for x in (a_values, d_values, ratios))
    d_cut = d_min if np.any(d_values >= d_min) else float(d_values.max())
    measured, passed = {}, True
    for a in sorted(set(a_values.tolist())):
        r = ratios[(a_values == a) & (d_values >= d_cut)]
        ok = r[np.isfinite(r)]
        mean, lo, hi = mean_ci(ok, level)
        measured[str(a)] = {"mean_ratio": mean, "ci": [lo, hi],
                            "median_ratio": float(np.median(ok)) if ok.size else float("nan"),
                            "min": float(ok.min()) if ok.size else float("nan"),
                            "max": float(ok.max()) if ok.size else float("nan"),
                            "fitted_runs": int(ok.size), "runs": int(r.size)}
        passed &= bool(ok.size >= 3 and math.isfinite(lo) and lo <= 1 <= hi)
    return check(
        "escape.rate",
        f"The Phase I growth rate fitted on each run (fixed window rule: t >= 1/(rho - 4 lam_1), "
        f"s <= s_max) over rho_true: the seed CI of its mean contains 1, per a, at d >= {d_cut:g}.",
        measured,
        1.0,
        {"level": level},
        passed,
        basis="interval: Student-t CI over seeds of the mean of rho_fit / rho_true must contain 1",
    )


def claim_volterra(volterra: dict, *, phase1_rtol: float, theta_atol: float) -> list[Claim]:
    """The Volterra reduction reproduces the simulated u: the Phase I form while s is small
    (it drops the -3 int s of Theta, an error ~ e^{3 rho int s} - 1), the exact form throughout,
    and the Phase IIb equation for Delta = 1 - u from T1' on (same tolerance as the exact form).

    volterra: the errors per run of the theory_volterra file (VOLTERRA_KEYS)."""
    p1, th = np.asarray(volterra["phase1_rel_err"], float), np.asarray(volterra["theta_abs_err"], float)
    de = np.asarray(volterra["delta_abs_err"], float)
    s_phase1 = volterra["s_phase1"]
    return [
        check(
            "volterra.phase1",
            f"The Phase I Volterra form (Theta = t) matches the simulated u within the relative "
            f"tolerance (relative to the largest |u| of the window) until s exceeds {s_phase1:g}, "
            "in every run.",
            {"max_relative_error": float(p1.max()), "per_run": p1.tolist()},
            0.0,
            phase1_rtol,
            bool(p1.size) and bool(np.all(p1 <= phase1_rtol)),
            basis=("derived: the Phase I form drops -3 int s of Theta, first-order error e^{3 rho int s} -"
                   " 1; 1.5x factor post-hoc"),
        ),
        check(
            "volterra.theta_exact",
            "The exact-Theta Volterra form, fed the simulated s(t), reproduces the simulated u(t) "
            "through all three phases within the absolute tolerance, in every run.",
            {"max_abs_error": float(th.max()), "per_run": th.tolist()},
            0.0,
            theta_atol,
            bool(th.size) and bool(np.all(th <= theta_atol)),
            basis=("convergence: the exact-Theta form differs only by quadrature and flow tolerance (rtol "
                   "1e-7), far below 1e-4"),
        ),
        check(
            "volterra.phase2b",
            "From T1' on, Delta = 1 - u solved from the Phase IIb Volterra equation (kernel K_Theta, "
            "started from w(T1'), fed the simulated s) matches 1 - |u| of the simulation within the "
            "absolute tolerance, in every run.",
            {"max_abs_error": float(de.max()) if de.size else float("nan"), "per_run": de.tolist()},
            0.0,
            theta_atol,
            bool(de.size) and bool(np.all(de <= theta_atol)),
            basis=("convergence: the Phase IIb equation is exact given s; differences are quadrature and "
                   "flow tolerance, far below 1e-4"),
        ),
    ]


def claim_escape_faster_with_a(a_values: list[float], t1_medians: list[float]) -> Claim:
    """At fixed d the median T1 decreases strictly with a."""
    order = np.argsort(a_values)
    t1 = np.asarray(t1_medians, float)[order]
    passed = bool(len(t1) >= 2 and np.all(np.isfinite(t1)) and np.all(np.diff(t1) < 0))
    return check(
        "escape.faster_with_a",
        "At fixed d, larger a escapes faster: the median T1 decreases with a.",
        {"a": [float(a_values[i]) for i in order], "T1_median": t1.tolist()},
        "strictly decreasing",
        None,
        passed,
        basis="derived: T1 ~ log(d) / (2 rho_true) and rho_true grows with a at fixed d",
    )


def claim_phase2_converges(t2_by_eps: dict[float, list[float]], *, level: float) -> Claim:
    """Finding: how many runs reach s, |u| in [1 - eps, 1] (T2(eps) finite) by t_max, per eps.

    Not a check: t_max is a multiple of the predicted full-recovery time, so T2 is finite by
    construction of the horizon."""
    reached = {str(eps): int(np.sum(np.isfinite(v))) for eps, v in t2_by_eps.items()}
    return finding(
        "phase2.converges",
        "Finding: the number of population runs that reach s and |u| within eps of 1 (T2(eps) finite) "
        "by t_max, per eps (t_max is a multiple of the predicted recovery time).",
        measured={"reached": reached, "runs": {str(eps): len(v) for eps, v in t2_by_eps.items()}},
        interval={str(eps): count_interval(reached[str(eps)], len(v), level) for eps, v in t2_by_eps.items()},
    )


def claim_frozen_approximation(max_relative_gaps: list[float], *, rtol: float) -> Claim:
    """After T2 the flow's MSE matches the frozen-statistics approximation within rtol."""
    worst = float(np.max(max_relative_gaps)) if max_relative_gaps else float("nan")
    return check(
        "phase3.frozen_approx",
        "After T2 (|u| = 0.9) the MSE of the flow matches dw_i/dt = 8 lam_i (w*_i - w_i) "
        "within the tolerance, relative, at every time.",
        {"max_relative_mse_gap": worst, "per_run": [float(g) for g in max_relative_gaps]},
        0.0,
        rtol,
        bool(max_relative_gaps) and worst <= rtol,
        basis="derived: the frozen flow is exact as |u| -> 1; 2% not derived (post-hoc)",
    )


def claim_gd_matches_flow(gaps: list[dict[str, float]], *, rtol: float) -> Claim:
    """Population GD matches the flow: every relative gap of every run is within rtol.

    gaps[r] maps a measure (a crossing time, the MSE) to the relative GD-flow gap of run r.
    """
    worst = {k: float(max(g[k] for g in gaps)) for k in gaps[0]} if gaps else {}
    finite = all(math.isfinite(v) for v in worst.values())
    return check(
        "gd.matches_flow",
        "Population GD with the paper's step matches the gradient flow on the same seeds: the times "
        "at which s crosses 1/3 and |u| crosses 0.9, and the MSE at every GD time, agree within the "
        "relative tolerance.",
        {"max_relative_gap": worst, "runs": len(gaps)},
        0.0,
        rtol,
        bool(worst) and finite and max(worst.values()) <= rtol,
        basis="convergence: GD with step eta is the flow up to O(eta); 5% not derived (post-hoc)",
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


def claim_sgd_tracks_flow(gaps_by_a: dict[float, list[float]], *, time_rtol: float,
                          value_rtol: float) -> Claim:
    """Small-eta SGD follows the flow from the same (w*, w0) within a time-and-value band.

    gaps_by_a[a][r] is replica r's time_warp_gap of its MSE against the flow's (inf if diverged).
    """
    worst = {str(a): float(max(g)) for a, g in sorted(gaps_by_a.items())}
    return check(
        "sgd.tracks_flow",
        "Online SGD with a small step follows the population flow from the same (w*, w0): at every "
        "recorded time its MSE equals, within the value tolerance, the flow's MSE at a time within "
        "the relative time band, wherever its MSE is above 1e-10 (noise shifts the escape; the step "
        "changes rates at O(eta)).",
        {"max_time_warp_gap": worst},
        0.0,
        {"time_rtol": time_rtol, "value_rtol": value_rtol},
        bool(worst) and all(math.isfinite(v) and v <= time_rtol for v in worst.values()),
        basis="convergence: SGD is the flow up to O(sqrt(eta)) noise; bands not derived (post-hoc)",
    )


# ---- summary ----

#: What summarise reads from the escape and Volterra theory files, the Phase III runs and the SGD files.
ESCAPE_KEYS = ("a", "d", "T1", "T1_u", "T1_u_pred", "rho_fit", "rho_true")
VOLTERRA_KEYS = ("phase1_rel_err", "theta_abs_err", "delta_abs_err", "s_phase1")
PHASE3_KEYS = ("tau", "mse", "frozen_mse")
SGD_KEYS = ("t", "u", "mse", "seed", "diverged")

#: Below this MSE the flow's own absolute accuracy (atol ~ 1e-12 per coordinate) no longer fixes
#: the MSE to 10%, so SGD's MSE is compared with it only above.
MSE_FLOOR = 1e-10


def gd_flow_gaps(flow: dict, gd: dict) -> dict[str, float]:
    """Relative GD-flow gaps: crossing times of s = 1/3 and |u| = 0.9, and the MSE on GD's times."""
    if (flow["seed"], flow["a"], flow["d"]) != (gd["seed"], gd["a"], gd["d"]):
        raise ValueError("GD and flow runs are not paired by (seed, a, d)")
    gaps = {}
    for name, key, level in (("T_s_third", "s", THRESHOLD), ("T_u_0.9", "u", 0.9)):
        t_flow = first_upcrossing(flow["t"], np.abs(flow[key]), level)
        t_gd = first_upcrossing(gd["t"], np.abs(gd[key]), level)
        gaps[name] = abs(t_gd - t_flow) / t_flow
    mse_flow = np.exp(np.interp(np.log(gd["t"]), np.log(flow["t"]), np.log(flow["mse"])))
    gaps["mse"] = float(np.max(np.abs(gd["mse"] - mse_flow) / mse_flow))
    return gaps


def sgd_flow_gaps(sgd: dict, flows: dict, value_rtol: float) -> list[float]:
    """Per replica, the time-warp gap of SGD's MSE against the flow of the same seed
    (flows: {(a, d, seed): flow run}; inf for a diverged replica)."""
    gaps = []
    for r, seed in enumerate(sgd["seed"]):
        if sgd["diverged"][r]:
            gaps.append(float("inf"))
            continue
        flow = flows[(sgd["a"], sgd["d"], int(seed))]
        gaps.append(time_warp_gap(sgd["t"], sgd["mse"][r], flow["t"], flow["mse"], value_rtol,
                                  floor=MSE_FLOOR))
    return gaps


def summarise(*, population: list[dict], escape: dict, volterra: dict, fig3, phase3, fig2_flow, fig2_gd,
              fig1_sgd, fig1_flow, delta: float, eps, s0: float, sgd_value_rtol: float) -> dict:
    """The measurements the paper's claims compare, from the loaded results.

    population: every population flow run; escape, volterra: the theory files; fig3: flow runs
    over a at fixed d; phase3: the frozen-statistics runs; fig2_flow, fig2_gd: flow and GD runs,
    paired in order; fig1_sgd: small-eta SGD files (replicas = seeds), fig1_flow: the flow runs of
    the same (a, d, seeds).  fig3, phase3, fig2_* and fig1_sgd are read once, in order (they may
    be generators).  delta, eps, s0: the stopping times; sgd_value_rtol: the value band of the
    SGD time-warp gap.
    """
    def times(run):
        return stopping_times(run["t"], run, delta, eps, s0)

    escape_t1 = defaultdict(lambda: ([], []))
    for a, d in sorted({(a, d) for a, d in zip(escape["a"], escape["d"], strict=True)}):
        here = (escape["a"] == a) & (escape["d"] == d)
        escape_t1[float(a)][0].append(int(d))
        escape_t1[float(a)][1].append(float(np.median(escape["T1"][here])))
    fig3_t1 = defaultdict(list)
    for r in fig3:
        fig3_t1[r["a"]].append(times(r)["T1"])
    fig3_a = sorted(fig3_t1)
    flows = {(r["a"], r["d"], r["seed"]): r for r in fig1_flow}
    return {
        "threshold_reports": [threshold_report(r["t"], r["s"]) for r in population],
        "escape_T1_median_by_a": dict(escape_t1),
        "escape_T1_u": escape["T1_u"], "escape_T1_u_pred": escape["T1_u_pred"],
        "escape_a": escape["a"], "escape_d": escape["d"],
        "escape_rate_ratio": escape["rho_fit"] / escape["rho_true"],
        "volterra": {k: volterra[k] for k in VOLTERRA_KEYS},
        "fig3_a": fig3_a, "fig3_T1_median": [float(np.median(fig3_t1[a])) for a in fig3_a],
        "T2_by_eps": {e: [times(r)[f"T2_eps{e:g}"] for r in population] for e in eps},
        "frozen_mse_gaps": [float(np.max(np.abs(r["mse"] - r["frozen_mse"]) / r["frozen_mse"]))
                            for r in phase3],
        "gd_flow_gaps": [gd_flow_gaps(f, g) for f, g in zip(fig2_flow, fig2_gd, strict=True)],
        "sgd_flow_gaps_by_a": {r["a"]: sgd_flow_gaps(r, flows, sgd_value_rtol) for r in fig1_sgd},
    }


def claims(summary: dict, *, volterra_phase1_rtol: float,
           volterra_theta_atol: float, frozen_mse_rtol: float, gd_flow_time_rtol: float,
           sgd_time_rtol: float, sgd_value_rtol: float, confidence_level: float) -> list[Claim]:
    """The paper's claims on the measurements of ``summarise``, in the order of checks.json."""
    return [
        claim_threshold_s_one_third(summary["threshold_reports"]),
        claim_escape_log_d(summary["escape_a"], summary["escape_d"], summary["escape_T1_u"],
                           summary["escape_T1_u_pred"], level=confidence_level),
        claim_escape_rate(summary["escape_a"], summary["escape_d"], summary["escape_rate_ratio"],
                          level=confidence_level),
        *claim_volterra(summary["volterra"], phase1_rtol=volterra_phase1_rtol,
                        theta_atol=volterra_theta_atol),
        claim_escape_faster_with_a(summary["fig3_a"], summary["fig3_T1_median"]),
        claim_phase2_converges(summary["T2_by_eps"], level=confidence_level),
        claim_frozen_approximation(summary["frozen_mse_gaps"], rtol=frozen_mse_rtol),
        claim_gd_matches_flow(summary["gd_flow_gaps"], rtol=gd_flow_time_rtol),
        claim_sgd_tracks_flow(summary["sgd_flow_gaps_by_a"], time_rtol=sgd_time_rtol,
                              value_rtol=sgd_value_rtol),
    ]
