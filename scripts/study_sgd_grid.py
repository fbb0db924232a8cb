#!/usr/bin/env python
"""Summarise the SGD grid against the flow: stopping times, divergence, stability edge, noise floor.

Reads every SGD file of the grid (one per (batch, sigma2, eta), each with all seeds as replicas)
and the flow run of every seed; writes one npz with arrays indexed (sigma2, batch, eta, seed)
and the study's claims fragment.

Every option is required: the pipeline passes each one from config. Example (config/config.yaml's):
    python scripts/study_sgd_grid.py --sgd results/sims/sgd_grid/*/*/*.npz \\
        --flow results/sims/flow/a2_d200/seed*.npz --delta 0.01 --s0 0.05 --eps 0.1 --target-time 5 \\
        --floor-window 0.5 --edge-factor 1.5 --loss-factor 1.5 --flow-time-rtol 0.2 \\
        --out study.npz --claims claims.json
"""

from __future__ import annotations

import os

# the d^2-dimensional eigenproblems are small; threaded BLAS only oversubscribes shared cores
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
from _cli import write_claims  # noqa: E402

from prdynamics.io import load_result, provenance, save_result  # noqa: E402
from prdynamics.phases import first_upcrossing, stopping_times  # noqa: E402
from prdynamics.studies import sgd_grid as stab  # noqa: E402

TIMES = ("T1", "T_third", "T1_prime", "T2", "T_target")


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sgd", nargs="+", required=True, help="SGD result files of the grid")
    p.add_argument("--flow", nargs="+", required=True, help="flow result files, one per seed")
    p.add_argument("--delta", type=float, required=True, help="T1 level")
    p.add_argument("--s0", type=float, required=True, help="T1' margin above 1/3")
    p.add_argument("--eps", type=float, required=True, help="T2(eps)")
    p.add_argument("--target-time", type=float, required=True, help="target MSE = flow's MSE at this time")
    p.add_argument("--floor-window", type=float, required=True, help="late window t >= this * t_max")
    p.add_argument("--edge-factor", type=float, required=True, help="edge claim: factor around eta_ms")
    p.add_argument("--loss-factor", type=float, required=True,
                   help="edge claim: flow-like means a late loss within this factor of the flow's")
    p.add_argument("--flow-time-rtol", type=float, required=True, help="tolerance of the small-eta claim")
    p.add_argument("--out", required=True, help="output study .npz")
    p.add_argument("--claims", required=True, help="output claims fragment (.json)")
    args = p.parse_args(argv)
    for name in ("delta", "s0", "eps", "floor_window"):
        if not 0 < getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must lie in (0, 1), got {getattr(args, name)}")
    if not args.target_time > 0:
        p.error(f"--target-time must be positive, got {args.target_time}")
    if not args.edge_factor >= 1:
        p.error(f"--edge-factor must be >= 1, got {args.edge_factor}")
    if not args.loss_factor > 1:
        p.error(f"--loss-factor must be > 1, got {args.loss_factor}")
    if not args.flow_time_rtol > 0:
        p.error(f"--flow-time-rtol must be positive, got {args.flow_time_rtol}")
    return args


def time_to_mse(t, mse, target: float) -> float:
    """First time the MSE falls to target (linear interpolation); NaN if never."""
    return first_upcrossing(t, -np.asarray(mse, float), -target)


def run_times(t, stats, args, target: float) -> dict:
    st = stopping_times(t, stats, args.delta, [args.eps], args.s0)
    return {"T1": st["T1"], "T_third": st["T_third"], "T1_prime": st["T1_prime"],
            "T2": st[f"T2_eps{args.eps:g}"], "T_target": time_to_mse(t, stats["mse"], target)}


