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
# # Initialisation study: the same (w*, spectrum) from seven starts
#
# Starts (prdynamics.studies.init): the sphere of radius d^-1/2, 1 (the paper's) and sqrt(d),
# N(0, I/d), a warm start with u(0) = 0.1, the unit sphere of the first ten coordinates, and the
# sphere of radius d (s(0) ~ d, from far above 1/3). Every start of a seed shares its target.
# Top row: median over seeds of |u(t)| and s(t) at one (a, d). Bottom left: MSE(T2 + tau) / MSE(T2)
# against the recovery index x_d, with S_d. Bottom right: the plateau law rho T1 against
# log(1/|u(0)|), every run of every (a, d).

# %% tags=["parameters"]
# placeholders: the rule passes every parameter (papermill -y)
study_file = None
run_files = None
delta = None
eps = None
s0 = None
phase3_eps = None
x_hi = None
out_stem = None
table_stem = None

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from prdynamics.studies.init import PAPER_START, mse_ratio, phase3_taus
from prdynamics.io import load_result
from prdynamics.phases import THRESHOLD
from prdynamics.theory import S_d
from prfigures import save_figure, set_style, write_table

set_style()
study = load_result(study_file, required=("a", "d", "seed", "start", "T1", "rho_T1", "u_init"))
df = pd.DataFrame({k: v for k, v in study.items()
                   if isinstance(v, np.ndarray) and v.ndim == 1 and v.size == study["a"].size})
runs = {(float(r["a"]), int(r["d"])): r for r in (load_result(f, required=()) for f in run_files)}
a_show = 2.0 if any(a == 2.0 for a, _ in runs) else sorted(runs)[0][0]
d_show = max(d for a, d in runs if a == a_show)
run = runs[a_show, d_show]
starts = [str(s) for s in run["starts"]]
colors = dict(zip(starts, plt.get_cmap("tab10")(np.arange(len(starts)))))
t = run["t"]
print(f"panels a-c: a = {a_show:g}, d = {d_show}; {len(df)} runs in the study")

# %%
fig, axes = plt.subplots(2, 2, figsize=(13, 9.5), constrained_layout=True)
ax_u, ax_s, ax_m, ax_law = axes.ravel()
taus = phase3_taus(d_show, a_show, x_hi)
x_d = (16 * taus / np.sum(np.arange(1, d_show + 1) ** -a_show)) ** (1 / a_show)
for j, name in enumerate(starts):
    style = dict(color=colors[name], lw=2.4 if name == PAPER_START else 1.4,
                 ls="-" if name == PAPER_START else "--" if "sphere" in name else "-.")
    ax_u.plot(t, np.median(np.abs(run["u"][j]), axis=0), label=name, **style)
    ax_s.plot(t, np.median(run["s"][j], axis=0), label=name, **style)
    sub = df[(df.start == name) & (df.a == a_show) & (df.d == d_show)]
    ratios = [mse_ratio(t, run["mse"][j, k], t2, taus) for k, t2 in enumerate(sub[f"T2_eps{phase3_eps:g}"])]
    ax_m.plot(x_d, np.nanmedian(ratios, axis=0), label=name, **style)
ax_m.plot(x_d, S_d(taus, run["lam"]), color="k", lw=1, ls=":", label="S_d(tau)")
ax_u.axhline(delta, color="0.5", lw=0.8, ls=":")
ax_u.set(xscale="log", yscale="log", xlabel="t", ylabel="|u(t)| (median over seeds)",
         title=f"Overlap, a = {a_show:g}, d = {d_show} (dotted: delta)")
ax_s.axhline(THRESHOLD, color="k", lw=1, ls=":", label="s = 1/3")
ax_s.set(xscale="log", yscale="log", xlabel="t", ylabel="s(t) = w^T Q w (median over seeds)",
         title="s meets 1/3 from below, or comes down from above")
ax_m.set(xscale="log", xlabel="recovery index x_d = (16 tau / H)^(1/a)",
         ylabel="MSE(T2 + tau) / MSE(T2) (median)",
         title=f"Phase III after T2(eps = {phase3_eps:g})")
for name in starts:
    sub = df[df.start == name]
    ax_law.scatter(np.log(1 / np.abs(sub.u_init)), sub.rho_T1, s=14, color=colors[name], label=name, alpha=0.8)
plateau = df[df.start.isin(["sphere_r1", "sphere_rinvsqrtd", "gaussian"])]
x = np.log(1 / np.abs(plateau.u_init))
q, c = np.polyfit(x, plateau.rho_T1, 1)
xs = np.linspace(x.min(), x.max(), 10)
ax_law.plot(xs, c + q * xs, "k-", lw=1, label=f"fit, small starts: slope q = {q:.2f}")
ax_law.set(xlabel="log(1 / |u(0)|)", ylabel="rho_true * T1 (e-folds of the plateau)",
           title="Plateau law, every a and d")
for ax in axes.ravel():
    ax.legend(fontsize=8)
save_figure(fig, out_stem)

# %%
pattern = np.where(~df.from_above & (df.up == 1) & (df.down == 0), "once from below",
                   np.where(df.from_above & (df.down == 0), "from above, never below",
                            np.where(df.from_above, "from above, dips below", "other")))
df["threshold"] = pattern
paper = df[df.start == PAPER_START].set_index(["a", "d", "seed"])
key = list(zip(df.a, df.d, df.seed))
df["mse_T2_over_paper"] = df.mse_T2.to_numpy() / paper.loc[key, "mse_T2"].to_numpy()
df["beta_diff"] = df.beta - df.beta_paper
t2 = f"T2_eps{phase3_eps:g}"
rows = []
for (a, d, name), g in df.groupby(["a", "d", "start"], sort=True):
    rows.append({
        "a": a, "d": d, "start": name, "s(0)": g.s_init.median(), "|u(0)|": g.u_init.abs().median(),
        "T1": g.T1.median(), "T_1/3": g.T_third.median(), t2: g[t2].median(),
        "threshold": g.threshold.mode().iloc[0] + f" ({int((g.threshold == g.threshold.mode().iloc[0]).sum())}/{len(g)})",
        "MSE(T2)/paper": g.mse_T2_over_paper.median(), "Phase III gap": g.phase3_gap.median(),
        "beta": g.beta.median(), "beta - beta_paper": g.beta_diff.median(),
    })
table = pd.DataFrame(rows)
write_table(table, table_stem,
            caption="Initialisation study: medians over seeds per (a, d, start); T1 = t_min means "
                    "escaped at the start; Phase III gap = max |R/R_paper - 1| over 1 <= x_d <= x_hi d.",
            inputs={"study_file": study_file, "delta": delta, "eps": eps, "s0": s0,
                    "phase3_eps": phase3_eps, "x_hi": x_hi})
table

# %%
prov = study["provenance"]
print({k: prov[k] for k in ("package_version", "git_commit", "git_dirty", "versions")})
