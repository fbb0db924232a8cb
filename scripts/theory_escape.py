#!/usr/bin/env python
"""Escape theory against the escape runs: rho_true, the predicted T1, the fitted growth rate.

For every run: rho_true (the root above 4 lam_1 of 1 = 8 sum (w*_i)^2 lam_i^2 / (rho - 4 lam_i)),
the amplitude A of u ~ A e^{rho t}, the predicted and the measured time for |u| to reach delta
(T1_u_pred, T1_u), the measured T1 (|u|, s and |u^(2)| above delta),
and the growth rate fitted by one fixed rule: least squares of log|u| on t >= 1/(rho - 4 lam_1)
(the top-mode transients have decayed by e) while s <= s_max (Theta(t) ~ t still holds).

Example (config/config.yaml's values):
    python scripts/theory_escape.py results/sims/escape/*/*.npz --delta 0.01 --s-max 0.02 --out e.npz
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
from _cli import finite_float, npz_output

from prdynamics.io import load_result, provenance, save_result
from prdynamics.phases import escape_time, first_upcrossing, growth_rate
from prdynamics.theory import escape_amplitude, escape_time_prediction


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("runs", nargs="+", help="escape-run npz files")
    p.add_argument("--delta", type=finite_float, required=True)
    p.add_argument("--s-max", type=finite_float, required=True, help="end of the fit window in s")
    p.add_argument("--out", type=npz_output, required=True)
    args = p.parse_args(argv)
    if not (0 < args.delta < 1 and 0 < args.s_max < 1 / 3):
        p.error("need 0 < --delta < 1 and 0 < --s-max < 1/3")
    rows = []
    for f in args.runs:
        r = load_result(f)
        rho, amp = escape_amplitude(r["lam"], r["wstar"], r["w0"])
        t_start = 1.0 / (rho - 4.0 * float(r["lam"].max()))
        rows.append((
            r["a"], r["d"], r["seed"], rho, amp, t_start,
            growth_rate(r["t"], r["u"], r["s"], t_start, args.s_max),
            escape_time(r["t"], r["s"], r["u"], r["u2"], args.delta),
            escape_time_prediction(r["lam"], r["wstar"], r["w0"], args.delta),
            first_upcrossing(r["t"], np.abs(r["u"]), args.delta),
        ))
    cols = np.array(rows, dtype=float).T
    names = ("a", "d", "seed", "rho_true", "amplitude", "fit_start", "rho_fit", "T1", "T1_u_pred", "T1_u")
    arrays = dict(zip(names, cols, strict=True)) | {"delta": args.delta, "s_max": args.s_max}
    inputs = {"delta": args.delta, "s_max": args.s_max, "runs": list(args.runs)}
    save_result(args.out, arrays, provenance(inputs))
    fitted = np.isfinite(arrays["rho_fit"])
    print(f"wrote {args.out}: {len(rows)} runs, {int(fitted.sum())} with a fit window", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
