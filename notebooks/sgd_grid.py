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
# # Study sgd_grid: online SGD against the flow over step size and batch size
#
# Online SGD on a grid of step sizes eta and batch sizes b, every seed run as a replica that
# shares its target and start with the population flow of that seed.
#
# * (a) every (eta, b): diverged (all or some replicas), or the median over replicas of SGD's
#   T2(eps) over the flow's (the extra time); grey ticks: the predicted edge eta_ms(b) per seed.
# * (b) MSE of one seed for every eta at b = 1, the flow dashed; x marks a divergence.
# * (c) the measured blow-up edge per seed (bar from the largest stable to the smallest diverged
#   eta within t_max), the first eta at which SGD no longer converges like the flow (triangles),
#   the mean-square edge of SGD linearised at w* (diamonds) and the GD edge 2 / h_max.
# * (d) the late loss of SGD over the flow's against eta / eta_ms(b): SGD converges like the
#   flow below the edge and not above it (the claim `sgd_grid.stability_edge`); with label noise
#   the dashed lines add the first-order noise floor eta sigma^2 tr(H) / 2b.
#
# Numbers are computed by scripts/study_sgd_grid.py; this notebook only plots and tabulates.

# %% tags=["parameters"]
# placeholders: the rule passes every parameter (papermill -y)
study_file = None
sgd_files = None
flow_files = None
stopping = None
out_stem = None
table_stem = None

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.colors import LogNorm

from prdynamics.io import load_result
from prfigures import save_figure, set_style, write_table

set_style()
st = load_result(study_file, required=("eta", "batch", "sigma2", "seeds", "diverged", "eta_ms"))
etas, batches, sigma2s, seeds = st["eta"], st["batch"], st["sigma2"], st["seeds"]
R = len(seeds)
k0 = int(np.argmin(sigma2s))  # the noiseless (or least noisy) runs
print(f"a = {st['a']:g}, d = {st['d']}, seeds {seeds.tolist()}, t_max = {st['t_max']:g}")
print("predicted edge eta_ms (rows b, columns seeds):\n", pd.DataFrame(st["eta_ms"], index=batches, columns=seeds))

# %%
fig, axes = plt.subplots(2, 2, figsize=(14, 10.5), constrained_layout=True)
ax_map, ax_mse, ax_edge, ax_floor = axes.ravel()

# (a) status map for the least noisy sigma2
ratio = np.nanmedian(st["sgd_T2"][k0] / st["flow_T2"][None, None, :], axis=-1)
n_div = st["diverged"][k0].sum(axis=-1)
norm = LogNorm(0.5, 2.0)
for i, b in enumerate(batches):
    y = np.full(len(etas), float(b))
    ok = n_div[i] == 0
    sc = ax_map.scatter(etas[ok], y[ok], c=np.clip(ratio[i, ok], 0.5, 2.0), cmap="coolwarm", norm=norm,
                        s=160, edgecolors="k", zorder=3)
    part = (n_div[i] > 0) & (n_div[i] < R)
    ax_map.scatter(etas[part], y[part], c=np.clip(ratio[i, part], 0.5, 2.0), cmap="coolwarm", norm=norm,
                   s=160, marker="s", edgecolors="r", linewidths=2, zorder=3)
    for e in np.flatnonzero(part):
        ax_map.annotate(f"{n_div[i, e]}/{R}", (etas[e], b), textcoords="offset points", xytext=(0, 11),
                        ha="center", fontsize=8, color="r")
    full = n_div[i] == R
    ax_map.scatter(etas[full], y[full], marker="X", s=140, color="k", zorder=3)
    ax_map.scatter(st["eta_ms"][i], np.full(R, b) * 0.8, marker="|", s=200, color="0.4", zorder=2)
ax_map.scatter([], [], marker="X", color="k", label="all replicas diverged")
ax_map.scatter([], [], marker="s", facecolor="w", edgecolors="r", label="some diverged (k/R)")
ax_map.scatter([], [], marker="|", s=200, color="0.4", label="predicted edge eta_ms, per seed")
fig.colorbar(sc, ax=ax_map, label="median T2(eps) SGD / flow (extra time factor)")
ax_map.set(xscale="log", yscale="log", yticks=batches, yticklabels=[str(b) for b in batches],
           ylim=(batches[0] * 0.5, batches[-1] * 12), xlabel="step size eta", ylabel="batch size b",
           title=f"Grid status, sigma^2 = {sigma2s[k0]:g}, eps = {st['eps']:g}")
