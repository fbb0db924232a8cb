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
# # Figure 5: online SGD with label noise
#
# MSE of online SGD with label noise xi ~ N(0, sigma^2), sigma^2 = 0.05, for a in
# {0.5, 1, 1.5} (below the theory's a > 1 and just above it), d = 1000, eta = 1e-3, batch 1;
# median over seeds with the min-max band. With noisy labels the per-sample gradient no
# longer vanishes at w*, so SGD stalls at a noise floor instead of learning the tail.

# %% tags=["parameters"]
# placeholders: the rule passes every parameter (papermill -y)
sgd_files = None
out_stem = None

# %%
import matplotlib.pyplot as plt
import numpy as np

from prdynamics.io import load_result
from prfigures import median_band, save_figure, set_style

set_style()
runs = sorted((load_result(f) for f in sgd_files), key=lambda r: r["a"])

# %%
fig, ax = plt.subplots(figsize=(8, 5), constrained_layout=True)
colors = plt.get_cmap("magma")(np.linspace(0.15, 0.75, len(runs)))
for color, r in zip(colors, runs):
    if np.any(r["diverged"]):
        print(f"a = {r['a']:g}: diverged seeds {r['seed'][r['diverged']].tolist()}")
    median_band(ax, r["t"], r["mse"], label=f"a = {r['a']:g}", color=color)
    late = r["t"] >= 0.5 * r["t"][-1]
    print(f"a = {r['a']:g}: median MSE over the last half of the run = {np.nanmedian(r['mse'][:, late]):.4g}")
r0 = runs[0]
ax.set(xscale="log", yscale="log", xlabel="t = steps x eta", ylabel="MSE", xlim=(r0["eta"], None),
       title=f"SGD with label noise sigma^2 = {r0['sigma'] ** 2:.3g}, d = {r0['d']}, eta = {r0['eta']:g}, "
             f"{len(r0['seed'])} seeds")
ax.legend()
save_figure(fig, out_stem)

# %%
prov = r0["provenance"]
print({k: prov[k] for k in ("package_version", "git_commit", "git_dirty", "versions")})
