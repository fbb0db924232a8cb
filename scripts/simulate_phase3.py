#!/usr/bin/env python
"""Phase III: the flow after T2 (|u(T2)| = u_start) against the frozen-statistics approximation.
One npz per seed.

Every option is required: the pipeline passes each one from config (workflow/pipeline.py). Example:
    python scripts/simulate_phase3.py --a 2 --d 300 --seed 0 --base-seed 0 --u-start 0.9 \
        --tau-max-factor 10 --tau-min 1e-3 --points-per-decade 20 --rtol 1e-7 --atol 1e-12 --out x.npz
"""

from __future__ import annotations

import argparse
import sys
import time

from _cli import (
    add_run_arguments,
    check_run_arguments,
    check_seed_outputs,
    finite_float,
    run_each_seed,
    run_inputs,
)

from prdynamics.flow import StepController, frozen_statistics, integrate_flow, log_time_grid, overlap_crossing
from prdynamics.io import provenance, save_result
from prdynamics.model import full_recovery_time
from prdynamics.seeding import problem


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_run_arguments(p)
    p.add_argument("--u-start", type=finite_float, required=True, help="T2 is the first time |u| = u_start")
    p.add_argument("--tau-max-factor", type=finite_float, required=True,
                   help="tau runs to factor * d^a H_{d,a} / 16")
    p.add_argument("--tau-min", type=finite_float, required=True, help="first output time after T2")
    p.add_argument("--points-per-decade", type=int, required=True, help="output grid resolution")
    p.add_argument("--rtol", type=finite_float, required=True, help="flow: relative tolerance")
    p.add_argument("--atol", type=finite_float, required=True, help="flow: absolute tolerance")
    args = p.parse_args(argv)
    check_run_arguments(p, args)
    check_seed_outputs(p, args)
    if not 0 < args.u_start < 1:
        p.error(f"--u-start must lie in (0, 1), got {args.u_start}")
    if not (args.tau_max_factor > 0 and args.tau_min > 0):
        p.error("--tau-max-factor and --tau-min must be positive")
    return args


def main(argv=None) -> int:
    return run_each_seed(parse_args(argv), run_seed)


def run_seed(args: argparse.Namespace, seed: int, out: str) -> None:
    start = time.perf_counter()
    lam, wstar, w0 = problem(args.a, args.d, seed, args.base_seed)
    ctl = StepController(rtol=args.rtol, atol=args.atol)
    t_recovery = full_recovery_time(args.d, args.a)
    print(f"seed {seed}: finding T2 with |u(T2)| = {args.u_start} ...", file=sys.stderr)
    t2, w_t2 = overlap_crossing(lam, wstar, w0, args.u_start, 10 * t_recovery + 1e3, ctl)
    print(f"T2 = {t2:.6g}; integrating Phase III to tau = {args.tau_max_factor * t_recovery:.3g}",
          file=sys.stderr)
    tau = log_time_grid(args.tau_min, args.tau_max_factor * t_recovery, args.points_per_decade)
    flow = integrate_flow(lam, wstar, w_t2, tau, ctl)
    frozen = frozen_statistics(lam, wstar, w_t2, tau)
    arrays = {
        "t": t2 + tau, "tau": tau, "T2": t2, **flow.stats,
        "frozen_mse": frozen["mse"], "frozen_loss": frozen["loss"],
        "lam": lam, "wstar": wstar, "w0": w0, "w_T2": w_t2, "w_final": flow.w_final,
        "a": args.a, "d": args.d, "seed": seed, "base_seed": args.base_seed,
        "u_start": args.u_start, "method": "flow",
    }
    elapsed = time.perf_counter() - start
    save_result(out, arrays, provenance(run_inputs(args, seed)) | {"wall_seconds": round(elapsed, 3)})
    print(f"wrote {out} in {elapsed:.2f} s", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