ax_map.minorticks_off()
ax_map.legend(loc="upper left", fontsize=8, ncol=3)

# (b) population loss of seed index 0 at the smallest batch, every eta (it shows the phases
# better than the MSE, which the unlearned tail keeps near its start at this horizon)
runs = {}
for f in sgd_files:  # only the panel's (sigma2, batch) is needed
    if f"/b{int(batches[0])}_noise{float(sigma2s[k0]):g}/" not in f:
        continue
    r = load_result(f, required=("t", "mse", "loss", "eta", "batch", "sigma", "diverged"))
    runs[(round(float(r["sigma"]) ** 2, 12), int(r["batch"]), float(r["eta"]))] = r
flows = {int(load_result(f)["seed"]): load_result(f) for f in flow_files}
colors = plt.get_cmap("viridis")(np.linspace(0, 0.9, len(etas)))
b0 = int(batches[0])
for color, eta in zip(colors, etas):
    r = runs[(round(float(sigma2s[k0]), 12), b0, float(eta))]
    ax_mse.plot(r["t"], r["loss"][0], color=color, label=f"eta = {eta:g}")
    if r["diverged"][0]:
        last = np.flatnonzero(np.isfinite(r["loss"][0]))
        if last.size:
            ax_mse.plot(r["t"][last[-1]], min(r["loss"][0][last[-1]], 50.0), "x", color=color, ms=10, mew=2)
fr = flows[int(seeds[0])]
ax_mse.plot(fr["t"], fr["loss"], "k--", lw=2, label="flow")
ax_mse.set(xscale="log", yscale="log", xlim=(etas[0], st["t_max"]), ylim=(1e-2 * st["flow_late_loss"][0], 60),
           xlabel="t = steps x eta", ylabel="population loss L(w)",
           title=f"Seed {seeds[0]}, b = {b0}, sigma^2 = {sigma2s[k0]:g} (x: diverged, clipped at 50)")
ax_mse.legend(fontsize=7, ncol=2)

# (c) measured bracket against the prediction, per batch and seed
offsets = np.linspace(-0.12, 0.12, R)
for j in range(R):
    x = batches * np.exp(offsets[j])
    lo, hi = st["edge_lo"][k0, :, j], st["edge_hi"][k0, :, j]
    ax_edge.vlines(x, lo, hi, color=f"C{j}", lw=5, alpha=0.6,
                   label=f"seed {seeds[j]}: largest stable .. smallest diverged eta")
    ax_edge.plot(x, st["eta_ms"][:, j], "D", color=f"C{j}", mec="k", label=f"seed {seeds[j]}: eta_ms(b)")
    # first grid eta where SGD stops converging like the flow (diverged, or late loss > loss_factor x flow)
    departs = st["diverged"][k0, :, :, j] | (st["loss_ratio"][k0, :, :, j] > st["loss_factor"])
    first = [etas[np.flatnonzero(row)[0]] if row.any() else np.nan for row in departs]
    ax_edge.plot(x, first, "v", color=f"C{j}", mec="k", ms=8,
                 label=f"seed {seeds[j]}: first eta not flow-like" if j == 0 else None)
    ax_edge.axhline(st["eta_gd"][j], color=f"C{j}", ls=":", lw=1)
ax_edge.plot([], [], "k:", lw=1, label="GD edge 2 / h_max (b -> inf)")
ax_edge.set(xscale="log", yscale="log", xticks=batches, xticklabels=[str(b) for b in batches],
            xlabel="batch size b", ylabel="step size eta",
            title="Stability edge: blow-up bracket, loss of convergence, prediction")
ax_edge.set_ylim(etas[0] * 0.8, etas[-1] * 1.2)
ax_edge.legend(fontsize=7, ncol=2, loc="lower right")

