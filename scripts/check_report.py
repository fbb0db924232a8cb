#!/usr/bin/env python
"""Render the Snakemake HTML report in headless Chromium and check that every figure is in it.

    snakemake --report results/report.html
    python scripts/check_report.py results/report.html --png results/report.png

Chromium runs the report's own JavaScript; the rendered DOM must name every figure, table and the
claims file, and a screenshot is written for a person to look at. Exits 1 naming what is missing.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--virtual-time-budget=15000",
]


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if path := shutil.which(name):
            return path
    raise FileNotFoundError("no Chromium found: on Debian, apt-get install chromium")


def rendered_dom(report: Path) -> str:
    with tempfile.TemporaryDirectory() as profile:
        res = subprocess.run(
            [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--dump-dom",
             report.resolve().as_uri()],
            capture_output=True, text=True, timeout=180,
        )
    if res.returncode != 0:
        raise RuntimeError(f"chromium failed ({res.returncode}): {res.stderr[-2000:]}")
    return res.stdout


def screenshot(report: Path, png: Path) -> None:
    png.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--window-size=1400,1800",
             f"--screenshot={png.resolve()}", report.resolve().as_uri()],
            capture_output=True, text=True, timeout=180, check=True,
        )


def expected_names(readme: Path) -> list[str]:
    """File names of the figures (PNG), tables (CSV) and claims file listed in the README."""
    names = []
    for token in re.findall(r"`((?:figures|results)/[^`]+)`", readme.read_text()):
        stem, _, exts = token.partition(".{")
        if token.startswith("figures/"):
            names.append(Path(stem).name + ".png")
        elif token.startswith("results/tables/") or "{csv" in token:
            names.append(Path(stem).name + ".csv")
        elif token == "results/checks.json":
            names.append("checks.json")
    return sorted(set(names))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("report", type=Path)
    p.add_argument("--readme", type=Path, default=Path("README.md"))
    p.add_argument("--png", type=Path, help="also write a screenshot here")
    args = p.parse_args(argv)
    if not args.report.exists():
        print(f"{args.report}: no such report; build it with snakemake --report {args.report}",
              file=sys.stderr)
        return 1
    dom = rendered_dom(args.report)
    names = expected_names(args.readme)
    missing = [n for n in names if n not in dom]
    if args.png:
        screenshot(args.report, args.png)
    for n in names:
        print(f"{'ok     ' if n not in missing else 'MISSING'} {n}")
    if missing:
        print(f"{args.report}: missing from the rendered page: {', '.join(missing)}", file=sys.stderr)
        return 1
    print(f"all {len(names)} figures, tables and the claims file are in the rendered report")
    return 0


if __name__ == "__main__":
    sys.exit(main())
