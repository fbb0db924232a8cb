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
# # Figure 3: larger a escapes faster
#
# |u(t)| under population gradient flow at fixed d for several spectrum exponents a,
# median over seeds with the min-max band; dotted lines mark the median T1 (|u|, s and
# |u^(2)| all above delta) of each a. Runs that differ only in a share their Gaussian
# draws (the same g for w* and the same start). Part of the head start of large a is
# already in u(0) = w0^T Q w*, which weights the top coordinates more as a grows.

# %% tags=["parameters"]
# placeholders: the rule passes every parameter (papermill -y)
flow_files = None
delta = None
out_stem = None

# %%
from collections import defaultdict

import matplotlib.pyplot as plt
import numpy as np

from prdynamics.io import load_result
from prdynamics.phases import escape_time
from prfigures import load_runs, median_band, save_figure, set_style

set_style()
groups = defaultdict(list)
for f in flow_files:
    groups[load_result(f)["a"]].append(f)

# %%
fig, ax = plt.subplots(figsize=(7, 4.5), constrained_layout=True)
palette = plt.get_cmap("viridis")(np.linspace(0.1, 0.85, len(groups)))
for color, a in zip(palette, sorted(groups)):
    runs = load_runs(groups[a])
    t1 = [escape_time(runs["t"], s, u, u2, delta) for s, u, u2 in zip(runs["s"], runs["u"], runs["u2"])]
    median_band(ax, runs["t"], np.abs(runs["u"]), label=f"a = {a:g} (median T1 = {np.median(t1):.3g})",
                color=color)
    ax.axvline(np.median(t1), color=color, linestyle=":", linewidth=1.5)
    print(f"a = {a:g}: T1 per seed = {np.round(t1, 4).tolist()}")
d = runs["runs"][0]["d"]
ax.set(xscale="log", yscale="log", xlabel="t", ylabel="|u(t)|", xlim=(1e-2, 1e3),
       title=f"Escape from the equator, d = {d}, {len(runs['runs'])} seeds per a")
ax.legend(fontsize=9, loc="lower right")
save_figure(fig, out_stem)

# %%
prov = runs["runs"][0]["provenance"]
print({k: prov[k] for k in ("package_version", "git_commit", "git_dirty", "versions")})
