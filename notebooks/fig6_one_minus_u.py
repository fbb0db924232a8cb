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
# # Figure 6: slow convergence, 1 - |u| against t
#
# log(1 - |u(t)|) against log t under population gradient flow, one panel per spectrum
# exponent a, one colour per dimension d; median over seeds with the min-max band.
# After the escape, 1 - |u| decays as a power of t while the spectral tail is learned,
# and drops once the last mode is learned (t ~ d^a H_{d,a} / 16, dotted).

# %% tags=["parameters"]
# placeholders: the rule passes every parameter (papermill -y)
flow_files = None
out_stem = None

# %%
from collections import defaultdict

import matplotlib.pyplot as plt
import numpy as np

from prdynamics.io import load_result
from prdynamics.model import full_recovery_time
from prfigures import load_runs, median_band, save_figure, set_style

set_style()
groups = defaultdict(list)
for f in flow_files:
    r = load_result(f)
    groups[(r["a"], r["d"])].append(f)
a_values = sorted({a for a, _ in groups})
d_values = sorted({d for _, d in groups})

# %%
fig, axes = plt.subplots(1, len(a_values), figsize=(5 * len(a_values), 4.3), constrained_layout=True,
                         squeeze=False)
colors = dict(zip(d_values, plt.get_cmap("plasma")(np.linspace(0.1, 0.8, len(d_values)))))
for ax, a in zip(axes[0], a_values):
    for d in d_values:
        if (a, d) not in groups:
            continue
        runs = load_runs(groups[(a, d)])
        gap = np.clip(1 - np.abs(runs["u"]), 1e-16, None)
        median_band(ax, runs["t"], gap, label=f"d = {d}", color=colors[d])
        ax.axvline(full_recovery_time(d, a), color=colors[d], linestyle=":", linewidth=1)
    ax.set(xscale="log", yscale="log", xlabel="t", ylabel="1 - |u(t)|", title=f"a = {a:g}",
           ylim=(1e-10, 2))
    ax.legend(fontsize=9, loc="lower left")
n_seeds = len(next(iter(groups.values())))
fig.suptitle(f"Slow convergence: 1 - |u| over time, {n_seeds} seeds per (a, d); dotted: d^a H/16")
save_figure(fig, out_stem)

# %%
prov = load_result(flow_files[0])["provenance"]
print({k: prov[k] for k in ("package_version", "git_commit", "git_dirty", "versions")})
