#!/usr/bin/env python
"""Summary of the finite-sample runs: one row per (a, sigma^2, seed, n/d), and the study's claims.

Reads the npz files of scripts/simulate_finite.py (one per (a, d, sigma^2); a noiseless file is
needed for every a, as the reference of the noise excess) and writes results/studies/finite.npz
and the claims fragment.

Every option is required: the pipeline passes each one from config. Example (config/config.yaml's):
    python scripts/study_finite.py results/sims/finite/*.npz --match-c 3 --floor-factor 2 --fit-min 16 \
        --floor-slope-tol 0.2 --overfit-ratio 0.5 --rate-fraction 0.5 --out s.npz --claims c.json
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
from _cli import write_claims

from prdynamics.io import load_result, provenance, save_result
from prdynamics.studies import finite
from prdynamics.studies.finite import decay_exponent, noise_floor, population_match

REQUIRED = ("t", "loss", "mse", "u", "train", "pop_loss", "pop_mse", "pop_u", "lam", "wstar", "a", "d",
            "seed", "n_over_d", "n", "sigma2", "eta", "horizon", "t_recovery", "diverged")


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("runs", nargs="+", help="npz files of simulate_finite.py")
    p.add_argument("--match-c", type=float, required=True, help="large-n deviations must be <= c sqrt(d/n)")
    p.add_argument("--floor-factor", type=float, required=True,
                   help="sample-limited when L(T) >= factor x population L(T)")
    p.add_argument("--fit-min", type=float, required=True, help="n/d from which slopes in n are fitted")
    p.add_argument("--floor-slope-tol", type=float, required=True, help="noise-floor slope within this of -1")
    p.add_argument("--overfit-ratio", type=float, required=True,
                   help="overfits when train < ratio x test loss")
    p.add_argument("--rate-fraction", type=float, required=True,
                   help="approaching w* when the MSE's log-log slope over the last decade is at least "
                        "this fraction of the population GD's")
    p.add_argument("--out", required=True, help="summary npz")
    p.add_argument("--claims", required=True, help="claims fragment (JSON)")
    args = p.parse_args(argv)
    if not args.floor_factor > 1:
        p.error(f"--floor-factor must be > 1, got {args.floor_factor}")
    for name in ("match_c", "floor_slope_tol", "overfit_ratio", "rate_fraction", "fit_min"):
        if not getattr(args, name) > 0:
            p.error(f"--{name.replace('_', '-')} must be positive, got {getattr(args, name)}")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    runs = [load_result(f, required=REQUIRED) for f in args.runs]
    clean = {float(r["a"]): r for r in runs if r["sigma2"] == 0}
    rows = {k: [] for k in ("a", "sigma2", "seed", "n_over_d", "n", "loss_T", "pop_loss_T", "mse_T",
                            "pop_mse_T", "train_T", "ratio_loss", "ratio_mse", "train_over_test",
                            "escape_shift", "dev_loss", "dev_mse", "mse_exponent", "pop_mse_exponent",
                            "noise_excess", "noise_pred", "diverged")}
    predicted = {}
    for f, r in zip(args.runs, runs, strict=True):
        a, s2 = float(r["a"]), float(r["sigma2"])
        if a not in clean:
            print(f"error: {f}: no noiseless run for a = {a:g} among the inputs", file=sys.stderr)
            return 2
        ref = clean[a]
        if not (np.array_equal(ref["t"], r["t"]) and np.array_equal(ref["seed"], r["seed"])
                and np.array_equal(ref["n_over_d"], r["n_over_d"])):
            print(f"error: {f}: grid differs from its noiseless run", file=sys.stderr)
            return 2
        t, eta = r["t"], float(r["eta"])
        steps = int(round(t[-1] / eta))
        t_from = t[-1] / 10.0  # last decade of the horizon
        for i, seed in enumerate(r["seed"]):
            pop = {k: r[f"pop_{k}"][i] for k in ("u", "loss", "mse")}
            pred_unit = noise_floor(r["lam"], r["wstar"][i], eta, steps, 1.0, 1.0)  # k_eff(N)
            predicted.setdefault((a, s2), []).append(s2 * pred_unit / (float(r["pop_loss"][i, -1]) * r["d"]))
            for j, ratio in enumerate(r["n_over_d"]):
                run = {k: r[k][i, j] for k in ("u", "loss", "mse")}
                match = population_match(t, run, pop, float(r["t_recovery"]))
                loss_T, pop_T = float(r["loss"][i, j, -1]), float(pop["loss"][-1])
                vals = {
                    "a": a, "sigma2": s2, "seed": int(seed), "n_over_d": int(ratio), "n": int(r["n"][j]),
                    "loss_T": loss_T, "pop_loss_T": pop_T, "mse_T": float(r["mse"][i, j, -1]),
                    "pop_mse_T": float(pop["mse"][-1]), "train_T": float(r["train"][i, j, -1]),
                    "ratio_loss": loss_T / pop_T, "ratio_mse": float(r["mse"][i, j, -1] / pop["mse"][-1]),
                    "train_over_test": float(r["train"][i, j, -1] / (loss_T + s2)),
                    **match,
                    "mse_exponent": decay_exponent(t, r["mse"][i, j], t_from),
                    "pop_mse_exponent": decay_exponent(t, pop["mse"], t_from),
                    "noise_excess": loss_T - float(ref["loss"][i, j, -1]),
                    "noise_pred": s2 * pred_unit / float(r["n"][j]),
                    "diverged": bool(r["diverged"][i, j]),
                }
                for k, v in vals.items():
                    rows[k].append(v)
    rows = {k: np.array(v) for k, v in rows.items()}
    predicted = {k: float(np.median(v)) for k, v in predicted.items()}
    clean_rows = rows["sigma2"] == 0
    sel = {k: v[clean_rows] for k, v in rows.items()}
    claims = [
        finite.claim_large_n_matches_population(sel["a"], sel["n_over_d"], sel["escape_shift"],
                                                sel["dev_loss"], sel["dev_mse"], args.match_c, args.fit_min),
        finite.claim_sample_floor(rows["a"], rows["sigma2"], rows["n_over_d"], rows["ratio_loss"],
                              args.floor_factor, predicted),
        finite.claim_noiseless_recovery(sel["a"], sel["n_over_d"], sel["mse_exponent"],
                                        sel["pop_mse_exponent"], sel["train_over_test"], args.overfit_ratio,
                                        args.rate_fraction),
        finite.claim_noise_floor_slope(rows["a"], rows["sigma2"], rows["n_over_d"], rows["noise_excess"],
                                   rows["noise_pred"], args.fit_min, args.floor_slope_tol),
    ]
    inputs = {k: v for k, v in vars(args).items() if k not in ("out", "claims")}
    pred_keys = sorted(predicted)
    save_result(args.out, rows | {
        "pred_a": np.array([k[0] for k in pred_keys]), "pred_sigma2": np.array([k[1] for k in pred_keys]),
        "pred_crossover_n_over_d": np.array([predicted[k] for k in pred_keys]),
    }, provenance(inputs))
    write_claims(args.claims, claims)
    print(f"wrote {args.out} ({rows['a'].size} runs) and {args.claims}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
