# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Scaling laws: Phase II time, Phase III collapse, the loss law, and the scaling-law table
#
# All numbers come from `results/theory/scaling.npz` (rule `study_scaling`) and
# `results/theory/escape.npz` (rule `theory_escape`); this notebook only draws and tabulates.
#
# * **Phase III collapse**: 1 - MSE(T2 + tau) / MSE(T2) against x_d / d, x_d = (16 tau / H_{d,a})^{1/a},
#   with the ideal dynamics 1 - S_d(tau) and the Gamma law Gamma(1 - 1/a) x_d / d.
# * **Loss law**: L(tau), tau = t - T1', against C sigma*^2 tau^{-(1 - 1/a)}, with the fit window.
# * **Phase II**: T2(eps) - T1' against eps, with the paper's bound exponent 2a/(a-1) and the
#   tail-mass heuristic a/(a-1), and the floors d^{-(a-1)/2} (bound) and d^{-(a-1)} (tail mass).

# %% tags=["parameters"]
# placeholders: the rule passes every parameter (papermill -y)
scaling_file = None
escape_file = None
out_stems = None

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from scipy.special import gamma

from prdynamics.io import load_result
from prdynamics.statistics import mean_ci, median_curve
from prdynamics.theory import phase2_exponents
from prfigures import save_figure, set_style, write_table

set_style()
sc = load_result(scaling_file, required=("a", "d", "seed", "x", "one_minus_ratio", "eps", "T2_minus_T1p"))
esc = load_result(escape_file, required=("a", "d", "rho_fit", "rho_true", "T1_u", "T1_u_pred"))
a_values = sorted(set(sc["a"].tolist()))
d_values = sorted(set(sc["d"].tolist()))
colors = dict(zip(a_values, plt.get_cmap("viridis")(np.linspace(0.1, 0.85, len(a_values)))))
styles = dict(zip(d_values, ["--", "-", "-."]))


def runs(a, d):
    return np.flatnonzero((sc["a"] == a) & (sc["d"] == d))


# %%
fig, (ax_raw, ax_norm) = plt.subplots(1, 2, figsize=(13, 4.8), constrained_layout=True)
for a in a_values:
    for d in d_values:
        idx = runs(a, d)
        if idx.size == 0:
            continue
        grid = np.geomspace(1.0, float(d), 200)
        med = median_curve(grid, sc["x"][idx], sc["one_minus_ratio"][idx])
        ideal = median_curve(grid, sc["x"][idx], sc["one_minus_S_d"][idx])
        law = gamma(1 - 1 / a) * grid / d
        label = f"a = {a:g}, d = {d:g}"
        ax_raw.plot(grid / d, med, styles[d], color=colors[a], label=label)
        ax_norm.plot(grid / d, med / law, styles[d], color=colors[a], label=label)
        ax_norm.plot(grid / d, ideal / law, ":", color=colors[a], linewidth=1)
        lo = np.nanmedian(sc["front_T2"][idx]) * sc["front_factor"]
        ax_norm.axvline(lo / d, color=colors[a], linewidth=0.6, alpha=0.5)
    ax_raw.plot(np.geomspace(1e-5, 1, 50), gamma(1 - 1 / a) * np.geomspace(1e-5, 1, 50), color=colors[a],
                linewidth=3, alpha=0.3)
ax_raw.set(xscale="log", yscale="log", xlabel="x_d / d", ylabel="1 - MSE(T2 + tau) / MSE(T2)",
           title="Phase III: measured (lines) and Gamma(1 - 1/a) x_d / d (thick)", ylim=(1e-5, 1.5))
ax_norm.axhline(1.0, color="k", linewidth=1)
ax_norm.axhspan(1 - 0.1, 1 + 0.1, color="0.88", zorder=0)
ax_norm.set(xscale="log", xlabel="x_d / d", ylabel="ratio to the Gamma law", ylim=(0, 1.3),
            title="Collapse: measured / Gamma law (dotted: S_d / Gamma law; ticks: window start)")
ax_raw.legend(fontsize=8, ncol=2)
save_figure(fig, out_stems["theory_phase3"])

# %%
d_top = {a: float(sc["d"][sc["a"] == a].max()) for a in a_values}
fig, axes = plt.subplots(1, len(a_values), figsize=(4.6 * len(a_values), 4.3), constrained_layout=True,
                         squeeze=False)
for ax, a in zip(axes[0], a_values):
    idx = runs(a, d_top[a])
    for j, i in enumerate(idx):
        tau, loss, win = sc["tau_loss"][i], sc["loss"][i], sc["loss_in_window"][i] > 0
        ax.plot(tau, loss, color=colors[a], alpha=0.35, linewidth=1, label="runs" if j == 0 else None)
    i0 = idx[0]
    tau_w = sc["tau_loss"][i0][sc["loss_in_window"][i0] > 0]
    ax.axvspan(tau_w[0], tau_w[-1], color="0.9", zorder=0, label="fit window")
    beta = 1 - 1 / a
    c_fit, c_pred = np.median(sc["loss_constant"][idx]), np.median(sc["loss_constant_pred"][idx])
    p_fit = np.mean(sc["loss_exponent"][idx])
    ax.plot(tau_w, c_fit * tau_w ** (-p_fit), "k-", linewidth=2, label=f"fit: exponent {p_fit:.3f}")
    ax.plot(tau_w, c_pred * tau_w ** (-beta), "r--", linewidth=1.5, label=f"C sigma*^2 tau^-{beta:.3f}")
    ax.set(xscale="log", yscale="log", xlabel="tau = t - T1'", ylabel="population loss L",
           title=f"a = {a:g}, d = {d_top[a]:g}")
    ax.set_ylim(bottom=max(1e-14, np.nanmin(sc["loss"][idx]) * 0.5))
    ax.legend(fontsize=8)