# (d) late loss over the flow's against eta / eta_ms, both sigma2; with label noise the first-order
# prediction is 1 + (eta sigma^2 tr H / 2b) / (flow's late loss)
for k, s2 in enumerate(sigma2s):
    for i, b in enumerate(batches):
        x = etas[:, None] / st["eta_ms"][i][None, :]
        y = st["loss_ratio"][k, i]
        ax_floor.plot(x.ravel(), y.ravel(), "o" if s2 == sigma2s[k0] else "s", ms=5, color=f"C{i}",
                      mfc=f"C{i}" if s2 == sigma2s[k0] else "none", alpha=0.8,
                      label=f"b = {b}, sigma^2 = {s2:g}")
        if s2 > 0:
            pred = 1 + st["floor_pred"][k, i] / st["flow_late_loss"][None, :]
            order = np.argsort(x[:, 0])
            ax_floor.plot(x[order, 0], np.median(pred, axis=-1)[order], "--", color=f"C{i}", lw=1,
                          label=f"b = {b}: 1 + noise floor / flow loss")
ax_floor.axhline(st["loss_factor"], color="k", lw=1, ls=":", label="loss_factor of the claim")
for v in (1 / st["edge_factor"], 1.0, st["edge_factor"]):
    ax_floor.axvline(v, color="0.4", lw=1 if v == 1 else 0.6, ls="-" if v == 1 else "--")
ax_floor.set(xscale="log", yscale="log", xlabel="eta / eta_ms(b)  (grey: 1 and the claim's factor)",
             ylabel="late loss SGD / flow (same seed)",
             title=f"Late loss (t >= {st['floor_window']:g} t_max) against the predicted edge")
ax_floor.legend(fontsize=7, ncol=2, loc="upper left")
save_figure(fig, out_stem)

# %% [markdown]
# Table: one row per (sigma^2, b, eta). Ratios are SGD over flow for the same seed, median over
# the replicas that did not diverge; `extra_T2` is the median of T2(SGD) - T2(flow); `loss_ratio`
# is the late loss over the flow's; `floor` the late loss with label noise minus without it (same
# input draws) and `floor_pred` its first-order prediction eta sigma^2 tr(H) / 2b.

# %%
rows = []
for k, s2 in enumerate(sigma2s):
    for i, b in enumerate(batches):
        for e, eta in enumerate(etas):
            dv = st["diverged"][k, i, e]
            ph = st["div_phase"][k, i, e]
            row = {"sigma2": s2, "batch": int(b), "eta": eta,
                   "eta_over_eta_ms": float(np.median(eta / st["eta_ms"][i])),
                   "diverged": f"{int(dv.sum())}/{R}",
                   "divergence_phases": ",".join(sorted(set(ph[ph != "none"]))) or "-",
                   "three_phases": f"{int(st['phases_seen'][k, i, e].sum())}/{R}"}
            with np.errstate(all="ignore"):
                for n in ("T1", "T_third", "T2", "T_target"):
                    v = st[f"sgd_{n}"][k, i, e] / st[f"flow_{n}"]
                    row[f"{n}_ratio"] = float(np.nanmedian(v)) if np.isfinite(v).any() else np.nan
                x = st["sgd_T2"][k, i, e] - st["flow_T2"]
                row["extra_T2"] = float(np.nanmedian(x)) if np.isfinite(x).any() else np.nan
                for n in ("late_mse", "late_loss", "loss_ratio", "floor", "floor_pred"):
                    v = st[n][k, i, e]
                    row[n] = float(np.nanmedian(v)) if np.isfinite(v).any() else np.nan
            rows.append(row)
table = pd.DataFrame(rows)
inputs = {"delta": stopping["delta"], "eps": stopping["eps"], "s0": stopping["s0"],
          "T2_eps": st["eps"], "study_file": study_file, "study_inputs": st["provenance"]["inputs"],
          "git_commit": st["provenance"]["git_commit"]}
write_table(table, table_stem, inputs=inputs,
            caption=f"Online SGD over (sigma^2, b, eta), a = {st['a']:g}, d = {st['d']}, {R} seeds, "
                    f"t_max = {st['t_max']:g}; T2 at eps = {st['eps']:g}.")
table

# %%
prov = st["provenance"]
print({k: prov[k] for k in ("package_version", "git_commit", "git_dirty", "versions")})
