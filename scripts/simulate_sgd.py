#!/usr/bin/env python
"""Online SGD for one (a, d) and one or more seeds (replicas); writes one npz.

Each seed uses the target and start of the population flow of that seed and
its own sample stream.  Statistics have shape (replicas, times); a replica that
diverges is flagged (diverged, diverged_step) and is NaN from then on.

Every option but --law-param and --workers is required: the pipeline passes each one from config
(workflow/pipeline.py). Example:
    python scripts/simulate_sgd.py --a 2 --d 1000 --seed 0 1 2 --base-seed 0 --eta 1e-3 --batch 1 \\
        --sigma2 0 --input-law gaussian --t-max 1e3 --t-min 1e-3 --points-per-decade 20 \\
        --blowup 1e6 --backend cpu --sgd-rng fused --out x.npz
"""

from __future__ import annotations

import argparse
import math
import sys
import time

import numpy as np
from _cli import check_run_arguments, check_seed_list, finite_float, npz_output
from tqdm import tqdm

from prdynamics.flow import log_time_grid
from prdynamics.io import provenance, save_result
from prdynamics.sgd import INPUT_LAWS, SGD_RNGS, check_law, run_sgd


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--a", type=finite_float, required=True, help="spectrum exponent, a >= 0")
    p.add_argument("--d", type=int, required=True, help="dimension, d >= 2")
    p.add_argument("--seed", type=int, nargs="+", required=True, help="run seeds, one replica each")
    p.add_argument("--base-seed", type=int, required=True, help="project-wide base seed")
    p.add_argument("--eta", type=finite_float, required=True, help="step size (SGD time t = steps * eta)")
    p.add_argument("--batch", type=int, required=True, help="samples per step")
    p.add_argument("--sigma2", type=finite_float, required=True,
                   help="label noise variance sigma^2, as config's sigma2 (the npz's sigma is its root)")
    p.add_argument("--input-law", choices=INPUT_LAWS, required=True, help="law of the standardised z")
    p.add_argument("--law-param", type=finite_float, default=None,
                   help="the parameter of student_t (nu > 4) and sparse (Bernoulli p); required by them")
    p.add_argument("--t-max", type=finite_float, required=True, help="final SGD time")
    p.add_argument("--t-min", type=finite_float, required=True,
                   help="first output time (raised to eta if smaller)")
    p.add_argument("--points-per-decade", type=int, required=True, help="output grid resolution")
    p.add_argument("--blowup", type=finite_float, required=True,
                   help="s = w^T Q w above this marks divergence")
    p.add_argument("--workers", type=int, default=1, help="cpu backend: threads over replicas (speed only)")
    p.add_argument("--backend", choices=("cpu", "cuda"), required=True,
                   help="cpu (the reference) or cuda (optional GPU kernel, Gaussian inputs; "
                        "other random numbers, the same law)")
    p.add_argument("--sgd-rng", choices=SGD_RNGS, required=True,
                   help="cpu backend: numpy's generator per chunk, or fused (in the kernel; Gaussian only)")
    p.add_argument("--out", type=npz_output, required=True, help="output .npz")
    args = p.parse_args(argv)
    check_run_arguments(p, args)
    check_seed_list(p, args.seed, args.base_seed, "--seed")
    if not (math.isfinite(args.eta) and args.eta > 0):
        p.error(f"--eta must be positive, got {args.eta}")
    if args.batch < 1:
        p.error(f"--batch must be >= 1, got {args.batch}")
    if not args.sigma2 >= 0:
        p.error(f"--sigma2 must be >= 0, got {args.sigma2}")
    if args.input_law in ("student_t", "sparse") and args.law_param is None:
        p.error(f"--input-law {args.input_law} needs --law-param")
    try:
        args.law_param = check_law(args.input_law, args.law_param)
    except ValueError as exc:
        p.error(f"--input-law/--law-param: {exc}")
    if not args.t_min > 0:
        p.error(f"--t-min must be positive, got {args.t_min}")
    if not (math.isfinite(args.t_max) and args.t_max > first_time(args)):
        p.error(f"need --t-max > max(--t-min, --eta) = {first_time(args)}, got {args.t_max}")
    if args.points_per_decade < 1:
        p.error(f"--points-per-decade must be >= 1, got {args.points_per_decade}")
    if not args.blowup > 0:
        p.error(f"--blowup must be positive, got {args.blowup}")
    if args.workers < 1:
        p.error(f"--workers must be >= 1, got {args.workers}")
    if args.sgd_rng == "fused" and args.input_law != "gaussian":
        p.error(f"--sgd-rng fused draws Gaussian inputs only, got --input-law {args.input_law}")
    if args.backend == "cuda" and args.input_law != "gaussian":
        p.error(f"--backend cuda draws Gaussian inputs only, got --input-law {args.input_law}")
    return args


