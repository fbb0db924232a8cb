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
# # Finite samples: full-batch GD on n reused samples
#
# Each run is full-batch GD on a fixed sample of n = (n/d) d points, from the population run's
# start and target of its seed; the reference is the paper's fixed-step population GD with the
# same step. The error is the excess test loss L(w) (the population loss; the test loss is
# L(w) + sigma^2).
# Left: L(t) for every n/d with label noise (median over seeds), the population GD in black, and
# thin dashed the linear-response prediction population + sigma^2 k_eff(t) / n.
# Right: L at the horizon T over the population GD's L(T) (same seed) against n/d, per a, noiseless
# (circles) and noisy (squares), median and min-max over seeds; the rule of `finite.sample_floor`
# (sample-limited where the ratio is >= floor_factor) and, dotted, 1 + sigma^2 k_eff(T) / (n L_pop(T)).

# %% tags=["parameters"]
# placeholders: the rule passes every parameter (papermill -y)
sim_files = None
study_file = None
floor_factor = None
out_stem = None
table_stem = None

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from prdynamics.studies.finite import learned_modes
from prdynamics.io import load_result
from prfigures import save_figure, set_style, write_table

set_style()
runs = [load_result(f, required=("t", "loss", "pop_loss", "a", "sigma2", "n_over_d")) for f in sim_files]
st = load_result(study_file, required=("a", "sigma2", "n_over_d", "loss_T", "pop_loss_T"))
a_values = sorted({float(r["a"]) for r in runs})
s2_values = sorted({float(r["sigma2"]) for r in runs})
print(f"{len(runs)} files, a = {a_values}, sigma^2 = {s2_values}, {st['a'].size} runs")

# %%
fig, (ax_t, ax_n) = plt.subplots(1, 2, figsize=(13, 5), constrained_layout=True)
a_show, s2_show = max(a_values), max(s2_values)
r = next(r for r in runs if float(r["a"]) == a_show and float(r["sigma2"]) == s2_show)
t, ratios = r["t"], r["n_over_d"]
cmap = plt.get_cmap("viridis")
colors = cmap(np.linspace(0.0, 0.9, len(ratios)))
pop_med = np.median(r["pop_loss"], axis=0)
steps = np.rint(t / r["eta"]).astype(int)
k_eff = np.array([np.median([learned_modes(r["lam"], ws, r["eta"], n) for ws in r["wstar"]]) for n in steps])
for j, ratio in enumerate(ratios):
    ax_t.plot(t, np.median(r["loss"][:, j], axis=0), color=colors[j], label=f"n/d = {ratio}")
    if s2_show > 0:
        ax_t.plot(t, pop_med + s2_show * k_eff / (ratio * r["d"]), "--", color=colors[j], linewidth=0.8)
ax_t.plot(t, pop_med, color="k", linewidth=2, label="population GD")
if s2_show > 0:
    ax_t.plot([], [], "k--", linewidth=0.8, label="pop. + sigma^2 k_eff / n")
ax_t.axvline(r["t_recovery"], color="0.5", linestyle=":", linewidth=1)
ax_t.text(r["t_recovery"], 0.97, " d^a H/16 (full\n recovery)", color="0.4", fontsize=9, va="top",
          transform=ax_t.get_xaxis_transform())
ax_t.set(xscale="log", yscale="log", xlabel="t = steps x eta", ylabel="excess test loss L(w(t))",
         title=f"a = {a_show:g}, d = {r['d']}, sigma^2 = {s2_show:g}, eta = {r['eta']:g}: median over seeds")
ax_t.set_xlim(left=max(t[0], 1e-1))
ax_t.legend(fontsize=8, ncol=2, loc="lower left")

a_colors = dict(zip(a_values, plt.get_cmap("tab10")(np.arange(len(a_values)))))
for a in a_values:
    for s2 in s2_values:
        m = (st["a"] == a) & (st["sigma2"] == s2)
        grid = np.unique(st["n_over_d"][m])
        vals = [st["ratio_loss"][m & (st["n_over_d"] == g)] for g in grid]
        med = np.array([np.median(v) for v in vals])
        lo, hi = med - np.array([v.min() for v in vals]), np.array([v.max() for v in vals]) - med
        ax_n.errorbar(grid * (1 + 0.03 * (a - 1.75)), med, yerr=[lo, hi], color=a_colors[a],
                      marker="o" if s2 == 0 else "s", linestyle="-" if s2 == 0 else "--", capsize=2,
                      label=f"a = {a:g}, sigma^2 = {s2:g}")
        if s2 > 0:
            pred = [np.median(1 + (st["noise_pred"] / st["pop_loss_T"])[m & (st["n_over_d"] == g)]) for g in grid]
            ax_n.plot(grid, pred, ":", color=a_colors[a], linewidth=1.5)
ax_n.axhline(1.0, color="k", linewidth=1)
ax_n.axhline(floor_factor, color="k", linewidth=0.8, linestyle="-.")
ax_n.plot([], [], "k-.", linewidth=0.8, label=f"{floor_factor:g}: sample-limited above, tail-limited below")
ax_n.plot([], [], "k:", linewidth=1.5, label="1 + sigma^2 k_eff(T) / (n L_pop(T))")
ax_n.set(xscale="log", yscale="log", xlabel="n / d (samples per dimension)",
         ylabel="L(w(T)) / population GD's L(T), same seed",
         title=f"At the horizon T = {r['horizon'] / r['t_recovery']:g} d^a H/16 (median, min-max over seeds)")
ax_n.set_xticks(ratios, [str(x) for x in ratios])
ax_n.legend(fontsize=8)
save_figure(fig, out_stem)

# %%
cols = ["loss_T", "pop_loss_T", "ratio_loss", "mse_T", "pop_mse_T", "ratio_mse", "train_T", "train_over_test",
        "noise_excess", "noise_pred", "escape_shift", "dev_loss", "dev_mse", "mse_exponent"]
df = pd.DataFrame({k: st[k] for k in ["a", "sigma2", "seed", "n_over_d", *cols, "diverged"]})
table = df.groupby(["a", "sigma2", "n_over_d"], as_index=False).agg(
    seeds=("seed", "size"), diverged=("diverged", "sum"), **{c: (c, "median") for c in cols})
table["regime"] = np.where(table["ratio_loss"] >= floor_factor, "sample-limited", "tail-limited")
write_table(table, table_stem, caption="Finite-sample GD at the horizon: medians over seeds per (a, sigma^2, n/d).",
            inputs={"sim_files": list(sim_files), "study_file": study_file, "floor_factor": floor_factor})
table

# %%
prov = st["provenance"]
print({k: prov[k] for k in ("package_version", "git_commit", "git_dirty", "versions")})
