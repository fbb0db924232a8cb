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
# # Tables: stopping times and the s = 1/3 threshold
#
# Over every population-flow run of the paper figures:
#
# * `stopping_times`: T1 (|u|, s, |u^(2)| > delta), T_1/3 (s crosses 1/3), T1' (from then on
#   s >= 1/3 + s0) and T2(eps) (s, |u| within eps of 1), mean and standard deviation over
#   seeds per (a, d). Times are resolved to the output grid.
# * `threshold_check`: per run, the number of upward crossings of s = 1/3, the smallest
#   s - 1/3 after the first crossing (the measured s0), and pass (one crossing, margin > 0).

# %% tags=["parameters"]
# placeholders: the rule passes every parameter (papermill -y)
flow_files = None
delta = None
eps = None
s0 = None
out_stems = None

# %%
import pandas as pd

from prdynamics.io import load_result
from prdynamics.phases import stopping_times, threshold_report
from prfigures import write_table

rows, checks = [], []
for f in flow_files:
    r = load_result(f)
    rows.append({"a": r["a"], "d": r["d"], "seed": r["seed"],
                 **stopping_times(r["t"], r, delta, eps, s0)})
    rep = threshold_report(r["t"], r["s"])
    checks.append({"a": r["a"], "d": r["d"], "seed": r["seed"], "crossings": rep["crossings"],
                   "min_s_minus_third": rep["min_margin"],
                   "passed": rep["crossings"] == 1 and rep["min_margin"] > 0})
per_run = pd.DataFrame(rows)
time_cols = [c for c in per_run.columns if c.startswith("T")]
summary = per_run.groupby(["a", "d"])[time_cols].agg(["mean", "std"])
summary.columns = [f"{c}_{stat}" for c, stat in summary.columns]
summary.insert(0, "n_seeds", per_run.groupby(["a", "d"]).size())
summary = summary.reset_index()
summary

# %%
threshold = pd.DataFrame(checks).sort_values(["a", "d", "seed"]).reset_index(drop=True)
print(f"{threshold['passed'].sum()} of {len(threshold)} runs cross s = 1/3 once and stay above")
threshold

# %% [markdown]
# Provenance: the parameters above, and for every source run its file, seed, inputs and git commit.

# %%
sources = []
for f in flow_files:
    prov = load_result(f)["provenance"]
    sources.append({"file": f, "seed": prov["inputs"]["seed"], "inputs": prov["inputs"],
                    "git_commit": prov["git_commit"], "git_dirty": prov["git_dirty"]})
inputs = {"delta": delta, "eps": eps, "s0": s0, "sources": sources}
write_table(summary, out_stems["stopping_times"], inputs=inputs,
            caption=f"Stopping times over seeds (delta = {delta}, s0 = {s0}, eps = {eps}).")
write_table(threshold, out_stems["threshold_check"], inputs=inputs,
            caption="Crossings of s = 1/3 per population run.")
print({k: sources[0][k] for k in ("git_commit", "git_dirty")}, "of", len(sources), "source runs")
