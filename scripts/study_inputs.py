#!/usr/bin/env python
"""Non-Gaussian inputs study: measure phases, threshold, end points, tail exponents and the SGD-flow
gap on the runs of every input law; write results/studies/inputs.npz and the claims fragment.

Flow files (scripts/simulate_inputs.py) hold one law, one (a, d) and the seeds as rows;
SGD files (scripts/simulate_sgd.py) one law, one eta and the seeds as replicas, with the exact loss
of their law.  The Gaussian flow (law gaussian) of every dimension must be among the flow files.

Every option is required: the pipeline passes each one from config. Example (config/config.yaml's):
    python scripts/study_inputs.py --flows results/sims/inputs/flow/*/*.npz \\
        --sgd results/sims/inputs/sgd/*/*.npz --delta 0.01 --eps 0.1 0.05 0.01 --s0 0.05 \\
        --loss-tol 1e-4 --grad-tol 1e-4 --tail-x-min 6 --tail-x-max-frac 0.1 --tail-min-points 5 \\
        --tail-atol 0.05 --sgd-log-atol 0.25 --out s.npz --claims c.json
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
from _cli import write_claims

from prdynamics.io import load_result, provenance, save_result
from prdynamics.model import spectrum
from prdynamics.phases import stopping_times, threshold_report
from prdynamics.studies import inputs as study
from prdynamics.studies.inputs import classify_endpoint, log_gap, tail_exponent
from prdynamics.theory import phase3_loss


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--flows", nargs="+", required=True, help="product-flow npz, one per (law, d)")
    p.add_argument("--sgd", nargs="*", required=True, help="SGD npz, one per (law, eta)")
    p.add_argument("--delta", type=float, required=True, help="T1 level (stopping.delta)")
    p.add_argument("--eps", type=float, nargs="+", required=True, help="T2(eps) levels")
    p.add_argument("--s0", type=float, required=True, help="T1' margin above 1/3")
    p.add_argument("--loss-tol", type=float, required=True, help="final loss below this: global minimum")
    p.add_argument("--grad-tol", type=float, required=True, help="gradient norm below this: stationary")
    p.add_argument("--tail-x-min", type=float, required=True, help="tail window starts at x_d = this")
    p.add_argument("--tail-x-max-frac", type=float, required=True, help="tail window ends at x_d = this * d")
    p.add_argument("--tail-min-points", type=int, required=True, help="fewest samples of a tail fit")
    p.add_argument("--tail-atol", type=float, required=True, help="|beta - beta_gauss| deemed the same")
    p.add_argument("--sgd-log-atol", type=float, required=True,
                   help="max |log L_sgd - log L_flow| deemed tracking")
    p.add_argument("--out", required=True, help="study npz")
    p.add_argument("--claims", required=True, help="claims fragment (JSON)")
    args = p.parse_args(argv)
    for name in ("loss_tol", "grad_tol", "tail_x_min", "tail_x_max_frac", "tail_atol", "sgd_log_atol"):
        if not getattr(args, name) > 0:
            p.error(f"--{name.replace('_', '-')} must be positive, got {getattr(args, name)}")
    return args


def flow_rows(flows: list[dict], args) -> list[dict]:
    rows = []
    for f in flows:
        law, d, a, kappa = f["input_dist"], int(f["d"]), float(f["a"]), float(f["kappa"])
        for r, seed in enumerate(np.atleast_1d(f["seed"])):
            row = {"law": law, "d": d, "seed": int(seed), "kappa": kappa, "failed": bool(f["failed"][r])}
            stats = {k: f[k][r] for k in ("s", "u", "u2", "loss")}
            if row["failed"]:
                row |= {"crossings": 0, "min_margin": float("nan"), "status": "failed", "loss": float("nan"),
                        "grad_norm": float("nan"), "hess_min_eig": float("nan"), "beta": float("nan"),
                        "tail_points": 0}
                row |= dict.fromkeys(["T1", "T_third", "T1_prime"] + [f"T2_eps{e:g}" for e in args.eps],
                                     float("nan"))
                rows.append(row)
                continue
            row |= stopping_times(f["t"], stats, args.delta, args.eps, args.s0)
            rep = threshold_report(f["t"], stats["s"])
            row |= {"crossings": rep["crossings"], "min_margin": rep["min_margin"]}
            row |= classify_endpoint(f["w_final"][r], f["lam"], f["wstar"][r], kappa, args.loss_tol,
                                     args.grad_tol)
            if row["status"] == "global":
                row["beta"], row["tail_points"] = tail_exponent(f["t"], stats["loss"], d, a, args.tail_x_min,
                                                                args.tail_x_max_frac, args.tail_min_points)
            else:
                row["beta"], row["tail_points"] = float("nan"), 0
            rows.append(row)
    return rows


def sgd_rows(sgds: list[dict], flows: dict, sgd_files: list[str]) -> list[dict]:
    rows = []
    for path, g in zip(sgd_files, sgds, strict=True):
        law, d = g["input_dist"], int(g["d"])
        if (law, d) not in flows or ("gaussian", d) not in flows:
            raise SystemExit(f"error: {path}: needs the flow files of {law} and gaussian at d = {d}")
        own, gauss = flows[(law, d)], flows[("gaussian", d)]
        for r, seed in enumerate(np.atleast_1d(g["seed"])):
            i_own = int(np.flatnonzero(own["seed"] == seed)[0])
            i_g = int(np.flatnonzero(gauss["seed"] == seed)[0])
            gap_own = log_gap(g["t"], g["loss"][r], own["t"], own["loss"][i_own])
            gap_g = log_gap(g["t"], g["loss"][r], gauss["t"], gauss["loss"][i_g])
            ok = np.isfinite(g["loss"][r])
            # signed log ratio at the last SGD time (> 0: SGD above its flow); the clip only guards
            # flow samples that reached rounding level long after the SGD horizon
            ref = np.log(np.maximum(own["loss"][i_own], 1e-300))
            final = float(np.log(g["loss"][r][-1]) - np.interp(np.log(g["t"][-1]), np.log(own["t"]), ref)) \
                if ok[-1] else np.nan
            rows.append({"law": law, "eta": float(g["eta"]), "d": d, "seed": int(seed),
                         "diverged": bool(g["diverged"][r]),
                         "diverged_time": (float(g["diverged_step"][r] * g["eta"]) if g["diverged"][r]
                                           else np.nan),
                         "gap_own": gap_own, "gap_gauss": gap_g, "final_log_ratio_own": final})
    return rows


def main(argv=None) -> int:
    args = parse_args(argv)
    start = time.perf_counter()
    flow_keys = ("t", "s", "u", "u2", "loss", "lam", "wstar", "w_final", "seed", "d", "a", "input_dist",
                 "kappa", "failed")
    flows = [load_result(f, required=flow_keys) for f in args.flows]
    by_law_d = {(f["input_dist"], int(f["d"])): f for f in flows}
    if len(by_law_d) != len(flows):
        raise SystemExit("error: two flow files share one (law, d)")
    a_values = {float(f["a"]) for f in flows}
    if len(a_values) != 1:
        raise SystemExit(f"error: the flow files mix spectra a = {sorted(a_values)}")
    (a,) = a_values
    for _, d in by_law_d:
        if ("gaussian", d) not in by_law_d:
            raise SystemExit(f"error: no Gaussian flow file at d = {d} (the reference of every law)")
    rows = flow_rows(flows, args)
    print(f"{len(rows)} flow runs over {len(flows)} (law, d) files", file=sys.stderr)
    sgd_keys = ("t", "loss", "seed", "d", "eta", "input_dist", "diverged", "diverged_step")
    sgds = [load_result(f, required=sgd_keys) for f in args.sgd]
    srows = sgd_rows(sgds, by_law_d, args.sgd)
    print(f"{len(srows)} SGD replicas over {len(sgds)} (law, eta) files", file=sys.stderr)

    theory = 1.0 - 1.0 / a if a > 1 else float("nan")
    window_theory = {}
    if a > 1:  # the same fit on the linearised Gaussian Phase III loss: 1 - 1/a plus the window's bias
        for d in sorted({d for _, d in by_law_d}):
            t = by_law_d[("gaussian", d)]["t"]
            window_theory[d] = tail_exponent(t, phase3_loss(t, spectrum(d, a)), d, a, args.tail_x_min,
                                             args.tail_x_max_frac, args.tail_min_points)[0]
    found = [
        study.claim_threshold(rows),
        study.claim_phases(rows, args.eps),
        study.claim_spurious_minimum(rows, args.loss_tol, args.grad_tol),
        study.claim_tail_exponent(rows, theory, args.tail_atol, window_theory),
    ]
    if srows:
        found.append(study.claim_sgd_matches_population(srows, args.sgd_log_atol))
    write_claims(args.claims, found)

    times = ["T1", "T_third", "T1_prime"] + [f"T2_eps{e:g}" for e in args.eps]
    arrays = {
        "a": a, "beta_theory": theory, "eps": np.asarray(args.eps),
        "window_theory_d": np.asarray(sorted(window_theory), dtype=np.int64),
        "window_theory_beta": np.asarray([window_theory[d] for d in sorted(window_theory)], dtype=float),
        "run_law": np.asarray([r["law"] for r in rows]), "run_d": np.asarray([r["d"] for r in rows]),
        "run_seed": np.asarray([r["seed"] for r in rows]),
        "run_kappa": np.asarray([r["kappa"] for r in rows]),
        "run_status": np.asarray([r["status"] for r in rows]),
        **{f"run_{k}": np.asarray([float(r[k]) for r in rows]) for k in
           (*times, "min_margin", "loss", "grad_norm", "hess_min_eig", "beta")},
        "run_crossings": np.asarray([r["crossings"] for r in rows]),
        "run_tail_points": np.asarray([r["tail_points"] for r in rows]),
        "sgd_law": np.asarray([r["law"] for r in srows], dtype=str),
        "sgd_eta": np.asarray([r["eta"] for r in srows], dtype=float),
        "sgd_d": np.asarray([r["d"] for r in srows], dtype=np.int64),
        "sgd_seed": np.asarray([r["seed"] for r in srows], dtype=np.int64),
        "sgd_diverged": np.asarray([r["diverged"] for r in srows], dtype=bool),
        **{f"sgd_{k}": np.asarray([r[k] for r in srows], dtype=float) for k in
           ("diverged_time", "gap_own", "gap_gauss", "final_log_ratio_own")},
    }
    inputs = {k: v for k, v in vars(args).items() if k not in ("out", "claims")}
    prov = provenance(inputs) | {"wall_seconds": round(time.perf_counter() - start, 3)}
    save_result(args.out, arrays, prov)
    return 0


if __name__ == "__main__":
    sys.exit(main())