def noise_std(args: argparse.Namespace) -> float:
    """The label noise standard deviation sigma of --sigma2 (the kernels take sigma)."""
    return float(args.sigma2) ** 0.5


def first_time(args: argparse.Namespace) -> float:
    """The first output time: --t-min, raised to the first step's time eta (the inputs record --t-min)."""
    return max(args.t_min, args.eta)


def main(argv=None) -> int:
    args = parse_args(argv)
    t_eval = log_time_grid(first_time(args), args.t_max, args.points_per_decade)
    total_steps = int(math.ceil(args.t_max / args.eta - 1e-9))
    bar = tqdm(total=total_steps, unit="step", unit_scale=True, file=sys.stderr, mininterval=2.0,
               desc=f"sgd a={args.a:g} d={args.d} seeds={len(args.seed)} eta={args.eta:g}")

    def progress(t, steps):
        bar.update(steps - bar.n)
        bar.set_postfix(t=f"{t:.3g}", refresh=False)

    sigma = noise_std(args)
    start = time.perf_counter()
    try:
        if args.backend == "cuda":
            from prdynamics.sgd_cuda import run_sgd_cuda

            res = run_sgd_cuda(args.a, args.d, args.seed, args.eta, args.batch, sigma, t_eval,
                               base_seed=args.base_seed, blowup=args.blowup, progress=progress)
        else:
            res = run_sgd(args.a, args.d, args.seed, args.eta, args.batch, sigma, t_eval,
                          input_law=args.input_law, law_param=args.law_param, base_seed=args.base_seed,
                          blowup=args.blowup, rng=args.sgd_rng, progress=progress, workers=args.workers)
    except (MemoryError, RuntimeError, ValueError) as exc:  # size check, no GPU, d out of range
        bar.close()
        print(f"error: {exc}", file=sys.stderr)
        return 2
    bar.close()
    elapsed = time.perf_counter() - start

    arrays = {
        "t": res.t, **res.stats,
        "lam": res.lam, "wstar": res.wstar, "w0": res.w0, "w_final": res.w_final,
        "a": args.a, "d": args.d, "seed": np.asarray(args.seed, dtype=np.int64),
        "base_seed": args.base_seed, "eta": args.eta, "batch": args.batch, "sigma": sigma,
        "input_dist": args.input_law,
        "law_param": np.nan if args.law_param is None else args.law_param,
        "fourth_moment": res.info["fourth_moment"],
        "diverged": res.diverged, "diverged_step": res.diverged_step,
        "n_steps": res.info["n_steps"], "backend": args.backend, "sgd_rng": args.sgd_rng,
    }
    inputs = {k: v for k, v in vars(args).items() if k != "out"}
    prov = provenance(inputs) | {"wall_seconds": round(elapsed, 3), "loss_formula": res.info["loss_formula"]}
    save_result(args.out, arrays, prov)
    n_div = int(res.diverged.sum())
    print(f"wrote {args.out}: {len(args.seed)} replicas x {res.info['n_steps']} steps in {elapsed:.2f} s"
          + (f"; {n_div} diverged" if n_div else ""), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
