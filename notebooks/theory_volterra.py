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
# # The Volterra reduction against the simulated u(t)
#
# Left: |u(t)| of each flow run (solid), the Phase I Volterra form with Theta(t) = t (dashed,
# drawn while s <= s_phase1, where it is meant to hold) and the exact form with
# Theta(t) = int_0^t (1 - 3 s) fed the simulated s(t) (dotted). Middle: the exact form's
# absolute error |u_Volterra - u| over all three phases. Right: Phase IIb, Delta = 1 - u from
# T1' on, solved from its own Volterra equation (kernel K_Theta(t, tau)), against 1 - |u| of the
# simulation.

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
th = load_result(theory_file, required=("seed", "phase1_rel_err", "theta_abs_err", "delta_abs_err"))
seeds = [int(s) for s in th["seed"]]
for s, p1, ex, de in zip(seeds, th["phase1_rel_err"], th["theta_abs_err"], th["delta_abs_err"]):
    print(f"seed {s}: Phase I form max relative error {p1:.3g}; exact form max abs error {ex:.3g}; "
          f"Phase IIb max abs error {de:.3g}")

# %%
fig, (ax, ax_err, ax_d) = plt.subplots(1, 3, figsize=(18, 4.5), constrained_layout=True)
for k, s in enumerate(seeds):
    t, u = th[f"t_seed{s}"][1:], np.abs(th[f"u_sim_seed{s}"][1:])
    color = f"C{k}"
    ax.plot(t, u, color=color, label=f"seed {s}")
    ax.plot(t, np.abs(th[f"u_phase1_seed{s}"][1:]), "--", color=color)
    ax.plot(t, np.abs(th[f"u_exact_seed{s}"][1:]), ":", color="k", linewidth=1)
    ax_err.plot(t, np.abs(th[f"u_exact_seed{s}"][1:] - th[f"u_sim_seed{s}"][1:]) + 1e-18, color=color)
    ax_d.plot(t, 1 - u, color=color)
    ax_d.plot(t, th[f"delta_seed{s}"][1:], ":", color="k", linewidth=1)
ax.plot([], [], "k--", label="Phase I form")
ax.plot([], [], "k:", label="exact-Theta form")
ax.set(xscale="log", yscale="log", xlabel="t", ylabel="|u(t)|", ylim=(1e-4, 2),
       title=f"a = {th['a'][0]:g}, d = {int(th['d'][0])}")
ax.legend(fontsize=8)
ax_err.set(xscale="log", yscale="log", xlabel="t", ylabel="|u_Volterra - u| (exact form)",
           ylim=(1e-12, 1e-3))
ax_d.plot([], [], "k:", label="Phase IIb Volterra, from T1'")
ax_d.set(xscale="log", yscale="log", xlabel="t", ylabel="Delta = 1 - |u|", ylim=(1e-8, 1.5),
         title="Phase IIb: Delta equation against 1 - |u|")
ax_d.legend(fontsize=8)
save_figure(fig, out_stem)

# %%
prov = th["provenance"]
print({k: prov[k] for k in ("package_version", "git_commit", "git_dirty", "versions")})
