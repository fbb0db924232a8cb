#!/usr/bin/env python
"""Summarise the SGD grid against the flow: stopping times, divergence, stability edge, noise floor.

Reads every SGD file of the grid (one per (batch, sigma2, eta), each with all seeds as replicas)
and the flow run of every seed; writes one npz with arrays indexed (sigma2, batch, eta, seed)
and the study's claims fragment.

Every option is required: the pipeline passes each one from config. Example (config/config.yaml's):
    python scripts/study_sgd_grid.py --sgd results/sims/sgd_grid/*/*/*.npz \\
        --flow results/sims/flow/a2_d200/seed*.npz --delta 0.01 --s0 0.05 --eps 0.1 --target-time 5 \\
        --floor-window 0.5 --edge-factor 1.5 --loss-factor 1.5 --limit results/sims/sgd_limit/a2_d200.npz \\
        --limit-order-eta-ms 1.0 --limit-halfwidth-max 0.5 --ms-factor 2 --ms-samples 131072 \\
        --ms-e0 1e-6 --base-seed 0 --out study.npz --confidence-level 0.95 --claims claims.json
"""

from __future__ import annotations

import os

# the d^2-dimensional eigenproblems are small; threaded BLAS only oversubscribes shared cores
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

from _cli import finite_float, json_output, npz_output, write_claims  # noqa: E402

from prdynamics.io import load_result, provenance, save_result  # noqa: E402
from prdynamics.studies import StudyInputError, sgd_grid  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sgd", nargs="+", required=True, help="SGD result files of the grid")
    p.add_argument("--flow", nargs="+", required=True, help="flow result files, one per seed")
    p.add_argument("--delta", type=finite_float, required=True, help="T1 level")
    p.add_argument("--s0", type=finite_float, required=True, help="T1' margin above 1/3")
    p.add_argument("--eps", type=finite_float, required=True, help="T2(eps)")
    p.add_argument("--target-time", type=finite_float, required=True,
                   help="target MSE = flow's MSE at this time")
    p.add_argument("--floor-window", type=finite_float, required=True, help="late window t >= this * t_max")
    p.add_argument("--edge-factor", type=finite_float, required=True, help="edge claim: factor around eta_ms")
    p.add_argument("--loss-factor", type=finite_float, required=True,
                   help="edge claim: flow-like means a late loss within this factor of the flow's")
    p.add_argument("--limit", required=True, help="flow-limit replicas (scripts/simulate_sgd_limit.py)")
    p.add_argument("--limit-order-eta-ms", type=finite_float, required=True,
                   help="flow_limit: tolerance c = this * eta / eta_ms(b) around order 1")
    p.add_argument("--limit-halfwidth-max", type=finite_float, required=True,
                   help="flow_limit: largest half-width of the order's interval")
    p.add_argument("--ms-factor", type=finite_float, required=True,
                   help="ms_growth check: one step at eta_ms / this and this * eta_ms")
    p.add_argument("--ms-samples", type=int, required=True,
                   help="ms_growth check: samples per (batch, seed), ceil(this / b) replicas")
    p.add_argument("--ms-e0", type=finite_float, required=True, help="ms_growth check: start |e| / |w*|")
    p.add_argument("--base-seed", type=int, required=True, help="project-wide base seed (ms_growth replicas)")
    p.add_argument("--out", type=npz_output, required=True, help="output study .npz")
    p.add_argument("--confidence-level", type=finite_float, required=True,
                   help="level of every finding's interval")
    p.add_argument("--claims", type=json_output, required=True, help="output claims fragment (.json)")
    args = p.parse_args(argv)
    for name in ("delta", "s0", "eps", "floor_window"):
        if not 0 < getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must lie in (0, 1), got {getattr(args, name)}")
    if not args.target_time > 0:
        p.error(f"--target-time must be positive, got {args.target_time}")
    if not args.edge_factor >= 1:
        p.error(f"--edge-factor must be >= 1, got {args.edge_factor}")
    if not (args.limit_order_eta_ms > 0 and args.limit_halfwidth_max > 0):
        p.error("--limit-order-eta-ms and --limit-halfwidth-max must be positive")
    if not args.ms_factor > 1:
        p.error(f"--ms-factor must be > 1, got {args.ms_factor}")
    if not args.ms_samples >= 2:
        p.error(f"--ms-samples must be >= 2, got {args.ms_samples}")
    if not args.ms_e0 > 0:
        p.error(f"--ms-e0 must be positive, got {args.ms_e0}")
    if not args.base_seed >= 0:
        p.error(f"--base-seed must be >= 0, got {args.base_seed}")
    if not args.loss_factor > 1:
        p.error(f"--loss-factor must be > 1, got {args.loss_factor}")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    start = time.perf_counter()
    flows = [load_result(f) for f in args.flow]
    runs = [load_result(f, required=sgd_grid.SGD_KEYS) for f in args.sgd]
    limit = load_result(args.limit, required=sgd_grid.LIMIT_KEYS)
    try:
        summary = sgd_grid.summarise(runs, flows, delta=args.delta, s0=args.s0, eps=args.eps,
                                     target_time=args.target_time, floor_window=args.floor_window)
    except StudyInputError as exc:
        raise SystemExit(str(exc)) from None
    by_seed = {int(f["seed"]): f for f in flows}
    wstars = [by_seed[int(sd)]["wstar"] for sd in summary["seeds"]]
    summary |= sgd_grid.ms_growth_summary(summary["lam"], wstars, summary["seeds"].tolist(),
                                          summary["batch"].tolist(), factor=args.ms_factor,
                                          samples=args.ms_samples, e0=args.ms_e0, base_seed=args.base_seed)
    criteria = {"edge_factor": args.edge_factor, "loss_factor": args.loss_factor,
                "limit_order_eta_ms": args.limit_order_eta_ms,
                "limit_halfwidth_max": args.limit_halfwidth_max,
                "confidence_level": args.confidence_level}
    write_claims(args.claims, sgd_grid.claims(summary, limit, **criteria))
    inputs = {k: v for k, v in vars(args).items() if k not in ("out", "claims")}
    wall = round(time.perf_counter() - start, 3)
    save_result(args.out, summary | criteria, provenance(inputs) | {"wall_seconds": wall})
    print(f"wrote {args.out} and {args.claims} in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
