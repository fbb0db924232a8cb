#!/usr/bin/env python
"""Non-Gaussian inputs study: measure phases, threshold, end points, tail exponents and the SGD-flow
gap on the runs of every input law; write results/studies/inputs.npz and the claims fragment.

Flow files (scripts/simulate_inputs.py) hold one law, one (a, d) and the seeds as rows;
SGD files (scripts/simulate_sgd.py) one law, one eta and the seeds as replicas, with the exact loss
of their law.  The Gaussian flow (law gaussian) of every dimension must be among the flow files.

Every option is required: the pipeline passes each one from config. Example (config/config.yaml's):
    python scripts/study_inputs.py --flows results/sims/inputs/flow/*/*.npz \\
        --sgd results/sims/inputs/sgd/*/*.npz --delta 0.01 --eps 0.1 0.05 0.01 --s0 0.05 --phase3-eps 0.1 \\
        --loss-tol 1e-4 --grad-tol 1e-4 --tail-x-min 6 --tail-x-max-frac 0.1 --tail-min-points 5 \\
        --tail-atol 0.05 --sgd-log-atol 0.25 --out s.npz --confidence-level 0.95 --claims c.json
"""

from __future__ import annotations

import argparse
import sys
import time

from _cli import finite_float, json_output, npz_output, write_claims

from prdynamics.io import load_result, provenance, save_result
from prdynamics.studies import StudyInputError
from prdynamics.studies import inputs as study


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--flows", nargs="+", required=True, help="product-flow npz, one per (law, d)")
    p.add_argument("--sgd", nargs="*", required=True, help="SGD npz, one per (law, eta)")
    p.add_argument("--delta", type=finite_float, required=True, help="T1 level (stopping.delta)")
    p.add_argument("--eps", type=finite_float, nargs="+", required=True, help="T2(eps) levels")
    p.add_argument("--s0", type=finite_float, required=True, help="T1' margin above 1/3")
    p.add_argument("--loss-tol", type=finite_float, required=True,
                   help="final loss below this: global minimum")
    p.add_argument("--grad-tol", type=finite_float, required=True,
                   help="gradient norm below this: stationary")
    p.add_argument("--phase3-eps", type=finite_float, required=True,
                   help="the tail fit starts at T2(phase3_eps)")
    p.add_argument("--tail-x-min", type=finite_float, required=True, help="tail window starts at x_d = this")
    p.add_argument("--tail-x-max-frac", type=finite_float, required=True,
                   help="tail window ends at x_d = this * d")
    p.add_argument("--tail-min-points", type=int, required=True, help="fewest samples of a tail fit")
    p.add_argument("--tail-atol", type=finite_float, required=True,
                   help="|beta - beta_gauss| deemed the same")
    p.add_argument("--sgd-log-atol", type=finite_float, required=True,
                   help="max |log L_sgd - log L_flow| deemed tracking")
    p.add_argument("--out", type=npz_output, required=True, help="study npz")
    p.add_argument("--confidence-level", type=finite_float, required=True,
                   help="level of every finding's interval")
    p.add_argument("--claims", type=json_output, required=True, help="claims fragment (JSON)")
    args = p.parse_args(argv)
    for name in ("loss_tol", "grad_tol", "phase3_eps", "tail_x_min", "tail_x_max_frac", "tail_atol",
                 "sgd_log_atol"):
        if not getattr(args, name) > 0:
            p.error(f"--{name.replace('_', '-')} must be positive, got {getattr(args, name)}")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    start = time.perf_counter()
    flows = [load_result(f, required=study.FLOW_KEYS) for f in args.flows]
    sgds = [load_result(f, required=study.SGD_KEYS) for f in args.sgd]
    ends = {"loss_tol": args.loss_tol, "grad_tol": args.grad_tol}
    try:
        summary = study.summarise(flows, sgds, delta=args.delta, eps=args.eps, s0=args.s0, **ends,
                                  phase3_eps=args.phase3_eps,
                                  tail_x_min=args.tail_x_min, tail_x_max_frac=args.tail_x_max_frac,
                                  tail_min_points=args.tail_min_points)
    except StudyInputError as exc:
        raise SystemExit(f"error: {exc}") from None
    write_claims(args.claims, study.claims(summary, **ends, tail_atol=args.tail_atol,
                                           sgd_log_atol=args.sgd_log_atol,
                                           confidence_level=args.confidence_level))
    inputs = {k: v for k, v in vars(args).items() if k not in ("out", "claims")}
    prov = provenance(inputs) | {"wall_seconds": round(time.perf_counter() - start, 3)}
    save_result(args.out, summary, prov)
    print(f"wrote {args.out} ({summary['run_law'].size} flow runs, {summary['sgd_law'].size} SGD replicas) "
          f"and {args.claims}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
