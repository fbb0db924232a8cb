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


def volterra(phase1_rel_err, theta_abs_err, s_phase1: float, phase1_rtol: float,
             theta_atol: float) -> list[Claim]:
    """The Volterra reduction reproduces the simulated u: the Phase I form while s is small
    (it drops the -3 int s of Theta, an error ~ e^{3 rho int s} - 1), the exact form throughout."""
    p1, th = np.asarray(phase1_rel_err, float), np.asarray(theta_abs_err, float)
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


# study: sgd_grid


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
    from .initialisation import PAPER_START, log_d_exponent, plateau_law

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
    from .initialisation import PAPER_START

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


# study: finite


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
