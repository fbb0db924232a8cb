#!/usr/bin/env python
"""The Volterra reduction against simulated u(t), run by run.

For every flow run (recorded on a fine log grid, with w0 at t = 0):
  * Phase I form, Theta(t) = t: u_I(t) = a0(t) + 8 int K(t - tau) u_I(tau) dtau, compared with the
    simulated u while s <= s_phase1 (error relative to max |u| on that window, since u can cross zero);
    and the same form corrected to first order in the dropped -3 int s: u_I + du, du = d/d eps of the
    form with Theta = t - 3 eps int s (the run's own s) at eps = 0, by a forward difference at
    eps = PHASE1_EPS (its O(eps) error is ~1e-4 of the second-order remainder it is compared with);
  * exact form, Theta(t) = int_0^t (1 - 3 s), fed the simulated s(t): compared with the simulated u
    through all phases (absolute error);
  * Phase IIb: Delta = 1 - u from T1' (s stays above 1/3 + s0) on, from the Volterra equation with
    kernel K_Theta(t, tau), started from w(T1') (the flow integrated to T1' again) and fed the
    simulated s(t): compared with 1 - u of the simulation (absolute error).
The exact form and Phase IIb are solved again on every other grid point (a grid twice as coarse):
their errors there give the observed order of convergence of the quadrature.

Every option is required: the pipeline passes each one from config. Example (config/config.yaml's):
    python scripts/theory_volterra.py results/sims/volterra/*/*.npz --s-phase1 0.05 --s0 0.05 \\
        --rtol 1e-7 --atol 1e-12 --out v.npz
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
from _cli import finite_float, npz_output

from prdynamics.flow import StepController, integrate_flow
from prdynamics.io import load_result, provenance, save_result
from prdynamics.phases import THRESHOLD, settled_time
from prdynamics.population import overlaps
from prdynamics.volterra import solve_delta, solve_u

#: Step of the forward difference in eps of the first-order corrected Phase I form.
PHASE1_EPS = 1e-4


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("runs", nargs="+", help="flow npz files on a fine grid")
    p.add_argument("--s-phase1", type=finite_float, required=True,
                   help="Phase I comparison stops where s exceeds this")
    p.add_argument("--s0", type=finite_float, required=True,
                   help="Phase IIb starts at T1': s stays above 1/3 + s0")
    p.add_argument("--rtol", type=finite_float, required=True, help="flow tolerance used to reach w(T1')")
    p.add_argument("--atol", type=finite_float, required=True, help="flow absolute tolerance")
    p.add_argument("--out", type=npz_output, required=True)
    args = p.parse_args(argv)
    if not 0 < args.s_phase1 < 1 / 3:
        p.error("--s-phase1 must lie in (0, 1/3)")
    if not 0 < args.s0 < 2 / 3:
        p.error("--s0 must lie in (0, 2/3)")
    out: dict[str, list] = {k: [] for k in ("a", "d", "seed", "phase1_rel_err", "phase1_corrected_rel_err",
                                            "phase1_exact_rel_err", "theta_abs_err", "theta_abs_err_coarse",
                                            "T1_prime", "delta_abs_err", "delta_abs_err_coarse")}
    curves = {}
    for f in args.runs:
        r = load_result(f)
        s0, u0 = overlaps(r["w0"], r["lam"], r["wstar"])
        t = np.concatenate([[0.0], r["t"]])
        s = np.concatenate([[s0], r["s"]])
        u_sim = np.concatenate([[u0], r["u"]])
        early = s <= args.s_phase1
        stop = int(np.flatnonzero(~early)[0]) if np.any(~early) else len(t)
        if stop == 0:
            p.error(f"{f}: s(0) = {s0:.3g} already exceeds --s-phase1 {args.s_phase1}: no Phase I window")
        with np.errstate(over="ignore", invalid="ignore"):
            u_phase1 = solve_u(r["lam"], r["wstar"], r["w0"], t[: stop + 1])
            u_eps = solve_u(r["lam"], r["wstar"], r["w0"], t[: stop + 1], s=PHASE1_EPS * s[: stop + 1])
        u_corrected = u_phase1 + (u_eps - u_phase1) / PHASE1_EPS
        u_exact = solve_u(r["lam"], r["wstar"], r["w0"], t, s=s)
        u_coarse = solve_u(r["lam"], r["wstar"], r["w0"], t[::2], s=s[::2])
        # relative to the largest |u| of the window: u may pass through zero early in Phase I
        # (when the start's overlap and the dominant mode disagree in sign)
        scale = np.max(np.abs(u_sim[:stop]))
        out["a"].append(r["a"]), out["d"].append(r["d"]), out["seed"].append(r["seed"])
        for key, approx in (("phase1_rel_err", u_phase1), ("phase1_corrected_rel_err", u_corrected),
                            ("phase1_exact_rel_err", u_exact)):
            out[key].append(float(np.max(np.abs(approx[:stop] - u_sim[:stop])) / scale))
        out["theta_abs_err"].append(float(np.max(np.abs(u_exact - u_sim))))
        out["theta_abs_err_coarse"].append(float(np.max(np.abs(u_coarse - u_sim[::2]))))
        # Phase IIb from T1' (a grid time), for the target sign the run converges to
        t1p = settled_time(r["t"], r["s"], THRESHOLD + args.s0)
        k0 = int(np.searchsorted(t, t1p))
        sign = np.sign(u_sim[-1])
        w_t0 = integrate_flow(r["lam"], r["wstar"], r["w0"], np.array([t1p]),
                              StepController(rtol=args.rtol, atol=args.atol)).w_final
        # linear product integration: the quadratic scheme's one-sided first interval is
        # lower order, harmless from t = 0 but not when the solve starts mid-transition at T1'
        delta = solve_delta(r["lam"], sign * r["wstar"], w_t0, t[k0:], s=s[k0:], interp="linear")
        delta_coarse = solve_delta(r["lam"], sign * r["wstar"], w_t0, t[k0::2], s=s[k0::2], interp="linear")
        one_minus_u = 1.0 - sign * u_sim[k0:]
        out["T1_prime"].append(t1p)
        out["delta_abs_err"].append(float(np.max(np.abs(delta - one_minus_u))))
        out["delta_abs_err_coarse"].append(float(np.max(np.abs(delta_coarse - one_minus_u[::2]))))
        key = f"seed{r['seed']}"
        curves |= {f"t_{key}": t, f"u_sim_{key}": u_sim, f"u_exact_{key}": u_exact,
                   f"u_phase1_{key}": np.concatenate([u_phase1, np.full(len(t) - len(u_phase1), np.nan)]),
                   f"delta_{key}": np.concatenate([np.full(k0, np.nan), delta])}
    arrays = {k: np.asarray(v, float) for k, v in out.items()} | curves
    arrays |= {"s_phase1": args.s_phase1, "s0": args.s0}
    inputs = {k: v for k, v in vars(args).items() if k != "out"}
    save_result(args.out, arrays, provenance(inputs))
    print(f"wrote {args.out}: max Phase I relative error {max(out['phase1_rel_err']):.3g} "
          f"({max(out['phase1_corrected_rel_err']):.3g} corrected to first order), "
          f"max exact-Theta error {max(out['theta_abs_err']):.3g}, "
          f"max Phase IIb error {max(out['delta_abs_err']):.3g}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
