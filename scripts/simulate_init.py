#!/usr/bin/env python
"""Gradient flow from several starts (initialisation study) for one (a, d); writes one npz.

Every start of a seed shares that seed's target w* (seeding.problem); see
prdynamics.studies.init for the starts and their random streams. Statistics have shape
(starts, seeds, times); a run whose integration fails is recorded as NaN with diverged = True.

Every option but --starts is required: the pipeline passes each one from config
(workflow/pipeline.py). Example:
    python scripts/simulate_init.py --a 2 --d 1000 --seeds 0 1 2 --base-seed 0 --t-max 1e6 \
        --t-min 1e-3 --points-per-decade 40 --rtol 1e-7 --atol 1e-12 --out x.npz
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
from _cli import check_run_arguments, check_seed_list, finite_float, memory_refused, npz_output

from prdynamics.flow import STAT_NAMES, StepController, integrate_flow, log_time_grid
from prdynamics.io import provenance, save_result
from prdynamics.seeding import problem
from prdynamics.studies.init import initial_statistics, start_state, study_starts
from prdynamics.theory import escape_rate


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--a", type=finite_float, required=True, help="spectrum exponent, a >= 0")
    p.add_argument("--d", type=int, required=True, help="dimension, d >= 3")
    p.add_argument("--seeds", type=int, nargs="+", required=True, help="run seeds (targets)")
    p.add_argument("--starts", nargs="+", default=None,
                   help="start names (default: every start of prdynamics.studies.init.study_starts)")
    p.add_argument("--base-seed", type=int, required=True, help="project-wide base seed")
    p.add_argument("--t-max", type=finite_float, required=True, help="final time")
    p.add_argument("--t-min", type=finite_float, required=True, help="first output time")
    p.add_argument("--points-per-decade", type=int, required=True, help="output grid resolution")
    p.add_argument("--rtol", type=finite_float, required=True, help="flow: relative tolerance")
    p.add_argument("--atol", type=finite_float, required=True, help="flow: absolute tolerance")
    p.add_argument("--out", type=npz_output, required=True, help="output .npz")
    args = p.parse_args(argv)
    check_run_arguments(p, args, d_min=3, why=" (the warm start needs it)")
    check_seed_list(p, args.seeds, args.base_seed, "--seeds")
    known = list(study_starts(args.d))
    args.starts = args.starts or known
    unknown = [s for s in args.starts if s not in known]
    if unknown:
        p.error(f"unknown --starts {unknown}; choose from {known}")
    if not args.t_max > args.t_min > 0:
        p.error(f"need 0 < --t-min < --t-max, got {args.t_min}, {args.t_max}")
    if args.points_per_decade < 1:
        p.error(f"--points-per-decade must be >= 1, got {args.points_per_decade}")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    if memory_refused(args.d):
        return 2
    a, d = args.a, args.d
    t_max = args.t_max
    t_eval = log_time_grid(args.t_min, t_max, args.points_per_decade)
    ctl = StepController(rtol=args.rtol, atol=args.atol)
    n_st, n_se, n_t = len(args.starts), len(args.seeds), len(t_eval)
    stats = {name: np.full((n_st, n_se, n_t), np.nan) for name in STAT_NAMES}
    init = {k: np.empty((n_st, n_se)) for k in ("s", "u", "u2", "norm")}
    w0_all, w_final = np.empty((n_st, n_se, d)), np.full((n_st, n_se, d), np.nan)
    wstars, rho = np.empty((n_se, d)), np.empty(n_se)
    diverged = np.zeros((n_st, n_se), bool)
    n_steps = np.zeros((n_st, n_se), np.int64)
    n_rejected = np.zeros((n_st, n_se), np.int64)
    lam = None
    start = time.perf_counter()
    for k, seed in enumerate(args.seeds):
        lam, wstar, _ = problem(a, d, seed, args.base_seed)
        wstars[k], rho[k] = wstar, escape_rate(lam, wstar)
        for j, name in enumerate(args.starts):
            w0 = start_state(name, lam, wstar, seed, args.base_seed)
            w0_all[j, k] = w0
            for key, value in initial_statistics(w0, lam, wstar).items():
                init[key][j, k] = value
            tic = time.perf_counter()
            try:
                traj = integrate_flow(lam, wstar, w0, t_eval, ctl)
            except FloatingPointError as exc:  # recorded, not fatal: NaN statistics and the flag
                diverged[j, k] = True
                print(f"seed {seed} start {name}: integration failed ({exc})", file=sys.stderr)
                continue
            for name_stat in STAT_NAMES:
                stats[name_stat][j, k] = traj.stats[name_stat]
            w_final[j, k], n_steps[j, k], n_rejected[j, k] = traj.w_final, traj.n_steps, traj.n_rejected
            print(f"a={a:g} d={d} seed={seed} {name}: s(0)={init['s'][j, k]:.3g} u(0)={init['u'][j, k]:.3g}"
                  f" {traj.n_steps} steps in {time.perf_counter() - tic:.2f} s", file=sys.stderr)
    elapsed = time.perf_counter() - start

    arrays = {
        "t": t_eval, **stats,
        "lam": lam, "wstar": wstars, "w0": w0_all, "w_final": w_final,
        "a": a, "d": d, "seed": np.asarray(args.seeds), "base_seed": args.base_seed,
        "starts": np.asarray(args.starts), "rho_true": rho, "diverged": diverged,
        **{f"{k}_init": v for k, v in init.items()},
        "sigma_star2": np.sum(wstars**2, axis=1) / d, "method": "flow", "eta": np.nan,
        "n_steps": n_steps, "n_rejected": n_rejected,
    }
    inputs = {k: v for k, v in vars(args).items() if k != "out"} | {"t_max": t_max}
    save_result(args.out, arrays, provenance(inputs) | {"wall_seconds": round(elapsed, 3)})
    print(f"wrote {args.out}: {n_st} starts x {n_se} seeds in {elapsed:.2f} s"
          f" ({int(diverged.sum())} failed)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
