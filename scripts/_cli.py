"""Arguments, checks and claim reporting shared by the command-line scripts."""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
from pathlib import Path

from prdynamics.claims import Claim, plain
from prdynamics.io import WriteError, save_claims
from prdynamics.model import check_memory


def _report_write_error(kind, exc, tb, _default=sys.excepthook):
    """A failed write ends a CLI with one line naming the file and the cause (exit code 1), not a
    traceback; every other error keeps Python's report."""
    if isinstance(exc, WriteError):
        print(f"error: {exc}", file=sys.stderr)
    else:
        _default(kind, exc, tb)


sys.excepthook = _report_write_error  # every CLI imports this module


def finite_float(text: str) -> float:
    """argparse type of every float option: a number, refusing NaN and infinity by name."""
    try:
        x = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if math.isnan(x):
        raise argparse.ArgumentTypeError(f"NaN is not a valid value (got {text!r})")
    if math.isinf(x):
        raise argparse.ArgumentTypeError(f"infinity is not a valid value (got {text!r})")
    return x


def output_file(suffix: str):
    """argparse type of an output path: it must end in suffix, and a file must be creatable in its
    folder (the nearest existing one: writers create the missing ones), checked by creating and
    removing a temporary file there before any work starts."""

    def check(text: str) -> str:
        path = Path(text)
        if path.suffix != suffix:
            raise argparse.ArgumentTypeError(f"{text}: an output file must end in {suffix}")
        if path.is_dir():
            raise argparse.ArgumentTypeError(f"{text}: is a directory")
        folder = path.absolute().parent
        while not folder.exists():
            folder = folder.parent
        if not folder.is_dir():
            raise argparse.ArgumentTypeError(f"{text}: {folder} is not a directory")
        try:
            with tempfile.TemporaryFile(dir=folder):
                pass
        except OSError as exc:
            raise argparse.ArgumentTypeError(f"{text}: cannot write in {folder} ({exc.strerror})") from None
        return text

    check.__name__ = f"{suffix} output file"
    return check


npz_output = output_file(".npz")
json_output = output_file(".json")


def add_run_arguments(p: argparse.ArgumentParser) -> None:
    """--a, --d, --seed, --base-seed and --out: one run, and one output file, per seed.

    Several seeds share one process because start-up and loading the compiled kernels cost more
    than a small run; each seed's file is the same as a run of that seed alone."""
    p.add_argument("--a", type=finite_float, required=True, help="spectrum exponent, a >= 0")
    p.add_argument("--d", type=int, required=True, help="dimension, d >= 2")
    p.add_argument("--seed", type=int, nargs="+", required=True, help="run seeds (target and start)")
    p.add_argument("--base-seed", type=int, required=True, help="project-wide base seed")
    p.add_argument("--out", type=npz_output, nargs="+", required=True,
                   help="output .npz files, one per --seed, in order")


def check_run_arguments(p: argparse.ArgumentParser, args: argparse.Namespace, d_min: int = 2,
                        why: str = "") -> None:
    """Exit through argparse (code 2) on a bad a or d (d < d_min; why says what needs d_min)."""
    if args.a < 0 or not math.isfinite(args.a):
        p.error(f"--a must be >= 0, got {args.a}")
    if args.d < d_min:
        p.error(f"--d must be >= {d_min}{why}, got {args.d}")


def check_seed_outputs(p: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Exit through argparse unless the seeds are valid and each has its own --out file."""
    check_seed_list(p, args.seed, args.base_seed, "--seed")
    if len(args.out) != len(args.seed) or len(set(args.out)) != len(args.out):
        p.error(f"need one distinct --out per --seed, got {len(args.out)} files for {len(args.seed)} seeds")


def run_inputs(args: argparse.Namespace, seed: int, **extra) -> dict:
    """The inputs that made one seed's file (its provenance): every argument but the other seeds."""
    return {k: v for k, v in vars(args).items() if k not in ("out", "seed")} | {"seed": seed} | extra


def check_seed_list(p: argparse.ArgumentParser, seeds: list[int], base_seed: int, flag: str) -> None:
    """Exit through argparse on negative or repeated seeds (several runs in one file)."""
    if any(s < 0 for s in seeds) or base_seed < 0:
        p.error(f"seeds must be non-negative, got {flag} {seeds} --base-seed {base_seed}")
    if len(set(seeds)) != len(seeds):
        p.error(f"{flag} values must be distinct, got {seeds}")


def memory_refused(d: int) -> bool:
    """True, after saying why on stderr, when a run of dimension d would not fit in memory."""
    try:
        check_memory(d)
    except MemoryError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return True
    return False


def run_each_seed(args: argparse.Namespace, run_seed) -> int:
    """Run ``run_seed(args, seed, out)`` for each --seed and its --out; 2 when d would not fit in memory."""
    if memory_refused(args.d):
        return 2
    for seed, out in zip(args.seed, args.out, strict=True):
        run_seed(args, seed, out)
    return 0


def write_claims(path, claims: list[Claim], stream=sys.stderr) -> None:
    """Save the claims (prdynamics.io.save_claims) and print one line each: PASS/FAIL for a check,
    FINDING for a finding, with its measurement."""
    save_claims(path, claims)
    for c in claims:
        tag = "FINDING" if c.kind == "finding" else ("PASS" if c.passed else "FAIL")
        print(f"{tag}  {c.id}: {json.dumps(plain(c.measured))}", file=stream)
