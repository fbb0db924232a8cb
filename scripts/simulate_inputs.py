#!/usr/bin/env python
"""Exact population gradient flow for product-measure inputs x = sqrt(lam) * z, one input law,
one (a, d) and one or more seeds; writes one npz with the seeds stacked as rows.

Each seed uses the target and start of ``seeding.problem`` (the same for every law), and the
loss of the law (``studies.inputs.loss_product``: the Gaussian loss plus the fourth-cumulant term).
A seed whose solver fails is flagged (``failed``) and NaN; the other seeds are kept.

Every option but --law-param and --method is required: the pipeline passes each one from config
(workflow/pipeline.py). Example:
    python scripts/simulate_inputs.py --a 2 --d 300 --seed 0 1 2 --base-seed 0 --input-law student_t \\
        --law-param 5 --t-max 1e5 --t-min 1e-2 --points-per-decade 20 --rtol 1e-8 --atol 1e-12 --out x.npz
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # one dense LU per step: threads only slow it down

import numpy as np  # noqa: E402
from _cli import check_run_arguments, check_seed_list, finite_float, npz_output  # noqa: E402

from prdynamics.flow import STAT_NAMES, log_time_grid  # noqa: E402
from prdynamics.io import provenance, save_result  # noqa: E402
from prdynamics.seeding import problem  # noqa: E402
from prdynamics.sgd import INPUT_LAWS, check_law  # noqa: E402
from prdynamics.studies.inputs import integrate_flow_product, kappa_of  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--a", type=finite_float, required=True, help="spectrum exponent, a >= 0")
    p.add_argument("--d", type=int, required=True, help="dimension, d >= 2")
    p.add_argument("--seed", type=int, nargs="+", required=True, help="run seeds, one row each")
    p.add_argument("--base-seed", type=int, required=True, help="project-wide base seed")
    p.add_argument("--input-law", choices=INPUT_LAWS, required=True, help="law of the standardised z")
    p.add_argument("--law-param", type=finite_float, default=None,
                   help="the parameter of student_t (nu > 4) and sparse (Bernoulli p); required by them")
    p.add_argument("--t-max", type=finite_float, required=True, help="final time")
    p.add_argument("--t-min", type=finite_float, required=True, help="first output time")
    p.add_argument("--points-per-decade", type=int, required=True, help="output grid resolution")
    p.add_argument("--rtol", type=finite_float, required=True, help="solver relative tolerance")
    p.add_argument("--atol", type=finite_float, required=True, help="solver absolute tolerance")
    p.add_argument("--method", choices=("BDF", "Radau"), default="BDF", help="stiff solver")
    p.add_argument("--out", type=npz_output, required=True, help="output .npz")
    args = p.parse_args(argv)
    check_run_arguments(p, args)
    if args.d > 5000:
        p.error(f"--d {args.d}: the stiff solver factorises a dense d x d Jacobian; use d <= 5000")
    check_seed_list(p, args.seed, args.base_seed, "--seed")
    if args.input_law in ("student_t", "sparse") and args.law_param is None:
        p.error(f"--input-law {args.input_law} needs --law-param")
    try:
        args.law_param = check_law(args.input_law, args.law_param)
    except ValueError as exc:
        p.error(f"--input-law/--law-param: {exc}")
    if not (math.isfinite(args.t_max) and args.t_max > args.t_min > 0):
        p.error(f"need 0 < --t-min < --t-max, got {args.t_min}, {args.t_max}")
    if args.points_per_decade < 1:
        p.error(f"--points-per-decade must be >= 1, got {args.points_per_decade}")
    if not (0 < args.rtol < 1) or not args.atol >= 0:
        p.error(f"need 0 < --rtol < 1 and --atol >= 0, got {args.rtol}, {args.atol}")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    kappa = kappa_of(args.input_law, args.law_param)
    t_eval = log_time_grid(args.t_min, args.t_max, args.points_per_decade)
    R, d = len(args.seed), args.d
    stats = {name: np.full((R, len(t_eval)), np.nan) for name in STAT_NAMES}
    lam = wstar = None
    WS, W0, WF = (np.full((R, d), np.nan) for _ in range(3))
    n_steps = np.zeros(R, dtype=np.int64)
    failed = np.zeros(R, dtype=bool)
    start = time.perf_counter()
    for r, seed in enumerate(args.seed):
        lam, wstar, w0 = problem(args.a, d, seed, args.base_seed)
        WS[r], W0[r] = wstar, w0
        t0 = time.perf_counter()
        try:
            traj = integrate_flow_product(lam, wstar, w0, t_eval, kappa, rtol=args.rtol, atol=args.atol,
                                          method=args.method)
        except FloatingPointError as exc:  # recorded, not fatal: the other seeds still count
            failed[r] = True
            print(f"seed {seed}: {exc}", file=sys.stderr)
            continue
        for name in STAT_NAMES:
            stats[name][r] = traj.stats[name]
        WF[r], n_steps[r] = traj.w_final, traj.n_steps
        print(f"{args.input_law} (kappa = {kappa:g}) a={args.a:g} d={d} seed={seed}: {traj.n_steps} steps "
              f"in {time.perf_counter() - t0:.2f} s, final loss {traj.stats['loss'][-1]:.3g}",
              file=sys.stderr)
    elapsed = time.perf_counter() - start

    arrays = {
        "t": t_eval, **stats,
        "lam": lam, "wstar": WS, "w0": W0, "w_final": WF,
        "a": args.a, "d": d, "seed": np.asarray(args.seed, dtype=np.int64), "base_seed": args.base_seed,
        "method": f"product_flow/{args.method}", "eta": np.nan,
        "input_dist": args.input_law, "law_param": np.nan if args.law_param is None else args.law_param,
        "kappa": kappa, "sigma_star2": np.sum(WS**2, axis=1) / d,
        "n_steps": n_steps, "failed": failed,
    }
    inputs = {k: v for k, v in vars(args).items() if k != "out"}
    save_result(args.out, arrays, provenance(inputs) | {"wall_seconds": round(elapsed, 3)})
    print(f"wrote {args.out}: {R} seeds in {elapsed:.2f} s" + (f"; {int(failed.sum())} failed" if failed.any()
                                                               else ""), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
