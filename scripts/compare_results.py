#!/usr/bin/env python
"""Diff two result trees: every array of every npz under results/, checks.json and the tables.

Provenance is left out (it holds a creation time and a commit). Exits 1 naming what differs.
The gate of a refactoring: a pure move leaves the quick run's numbers bit-identical.

    python scripts/compare_results.py /path/to/reference/repo /path/to/new/repo
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

TEXT_FILES = ("results/checks.json", "results/tables/*.csv")


def result_arrays(root: Path) -> dict[str, np.ndarray]:
    """'<npz path>:<key>' -> array for every npz under root/results, provenance left out."""
    out = {}
    for path in sorted((root / "results").rglob("*.npz")):
        with np.load(path, allow_pickle=False) as data:
            for key in data.files:
                if key != "provenance":
                    out[f"{path.relative_to(root)}:{key}"] = data[key]
    return out


def text_files(root: Path) -> dict[str, str]:
    files = [p for pattern in TEXT_FILES for p in sorted(root.glob(pattern))]
    return {str(p.relative_to(root)): p.read_text() for p in files}


def differences(reference: Path, new: Path) -> list[str]:
    """What differs between the two trees, one line each (empty when bit-identical)."""
    want, got = result_arrays(reference), result_arrays(new)
    lines = [f"only in {reference}: {k}" for k in sorted(set(want) - set(got))]
    lines += [f"only in {new}: {k}" for k in sorted(set(got) - set(want))]
    for key in sorted(set(want) & set(got)):
        a, b = want[key], got[key]
        same = a.shape == b.shape and a.dtype == b.dtype
        if not (same and np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")):
            lines.append(f"differs: {key}")
    want_text, got_text = text_files(reference), text_files(new)
    for rel in sorted(set(want_text) | set(got_text)):
        if want_text.get(rel) != got_text.get(rel):
            lines.append(f"differs: {rel}")
    return lines


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("reference", type=Path, help="repository root of the reference run")
    p.add_argument("new", type=Path, help="repository root of the run to compare")
    args = p.parse_args(argv)
    for root in (args.reference, args.new):
        if not (root / "results").is_dir():
            p.error(f"{root} has no results/ folder")
    lines = differences(args.reference, args.new)
    n_arrays = len(result_arrays(args.reference))
    if lines:
        print("\n".join(lines))
        print(f"{len(lines)} differences", file=sys.stderr)
        return 1
    print(f"bit-identical: {n_arrays} arrays, checks.json and tables")
    return 0


if __name__ == "__main__":
    sys.exit(main())
