#!/usr/bin/env python
"""Full-batch GD on n reused samples for one (a, d, sigma^2): every n/d and seed; writes one npz.

Each seed takes its target and start from seeding.problem (those of the population run of that
seed) and its samples from the finite-sample stream (prdynamics.studies.finite.draw_sample; the sample of
each n is a prefix of the largest one).  The file also holds the paper's fixed-step population GD
(prdynamics.gd.integrate_gd) of each seed with the same step and record times, the reference.

Every option but --t-min is required: the pipeline passes each one from config (workflow/pipeline.py).
Example:
    python scripts/simulate_finite.py --a 2 --d 50 --seeds 0 1 2 --base-seed 0 --n-over-d 2 8 32 \
        --sigma2 0 --eta 0.1 --horizon-factor 2 --points-per-decade 10 --out x.npz
"""

from __future__ import annotations

import argparse
import math
import sys
import time

import numpy as np
from _cli import check_run_arguments, check_seed_list, finite_float, npz_output

from prdynamics.flow import STAT_NAMES, log_time_grid
from prdynamics.gd import integrate_gd
from prdynamics.io import provenance, save_result
from prdynamics.model import full_recovery_time
from prdynamics.seeding import problem
from prdynamics.studies.finite import FINITE_STAT_NAMES, draw_sample, run_gd


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--a", type=finite_float, required=True, help="spectrum exponent, a >= 0")
    p.add_argument("--d", type=int, required=True, help="dimension, d >= 2")
    p.add_argument("--seeds", type=int, nargs="+", required=True, help="run seeds (target, start, sample)")
    p.add_argument("--base-seed", type=int, required=True, help="project-wide base seed")
    p.add_argument("--n-over-d", type=int, nargs="+", required=True, help="sample sizes n = n_over_d * d")
    p.add_argument("--sigma2", type=finite_float, required=True, help="label-noise variance sigma^2 >= 0")
    p.add_argument("--eta", type=finite_float, required=True, help="GD step")
    p.add_argument("--horizon-factor", type=finite_float, required=True,
                   help="horizon T = factor * d^a H_{d,a} / 16 (the population's full-recovery time)")
    p.add_argument("--t-min", type=finite_float, default=None, help="first record time (default: eta)")
    p.add_argument("--points-per-decade", type=int, required=True, help="record-grid resolution")
    p.add_argument("--out", type=npz_output, required=True, help="output .npz")
    args = p.parse_args(argv)
    check_run_arguments(p, args)
    if min(args.n_over_d) < 1 or len(set(args.n_over_d)) != len(args.n_over_d):
        p.error(f"--n-over-d must be distinct integers >= 1, got {args.n_over_d}")
    check_seed_list(p, args.seeds, args.base_seed, "--seeds")
    if not (args.sigma2 >= 0 and math.isfinite(args.sigma2)):
        p.error(f"--sigma2 must be finite and >= 0, got {args.sigma2}")
    if not (args.eta > 0 and math.isfinite(args.eta)):
        p.error(f"--eta must be positive, got {args.eta}")
    if not args.horizon_factor > 0:
        p.error(f"--horizon-factor must be positive, got {args.horizon_factor}")
    if args.t_min is None:
        args.t_min = args.eta
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    t_rec = full_recovery_time(args.d, args.a)
    horizon = args.horizon_factor * t_rec
    if not horizon > args.t_min >= args.eta:
        print(f"error: need eta <= t_min < horizon, got {args.eta}, {args.t_min}, {horizon}", file=sys.stderr)
        return 2
    ratios = sorted(args.n_over_d)
    t_eval = log_time_grid(args.t_min, horizon, args.points_per_decade)
    n_s, n_r = len(args.seeds), len(ratios)
    stats, pop, t_grid = None, None, None
    diverged = np.zeros((n_s, n_r), dtype=bool)
    t_div = np.full((n_s, n_r), np.nan)
    wstars, w0s, w_final = [], [], np.full((n_s, n_r, args.d), np.nan)
    start = time.perf_counter()
    for i, seed in enumerate(args.seeds):
        lam, wstar, w0 = problem(args.a, args.d, seed, args.base_seed)
        wstars.append(wstar), w0s.append(w0)
        ref = integrate_gd(lam, wstar, w0, t_eval, args.eta)
        if stats is None:
            t_grid = ref.t
            stats = {k: np.full((n_s, n_r, len(t_grid)), np.nan) for k in FINITE_STAT_NAMES}
            pop = {k: np.full((n_s, len(t_grid)), np.nan) for k in STAT_NAMES}
        for k in STAT_NAMES:
            pop[k][i] = ref.stats[k]
        X_all, y_all = draw_sample(lam, wstar, max(ratios) * args.d, math.sqrt(args.sigma2), args.base_seed,
                                   args.d, seed)
        for j, r in enumerate(ratios):
            n = r * args.d
            tr = run_gd(X_all[:n], y_all[:n], lam, wstar, w0, t_eval, args.eta)
            for k in FINITE_STAT_NAMES:
                stats[k][i, j] = tr.stats[k]
            diverged[i, j], t_div[i, j] = tr.info["diverged"], tr.info["t_diverged"]
            w_final[i, j] = tr.w_final
            print(f"a={args.a:g} d={args.d} sigma2={args.sigma2:g} seed={seed} n/d={r}: "
                  f"{f'DIVERGED at t={t_div[i, j]:.3g}' if diverged[i, j] else 'ok'}, "
                  f"test loss {tr.stats['loss'][-1]:.3e} (population {ref.stats['loss'][-1]:.3e}), "
                  f"{time.perf_counter() - start:.1f} s", file=sys.stderr)
    elapsed = time.perf_counter() - start
    arrays = {
        "t": t_grid, **stats, **{f"pop_{k}": v for k, v in pop.items()},
        "lam": lam, "wstar": np.array(wstars), "w0": np.array(w0s), "w_final": w_final,
        "a": args.a, "d": args.d, "seed": np.array(args.seeds), "base_seed": args.base_seed,
        "n_over_d": np.array(ratios), "n": np.array(ratios) * args.d, "sigma2": args.sigma2,
        "sigma": math.sqrt(args.sigma2), "eta": args.eta, "horizon": horizon, "t_recovery": t_rec,
        "diverged": diverged, "t_diverged": t_div, "method": "finite_gd",
        "sigma_star2": np.sum(np.array(wstars) ** 2, axis=1) / args.d,
    }
    inputs = {k: v for k, v in vars(args).items() if k != "out"}
    save_result(args.out, arrays, provenance(inputs) | {"wall_seconds": round(elapsed, 3)})
    print(f"wrote {args.out}: {n_s} seeds x {n_r} sample sizes in {elapsed:.2f} s, "
          f"{int(diverged.sum())} diverged", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
