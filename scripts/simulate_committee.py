#!/usr/bin/env python
"""Committee dynamics (population flow or online SGD) for one (a, d, p, k, activation): one npz per seed.

Student f_W(x) = (1/p) sum_j sigma(w_j . x), teacher (1/k) sum_m sigma(w*_m . x) (prdynamics.committee).
Each file holds t, loss (excess population risk), error (the metric named in error_metric), the
overlaps M (T, p, p) and R (T, p, k), lam, W0, Wstar, W_final, diverged and the provenance; a flow
file also holds two Phase III origins located on the fly (NaN if never): t0, the first time
L <= phase3_loss L(0), and T_last, the first time every teacher direction is learned (the smallest
eigenvalue of committee.learned_spectrum reaches learn_level); its record t is the output
grid merged with each origin and origin + tau for tau on that same grid (dense in tau after both for
the Phase III fits, whose window starts a few units of tau in).  With
--method sgd the seeds run together as replicas (each file equals a run of that seed alone).

Every option but --orthogonal-teacher is required where its method uses it (flow: --rtol --atol
--phase3-loss --learn-level; sgd: --eta --batch --sigma2 --blowup --sgd-rng): a pipeline passes each one
from config. Examples:
    python scripts/simulate_committee.py --method flow --a 2 --d 1000 --p 2 --k 2 --activation quadratic \
        --seed 0 --base-seed 0 --t-max 1e5 --t-min 1e-3 --points-per-decade 20 --rtol 1e-7 --atol 1e-12 \
        --phase3-loss 0.01 --learn-level 0.9 --out x.npz
    python scripts/simulate_committee.py --method sgd --a 2 --d 1000 --p 4 --k 2 --activation erf \
        --seed 0 1 --base-seed 0 --t-max 1e3 --t-min 1e-3 --points-per-decade 20 --eta 1e-3 --batch 1 \
        --sigma2 0 --blowup 1e6 --sgd-rng fused --orthogonal-teacher --out s0.npz s1.npz
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
    memory_refused,
    run_inputs,
)
from tqdm import tqdm

from prdynamics.committee import ACTIVATIONS, integrate_committee_flow, problem, run_committee_sgd
from prdynamics.committee.population import ERROR_METRICS
from prdynamics.flow import StepController, log_time_grid
from prdynamics.io import provenance, save_result
from prdynamics.sgd import SGD_RNGS


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_run_arguments(p)
    p.add_argument("--p", type=int, required=True, help="student units, p >= 1")
    p.add_argument("--k", type=int, required=True, help="teacher units, k >= 1")
    p.add_argument("--activation", choices=ACTIVATIONS, required=True)
    p.add_argument("--t-max", type=finite_float, required=True, help="final time")
    p.add_argument("--t-min", type=finite_float, required=True, help="first output time")
    p.add_argument("--points-per-decade", type=int, required=True, help="output grid resolution")
    p.add_argument("--method", choices=("flow", "sgd"), required=True)
    p.add_argument("--rtol", type=finite_float, help="flow: relative tolerance (required by --method flow)")
    p.add_argument("--atol", type=finite_float, help="flow: absolute tolerance (required by --method flow)")
    p.add_argument("--phase3-loss", type=finite_float,
                   help="flow: tail origin t0 = first time L <= this x L(0), located on the fly; the record "
                        "then also holds t0 + tau for tau on the output grid (required by --method flow)")
    p.add_argument("--learn-level", type=finite_float,
                   help="flow: tail origin T_last = first time every teacher direction carries this share of "
                        "its target (committee.learned_spectrum), located on the fly; the record also holds "
                        "T_last + tau (required by --method flow)")
    p.add_argument("--eta", type=finite_float, help="sgd: step size, SGD time t = steps * eta")
    p.add_argument("--batch", type=int, help="sgd: samples per step")
    p.add_argument("--sigma2", type=finite_float, help="sgd: label-noise variance")
    p.add_argument("--blowup", type=finite_float, help="sgd: max_j w_j^T Q w_j above this marks divergence")
    p.add_argument("--sgd-rng", choices=SGD_RNGS,
                   help="sgd: numpy's generator per chunk, or fused (drawn in the kernel)")
    p.add_argument("--orthogonal-teacher", action="store_true",
                   help="make the teacher rows exactly Q-orthogonal (Gram-Schmidt); i.i.d. otherwise")
    args = p.parse_args(argv)
    check_run_arguments(p, args)
    check_seed_outputs(p, args)
    for flag in ("p", "k"):
        if getattr(args, flag) < 1:
            p.error(f"--{flag} must be >= 1, got {getattr(args, flag)}")
    if args.orthogonal_teacher and args.k > args.d:
        p.error(f"--orthogonal-teacher needs --k <= --d, got --k {args.k} --d {args.d}")
    if not (math.isfinite(args.t_max) and args.t_max > args.t_min > 0):
        p.error(f"need 0 < --t-min < --t-max < inf, got {args.t_min}, {args.t_max}")
    if args.points_per_decade < 1:
        p.error(f"--points-per-decade must be >= 1, got {args.points_per_decade}")
    if args.method == "flow":
        missing = [f"--{n.replace('_', '-')}" for n in ("rtol", "atol", "phase3_loss", "learn_level")
                   if getattr(args, n) is None]
        if missing:
            p.error(f"--method flow needs {' '.join(missing)}")
        for name in ("phase3_loss", "learn_level"):
            if not 0 < getattr(args, name) < 1:
                p.error(f"--{name.replace('_', '-')} must be in (0, 1), got {getattr(args, name)}")
        if not 0 < args.rtol < 1:
            p.error(f"--rtol must be in (0, 1), got {args.rtol}")
        if not (math.isfinite(args.atol) and args.atol >= 0):
            p.error(f"--atol must be finite and >= 0, got {args.atol}")
    else:
        missing = [f"--{n.replace('_', '-')}" for n in ("eta", "batch", "sigma2", "blowup", "sgd_rng")
                   if getattr(args, n) is None]
        if missing:
            p.error(f"--method sgd needs {' '.join(missing)}")
        if not (math.isfinite(args.eta) and args.eta > 0):
            p.error(f"--eta must be positive and finite, got {args.eta}")
        if args.batch < 1:
            p.error(f"--batch must be >= 1, got {args.batch}")
        if not (math.isfinite(args.sigma2) and args.sigma2 >= 0):
            p.error(f"--sigma2 must be finite and >= 0, got {args.sigma2}")
        if not args.blowup > 0:
            p.error(f"--blowup must be positive, got {args.blowup}")
        if not args.t_max > args.eta:
            p.error(f"--t-max must exceed --eta, got {args.t_max} <= {args.eta}")
    return args


def _bar(args, desc):
    bar = tqdm(total=round(math.log10(args.t_max / args.t_min), 2), unit="decade", file=sys.stderr,
               mininterval=2.0, desc=desc)

    def progress(t, n_steps):
        bar.set_postfix(t=f"{t:.3g}", steps=n_steps, refresh=False)
        bar.update(round(math.log10(max(t, args.t_min) / args.t_min), 2) - bar.n)

    return bar, progress


def _arrays(args, seed, t, loss, error, M, R, lam, Wstar, W0, W_final, diverged, diverged_step, n_steps,
            n_rejected):
    return {
        "t": t, "loss": loss, "error": error, "M": M, "R": R, "lam": lam, "Wstar": Wstar, "W0": W0,
        "W_final": W_final, "a": args.a, "d": args.d, "p": args.p, "k": args.k, "seed": seed,
        "base_seed": args.base_seed, "activation": args.activation, "method": args.method,
        "error_metric": ERROR_METRICS[args.activation], "orthogonal_teacher": args.orthogonal_teacher,
        "eta": args.eta if args.method == "sgd" else np.nan,
        "diverged": diverged, "diverged_step": diverged_step, "n_steps": n_steps, "n_rejected": n_rejected,
    }


def run_flow(args, seed: int, out: str) -> None:
    lam, Wstar, W0 = problem(args.a, args.d, args.p, args.k, seed, args.base_seed, args.orthogonal_teacher)
    t_eval = log_time_grid(args.t_min, args.t_max, args.points_per_decade)
    bar, progress = _bar(args, f"committee flow p={args.p} k={args.k} {args.activation} seed={seed}")
    start = time.perf_counter()
    tr = integrate_committee_flow(lam, Wstar, W0, args.activation, t_eval,
                                  StepController(rtol=args.rtol, atol=args.atol), progress,
                                  tail_level=args.phase3_loss, learn_level=args.learn_level, tail_taus=t_eval)
    bar.close()
    elapsed = time.perf_counter() - start
    arrays = _arrays(args, seed, tr.t, tr.loss, tr.error, tr.M, tr.R, lam, Wstar, W0, tr.W_final, False, -1,
                     tr.n_steps, tr.n_rejected)
    arrays |= {"t0": tr.t0, "phase3_loss": args.phase3_loss, "T_last": tr.t_last,
               "learn_level": args.learn_level}
    save_result(out, arrays, provenance(run_inputs(args, seed)) | {"wall_seconds": round(elapsed, 3)})
    print(f"wrote {out}: {tr.n_steps} steps ({tr.n_rejected} rejected) in {elapsed:.2f} s", file=sys.stderr)


def run_sgd(args) -> None:
    t_eval = log_time_grid(max(args.t_min, args.eta), args.t_max, args.points_per_decade)
    bar, progress = _bar(args, f"committee sgd p={args.p} k={args.k} {args.activation} seeds={args.seed}")
    start = time.perf_counter()
    res = run_committee_sgd(args.a, args.d, args.p, args.k, args.activation, args.seed, args.eta, args.batch,
                            args.sigma2, t_eval, base_seed=args.base_seed, blowup=args.blowup,
                            orthogonal_teacher=args.orthogonal_teacher, rng=args.sgd_rng, progress=progress)
    bar.close()
    elapsed = time.perf_counter() - start
    for r, (seed, out) in enumerate(zip(args.seed, args.out, strict=True)):
        arrays = _arrays(args, seed, res.t, res.loss[r], res.error[r], res.M[r], res.R[r], res.lam,
                         res.Wstar[r], res.W0[r], res.W_final[r], bool(res.diverged[r]),
                         int(res.diverged_step[r]), res.info["n_steps"], 0)
        save_result(out, arrays, provenance(run_inputs(args, seed)) | {"wall_seconds": round(elapsed, 3)})
    n_div = int(res.diverged.sum())
    print(f"wrote {len(args.out)} files: {len(args.seed)} replicas x {res.info['n_steps']} steps in "
          f"{elapsed:.2f} s" + (f"; {n_div} diverged" if n_div else ""), file=sys.stderr)


def main(argv=None) -> int:
    args = parse_args(argv)
    if memory_refused(args.d * (args.p + args.k)):
        return 2
    if args.method == "sgd":
        run_sgd(args)
    else:
        for seed, out in zip(args.seed, args.out, strict=True):
            run_flow(args, seed, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
