#!/usr/bin/env python
"""Measure every numbered claim on the pipeline's results and write results/checks.json.

Each claim is a check (pass/fail, with the basis of its tolerance) or a finding (a measurement with
its interval).  Exits 0 after writing the file; `--strict` exits 1, naming the failed checks.
"""

from __future__ import annotations

import argparse
import sys

from _cli import finite_float, json_output, write_claims

from prdynamics.claims import failed_checks, merge
from prdynamics.io import load_claims, load_result
from prdynamics.studies import paper


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--population", nargs="+", required=True, help="every population flow npz")
    p.add_argument("--fig3", nargs="+", required=True, help="flow runs over a at fixed d")
    p.add_argument("--escape", required=True, help="the escape theory npz (theory_escape rule)")
    p.add_argument("--fig2-gd", nargs="+", required=True,
                   help="GD runs at fig2.gd_eta (with their flow reference)")
    p.add_argument("--fig2-gd-refined", nargs="+", required=True,
                   help="GD runs at fig2.gd_eta_refined, the same seeds in the same order")
    p.add_argument("--phase3", nargs="+", required=True, help="Phase III runs from every fig4.u_start_levels")
    p.add_argument("--fig1-sgd", nargs="+", required=True, help="small-eta SGD files (replicas = seeds)")
    p.add_argument("--fig1-flow", nargs="+", required=True, help="flow runs of the same (a, d, seeds)")
    p.add_argument("--sgd-time-rtol", type=finite_float, required=True)
    p.add_argument("--sgd-value-rtol", type=finite_float, required=True)
    p.add_argument("--delta", type=finite_float, required=True)
    p.add_argument("--eps", type=finite_float, nargs="+", required=True)
    p.add_argument("--s0", type=finite_float, required=True)
    p.add_argument("--gd-order", type=finite_float, required=True, help="GD's order p in eta")
    p.add_argument("--gd-ratio-eta-h", type=finite_float, required=True,
                   help="gap ratio within a factor 1 + this * eta * h_max of (eta ratio)^p")
    p.add_argument("--gd-reference-factor", type=finite_float, required=True,
                   help="gaps below this * --flow-rtol at the refined step are dropped")
    p.add_argument("--flow-rtol", type=finite_float, required=True, help="the flow reference's tolerance")
    p.add_argument("--frozen-order-min", type=finite_float, required=True,
                   help="least log-log slope of the flow-frozen gap against 1 - |u(T2)|")
    p.add_argument("--volterra", required=True, help="the Volterra theory npz (theory_volterra rule)")
    p.add_argument("--volterra-phase1-k2", type=finite_float, required=True,
                   help="first-order corrected Phase I form: remainder <= this * E1^2 + exact-form error")
    p.add_argument("--volterra-order-min", type=finite_float, required=True,
                   help="least observed order of the exact and Phase IIb forms when the grid is halved")
    p.add_argument("--confidence-level", type=finite_float, required=True,
                   help="level of every finding's interval")
    p.add_argument("--fragments", nargs="*", required=True,
                   help="claims files written by the studies (prdynamics.io.save_claims), merged in")
    p.add_argument("--out", type=json_output, required=True)
    p.add_argument("--strict", action="store_true")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    # the files used once are read one at a time, as the measurement goes
    summary = paper.summarise(
        population=[load_result(f) for f in args.population],
        escape=load_result(args.escape, required=paper.ESCAPE_KEYS),
        volterra=load_result(args.volterra, required=paper.VOLTERRA_KEYS),
        fig3=map(load_result, args.fig3),
        phase3=(load_result(f, required=paper.PHASE3_KEYS) for f in args.phase3),
        fig2_gd=(load_result(f, required=paper.GD_KEYS) for f in args.fig2_gd),
        fig2_gd_refined=(load_result(f, required=paper.GD_KEYS) for f in args.fig2_gd_refined),
        fig1_sgd=(load_result(f, required=paper.SGD_KEYS) for f in args.fig1_sgd),
        fig1_flow=[load_result(f) for f in args.fig1_flow],
        delta=args.delta, eps=args.eps, s0=args.s0, sgd_value_rtol=args.sgd_value_rtol)
    criteria = {k: getattr(args, k) for k in ("volterra_phase1_k2",
                                              "volterra_order_min", "frozen_order_min", "gd_order",
                                              "gd_ratio_eta_h", "sgd_time_rtol", "sgd_value_rtol",
                                              "confidence_level")}
    criteria["gd_reference_floor"] = args.gd_reference_factor * args.flow_rtol
    found = paper.claims(summary, **criteria)
    try:
        results = merge(found, *(load_claims(f) for f in args.fragments))
    except ValueError as exc:  # a claim id measured twice
        raise SystemExit(str(exc)) from None
    write_claims(args.out, results, stream=sys.stdout)
    failed = failed_checks(results)
    if failed and args.strict:
        print(f"failed checks: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
