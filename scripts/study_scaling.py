#!/usr/bin/env python
"""Phase II and Phase III scaling laws measured on large-d flow runs, against the theory.

Per run: T2(eps) - T1' over a log grid of eps and its power-law exponent; the Phase III
collapse 1 - MSE(T2 + tau) / MSE(T2) against 1 - S_d(tau) and the Gamma law; the loss
L(tau), tau = t - T2 (prdynamics.phases.tail_origin), its fitted power-law exponent, the exact
finite-window exponent of the linearised loss on the same samples, and its constant C at the
predicted exponent (geometric mean of L tau^{1 - 1/a}) in the window
x_lo <= x_d(tau) <= x_hi_frac * d.  Writes one npz (curves padded with NaN to one length)
and the claims phase3.gamma_law, loss.tail_exponent and phase2.T2_exponent.

Every option is required: the pipeline passes each one from config. Example (config/config.yaml's):
    python scripts/study_scaling.py results/sims/scaling/*/*.npz --s0 0.05 --eps-max 0.3 \\
        --eps-min 1e-6 --eps-per-decade 8 --phase3-eps 0.1 --front-factor 30 --loss-x-lo 30 \\
        --loss-x-hi-frac 0.01 --gamma-rtol 0.1 --loss-min-decades 2 --confidence-level 0.95 \\
        --out s.npz --claims-out c.json
"""

from __future__ import annotations

import argparse
import sys

from _cli import finite_float, json_output, npz_output, write_claims

from prdynamics.io import load_result, provenance, save_result
from prdynamics.studies import scaling


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("runs", nargs="+", help="flow npz files of the scaling study")
    p.add_argument("--s0", type=finite_float, required=True, help="T1': s stays above 1/3 + s0")
    p.add_argument("--eps-max", type=finite_float, required=True, help="largest eps of the T2(eps) grid")
    p.add_argument("--eps-min", type=finite_float, required=True, help="smallest eps of the T2(eps) grid")
    p.add_argument("--eps-per-decade", type=int, required=True)
    p.add_argument("--phase3-eps", type=finite_float, required=True,
                   help="Phase III starts at T2(phase3_eps)")
    p.add_argument("--front-factor", type=finite_float, required=True,
                   help="collapse window: x_d(tau) >= front_factor * x_d(T2)")
    p.add_argument("--loss-x-lo", type=finite_float, required=True, help="loss window: x_d >= this")
    p.add_argument("--loss-x-hi-frac", type=finite_float, required=True, help="loss window: x_d <= this * d")
    p.add_argument("--gamma-rtol", type=finite_float, required=True)
    p.add_argument("--loss-min-decades", type=finite_float, required=True,
                   help="loss tail: the fit window must span this many decades of tau")
    p.add_argument("--confidence-level", type=finite_float, required=True, help="level of the seed CIs")
    p.add_argument("--out", type=npz_output, required=True, help="output npz")
    p.add_argument("--claims-out", type=json_output, required=True, help="output claims JSON")
    args = p.parse_args(argv)
    if not 0 < args.eps_min < args.eps_max < 1:
        p.error("need 0 < --eps-min < --eps-max < 1")
    if not (0 < args.phase3_eps < 1 and args.front_factor >= 1 and args.loss_x_lo >= 1
            and 0 < args.loss_x_hi_frac <= 1 and args.eps_per_decade >= 1):
        p.error("need 0 < --phase3-eps < 1, --front-factor >= 1, --loss-x-lo >= 1, "
                "0 < --loss-x-hi-frac <= 1, --eps-per-decade >= 1")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    runs = (load_result(f) for f in args.runs)  # one at a time: large-d runs are big
    summary = scaling.summarise(runs, s0=args.s0, eps_max=args.eps_max, eps_min=args.eps_min,
                                eps_per_decade=args.eps_per_decade, phase3_eps=args.phase3_eps,
                                front_factor=args.front_factor, gamma_rtol=args.gamma_rtol,
                                loss_x_lo=args.loss_x_lo, loss_x_hi_frac=args.loss_x_hi_frac)
    inputs = {k: v for k, v in vars(args).items() if k not in ("out", "claims_out")}
    save_result(args.out, summary, provenance(inputs))
    claims = scaling.claims(summary, gamma_rtol=args.gamma_rtol, loss_min_decades=args.loss_min_decades,
                            confidence_level=args.confidence_level)
    write_claims(args.claims_out, claims)
    print(f"wrote {args.out} ({summary['a'].size} runs) and {args.claims_out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
