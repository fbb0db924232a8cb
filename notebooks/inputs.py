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
# # Non-Gaussian inputs with the same covariance
#
# Inputs x = sqrt(lam) z with i.i.d. standardised z of several laws (fourth cumulant kappa =
# E z^4 - 3). Every law runs from the same target and start per seed. Top left: s(t) of the
# exact population flow of each law (median over seeds, min-max band) and the Gaussian saddle
# level s = 1/3. Top right: the exact loss of each law, with the tail-fit window shaded and the
# Gaussian slope t^-(1 - 1/a) for reference. Bottom left: online SGD (smallest eta) against the
# flow of its own law and against the Gaussian flow, one seed. Bottom right: the fitted tail
# exponents per seed. Everything here is computed by scripts/study_inputs.py; this notebook
# only draws it and writes the table.

# %% tags=["parameters"]
# placeholders: the rule passes every parameter (papermill -y)
study_file = None
flow_files = None
sgd_files = None
sgd_d = None
out_stem = None
table_stem = None

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from prdynamics.io import load_result
from prdynamics.phases import THRESHOLD
from prdynamics.studies.inputs import tail_window
from prfigures import median_band, save_figure, set_style, write_table

set_style()
st = load_result(study_file, required=("run_law", "run_d", "run_seed", "run_beta", "sgd_law"))
flows = {(f["input_dist"], int(f["d"])): f for f in (load_result(p) for p in flow_files)}
sgds = [load_result(p, required=("t", "loss", "seed", "eta", "input_dist", "diverged")) for p in sgd_files]
laws = [law for law in ("gaussian", "rademacher", "uniform", "student_t", "sparse") if (law, sgd_d) in flows]
dims = sorted({d for _, d in flows})
d_big = dims[-1]
a = float(st["a"])
prov = st["provenance"]["inputs"]
colors = dict(zip(laws, plt.get_cmap("tab10")(np.arange(len(laws)))))
kappa = {law: float(flows[(law, d_big)]["kappa"]) for law in laws}
label = {law: f"{law} (kappa = {kappa[law]:g})" for law in laws}
print("laws:", label, "dims:", dims)

# %%
fig, axes = plt.subplots(2, 2, figsize=(13, 9.5), constrained_layout=True)
ax_s, ax_l, ax_sgd, ax_b = axes.ravel()
for law in laws:
    f = flows[(law, d_big)]
    median_band(ax_s, f["t"], f["s"], label=label[law], color=colors[law])
    median_band(ax_l, f["t"], f["loss"], label=label[law], color=colors[law])
ax_s.axhline(THRESHOLD, color="k", linestyle=":", linewidth=1, label="s = 1/3")
ax_s.set(xscale="log", xlabel="t (continuous time)", ylabel="s = w^T Q w",
         title=f"Exact population flow, a = {a:g}, d = {d_big}: s(t)")
ax_s.legend(fontsize=8, loc="upper left")

t = flows[("gaussian", d_big)]["t"]
gauss_big = (st["run_law"] == "gaussian") & (st["run_d"] == d_big)
t2_median = float(np.nanmedian(st[f"run_T2_eps{max(st['eps']):g}"][gauss_big]))  # the tail fit's origin
win = tail_window(t, t2_median, d_big, a, prov["tail_x_min"], prov["tail_x_max_frac"])
ax_l.axvspan(t[win][0], t[win][-1], color="0.85", zorder=0, label="tail-fit window")
beta_th = float(st["beta_theory"])
t_ref = t[win]
l_ref = np.nanmedian(flows[("gaussian", d_big)]["loss"][:, win], axis=0)
ax_l.plot(t_ref, 2.5 * l_ref[0] * (t_ref / t_ref[0]) ** (-beta_th), "k--", linewidth=1,
          label=f"slope -(1 - 1/a) = {-beta_th:g}")
ax_l.set(xscale="log", yscale="log", xlabel="t", ylabel="exact population loss L(t)",
         title=f"Exact loss of each law, d = {d_big} (median, min-max band)")
ax_l.legend(fontsize=8, loc="lower left")

# SGD at the smallest eta, one seed: the first seed with a trapped Rademacher flow if any, else the first
eta_small = min(float(g["eta"]) for g in sgds)
trapped = [int(s) for law, s, stt, d in zip(st["run_law"], st["run_seed"], st["run_status"], st["run_d"],
                                            strict=True) if stt != "global" and d == sgd_d]
