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
# # Escape theory against the escape runs
#
# Left: the measured escape time T1 (|u|, s, |u^(2)| above delta) against log d, median over
# seeds with the min-max band, and the linear fit per a (the claim `escape.log_d`).
# Right: the Phase I growth rate fitted on each run divided by rho_true, the root above
# 4 lam_1 of 1 = 8 sum (w*_i)^2 lam_i^2 / (rho - 4 lam_i) (the claim `escape.rate`). The fit
# window follows one rule for every run: t >= 1/(rho - 4 lam_1), s <= s_max; runs whose window
# holds fewer than 5 samples are left out (listed below).

# %% tags=["parameters"]
# placeholders: the rule passes every parameter (papermill -y)
theory_file = None
out_stem = None

# %%
import matplotlib.pyplot as plt
import numpy as np

from prdynamics.io import load_result
from prfigures import save_figure, set_style

set_style()
th = load_result(theory_file, required=("a", "d", "T1", "rho_fit", "rho_true"))
a_values = sorted(set(th["a"].tolist()))
d_values = sorted(set(th["d"].tolist()))
ratio = th["rho_fit"] / th["rho_true"]
print(f"{int(np.sum(~np.isfinite(ratio)))} of {ratio.size} runs have no fit window (escape too fast)")

# %%
fig, (ax_t, ax_r) = plt.subplots(1, 2, figsize=(13, 4.5), constrained_layout=True)
colors = dict(zip(a_values, plt.get_cmap("viridis")(np.linspace(0.1, 0.85, len(a_values)))))
for a in a_values:
    med, lo, hi = [], [], []
    for d in d_values:
        t1 = th["T1"][(th["a"] == a) & (th["d"] == d)]
        med.append(np.median(t1)), lo.append(t1.min()), hi.append(t1.max())
    x = np.log(d_values)
    ax_t.plot(d_values, med, "o-", color=colors[a], label=f"a = {a:g}")
    ax_t.fill_between(d_values, lo, hi, color=colors[a], alpha=0.2, linewidth=0)
    slope, icpt = np.polyfit(x, med, 1)
    ax_t.plot(d_values, icpt + slope * x, ":", color=colors[a])
    print(f"a = {a:g}: median T1 = {np.round(med, 4).tolist()}, fit slope {slope:.4f} per log d")
    for k, d in enumerate(d_values):
        r = ratio[(th["a"] == a) & (th["d"] == d)]
        r = r[np.isfinite(r)]
        ax_r.scatter(np.full(r.size, d) * (1 + 0.06 * (k % 2 - 0.5) + 0.04 * (a - 2)), r,
                     color=colors[a], s=18, label=f"a = {a:g}" if k == 0 else None)
ax_t.set(xscale="log", xlabel="d", ylabel="T1", title="Escape time grows like log d")
ax_t.legend()
ax_r.axhline(1.0, color="k", linewidth=1)
ax_r.axhspan(0.95, 1.05, color="0.85", zorder=0, label="5% band")
ax_r.set(xscale="log", xlabel="d", ylabel="fitted rate / rho_true", title="Phase I growth rate")
ax_r.legend(fontsize=9)
save_figure(fig, out_stem)

# %%
prov = th["provenance"]
print({k: prov[k] for k in ("package_version", "git_commit", "git_dirty", "versions")})
