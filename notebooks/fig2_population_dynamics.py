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
# # Figure 2: population dynamics for a = 2
#
# MSE, overlap |u| = |w^T Q w*| and self-overlap s = w^T Q w under population gradient
# flow, median over seeds with the min-max band. Dashed: median of the paper's fixed-step
# population GD (eta = 1e-2) on the same seeds, run up to its own final time. Vertical lines mark the
# median stopping times: T1 (|u|, s, |u^(2)| > delta), T_{1/3} (s crosses 1/3) and
# T2(eps) (s and |u| within eps of 1). |u| is shown because the flow converges to
# +w* or -w* depending on the sign of u(0).

# %% tags=["parameters"]
# placeholders: the rule passes every parameter (papermill -y)
flow_files = None
gd_files = None
delta = None
eps = None
out_stem = None

# %%
import matplotlib.pyplot as plt
import numpy as np

from prdynamics.phases import THRESHOLD, convergence_time, escape_time, threshold_time
from prfigures import load_runs, median_band, save_figure, set_style

set_style()
flow = load_runs(flow_files)
gd = load_runs(gd_files)
a, d = flow["runs"][0]["a"], flow["runs"][0]["d"]

# %% [markdown]
# Stopping times per seed (the figure marks their medians).

# %%
times = {
    "T1": [escape_time(flow["t"], s, u, u2, delta) for s, u, u2 in zip(flow["s"], flow["u"], flow["u2"])],
    "T_1/3": [threshold_time(flow["t"], s) for s in flow["s"]],
    f"T2({eps:g})": [convergence_time(flow["t"], s, u, eps) for s, u in zip(flow["s"], flow["u"])],
}
for name, values in times.items():
    print(f"{name:>10}: " + "  ".join(f"{v:10.4g}" for v in values))

# %% [markdown]
# GD against the flow: largest difference of s, |u| and MSE on GD's recording times
# (the flow is interpolated in log t), per seed.

# %%
def flow_at(times_, t_flow, values):
    return np.interp(np.log(times_), np.log(t_flow), values)

gd_gap = {}
for key in ("s", "u", "mse"):
    gaps = []
    for run_f, run_g in zip(flow["runs"], gd["runs"]):
        ref = flow_at(run_g["t"], run_f["t"], np.abs(run_f[key]))
        gaps.append(np.max(np.abs(np.abs(run_g[key]) - ref)))
    gd_gap[key] = max(gaps)
    print(f"max |GD - flow| in {key}: {gd_gap[key]:.3g}")

# %%
fig, axes = plt.subplots(1, 3, figsize=(15, 4.3), constrained_layout=True)
panels = [("mse", "MSE"), ("u", "|u(t)|"), ("s", "s(t)")]
for ax, (key, label) in zip(axes, panels):
    median_band(ax, flow["t"], np.abs(flow[key]), label="gradient flow", color="C0")
    median_band(ax, gd["t"], np.abs(gd[key]), label=f"GD, eta = {gd['runs'][0]['eta']:g}",
                color="C3", linestyle="--", band=None)
    for (name, values), color in zip(times.items(), ("C2", "C1", "C4")):
        ax.axvline(np.nanmedian(values), color=color, linestyle=":", linewidth=1.5, label=name)
    ax.set(xscale="log", yscale="log", xlabel="t", ylabel=label)
axes[2].axhline(THRESHOLD, color="k", linewidth=1, label="s = 1/3")
axes[0].legend(fontsize=9, loc="lower left")
axes[2].legend(fontsize=9, loc="lower right")
fig.suptitle(f"Population dynamics, a = {a:g}, d = {d}, {len(flow['runs'])} seeds (median, min-max band)")
save_figure(fig, out_stem)

# %% [markdown]
# Provenance of the inputs.

# %%
prov = flow["runs"][0]["provenance"]
print({k: prov[k] for k in ("package_version", "git_commit", "git_dirty", "versions")})
print("inputs of seed", flow["runs"][0]["seed"], ":", prov["inputs"])
