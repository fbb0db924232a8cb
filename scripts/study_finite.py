#!/usr/bin/env python
"""Summary of the finite-sample runs: one row per (a, sigma^2, seed, n/d), and the study's claims.

Reads the npz files of scripts/simulate_finite.py (one per (a, d, sigma^2); a noiseless file is
needed for every a, as the reference of the noise excess) and writes results/studies/finite.npz
and the claims fragment.

Every option is required: the pipeline passes each one from config. Example (config/config.yaml's):
    python scripts/study_finite.py results/sims/finite/*.npz --match-exponent -0.5 --floor-factor 2 \
        --fit-min 16 --floor-slope -1 --floor-bias-c 3 --overfit-ratio 0.5 --rate-fraction 0.5 --out s.npz \
        --confidence-level 0.95 --claims c.json
"""

from __future__ import annotations

import argparse
import sys

from _cli import finite_float, json_output, npz_output, write_claims

from prdynamics.io import load_result, provenance, save_result
from prdynamics.studies import StudyInputError, finite


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("runs", nargs="+", help="npz files of simulate_finite.py")
    p.add_argument("--match-exponent", type=finite_float, required=True,
                   help="expected exponent in n of the large-n deviations from the population GD")
    p.add_argument("--floor-factor", type=finite_float, required=True,
                   help="sample-limited when L(T) >= factor x population L(T)")
    p.add_argument("--fit-min", type=finite_float, required=True,
                   help="n/d from which slopes in n are fitted")
    p.add_argument("--floor-slope", type=finite_float, required=True,
                   help="expected slope in n of the noise excess")
    p.add_argument("--floor-bias-c", type=finite_float, required=True,
                   help="c of the (1 + c d/n) correction: the slope may be up to c / fit-min steeper")
    p.add_argument("--overfit-ratio", type=finite_float, required=True,
                   help="overfits when train < ratio x test loss")
    p.add_argument("--rate-fraction", type=finite_float, required=True,
                   help="approaching w* when the MSE's log-log slope over the last decade is at least "
                        "this fraction of the population GD's")
    p.add_argument("--out", type=npz_output, required=True, help="summary npz")
    p.add_argument("--confidence-level", type=finite_float, required=True,
                   help="level of every finding's interval")
    p.add_argument("--claims", type=json_output, required=True, help="claims fragment (JSON)")
    args = p.parse_args(argv)
    if not args.floor_factor > 1:
        p.error(f"--floor-factor must be > 1, got {args.floor_factor}")
    if not args.floor_bias_c >= 0:
        p.error(f"--floor-bias-c must be >= 0, got {args.floor_bias_c}")
    for name in ("overfit_ratio", "rate_fraction", "fit_min"):
        if not getattr(args, name) > 0:
            p.error(f"--{name.replace('_', '-')} must be positive, got {getattr(args, name)}")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    runs = [load_result(f, required=finite.RUN_KEYS) for f in args.runs]
    try:
        summary = finite.summarise(runs)
    except StudyInputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    claims = finite.claims(summary, match_exponent=args.match_exponent, floor_factor=args.floor_factor,
                           fit_min=args.fit_min, floor_slope=args.floor_slope, floor_bias_c=args.floor_bias_c,
                           overfit_ratio=args.overfit_ratio, rate_fraction=args.rate_fraction,
                           confidence_level=args.confidence_level)
    inputs = {k: v for k, v in vars(args).items() if k not in ("out", "claims")}
    save_result(args.out, summary, provenance(inputs))
    write_claims(args.claims, claims)
    print(f"wrote {args.out} ({summary['a'].size} runs) and {args.claims}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