save_figure(fig, out_stems["theory_loss_law"])

# %%
fig, axes = plt.subplots(1, len(a_values), figsize=(4.6 * len(a_values), 4.3), constrained_layout=True,
                         squeeze=False)
eps = sc["eps"]
for ax, a in zip(axes[0], a_values):
    idx = runs(a, d_top[a])
    t2 = sc["T2_minus_T1p"][idx]
    t2 = np.where(t2 > 0, t2, np.nan)
    ax.plot(eps, np.nanmedian(t2, axis=0), "o-", color=colors[a], markersize=3, label="median over seeds")
    ax.fill_between(eps, np.nanmin(t2, axis=0), np.nanmax(t2, axis=0), color=colors[a], alpha=0.25,
                    linewidth=0)
    bound, heur = phase2_exponents(a)
    floor_b, floor_t = sc["eps_floor_bound"][idx[0]], sc["eps_floor_tail"][idx[0]]
    anchor = np.nanmedian(t2[:, 0])
    for p, style, name in ((bound, "r--", "bound"), (heur, "k:", "heuristic")):
        ax.plot(eps, anchor * (eps / eps[0]) ** (-p), style, label=f"{name}: eps^-{p:.2f}")
    ax.axvline(floor_b, color="r", linewidth=0.8, label="d^{-(a-1)/2}")
    ax.axvline(floor_t, color="k", linewidth=0.8, label="d^{-(a-1)}")
    ax.set(xscale="log", yscale="log", xlabel="eps", ylabel="T2(eps) - T1'",
           title=f"a = {a:g}, d = {d_top[a]:g}: measured exponent {np.mean(sc['T2_exponent'][idx]):.2f}")
    ax.set_ylim(np.nanmin(t2) * 0.3, np.nanmax(t2) * 3)
    ax.invert_xaxis()
    ax.legend(fontsize=7)
save_figure(fig, out_stems["theory_phase2"])

# %% [markdown]
# ## The scaling-law table
# Every prediction beside its measurement: mean over seeds with a 95% Student-t interval.

# %%
rows = []


def row(quantity, a, d, predicted, values):
    m, lo, hi = mean_ci(values)
    rows.append({"quantity": quantity, "a": a, "d": d, "predicted": predicted, "measured_mean": m,
                 "ci95_lo": lo, "ci95_hi": hi, "seeds": int(np.sum(np.isfinite(values)))})


for a in sorted(set(esc["a"].tolist())):
    d = float(esc["d"][esc["a"] == a].max())
    m = (esc["a"] == a) & (esc["d"] == d)
    row("escape rate: fitted / rho_true", a, d, 1.0, esc["rho_fit"][m] / esc["rho_true"][m])
    row("time abs(u) = delta: measured / A e^{rho t} prediction", a, d, 1.0, esc["T1_u"][m] / esc["T1_u_pred"][m])
for a in a_values:
    bound, heur = phase2_exponents(a)
    for d in d_values:
        idx = runs(a, d)
        if idx.size == 0:
            continue
        row("Phase III: (1 - MSE ratio) / (1 - S_d), window median", a, d, 1.0, sc["ratio_to_S_d_median"][idx])
        row("Phase III: (1 - S_d) / Gamma law, window median", a, d, 1.0, sc["S_d_to_law_median"][idx])
        row("MSE ratio at full recovery tau = d^a H / 16 (pred: S_d)", a, d,
            float(np.median(sc["S_d_at_recovery"][idx])), sc["ratio_at_recovery"][idx])
    idx = runs(a, d_top[a])
    row("loss exponent (pred 1 - 1/a)", a, d_top[a], 1 - 1 / a, sc["loss_exponent"][idx])
    row("loss constant: fitted / (C sigma*^2)", a, d_top[a], 1.0,
        sc["loss_constant"][idx] / sc["loss_constant_pred"][idx])
    row("Phase II exponent vs heuristic a/(a-1) (bound 2a/(a-1) = %.3g)" % bound, a, d_top[a], heur,
        sc["T2_exponent"][idx])
    row("Phase II exponent below the floor d^{-(a-1)/2}", a, d_top[a], heur, sc["T2_exponent_below_floor"][idx])
table = pd.DataFrame(rows)
write_table(table, out_stems["scaling_laws"], inputs={"scaling_file": scaling_file, "escape_file": escape_file},
            caption="Scaling laws: prediction and measurement (mean over seeds, 95% Student-t interval).")
table

# %%
prov = sc["provenance"]
print({k: prov[k] for k in ("package_version", "git_commit", "git_dirty", "versions")})
