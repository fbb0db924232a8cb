#!/usr/bin/env python
"""Online SGD at halving steps from one problem's (w*, w0), against the population flow: one npz.

R replicas, each with its own inputs, shared by the steps through nesting (the run at eta_k uses
every (eta_k / eta_min)-th batch of the finest run's draws); records the gap |w_sgd - w_flow|^2 / d
of every (eta, time, replica), for the check sgd_grid.flow_limit (prdynamics.studies.sgd_grid).

Every option is required: the pipeline passes each one from config (workflow/pipeline.py). Example:
    python scripts/simulate_sgd_limit.py --a 2 --d 100 --seed 0 --base-seed 0 --eta 0.004 0.002 0.001 \\
        --batch 1 --replicas 128 --times 2.5 5 --blowup 1e6 --rtol 1e-6 --atol 1e-12 --out limit.npz
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
from _cli import finite_float, npz_output

from prdynamics.io import provenance, save_result
from prdynamics.seeding import problem
from prdynamics.studies.sgd_grid import flow_limit_gaps, nested_strides


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--a", type=finite_float, required=True, help="spectrum exponent, a >= 0")
    p.add_argument("--d", type=int, required=True, help="dimension, d >= 2")
    p.add_argument("--seed", type=int, required=True, help="seed of the (w*, w0) of every replica")
    p.add_argument("--base-seed", type=int, required=True, help="project-wide base seed")
    p.add_argument("--eta", type=finite_float, nargs="+", required=True,
                   help="decreasing step sizes, integer multiples of the smallest")
    p.add_argument("--batch", type=int, required=True, help="samples per step")
    p.add_argument("--replicas", type=int, required=True, help="replicas per step")
    p.add_argument("--times", type=finite_float, nargs="+", required=True,
                   help="increasing times, whole numbers of steps of every eta")
    p.add_argument("--blowup", type=finite_float, required=True, help="a replica with s above this diverged")
    p.add_argument("--rtol", type=finite_float, required=True, help="flow integrator relative tolerance")
    p.add_argument("--atol", type=finite_float, required=True, help="flow integrator absolute tolerance")
    p.add_argument("--out", type=npz_output, required=True, help="output .npz")
    args = p.parse_args(argv)
    if args.d < 2 or args.seed < 0 or args.base_seed < 0:
        p.error(f"need --d >= 2 and non-negative seeds, got d={args.d}, seed={args.seed}, "
                f"base seed={args.base_seed}")
    if args.batch < 1 or args.replicas < 2:
        p.error(f"need --batch >= 1 and --replicas >= 2, got {args.batch} and {args.replicas}")
    try:
        nested_strides(args.eta, args.times)
    except ValueError as exc:
        p.error(f"--eta/--times: {exc}")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    start = time.perf_counter()
    lam, wstar, w0 = problem(args.a, args.d, args.seed, args.base_seed)
    res = flow_limit_gaps(lam, wstar, w0, args.eta, args.batch, args.times, replicas=args.replicas,
                          base_seed=args.base_seed, seed=args.seed, blowup=args.blowup, rtol=args.rtol,
                          atol=args.atol)
    elapsed = time.perf_counter() - start
    arrays = {
        "eta": np.asarray(args.eta), "times": np.asarray(args.times), "gap": res["gap"],
        "diverged": res["diverged"], "flow_w": res["flow_w"], "lam": lam, "wstar": wstar, "w0": w0,
        "a": args.a, "d": args.d, "seed": args.seed, "base_seed": args.base_seed, "batch": args.batch,
        "replicas": args.replicas,
    }
    inputs = {k: v for k, v in vars(args).items() if k != "out"}
    save_result(args.out, arrays, provenance(inputs) | {"wall_seconds": round(elapsed, 3)})
    print(f"wrote {args.out}: {args.replicas} replicas x {len(args.eta)} steps in {elapsed:.2f} s, "
          f"{int(res['diverged'].sum())} diverged", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
