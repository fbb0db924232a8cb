#!/usr/bin/env python
"""Initialisation study summary: per-run stopping times, threshold passages and Phase III gaps
from the results/sims/init runs; writes results/studies/init.npz and the study's claims.

Every option is required: the pipeline passes each one from config. Example (config/config.yaml's):
    python scripts/study_init.py results/sims/init/*.npz --delta 0.01 --eps 0.1 0.05 0.01 --s0 0.05 \
        --phase3-eps 0.01 --x-hi 0.25 --overlap-draws 200 --base-seed 0 --p-min 0.25 --escaped-max 0.5 \
        --phase3-rtol 0.1 --beta-atol 0.1 --out results/studies/init.npz --confidence-level 0.95 \
        --claims results/claims/init.json
"""

from __future__ import annotations

import argparse
import sys

from _cli import finite_float, json_output, npz_output, write_claims

from prdynamics.io import load_result, provenance, save_result
from prdynamics.studies import init


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("runs", nargs="+", help="simulate_init.py npz files")
    p.add_argument("--delta", type=finite_float, required=True, help="T1 level of |u|, s, |u^(2)|")
    p.add_argument("--eps", type=finite_float, nargs="+", required=True, help="T2(eps) tolerances")
    p.add_argument("--s0", type=finite_float, required=True, help="T1' margin above 1/3")
    p.add_argument("--phase3-eps", type=finite_float, required=True,
                   help="Phase III starts at T2(phase3-eps)")
    p.add_argument("--x-hi", type=finite_float, required=True, help="Phase III window: 1 <= x_d <= x_hi d")
    p.add_argument("--p-min", type=finite_float, required=True, help="T1 grows like log d when p >= p-min")
    p.add_argument("--escaped-max", type=finite_float, required=True,
                   help="a start has a plateau when at most this fraction of runs is past T1's levels"
                        " at t_min")
    p.add_argument("--phase3-rtol", type=finite_float, required=True, help="universal Phase III: gap <= this")
    p.add_argument("--beta-atol", type=finite_float, required=True,
                   help="... and |beta - beta_paper| <= this")
    p.add_argument("--overlap-draws", type=int, required=True,
                   help="draws of each start per (a, d) for the d-scaling of |u(0)| (no integration)")
    p.add_argument("--base-seed", type=int, required=True, help="project-wide base seed")
    p.add_argument("--out", type=npz_output, required=True, help="output summary .npz")
    p.add_argument("--confidence-level", type=finite_float, required=True,
                   help="level of every finding's interval")
    p.add_argument("--claims", type=json_output, required=True, help="output claims fragment .json")
    args = p.parse_args(argv)
    if args.overlap_draws < 2:
        p.error(f"--overlap-draws must be >= 2, got {args.overlap_draws}")
    if args.phase3_eps not in args.eps:
        p.error(f"--phase3-eps {args.phase3_eps} must be one of --eps {args.eps}")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    runs = [load_result(path, required=init.RUN_KEYS) for path in args.runs]
    window = {"x_hi": args.x_hi, "phase3_eps": args.phase3_eps}
    summary = init.summarise(runs, delta=args.delta, eps=args.eps, s0=args.s0, **window,
                             overlap_draws=args.overlap_draws, base_seed=args.base_seed)
    inputs = {k: v for k, v in vars(args).items() if k not in ("out", "claims")}
    save_result(args.out, summary, provenance(inputs))
    claims = init.claims(summary, p_min=args.p_min, escaped_max=args.escaped_max,
                         phase3_rtol=args.phase3_rtol, beta_atol=args.beta_atol, **window,
                         confidence_level=args.confidence_level)
    write_claims(args.claims, claims)
    print(f"wrote {args.out} ({summary['a'].size} runs) and {args.claims}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
