#!/usr/bin/env python
"""The Volterra reduction against simulated u(t), run by run.

For every flow run (recorded on a fine log grid, with w0 at t = 0):
  * Phase I form, Theta(t) = t: u_I(t) = a0(t) + 8 int K(t - tau) u_I(tau) dtau, compared with the
    simulated u while s <= s_phase1 (error relative to max |u| on that window, since u can cross zero);
  * exact form, Theta(t) = int_0^t (1 - 3 s), fed the simulated s(t): compared with the simulated u
    through all phases (absolute error).
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from prdynamics.io import load_result, provenance, save_result
from prdynamics.population import overlaps
from prdynamics.volterra import solve_u


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("runs", nargs="+", help="flow npz files on a fine grid")
    p.add_argument("--s-phase1", type=float, default=0.05,
                   help="Phase I comparison stops where s exceeds this")
    p.add_argument("--out", required=True)
    args = p.parse_args(argv)
    if not 0 < args.s_phase1 < 1 / 3:
        p.error("--s-phase1 must lie in (0, 1/3)")
    out: dict[str, list] = {k: [] for k in ("a", "d", "seed", "phase1_rel_err", "theta_abs_err")}
    curves = {}
    for f in args.runs:
        r = load_result(f)
        s0, u0 = overlaps(r["w0"], r["lam"], r["wstar"])
        t = np.concatenate([[0.0], r["t"]])
        s = np.concatenate([[s0], r["s"]])
        u_sim = np.concatenate([[u0], r["u"]])
        early = s <= args.s_phase1
        stop = int(np.flatnonzero(~early)[0]) if np.any(~early) else len(t)
        with np.errstate(over="ignore", invalid="ignore"):
            u_phase1 = solve_u(r["lam"], r["wstar"], r["w0"], t[: stop + 1])
        u_exact = solve_u(r["lam"], r["wstar"], r["w0"], t, s=s)
        # relative to the largest |u| of the window: u may pass through zero early in Phase I
        # (when the start's overlap and the dominant mode disagree in sign)
        rel = np.abs(u_phase1[:stop] - u_sim[:stop]) / np.max(np.abs(u_sim[:stop]))
        out["a"].append(r["a"]), out["d"].append(r["d"]), out["seed"].append(r["seed"])
        out["phase1_rel_err"].append(float(np.max(rel)))
        out["theta_abs_err"].append(float(np.max(np.abs(u_exact - u_sim))))
        key = f"seed{r['seed']}"
        curves |= {f"t_{key}": t, f"u_sim_{key}": u_sim, f"u_exact_{key}": u_exact,
                   f"u_phase1_{key}": np.concatenate([u_phase1, np.full(len(t) - len(u_phase1), np.nan)])}
    arrays = {k: np.asarray(v, float) for k, v in out.items()} | curves | {"s_phase1": args.s_phase1}
    save_result(args.out, arrays, provenance({"s_phase1": args.s_phase1, "runs": list(args.runs)}))
    print(f"wrote {args.out}: max Phase I relative error {max(out['phase1_rel_err']):.3g}, "
          f"max exact-Theta error {max(out['theta_abs_err']):.3g}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
