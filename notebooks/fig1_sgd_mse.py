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
# # Figure 1: online SGD under power-law data
#
# MSE of online SGD (batch 1, fresh Gaussian samples, no label noise) against SGD time
# t = steps * eta, one colour per spectrum exponent a (a = 0 is isotropic), median over
# seeds with the min-max band. Dashed: the population gradient flow from the same
# (w*, w(0)), median over the same seeds. The paper's text gives no horizon; the SGD
# runs stop at the configured t_max (the isotropic escape alone takes about
# (d / 12) log d). Diverged replicas, if any, are listed and drawn as gaps.

# %% tags=["parameters"]
# placeholders: the rule passes every parameter (papermill -y)
sgd_files = None
flow_files = None
out_stem = None

# %%
from collections import defaultdict

import matplotlib.pyplot as plt
import numpy as np

from prdynamics.io import load_result
from prfigures import load_runs, median_band, save_figure, set_style

set_style()
sgd = {r["a"]: r for r in (load_result(f) for f in sgd_files)}
flow_by_a = defaultdict(list)
for f in flow_files:
    flow_by_a[load_result(f)["a"]].append(f)

# %%
fig, ax = plt.subplots(figsize=(8, 5), constrained_layout=True)
colors = plt.get_cmap("viridis")(np.linspace(0.05, 0.85, len(sgd)))
for color, a in zip(colors, sorted(sgd)):
    r = sgd[a]
    if np.any(r["diverged"]):
        print(f"a = {a:g}: diverged seeds {r['seed'][r['diverged']].tolist()} at steps "
              f"{r['diverged_step'][r['diverged']].tolist()}")
    median_band(ax, r["t"], r["mse"], label=f"SGD, a = {a:g}", color=color)
    if a in flow_by_a:
        flow = load_runs(flow_by_a[a])
        keep = flow["t"] <= r["t"][-1]
        median_band(ax, flow["t"][keep], flow["mse"][:, keep], color=color, linestyle="--", band=None)
r0 = next(iter(sgd.values()))
ax.plot([], [], "k--", label="gradient flow, same seeds")
ax.set(xscale="log", yscale="log", xlabel="t = steps x eta", ylabel="MSE", xlim=(r0["eta"], None),
       title=f"Online SGD, d = {r0['d']}, eta = {r0['eta']:g}, batch {r0['batch']}, "
             f"{len(r0['seed'])} seeds")
ax.legend(fontsize=9, loc="lower left")
save_figure(fig, out_stem)

# %%
prov = r0["provenance"]
print({k: prov[k] for k in ("package_version", "git_commit", "git_dirty", "versions")})
