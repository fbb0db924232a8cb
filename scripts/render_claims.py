#!/usr/bin/env python
"""The claims of results/checks.json as a table (CSV and Markdown) for the HTML report.

One row per claim: id, kind (check or finding; an entry without kind is a check), passed (blank
for a finding), statement, and the measured value and interval as short JSON.

    python scripts/render_claims.py results/checks.json --out results/checks_table.csv
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd
from _cli import output_file

import prfigures

#: Longest JSON of a measured value or interval in a cell; longer ones end in "...".
CELL_CHARS = 160


def short_json(value) -> str:
    text = "" if value is None else json.dumps(value, sort_keys=True, allow_nan=True)
    return text if len(text) <= CELL_CHARS else text[: CELL_CHARS - 3] + "..."


def claim_rows(claims: list[dict]) -> pd.DataFrame:
    """One row per claim entry, whatever fields beyond id and statement it has."""
    rows = []
    for c in claims:
        kind = c.get("kind", "check")
        passed = c.get("passed")
        rows.append({
            "id": c["id"], "kind": kind,
            "passed": "" if kind == "finding" or passed is None else ("yes" if passed else "NO"),
            "statement": c.get("statement", ""), "measured": short_json(c.get("measured")),
            "interval": short_json(c.get("interval")),
        })
    return pd.DataFrame(rows, columns=["id", "kind", "passed", "statement", "measured", "interval"])


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("checks", type=Path, help="the merged claims file (results/checks.json)")
    p.add_argument("--out", type=output_file(".csv"), required=True,
                   help="the table's CSV; its Markdown rendering goes beside it (.md)")
    args = p.parse_args(argv)
    claims = json.loads(args.checks.read_text())
    if not isinstance(claims, list) or not claims:
        print(f"error: {args.checks}: expected a non-empty list of claims", file=sys.stderr)
        return 1
    df = claim_rows(claims)
    prfigures.write_table(df, Path(args.out).with_suffix(""), caption=f"Claims of {args.checks}")
    print(f"wrote {args.out}: {len(df)} claims", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
