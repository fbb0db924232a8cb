#!/usr/bin/env python
"""Record the parameters a notebook (or the claims) job read beside each figure, table or claims
file it made: <stem>.provenance.json (workflow/pipeline.py RECORDED names the stems).

The rule passes the very JSON string its job read (papermill's -y, or the claims rule's params), so
the record is what made the artifact; scripts/check_artifacts.py compares it with what the current
config gives. A table's sidecar, written by its notebook with the table's inputs, gains "params".

    python scripts/record_params.py figure2 '{"flow_files": [...], "delta": 0.01, ...}'
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import _cli  # noqa: F401  (a failed write ends in one line naming the file)

from prdynamics.io import provenance, write_text_atomic

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "workflow"))
from pipeline import RECORDED, SIDECAR  # noqa: E402


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("rule", choices=sorted(RECORDED), help="the rule whose job made the artifacts")
    p.add_argument("params", help="the parameters the job read, as JSON")
    args = p.parse_args(argv)
    try:
        params = json.loads(args.params)
    except json.JSONDecodeError as exc:
        p.error(f"params: not JSON ({exc})")
    for stem in RECORDED[args.rule].stems:
        path = Path(SIDECAR.format(stem=stem))
        # a table's notebook has just written its sidecar (the table's inputs); a figure has none yet
        record = json.loads(path.read_text()) if path.exists() else provenance(params)
        record |= {"rule": args.rule, "params": params}
        write_text_atomic(path, json.dumps(record, indent=2, sort_keys=True) + "\n")
        print(f"recorded {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
