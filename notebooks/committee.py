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
# # Committees: p students, k teachers (population flow)
#
# Left: the loss L(t) of every (p, k) at the largest a, median over seeds; p = k = 1 is the paper's
# single neuron. Middle: the learned spectrum l_r, the student's r-th strongest direction on the
# teacher span over the target's (committee.learned_spectrum; one seed, the largest p = k): l_r
# reaching learn_level (dotted) is the r-th direction learned; all are 1 at a minimum. Right: fitted
# Phase I rate over the top rate of L per (a, p, k), seed mean with its interval
# (results/claims/committee.json). All at committee.d; the committee.large_d runs are in the table.

# %% tags=["parameters"]
# placeholders: the rule passes every parameter (papermill -y)
study_file = None
flow_files = None
learn_level = None
confidence_level = None
out_stem = None
table_stem = None

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from prdynamics.committee import learned_spectrum
from prdynamics.io import load_result
from prdynamics.studies.committee import RUN_KEYS
from prdynamics.statistics import loglog_interp, mean_ci
from prfigures import save_figure, set_style, write_table

set_style()
runs = [load_result(f, required=RUN_KEYS) for f in flow_files]
d_study = min(int(r["d"]) for r in runs)  # the study's d (committee.d); committee.large_d apart
runs = [r for r in runs if int(r["d"]) == d_study]
st = load_result(study_file, required=("activation", "a", "p", "k", "d", "seed", "rate_ratio", "beta"))
quad = [r for r in runs if str(r["activation"]) == "quadratic"]
a_show = max(float(r["a"]) for r in quad)
print(f"{len(runs)} flow runs, {st['sgd_a'].size} SGD runs")

# %%
fig, (ax_l, ax_c, ax_r) = plt.subplots(1, 3, figsize=(17, 5), constrained_layout=True)
pairs = sorted({(int(r["p"]), int(r["k"]), str(r["activation"])) for r in runs if float(r["a"]) == a_show})
colors = plt.get_cmap("tab10")(np.arange(len(pairs)))
for (p, k, act), c in zip(pairs, colors, strict=True):
    sel = [r for r in runs
           if (int(r["p"]), int(r["k"]), str(r["activation"]), float(r["a"])) == (p, k, act, a_show)]
    t = sel[0]["t"]  # records differ after t0 (t0 + tau, t0 per run): each is interpolated onto one
    ax_l.plot(t, np.median([loglog_interp(r["t"], r["loss"], t) for r in sel], axis=0), color=c,
              label=f"{act} p={p} k={k}",
              linewidth=2.5 if (p, k) == (1, 1) else 1.2)
ax_l.set(xscale="log", yscale="log", xlabel="t", ylabel="L(t)",
         title=f"a = {a_show:g}, d = {d_study}: loss, median over seeds")
ax_l.legend(fontsize=8)

big = max((int(r["p"]) for r in quad if int(r["p"]) == int(r["k"]) and float(r["a"]) == a_show))
r = next(r for r in quad if int(r["p"]) == int(r["k"]) == big and float(r["a"]) == a_show)
P = (r["Wstar"] * r["lam"]) @ r["Wstar"].T
learned = learned_spectrum(r["R"], P, big, big)
for j in range(big):
    ax_c.plot(r["t"], learned[:, j], label=f"l_{j + 1}")
ax_c.axhline(learn_level, color="k", linestyle=":")
ax_c.set(xscale="log", yscale="log", ylim=(1e-6, 3), xlabel="t", ylabel="learned spectrum l_r(t)",
         title=f"a = {a_show:g}, p = k = {big}, seed {int(r['seed'])}: learning sequence")
ax_c.legend(fontsize=8)

act = np.asarray(st["activation"]).astype(str)
at_d = st["d"] == d_study
keys = sorted({(float(a), int(p), int(k)) for a, p, k, x in zip(st["a"][at_d], st["p"][at_d], st["k"][at_d],
                                                                act[at_d], strict=True) if x == "quadratic"})
rows = []
for i, (a, p, k) in enumerate(keys):
    m = (act == "quadratic") & at_d & (st["a"] == a) & (st["p"] == p) & (st["k"] == k)
    mean, lo, hi = mean_ci(st["rate_ratio"][m], confidence_level)
    ax_r.errorbar(i, mean, yerr=[[mean - lo], [hi - mean]] if np.isfinite(lo) else None, fmt="o", capsize=3)
ax_r.axhline(1.0, color="k")
ax_r.set_xticks(range(len(keys)), [f"a={a:g} p={p} k={k}" for a, p, k in keys], fontsize=7, rotation=90)
ax_r.set(ylabel="fitted Phase I rate / rho_1 (top eigenvalue of L)", title=f"Phase I rate ({confidence_level:g} t interval)")
save_figure(fig, out_stem)

# %%
cols = ["rho", "rate_ratio", "rate_allowance", "raw_ratio", "own_ratio_min", "own_ratio_max", "spread",
        "n_learned", "beta", "beta_lin", "beta_last", "beta_lin_last", "beta_own", "L_over_own", "C_over_law",
        "C_last_over_law", "T_last", "early_q", "loss_end"]
df = pd.DataFrame({k: st[k] for k in ["a", "p", "k", "d", "seed", *cols] if "over_law" not in k}
                  | {"activation": act})
df["C_over_law"] = st["C_fit"] / st["C_law"]  # Phase III constant over committee.theory.tail_constant
df["C_last_over_law"] = st["C_last"] / st["C_law"]  # the same from T_last
df["T_first"] = np.nanmin(st["T_learn"], axis=1)  # first direction learned; T_last: every one
agg = {c: (c, "mean") for c in [*cols, "T_first"]}
group = ["activation", "a", "d", "p", "k"]
table = df.groupby(group, as_index=False).agg(seeds=("seed", "size"), **agg)
table["beta_sd"] = df.groupby(group)["beta"].std().to_numpy()
table["one_minus_1_over_a"] = 1 - 1 / table["a"]
write_table(table, table_stem, caption="Committee flows: means over seeds per (activation, a, d, p, k).",
            inputs={"study_file": study_file, "flow_files": list(flow_files), "learn_level": learn_level,
                    "confidence_level": confidence_level})
table

# %%
prov = st["provenance"]
print({k: prov[k] for k in ("package_version", "git_commit", "git_dirty", "versions")})
