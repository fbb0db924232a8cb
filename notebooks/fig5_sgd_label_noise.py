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
# The second row (config fig5.large_d) repeats it at a larger d with eta d held fixed, and adds
# |u| beside the MSE: at large d the MSE is held up by the modes not yet learned while the
# phases show in u. Without the row's files the figure is the paper's single panel.

# %% tags=["parameters"]
# placeholders: the rule passes every parameter (papermill -y)
sgd_files = None
large_d_sgd_files = None
out_stem = None

# %%
import matplotlib.pyplot as plt
import numpy as np

from prdynamics.io import load_result
from prfigures import median_band, save_figure, set_style

set_style()
rows = [sorted((load_result(f) for f in files), key=lambda r: r["a"])
        for files in (sgd_files, large_d_sgd_files) if files]

# %%
a_all = sorted({r["a"] for runs in rows for r in runs})
colors = dict(zip(a_all, plt.get_cmap("magma")(np.linspace(0.15, 0.75, len(a_all)))))
# the paper's panel on top; the second row adds |u|, where the escape shows while the MSE of a large d
# still holds the unlearned modes
layout = [["mse0", "mse0"]] + [[f"mse{k}", f"u{k}"] for k in range(1, len(rows))]
fig, axes = plt.subplot_mosaic(layout, figsize=(8 if len(rows) == 1 else 11, 5 * len(rows)),
                               constrained_layout=True)
for k, runs in enumerate(rows):
    panels = [("mse", "MSE", "log")] + ([("u", "|u|", "linear")] if k else [])
    for r in runs:
        if np.any(r["diverged"]):
            print(f"d = {r['d']}, a = {r['a']:g}: diverged seeds {r['seed'][r['diverged']].tolist()}")
        for key, _, _ in panels:
            value = np.abs(r[key]) if key == "u" else r[key]
            median_band(axes[f"{key}{k}"], r["t"], value, label=f"a = {r['a']:g}", color=colors[r["a"]])
        late = r["t"] >= 0.5 * r["t"][-1]
        print(f"d = {r['d']}, a = {r['a']:g}: median MSE over the last half of the run = "
              f"{np.nanmedian(r['mse'][:, late]):.4g}")
    r0 = runs[0]
    for key, label, yscale in panels:
        ax = axes[f"{key}{k}"]
        ax.set(xscale="log", yscale=yscale, xlabel="t = steps x eta", ylabel=label, xlim=(r0["t"][0], None))
        ax.set_title(f"SGD with label noise sigma^2 = {r0['sigma'] ** 2:.3g}, d = {r0['d']}, "
                     f"eta = {r0['eta']:g} (eta d = {r0['eta'] * r0['d']:g}), {len(r0['seed'])} seeds"
                     if key == "mse" else f"|u|, d = {r0['d']}", fontsize=9 if k else None)
        ax.legend()
save_figure(fig, out_stem)

# %%
prov = rows[0][0]["provenance"]
print({k: prov[k] for k in ("package_version", "git_commit", "git_dirty", "versions")})