seed = trapped[0] if trapped else int(flows[("gaussian", sgd_d)]["seed"][0])
for g in sgds:
    if float(g["eta"]) != eta_small:
        continue
    law = str(g["input_dist"])
    r = int(np.flatnonzero(g["seed"] == seed)[0])
    f = flows[(law, sgd_d)]
    i = int(np.flatnonzero(f["seed"] == seed)[0])
    keep = f["t"] <= g["t"][-1]
    ax_sgd.plot(f["t"][keep], f["loss"][i][keep], color=colors[law], linewidth=2.5, alpha=0.5)
    ax_sgd.plot(g["t"], g["loss"][r], color=colors[law], linewidth=0.9, linestyle="-", marker=".", markersize=3,
                label=f"{law}" + (" (diverged)" if g["diverged"][r] else ""))
fg = flows[("gaussian", sgd_d)]
t_sgd_max = max(float(g["t"][-1]) for g in sgds)
keep = fg["t"] <= t_sgd_max
ax_sgd.plot(fg["t"][keep], fg["loss"][int(np.flatnonzero(fg["seed"] == seed)[0])][keep], "k--", linewidth=1.2,
            label="Gaussian flow")
ax_sgd.set(xscale="log", yscale="log", xlabel="t = steps x eta", ylabel="exact loss L of the law",
           title=f"Online SGD (dots, eta = {eta_small:g}) vs its law's flow (thick), d = {sgd_d}, seed {seed}")
ax_sgd.legend(fontsize=8, loc="lower left")

for k, law in enumerate(laws):
    for j, d in enumerate(dims):
        sel = (st["run_law"] == law) & (st["run_d"] == d) & np.isfinite(st["run_beta"])
        x = np.full(sel.sum(), k + 0.25 * (j - (len(dims) - 1) / 2))
        ax_b.scatter(x, st["run_beta"][sel], color=colors[law], marker="os^"[j % 3], s=30,
                     label=f"d = {d}" if k == 0 else None, edgecolors="k", linewidths=0.4)
ax_b.axhline(beta_th, color="k", linestyle="--", linewidth=1, label=f"Gaussian theory 1 - 1/a = {beta_th:g}")
ax_b.set_xticks(range(len(laws)), [f"{law}\nkappa = {kappa[law]:g}" for law in laws], fontsize=9)
ax_b.set(ylabel="fitted tail exponent beta (L ~ t^-beta)",
         title="Late-time loss exponent per seed (converged runs only)")
ax_b.legend(fontsize=8)
save_figure(fig, out_stem)

# %%
rows = []
eps_names = [f"T2_eps{e:g}" for e in np.atleast_1d(st["eps"])]
for law in laws:
    for d in dims:
        sel = (st["run_law"] == law) & (st["run_d"] == d)
        g = (st["run_law"] == "gaussian") & (st["run_d"] == d)
        beta, beta_g = st["run_beta"][sel], st["run_beta"][g]
        row = {"law": law, "kappa": kappa[law], "d": d, "runs": int(sel.sum()),
               "global_min": int(np.sum(st["run_status"][sel] == "global")),
               "local_min": int(np.sum(st["run_status"][sel] == "local_min")),
               "single_crossing": int(np.sum(st["run_crossings"][sel] == 1)),
               "min_s_minus_third": float(np.nanmin(st["run_min_margin"][sel])),
               "T1": float(np.nanmedian(st["run_T1"][sel])), "T_third": float(np.nanmedian(st["run_T_third"][sel]))}
        for name in eps_names:
            vals = st[f"run_{name}"][sel]
            row[name] = float(np.nanmedian(vals)) if np.isfinite(vals).any() else float("nan")
        row["beta_median"] = float(np.nanmedian(beta)) if np.isfinite(beta).any() else float("nan")
        row["beta_minus_gaussian"] = (float(np.nanmedian(beta - beta_g)) if np.isfinite(beta - beta_g).any()
                                      else float("nan"))
        for eta in sorted({float(x) for x in st["sgd_eta"]}):
            s = (st["sgd_law"] == law) & (st["sgd_eta"] == eta) & (st["sgd_d"] == d)
            if s.any():
                row[f"sgd_eta{eta:g}_diverged"] = f"{int(st['sgd_diverged'][s].sum())}/{int(s.sum())}"
                row[f"sgd_eta{eta:g}_gap_own"] = float(np.max(st["sgd_gap_own"][s]))
                row[f"sgd_eta{eta:g}_gap_gauss"] = float(np.min(st["sgd_gap_gauss"][s]))
        rows.append(row)
df = pd.DataFrame(rows)
write_table(df, table_stem,
            caption=f"Non-Gaussian inputs, a = {a:g}: medians over seeds of the stopping times, end points, "
                    "tail exponents; SGD gaps are max_t |log L_SGD - log L_flow| (max over replicas to the own "
                    "law's flow, min to the Gaussian flow).",
            inputs={"study_file": study_file, "flow_files": flow_files, "sgd_files": sgd_files,
                    **{k: prov[k] for k in ("delta", "eps", "s0")}})  # the stopping config the times used
df

# %%
print({k: st["provenance"][k] for k in ("package_version", "git_commit", "git_dirty", "versions")})
