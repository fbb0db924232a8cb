#!/usr/bin/env python
"""Initialisation study summary: per-run stopping times, threshold passages and Phase III gaps
from the results/sims/init runs; writes results/studies/init.npz and the study's claims.

Every option is required: the pipeline passes each one from config. Example (config/config.yaml's):
    python scripts/study_init.py results/sims/init/*.npz --delta 0.01 --eps 0.1 0.05 0.01 --s0 0.05 \
        --phase3-eps 0.01 --x-hi 0.25 --overlap-draws 200 --base-seed 0 --p-min 0.25 --escaped-max 0.5 \
        --phase3-rtol 0.1 --beta-atol 0.1 --out results/studies/init.npz --claims results/claims/init.json
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
from _cli import write_claims

from prdynamics.io import load_result, provenance, save_result
from prdynamics.phases import stopping_times
from prdynamics.studies import init
from prdynamics.studies.init import (
    PAPER_START,
    decay_exponent,
    mse_ratio,
    overlap_rms,
    phase3_gap,
    phase3_taus,
    threshold_passages,
)


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("runs", nargs="+", help="simulate_init.py npz files")
    p.add_argument("--delta", type=float, required=True, help="T1 level of |u|, s, |u^(2)|")
    p.add_argument("--eps", type=float, nargs="+", required=True, help="T2(eps) tolerances")
    p.add_argument("--s0", type=float, required=True, help="T1' margin above 1/3")
    p.add_argument("--phase3-eps", type=float, required=True, help="Phase III starts at T2(phase3-eps)")
    p.add_argument("--x-hi", type=float, required=True, help="Phase III window: 1 <= x_d <= x_hi d")
    p.add_argument("--p-min", type=float, required=True, help="T1 grows like log d when p >= p-min")
    p.add_argument("--escaped-max", type=float, required=True,
                   help="a start has a plateau when at most this fraction of runs is past T1's levels"
                        " at t_min")
    p.add_argument("--phase3-rtol", type=float, required=True, help="universal Phase III: gap <= this")
    p.add_argument("--beta-atol", type=float, required=True, help="... and |beta - beta_paper| <= this")
    p.add_argument("--overlap-draws", type=int, required=True,
                   help="draws of each start per (a, d) for the d-scaling of |u(0)| (no integration)")
    p.add_argument("--base-seed", type=int, required=True, help="project-wide base seed")
    p.add_argument("--out", required=True, help="output summary .npz")
    p.add_argument("--claims", required=True, help="output claims fragment .json")
    args = p.parse_args(argv)
    if args.overlap_draws < 2:
        p.error(f"--overlap-draws must be >= 2, got {args.overlap_draws}")
    if args.phase3_eps not in args.eps:
        p.error(f"--phase3-eps {args.phase3_eps} must be one of --eps {args.eps}")
    return args


def summarise(run: dict, args) -> dict[str, list]:
    """One row per (start, seed) of one (a, d) file."""
    t, a, d = run["t"], float(run["a"]), int(run["d"])
    starts, seeds = [str(s) for s in run["starts"]], np.atleast_1d(run["seed"])
    taus = phase3_taus(d, a, args.x_hi) if a > 0 else np.array([])
    ref = starts.index(PAPER_START) if PAPER_START in starts else None
    rows: dict[str, list] = {}
    ratios = {}
    for j, name in enumerate(starts):
        for k, seed in enumerate(seeds):
            stats = {key: run[key][j, k] for key in ("s", "u", "u2", "mse", "loss")}
            ok = not bool(run["diverged"][j, k]) and np.all(np.isfinite(stats["s"]))
            times = stopping_times(t, stats, args.delta, args.eps, args.s0) if ok else {}
            t2 = times.get(f"T2_eps{args.phase3_eps:g}", np.nan)
            ratio = mse_ratio(t, stats["mse"], t2, taus) if ok and taus.size else np.full(taus.shape, np.nan)
            ratios[j, k] = ratio
            passages = threshold_passages(stats["s"], run["s_init"][j, k]) if ok else {}
            row = {
                "a": a, "d": d, "seed": int(seed), "start": name, "ok": ok,
                "s_init": float(run["s_init"][j, k]), "u_init": float(run["u_init"][j, k]),
                "norm_init": float(run["norm_init"][j, k]), "rho_true": float(run["rho_true"][k]),
                "t_first": float(t[0]),
                **{key: float(times.get(key, np.nan)) for key in ("T1", "T_third", "T1_prime")},
                **{f"T2_eps{e:g}": float(times.get(f"T2_eps{e:g}", np.nan)) for e in args.eps},
                "from_above": bool(passages.get("from_above", False)), "up": int(passages.get("up", -1)),
                "down": int(passages.get("down", -1)),
                "final_above": bool(passages.get("final_above", False)),
                "min_margin": float(passages.get("min_margin", np.nan)),
                "mse_T2": value_at(t, stats["mse"], t2) if ok else np.nan,
                "beta": decay_exponent(t, stats["loss"], t2, taus) if ok and taus.size else np.nan,
            }
            for key, value in row.items():
                rows.setdefault(key, []).append(value)
    # gaps to the paper's start of the same seed (same target)
    for j, _ in enumerate(starts):
        for k, _ in enumerate(seeds):
            gap = phase3_gap(ratios[j, k], ratios[ref, k]) if ref is not None and taus.size else np.nan
            rows.setdefault("phase3_gap", []).append(gap)
            beta_ref = rows["beta"][ref * len(seeds) + k] if ref is not None else np.nan
            rows.setdefault("beta_paper", []).append(beta_ref)
    return rows


def value_at(t, mse, t2):
    """MSE at T2, log-log interpolated."""
    if not np.isfinite(t2):
        return np.nan
    return float(np.exp(np.interp(np.log(t2), np.log(t), np.log(mse))))


def main(argv=None) -> int:
    args = parse_args(argv)
    table: dict[str, list] = {}
    for path in args.runs:
        run = load_result(path, required=("t", "s", "u", "u2", "mse", "loss", "a", "d", "seed", "starts",
                                          "s_init", "u_init", "norm_init", "rho_true", "diverged"))
        for key, values in summarise(run, args).items():
            table.setdefault(key, []).extend(values)
        print(f"{path}: {len(run['starts'])} starts x {np.size(run['seed'])} seeds", file=sys.stderr)
    arrays = {key: np.asarray(v) for key, v in table.items()}
    overlaps: dict[str, list] = {"a": [], "d": [], "start": [], "rms": []}
    for a, d in sorted(set(zip(arrays["a"].tolist(), arrays["d"].tolist(), strict=True))):
        for name in sorted(set(arrays["start"].tolist())):
            overlaps["a"].append(a), overlaps["d"].append(d), overlaps["start"].append(name)
            overlaps["rms"].append(overlap_rms(a, int(d), name, range(args.overlap_draws), args.base_seed))
    arrays |= {f"overlap_{k}": np.asarray(v) for k, v in overlaps.items()}
    arrays["rho_T1"] = arrays["rho_true"] * arrays["T1"]
    inputs = {k: v for k, v in vars(args).items() if k not in ("out", "claims")}
    save_result(args.out, arrays, provenance(inputs))
    claims = [
        init.claim_escape_needs_small_start(arrays, overlaps, args.p_min, args.escaped_max),
        init.claim_threshold(arrays),
        init.claim_phase3_universal(arrays, args.phase3_rtol, args.beta_atol, args.x_hi, args.phase3_eps),
    ]
    write_claims(args.claims, claims)
    return 0


if __name__ == "__main__":
    sys.exit(main())
