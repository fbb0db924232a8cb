#!/usr/bin/env python
"""Summary of the committee runs: one row per flow run and per SGD run, and the study's claims.

Reads the npz files of scripts/simulate_committee.py (flow: every (activation, a, p, k, seed); SGD:
each needs the flow of its seed) and writes results/studies/committee.npz and the claims fragment.

Every option is required: the pipeline passes each one from config. Example (config/config.yaml's):
    python scripts/study_committee.py --flow results/sims/committee/flow/*/*/seed*.npz \
        --sgd results/sims/committee/sgd/*/*/*/seed*.npz --tail-x-lo 10 --tail-x-hi-frac 0.1 \
        --tail-min-points 5 --phase3-loss 0.01 --learn-level 0.9 --phase1-s-max 0.05 --early-t-max 0.1 \
        --rate-e-max 0.5 --sgd-leave-rtol 0.5 --confidence-level 0.95 --out s.npz --claims c.json
"""

from __future__ import annotations

import argparse
import sys

from _cli import finite_float, json_output, npz_output, write_claims

from prdynamics.io import load_result, provenance, save_result
from prdynamics.studies import StudyInputError, committee


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--flow", nargs="+", required=True, help="flow npz files of simulate_committee.py")
    p.add_argument("--sgd", nargs="*", required=True, help="SGD npz files (each with its flow among --flow)")
    p.add_argument("--tail-x-lo", type=finite_float, required=True, help="tail window from x_d >= this")
    p.add_argument("--tail-x-hi-frac", type=finite_float, required=True, help="tail window to x_d <= this d")
    p.add_argument("--tail-min-points", type=int, required=True, help="fewest samples for a tail exponent")
    p.add_argument("--phase3-loss", type=finite_float, required=True,
                   help="tail origin: first time L <= this x L(0)")
    p.add_argument("--learn-level", type=finite_float, required=True,
                   help="direction r is learned when l_r (committee.learned_spectrum) reaches this")
    p.add_argument("--phase1-s-max", type=finite_float, required=True,
                   help="Phase I window ends where tr M / p exceeds this")
    p.add_argument("--early-t-max", type=finite_float, required=True,
                   help="erf: early-growth fit on t <= this")
    p.add_argument("--rate-e-max", type=finite_float, required=True,
                   help="escape-rate fit from where the subleading modes' share of R is <= this")
    p.add_argument("--sgd-leave-rtol", type=finite_float, required=True,
                   help="SGD leaves the flow where |log(L_sgd / L_flow)| first exceeds log(1 + this)")
    p.add_argument("--confidence-level", type=finite_float, required=True,
                   help="level of every interval")
    p.add_argument("--out", type=npz_output, required=True, help="summary npz")
    p.add_argument("--claims", type=json_output, required=True, help="claims fragment (JSON)")
    args = p.parse_args(argv)
    for name in ("phase3_loss", "learn_level", "phase1_s_max", "rate_e_max", "tail_x_hi_frac"):
        if not 0 < getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be in (0, 1), got {getattr(args, name)}")
    for name in ("tail_x_lo", "early_t_max", "sgd_leave_rtol"):
        if not getattr(args, name) > 0:
            p.error(f"--{name.replace('_', '-')} must be positive, got {getattr(args, name)}")
    if args.tail_min_points < 2:
        p.error(f"--tail-min-points must be >= 2, got {args.tail_min_points}")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    flows = [load_result(f, required=committee.FLOW_RUN_KEYS) for f in args.flow]
    sgds = [load_result(f, required=committee.RUN_KEYS) for f in args.sgd]
    measure = {k: getattr(args, k) for k in ("tail_x_lo", "tail_x_hi_frac", "tail_min_points", "phase3_loss",
                                             "learn_level", "phase1_s_max", "early_t_max", "rate_e_max")}
    measure["leave_rtol"] = args.sgd_leave_rtol
    try:
        summary = committee.summarise(flows, sgds, **measure)
    except StudyInputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    claims = committee.claims(summary, confidence_level=args.confidence_level)
    inputs = {k: v for k, v in vars(args).items() if k not in ("out", "claims")}
    save_result(args.out, summary, provenance(inputs))
    write_claims(args.claims, claims)
    print(f"wrote {args.out} ({summary['a'].size} flow runs, {summary['sgd_a'].size} SGD runs) and "
          f"{args.claims}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
