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
# The second row (config fig1.large_d) repeats it at a larger d with eta d held fixed, and adds
# |u| beside the MSE: at large d the MSE is held up by the modes not yet learned while the
# phases show in u. Without the row's files the figure is the paper's single panel.

# %% tags=["parameters"]
# placeholders: the rule passes every parameter (papermill -y)
sgd_files = None
flow_files = None
large_d_sgd_files = None
large_d_flow_files = None
out_stem = None

# %%
from collections import defaultdict

import matplotlib.pyplot as plt
import numpy as np

from prdynamics.io import load_result
from prfigures import load_runs, median_band, save_figure, set_style

set_style()
rows = []
for sgd_row, flow_row in ((sgd_files, flow_files), (large_d_sgd_files, large_d_flow_files)):
    if not sgd_row:
        continue
    flow_by_a = defaultdict(list)
    for f in flow_row or []:
        flow_by_a[load_result(f)["a"]].append(f)
    rows.append(({r["a"]: r for r in (load_result(f) for f in sgd_row)}, flow_by_a))

# %%
a_all = sorted({a for sgd, _ in rows for a in sgd})
colors = dict(zip(a_all, plt.get_cmap("viridis")(np.linspace(0.05, 0.85, len(a_all)))))
# the paper's panel on top; the second row adds |u|, where the phases show while the MSE of a large d
# still holds the unlearned modes
layout = [["mse0", "mse0"]] + [[f"mse{k}", f"u{k}"] for k in range(1, len(rows))]
fig, axes = plt.subplot_mosaic(layout, figsize=(8 if len(rows) == 1 else 11, 5 * len(rows)),
                               constrained_layout=True)
for k, (sgd, flow_by_a) in enumerate(rows):
    panels = [("mse", "MSE", "log")] + ([("u", "|u|", "linear")] if k else [])
    for a in sorted(sgd):
        r = sgd[a]
        if np.any(r["diverged"]):
            print(f"d = {r['d']}, a = {a:g}: diverged seeds {r['seed'][r['diverged']].tolist()} at steps "
                  f"{r['diverged_step'][r['diverged']].tolist()}")
        flow = load_runs(flow_by_a[a]) if a in flow_by_a else None
        keep = None if flow is None else flow["t"] <= r["t"][-1]
        for key, _, _ in panels:
            ax, value = axes[f"{key}{k}"], np.abs if key == "u" else np.asarray
            median_band(ax, r["t"], value(r[key]), label=f"SGD, a = {a:g}", color=colors[a])
            if flow is not None:
                median_band(ax, flow["t"][keep], value(flow[key][:, keep]), color=colors[a], linestyle="--",
                            band=None)
        end = (f"d = {r['d']}, a = {a:g}: median MSE at t = {r['t'][-1]:g}: "
               f"SGD {np.nanmedian(r['mse'][:, -1]):.4g}")
        if flow is not None:
            end += f", flow {np.median(flow['mse'][:, keep][:, -1]):.4g} (at t = {flow['t'][keep][-1]:g})"
        print(end)
    r0 = next(iter(sgd.values()))
    for key, label, yscale in panels:
        ax = axes[f"{key}{k}"]
        ax.plot([], [], "k--", label="gradient flow, same seeds")
        ax.set(xscale="log", yscale=yscale, xlabel="t = steps x eta", ylabel=label, xlim=(r0["t"][0], None))
        ax.set_title(f"Online SGD, d = {r0['d']}, eta = {r0['eta']:g} (eta d = {r0['eta'] * r0['d']:g}), "
                     f"batch {r0['batch']}, {len(r0['seed'])} seeds" if key == "mse"
                     else f"|u|, d = {r0['d']}", fontsize=10 if k else None)
        ax.legend(fontsize=9, loc="lower left" if key == "mse" else "upper left")
save_figure(fig, out_stem)

# %%
prov = next(iter(rows[0][0].values()))["provenance"]
print({k: prov[k] for k in ("package_version", "git_commit", "git_dirty", "versions")})