def main(argv=None) -> int:
    args = parse_args(argv)
    start = time.perf_counter()

    flows = {}
    for f in args.flow:
        r = load_result(f)
        flows[int(r["seed"])] = r
    runs = [load_result(f, required=("t", "s", "u", "u2", "mse", "loss", "eta", "batch", "sigma",
                                     "seed", "diverged", "diverged_step", "wstar")) for f in args.sgd]
    seeds = sorted({int(s) for r in runs for s in np.atleast_1d(r["seed"])})
    missing = sorted(set(seeds) - set(flows))
    if missing:
        raise SystemExit(f"no flow run for seeds {missing}")
    a, d = float(runs[0]["a"]), int(runs[0]["d"])
    t_max = max(float(r["t"][-1]) for r in runs)
    if not args.target_time < t_max:
        raise SystemExit(f"--target-time {args.target_time} must be below the runs' t_max {t_max}")
    sigma2s = sorted({round(float(r["sigma"]) ** 2, 12) for r in runs})
    batches = sorted({int(r["batch"]) for r in runs})
    etas = sorted({float(r["eta"]) for r in runs})
    shape = (len(sigma2s), len(batches), len(etas), len(seeds))
    index = {}
    for r in runs:
        if [int(s) for s in np.atleast_1d(r["seed"])] != seeds:
            raise SystemExit(f"a run has seeds {np.atleast_1d(r['seed']).tolist()}, expected {seeds}")
        key = (sigma2s.index(round(float(r["sigma"]) ** 2, 12)), batches.index(int(r["batch"])),
               etas.index(float(r["eta"])))
        if key in index:
            raise SystemExit(f"two files for sigma2, batch, eta = {sigma2s[key[0]]}, {batches[key[1]]}, "
                             f"{etas[key[2]]}")
        index[key] = r
    present = np.zeros(shape[:3], bool)
    for key in index:
        present[key] = True

    # flow reference per seed: stopping times and the target MSE
    target = np.empty(len(seeds))
    flow_late_loss = np.empty(len(seeds))
    flow_t = {k: np.empty(len(seeds)) for k in TIMES}
    for j, sd in enumerate(seeds):
        fr = flows[sd]
        window = (fr["t"] >= args.floor_window * t_max) & (fr["t"] <= t_max)
        flow_late_loss[j] = float(np.median(fr["loss"][window]))
        target[j] = float(np.exp(np.interp(np.log(args.target_time), np.log(fr["t"]), np.log(fr["mse"]))))
        for k, v in run_times(fr["t"], fr, args, target[j]).items():
            flow_t[k][j] = v

    # predictions per (batch, seed), from each seed's (lam, w*)
    lam = flows[seeds[0]]["lam"]
    eta_ms = np.empty((len(batches), len(seeds)))
    eta_gd = np.empty(len(seeds))
    qnorm2 = np.empty(len(seeds))
    for j, sd in enumerate(seeds):
        ws = flows[sd]["wstar"]
        eta_gd[j] = stab.gd_stability_edge(lam, ws)
        qnorm2[j] = float(np.sum((lam * ws) ** 2))
        for i, b in enumerate(batches):
            eta_ms[i, j] = stab.ms_stability_edge(lam, ws, b)
    print(f"predicted edges eta_ms (batch x seed):\n{np.round(eta_ms, 5)}\nGD edge 2/h_max: {eta_gd}",
          file=sys.stderr)

    sgd_t = {k: np.full(shape, np.nan) for k in TIMES}
    diverged = np.zeros(shape, bool)
    t_div = np.full(shape, np.nan)
    div_phase = np.full(shape, "none", dtype="<U4")
    phases_seen = np.zeros(shape, bool)
    late_loss = np.full(shape, np.nan)
    late_mse = np.full(shape, np.nan)
    for (k, i, e), r in index.items():
        late = r["t"] >= args.floor_window * float(r["t"][-1])
        for j in range(len(seeds)):
            stats = {n: r[n][j] for n in ("s", "u", "u2", "mse", "loss")}
            diverged[k, i, e, j] = bool(r["diverged"][j])
            if diverged[k, i, e, j]:
                t_div[k, i, e, j] = float(r["diverged_step"][j]) * float(r["eta"])
                div_phase[k, i, e, j] = stab.divergence_phase(t_div[k, i, e, j], flow_t["T_third"][j],
                                                              flow_t["T2"][j])
                continue
            times = run_times(r["t"], stats, args, target[j])
            for n, v in times.items():
                sgd_t[n][k, i, e, j] = v
            seq = [times[n] for n in ("T1", "T_third", "T1_prime", "T2")]
            phases_seen[k, i, e, j] = bool(np.all(np.isfinite(seq)) and np.all(np.diff(seq) >= 0))
            late_loss[k, i, e, j] = float(np.median(stats["loss"][late]))
            late_mse[k, i, e, j] = float(np.median(stats["mse"][late]))

    # noise floor: late loss of sigma2 > 0 minus that of sigma2 = 0 on the same draws (common z)
    floor = np.full(shape, np.nan)
    floor_pred = np.full(shape, np.nan)
    if 0.0 in sigma2s:
        k0 = sigma2s.index(0.0)
        for (k, i, e), r in index.items():
            if sigma2s[k] == 0.0 or (k0, i, e) not in index:
                continue
            r0 = index[(k0, i, e)]
            late = r["t"] >= args.floor_window * float(r["t"][-1])
            for j in range(len(seeds)):
                if not (diverged[k, i, e, j] or diverged[k0, i, e, j]):
                    floor[k, i, e, j] = float(np.median(r["loss"][j][late] - r0["loss"][j][late]))
    for k, s2 in enumerate(sigma2s):
        for i, b in enumerate(batches):
            for e, eta in enumerate(etas):
                for j, sd in enumerate(seeds):
                    floor_pred[k, i, e, j] = float(stab.noise_floor_loss(lam, flows[sd]["wstar"], eta, b, s2))

    # measured edge: bracket per (sigma2, batch, seed)
    lo = np.full((len(sigma2s), len(batches), len(seeds)), np.nan)
    hi = np.full_like(lo, np.nan)
    monotone = np.zeros(lo.shape, bool)
    for k in range(len(sigma2s)):
        for i in range(len(batches)):
            for j in range(len(seeds)):
                lo[k, i, j], hi[k, i, j], monotone[k, i, j] = stab.grid_bracket(etas, diverged[k, i, :, j])

    loss_ratio = late_loss / flow_late_loss
    k_min = sigma2s.index(min(sigma2s))
    claims = [
        stab.claim_stability_edge(batches, sigma2s, seeds, etas, diverged[k_min], loss_ratio[k_min], lo, hi,
                                   eta_ms, eta_gd, div_phase, args.edge_factor, args.loss_factor),
        stab.claim_phases_survive(batches, sigma2s, etas, present, diverged, phases_seen),
        stab.claim_small_eta_matches_flow(
            {n: sgd_t[n][sigma2s.index(min(sigma2s)), -1, 0] for n in TIMES},
            {n: flow_t[n] for n in TIMES}, etas[0], batches[-1], min(sigma2s), args.flow_time_rtol,
            {n: np.nanmedian(sgd_t[n][sigma2s.index(min(sigma2s)), :, 0] / flow_t[n], axis=-1)
             for n in TIMES}, batches),
    ]
    write_claims(args.claims, claims)

    arrays = {
        "a": a, "d": d, "seeds": np.asarray(seeds), "sigma2": np.asarray(sigma2s),
        "batch": np.asarray(batches), "eta": np.asarray(etas), "t_max": t_max, "lam": lam,
        "present": present, "diverged": diverged, "t_div": t_div, "div_phase": div_phase,
        "phases_seen": phases_seen, "late_loss": late_loss, "late_mse": late_mse,
        "floor": floor, "floor_pred": floor_pred, "target_mse": target,
        "flow_late_loss": flow_late_loss, "loss_ratio": loss_ratio, "loss_factor": args.loss_factor,
        "eta_ms": eta_ms, "eta_gd": eta_gd, "q_norm2": qnorm2,
        "edge_lo": lo, "edge_hi": hi, "edge_monotone": monotone,
        "delta": args.delta, "s0": args.s0, "eps": args.eps, "target_time": args.target_time,
        "floor_window": args.floor_window, "edge_factor": args.edge_factor,
        "flow_time_rtol": args.flow_time_rtol, "time_names": np.asarray(TIMES),
        **{f"sgd_{n}": v for n, v in sgd_t.items()}, **{f"flow_{n}": v for n, v in flow_t.items()},
    }
    inputs = {k: v for k, v in vars(args).items() if k not in ("out", "claims")}
    wall = round(time.perf_counter() - start, 3)
    save_result(args.out, arrays, provenance(inputs) | {"wall_seconds": wall})
    print(f"wrote {args.out} and {args.claims} in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
