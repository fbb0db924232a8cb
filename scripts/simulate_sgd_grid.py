#!/usr/bin/env python
"""Online SGD over a list of step sizes for one (a, d, batch, sigma): one npz per eta.

Each eta is exactly `scripts/simulate_sgd.py` (same arguments, same file, same provenance);
running the whole list in one process only saves the interpreter and compilation start-up
per step size.  A diverged replica is recorded as diverged, never an error.

Example (every simulate_sgd.py option it requires):
    python scripts/simulate_sgd_grid.py --a 2 --d 200 --seed 0 1 2 --base-seed 0 --eta 0.01 0.02 \\
        --batch 8 --sigma2 0 --input-law gaussian --t-max 20 --t-min 1e-3 --points-per-decade 20 \\
        --blowup 1e6 --backend cpu --sgd-rng fused --out eta0.01.npz eta0.02.npz
"""

from __future__ import annotations

import argparse
import sys

import simulate_sgd
from _cli import finite_float, npz_output


def parse_args(argv=None) -> tuple[argparse.Namespace, list[str]]:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="Every other option is passed on to simulate_sgd.py "
                                       "(see `python scripts/simulate_sgd.py --help`).")
    p.add_argument("--eta", type=finite_float, nargs="+", required=True, help="step sizes, one output each")
    p.add_argument("--out", type=npz_output, nargs="+", required=True,
                   help="output .npz files, in the order of --eta")
    args, rest = p.parse_known_args(argv)
    if len(args.out) != len(args.eta):
        p.error(f"need one --out per --eta, got {len(args.out)} files for {len(args.eta)} step sizes")
    if len(set(args.eta)) != len(args.eta):
        p.error(f"--eta values must be distinct, got {args.eta}")
    return args, rest


def main(argv=None) -> int:
    args, rest = parse_args(argv)
    for k, (eta, out) in enumerate(zip(args.eta, args.out, strict=True)):
        print(f"[{k + 1}/{len(args.eta)}] eta = {eta:g}", file=sys.stderr)
        code = simulate_sgd.main([*rest, "--eta", repr(eta), "--out", out])
        if code:
            return code
    return 0


if __name__ == "__main__":
    sys.exit(main())
