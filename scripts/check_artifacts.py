#!/usr/bin/env python
"""Check that artifacts exist and are well formed, and that every claim in checks.json passed.

With no paths, checks every artifact listed in the README's output table. Exits 1 naming
each missing or malformed artifact and each failed claim.

    python scripts/check_artifacts.py                      # README's list + results/checks.json
    python scripts/check_artifacts.py --checks results/checks.json figures/x.png ...
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
import sys
from pathlib import Path

CLAIM_FIELDS = {"id", "statement", "measured", "expected", "tolerance", "passed"}


def readme_artifacts(readme: Path) -> list[str]:
    """Backticked figures/... and results/... paths in the README's output table, braces expanded."""
    paths = []
    for line in readme.read_text().splitlines():
        if not line.startswith("|"):
            continue
        for token in re.findall(r"`((?:figures|results)/[^`]+)`", line.split("|")[1]):
            paths.extend(expand_braces(token))
    return paths


def expand_braces(pattern: str) -> list[str]:
    parts = re.split(r"\{([^}]*)\}", pattern)
    choices = [[p] if i % 2 == 0 else p.split(",") for i, p in enumerate(parts)]
    return ["".join(c) for c in itertools.product(*choices)]


def problem_with(path: Path) -> str | None:
    """None if the file looks right for its type, else what is wrong."""
    if not path.exists():
        return "missing"
    if path.stat().st_size == 0:
        return "empty"
    data = path.read_bytes()
    suffix = path.suffix
    if suffix == ".png":
        if not data.startswith(b"\x89PNG\r\n\x1a\n"):
            return "not a PNG"
        import matplotlib.image

        image = matplotlib.image.imread(path)
        if image.shape[0] < 100 or image.shape[1] < 100:
            return f"PNG too small ({image.shape[1]}x{image.shape[0]})"
    elif suffix == ".pdf":
        if not data.startswith(b"%PDF") or b"%%EOF" not in data[-1024:]:
            return "not a complete PDF"
    elif suffix == ".csv":
        import pandas as pd

        df = pd.read_csv(path)
        if df.empty:
            return "CSV has no rows"
    elif suffix == ".md":
        if "|---" not in data.decode():
            return "Markdown file has no table"
    elif suffix == ".npz":
        from prdynamics.io import CorruptResultError, load_result

        try:
            load_result(path, required=("t",))
        except CorruptResultError as exc:
            return str(exc)
    elif suffix == ".json":
        try:
            json.loads(data)
        except json.JSONDecodeError as exc:
            return f"invalid JSON ({exc})"
    return None


def failed_claims(checks: Path) -> list[str]:
    claims = json.loads(checks.read_text())
    if not isinstance(claims, list) or not claims:
        return [f"{checks}: expected a non-empty list of claims"]
    bad = []
    for c in claims:
        missing = CLAIM_FIELDS - set(c)
        if missing:
            bad.append(f"{c.get('id', '?')}: missing fields {sorted(missing)}")
        elif c["passed"] is not True:
            bad.append(f"{c['id']}: FAILED (measured {json.dumps(c['measured'])})")
    return bad


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("paths", nargs="*", help="artifacts to check (default: the README's output table)")
    p.add_argument("--readme", default="README.md")
    p.add_argument("--checks", default="results/checks.json", help="claims file; every claim must pass")
    args = p.parse_args(argv)
    paths = args.paths or readme_artifacts(Path(args.readme))
    if not paths:
        print(f"no artifacts found in {args.readme}", file=sys.stderr)
        return 1
    errors = [f"{path}: {msg}" for path in paths if (msg := problem_with(Path(path)))]
    checks = Path(args.checks)
    errors += failed_claims(checks) if checks.exists() else [f"{checks}: missing"]
    for path in paths:
        print(f"ok  {path}" if not any(e.startswith(f"{path}:") for e in errors) else f"BAD {path}")
    if errors:
        print("\n".join(["", "problems:", *errors]), file=sys.stderr)
        return 1
    print(f"all {len(paths)} artifacts well formed; every claim in {checks} passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
