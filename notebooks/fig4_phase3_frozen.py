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
# # Figure 4: Phase III follows the frozen-statistics flow
#
# From T2, the first time |u| reaches u_start = 0.9, the population MSE (solid) against
# the approximation that freezes s = u = 1, dw_i/dt = 8 lam_i (w*_i - w_i), solved in
# closed form from the same w(T2) (dashed). Median over seeds with the min-max band;
# right: the relative gap |MSE_flow - MSE_frozen| / MSE_frozen.

# %% tags=["parameters"]
# placeholders: the rule passes every parameter (papermill -y)
phase3_files = None
rtol = None
out_stem = None

# %%
import matplotlib.pyplot as plt
import numpy as np

from prfigures import median_band, save_figure, set_style
from prdynamics.io import load_result

set_style()
runs = [load_result(f, required=("tau", "mse", "frozen_mse", "T2")) for f in phase3_files]
tau = runs[0]["tau"]
mse = np.vstack([r["mse"] for r in runs])
frozen = np.vstack([r["frozen_mse"] for r in runs])
gap = np.abs(mse - frozen) / frozen
a, d = runs[0]["a"], runs[0]["d"]
print("T2 per seed:", [round(r["T2"], 4) for r in runs])
print(f"max relative gap per seed: {np.round(gap.max(axis=1), 5).tolist()} (tolerance {rtol})")

# %%
fig, (ax, ax_gap) = plt.subplots(1, 2, figsize=(13, 4.5), constrained_layout=True)
median_band(ax, tau, mse, label="gradient flow", color="C0")
median_band(ax, tau, frozen, label="frozen statistics", color="C3", linestyle="--")
ax.set(xscale="log", yscale="log", xlabel="tau = t - T2", ylabel="MSE",
       title=f"Phase III, a = {a:g}, d = {d}, {len(runs)} seeds")
ax.legend()
median_band(ax_gap, tau, gap, color="C2")
ax_gap.axhline(rtol, color="k", linestyle=":", label=f"claim tolerance {rtol:g}")
ax_gap.set(xscale="log", yscale="log", xlabel="tau = t - T2", ylabel="relative MSE gap",
           ylim=(1e-8, None))
ax_gap.legend()
save_figure(fig, out_stem)

# %%
prov = runs[0]["provenance"]
print({k: prov[k] for k in ("package_version", "git_commit", "git_dirty", "versions")})
