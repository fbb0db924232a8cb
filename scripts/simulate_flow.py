#!/usr/bin/env python
"""Population dynamics (gradient flow or fixed-step GD) for one (a, d): one npz per seed.

Every option but --eta and --record-step (gd only) is required: the pipeline passes each one from
config (workflow/pipeline.py); by hand, give them all. A GD run records at multiples of
--record-step (a multiple of --eta), so runs at eta and eta/2 share their times, and stores the
flow (at --rtol, --atol) on those same times as flow_s, flow_u, flow_mse: the GD-flow gap needs no
interpolation. Examples:
    python scripts/simulate_flow.py --method flow --a 2 --d 1000 --seed 0 --base-seed 0 --t-max 1e5 \
        --t-min 1e-3 --points-per-decade 20 --rtol 1e-7 --atol 1e-12 --out x.npz
    python scripts/simulate_flow.py --method gd --eta 5e-3 --record-step 1e-2 --a 2 --d 1000 --seed 0 1 \
        --base-seed 0 --t-max 1e3 --t-min 1e-3 --points-per-decade 20 --rtol 1e-7 --atol 1e-12 \
        --out s0.npz s1.npz
"""

from __future__ import annotations

import argparse
import math
import sys
import time

import numpy as np
from _cli import (
    add_run_arguments,
    check_run_arguments,
    check_seed_outputs,
    finite_float,
    run_each_seed,
    run_inputs,
)
from tqdm import tqdm

from prdynamics.flow import StepController, integrate_flow, log_time_grid
from prdynamics.gd import gd_record_steps, integrate_gd
from prdynamics.io import provenance, save_result
from prdynamics.seeding import problem


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_run_arguments(p)
    p.add_argument("--t-max", type=finite_float, required=True, help="final time")
    p.add_argument("--t-min", type=finite_float, required=True, help="first output time")
    p.add_argument("--points-per-decade", type=int, required=True, help="output grid resolution")
    p.add_argument("--method", choices=("flow", "gd"), required=True)
    p.add_argument("--eta", type=finite_float, help="GD step (required by --method gd)")
    p.add_argument("--record-step", type=finite_float,
                   help="GD records at multiples of this step, a multiple of --eta (required by --method gd)")
    p.add_argument("--rtol", type=finite_float,
                   help="flow (and GD's flow reference): relative tolerance (required)")
    p.add_argument("--atol", type=finite_float,
                   help="flow (and GD's flow reference): absolute tolerance (required)")
    args = p.parse_args(argv)
    check_run_arguments(p, args)
    check_seed_outputs(p, args)
    if not args.t_max > args.t_min > 0:
        p.error(f"need 0 < --t-min < --t-max, got {args.t_min}, {args.t_max}")
    if args.method == "gd" and not (args.eta is not None and args.eta > 0):
        p.error(f"--eta must be positive with --method gd, got {args.eta}")
    if args.rtol is None or args.atol is None:
        p.error(f"--method {args.method} needs --rtol and --atol")
    if args.method == "gd":
        if args.record_step is None:
            p.error("--method gd needs --record-step")
        ratio = args.record_step / args.eta
        if not (ratio >= 1 - 1e-9 and abs(ratio - round(ratio)) <= 1e-9 * ratio):
            p.error(f"--record-step must be a whole multiple of --eta, got {args.record_step} / {args.eta}")
    return args


def gd_record_times(t_eval: np.ndarray, record_step: float, eta: float) -> np.ndarray:
    """Times that make integrate_gd (first step at or after each time) record at step m n, where
    n record_step is the first multiple of record_step at or after each of t_eval and m =
    record_step / eta: half a step of eta below n record_step, clear of rounding for any m."""
    n = gd_record_steps(t_eval, record_step)
    return (n - 0.5 * eta / record_step) * record_step


def main(argv=None) -> int:
    return run_each_seed(parse_args(argv), run_seed)


def run_seed(args: argparse.Namespace, seed: int, out: str) -> None:
    t_max = args.t_max
    lam, wstar, w0 = problem(args.a, args.d, seed, args.base_seed)
    t_eval = log_time_grid(args.t_min, t_max, args.points_per_decade)

    bar = tqdm(total=round(math.log10(t_max / args.t_min), 2), unit="decade", file=sys.stderr,
               mininterval=2.0, desc=f"{args.method} a={args.a:g} d={args.d} seed={seed}")

    def progress(t, n_steps):
        done = round(math.log10(max(t, args.t_min) / args.t_min), 2)
        bar.set_postfix(t=f"{t:.3g}", steps=n_steps, refresh=False)
        bar.update(done - bar.n)  # update() honours mininterval; refresh() would not

    start = time.perf_counter()
    ctl = StepController(rtol=args.rtol, atol=args.atol)
    reference = {}
    if args.method == "flow":
        traj = integrate_flow(lam, wstar, w0, t_eval, ctl, progress)
    else:
        traj = integrate_gd(lam, wstar, w0, gd_record_times(t_eval, args.record_step, args.eta), args.eta,
                            progress)
        flow = integrate_flow(lam, wstar, w0, traj.t, ctl)
        reference = {f"flow_{k}": flow.stats[k] for k in ("s", "u", "mse")}
    bar.close()
    elapsed = time.perf_counter() - start

    arrays = {
        "t": traj.t, **traj.stats,
        "lam": lam, "wstar": wstar, "w0": w0, "w_final": traj.w_final,
        **reference,
        "a": args.a, "d": args.d, "seed": seed, "base_seed": args.base_seed,
        "method": args.method, "eta": args.eta if args.method == "gd" else np.nan,
        "sigma_star2": float(np.sum(wstar**2) / args.d),
        "n_steps": traj.n_steps, "n_rejected": traj.n_rejected,
    }
    prov = provenance(run_inputs(args, seed)) | {"wall_seconds": round(elapsed, 3)}
    save_result(out, arrays, prov)
    print(f"wrote {out}: {traj.n_steps} steps ({traj.n_rejected} rejected) in {elapsed:.2f} s",
          file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
